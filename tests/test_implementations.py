"""What the spec can say about an implementation, by hand arithmetic: a ReLU after a residual add, an adaptive pool to
a fixed size, a functional call, torchvision's V3 widths; the variants that name implementations; JSON that counts
as asked. (tests/test_reference.py holds the same variants to torchvision itself.)"""

import json

import pytest
from typer.testing import CliRunner

import mobcost
from mobcost.cli import app
from mobcost.conventions import counted, totals
from mobcost.layers import AvgPool, Shape
from mobcost.language import SpecError

SPEC = """
name: tiny
title: Tiny
input: {{resolution: 8}}
classes: 10
follows: [paper]
layers:
{layers}
"""


def tiny(layers: str):
    return mobcost.analyze(mobcost.parse_spec(SPEC.format(layers=layers)))


def test_adaptive_pool_keeps_its_output_size_at_any_input():
    pool = AvgPool(output=(7, 7))
    assert [pool.output_shape(Shape(n, n, 512)) for n in (14, 7, 5)] == [Shape(7, 7, 512)] * 3
    with pytest.raises(ValueError, match="either `output"):
        AvgPool(output=(7, 7), kernel=2)


def test_vgg16_classifier_sees_7x7_at_160():
    """torchvision's AdaptiveAvgPool2d((7, 7)): the parameters stay 138,357,544 (torchvision's vgg16 num_params)."""
    a = mobcost.analyze("vgg16", resolution=160)
    assert a.params_counted("torch") == 138_357_544
    fc1 = next(row for row in a.rows if row.kind == "fc")
    assert fc1.input.size == 7 * 7 * 512 and fc1.macs == 7 * 7 * 512 * 4096


def test_adaptive_pool_costs_by_convention():
    """A 2×2×2 map pooled to 3×3: fvcore and ptflops 1 per input element (ptflops twice, its module hook and its
    patched functional), thop (h/oh · w/ow + 1) per output element in float64, truncated."""
    a = tiny("  - {kind: conv, kernel: 5, stride: 2, padding: valid, out: 2}\n"  # 8 → (8 − 5) // 2 + 1 = 2
             "  - {kind: avgpool, output: [3, 3]}")
    pool = a.rows[1]
    assert (pool.input, pool.output) == (Shape(2, 2, 2), Shape(3, 3, 2))
    conv = a.rows[0].macs
    assert counted(a, "fvcore").macs == conv + 2 * 2 * 2
    assert counted(a, "ptflops").macs == conv + 2 * (2 * 2 * 2)
    assert counted(a, "thop").macs == conv + int((2 / 3 * (2 / 3) + 1) * 3 * 3 * 2)


def test_relu_after_a_residual_add():
    a = tiny("  - {kind: conv, kernel: 3, out: 4}\n"
             "  - kind: residual\n    act: relu\n    layers: [{kind: conv, kernel: 3, out: 4}]")
    add = a.rows[-1]
    assert (add.kind, add.layer.act) == ("add", "relu")
    # ptflops: ReLU 1 per element, counted twice (nn.ReLU's hook and the F.relu it calls)
    assert counted(a, "ptflops").macs == a.macs + 2 * 8 * 8 * 4


def test_a_functional_call_counts_once_in_ptflops_and_not_in_thop():
    module = tiny("  - {kind: conv, kernel: 3, out: 4, act: relu}\n  - {kind: avgpool}")
    called = tiny("  - {kind: conv, kernel: 3, out: 4, act: relu, functional: [act]}\n"
                  "  - {kind: avgpool, functional: [op]}")
    relu, pool_in, pool_out = 8 * 8 * 4, 8 * 8 * 4, 4
    assert counted(module, "ptflops").macs == module.macs + 2 * relu + 2 * pool_in
    assert counted(called, "ptflops").macs == called.macs + relu + pool_in
    assert counted(module, "thop").macs == module.macs + (8 * 8 + 1) * pool_out
    assert counted(called, "thop").macs == called.macs
    assert counted(called, "fvcore").macs == counted(module, "fvcore").macs == module.macs + pool_in


def test_torchvision_v3_widths_at_0_75():
    """torchvision's mobilenet_v3_large(width_mult=0.75): expansion make_divisible(0.75 · exp, 8), SE squeeze
    make_divisible(expansion / 4, 8), last conv 6 × its input, head make_divisible(0.75 · 1280, 8)."""
    rows = {row.name: row for row in mobcost.analyze("v3_large:torchvision@0.75").rows}
    assert rows["bneck2/expand"].output.c == 48  # 0.75 · 64; TF-slim: make_divisible(16 · 4) = 64
    assert rows["c2/expand"].output.c == 56  # make_divisible(0.75 · 72 = 54) = 56
    assert rows["c2/se/reduce"].output.c == 16  # make_divisible(56 / 4 = 14) = 16
    assert rows["last"].output.c == 6 * 120 and rows["head"].output.c == 960
    tf_slim = {row.name: row for row in mobcost.analyze("v3_large@0.75").rows}
    assert (tf_slim["bneck2/expand"].output.c, tf_slim["head"].output.c) == (64, 1280)


def test_every_variant_is_the_default_at_alpha_1_where_only_rounding_differs():
    for name in ("v3_large", "v3_small"):
        for variant in ("torchvision", "keras"):
            a, b = mobcost.analyze(name), mobcost.analyze(f"{name}:{variant}")
            assert (a.macs, a.params) == (b.macs, b.params)


@pytest.mark.parametrize(("edit", "message"), [
    ("each: {bottlenek: {t: 2}}", "no layer kind is named 'bottlenek'"),
    ("each: {conv: {kernal: 2}}", "kernal"),
    ("builder: {call: not a callable}", "builder"),
])
def test_a_bad_variant_edit_is_located(edit, message):
    text = SPEC.format(layers="  - {kind: conv, kernel: 3, out: 4}") + f"variants:\n  x:\n    title: X\n    {edit}\n"
    with pytest.raises(SpecError, match=message):
        mobcost.analyze(mobcost.parse_spec(text).variant("x"))


def test_expansion_from_the_table_needs_the_table_width():
    with pytest.raises(SpecError, match="give `exp`"):
        tiny("  - {kind: bottleneck, t: 6, out: 8, expansion: exp}")


runner = CliRunner()


def run_json(*args):
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_table_json_counts_parameters_as_asked():
    """torchvision's mobilenet_v2 num_params: 3,504,872 (its weights meta)."""
    data = run_json("table", "v2", "--params", "torch")
    assert data["totals"]["params"] == 3_504_872 == sum(row["params"] for row in data["layers"])
    assert data["counting"]["params"] == "torch" and data["counting"]["convention"] == "paper"


@pytest.mark.parametrize("command", [["table", "v2"], ["breakdown", "v2"], ["compare", "v2"],
                                     ["sweep", "v2", "--alpha", "1"]])
def test_every_json_says_how_it_counted_and_honours_the_convention(command):
    data = run_json(*command, "--convention", "ptflops", "--params", "keras")
    entry = data[0] if isinstance(data, list) else data
    assert entry["counting"]["convention"] == "ptflops" and entry["counting"]["params"] == "keras"
    macs, _ = totals(mobcost.analyze("v2"), "ptflops")
    keras = mobcost.analyze("v2").params_counted("keras")
    found = entry.get("totals", entry)
    assert (found["macs"], found["params"]) == (macs, keras)


def test_explain_json_says_each_conventions_counting():
    data = run_json("explain", "v2")
    assert {(e["convention"], e["params_counting"]) for e in data} >= {("paper", "weights"), ("thop", "torch")}


def test_torch_counting_of_a_network_that_is_not_torchvisions_says_so():
    note = "Not torchvision's network"
    text = runner.invoke(app, ["table", "v3_large", "--params", "torch", "-f", "markdown"]).stdout
    assert note in text and "mobilenet_v3_large:torchvision" in text
    assert note in run_json("table", "v3_large", "--convention", "thop")["counting"]["warning"]
    assert note not in runner.invoke(app, ["table", "v3_large:torchvision", "--params", "torch"]).stdout
    assert note not in runner.invoke(app, ["table", "v3_large"]).stdout  # the paper's counting claims no library


def test_a_mean_taken_as_a_tensor_method_counts_0_in_every_counter():
    """torchvision's MnasNet and ShuffleNetV2 pool with `x.mean([2, 3])`: no module for thop's hooks, no patched
    function for ptflops, no aten::mean handler in fvcore (tests/test_reference.py runs the tools on torchvision's
    models; test_verify.py on the `every_kind` module, which takes one)."""
    module = tiny("  - {kind: conv, kernel: 3, out: 4}\n  - {kind: avgpool}")
    method = tiny("  - {kind: conv, kernel: 3, out: 4}\n  - {kind: avgpool, functional: [method]}")
    pool_in, pool_out = 8 * 8 * 4, 4
    assert counted(module, "fvcore").macs == module.macs + pool_in
    assert counted(module, "ptflops").macs == module.macs + 2 * pool_in
    assert counted(module, "thop").macs == module.macs + (8 * 8 + 1) * pool_out
    assert [counted(method, tool).macs for tool in ("paper", "torch", "fvcore", "ptflops", "thop")] == [method.macs] * 5
    assert method.macs == module.macs == 3 * 3 * 3 * 4 * 8 * 8


@pytest.mark.parametrize("layer", ["{kind: conv, out: 4, functional: [method]}",
                                   "{kind: avgpool, kernel: 2, functional: [method]}",
                                   "{kind: avgpool, output: [2, 2], functional: [method]}",
                                   "{kind: avgpool, functional: [op, method]}"])
def test_a_tensor_method_is_only_a_global_mean(layer):
    with pytest.raises(SpecError, match=r"`functional: \[method\]` .* is for a global avgpool"):
        tiny(f"  - {layer}")
