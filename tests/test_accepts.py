"""Labels that never lie: a variant named for an implementation shows only what that implementation builds.

A width, resolution or depth its builder does not take is refused (exit 2) with the reason; the segmentation and
detection heads at α ≠ 1 are torchvision's own construction, held to it here (FlopCounterMode ÷ 2 and Σ numel of the
model torchvision builds from its pieces); a network whose transform resizes its input is counted at that size.
"""

import json

import pytest


@pytest.mark.parametrize("args, what", [
    (["resnet50:torchvision", "--alpha", "0.5"], "takes no width multiplier"),
    (["shufflenet_v2_x1_0:torchvision", "--alpha", "0.5"], "takes no width multiplier"),
    (["efficientnet_b0:b2", "--alpha", "0.75"], "takes no width multiplier"),
    (["v2:torchvision", "--depth", "2"], "takes no depth multiplier"),
    (["v3_large:keras", "--depth", "1.5"], "takes no depth multiplier"),
    (["efficientnet_b0:torchvision", "--depth", "1.1"], "takes no depth multiplier"),
])
def test_what_the_implementation_does_not_take_is_refused(mobcost, args, what):
    result = mobcost("table", *args)
    assert result.exit_code == 2
    assert what in result.stderr and "Traceback" not in result.stderr


def test_without_the_variant_mobcost_s_own_rule_is_shown(mobcost):
    result = mobcost("table", "resnet50", "--alpha", "0.5", "-f", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "ResNet-50"


def test_what_it_takes_is_shown(mobcost):
    for args in (["v3_large:torchvision", "--alpha", "0.58"], ["resnet50:torchvision", "--res", "160"],
                 ["mnasnet:torchvision", "--alpha", "0.5", "--res", "192"]):
        assert mobcost("table", *args).exit_code == 0


def _torch_counts(model, size: int) -> tuple[int, int]:
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as mode:
        model.eval()(torch.zeros(1, 3, size, size))
    return mode.get_total_flops() // 2, sum(p.numel() for p in model.parameters())


def _ours(mobcost, *args) -> tuple[int, int]:
    result = mobcost("table", *args, "--params", "torch", "-f", "json")
    assert result.exit_code == 0, result.stderr
    totals = json.loads(result.stdout)["totals"]
    return totals["macs"], totals["params"]


@pytest.mark.parametrize("head", ["lraspp", "deeplabv3"])
def test_segmentation_backbone_at_alpha_is_torchvision_s_construction(mobcost, head):
    """`mobilenet_v3_large(dilated=True, width_mult=0.75)` under torchvision's own head, at 513×513."""
    pytest.importorskip("torchvision")
    from torchvision.models import mobilenet_v3_large
    from torchvision.models.segmentation.deeplabv3 import _deeplabv3_mobilenetv3
    from torchvision.models.segmentation.lraspp import _lraspp_mobilenetv3

    backbone = mobilenet_v3_large(dilated=True, width_mult=0.75)
    model = _lraspp_mobilenetv3(backbone, 21) if head == "lraspp" else _deeplabv3_mobilenetv3(backbone, 21, False)
    theirs = _torch_counts(model, 513)
    assert _ours(mobcost, f"{head}_mobilenet_v3_large:torchvision", "--alpha", "0.75", "--res", "513") == theirs


def test_ssdlite_at_alpha_is_torchvision_s_construction(mobcost):
    """torchvision's builder passes width_mult to its backbone and keeps the extras' and heads' widths."""
    pytest.importorskip("torchvision")
    from torchvision.models.detection import ssdlite320_mobilenet_v3_large

    from mobcost.verify.reference import runnable

    model, _ = runnable(ssdlite320_mobilenet_v3_large(weights_backbone=None, width_mult=0.75), "ssdlite")
    assert _ours(mobcost, "ssdlite320_mobilenet_v3_large:torchvision", "--alpha", "0.75") == _torch_counts(model, 320)


def test_ssdlite_counts_at_the_size_its_transform_makes(mobcost):
    """torchvision resizes every image to 320×320 (`fixed_size`): at --res 256 the network still runs at 320, its
    published _ops 0.583 billion Mult-Adds (torchvision SSDLite320_MobileNet_V3_Large_Weights.COCO_V1)."""
    result = mobcost("table", "ssdlite320_mobilenet_v3_large:torchvision", "--res", "256", "-f", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["resolution"] == 320 and round(data["totals"]["macs"] / 10**9, 3) == 0.583
    assert "--res sizes the image (256×256)" in data["counting"]["resized"]
    table = mobcost("table", "ssdlite320_mobilenet_v3_large:torchvision", "--res", "256", "-f", "markdown").stdout
    assert "counted at 320×320" in table
