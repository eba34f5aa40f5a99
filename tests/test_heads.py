"""The tasks MobileNets exist for: detection (SSD, SSDLite) and segmentation (DeepLabv3, LR-ASPP) heads, and the V1
paper's face tasks, against torchvision run for real, hand arithmetic, and the papers' printed figures."""

from fractions import Fraction

import pytest

import mobcost
from mobcost.check import check_reference
from mobcost.spec import load_model
from test_trace import v1_by_hand

HEADS = ()
TASKS = [(name, ref) for name in HEADS for ref in load_model(name)[0].reference]
TASKS += [("mobilenet_v1", ref) for ref in load_model("mobilenet_v1")[0].reference
          if ref.source in ("MobileNets V1 Table 12", "MobileNets V1 Table 14")]


@pytest.mark.parametrize("name, ref", TASKS, ids=[f"{ref.source}: {ref.label}" for _, ref in TASKS])
def test_published_figure_agrees_or_is_an_explained_erratum(name, ref):
    for result in check_reference(load_model(name)[0], ref):
        assert result.status != "FAIL", result.note
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
