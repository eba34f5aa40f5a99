"""The kinds of the modern mobile families (issue 19) against hand arithmetic, and their bad fields refused where they
are written. Each convention's count of them is held to its tool by tests/test_verify.py (`modern_kinds` in zoo.py)."""

import pytest

import mobcost
from mobcost.conventions import CONVENTIONS, counted, totals
from mobcost.errors import SpecError
from mobcost.language import parse_spec
from mobcost.layers import (Affine, Attend, GroupNorm, LayerNorm, Linear, Pad, Scaling, Shape, ShapeError, Slice)


def _rows(layers: str, resolution: int = 8, channels: int = 16, alpha: float = 1.0, rounding: str = "int"):
    spec = (f"name: t\ntitle: T\ninput: {{resolution: {resolution}, channels: {channels}}}\nclasses: 10\n"
            f"width_rounding: {rounding}\nlayers:\n{layers}")
    return mobcost.analyze(parse_spec(spec), alpha=alpha).rows


def test_norms_have_two_parameters_per_channel_and_no_mult_adds():
    x = Shape(7, 5, 12)
    for norm in (LayerNorm(), GroupNorm(groups=3)):
        assert (norm.output_shape(x), norm.macs(x), norm.params(x)) == (x, 0, 2 * 12)
    assert LayerNorm(affine=False).params(x) == 0


def test_affine_counts_a_parameter_per_channel_per_term():
    x = Shape(7, 5, 12)
    assert Affine().params(x) == 2 * 12 and Affine(shift=False).params(x) == 12  # timm's layer scale: γ only
    assert Affine().macs(x) == 0


def test_pad_grows_the_map_by_its_pixels():
    assert Pad(pads=[1, 2, 3, 4]).output_shape(Shape(10, 10, 8)) == Shape(10 + 1 + 3, 10 + 2 + 4, 8)


def test_linear_is_a_matmul_at_every_position():
    x = Shape(14, 14, 96)
    assert Linear(out=192, bias=True).macs(x) == 96 * 192 * 14 * 14  # C_in·C_out·H·W
    assert Linear(out=192, bias=True).params(x) == 96 * 192 + 192


def test_non_square_kernels_and_strides():
    """Inception's 1×7 and 7×1 convs; a [2, 1] stride halves the height only."""
    rows = _rows("  - {kind: conv, kernel: [1, 7], out: 16}\n"
                 "  - {kind: conv, kernel: [7, 1], stride: [2, 1], padding: valid, out: 16}\n"
                 "  - {kind: dw, kernel: [3, 5], stride: [1, 2]}", 17, 8)
    assert rows[0].macs == 1 * 7 * 8 * 16 * 17 * 17 and rows[0].params == 1 * 7 * 8 * 16
    assert rows[1].output == Shape((17 - 7) // 2 + 1, 17, 16) and rows[1].macs == 7 * 1 * 16 * 16 * 6 * 17
    assert rows[2].output == Shape(6, 9, 16) and rows[2].macs == 3 * 5 * 16 * 6 * 9
    assert (rows[1].type, rows[2].filter) == ("Conv / s2×1", "3×5×16 dw")


def test_slice_keeps_a_channel_range():
    assert Slice(start=4, stop=20).output_shape(Shape(3, 3, 32)) == Shape(3, 3, 16)
    assert Slice(start=8).output_shape(Shape(3, 3, 32)) == Shape(3, 3, 24)
    with pytest.raises(ShapeError):
        Slice(stop=40).output_shape(Shape(3, 3, 32))


def test_multi_query_attention_with_key_value_downsampling():
    """MobileNetV4-Hybrid-M's Mobile MQA at 16×16×160: 4 query heads of 64, one key and one value head of 64 from
    a 3×3 stride-2 depthwise conv (8×8 keys): Q·Kᵀ and A·V are 4·256·64·64 Mult-Adds each."""
    rows = {r.name.split("/")[-1]: r for r in _rows(
        "  - {kind: attention, heads: 4, key_dim: 64, multi_query: true, kv_stride: 2, out: 160}", 16, 160)}
    assert rows["query"].macs == 160 * 256 * 16 * 16
    assert rows["key_down"].macs == 3 * 3 * 160 * 8 * 8 and rows["key_down"].bn == 160
    assert rows["key"].macs == 160 * 64 * 8 * 8 and rows["value"].macs == 160 * 64 * 8 * 8
    assert rows["attend"].macs == 4 * (16 * 16) * (8 * 8) * (64 + 64)
    assert rows["output"].macs == 256 * 160 * 16 * 16
    assert sum(r.params for r in rows.values()) == (160 * 256 + 2 * (3 * 3 * 160 + 160 * 64) + 256 * 160)


def test_attention_in_patches_attends_within_each_offset():
    """MobileViT at 32×32 in 2×2 patches: 4 sequences of 256 tokens, not one of 1024: 4·h·256·256·(d_k + d_v)."""
    attend = Attend(from_=["q", "k", "v"], heads=4, key_dim=24, value_dim=24, patch=(2, 2))
    x = Shape(32, 32, 96)
    attend = attend.joined([("q", x), ("k", x), ("v", x)])
    assert attend.macs(x) == 4 * 4 * 256 * 256 * (24 + 24)
    whole = Attend(from_=["q", "k", "v"], heads=4, key_dim=24, value_dim=24).joined([("q", x), ("k", x), ("v", x)])
    assert whole.macs(x) == 4 * 1024 * 1024 * (24 + 24)


def test_fused_qkv_is_one_linear_layer_sliced():
    rows = _rows("  - {kind: attention, heads: 4, key_dim: 24, out: 96, proj: linear, qkv: fused, bias: true}", 4, 96)
    assert [r.name for r in rows] == ["attention1/" + n for n in ("qkv", "query", "key", "value", "attend", "output")]
    assert rows[0].params == 96 * 3 * 96 + 3 * 96 and rows[0].output.c == 288
    assert [(r.layer.start, r.layer.stop) for r in rows[1:4]] == [(0, 96), (96, 192), (192, None)]


@pytest.mark.parametrize(("alpha", "rounding", "mid", "init"), [
    (1.0, "{divisor: 4}", 72, 36), (0.5, "{divisor: 4}", 36, 18), (1.3, "{divisor: 4}", 92, 46),
    (0.35, "{divisor: 4}", 24, 12), (1.3, "int", 93, 47)])
def test_ghost_module_halves_follow_alpha(alpha, rounding, mid, init):
    """timm's GhostModule: init = ceil(out / 2) from a 1×1 conv, as many from a 3×3 depthwise conv, sliced to out;
    GhostNet's widths are make_divisible(72·α, 4) (92 at 1.3); with int(α·c), 93 splits as 47 + 47, sliced to 93."""
    rows = _rows("  - {kind: ghost, out: 72, act: relu}", 8, 16, alpha, rounding)
    assert [r.output.c for r in rows] == [init, init, 2 * init, mid]
    assert rows[0].macs == 16 * init * 8 * 8 and rows[1].macs == 3 * 3 * init * 8 * 8


def test_ghost_module_with_an_odd_width_slices_its_extra_channel():
    rows = _rows("  - {kind: ghost, out: 15, ratio: 3}", 8, 16)
    assert [r.output.c for r in rows] == [5, 10, 15, 15]  # init ⌈15/3⌉ = 5, a grouped conv making 5·2 more
    assert rows[1].macs == 3 * 3 * 1 * 10 * 8 * 8 and rows[1].layer.groups == 5


def test_uib_extra_dw_with_layer_scale():
    """ExtraDW at 14×14×80 → 80, t = 4: start 3×3 dw, 1×1 to 320, 5×5 dw, 1×1 back, layer scale γ, the add."""
    rows = _rows("  - {kind: uib, start_dw: 3, mid_dw: 5, t: 4, out: 80, layer_scale: true}", 14, 80)
    assert [r.name.split("/")[-1] for r in rows] == ["start_dw", "expand", "mid_dw", "project", "layer_scale", "add"]
    assert sum(r.macs for r in rows) == (3 * 3 * 80 + 80 * 320 + 5 * 5 * 320 + 320 * 80) * 14 * 14
    assert sum(r.params for r in rows) == 3 * 3 * 80 + 80 * 320 + 5 * 5 * 320 + 320 * 80 + 80
    assert sum(r.bn for r in rows) == 80 + 320 + 320 + 80


def test_uib_stride_goes_to_the_middle_dw_else_the_start_dw():
    extra = _rows("  - {kind: uib, start_dw: 3, mid_dw: 5, stride: 2, t: 2, out: 24}", 16, 16)
    assert [(r.name.split("/")[-1], r.stride) for r in extra] == [("start_dw", 1), ("expand", 1), ("mid_dw", 2),
                                                                 ("project", 1)]
    convnext = _rows("  - {kind: uib, start_dw: 3, mid_dw: null, stride: 2, t: 2, out: 24}", 16, 16)
    assert convnext[0].stride == 2 and convnext[-1].output == Shape(8, 8, 24)
    ffn = _rows("  - {kind: uib, start_dw: null, mid_dw: null, t: 2, out: 16}", 16, 16)
    assert [r.kind for r in ffn] == ["pw", "pw", "add"]


def test_se_inside_separable_squeezes_the_depthwise_output():
    """PP-LCNet's last blocks at 7×7×512: depthwise, SE 512 → 128 → 512 with biases, pointwise."""
    rows = _rows("  - {kind: separable, kernel: 5, out: 512, bn: true, act: hswish, se: true}", 7, 512)
    assert [r.name.split("/", 1)[1] for r in rows] == ["dw", "se/pool", "se/reduce", "se/expand", "se/scale", "pw"]
    assert sum(r.params for r in rows) == 5 * 5 * 512 + (512 * 128 + 128) + (128 * 512 + 512) + 512 * 512


def test_batchnorm_of_its_own_counts_as_a_layers_batch_norm():
    (row,) = _rows("  - {kind: batchnorm, act: relu}")
    assert (row.macs, row.params, row.bn, row.params_counted("torch")) == (0, 0, 16, 2 * 16)
    assert counted(mobcost.analyze(parse_spec(
        "name: t\ntitle: T\ninput: {resolution: 8, channels: 16}\nlayers: [{kind: batchnorm}]")), "fvcore").macs == \
        2 * 8 * 8 * 16  # fvcore's batch norm: 2 per element, as after a conv


def test_conventions_of_the_new_kinds():
    """Each tool's count, as measured on the module verify builds (nn.LayerNorm on tokens, nn.GroupNorm, `x * γ + β`,
    two `@` products): tests/test_verify.py holds the totals to the tools themselves."""
    layers = ("  - {kind: layernorm}\n  - {kind: groupnorm, groups: 4}\n  - {kind: affine}\n"
              "  - {kind: attention, heads: 2, key_dim: 8, out: 16}\n")
    a = mobcost.analyze(parse_spec(f"name: t\ntitle: T\ninput: {{resolution: 4, channels: 16}}\nlayers:\n{layers}"))
    n = 4 * 4 * 16
    attend = 2 * 16 * 16 * (8 + 8)
    projections = 4 * 16 * 16 * 4 * 4
    by = {name: [r.macs for r in counted(a, name).rows] for name in CONVENTIONS}
    assert by["paper"] == by["torch"] == [0, 0, 0, projections // 4, projections // 4, projections // 4, attend,
                                          projections // 4]
    assert by["fvcore"][:3] == [5 * n, 5 * n, 0] and by["fvcore"][6] == attend
    assert by["ptflops"][:3] == [n, 2 * n, 0] and by["ptflops"][6] == 0
    assert by["thop"][:3] == [4 * n, 0, 0] and by["thop"][6] == 0
    assert totals(a, "thop")[1] == totals(a, "torch")[1] - 2 * 16 - 2 * 16  # thop: no group norm, affine weights


@pytest.mark.parametrize(("layer", "field", "words"), [
    ("{kind: groupnorm, groups: 5}", "groups", "5 groups must divide the input's 16 channels"),
    ("{kind: slice, start: 8, stop: 40}", "stop", "channels 8 to 40 do not exist"),
    ("{kind: slice, start: 8, stop: 8}", "start", "is empty"),
    ("{kind: pad, pads: [1, 2, 3]}", "pads", "at least 4 items"),
    ("{kind: affine, scale: false, shift: false}", None, "scale, a shift or both"),
    ("{kind: attention, heads: 2, key_dim: 8, out: 16, patch: [3, 3]}", "patch", "3×3 patch must divide"),
    ("{kind: attention, heads: 2, key_dim: 8, out: 16, qkv: fused}", "qkv", "one linear layer"),
    ("{kind: uib, start_dw: null, mid_dw: null, stride: 2, out: 16}", None, "needs a depthwise conv"),
    ("{kind: attend, from: [a, b, c], heads: 2, key_dim: 8, value_dim: 8}", "from", "no earlier tensor"),
])
def test_bad_fields_are_refused_where_they_are_written(layer, field, words):
    with pytest.raises(SpecError) as e:
        _rows(f"  - {{kind: pw, out: 16}}\n  - {layer}")
    message = str(e.value)
    assert "line 8" in message
    if field:
        assert f"field '{field}'" in message
    if words:
        assert words in message


def test_scaling_keeps_attention_heads():
    """α scales the attention's output, never its heads or head widths (MobileViT's and MQA's are fixed)."""
    layer = parse_spec("name: t\ntitle: T\ninput: {resolution: 4}\nlayers:\n"
                       "  - {kind: attention, heads: 4, key_dim: 24, out: 96}").layers[0]
    resolved = layer.resolve(Scaling(alpha=0.5, classes=10, divisor=8))
    assert (resolved.out, resolved.heads, resolved.key_dim) == (48, 4, 24)
