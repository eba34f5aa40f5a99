"""The graph language: `from:`, `outputs`, `add`, `concat` and `scale` over named tensors, non-square inputs, `part`."""

import pytest

import mobcost
from mobcost.language import SpecError, parse_spec
from mobcost.trace import sweep

HEAD = "name: g\ntitle: G\ninput: {resolution: 8, channels: 3}\n"


def net(layers: str, head: str = HEAD, **scale) -> mobcost.Analysis:
    return mobcost.trace(parse_spec(head + "layers:\n" + layers), **scale)


def error(layers: str, head: str = HEAD) -> str:
    with pytest.raises(SpecError) as e:
        net(layers, head)
    return str(e.value)


TWO_HEADS = """\
  - {kind: conv, name: stem, out: 8, stride: 2}
  - {kind: pw, name: a, out: 4}
  - {kind: pw, name: b, from: stem, out: 4}
  - {kind: add, name: sum, from: [a, b], act: relu}
  - {kind: concat, name: cat, from: [stem, a, sum]}
"""


def test_from_reads_an_earlier_tensor_by_name():
    a = net(TWO_HEADS)
    rows = {row.name: row for row in a.rows}
    assert rows["b"].reads == ("stem",) and rows["b"].input.c == 8
    assert rows["b"].macs == 8 * 4 * 4 * 4  # M·N·D_F·D_F on stem's 4×4×8 output, not a's 4×4×4
    assert rows["a"].reads == ("stem",)


def test_add_reads_a_list_and_keeps_the_shape():
    add = {row.name: row for row in net(TWO_HEADS).rows}["sum"]
    assert add.reads == ("a", "b")
    assert (add.input.h, add.input.w, add.input.c) == (4, 4, 4) and add.output == add.input
    assert (add.macs, add.params, add.layer.elementwise(add.input)) == (0, 0, 4 * 4 * 4)
    assert add.layer.act == "relu"


def test_concat_stacks_channels_of_named_tensors():
    cat = {row.name: row for row in net(TWO_HEADS).rows}["cat"]
    assert cat.reads == ("stem", "a", "sum")
    assert (cat.output.h, cat.output.w, cat.output.c) == (4, 4, 8 + 4 + 4)
    assert cat.filter == "8 + 4 + 4"


def test_sources_index_the_values_each_row_reads():
    a = net(TWO_HEADS)
    assert a.sources() == [(0,), (1,), (1,), (2, 3), (1, 2, 4)]


def test_outputs_name_several_tensors():
    a = net(TWO_HEADS, HEAD + "outputs: [a, cat]\n")
    assert a.returned == ("a", "cat")
    assert a.to_dict()["outputs"] == ["a", "cat"]
    assert net(TWO_HEADS).returned == ("cat",)  # default: the last layer's


def test_a_block_name_names_its_last_part():
    a = net("  - {kind: bottleneck, name: stage, t: 6, out: 3, n: 2}\n  - {kind: pw, from: stage, out: 5}\n")
    assert a.rows[-1].reads == ("stage/2/add",)


def test_a_list_without_from_stays_a_chain():
    a = net("  - {kind: conv, out: 8}\n  - {kind: dw}\n  - {kind: pw, out: 4}\n")
    assert [row.reads for row in a.rows] == [("input",), ("conv1",), ("dw1",)]


def test_residual_and_bottleneck_adds_read_their_operands_by_name():
    a = net("  - {kind: conv, out: 8}\n  - {kind: bottleneck, t: 6, out: 8}\n"
            "  - name: res\n    kind: residual\n    layers: [{kind: conv, out: 8}]\n")
    rows = {row.name: row for row in a.rows}
    assert rows["bneck1/add"].reads == ("bneck1/project", "conv1")
    assert rows["res/add"].reads == ("res/conv1", "bneck1/add")  # body, then the identity shortcut


def test_squeeze_excite_scale_reads_the_gate_and_the_depthwise_output():
    a = net("  - {kind: conv, out: 16}\n  - {kind: bottleneck, t: 4, out: 16, se: true}\n")
    scale = {row.name: row for row in a.rows}["bneck1/se/scale"]
    assert scale.reads == ("bneck1/se/expand", "bneck1/dw")
    assert (scale.input.h, scale.input.w, scale.input.c) == (8, 8, 64)
    assert scale.layer.elementwise(scale.input) == 8 * 8 * 64


def test_unknown_tensor_is_named_and_located():
    message = error("  - {kind: conv, name: stem, out: 8}\n  - {kind: pw, from: stme, out: 4}\n")
    assert "line 6" in message and "layers[1]" in message and "from" in message
    assert "no earlier tensor is named 'stme'" in message and "did you mean 'stem'" in message


def test_a_later_tensor_cannot_be_read():
    message = error("  - {kind: pw, from: later, out: 4}\n  - {kind: pw, name: later, out: 4}\n")
    assert "no earlier tensor is named 'later'" in message


def test_shapes_that_cannot_be_added_are_both_named():
    message = error("  - {kind: conv, name: a, out: 8}\n  - {kind: conv, name: b, out: 8, stride: 2}\n"
                    "  - {kind: add, from: [a, b]}\n")
    assert "cannot add 'a' (8×8×8) and 'b' (4×4×8)" in message and "layers[2]" in message and "line 7" in message


def test_concat_needs_equal_heights_and_widths():
    message = error("  - {kind: conv, name: a, out: 8}\n  - {kind: conv, name: b, out: 4, stride: 2}\n"
                    "  - {kind: concat, from: [a, b]}\n")
    assert "cannot concatenate 'a' (8×8×8) and 'b' (4×4×4)" in message


def test_names_are_unique():
    assert "'a' already names an earlier tensor" in error("  - {kind: conv, name: a, out: 8}\n"
                                                          "  - {kind: conv, name: a, out: 8}\n")


def test_an_add_needs_a_list():
    assert "list their names" in error("  - {kind: conv, out: 8}\n  - {kind: add}\n")
    assert "layers[1]" in error("  - {kind: conv, out: 8}\n  - {kind: add, from: [conv1]}\n")  # two or more


def test_concat_reads_from_or_branches_not_both():
    message = error("  - {kind: conv, name: a, out: 8}\n  - {kind: concat, from: [a, a], branches: [[], []]}\n")
    assert "either `from:`" in message


def test_unknown_output_is_named():
    assert "no tensor is named 'nope'" in error(TWO_HEADS, HEAD + "outputs: [nope]\n")


def test_non_square_input_is_height_by_width():
    a = net("  - {kind: conv, out: 32, stride: 2}\n  - {kind: avgpool}\n  - {kind: fc, out: 10}\n",
            "name: g\ntitle: G\ninput: {resolution: [240, 320], channels: 3}\n")
    conv = a.rows[0]
    assert (conv.output.h, conv.output.w) == (120, 160)
    assert conv.macs == 3 * 3 * 3 * 32 * 120 * 160
    assert a.resolution == (240, 320) and a.size == "240×320" and a.label.endswith("G-240x320")
    assert a.rows[1].layer.filter_shape(a.rows[1].input) == "Pool 120×160"


def test_rho_scales_both_sides():
    spec = parse_spec("name: g\ntitle: G\ninput: {resolution: [240, 320]}\nlayers: [{kind: conv, out: 4}]\n")
    assert mobcost.analyze(spec, rho=0.5).resolution == (120, 160)
    assert mobcost.analyze(spec, resolution=(100, 200)).rows[0].output.w == 200
    assert mobcost.analyze(spec, resolution=96).resolution == 96


def test_a_square_pair_is_a_side():
    spec = parse_spec("name: g\ntitle: G\ninput: {resolution: [64, 64]}\nlayers: [{kind: conv, out: 4}]\n")
    assert spec.input.resolution == 64


def test_part_groups_rows_and_is_inherited():
    a = net("  - {kind: conv, out: 8}\n  - {kind: bottleneck, t: 2, out: 8, part: extras}\n"
            "  - {kind: pw, out: 4}\n  - {kind: pw, from: conv1, out: 2, part: heads}\n")
    assert [row.part for row in a.rows] == ["backbone", "extras", "extras", "extras", "extras", "extras", "heads"]


def test_sweep_replays_a_graph_exactly():
    spec = parse_spec(HEAD + "layers:\n" + TWO_HEADS)
    grid = list(sweep(spec, [1.0, 0.5], [8, 16, 32]))
    for totals in grid:
        a = mobcost.trace(spec, float(totals.alpha), totals.resolution)
        assert (totals.macs, totals.params) == (a.macs, a.params)


def test_res_option_takes_height_by_width(mobcost, tmp_path):
    spec = tmp_path / "g.yaml"
    spec.write_text(HEAD + "layers: [{kind: conv, out: 4, stride: 2}]\n")
    import json

    data = json.loads(mobcost("table", str(spec), "--res", "240x320", "-f", "json").stdout)
    assert data["resolution"] == [240, 320] and data["layers"][0]["output"] == [120, 160, 4]
    assert data["totals"]["macs"] == 3 * 3 * 3 * 4 * 120 * 160
    bad = mobcost("table", str(spec), "--res", "240x")
    assert bad.exit_code == 2 and "height × width" in bad.stderr


PARTS = "  - {kind: conv, out: 8}\n  - {kind: pw, out: 4, part: extras}\n  - {kind: pw, from: conv1, out: 2, part: heads}\n"


def test_table_groups_rows_by_part_with_subtotals():
    from mobcost.views.network import layer_table

    a = net(PARTS)
    report = layer_table(a)
    names = [row["name"] for row in report.rows]
    assert names == ["conv1", "Subtotal: backbone", "pw1", "Subtotal: extras", "pw2", "Subtotal: heads"]
    conv, extras, heads = 3 * 3 * 3 * 8 * 8 * 8, 8 * 4 * 8 * 8, 8 * 2 * 8 * 8
    assert [row["macs"] for row in report.rows if row.get("subtotal")] == [conv, extras, heads]
    assert report.total["macs"] == conv + extras + heads
    assert report.data["parts"] == [{"part": "backbone", "macs": conv, "params": 3 * 3 * 3 * 8},
                                     {"part": "extras", "macs": extras, "params": 8 * 4},
                                     {"part": "heads", "macs": heads, "params": 8 * 2}]


def test_breakdown_by_part(mobcost, tmp_path):
    import json

    spec = tmp_path / "p.yaml"
    spec.write_text(HEAD + "layers:\n" + PARTS)
    data = json.loads(mobcost("breakdown", str(spec), "--by", "part", "-f", "json").stdout)
    assert [(p["part"], p["macs"]) for p in data["parts"]] == [("backbone", 3 * 3 * 3 * 8 * 8 * 8),
                                                               ("extras", 8 * 4 * 8 * 8), ("heads", 8 * 2 * 8 * 8)]


def test_memory_states_the_weights_bytes(mobcost):
    import json

    data = json.loads(mobcost("memory", "resnet18", "--dtype", "int8", "-f", "json").stdout)
    assert data["weights"] == 11_689_512 and data["weights_bytes"] == 11_689_512  # torchvision's, 1 byte each
    assert data["peak_bytes"] == 112 * 112 * 64 + 56 * 56 * 64  # the max pool reads conv1's output, writes its own


# ---- LR-ASPP's gate as TF's DeepLab builds it (MobileNetV3 Figure 10): pooled to 1×4, a 1×1 conv, upsampled to the --
# ---- features' size and multiplied element by element ------------------------------------------------------------

LRASPP_GATE = """\
  - {kind: pw, name: features, out: 16}
  - {kind: pw, name: branch, out: 8}
  - {kind: avgpool, from: features, output: [1, 4]}
  - {kind: pw, name: pooled, out: 8, bias: true, act: sigmoid}
  - {kind: upsample, name: gate, size_of: branch, mode: bilinear}
  - {kind: scale, name: gated, from: [gate, branch]}
"""
SEG_HEAD = "name: g\ntitle: G\ninput: {resolution: [64, 128], channels: 3}\n"


def test_scale_by_a_gate_of_the_tensors_own_shape_multiplies_element_by_element():
    rows = {row.name: row for row in net(LRASPP_GATE, SEG_HEAD).rows}
    assert rows["pooled"].macs == 16 * 8 * 1 * 4  # the gate's 1×1 conv runs on the 1×4 map
    gated = rows["gated"]
    assert gated.reads == ("gate", "branch")
    assert (gated.output.h, gated.output.w, gated.output.c) == (64, 128, 8)
    assert (gated.macs, gated.params, gated.layer.elementwise(gated.input)) == (0, 0, 64 * 128 * 8)


def test_a_gate_of_another_size_is_refused_naming_both():
    message = error(LRASPP_GATE.replace("size_of: branch", "scale: 2"), SEG_HEAD)
    assert "cannot scale 'branch' (64×128×8) by 'gate' (2×8×8)" in message and "layers[5]" in message
