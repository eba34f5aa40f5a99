"""The tasks MobileNets exist for: detection (SSD, SSDLite) and segmentation (DeepLabv3, LR-ASPP) heads, and the V1
paper's face tasks, against torchvision run for real, hand arithmetic, and the papers' printed figures."""

import functools
import json
import re
from fractions import Fraction

import pytest
from typer.testing import CliRunner

import mobcost
from mobcost.check import check_reference
from mobcost.cli import app
from mobcost.language import load_model
from test_trace import v1_by_hand

HEADS = ("ssd300_mobilenet_v1", "ssdlite_mobilenet_v1", "ssdlite_mobilenet_v2", "ssdlite320_mobilenet_v3_large",
         "deeplabv3_mobilenet_v2", "lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", "faster_rcnn_mobilenet_v1")
TASKS = [(name, ref) for name in HEADS for ref in load_model(name)[0].reference]
TASKS += [("mobilenet_v1", ref) for ref in load_model("mobilenet_v1")[0].reference
          if ref.source in ("MobileNets V1 Table 12", "MobileNets V1 Table 14")]


@pytest.mark.parametrize("name, ref", TASKS, ids=[f"{ref.source}: {ref.label}" for _, ref in TASKS])
def test_published_figure_agrees_or_is_an_explained_erratum(name, ref):
    for result in check_reference(load_model(name)[0], ref):
        assert result.status != "fail", result.note
        key = "macs" if "Mult-Adds" in result.figure else "params"
        assert (result.status == "erratum") == (key in ref.errata), result


# ---- the V1 paper's face tasks: the trunk without its classifier (variant `features`) --------------------------

@pytest.mark.parametrize("alpha, resolution, macs, params", [
    (1.0, 224, "568", "3.2"), (0.5, 224, "149", "0.8"), (1.0, 128, "185", "3.2")],
    ids=["Table 12 1.0 MobileNet-224", "Table 12 0.5 MobileNet-224", "Table 12 1.0 MobileNet-128"])
def test_face_attribute_trunks_by_hand(alpha, resolution, macs, params):
    full_macs, full_params = v1_by_hand(alpha, resolution)
    fc = int(1024 * Fraction(str(alpha))) * 1000  # the ImageNet classifier the trunk drops
    trunk = mobcost.analyze(f"v1:features@{alpha}_{resolution}")
    assert (trunk.macs, trunk.params) == (full_macs - fc, full_params - fc)
    assert round(trunk.macs / 10**6) == int(macs) and round(trunk.params / 10**5) / 10 == float(params)


def test_table_14s_repeated_label_is_the_0_75_trunk_at_160():
    trunk = mobcost.analyze("v1:features@0.75_160")
    assert trunk.macs == v1_by_hand(0.75, 160)[0] - 768 * 1000
    assert round(trunk.macs / 10**6) == 166  # MobileNets V1 Table 14, first "0.75 MobileNet-128" row


# ---- torchvision's detection and segmentation models, built and counted for real -------------------------------
# Parameters as PyTorch counts them (Σ numel: batch norm's γ and β included), Mult-Adds as FlopCounterMode's FLOPs ÷ 2
# (2 FLOPs per multiply-add of a convolution or matrix product; pooling, upsampling, the gate's multiply, the adds,
# anchor decoding and NMS count nothing there, as here). Built with weights=None, weights_backbone=None: no download.

@functools.cache
def _torchvision(name: str):
    torchvision = pytest.importorskip("torchvision")
    builders = {"ssdlite320_mobilenet_v3_large": torchvision.models.detection.ssdlite320_mobilenet_v3_large,
                "lraspp_mobilenet_v3_large": torchvision.models.segmentation.lraspp_mobilenet_v3_large,
                "deeplabv3_mobilenet_v3_large": torchvision.models.segmentation.deeplabv3_mobilenet_v3_large}
    return builders[name](weights=None, weights_backbone=None).eval()


def _counted(module, *inputs) -> tuple[int, int]:
    """(Mult-Adds, parameters) of a torch module as PyTorch counts them."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(*inputs)
    return counter.get_total_flops() // 2, sum(p.numel() for p in module.parameters())


def _part(analysis, *parts: str) -> tuple[int, int]:
    rows = [row for row in analysis.rows if row.part in parts]
    return sum(row.macs for row in rows), sum(row.params_counted("torch") for row in rows)


@pytest.mark.parametrize("name, size", [("ssdlite320_mobilenet_v3_large", (320, 320)),
                                        ("lraspp_mobilenet_v3_large", (520, 520)),
                                        ("deeplabv3_mobilenet_v3_large", (520, 520)),
                                        ("lraspp_mobilenet_v3_large", (240, 320)),
                                        ("deeplabv3_mobilenet_v3_large", (257, 257))],
                         ids=["torchvision ssdlite320", "torchvision lraspp 520", "torchvision deeplabv3 520",
                              "torchvision lraspp 240x320", "torchvision deeplabv3 257"])
def test_exact_against_torchvision(name, size):
    torch = pytest.importorskip("torch")
    model = _torchvision(name)
    image = torch.rand(3, *size)
    macs, params = _counted(model, [image] if name.startswith("ssd") else image[None])
    a = mobcost.analyze(name, resolution=size if size[0] != size[1] else size[0])
    assert (a.macs, a.params_counted("torch")) == (macs, params)


def test_ssdlite_parts_against_torchvision():
    torch = pytest.importorskip("torch")
    model = _torchvision("ssdlite320_mobilenet_v3_large")
    a = mobcost.analyze("ssdlite320_mobilenet_v3_large")
    image = torch.rand(1, 3, 320, 320)
    features = model.backbone(image)
    assert _part(a, "backbone") == _counted(model.backbone.features, image)
    assert _part(a, "heads") == _counted(model.head, list(features.values()))
    assert _part(a, "extras")[1] == sum(p.numel() for p in model.backbone.extra.parameters())
    shapes = {row.name: row.output for row in a.rows}
    assert [tuple(t.shape[1:]) for t in features.values()] == [
        (shapes[n].c, shapes[n].h, shapes[n].w) for n in ("c4/expand", "c5", "extra1/pw", "extra2/pw", "extra3/pw", "extra4/pw")]


@pytest.mark.parametrize("name", ["lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large"])
def test_segmentation_parts_against_torchvision(name):
    torch = pytest.importorskip("torch")
    model = _torchvision(name)
    a = mobcost.analyze(name, resolution=(240, 320))
    image = torch.rand(1, 3, 240, 320)
    assert _part(a, "backbone") == _counted(model.backbone, image)
    features = model.backbone(image)  # LR-ASPP's head reads the dict of both feature maps, DeepLab's the last
    assert _part(a, "head") == _counted(model.classifier, features if name.startswith("lraspp") else features["out"])
    out = model(image)["out"]
    assert tuple(out.shape[1:]) == (a.rows[-1].output.c, a.rows[-1].output.h, a.rows[-1].output.w)


def _table_json(*args) -> dict:
    result = CliRunner().invoke(app, ["table", *args, "--params", "torch", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_acceptance_ssdlite_table_json():
    data = _table_json("ssdlite320_mobilenet_v3_large")
    # torchvision SSDLite320_MobileNet_V3_Large_Weights.COCO_V1 num_params; FlopCounterMode ÷ 2 (its _ops: 0.583)
    assert (data["totals"]["params"], data["totals"]["macs"]) == (3_440_060, 583_171_904)


def test_acceptance_lraspp_table_json():
    data = _table_json("lraspp_mobilenet_v3_large", "--res", "520")
    # torchvision LRASPP_MobileNet_V3_Large_Weights num_params; FlopCounterMode ÷ 2 (its _ops: 2.086)
    assert (data["totals"]["params"], data["totals"]["macs"]) == (3_221_538, 2_086_219_688)


# ---- what the detectors count, by hand ----------------------------------------------------------------------

def _anchors(analysis) -> int:
    """Anchors of a detector: each box predictor writes 4 coordinates per anchor at every location."""
    return sum(row.output.h * row.output.w * row.output.c // 4 for row in analysis.rows
               if re.fullmatch(r"box\d", row.name))


@pytest.mark.parametrize("name, anchors", [
    ("ssd300_mobilenet_v1", 19 * 19 * 3 + (10 * 10 + 5 * 5 + 3 * 3 + 2 * 2 + 1) * 6),  # 1,917, TF's SSD 300
    ("ssdlite_mobilenet_v2", 20 * 20 * 3 + (10 * 10 + 5 * 5 + 3 * 3 + 2 * 2 + 1) * 6),
    ("ssdlite320_mobilenet_v3_large", (20 * 20 + 10 * 10 + 5 * 5 + 3 * 3 + 2 * 2 + 1) * 6)])
def test_anchors_per_location_by_hand(name, anchors):
    assert _anchors(mobcost.analyze(name)) == anchors


def test_torchvision_ssdlite_generates_as_many_anchors():
    torch = pytest.importorskip("torch")
    model = _torchvision("ssdlite320_mobilenet_v3_large")
    image = torch.rand(1, 3, 320, 320)
    features = list(model.backbone(image).values())
    from torchvision.models.detection.image_list import ImageList
    anchors = model.anchor_generator(ImageList(image, [(320, 320)]), features)
    assert len(anchors[0]) == _anchors(mobcost.analyze("ssdlite320_mobilenet_v3_large"))


def test_faster_rcnn_counts_the_first_stage_once_and_the_box_classifier_per_proposal():
    """MobileNets V1 Table 13: Faster-RCNN 300 25.2 and 600 30.5 billion Mult-Adds, with 300 proposals (TF's
    first_stage_max_proposals) whose 14×14 crops go through Conv2d_12 and Conv2d_13 and the box classifier (the
    crop's `batch: 300`); the box classifier's weights are counted once."""
    proposal = (3 * 3 * 512 * 7 * 7 + 512 * 1024 * 7 * 7 + 3 * 3 * 1024 * 7 * 7 + 1024 * 1024 * 7 * 7
                + 1024 * 90 * 4 + 1024 * 91)
    weights = 3 * 3 * 512 + 512 * 1024 + 3 * 3 * 1024 + 1024 * 1024 + 1024 * 360 + 360 + 1024 * 91 + 91
    for resolution, side, printed in ((300, 19, "25.2"), (600, 38, "30.5")):
        a = mobcost.analyze("faster_rcnn_mobilenet_v1", resolution=resolution)
        rpn = (3 * 3 * 512 * 512 + 512 * 12 * 4 + 512 * 12 * 2) * side * side
        assert _part(a, "rpn")[0] == rpn
        assert a.breakdown(by="part")["box_classifier"] == (300 * proposal, weights)
        first = _part(a, "backbone", "rpn")[0]
        assert a.macs == first + 300 * proposal
        assert f"{a.macs / 10**9:.1f}" == printed


# ---- the language pieces the heads use, by hand ----------------------------------------------------------------

def _net(layers: str, reference: str = ""):
    from mobcost.language import parse_spec
    return parse_spec(f"name: t\ntitle: T\ninput: {{resolution: 8}}\nlayers:\n{layers}{reference}")


def test_a_reference_may_count_only_some_parts():
    net = _net("  - {kind: conv, out: 4, part: backbone}\n  - {kind: pw, out: 2, bias: true, part: heads}\n",
               'reference:\n  - {source: s, label: heads, parts: [heads], macs: "0.000512", params: "0.00001"}\n')
    [macs, params] = check_reference(net, net.reference[0])
    assert (macs.status, params.status) == ("ok", "ok")  # 4·2·8·8 = 512 Mult-Adds, 4·2 + 2 = 10 parameters
    bad = _net("  - {kind: conv, out: 4}\n", 'reference:\n  - {source: s, label: l, parts: [head], macs: "1"}\n')
    with pytest.raises(mobcost.SpecError, match="'head' is not a part of t; its parts are backbone"):
        check_reference(bad, bad.reference[0])


def test_a_dilated_bottleneck_costs_what_an_undilated_one_does():
    plain = mobcost.analyze(_net("  - {kind: bottleneck, t: 6, out: 8, kernel: 5}\n"))
    atrous = mobcost.analyze(_net("  - {kind: bottleneck, t: 6, out: 8, kernel: 5, dilation: 2}\n"))
    dw = next(row for row in atrous.rows if row.kind == "dw")
    assert dw.layer.dilation == 2 and dw.output == next(row for row in plain.rows if row.kind == "dw").output
    assert (atrous.macs, atrous.params) == (plain.macs, plain.params) == (
        3 * 18 * 8 * 8 + 5 * 5 * 18 * 8 * 8 + 18 * 8 * 8 * 8, 3 * 18 + 5 * 5 * 18 + 18 * 8)


def test_upsample_to_a_fixed_size():
    a = mobcost.analyze(_net("  - {kind: upsample, size: [14, 12], mode: bilinear}\n"))
    assert (a.rows[0].output.h, a.rows[0].output.w, a.rows[0].output.c, a.macs) == (14, 12, 3, 0)


def test_the_block_view_of_a_head_names_every_row_and_subtotals_each_part(mobcost):
    """Issue 23: `table ssdlite320_mobilenet_v3_large` (blocks) had no Layer column and no part subtotals."""
    import json as _json

    rows = _json.loads(mobcost("table", "ssdlite320_mobilenet_v3_large", "--layers", "-f", "json").stdout)["layers"]
    markdown = mobcost("table", "ssdlite320_mobilenet_v3_large", "-f", "markdown").stdout
    lines = [line.split(" | ") for line in markdown.splitlines() if line.startswith("| ") and "---" not in line]
    assert lines[0][0] == "| Layer"
    body = lines[1:-1]
    assert all(cells[0].strip("| ") for cells in body)  # every row named
    for part in ("backbone", "extras", "heads"):
        subtotal = next(cells for cells in body if cells[0] == f"| Subtotal: {part}")
        macs = sum(row["macs"] for row in rows if row["part"] == part)  # the per-layer rows of that part, summed
        assert subtotal[-2] == f"{macs:,}"
