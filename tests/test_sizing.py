"""Sizing (issue 5): grids, budgets, peak activations, accuracy estimates, fit and the Pareto front."""

from __future__ import annotations

from fractions import Fraction

import pytest

from mobcost.sizing import AccuracyGrid, Limits, alphas_of, fit, parse_bytes, resolutions_of
from mobcost.language import Budget, MobcostError, SpecError, builtin_models, load_model, load_spec, parse_spec
from mobcost.trace import sweep, trace
from test_trace import v1_by_hand

TF_SLIM = "TF-slim mobilenet_v1.md (2018-02-22 checkpoints)"
# published-figures.md §4a: Top-1 of the 16 checkpoints of 2018-02-22
TF_SLIM_TOP1 = {(1.0, 224): 70.9, (1.0, 192): 70.0, (1.0, 160): 68.0, (1.0, 128): 65.2,
                (0.75, 224): 68.4, (0.75, 192): 67.2, (0.75, 160): 65.3, (0.75, 128): 62.1,
                (0.5, 224): 63.3, (0.5, 192): 61.7, (0.5, 160): 59.1, (0.5, 128): 56.3,
                (0.25, 224): 49.8, (0.25, 192): 47.7, (0.25, 160): 45.5, (0.25, 128): 41.5}

@pytest.fixture(scope="module")
def v1():
    return load_model("v1")[0]


# ---- sizes and grids ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, count", [("150M", 150 * 10**6), ("1.5G", 15 * 10**8), ("2.5e6", 25 * 10**5),
                                         ("300k", 300 * 10**3), ("2000000", 2 * 10**6), (4_300_000, 4_300_000)])
def test_budget_sizes_in_every_notation(text, count):
    assert Budget(max_macs=text, max_params=text) == Budget(max_macs=count, max_params=count)
    assert Limits.of(None, max_macs=str(text), max_params=str(text)) == Limits(count, count)


@pytest.mark.parametrize("text, count", [("1MB", 10**6), ("512kB", 512 * 10**3), ("1.5M", 15 * 10**5),
                                         ("2e6", 2 * 10**6), ("300B", 300), ("4096", 4096)])
def test_memory_sizes_are_bytes(text, count):
    assert parse_bytes(text) == count
    assert Limits.of(None, max_memory=text).max_memory == count


@pytest.mark.parametrize("option, kwargs", [("--max-macs", {"max_macs": "15X"}),
                                            ("--max-params", {"max_params": "1.5"}),
                                            ("--max-memory", {"max_memory": "lots"})])
def test_a_bad_size_names_its_flag(option, kwargs):
    with pytest.raises(MobcostError, match=f"^{option}: .*150M"):
        Limits.of(None, **kwargs)


def test_flags_replace_the_configs_budget(v1):
    assert Limits.of(v1.budget) == Limits(600 * 10**6, 43 * 10**5)  # configs/mobilenet_v1.yaml `budget:`
    assert Limits.of(v1.budget, max_macs="150M") == Limits(150 * 10**6)


def test_grids_from_ranges_and_lists():
    assert alphas_of("0.25:1.0:0.05") == [(25 + 5 * i) / 100 for i in range(16)]  # exact decimals, no drift
    assert alphas_of("1,0.75,0.5") == [1.0, 0.75, 0.5]
    assert alphas_of("0.25:0.5:0.25,1") == [0.25, 0.5, 1.0]
    assert alphas_of("0.25:1.4") == [(25 + 5 * i) / 100 for i in range(24)]  # step 0.05 when left out
    assert resolutions_of("96:320") == list(range(96, 321, 8))  # step 8 when left out
    assert resolutions_of("128:224:32,300") == [128, 160, 192, 224, 300]


@pytest.mark.parametrize("text", ["1:0.5", "0.25:1:0", "a,b", "1:2:3:4"])
def test_bad_grids_are_refused(text):
    with pytest.raises(MobcostError, match="--alpha"):
        alphas_of(text)


def test_resolutions_are_whole_pixels():
    with pytest.raises(MobcostError, match="whole numbers"):
        resolutions_of("96:100:0.5")


# ---- the sweep's fast path ----------------------------------------------------------------------------------

def test_sweep_totals_equal_hand_arithmetic_and_trace(v1):
    grid = list(sweep(v1, [1.0, 0.75, 0.5, 0.25], [224, 160, 97]))
    assert [(float(t.alpha), t.resolution) for t in grid][:4] == [(1.0, 224), (1.0, 160), (1.0, 97), (0.75, 224)]
    for t in grid:
        assert (t.macs, t.params) == v1_by_hand(float(t.alpha), t.resolution)
        full = trace(v1, float(t.alpha), t.resolution)
        assert (t.macs, t.params, t.label) == (full.macs, full.params, full.label)


@pytest.mark.parametrize("path", sorted(set(builtin_models().values())), ids=lambda p: p.stem)
def test_sweep_reuses_layers_across_resolutions_only_where_trace_agrees(path):
    network = load_spec(path)
    resolutions = [r for r in (224, 161, 96, 256, 192, 128) if _traces(network, r)][:3]  # MobileViT: 2×2 patches
    for t in sweep(network, [1.0, 0.75, 0.5, 0.25], resolutions):
        full = trace(network, float(t.alpha), t.resolution)
        assert (t.macs, t.params, t.params_counted("keras")) == (full.macs, full.params,
                                                                 full.params_counted("keras")), t.label


def _traces(network, resolution: int) -> bool:
    try:
        trace(network, 1.0, resolution)
    except SpecError:
        return False
    return True


def test_a_sweep_locates_a_layer_that_fails_at_one_resolution():
    net = parse_spec(TINY.replace("{kind: conv, stride: 2, out: 8}", "{kind: conv, kernel: 5, padding: valid, out: 8}"),
                     "tiny.yaml")
    with pytest.raises(SpecError, match=r"tiny.yaml, line 6.*layers\[0\].*at resolution 4"):
        list(sweep(net, [1.0], [32, 4]))


# ---- accuracy estimates -------------------------------------------------------------------------------------

def test_the_published_grid_is_the_tf_slim_table(v1):
    grid = AccuracyGrid.of(v1)
    assert grid.source == TF_SLIM
    assert {(float(a), r): acc for (a, r), acc in grid.accuracy.items()} == TF_SLIM_TOP1
    assert AccuracyGrid.of(v1, "shallow") is None  # one published point, not a grid


def test_the_largest_rectangle_of_a_source_is_the_grid():
    grid = AccuracyGrid.of(load_model("v2")[0])  # TF-slim V2 README: 1.4 and 1.3 only at 224, so left out
    assert grid.source == "TF-slim V2 README" and len(grid.accuracy) == 4 * 5
    assert [float(a) for a in grid.alphas] == [0.35, 0.5, 0.75, 1.0] and grid.resolutions == (96, 128, 160, 192, 224)
    assert grid.estimate(Fraction("1.4"), 224) is None
    assert grid.estimate(Fraction("0.875"), 224).accuracy == pytest.approx((69.8 + 71.8) / 2)  # published-figures §5a


@pytest.mark.parametrize("alpha, resolution", TF_SLIM_TOP1, ids=[f"TF-slim {a}_{r}" for a, r in TF_SLIM_TOP1])
def test_an_estimate_at_a_published_point_is_that_point(v1, alpha, resolution):
    estimate = AccuracyGrid.of(v1).estimate(Fraction(str(alpha)), resolution)
    assert estimate.accuracy == TF_SLIM_TOP1[alpha, resolution]
    assert estimate.published and estimate.points == ((Fraction(str(alpha)), resolution,
                                                       TF_SLIM_TOP1[alpha, resolution]),)


def test_estimates_between_points_are_bilinear(v1):
    grid = AccuracyGrid.of(v1)
    centre = grid.estimate(Fraction("0.875"), 208)  # halfway on both axes: the mean of the four corners
    assert centre.accuracy == pytest.approx((67.2 + 68.4 + 70.0 + 70.9) / 4)
    assert [(float(a), r) for a, r, _ in centre.points] == [(0.75, 192), (0.75, 224), (1.0, 192), (1.0, 224)]
    edge = grid.estimate(Fraction("0.3"), 224)  # a fifth of the way from 0.25 to 0.5 at a published resolution
    assert edge.accuracy == pytest.approx(49.8 + (63.3 - 49.8) / 5)
    assert len(edge.points) == 2 and "between 0.25/224 49.8, 0.5/224 63.3" == edge.describe()


@pytest.mark.parametrize("alpha, resolution", [("1.1", 224), ("0.2", 160), ("0.5", 96), ("0.5", 240)])
def test_no_estimate_outside_the_published_grid(v1, alpha, resolution):
    assert AccuracyGrid.of(v1).estimate(Fraction(alpha), resolution) is None


# ---- fit ----------------------------------------------------------------------------------------------------

def test_fit_a_small_budget_by_hand(v1):
    alphas, resolutions = [0.25, 0.5], [96, 128, 160, 192]
    budget = 25 * 10**6
    fitting = {(a, r) for a in alphas for r in resolutions if v1_by_hand(a, r)[0] <= budget}
    assert fitting == {(0.25, 96), (0.25, 128), (0.25, 160)}  # 0.5 at 96 is 27.7M, 0.25 at 192 is 30.2M
    candidates, grid = fit(v1, alphas, resolutions, Limits(max_macs=budget))
    assert [(float(c.totals.alpha), c.totals.resolution) for c in candidates] == [(0.25, 160), (0.25, 128), (0.25, 96)]
    assert [c.estimate.accuracy if c.estimate else None for c in candidates] == [45.5, 41.5, None]  # TF-slim Top-1
    assert [c.totals.macs for c in candidates] == [v1_by_hand(0.25, r)[0] for r in (160, 128, 96)]
    assert [c.front for c in candidates] == [True, True, False]  # more Mult-Adds buy more accuracy; 96 unestimated


def test_fit_by_parameters_and_memory(v1):
    assert fit(v1, [0.25], [128], Limits(max_params=300_000))[0] == []  # 0.25 MobileNet has 463,600
    # V1 materializes every tensor, so its peak live set is sep1/pw's input + output, (r/2)²·(32 + 64) values:
    # 884,736 bytes at 96 in fp32, 1,572,864 at 128
    candidates, _ = fit(v1, [1.0], [96, 128, 160], Limits(max_memory=10**6, dtype="fp32"))
    assert [(c.totals.resolution, c.memory) for c in candidates] == [(96, 48 * 48 * 96 * 4)]


def test_fit_needs_a_budget(v1):
    with pytest.raises(MobcostError, match="needs a budget"):
        fit(v1, [1.0], [224], Limits())


TINY = """
name: tiny
title: Tiny
input: {resolution: 32}
layers:
  - {kind: conv, stride: 2, out: 8}
  - {kind: separable, out: 16}
  - {kind: avgpool}
  - {kind: fc, out: 10}
"""


def test_without_published_accuracies_rank_by_mult_adds_and_front_by_parameters():
    tiny = parse_spec(TINY)
    candidates, grid = fit(tiny, [0.5, 1.0], [16, 32], Limits(max_macs=10**6))
    assert grid is None and all(c.estimate is None for c in candidates)
    macs = [c.totals.macs for c in candidates]
    assert macs == sorted(macs, reverse=True)
    # α = 1 at 32: conv 3·3·3·8·16·16 + dw 3·3·8·16·16 + pw 8·16·16·16 + fc 16·10
    assert macs[0] == 3 * 3 * 3 * 8 * 16 * 16 + 3 * 3 * 8 * 16 * 16 + 8 * 16 * 16 * 16 + 16 * 10
    # the front: for each parameter count, only the resolution with the most Mult-Adds (32, at both α)
    assert {(float(c.totals.alpha), c.totals.resolution) for c in candidates if c.front} == {(1.0, 32), (0.5, 32)}
