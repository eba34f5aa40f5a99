"""The comparison networks' layer kinds: grouped conv, max pooling, concatenated branches, residual blocks, and the
cost-free LRN, dropout and flatten. Expected values are the formulas' arithmetic, written out."""

import pytest

from mobcost import parse_spec, trace
from mobcost.check import check
from mobcost.layers import Add, AvgPool, Conv, Dropout, Flatten, LocalResponseNorm, MaxPool, Shape, ShapeError
from mobcost.language import SpecError


def spec(layers: str, resolution: int = 28, channels: int = 192, extra: str = "") -> str:
    return f"name: t\ntitle: T\ninput: {{resolution: {resolution}, channels: {channels}}}\nlayers:\n{layers}{extra}"


# ---- grouped convolution ------------------------------------------------------------------------------------

def test_grouped_conv_macs_and_params():
    conv = Conv(kernel=5, padding=2, groups=2, out=256, bias=True)  # AlexNet 2012 conv2
    x = Shape(27, 27, 96)
    assert conv.output_shape(x) == Shape(27, 27, 256)
    assert conv.macs(x) == 5 * 5 * (96 // 2) * 256 * 27 * 27
    assert conv.params(x) == 5 * 5 * (96 // 2) * 256 + 256
    assert conv.filter_shape(x) == "5×5×48×256 in 2 groups"


def test_one_group_is_the_standard_conv():
    x = Shape(13, 13, 192)
    assert Conv(kernel=3, padding=1, groups=1, out=384).macs(x) == 3 * 3 * 192 * 384 * 13 * 13


def test_depthwise_is_the_grouped_conv_with_one_group_per_channel():
    x = Shape(14, 14, 512)
    assert Conv(kernel=3, groups=512, out=512).macs(x) == 3 * 3 * 1 * 512 * 14 * 14


@pytest.mark.parametrize("channels, out", [(90, 256), (96, 250)])
def test_groups_must_divide_input_and_output_channels(channels, out):
    with pytest.raises(ShapeError) as e:
        Conv(kernel=3, groups=4, out=out).output_shape(Shape(8, 8, channels))
    assert e.value.field == "groups"


def test_group_mismatch_in_a_spec_names_file_line_layer_and_field():
    text = spec("  - {kind: conv, kernel: 3, out: 64}\n  - {name: towers, kind: conv, kernel: 3, groups: 3, out: 96}\n")
    with pytest.raises(SpecError) as e:
        trace(parse_spec(text, "towers.yaml"))
    message = str(e.value)
    assert message.startswith("towers.yaml, line 6")
    assert "layers[1] ('towers')" in message and "field 'groups'" in message and "input 28×28×64" in message


# ---- max pooling: floor or ceil, declared ---------------------------------------------------------------------

@pytest.mark.parametrize("n, kernel, stride, padding, ceil_mode, expected", [
    (112, 3, 2, 0, False, (112 - 3) // 2 + 1),           # 55
    (112, 3, 2, 0, True, -(-(112 - 3) // 2) + 1),         # 56: GoogLeNet's maxpool1
    (54, 3, 2, 0, False, (54 - 3) // 2 + 1),             # 26
    (54, 3, 2, 0, True, -(-(54 - 3) // 2) + 1),           # 27: AlexNet at 224 in Caffe
    (55, 3, 2, 0, True, (55 - 3) // 2 + 1),              # 27: exact division, the modes agree
    (112, 3, 2, 1, False, (112 + 2 - 3) // 2 + 1),       # 56: ResNet's stem pool
    (28, 3, 1, 1, True, 28),                             # an Inception module's pool branch keeps the size
    # ceil gives ⌈(5 + 2 − 2) / 2⌉ + 1 = 4, but the 4th window would start at 6 = n + p, in the right padding:
    (5, 2, 2, 1, True, 3),
])
def test_maxpool_output_size(n, kernel, stride, padding, ceil_mode, expected):
    pool = MaxPool(kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
    assert pool.output_shape(Shape(n, n, 64)) == Shape(expected, expected, 64)
    assert pool.macs(Shape(n, n, 64)) == 0 and pool.params(Shape(n, n, 64)) == 0


def test_avgpool_takes_the_same_rounding_option():
    assert AvgPool(kernel=3, stride=2, ceil_mode=True).output_shape(Shape(112, 112, 8)) == Shape(56, 56, 8)
    assert AvgPool(kernel=3, stride=2).output_shape(Shape(112, 112, 8)) == Shape(55, 55, 8)


def test_maxpool_rounding_must_be_declared():
    with pytest.raises(SpecError) as e:
        parse_spec(spec("  - {kind: maxpool, kernel: 3, stride: 2}\n"), "pool.yaml")
    assert "field 'ceil_mode': is required but missing" in str(e.value)


def test_pool_larger_than_its_input_is_a_shape_error():
    with pytest.raises(ShapeError):
        MaxPool(kernel=3, stride=2, ceil_mode=True).output_shape(Shape(2, 2, 8))


# ---- no-cost layers ---------------------------------------------------------------------------------------------

def test_flatten_dropout_lrn():
    x = Shape(6, 6, 256)
    assert Flatten().output_shape(x) == Shape(1, 1, 6 * 6 * 256)
    for layer in (Flatten(), Dropout(p=0.5), LocalResponseNorm(size=5, k=2), Add(from_=["a", "b"])):
        assert layer.macs(x) == 0 and layer.params(x) == 0
    for layer in (Dropout(), LocalResponseNorm(), Add(from_=["a", "b"])):
        assert layer.output_shape(x) == x


def test_dropout_rate_is_validated():
    with pytest.raises(SpecError) as e:
        parse_spec(spec("  - {kind: dropout, p: 1.5}\n"))
    assert "field 'p'" in str(e.value)


# ---- concatenation of branches (GoogLeNet inception3a) ------------------------------------------------------

INCEPTION_3A = """\
  - name: inception3a
    kind: concat
    branches:
      - [{kind: conv, kernel: 1, out: 64}]
      - [{kind: conv, kernel: 1, out: 96}, {kind: conv, kernel: 3, padding: 1, out: 128}]
      - [{kind: conv, kernel: 1, out: 16}, {kind: conv, kernel: 5, padding: 2, out: 32}]
      - [{kind: maxpool, kernel: 3, stride: 1, padding: 1, ceil_mode: true}, {kind: conv, kernel: 1, out: 32}]
"""


def test_inception_module_shapes_names_and_cost():
    analysis = trace(parse_spec(spec(INCEPTION_3A)))
    rows = {row.name: row for row in analysis.rows}
    assert list(rows) == ["inception3a/b1/conv1", "inception3a/b2/conv1", "inception3a/b2/conv2",
                          "inception3a/b3/conv1", "inception3a/b3/conv2", "inception3a/b4/maxpool1",
                          "inception3a/b4/conv1", "inception3a/concat"]
    assert all(row.input == Shape(28, 28, 192) for name, row in rows.items() if name.endswith("/conv1")
               and "/b4/" not in name)
    assert rows["inception3a/b2/conv2"].input == Shape(28, 28, 96)
    concat = rows["inception3a/concat"]
    assert concat.kind == "concat" and concat.macs == 0 and concat.params == 0
    assert concat.output == Shape(28, 28, 64 + 128 + 32 + 32)
    assert concat.filter == "64 + 128 + 32 + 32"
    hw = 28 * 28
    assert analysis.macs == (192 * 64 * hw + 192 * 96 * hw + 3 * 3 * 96 * 128 * hw
                             + 192 * 16 * hw + 5 * 5 * 16 * 32 * hw + 192 * 32 * hw)
    assert analysis.params == 192 * 64 + 192 * 96 + 3 * 3 * 96 * 128 + 192 * 16 + 5 * 5 * 16 * 32 + 192 * 32
    assert {row.block for row in analysis.rows} == {"inception3a"}


def test_branches_count_unnamed_layers_afresh_and_keep_given_names():
    text = spec("  - {kind: conv, kernel: 1, out: 16}\n"
                "  - kind: concat\n    branches:\n"
                "      - [{name: expand1x1, kind: conv, kernel: 1, out: 64}]\n"
                "      - [{name: expand3x3, kind: conv, kernel: 3, padding: 1, out: 64}]\n"
                "  - {kind: conv, kernel: 1, out: 8}\n")
    names = [row.name for row in trace(parse_spec(text)).rows]
    assert names == ["conv1", "concat1/b1/expand1x1", "concat1/b2/expand3x3", "concat1/concat", "conv2"]


def test_an_empty_branch_passes_its_input_through():
    text = spec("  - kind: concat\n    branches: [[], [{kind: conv, kernel: 3, out: 32}]]\n")
    assert trace(parse_spec(text)).rows[-1].output == Shape(28, 28, 192 + 32)


def test_branches_of_different_sizes_cannot_be_concatenated():
    text = spec("  - name: mixed\n    kind: concat\n    branches:\n"
                "      - [{kind: conv, kernel: 3, stride: 2, out: 32}]\n"
                "      - [{kind: conv, kernel: 1, out: 32}]\n")
    with pytest.raises(SpecError) as e:
        trace(parse_spec(text, "mixed.yaml"))
    message = str(e.value)
    assert "mixed.yaml, line 5" in message and "('mixed')" in message and "field 'branches'" in message
    assert "14×14×32, 28×28×32" in message


def test_an_error_inside_a_branch_names_its_place():
    text = spec("  - kind: concat\n    branches:\n      - [{kind: conv, kernel: 1, out: 8}]\n"
                "      - [{kind: conv, kernel: 1, out: 8}, {name: bad, kind: conv, kernal: 3, out: 8}]\n")
    with pytest.raises(SpecError) as e:
        parse_spec(text, "branch.yaml")
    message = str(e.value)
    assert "branch.yaml, line 8" in message
    assert "layer layers[0].branches[1][1] ('bad')" in message and "field 'kernal'" in message


# ---- residual blocks (ResNet) ---------------------------------------------------------------------------------

BOTTLENECK = """\
  - name: layer1.0
    kind: residual
    layers:
      - {kind: conv, kernel: 1, out: 64, bn: true, act: relu}
      - {kind: conv, kernel: 3, padding: 1, out: 64, bn: true, act: relu}
      - {kind: conv, kernel: 1, out: 256, bn: true}
"""


def test_identity_residual_adds_a_zero_cost_row_of_the_body_shape():
    analysis = trace(parse_spec(spec(BOTTLENECK, resolution=56, channels=256)))
    names = [row.name for row in analysis.rows]
    assert names == ["layer1.0/conv1", "layer1.0/conv2", "layer1.0/conv3", "layer1.0/add"]
    add = analysis.rows[-1]
    assert add.kind == "add" and add.macs == 0 and add.params == 0
    assert add.input == add.output == Shape(56, 56, 256)  # H·W·C element-wise additions for later conventions
    hw = 56 * 56
    assert analysis.macs == 256 * 64 * hw + 3 * 3 * 64 * 64 * hw + 64 * 256 * hw
    assert analysis.params_counted("torch") == 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256 + 2 * (64 + 64 + 256)


def test_projection_shortcut_is_traced_from_the_block_input():
    text = spec(BOTTLENECK + "    shortcut:\n      - {kind: conv, kernel: 1, out: 256, bn: true}\n",
                resolution=56, channels=64)
    analysis = trace(parse_spec(text))
    shortcut = next(row for row in analysis.rows if row.name == "layer1.0/shortcut/conv1")
    assert shortcut.input == Shape(56, 56, 64) and shortcut.macs == 64 * 256 * 56 * 56
    assert analysis.rows[-1].name == "layer1.0/add"


def test_a_body_that_changes_the_shape_needs_a_projection():
    with pytest.raises(SpecError) as e:
        trace(parse_spec(spec(BOTTLENECK, resolution=56, channels=64), "res.yaml"))
    message = str(e.value)
    assert "res.yaml, line 5" in message and "('layer1.0')" in message and "field 'shortcut'" in message
    assert "56×56×256" in message and "56×56×64" in message


def test_repeated_residual_blocks_are_numbered_as_torchvision_names_them():
    text = spec("  - repeat: 2\n    layers:\n      - name: layer1\n        kind: residual\n        layers:\n"
                "          - {kind: conv, kernel: 3, out: 256}\n", resolution=56, channels=256)
    adds = [row.name for row in trace(parse_spec(text)).rows if row.kind == "add"]
    assert adds == ["layer1.1/add", "layer1.2/add"]


# ---- parameter counting in references -------------------------------------------------------------------------

def test_reference_counts_parameters_as_declared():
    # one 3×3×3×8 conv with batch norm: 216 weights, plus γ and β for 8 channels in PyTorch's count
    refs = ("reference:\n"
            "  - {source: weights, label: w, params: \"0.000216\"}\n"
            "  - {source: torch, label: t, params: \"0.000232\", counting: torch}\n"
            "  - {source: keras, label: k, params: \"0.000248\", counting: keras}\n")
    network = parse_spec(spec("  - {kind: conv, kernel: 3, out: 8, bn: true}\n", 8, 3, refs))
    assert [r.status for r in check(network)] == ["ok", "ok", "ok"]
    assert 3 * 3 * 3 * 8 == 216 and 216 + 2 * 8 == 232 and 216 + 4 * 8 == 248


def test_full_conv_variant_reaches_into_branches_and_residual_blocks():
    net = parse_spec("""\
name: nested
title: Nested
input: {resolution: 8, channels: 4}
layers:
  - kind: residual
    layers: [{kind: separable, out: 4}]
  - kind: concat
    branches:
      - [{kind: separable, out: 2}]
      - [{kind: pw, out: 2}]
variants:
  conv: {title: Conv Nested, full_conv: true}
""")
    full = trace(net.variant("conv"))
    assert [row.kind for row in full.rows] == ["conv", "add", "conv", "pw", "concat"]
    # each separable becomes one 3×3 conv: 3·3·4·4·8·8 in the residual body, 3·3·4·2·8·8 in the first branch
    assert full.macs == 3 * 3 * 4 * 4 * 8 * 8 + 3 * 3 * 4 * 2 * 8 * 8 + 4 * 2 * 8 * 8
