"""Inverted-residual bottleneck, squeeze-and-excite, residual add: shapes and formulas against hand arithmetic."""

from fractions import Fraction

import pytest

import mobcost
from mobcost.layers import Add, Bottleneck, Scale, Shape, SqueezeExcite
from mobcost.language import SpecError, parse_spec


def cost(layers, x: Shape) -> tuple[int, int, Shape]:
    macs = params = 0
    for layer in layers:
        macs, params, x = macs + layer.macs(x), params + layer.params(x), layer.output_shape(x)
    return macs, params, x


def test_block_cost_is_the_v2_paper_identity():
    # MobileNetV2 §5.1: h·w·d'·t·(d' + k² + d'') for a stride-1 block, d' = 64, t = 6, k = 3, d'' = 96, 14×14
    macs, params, y = cost(Bottleneck(t=6, out=96).parts(Shape(14, 14, 64)), Shape(14, 14, 64))
    assert macs == 14 * 14 * 64 * 6 * (64 + 3 * 3 + 96)
    assert params == 64 * 384 + 3 * 3 * 384 + 384 * 96
    assert y == Shape(14, 14, 96)


def test_strided_block_runs_the_depthwise_and_projection_at_the_output_resolution():
    macs, _, y = cost(Bottleneck(t=6, out=24, stride=2).parts(Shape(112, 112, 16)), Shape(112, 112, 16))
    assert macs == 112 * 112 * 16 * 96 + 56 * 56 * 96 * 3 * 3 + 56 * 56 * 96 * 24
    assert y == Shape(56, 56, 24)


def test_expansion_factor_one_has_no_expansion_conv():
    parts = Bottleneck(t=1, out=16).parts(Shape(112, 112, 32))
    assert [p.kind for p in parts] == ["dw", "pw"]
    assert cost(parts, Shape(112, 112, 32))[0] == 112 * 112 * 32 * 9 + 112 * 112 * 32 * 16


@pytest.mark.parametrize("x, block, has_add", [
    (Shape(56, 56, 24), Bottleneck(t=6, out=24), True),
    (Shape(56, 56, 24), Bottleneck(t=6, out=24, stride=2), False),
    (Shape(56, 56, 24), Bottleneck(t=6, out=32), False),
    (Shape(56, 56, 24), Bottleneck(t=6, out=24, residual=False), False),
])
def test_residual_add_only_when_input_and_output_shapes_match(x, block, has_add):
    parts = block.parts(x)
    assert (parts[-1].kind == "add") is has_add


def test_residual_add_is_an_element_wise_row_with_no_mult_adds():
    add = Bottleneck(t=6, out=24).parts(Shape(56, 56, 24))[-1]
    assert add == Add(name="add", from_=["project", "input"])  # the projection and the block's input
    x = Shape(56, 56, 24)
    assert (add.macs(x), add.params(x), add.elementwise(x), add.output_shape(x)) == (0, 0, 56 * 56 * 24, x)


def test_repeats_stride_only_first_and_add_the_rest():
    parts = Bottleneck(t=6, out=24, n=2, stride=2).parts(Shape(112, 112, 16))
    assert [p.name for p in parts] == ["1/expand", "1/dw", "1/project", "2/expand", "2/dw", "2/project", "2/add"]
    assert (parts[1].stride, parts[4].stride) == (2, 1)
    assert parts[3].out == 24 * 6


@pytest.mark.parametrize("divisor, expected", [(8, 56), (None, 55)])
def test_expansion_width_rounding(divisor, expected):
    # 24·2.3 = 55.2: TF-slim make_divisible(55.2, 8) = 56; torchvision int(round(55.2)) = 55
    block = Bottleneck(t="184/80", out=24, divisor=divisor)
    assert block.t == Fraction(23, 10)
    assert block.expansion_width(24) == expected


def test_expansion_ratio_must_be_positive():
    with pytest.raises(SpecError) as e:
        parse_spec("name: x\ntitle: X\ninput: {resolution: 32}\nlayers:\n  - {kind: bottleneck, t: 0, out: 8}\n")
    assert "field 't'" in str(e.value) and "line 5" in str(e.value)


@pytest.mark.parametrize("c, squeeze", [(16, 8), (72, 24), (120, 32), (144, 40), (960, 240)])
def test_squeeze_width_is_make_divisible_of_a_quarter(c, squeeze):
    # TF-slim squeeze_excite: _make_divisible(c / 4, 8); 72/4 = 18 rounds to 16, below 90% of 18, so 24
    assert SqueezeExcite().squeeze(c) == squeeze


def test_squeeze_excite_costs_its_two_biased_1x1_convs():
    x = Shape(28, 28, 72)
    parts = SqueezeExcite().parts(x)
    assert [p.kind for p in parts] == ["avgpool", "pw", "pw", "scale"]
    macs, params, gate = cost(parts[:3], x)
    assert macs == 72 * 24 + 24 * 72
    assert params == 72 * 24 + 24 + 24 * 72 + 72
    assert gate == Shape(1, 1, 72)
    assert (parts[1].act, parts[2].act) == ("relu", "hsigmoid")
    assert parts[3] == Scale(name="scale", from_=["expand", "input"])  # the gate times the SE's input
    assert parts[3].combine([("expand", gate), ("input", x)]) == x
    assert parts[3].elementwise(x) == 28 * 28 * 72


def test_squeeze_excite_sits_between_depthwise_and_projection():
    names = [p.name for p in Bottleneck(t=3, out=40, kernel=5, stride=2, se=True).parts(Shape(56, 56, 24))]
    assert names == ["expand", "dw", "se/pool", "se/reduce", "se/expand", "se/scale", "project"]


def _net(layers: str) -> str:
    return f"name: x\ntitle: X\ninput: {{resolution: 32}}\nwidth_rounding: {{divisor: 8}}\nlayers:\n{layers}"


def test_width_multiplier_reaches_a_block_once():
    net = parse_spec(_net("  - {kind: conv, out: 32}\n  - {kind: bottleneck, t: 6, out: 64}\n"))
    rows = mobcost.trace(net, alpha=0.5).rows
    assert [r.output.c for r in rows] == [16, 96, 96, 32]  # 0.5·32, 16·6, 16·6, 0.5·64


def test_separable_blocks_still_scale_once():
    assert (lambda a: (a.macs, a.params))(mobcost.analyze("v1", alpha=0.5, resolution=160)) == (76524800, 1319648)


def test_variant_sets_a_named_layer_field():
    net = mobcost.load_model("v3_small:paper_head")[0]
    assert next(layer for layer in net.layers if layer.name == "head").out == 1280


@pytest.mark.parametrize("edit, message", [("{nope: {out: 8}}", "no top-level layer is named 'nope'"),
                                           ("{head: {out: -1}}", "head.out")])
def test_variant_set_errors_name_the_place(edit, message):
    text = _net("  - {name: head, kind: pw, out: 8}\n") + f"variants:\n  v: {{title: V, set: {edit}}}\n"
    with pytest.raises(SpecError) as e:
        parse_spec(text).variant("v")
    assert message in str(e.value)
