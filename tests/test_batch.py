"""A batch of crops (`batch: n` on an upsample, Faster-RCNN's proposals): every later row that reads it runs n times,
so its Mult-Adds and every convention's counts and activations are n times one crop's; its weights are not."""

import pytest

import mobcost
from mobcost.conventions import counted
from mobcost.memory import by_resolution, peak_memory
from mobcost.table import Format, render
from mobcost.views.network import layer_table
from mobcost.views.memory import memory_table
from mobcost.language import SpecError, parse_spec
from mobcost.trace import sweep

HEAD = "name: b\ntitle: B\ninput: {resolution: 4, channels: 8}\n"
# a 4×4×8 map, 3 crops of it resized to 2×2, a pointwise conv to 16 per crop, pooled, classified
CROPS = """\
  - {kind: pw, name: first, out: 4, part: first_stage}
  - {kind: upsample, name: crop, from: input, size: [2, 2], mode: bilinear, batch: 3, part: second_stage}
  - {kind: pw, name: conv, out: 16, bn: true, act: relu}
  - {kind: avgpool}
  - {kind: fc, name: scores, out: 5, bias: true, width: fixed}
"""
PW = 3 * 8 * 16 * 2 * 2  # per crop: M·N·D_F·D_F, 3 crops
FC = 3 * 16 * 5


def spec():
    return parse_spec(HEAD + "outputs: [first, scores]\nlayers:\n" + CROPS)


def error(layers: str) -> str:
    with pytest.raises(SpecError) as e:
        mobcost.analyze(parse_spec(HEAD + "layers:\n" + layers))
    return str(e.value)


def test_every_row_after_the_crop_counts_the_batch_and_its_weights_once():
    a = mobcost.analyze(spec())
    rows = {row.name: row for row in a.rows}
    assert [row.batch for row in a.rows] == [1, 3, 3, 3, 3]
    assert (rows["crop"].input_batch, rows["conv"].input_batch) == (1, 3)
    assert rows["conv"].macs == PW and rows["scores"].macs == FC
    assert a.macs == 8 * 4 * 4 * 4 + PW + FC  # the first stage once
    assert a.params == 8 * 4 + 8 * 16 + 16 * 5 + 5  # shared by the batch
    assert a.params_counted("torch") == a.params + 2 * 16  # batch norm's γ and β, once
    assert a.breakdown(by="part") == {"first_stage": (8 * 4 * 4 * 4, 8 * 4),
                                      "second_stage": (PW + FC, 8 * 16 + 16 * 5 + 5)}
    assert a.breakdown()["Conv 1×1"] == (8 * 4 * 4 * 4 + PW, 8 * 4 + 8 * 16)


def test_a_batch_scales_with_alpha_not_with_the_resolution():
    for resolution, alpha in ((4, 1.0), (9, 1.0), (16, 0.5)):
        a = mobcost.analyze(spec(), alpha=alpha, resolution=resolution)
        c = int(16 * alpha)
        assert a.macs == int(4 * alpha) * 8 * resolution**2 + 3 * 8 * c * 2 * 2 + 3 * c * 5


def test_sweep_replays_the_batch():
    network = spec()
    resolutions = [4, 9, 16, 5, 7]
    for alpha in (1.0, 0.5):
        swept = list(sweep(network, [alpha], resolutions))
        assert [(t.macs, t.params, t.bn) for t in swept] == [
            (a.macs, a.params, sum(row.bn for row in a.rows))
            for a in (mobcost.analyze(network, alpha=alpha, resolution=r) for r in resolutions)]


def test_each_convention_counts_the_whole_batch():
    a = mobcost.analyze(spec())
    per = {name: {row.name: row.macs for row in counted(a, name).rows} for name in ("fvcore", "ptflops", "thop")}
    crop, conv = 2 * 2 * 8, 2 * 2 * 16  # one crop's output elements, one crop's pointwise outputs
    assert per["fvcore"]["crop"] == 4 * 3 * crop  # bilinear: 4 per output element
    assert per["thop"]["crop"] == 11 * 3 * crop  # bilinear: 11 per output element
    assert per["ptflops"]["crop"] == 3 * crop + crop  # F.interpolate the batch, the module hook `output[0]`
    assert per["fvcore"]["conv"] == PW + 2 * 3 * conv  # batch norm 2 per element
    assert per["ptflops"]["conv"] == PW + 2 * 3 * conv + 2 * 3 * conv  # batch norm 2, ReLU 1 counted twice
    assert per["thop"]["conv"] == PW + 4 * 3 * conv  # batch norm 4
    assert per["ptflops"]["pool1"] == 2 * 3 * conv  # 1 per input element, counted twice
    assert per["thop"]["pool1"] == (2 * 2 + 1) * 3 * 16  # h/oh · w/ow + 1 per output element
    assert per["ptflops"]["scores"] == FC + 3 * 5  # bias adds


def test_memory_holds_the_whole_batch():
    a = mobcost.analyze(parse_spec(HEAD + "layers:\n  - {kind: upsample, size: [2, 2], mode: bilinear, batch: 3}\n"
                                   "  - {kind: pw, name: scores, out: 16}\n"))
    # the crop's step holds the 4×4×8 input and writes 3 × 2×2×8; the conv's reads those and writes 3 × 2×2×16
    assert peak_memory(a, "fp16") == 2 * max(4 * 4 * 8 + 3 * 2 * 2 * 8, 3 * 2 * 2 * 8 + 3 * 2 * 2 * 16)
    assert by_resolution(a) == [((4, 4), 8, "input", 1), ((2, 2), 16, "scores", 3)]
    report = memory_table(a, "fp16")
    assert [(row["batch"], row["bytes"]) for row in report.rows] == [(1, 2 * 4 * 4 * 8), (3, 2 * 3 * 2 * 2 * 16)]
    assert "Batch" in [column.header for column in report.shown]


def test_the_table_shows_the_batch():
    a = mobcost.analyze(spec())
    report = layer_table(a)
    inputs = {row["name"]: row["input"] for row in report.rows if "input" in row}
    assert (inputs["crop"], inputs["conv"], inputs["scores"]) == ("4×4×8", "3 × 2×2×8", "3 × 1×1×16")
    assert any(note.startswith("crop makes a batch of 3 crops") for note in report.notes)
    assert [layer["batch"] for layer in report.data["layers"]] == [1, 3, 3, 3, 3]
    assert "3 × 2×2×8" in render(report, Format.csv)
    assert "3 crops, bilinear to 2×2" in render(report, Format.markdown)


def test_joins_of_batches_that_differ_name_both():
    message = error("  - {kind: pw, name: map, out: 8}\n"
                    "  - {kind: upsample, name: crops, size: [4, 4], batch: 3}\n"
                    "  - {kind: add, from: [crops, map]}\n")
    assert "layers[2] (add), field 'from'" in message and "line 7" in message
    assert "cannot add 'crops' (a batch of 3) and 'map' (one tensor)" in message
    message = error("  - {kind: upsample, name: a, size: [4, 4], batch: 3}\n"
                    "  - {kind: upsample, name: b, from: input, size: [4, 4], batch: 2}\n"
                    "  - {kind: concat, from: [a, b]}\n")
    assert "cannot concat 'a' (a batch of 3) and 'b' (a batch of 2)" in message


def test_a_crop_of_a_batch_is_refused():
    message = error("  - {kind: upsample, name: a, size: [4, 4], batch: 3}\n"
                    "  - {kind: upsample, size: [2, 2], batch: 2}\n")
    assert "layers[1] (upsample), field 'batch'" in message and "'a' is already a batch of 3" in message


@pytest.mark.parametrize("layer, expected", [
    ("{kind: upsample, scale: 2, batch: 3}", "a batch of crops (`batch: n`) is resized to a fixed `size: [h, w]`"),
    ("{kind: upsample, size: [2, 2], batch: 10001}", "expected at most 10,000 crops (mobcost's limit"),
    ("{kind: upsample, size: [2, 2], batch: 0}", "field 'batch'"),
    ("{kind: add, from: [input, input], batch: 3}", "field 'batch'"),
])
def test_bad_batches_are_located(layer, expected):
    message = error(f"  - {layer}\n")
    assert "layers[0]" in message and expected in message


def test_pytorch_runs_the_batch():
    pytest.importorskip("torch")
    from mobcost import verify

    a = mobcost.analyze(spec())
    checks = verify.verify(a)
    assert [c.torch_shape for c in checks] == [(1, 4, 4, 4), (3, 8, 2, 2), (3, 16, 2, 2), (3, 16, 1, 1), (3, 5, 1, 1)]
    assert all(c.ok for c in checks) and sum(c.torch_macs for c in checks) == 8 * 4 * 4 * 4 + PW + FC


def test_latency_moves_the_whole_batch_and_the_weights_once():
    from mobcost.latency.model import ops

    a = mobcost.analyze(parse_spec(HEAD + "layers:\n  - {kind: upsample, size: [2, 2], mode: bilinear, batch: 3}\n"
                                   "  - {kind: pw, out: 16, act: hswish}\n"))
    assert [(op.cls, op.work, op.bytes) for op in ops(a, 4)] == [
        ("resize", 3 * 2 * 2 * 8, (4 * 4 * 8 + 3 * 2 * 2 * 8) * 4),  # the crop reads one map, writes 3 crops
        ("pw", PW, (3 * 2 * 2 * 8 + 3 * 2 * 2 * 16 + 8 * 16) * 4),
        ("elementwise", 3 * 2 * 2 * 16, 2 * 3 * 2 * 2 * 16 * 4),  # h-swish, its own operator
    ]


def test_faster_rcnn_peak_is_the_crops_and_the_first_depthwise_output():
    """300 crops of 14×14×512 read by Conv2d_12's depthwise (stride 2: 300 × 7×7×512), while the proposal network's
    outputs (19×19×48 boxes, 19×19×24 objectness) wait to be returned."""
    a = mobcost.analyze("faster_rcnn_mobilenet_v1")
    assert peak_memory(a, "fp16") == 2 * (300 * 14 * 14 * 512 + 300 * 7 * 7 * 512 + 19 * 19 * 48 + 19 * 19 * 24)
