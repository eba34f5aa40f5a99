"""SSDLite on every backbone of MobileNetV3 Table 6: V3-Small, V2 and MnasNet-A1 at α < 1, against the paper's
printed figures, torchvision's own backbones run for real, and the extra layers and predictors by hand arithmetic."""

from fractions import Fraction

import pytest

import mobcost
from mobcost.layers import MakeDivisible, Scaling, WidthRule
from mobcost.language import load_model, parse_spec
from test_heads import _anchors
from test_heads import test_published_figure_agrees_or_is_an_explained_erratum as agrees_or_is_an_explained_erratum

CONFIGS = ("ssdlite_mobilenet_v3_small", "ssdlite_mobilenet_v2", "ssdlite_mnasnet_a1")
ROWS = [(name, ref) for name in CONFIGS for ref in load_model(name)[0].reference
        if name != "ssdlite_mobilenet_v2" or ref.label.startswith("V2 0.")]  # its α = 1 rows: tests/test_heads.py


@pytest.mark.parametrize("name, ref", ROWS, ids=[f"{ref.source}: {ref.label}" for _, ref in ROWS])
def test_table_6_figure_agrees_or_is_an_explained_erratum(name, ref):
    agrees_or_is_an_explained_erratum(name, ref)


# ---- the width rule: α with a layer's own rounding and a floor ----------------------------------------------

TF_DEPTH = WidthRule(rounding="int", min=16)  # the TF object detection API's extra layers: max(int(α·d), 16)


@pytest.mark.parametrize("alpha, depth, expected", [
    ("0.35", 256, 89),    # int(89.6): truncated, where make_divisible(89.6, 8) would give 88
    ("0.35", 512, 179),   # int(179.2)
    ("0.5", 128, 64),
    ("0.35", 64, 22),     # int(22.4)
    ("0.35", 32, 16),     # int(11.2) = 11, floored at 16
    ("0.25", 32, 16),     # int(8.0) = 8, floored at 16
    ("1.4", 256, 358),    # int(358.4): the rule scales up as well
])
def test_tf_depth_fn_by_hand(alpha, depth, expected):
    # the network rounds to multiples of 8; the layer's own rule wins
    assert Scaling(Fraction(alpha), 91, divisor=8).channels(depth, TF_DEPTH) == expected


@pytest.mark.parametrize("alpha, c, expected", [
    ("0.35", 16, 16),   # TF-slim _make_divisible(5.6, 8, min_value=16): max(16, 8) = 16, where min 8 gives 8
    ("0.35", 96, 32),   # 33.6 → 32, above the floor
    ("0.5", 24, 16),    # 12 → int(16) // 8 · 8 = 16
])
def test_make_divisible_with_a_floor_by_hand(alpha, c, expected):
    rule = WidthRule(min=16)  # the network's rounding (make_divisible to 8) with TF-slim's min_depth
    assert Scaling(Fraction(alpha), 1000, divisor=8).channels(c, rule) == expected
    assert Scaling(Fraction(alpha), 1000).channels(c, WidthRule(rounding=MakeDivisible(divisor=8), min=16)) == expected


def test_width_rule_defaults_to_the_networks_rounding_without_a_floor():
    assert Scaling(Fraction("0.35"), 1000).channels(32, WidthRule()) == 11              # int(11.2), floor 1
    assert Scaling(Fraction("0.35"), 1000, divisor=8).channels(32, WidthRule()) == 16   # make_divisible(11.2, 8)
    assert Scaling(Fraction("0.5"), 1000, divisor=8).channels(1280, WidthRule(rounding="int", min=16)) == 640


def test_width_rule_in_a_spec():
    net = parse_spec("""
name: t
title: t
input: {resolution: 10, channels: 3}
width_rounding: {divisor: 8}
layers:
  - {kind: conv, kernel: 1, out: 256, width: {rounding: int, min: 16}}
  - {kind: conv, kernel: 1, out: 32, width: {rounding: int, min: 16}}
""")
    a = mobcost.analyze(net, alpha=0.35)
    assert [row.output.c for row in a.rows] == [89, 16]
    assert a.macs == 3 * 89 * 10 * 10 + 89 * 16 * 10 * 10


# ---- the extra layers and predictors, by hand --------------------------------------------------------------

def _depth_fn(alpha: str):
    """feature_map_generators.get_depth_fn(depth_multiplier, min_depth=16)."""
    return lambda d: max(int(d * Fraction(alpha)), 16)


def _extras_by_hand(c: int, size: int, depth=lambda d: d) -> tuple[int, int, list[tuple[int, int]]]:
    """TF's multi_resolution_feature_maps with insert_1x1_conv and use_depthwise on a size×size×c map: per layer
    depth d (512, 256, 256, 128), a 1×1 conv to depth(d / 2), a 3×3 depthwise conv with stride 2 ('same' padding:
    ⌈size/2⌉) and a 1×1 conv to depth(d). Returns (Mult-Adds, weights, the (size, depth) of each new feature map)."""
    macs = params = 0
    maps = []
    for d in (512, 256, 256, 128):
        half, d, out = depth(d // 2), depth(d), (size + 1) // 2
        macs += c * half * size * size + 3 * 3 * half * out * out + half * d * out * out
        params += c * half + 3 * 3 * half + half * d
        c, size = d, out
        maps.append((size, d))
    return macs, params, maps


def _predictors_by_hand(maps: list[tuple[int, int]], anchors: list[int], classes: int) -> tuple[int, int]:
    """SSDLite's box and class predictors on each size×size×c map: each a 3×3 depthwise conv then a 1×1 conv with
    biases, to anchors × 4 box coordinates and anchors × classes scores."""
    macs = params = 0
    for (size, c), a in zip(maps, anchors):
        for outputs in (a * 4, a * classes):
            macs += 3 * 3 * c * size * size + c * outputs * size * size
            params += 3 * 3 * c + c * outputs + outputs
    return macs, params


@pytest.mark.parametrize("name", ["ssdlite_mobilenet_v3_small", "ssdlite_mobilenet_v3_small:full",
                                  "ssdlite_mnasnet_a1", "ssdlite_mnasnet_a1@0.35", "ssdlite_mobilenet_v2:v3_paper@0.5"])
def test_anchors_per_location_by_hand(name):
    # 3 anchors at each of the 20×20 first map's locations (reduce_boxes_in_lowest_layer), 6 on the others: 2,034
    assert _anchors(mobcost.analyze(name)) == 20 * 20 * 3 + (10 * 10 + 5 * 5 + 3 * 3 + 2 * 2 + 1) * 6


def test_one_predictor_row_by_hand():
    rows = {row.name: row for row in mobcost.analyze("ssdlite_mobilenet_v3_small").rows}
    # the class predictor on the 10×10×288 C5 map of V3-Small†: 6 anchors × 91 scores
    assert (rows["cls2"].macs, rows["cls2"].params) == (288 * 546 * 10 * 10, 288 * 546 + 546)


@pytest.mark.parametrize("variant, c5", [("", 288), (":full", 576)], ids=["V3-Small†", "V3-Small"])
def test_v3_small_extras_and_predictors_by_hand(variant, c5):
    a = mobcost.analyze(f"ssdlite_mobilenet_v3_small{variant}")
    extras_macs, extras_params, extra_maps = _extras_by_hand(c5, 10)
    maps = [(20, 288), (10, c5)] + extra_maps  # layer_10/expansion_output (20×20×288 in both), layer_13
    heads = _predictors_by_hand(maps, [3, 6, 6, 6, 6, 6], 91)
    assert [(r.output.h, r.output.c) for r in a.rows if r.name.startswith("extra") and r.name.endswith("/pw")] \
        == extra_maps
    assert sum(r.macs for r in a.rows if r.part == "extras") == extras_macs
    assert sum(r.params for r in a.rows if r.part == "extras") == extras_params
    assert (sum(r.macs for r in a.rows if r.part == "heads"), sum(r.params for r in a.rows if r.part == "heads")) \
        == heads


# ---- the backbones, held to torchvision's --------------------------------------------------------------------

def _features_counted(features, size: int) -> tuple[int, int]:
    """(Mult-Adds, weights and biases) of a torchvision feature extractor on one size×size image: FlopCounterMode's
    FLOPs ÷ 2, and the parameters of its convolutions (batch norm left out, as the papers count)."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        features(torch.rand(1, 3, size, size))
    convs = [m for m in features.modules() if isinstance(m, torch.nn.Conv2d)]
    return counter.get_total_flops() // 2, sum(p.numel() for m in convs for p in m.parameters())


@pytest.mark.parametrize("variant, reduced_tail", [("", True), (":full", False)], ids=["V3-Small†", "V3-Small"])
def test_v3_small_backbone_is_torchvisions(variant, reduced_tail):
    # torchvision's reduced_tail halves the same layers as TF-slim's V3_SMALL_DETECTION (C4's blocks and the last conv)
    torchvision = pytest.importorskip("torchvision")
    features = torchvision.models.mobilenet_v3_small(weights=None, reduced_tail=reduced_tail).features.eval()
    a = mobcost.analyze(f"ssdlite_mobilenet_v3_small{variant}")
    backbone = [r for r in a.rows if r.part == "backbone"]
    assert (sum(r.macs for r in backbone), sum(r.params for r in backbone)) == _features_counted(features, 320)


@pytest.mark.parametrize("variant, macs, params", [("", "0.16", "1.77"), (":full", "0.21", "2.49")],
                         ids=["MobileNetV3 Table 6: V3-Small†", "MobileNetV3 Table 6: V3-Small"])
def test_v3_small_totals_from_torchvision_and_hand_arithmetic(variant, macs, params):
    torchvision = pytest.importorskip("torchvision")
    features = torchvision.models.mobilenet_v3_small(weights=None, reduced_tail=not variant).features.eval()
    backbone_macs, backbone_params = _features_counted(features, 320)
    c5 = 576 if variant else 288
    extras_macs, extras_params, extra_maps = _extras_by_hand(c5, 10)
    heads_macs, heads_params = _predictors_by_hand([(20, 288), (10, c5)] + extra_maps, [3, 6, 6, 6, 6, 6], 91)
    total_macs = backbone_macs + extras_macs + heads_macs
    total_params = backbone_params + extras_params + heads_params
    assert f"{total_macs / 1e9:.2f}" == macs and f"{total_params / 1e6:.2f}" == params
    a = mobcost.analyze(f"ssdlite_mobilenet_v3_small{variant}")
    assert (a.macs, a.params) == (total_macs, total_params)


# ---- MobileNetV2 at α < 1 (MobileNetV3 Table 6's V2 0.35 and V2 0.5) --------------------------------------------

def test_v2_extra_layers_at_035_by_hand():
    a = mobcost.analyze("ssdlite_mobilenet_v2:v3_paper@0.35")
    extras = [row.output.c for row in a.rows if row.part == "extras" and not row.name.endswith("/dw")]
    # max(int(0.35·d), 16) for d = 256, 512, 128, 256, 128, 256, 64, 128
    assert extras == [89, 179, 44, 89, 44, 89, 22, 44]


@pytest.mark.parametrize("alpha, macs, params", [("0.35", "0.17", "0.93"), ("0.5", "0.27", "1.54")],
                         ids=["MobileNetV3 Table 6: V2 0.35 (Mult-Adds printed 0.16, an erratum)",
                              "MobileNetV3 Table 6: V2 0.5"])
def test_v2_totals_from_torchvision_and_hand_arithmetic(alpha, macs, params):
    # torchvision's mobilenet_v2(width_mult=α) rounds every width as TF-slim's classifier does, make_divisible(α·c, 8),
    # and its expansions round(c·t) equal TF's make_divisible(c·t, 8) here; its last conv stays 1280 wide, where TF's
    # SSD feature extractor scales it, so the backbone is its features without the last conv, plus that conv by hand.
    torchvision = pytest.importorskip("torchvision")
    features = torchvision.models.mobilenet_v2(weights=None, width_mult=float(alpha)).features.eval()
    backbone_macs, backbone_params = _features_counted(features[:-1], 320)
    c320, c1280 = features[-2].out_channels, int(1280 * Fraction(alpha))  # 112, 448 at 0.35; 160, 640 at 0.5
    layer_19 = (c320 * c1280 * 10 * 10, c320 * c1280)
    c4 = features[14].conv[0].out_channels  # layer_15/expansion_output: 6 × make_divisible(96·α, 8)
    extras_macs, extras_params, extra_maps = _extras_by_hand(c1280, 10, _depth_fn(alpha))
    heads = _predictors_by_hand([(20, c4), (10, c1280)] + extra_maps, [3, 6, 6, 6, 6, 6], 91)
    total_macs = backbone_macs + layer_19[0] + extras_macs + heads[0]
    total_params = backbone_params + layer_19[1] + extras_params + heads[1]
    assert f"{total_macs / 1e9:.2f}" == macs and f"{total_params / 1e6:.2f}" == params
    a = mobcost.analyze(f"ssdlite_mobilenet_v2:v3_paper@{alpha}")
    assert (a.macs, a.params) == (total_macs, total_params)


def test_tf_min_depth_on_the_v2_backbone_is_the_erratums_alternative():
    """The V2 0.35 erratum's other count: TF's SSD feature extractor floors the backbone's widths at 16 too."""
    net = load_model("ssdlite_mobilenet_v2")[0].variant("v3_paper")
    floored = WidthRule(min=16)  # make_divisible(α·c, 8, min_value=16)
    extras = net.layers.index(next(layer for layer in net.layers if layer.part == "extras"))
    layers = [layer.model_copy(update={"width": floored}) if i < extras and getattr(layer, "width", "fixed") != "fixed"
              else layer for i, layer in enumerate(net.layers)]
    plain = mobcost.analyze(net, alpha=0.35)
    with_floor = mobcost.analyze(net.model_copy(update={"layers": layers}), alpha=0.35)
    widths = [{row.name: row.output.c for row in a.rows} for a in (plain, with_floor)]
    # 16·0.35 = 5.6 and 24·0.35 = 8.4 round to 8, floored to 16: the first two bottlenecks' outputs double
    names = ("bneck1/project", "bneck2/1/expand", "bneck2/2/project")
    changed = ("bneck1", "bneck2", "bneck3/1/expand", "bneck3/1/dw")  # and nothing else
    assert [widths[0][n] for n in names] == [8, 48, 8] and [widths[1][n] for n in names] == [16, 96, 16]
    assert {n: c for n, c in widths[0].items() if not n.startswith(changed)} \
        == {n: c for n, c in widths[1].items() if not n.startswith(changed)}
    # the erratum's figures for this count: 236.4M Mult-Adds and 0.94M parameters; the config's 0.313 B, 1.54M at 0.5
    assert (round(with_floor.macs / 10**6, 1), round(with_floor.params / 10**6, 2)) == (236.4, 0.94)
    at_half = mobcost.analyze(net.model_copy(update={"layers": layers}), alpha=0.5)
    assert (round(at_half.macs / 10**9, 3), round(at_half.params / 10**6, 2)) == (0.313, 1.54)


# ---- MnasNet-A1 (MobileNetV3 Table 6's MnasNet rows) -------------------------------------------------------------

def test_mnasnet_backbone_repeats_mnasnet_a1():
    # at α = 1 the scaled last conv is the classifier's 1280-wide head; drop the classifier's pool and FC
    a, classifier = mobcost.analyze("ssdlite_mnasnet_a1"), mobcost.analyze("mnasnet_a1", resolution=320)
    rows = [r for r in a.rows if r.part == "backbone"]
    assert [(r.output, r.macs, r.params) for r in rows] == [(r.output, r.macs, r.params) for r in classifier.rows[:-2]]


@pytest.mark.parametrize("alpha, c4, c5, macs", [("1", 672, 1280, "0.84"), ("0.5", 336, 640, "0.29"),
                                                  ("0.35", 240, 448, "0.18")],
                         ids=["MobileNetV3 Table 6: MnasNet", "MobileNetV3 Table 6: MnasNet 0.5",
                              "MobileNetV3 Table 6: MnasNet 0.35"])
def test_mnasnet_extras_and_predictors_by_hand(alpha, c4, c5, macs):
    # c4: 6 × make_divisible(112·α, 8) (112, 56, 40); c5: make_divisible(1280·α, 8)
    a = mobcost.analyze(f"ssdlite_mnasnet_a1@{alpha}")
    extras_macs, extras_params, extra_maps = _extras_by_hand(c5, 10, _depth_fn(alpha))
    heads = _predictors_by_hand([(20, c4), (10, c5)] + extra_maps, [3, 6, 6, 6, 6, 6], 91)
    parts = {part: (sum(r.macs for r in a.rows if r.part == part), sum(r.params for r in a.rows if r.part == part))
             for part in ("extras", "heads")}
    assert parts == {"extras": (extras_macs, extras_params), "heads": heads}
    assert f"{a.macs / 1e9:.2f}" == macs
