"""The mobile networks people deploy (EfficientNet, ShuffleNetV2, ResNet-18): exact against torchvision run for real,
parameters as sum(p.numel()) and Mult-Adds as FlopCounterMode's FLOPs ÷ 2, at each published size and width."""

import pytest

import mobcost

ACCEPTANCE = [  # issue 11's acceptance figures, torchvision's own counts
    ("efficientnet_b0", 5_288_548, 385_814_752),
    ("shufflenet_v2_x1_0", 2_278_604, 144_907_992),
    ("resnet18", 11_689_512, 1_814_073_344),
]


@pytest.mark.parametrize("model, params, macs", ACCEPTANCE, ids=[m for m, _, _ in ACCEPTANCE])
def test_acceptance_figures(model, params, macs):
    a = mobcost.analyze(model)
    assert (a.params_counted("torch"), a.macs) == (params, macs)


# (mobcost model, torchvision builder, resolution): EfficientNet's B1–B3 at Table 2's resolutions (and B2 at
# torchvision's 288 crop) through compound scaling; ShuffleNetV2's four widths of Table 5
TORCHVISION = [
    ("efficientnet_b0", "efficientnet_b0", 224),
    ("efficientnet_b0:b1", "efficientnet_b1", 240),
    ("efficientnet_b0:b2", "efficientnet_b2", 260),
    ("efficientnet_b0:b2", "efficientnet_b2", 288),
    ("efficientnet_b0:b3", "efficientnet_b3", 300),
    ("shufflenet_v2_x1_0", "shufflenet_v2_x1_0", 224),
    ("shufflenet_v2_x1_0:x0_5", "shufflenet_v2_x0_5", 224),
    ("shufflenet_v2_x1_0:x1_5", "shufflenet_v2_x1_5", 224),
    ("shufflenet_v2_x1_0:x2_0", "shufflenet_v2_x2_0", 224),
    ("shufflenet_v2_x1_0", "shufflenet_v2_x1_0", 160),
    ("resnet18", "resnet18", 224),
    ("resnet18", "resnet18", (240, 320)),
]


@pytest.mark.parametrize("model, builder, resolution", TORCHVISION,
                         ids=[f"{m}-{r}" for m, _, r in TORCHVISION])
def test_exact_against_torchvision(model, builder, resolution):
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from torch.utils.flop_counter import FlopCounterMode

    net = getattr(torchvision.models, builder)().eval()
    h, w = (resolution, resolution) if isinstance(resolution, int) else resolution
    with torch.no_grad(), FlopCounterMode(display=False) as mode:
        net(torch.zeros(1, 3, h, w))
    a = mobcost.analyze(model, resolution=resolution)
    assert a.params_counted("torch") == sum(p.numel() for p in net.parameters())
    assert 2 * a.macs == mode.get_total_flops()


def test_compound_scaling_by_hand():
    """EfficientNet-B2 (d = 1.2, w = 1.1): repeats ceil(n·1.2) = 2, 3, 3, 4, 4, 5, 2; widths make_divisible(c·1.1, 8)."""
    a = mobcost.analyze("efficientnet_b0:b2")
    assert a.resolution == 260 and a.label == "1.0 EfficientNet-B2-260"
    blocks = [row.name.split("/")[0] for row in a.rows if row.name.endswith("/dw")]
    assert [blocks.count(f"bneck{i}") for i in range(1, 8)] == [2, 3, 3, 4, 4, 5, 2]
    stem = a.rows[0]
    assert stem.output.c == 32  # make_divisible(32·1.1 = 35.2, 8) = 32
    assert [row.output.c for row in a.rows if row.name.endswith("project")][-1] == 352  # 320·1.1
    assert [row for row in a.rows if row.kind == "pw"][-1].output.c == 1408  # 1280·1.1


def test_efficientnet_squeezes_the_block_input():
    # stage 3's first block: 16 → expand 96 → SE squeezes max(1, 16 // 4) = 4 channels, SiLU, sigmoid gate
    rows = {row.name: row for row in mobcost.analyze("efficientnet_b0").rows}
    reduce, expand = rows["bneck2/1/se/reduce"], rows["bneck2/1/se/expand"]
    assert (reduce.input.c, reduce.output.c, reduce.layer.act) == (96, 4, "silu")
    assert (expand.output.c, expand.layer.act) == (96, "sigmoid")
    assert reduce.params == 96 * 4 + 4 and expand.params == 4 * 96 + 96


def test_shuffle_unit_by_hand():
    # ShuffleNetV2 1×, stage 2's first unit on 56×56×24: each branch gives 116 / 2 = 58 channels at 28×28
    rows = {row.name: row for row in mobcost.analyze("shufflenet_v2_x1_0").rows}
    assert rows["stage2/1/b1/dw"].macs == 3 * 3 * 24 * 28 * 28
    assert rows["stage2/1/b1/pw"].macs == 24 * 58 * 28 * 28
    assert rows["stage2/1/b2/pw1"].macs == 24 * 58 * 56 * 56
    assert rows["stage2/1/b2/dw"].macs == 3 * 3 * 58 * 28 * 28
    assert rows["stage2/2/right"].output.c == 58 and rows["stage2/2/left"].output.c == 58
    assert rows["stage2/2/concat"].reads == ("stage2/2/left", "stage2/2/b2/pw2")
    assert rows["stage2/2/shuffle"].output.c == 116


def test_depth_option_scales_repeats(mobcost):
    import json

    data = json.loads(mobcost("table", "efficientnet_b0", "--depth", "1.1", "--res", "240", "--params", "torch",
                              "--layers", "-f", "json").stdout)
    b1 = mobcost("table", "efficientnet_b0:b1", "--params", "torch", "--layers", "-f", "json")
    assert data["totals"] == json.loads(b1.stdout)["totals"]  # B1 is B0 at d = 1.1, 240×240
    assert mobcost("table", "efficientnet_b0", "--depth", "100").exit_code == 2  # past MAX_MULTIPLIER
