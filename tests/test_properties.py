"""Invariants over generated networks of every layer kind (hypothesis, derandomized so CI runs are repeatable).

Adding a layer kind: give it one entry in `kinds` (how to generate it) and, for each kind of row it expands
to, one entry in MAC_CHANNELS and MAC_SPATIAL (which channel counts and which feature map its Mult-Add formula
multiplies); test_every_kind_is_generated fails until both are there. If α or the resolution reaches its costs
other than through those factors (a block that rounds its own widths), list it in NOT_ALPHA or NOT_RESOLUTION.
"""

import csv
import io
import json
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mobcost import MobcostError, trace
from mobcost.layers import LAYER_KINDS, Separable
from mobcost.table import Format, render
from mobcost.views.network import breakdown_table, layer_table
from mobcost.language import parse_spec

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True)
KERNELS = st.sampled_from([1, 3, 5, 7])
STRIDES = st.sampled_from([1, 1, 2])
PADDINGS = st.sampled_from(["same", "same", "valid", 0, 1, 2])
CLASSES = (1001, 1010)  # never an `out` below, so a row with this many channels came from `out: classes`
ALPHAS = st.integers(1, 200).map(lambda n: n / 100)  # 0.01 … 2.00, exact as decimals
EXACT_ALPHAS = st.sampled_from([0.25, 0.5, 0.75, 1.25, 1.5, 2.0])  # α·c is whole for every c divisible by 4
NOT_ALPHA = {"bottleneck", "se", "split", "shuffle", "shuffle_unit", "uib", "ghost", "attend",
             "attention"}  # widths rounded from
# the input's (or ⌈out / ratio⌉), fixed (attention's query, key and value), or that must divide evenly (α may leave an
# odd number of channels to split; a scale reads the input at α = 1)
NOT_RESOLUTION = {"flatten", "pad", "attention", "attend"}  # flatten moves h·w into the channels; padding adds pixels, not a
# factor; attention costs (h·w)·(h·w / s²)


def kinds(out, padding, inner) -> dict:
    """One generator per layer kind; `inner` generates the layers a repeat nests."""
    spatial = {"kernel": KERNELS, "stride": STRIDES, "padding": padding}
    same = {"kernel": KERNELS, "stride": STRIDES, "padding": st.just("same")}  # branches must keep h and w alike
    return {
        "conv": st.fixed_dictionaries({"kind": st.just("conv"), "out": out, **spatial}),
        "dw": st.fixed_dictionaries({"kind": st.just("dw"), **spatial}),
        "pw": st.fixed_dictionaries({"kind": st.just("pw"), "out": out}),
        "separable": st.fixed_dictionaries({"kind": st.just("separable"), "out": out, **spatial}),
        "bottleneck": st.fixed_dictionaries({
            "kind": st.just("bottleneck"), "out": out, "t": st.sampled_from([1, 6, "184/80"]), "n": st.integers(1, 2),
            "kernel": st.sampled_from([3, 5]), "stride": STRIDES, "se": st.booleans()}),
        "se": st.just({"kind": "se"}),
        "avgpool": st.just({"kind": "avgpool"}) | st.fixed_dictionaries(
            {"kind": st.just("avgpool"), "kernel": st.sampled_from([2, 3]), "stride": STRIDES, "padding": padding}),
        "maxpool": st.fixed_dictionaries({"kind": st.just("maxpool"), "kernel": st.sampled_from([2, 3]),
                                          "stride": STRIDES, "padding": padding, "ceil_mode": st.booleans()}),
        "fc": st.fixed_dictionaries({"kind": st.just("fc"), "out": out | st.just("classes")}),
        "softmax": st.just({"kind": "softmax"}),
        "lrn": st.just({"kind": "lrn"}),
        "dropout": st.just({"kind": "dropout"}),
        "flatten": st.just({"kind": "flatten"}),
        "unknown": st.just({"kind": "unknown", "op": "Erf"}),  # an imported operator without a rule: a marked 0
        "concat": st.lists(st.fixed_dictionaries({"kind": st.just("conv"), "out": out, **same}).map(lambda c: [c]),
                           min_size=2, max_size=3).flatmap(
            lambda branches: st.just({"kind": "concat", "branches": [[{**b[0], "stride": branches[0][0]["stride"]}]
                                                                     for b in branches]})),
        "residual": st.tuples(out, STRIDES).map(lambda c: {
            "kind": "residual", "layers": [{"kind": "conv", "out": c[0], "stride": c[1]}],
            "shortcut": [{"kind": "conv", "kernel": 1, "out": c[0], "stride": c[1]}]}),
        # the graph kinds read named tensors: a pass of a repeat names them uniquely (`a7.1`)
        "add": st.tuples(out, st.integers(0, 10**9)).map(lambda c: {"kind": "repeat", "repeat": 1, "layers": [
            {"kind": "pw", "name": f"a{c[1]}", "out": c[0]}, {"kind": "pw", "name": f"b{c[1]}", "out": c[0]},
            {"kind": "add", "from": [f"a{c[1]}", f"b{c[1]}"], "act": "relu"}]}),
        "scale": st.tuples(out, st.integers(0, 10**9)).map(lambda c: {"kind": "repeat", "repeat": 1, "layers": [
            {"kind": "pw", "name": f"x{c[1]}", "out": c[0]}, {"kind": "avgpool", "name": f"g{c[1]}"},
            {"kind": "scale", "from": [f"g{c[1]}", f"x{c[1]}"]}]}),
        "upsample": st.fixed_dictionaries({"kind": st.just("upsample"), "scale": st.sampled_from([1, 2]),
                                           "mode": st.sampled_from(["nearest", "bilinear"])}),
        "split": st.just({"kind": "split", "sections": 1 + 1, "take": 1}),
        "shuffle": st.just({"kind": "shuffle", "groups": 2}),
        "layernorm": st.fixed_dictionaries({"kind": st.just("layernorm"), "affine": st.booleans()}),
        "groupnorm": st.just({"kind": "groupnorm", "groups": 1}),
        "batchnorm": st.just({"kind": "batchnorm", "act": "relu"}),
        "affine": st.fixed_dictionaries({"kind": st.just("affine"), "shift": st.booleans()}),
        "pad": st.lists(st.integers(0, 2), min_size=4, max_size=4).map(lambda p: {"kind": "pad", "pads": p}),
        "slice": st.just({"kind": "slice", "start": 0}),
        "linear": st.fixed_dictionaries({"kind": st.just("linear"), "out": out, "bias": st.booleans()}),
        "attention": st.fixed_dictionaries({"kind": st.just("attention"), "heads": st.integers(1, 3),
                                            "key_dim": st.integers(1, 8), "out": out,
                                            "multi_query": st.booleans(), "kv_stride": st.sampled_from([1, 2])}),
        "attend": st.integers(0, 10**9).map(lambda n: {"kind": "repeat", "repeat": 1, "layers": [
            *({"kind": "pw", "name": f"{t}{n}", "from": "input" if t == "q" else None, "out": 4, "width": "fixed"}
              for t in "qkv"),
            {"kind": "attend", "from": [f"q{n}", f"k{n}", f"v{n}"], "heads": 2, "key_dim": 2, "value_dim": 2}]}),
        "ghost": st.fixed_dictionaries({"kind": st.just("ghost"), "out": out, "ratio": st.sampled_from([2, 3])}),
        "uib": st.fixed_dictionaries({"kind": st.just("uib"), "out": out, "start_dw": st.sampled_from([None, 3]),
                                      "mid_dw": st.sampled_from([3, 5]), "stride": STRIDES,
                                      "layer_scale": st.booleans()}),
        "shuffle_unit": st.tuples(out, STRIDES).map(lambda c: {"kind": "shuffle_unit", "out": 2 * c[0],
                                                               "stride": c[1]}),
        "repeat": st.fixed_dictionaries(
            {"kind": st.just("repeat"), "repeat": st.integers(1, 3), "layers": st.lists(inner, min_size=1, max_size=3)}),
    }


# Which channel counts a row's Mult-Add formula multiplies (input, output), and which feature map's h·w.
MAC_CHANNELS = {"conv": (1, 1), "pw": (1, 1), "fc": (1, 1), "dw": (1, 0), "linear": (1, 1)}
MAC_SPATIAL = {"conv": "output", "pw": "output", "dw": "output", "fc": "input", "linear": "output"}
MAC_CHANNELS["attend"], MAC_SPATIAL["attend"] = (0, 0), None  # heads, key_dim and value_dim: α leaves them
for free in ("avgpool", "maxpool", "softmax", "lrn", "dropout", "flatten", "concat", "add", "scale", "upsample",
             "split", "shuffle", "unknown", "layernorm", "groupnorm", "batchnorm", "affine", "pad", "slice"):
    MAC_CHANNELS[free], MAC_SPATIAL[free] = (0, 0), None  # no Mult-Adds by the papers' convention


def layers(out, padding, exclude=frozenset()):
    def choose(inner):
        return st.one_of(*(s for k, s in kinds(out, padding, inner).items() if k not in exclude))
    simple = st.one_of(*(s for k, s in kinds(out, padding, st.nothing()).items() if k not in exclude | {"repeat"}))
    return st.recursive(simple, choose, max_leaves=6)


@st.composite
def networks(draw, out=st.integers(1, 300), padding=PADDINGS, rounding=st.sampled_from(["int", {"divisor": 8}]),
             exclude=frozenset()):
    spec = {"name": "generated", "title": "Generated", "input": {"resolution": draw(st.integers(8, 96))},
            "classes": draw(st.integers(*CLASSES)), "width_rounding": draw(rounding),
            "layers": draw(st.lists(layers(out, padding, exclude), min_size=1, max_size=6)),
            "variants": {"conv": {"title": "Conv", "full_conv": True}}}
    return parse_spec(json.dumps(spec), "generated.yaml")


def traced(network, alpha=1.0, resolution=None):
    try:
        return trace(network, alpha, resolution)
    except MobcostError:  # a kernel larger than what is left of the feature map: not a network to test
        assume(False)


def test_every_kind_is_generated():
    every = {kind.model_fields["kind"].default for kind in LAYER_KINDS}
    assert set(kinds(st.just(1), PADDINGS, st.nothing())) == every
    assert set(MAC_CHANNELS) == set(MAC_SPATIAL) >= every - {"repeat", "separable", "bottleneck", "se", "residual",
                                                             "shuffle_unit", "attention", "ghost", "uib"}


@SETTINGS
@given(networks(), ALPHAS)
def test_totals_are_the_sum_of_the_rows(network, alpha):
    analysis = traced(network, alpha)
    layers = json.loads(render(layer_table(analysis), Format.json))
    types = json.loads(render(breakdown_table(analysis), Format.json))
    for figure in ("macs", "params"):
        assert layers["totals"][figure] == sum(row[figure] for row in layers["layers"])
        assert types["totals"][figure] == sum(row[figure] for row in types["types"])


@SETTINGS
@given(networks(), ALPHAS)
def test_json_csv_and_markdown_show_the_same_numbers(network, alpha):
    report = layer_table(traced(network, alpha))
    from_json = [(row["macs"], row["params"]) for row in json.loads(render(report, Format.json))["layers"]]
    rows = list(csv.DictReader(io.StringIO(render(report, Format.csv))))
    from_csv = [(int(row["macs"]), int(row["params"])) for row in rows]
    cells = [line.split(" | ") for line in render(report, Format.markdown).splitlines() if line.startswith("| ")]
    from_markdown = [tuple(int(cell.strip(" |*").replace(",", "")) for cell in line[-2:]) for line in cells[1:]]
    assert from_csv == from_markdown == from_json + [tuple(map(sum, zip(*from_json)))]


def channel_factors(row) -> int:
    """The product of the channel counts a row's Mult-Add formula multiplies."""
    uses_in, uses_out = MAC_CHANNELS[row.kind]
    return (row.input.c if uses_in else 1) * (row.output.c if uses_out else 1)


@SETTINGS
@given(networks(exclude=NOT_ALPHA), ALPHAS)
def test_alpha_reaches_mult_adds_only_through_the_rounded_channel_counts(network, alpha):
    """Each row's Mult-Adds are spatial × kernel × channel factors, and α changes only the channel factors: so
    macs(α) · channels(1) = macs(1) · channels(α) exactly. Each α-scaled count c' obeys the network's rounding
    rule: with `int`, c' = int(α·c) lies in (α·c − 1, α·c] (and is at least 1), so a row whose input and output
    both scale costs at most α² of its α = 1 cost; with make_divisible(·, d), c' is a multiple of d and at least d
    (its bounds, 0.9·α·c ≤ c' ≤ α·c + d, are against the declared c, which make_divisible rounds even at α = 1)."""
    one, scaled = traced(network), traced(network, alpha)
    divisor = getattr(network.width_rounding, "divisor", None)
    exact = Fraction(str(alpha))
    for r1, ra in zip(one.rows, scaled.rows, strict=True):
        assert ra.macs * channel_factors(r1) == r1.macs * channel_factors(ra)
        if r1.kind in ("conv", "pw", "fc") and not CLASSES[0] <= r1.output.c <= CLASSES[1]:
            c_scaled, target = ra.output.c, exact * r1.output.c
            if divisor is None:
                assert target - 1 < c_scaled <= max(target, 1)
            else:
                assert c_scaled % divisor == 0 and c_scaled >= divisor


@SETTINGS
@given(networks(out=st.integers(1, 64).map(lambda n: 4 * n), rounding=st.just("int"), exclude=NOT_ALPHA),
       EXACT_ALPHAS)
def test_mult_adds_scale_by_alpha_squared_when_rounding_is_exact(network, alpha):
    """With every α·c whole, a row costs α² times as much when both its channel counts scale, α times when one
    does (a depthwise conv, the first conv on the image, an FC to the classes), and the same when none does."""
    one, scaled = traced(network), traced(network, alpha)
    a = Fraction(str(alpha))
    for r1, ra in zip(one.rows, scaled.rows, strict=True):
        assert ra.input.c in (r1.input.c, a * r1.input.c) and ra.output.c in (r1.output.c, a * r1.output.c)
        uses_in, uses_out = MAC_CHANNELS[r1.kind]
        power = uses_in * (ra.input.c == a * r1.input.c) + uses_out * (ra.output.c == a * r1.output.c)
        assert ra.macs == a**power * r1.macs
    low, high = sorted([a**2 * one.macs, one.macs])
    assert low <= scaled.macs <= high


@SETTINGS
@given(networks(padding=st.just("same"), exclude=NOT_RESOLUTION), st.sampled_from([2, 3]), st.integers(1, 16))
def test_mult_adds_scale_with_the_square_of_the_resolution(network, m, base):
    """With `same` padding an output side is ceil(n / s) (TensorFlow's rule), so at m times the resolution every
    side is at most m times as long, and exactly m times when the strides divide the resolution (until a global
    pool makes it 1). A row's Mult-Adds scale with the h·w it multiplies (its output's, or an FC's input's): so by
    m² in every row before a global pool, not at all after it, and by at most m² in any case. Explicit and
    `valid` padding, (n + 2p − k) // s + 1, are not proportional to n and are left out."""
    strides = 1
    for row in traced(network).rows:
        strides *= row.stride
    assume(strides * base * m <= 2048)
    for resolution in (strides * base, strides * base + 1):
        small, large = traced(network, resolution=resolution), traced(network, resolution=m * resolution)
        for rs, rl in zip(small.rows, large.rows, strict=True):
            assert rl.macs <= m * m * rs.macs
            if resolution % strides == 0 and MAC_SPATIAL[rs.kind]:
                side, side_large = (getattr(r, MAC_SPATIAL[rs.kind]) for r in (rs, rl))
                assert (side_large.h, side_large.w) in ((m * side.h, m * side.w), (1, 1) if side.h == 1 else ())
                assert rl.macs * side.h * side.w == rs.macs * side_large.h * side_large.w


@SETTINGS
@given(networks(), ALPHAS)
def test_a_separable_block_costs_one_over_n_plus_one_over_k_squared_of_its_conv(network, alpha):
    """MobileNets eq. 5: (D_K²·M·D_F² + M·N·D_F²) / (D_K²·M·N·D_F²) = 1/N + 1/D_K², exactly."""
    separable, full = traced(network, alpha).rows, traced(network.variant("conv"), alpha).rows
    i = j = 0
    while i < len(separable):
        dw = separable[i]
        if isinstance(dw.unit, Separable):
            pw, conv = separable[i + 1], full[j]
            n, k = pw.output.c, dw.layer.kernel
            assert Fraction(dw.macs + pw.macs, conv.macs) == Fraction(1, n) + Fraction(1, k * k)
            assert (conv.input, conv.output) == (dw.input, pw.output)
            i += 2
        else:
            assert (dw.macs, dw.params) == (full[j].macs, full[j].params)
            i += 1
        j += 1
    assert j == len(full)
