"""Design spaces (mobcost space): sizes by hand, members' costs from the tables held to `trace` of each member
written as a plain spec, exact quantiles, the draw, the chunks on Dask, and located errors."""

from __future__ import annotations

import json
import os

import pytest

np = pytest.importorskip("numpy")

from mobcost.language import parse_spec  # noqa: E402
from mobcost.latency.device import device  # noqa: E402
from mobcost.latency.estimate import estimate  # noqa: E402
from mobcost.memory import peak_memory  # noqa: E402
from mobcost.space.explore import explore, tables_for  # noqa: E402
from mobcost.space.run import Budget, costs, decode, draw  # noqa: E402
from mobcost.space.spec import load_space, member_text, read_space, spaces  # noqa: E402
from mobcost.trace import trace  # noqa: E402

SHIPPED = ["ofa_mobilenet_v3", "ofa_mobilenet_v3_w12", "proxylessnas", "mnasnet", "mcunet_tinynas"]
# Members traced per space: MOBCOST_SPACE_MEMBERS=10000 for the full run (about 2 minutes a space)
FULL = int(os.environ.get("MOBCOST_SPACE_MEMBERS", "0"))
TRACED = {"ofa_mobilenet_v3": FULL or 1000, "ofa_mobilenet_v3_w12": FULL or 150, "proxylessnas": FULL or 300,
          "mnasnet": FULL or 250, "mcunet_tinynas": FULL or 150}


def stages_of(space, m, i):
    """Member i of `m` as member_text takes it: per stage (combination, depth, block options)."""
    out, k = [], 0
    for j, stage in enumerate(space.stages):
        out.append((int(m.s[j][i]), int(m.d[j][i]), [int(m.l[k + b][i]) for b in range(stage.blocks)]))
        k += stage.blocks
    return out


def test_shipped_spaces_listed():
    assert sorted(spaces()) == sorted(SHIPPED)


@pytest.mark.parametrize("name, size", [
    # 25 resolutions (128 … 224 by 4); per stage 9² + 9³ + 9⁴ = 7,371 (depth 2, 3, 4; 3 kernels × 3 expansions)
    ("ofa_mobilenet_v3", 25 * (9**2 + 9**3 + 9**4) ** 5),
    ("ofa_mobilenet_v3_w12", 25 * 7371**5),
    # six candidates for each stage's first block, six or the zero op (7) for the three after; the last stage: 6
    ("proxylessnas", (6 * 7**3) ** 5 * 6),
    # 3 ConvOps × 2 kernels × 2 SE × 2 skips × 3 widths per block, times its layer counts (2 for n = 1, else 3)
    ("mnasnet", 72**7 * 2 * 3 * 3 * 3 * 3 * 3 * 2),
    # 9 widths × 12 resolutions (48 … 224 by 16); 7,371 per elastic stage; the last stage's one block: 9
    ("mcunet_tinynas", 9 * 12 * 7371**5 * 9),
])
def test_size_by_hand(name, size):
    assert load_space(name).size == size


@pytest.mark.parametrize("name", SHIPPED)
def test_members_equal_their_traced_specs(name):
    """Random members, each written as a plain spec, parsed and traced: Mult-Adds, parameters, peak memory integer
    for integer, and the latency on Pixel 1 to rounding."""
    space = load_space(name)
    pixel1 = device("pixel1")
    tables = tables_for(space, "pixel1")
    n = TRACED[name]
    m = draw(space, n, np.random.default_rng(25))
    got = costs(tables, m)
    for i in range(n):
        analysis = trace(parse_spec(member_text(space, int(m.g[i]), stages_of(space, m, i)), f"{name} member {i}"))
        assert (analysis.macs, analysis.params, peak_memory(analysis)) == (
            int(got["macs"][i]), int(got["params"][i]), int(got["memory"][i])), f"member {i}"
        assert estimate(analysis, pixel1).ms == pytest.approx(got["latency"][i], rel=1e-9)


TINY = """
name: tiny
title: A tiny space
space: {source: "a test"}
input: {resolution: {choice: [32, 40]}, channels: 3}
classes: 10
width_rounding: {divisor: 8}
layers:
  - {kind: conv, kernel: 3, stride: 2, out: 16, bn: true, act: relu}
  - {kind: bottleneck, name: s1, out: 16, t: 1, kernel: 3}
  - {kind: bottleneck, name: s2, out: 24, stride: 2, n: {choice: [1, 2]}, kernel: {choice: [3, 5]}, t: {choice: [1, 6]}}
  - {kind: bottleneck, name: s3, out: 32, n: 2, zero: true, kernel: {choice: [3, 5]}, t: 3, width_mult: {choice: [0.5, 1]}}
  - {kind: pw, out: 64, bn: true, act: relu}
  - {kind: avgpool}
  - {kind: fc, out: classes, bias: true}
"""


def test_exhaustive_enumeration_is_every_member_once():
    """A small space enumerated whole: every choice assignment once, their number the size by hand, each equal to
    its traced spec (t = 1 blocks without a residual read their input in slices: the step before them runs on).
    Distinct assignments may build one network (with zero blocks in different places)."""
    space = read_space(TINY, "tiny.yaml")
    # 2 resolutions; s2: 4 block options, depth 1 or 2 (4 + 16); s3: 2 widths × 2 kernels × (2 + 1 zero)
    assert space.size == 2 * (4 + 16) * (2 * 2 * 3)
    m = decode(space, 0, space.size)
    tables = tables_for(space)
    got = costs(tables, m, ("macs", "params", "memory"))
    assert len(np.unique(m.rows()[:, 1:], axis=0)) == space.size
    for i in range(space.size):
        analysis = trace(parse_spec(member_text(space, int(m.g[i]), stages_of(space, m, i))))
        assert (analysis.macs, analysis.params, peak_memory(analysis)) == (
            int(got["macs"][i]), int(got["params"][i]), int(got["memory"][i]))


def test_first_member_by_hand():
    """Member 0 of the tiny space (32 pixels, every first option, s2 one block, s3 at width 0.5 → 16 channels) by
    hand: stem 16×16×16, s1 at 16×16, s2 (t = 1, stride 2) and s3 at 8×8, whose first block expands 24 to 72 and
    whose second has the residual."""
    space = read_space(TINY, "tiny.yaml")
    m = decode(space, 0, 1)
    macs = 3 * 3 * 3 * 16 * 16 * 16  # stem
    macs += 3 * 3 * 16 * 16 * 16 + 16 * 16 * 16 * 16  # s1: depthwise, projection
    macs += 3 * 3 * 16 * 8 * 8 + 16 * 24 * 8 * 8  # s2: depthwise (stride 2), projection
    macs += 24 * 72 * 8 * 8 + 3 * 3 * 72 * 8 * 8 + 72 * 16 * 8 * 8  # s3, block 1
    macs += 16 * 48 * 8 * 8 + 3 * 3 * 48 * 8 * 8 + 48 * 16 * 8 * 8  # s3, block 2
    macs += 16 * 64 * 8 * 8 + 64 * 10  # head, classifier
    assert "resolution: 32" in member_text(space, 0, stages_of(space, m, 0))
    assert int(costs(tables_for(space), m, ("macs",))["macs"][0]) == macs


def test_quantiles_are_exact_values_of_the_members():
    """The two-pass quantiles equal numpy's inverted-CDF quantiles of every member's costs (kept as arrays)."""
    space = load_space("proxylessnas")
    result = explore(space, samples=70_000, seed=7, keep=True)
    for metric in result.metrics:
        reference = np.quantile(result.members[metric], [0, *result.quantiles, 1], method="inverted_cdf")
        assert result.distribution[metric].tolist() == reference.tolist()


def test_budget_share_and_pareto_members():
    space = load_space("ofa_mobilenet_v3_w12")
    result = explore(space, samples=50_000, seed=1, budget=Budget(macs=600_000_000, params=7_000_000), keep=True)
    fits = (result.members["macs"] <= 600_000_000) & (result.members["params"] <= 7_000_000)
    assert result.within == int(fits.sum()) and 0 < result.within < 50_000
    macs, params = result.members["macs"][fits], result.members["params"][fits]
    front = set(zip(result.front["macs"].tolist(), result.front["params"].tolist()))
    for a, p in front:  # no member within budget has more Mult-Adds for as few parameters
        assert not ((macs > a) & (params <= p)).any()
    best = macs.max()
    assert best in result.front["macs"]  # the member with the most Mult-Adds is on the front


def test_draw_weights_depth_by_members():
    """Uniform over members: a stage's depth d is drawn in proportion to its 9^d members (81 : 729 : 6,561)."""
    space = load_space("ofa_mobilenet_v3")
    m = draw(space, 200_000, np.random.default_rng(3))
    share = np.bincount(m.d[2], minlength=5)[2:] / 200_000
    assert share == pytest.approx(np.array([81, 729, 6561]) / 7371, abs=0.005)


def test_same_seed_same_result():
    space = load_space("proxylessnas")
    a, b, c = (explore(space, samples=70_000, seed=seed) for seed in (11, 11, 12))
    assert all(a.distribution[k].tolist() == b.distribution[k].tolist() for k in a.metrics)
    assert a.distribution["macs"].tolist() != c.distribution["macs"].tolist()


def test_dask_local_cluster_gives_the_same_result():
    distributed = pytest.importorskip("dask.distributed")
    space = load_space("proxylessnas")
    local = explore(space, samples=150_000, seed=5, budget=Budget(macs=400_000_000))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = explore(space, samples=150_000, seed=5, budget=Budget(macs=400_000_000), client=client)
    assert all(local.distribution[k].tolist() == remote.distribution[k].tolist() for k in local.metrics)
    assert (local.within, local.front["macs"].tolist()) == (remote.within, remote.front["macs"].tolist())


def test_api_returns_arrays():
    import mobcost

    result = mobcost.space("ofa_mobilenet_v3", samples=5_000, max_macs="300M", keep=True)
    assert result.distribution["macs"].shape == (9,) and result.members["macs"].shape == (5_000,)
    assert result.members["resolution"][0] in range(128, 225, 4)
    assert result.within == int((result.members["macs"] <= 300_000_000).sum())


def run(*args):
    from typer.testing import CliRunner

    from mobcost.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_json_and_csv():
    out = run("space", "proxylessnas", "--samples", "3000", "--max-macs", "350M", "-f", "json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["size"] == (6 * 7**3) ** 5 * 6 and data["evaluated"] == 3000
    assert data["share"] == data["within"] / 3000 and data["pareto"]
    csv = run("space", "proxylessnas", "--samples", "700", "-f", "csv").output.splitlines()
    assert len(csv) == 701 and csv[0].startswith("member,s24.1.kernel,s24.1.t,s24.2.kernel,s24.2.t,s24.2.zero")
    assert csv[0].endswith(",macs,params,memory_bytes")


def test_cli_plot(tmp_path):
    pytest.importorskip("matplotlib")
    out = run("space", "mcunet_tinynas", "--samples", "2000", "--fix", "width=0.5", "--fix", "resolution=144,160",
              "--by", "resolution", "--max-memory", "320kB", "--dtype", "int8", "--plot", str(tmp_path / "cdf.png"))
    assert out.exit_code == 0, out.output
    assert (tmp_path / "cdf.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("text, words", [
    ("kernel: {choice: [3, -1]}", ["line 8", "kernel", "greater than 0", "kernel = -1"]),
    ("kernel: {choice: []}", ["line 8", "expected a list of values"]),
    ("stride: {choice: [1, 2]}", ["line 8", "`stride` cannot be a choice"]),
    ("kernel: {choice: {from: 3, to: 9000001, step: 2}}", ["line 8", "at most 1,000 values"]),
    ("n: {choice: [1, 2], per: block}", ["line 8", "chosen once per stage"]),
    ("kernel: {choice: {from: 1, to: 999, step: 2}}, dilation: {choice: {from: 1, to: 999, step: 2}}",
     ["line 8", "at most 200,000 combinations"]),
])
def test_bad_choices_are_located(tmp_path, text, words):
    spec = (f"name: bad\ntitle: Bad\nspace: {{source: a test}}\ninput: {{resolution: 64, channels: 3}}\n"
            f"width_rounding: {{divisor: 8}}\nlayers:\n  - {{kind: conv, out: 16, stride: 2}}\n"
            f"  - {{kind: bottleneck, out: 24, t: 6, {text}}}\n")
    (tmp_path / "bad.yaml").write_text(spec)
    out = run("space", str(tmp_path / "bad.yaml"), "--samples", "10")
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    for word in words:
        assert word in out.output


@pytest.mark.parametrize("args, words", [
    (["ofa_mobilenet_v3", "--samples", "0"], ["--samples takes 1 to 1,000,000,000"]),
    (["ofa_mobilenet_v3", "--samples", "2000000000"], ["--samples takes 1 to"]),
    (["ofa_mobilenet_v3", "--fix", "resolution=999"], ["not one of its values"]),
    (["ofa_mobilenet_v3", "--fix", "depth=3"], ["--fix names a global choice", "resolution"]),
    (["ofa_mobilenet_v3", "--max-latency", "20ms"], ["needs --device"]),
    (["ofa_mobilenet_v3", "--exhaustive"], ["too many to number in 64 bits"]),
    (["proxylessnas", "--exhaustive"], ["more than the 1,000,000,000 one command enumerates"]),
])
def test_bad_options(args, words):
    out = run("space", *args)
    assert out.exit_code == 2, out.output
    for word in words:
        assert word in out.output


def test_unknown_space():
    out = run("space", "ofa")
    assert out.exit_code == 2 and "unknown space 'ofa'" in out.output and "ofa_mobilenet_v3" in out.output


def test_a_space_from_standard_input():
    """`-` reads a space from standard input, as every model argument reads a spec (`cat space.yaml | mobcost space
    -`): the same members as the shipped file, and a plain network refused as not a space."""
    from typer.testing import CliRunner

    from mobcost.cli import app

    text = spaces()["proxylessnas"].read_text(encoding="utf-8")
    out = CliRunner().invoke(app, ["space", "-", "--samples", "50", "-f", "json"], input=text)
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["size"] == (6 * 7**3) ** 5 * 6
    assert data["distribution"] == json.loads(run("space", "proxylessnas", "--samples", "50", "-f", "json").output)[
        "distribution"]
    plain = CliRunner().invoke(app, ["space", "-"], input="name: n\ntitle: N\ninput: {resolution: 8}\nlayers: []\n")
    assert plain.exit_code == 2 and "<stdin>" in plain.output and "expected a space" in plain.output

def test_a_fixed_space_says_it_is_not_the_whole_space():
    """`--fix width=0.5` printed "Space mcunet_tinynas: N members" with N the restricted space's size. TinyNAS: 9
    widths × 12 resolutions × (3² + 3³ + 3⁴ blocks' kernel × t choices)⁵ stages × 9 for the last block; width 0.5
    keeps 1 of the 9 widths."""
    whole, stages = 9 * 12 * (9**2 + 9**3 + 9**4) ** 5 * 9, (9**2 + 9**3 + 9**4) ** 5 * 9
    assert json.loads(run("space", "mcunet_tinynas", "--samples", "10", "-f", "json").output)["size"] == whole
    fixed = json.loads(run("space", "mcunet_tinynas", "--samples", "10", "--fix", "width=0.5", "-f", "json").output)
    assert fixed["size"] == 12 * stages and fixed["fixed"] == {"width": [0.5]}
    text = " ".join(run("space", "mcunet_tinynas", "--samples", "10", "--fix", "width=0.5", "--fix",
                        "resolution=144,160").output.split())
    assert f"Space mcunet_tinynas (width 0.5; resolution 144, 160): {2 * stages:,} members" in text
    assert f"MCUNet TinyNAS space, only width 0.5; resolution 144, 160: {2 * stages:,} members" in text

def test_counts_past_int64_are_refused(tmp_path):
    """A unit whose Mult-Adds would overflow the int64 sums is refused at build (2²⁰ channels at 2¹⁶ pixels a
    side: 2⁴⁰ · 2³² Mult-Adds for one 1×1 conv), not summed modulo 2⁶⁴."""
    side, width = 2**16, 2**20
    assert width * width * side * side > 2**63
    spec = (f"name: big\ntitle: Big\nspace: {{source: a test}}\ninput: {{resolution: {side}, channels: {width}}}\n"
            f"layers:\n  - {{kind: pw, out: {width}}}\n  - {{kind: pw, out: {{choice: [{width}, 8]}}}}\n")
    (tmp_path / "big.yaml").write_text(spec)
    out = run("space", str(tmp_path / "big.yaml"), "--samples", "10")
    assert out.exit_code == 2 and "64-bit" in out.output, out.output


def test_spec_of_a_member_is_its_csv_row():
    """--spec-of N prints member N of the same draw as a plain spec: traced, it has the CSV row's costs."""
    import csv

    rows = list(csv.reader(run("space", "mnasnet", "--samples", "500", "--seed", "4", "-f", "csv").output.splitlines()))
    header, row = rows[0], rows[1 + 321]
    text = run("space", "mnasnet", "--samples", "500", "--seed", "4", "--spec-of", "321").output
    analysis = trace(parse_spec(text))
    assert row[0] == "321"
    assert (analysis.macs, analysis.params, peak_memory(analysis)) == tuple(
        int(row[header.index(key)]) for key in ("macs", "params", "memory_bytes"))


def test_spec_of_a_member_in_a_later_chunk():
    """A member of the draw's second, shorter chunk: drawn again whole, since a member depends on its chunk's size."""
    from mobcost.space.explore import member
    from mobcost.space.run import CHUNK, chunk

    space = load_space("mnasnet")
    m = chunk(1, CHUNK + 1000, 4).members(space)
    want = costs(tables_for(space), m, ("macs", "params"))
    analysis = trace(parse_spec(member(space, CHUNK + 321, CHUNK + 1000, 4)))
    assert int(m.index[321]) == CHUNK + 321
    assert (analysis.macs, analysis.params) == (int(want["macs"][321]), int(want["params"][321]))


def test_tables_too_large_are_refused_before_any_trace(tmp_path):
    """1,000 resolutions × 999 kernels: a million table entries, refused at once (exit 2), not traced."""
    spec = ("name: wide\ntitle: Wide\nspace: {source: a test}\n"
            "input: {resolution: {choice: {from: 1001, to: 2000, step: 1}}, channels: 3}\n"
            "layers:\n  - {kind: conv, out: 8, kernel: {choice: {from: 1, to: 999, step: 1}}}\n")
    (tmp_path / "wide.yaml").write_text(spec)
    out = run("space", str(tmp_path / "wide.yaml"), "--samples", "10")
    assert out.exit_code == 2 and "at most 200,000 table entries" in out.output, out.output


def test_a_space_given_as_a_network_says_how_to_cost_it(mobcost):
    result = mobcost("table", "configs/spaces/ofa_mobilenet_v3.yaml")
    assert result.exit_code == 2 and result.stdout == ""
    assert "line 20, column 8: field 'space': makes this file a design space, not one network: `mobcost space FILE`" \
        in " ".join(result.stderr.split())
