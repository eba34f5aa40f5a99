"""MobileNetV3 Table 7 (Cityscapes, 1024×2048, 19 classes): R-ASPP and LR-ASPP on MobileNetV2 and V3 as TF's
research/deeplab builds them, held to the printed figures, to hand arithmetic and, for V3-Large's backbone, to
torchvision run for real."""

import pytest
from typer.testing import CliRunner

import mobcost
from mobcost.cli import app
from mobcost.language import load_model
from test_heads import test_published_figure_agrees_or_is_an_explained_erratum as agrees_or_is_explained

CONFIGS = ("raspp_mobilenet_v2", "lraspp_mobilenet_v2", "raspp_mobilenet_v3_large", "lraspp_mobilenet_v3_large_seg",
           "lraspp_mobilenet_v3_small_seg")
ROWS = [(name, ref) for name in CONFIGS for ref in load_model(name)[0].reference]


def test_every_row_of_table_7_is_here():
    # row 8 (V3, RF2, LR-ASPP, 128) is also on lraspp_mobilenet_v3_large:rf2, with torchvision's reduced tail
    table_7 = [ref.label for _, ref in ROWS if ref.source == "MobileNetV3 Table 7"]
    assert len(set(table_7)) == len(table_7) == 11


@pytest.mark.parametrize("name, ref", ROWS, ids=[f"{ref.source}: {ref.label}" for _, ref in ROWS])
def test_published_figure_agrees_or_is_an_explained_erratum(name, ref):
    agrees_or_is_explained(name, ref)


def _rows(name: str) -> dict:
    return {row.name: row for row in mobcost.analyze(name).rows}


# ---- the heads, by hand (1/16 of 1024×2048 is 64×128, 1/8 is 128×256) ---------------------------------------

def test_lraspp_head_by_hand():
    """LR-ASPP (V3 Figure 10) on the RF2 backbone's 480-wide features, 128 filters, 19 classes."""
    rows = _rows("lraspp_mobilenet_v3_large_seg")
    assert rows["aspp0"].macs == 1 * 1 * 480 * 128 * 64 * 128
    # Figure 10's 49×49 pool with strides (16, 20): ⌊(64 − 49) / 16⌋ + 1 = 1 by ⌊(128 − 49) / 20⌋ + 1 = 4
    assert (rows["image_pooling"].input.h, rows["image_pooling"].input.w) == (1, 4)
    assert rows["image_pooling"].macs == 480 * 128 * 1 * 4 and rows["image_pooling"].params == 480 * 128 + 128
    assert rows["decoder_conv0"].macs == 128 * 19 * 128 * 256
    # layer_7/depthwise_output: the third 40-wide block's depthwise output, 3 × 40 = 120 channels at 1/8
    assert rows["feature_projection0"].input.c == 120 and rows["feature_projection0"].macs == 120 * 19 * 128 * 256
    head = [row for row in rows.values() if row.part == "head"]
    assert sum(row.macs for row in head) == (480 * 128 * 64 * 128 + 480 * 128 * 4 + 128 * 19 * 128 * 256
                                             + 120 * 19 * 128 * 256)
    assert sum(row.params_counted("torch") for row in head) == (480 * 128 + 2 * 128 + 480 * 128 + 128
                                                                + 128 * 19 + 19 + 120 * 19 + 19)


def test_raspp_head_by_hand():
    """R-ASPP (V2 §6.3): a 1×1 branch and image pooling, concatenated, projected, classified at 1/16."""
    rows = _rows("raspp_mobilenet_v3_large")
    head = [row for row in rows.values() if row.part == "head"]
    assert sum(row.macs for row in head) == (960 * 256 * 64 * 128 + 960 * 256 * 1 * 1 + 512 * 256 * 64 * 128
                                             + 256 * 19 * 64 * 128)
    assert sum(row.params_counted("torch") for row in head) == (960 * 256 + 2 * 256 + 960 * 256 + 2 * 256
                                                                + 512 * 256 + 2 * 256 + 256 * 19 + 19)


def test_the_filters_differ_by_the_heads_parameters():
    """Rows 7 and 8 differ only in F: the 1×1 branch (480·F weights, 2·F batch norm), the pooling branch's conv
    (480·F + F) and the 1/8 classifier (F·19): 128 more filters, 128·982 parameters; printed 1.63 − 1.51."""
    f256, f128 = (mobcost.analyze(name).params_counted("torch")
                  for name in ("lraspp_mobilenet_v3_large_seg:f256", "lraspp_mobilenet_v3_large_seg"))
    assert f256 - f128 == 128 * (480 + 2 + 480 + 1 + 19)
    assert 1.625 - 1.515 < (f256 - f128) / 10**6 < 1.635 - 1.505  # what the two printed roundings allow


# ---- the backbones as feature_extractor.py reduces them -------------------------------------------------------

def test_v3_large_seg_halves_the_last_block_and_its_first_expansion():
    rows = _rows("lraspp_mobilenet_v3_large_seg")
    # mobilenet_v3_large_seg: layer 13's expansion is 336 = 3 × 112 (torchvision's reduced_tail keeps 672)
    assert rows["layer_14/expand"].output.c == 336 and rows["layer_14/project"].output.c == 80
    assert rows["layer_14/expand"].macs == 112 * 336 * 64 * 128
    assert rows["features"].input.c == 80 and rows["features"].output.c == 480
    assert rows["c4_2/expand"].output.c == rows["c4_3/expand"].output.c == 6 * 80  # layers 15, 16


def test_v3_small_seg_halves_the_last_block():
    rows = _rows("lraspp_mobilenet_v3_small_seg")
    expansions = [row.output.c for name, row in rows.items() if name.endswith("/expand") and row.output.h == 64]
    assert expansions[-3:] == [3 * 48, 6 * 48, 6 * 48] and rows["features"].output.c == 288  # 144, 288, 288
    assert rows["feature_projection0"].input.c == 88  # layer_4/depthwise_output: 88 = 24 · 88/24


def test_v2_rf2_halves_the_160_and_320_wide_blocks():
    full, rf2 = mobcost.analyze("raspp_mobilenet_v2"), mobcost.analyze("raspp_mobilenet_v2:rf2")
    assert {row.name: row.output.c for row in rf2.rows}["features/project"] == 160
    # what RF2 saves in the backbone, by hand at 64×128: blocks 15–17 and 18 with their expansions 576, 960, 960,
    # 960 (full) against 576, 480, 480, 480 (halved outputs)
    def tail(c160, c320):
        first = (96 * 576 + 9 * 576 + 576 * c160) * 64 * 128
        rest = 2 * (c160 * 6 * c160 + 9 * 6 * c160 + 6 * c160 * c160) * 64 * 128
        return first + rest + (c160 * 6 * c160 + 9 * 6 * c160 + 6 * c160 * c320) * 64 * 128
    backbone = [sum(row.macs for row in a.rows if row.part == "backbone") for a in (full, rf2)]
    assert backbone[0] - backbone[1] == tail(160, 320) - tail(80, 160)


def test_v3_large_backbone_exact_against_torchvision():
    """Row 5's backbone is MobileNetV3-Large at output stride 16: torchvision's mobilenet_v3_large(dilated=True)
    features, run for real (Mult-Adds as FlopCounterMode ÷ 2, parameters as PyTorch counts them)."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from torch.utils.flop_counter import FlopCounterMode
    features = torchvision.models.mobilenet_v3_large(dilated=True).features.eval()
    image = torch.rand(1, 3, 240, 320)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = features(image)
    a = mobcost.analyze("raspp_mobilenet_v3_large", resolution=(240, 320))
    backbone = [row for row in a.rows if row.part == "backbone"]
    assert sum(row.macs for row in backbone) == counter.get_total_flops() // 2
    assert sum(row.params_counted("torch") for row in backbone) == sum(p.numel() for p in features.parameters())
    assert tuple(out.shape[1:]) == (backbone[-1].output.c, backbone[-1].output.h, backbone[-1].output.w)


@pytest.mark.parametrize("command", ["table", "memory", "check"])
@pytest.mark.parametrize("name", CONFIGS)
def test_commands_run_on_the_table_7_configs(name, command):
    result = CliRunner().invoke(app, [command, name])
    assert result.exit_code == 0, result.output
