"""Published figures of the MobileNetV3 appendix (Table 9) and of the seed article's Metal implementations, each
reproduced by `check` or explained by an erratum whose arithmetic is written out here.

Sources: Howard et al., "Searching for MobileNetV3" (arXiv 1905.02244, final version), Appendix A, Table 9;
M. Hollemans, "MobileNet version 2" (machinethink.net, 22 April 2018): "My Metal version of the V1 model has
4,254,889 parameters and the V2 model has 3,510,505".
"""

import json
import os
from decimal import Decimal
from fractions import Fraction

import pytest

import mobcost as mobcost_api

from mobcost.check import at_precision, check
from mobcost.language import load_model


def _table9(model: str) -> list:
    network, _ = load_model(model)
    return [r for r in check(network) if r.source == "MobileNetV3 Table 9"]


@pytest.mark.parametrize("model, rows", [("v3_large", 10), ("v3_small", 9)])
def test_mobilenet_v3_table_9_every_figure_agrees_or_is_explained(model, rows):
    results = _table9(model)
    assert len(results) == 2 * rows  # Mult-Adds and parameters of every row
    assert {r.status for r in results} <= {"ok", "erratum"}


TABLE_9_AGREE = {  # (model reference, million Mult-Adds, million parameters) as printed, that the arithmetic gives
    "MobileNetV3 Table 9 large 224/0.75": ("v3_large@0.75_224", "155", "4.0"),
    "MobileNetV3 Table 9 large 256/1.0 (MAdds)": ("v3_large@1.0_256", "282", None),
    "MobileNetV3 Table 9 large 96/1.0 (MAdds)": ("v3_large@1.0_96", "43", None),
    "MobileNetV3 Table 9 small 224/1.25": ("v3_small@1.25_224", "91", "3.6"),
    "MobileNetV3 Table 9 small 224/1.0": ("v3_small@1.0_224", "57", "2.5"),
    "MobileNetV3 Table 9 small 96/1.0": ("v3_small@1.0_96", "12", "2.5"),
}


@pytest.mark.parametrize("ref, macs, params", TABLE_9_AGREE.values(), ids=TABLE_9_AGREE.keys())
def test_table_9_rows_that_agree(ref, macs, params):
    a = mobcost_api.analyze(ref)
    assert at_precision(Fraction(a.macs, 10**6), macs, "nearest") == Decimal(macs)
    if params:
        assert at_precision(Fraction(a.params, 10**6), params, "nearest") == Decimal(params)


def test_table_9_large_1_25_parameters_are_the_unscaled_head_s():
    """7.5M is V3-Large 1.25 with its 1280-wide head kept (TF-slim scales it to 1600 for α > 1): the head's 1×1 conv
    reads the 1,200-wide last conv (make_divisible(960 · 1.25, 8)), so keeping 1280 saves 1,200 · 320 weights and
    320 biases, and the classifier 320 · 1,000 weights."""
    results = {r.key: r for r in _table9("v3_large") if r.model == "large 224/1.25"}
    scaled = int(results["params"].computed * 10**6)
    assert results["params"].status == "erratum" and results["macs"].status == "ok"
    kept = scaled - 1_200 * 320 - 320 - 320 * 1_000
    assert (scaled, kept) == (8_225_288, 7_520_968)
    assert at_precision(Fraction(kept, 10**6), "7.5", "nearest") == Decimal("7.5")


METAL_V1 = {  # the seed's figure: (the one command's options, its source and label in the config)
    "Hollemans 2018 Metal V1 4,254,889 = Keras' 4,253,864 + 1,024 + 1 (1,001 classes)":
        (["--params", "keras", "--classes", "1001"], 4_254_889, "Hollemans 2018 (Metal)", "Metal MobileNet V1"),
    "Hollemans 2017 Metal V1 4,221,032 = Keras' 4,253,864 - 3 x 10,944 (batch norm folded)":
        (["--params", "folded"], 4_221_032, "Hollemans 2017 (Metal)", "Metal MobileNet V1 (batch norm folded)"),
}


@pytest.mark.parametrize("options, figure, source, label", METAL_V1.values(), ids=METAL_V1.keys())
def test_metal_v1_in_one_command(mobcost, options, figure, source, label):
    result = mobcost("table", "v1:keras", *options, "-f", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["totals"]["params"] == figure
    assert {r.model: r.status for r in check(load_model("v1")[0]) if r.source == source} == {label: "ok"}


def test_metal_v1_against_keras_itself():
    """Keras' own MobileNet: count_params() at 1,001 classes, and at 1,000 with 3 of each batch norm's 4 terms
    (γ, β, mean, variance) folded away, one bias per channel left."""
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    assert keras.applications.MobileNet(weights=None, classes=1001).count_params() == 4_254_889
    model = keras.applications.MobileNet(weights=None)
    normalized = sum(layer.gamma.shape[0] for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization))
    assert (normalized, model.count_params() - 3 * normalized) == (10_944, 4_221_032)


def test_metal_v2_to_the_parameter():
    """3,510,505, from torchvision's MobileNetV2 at 1,001 classes: every weight and bias, the depthwise convs' batch
    norms kept whole (γ, β, mean, variance: 4 per channel), every other batch norm folded into a bias (1 per
    channel). Keras' count_params() would keep all of them whole (3,540,265)."""
    pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from torch import nn

    model = torchvision.models.mobilenet_v2(num_classes=1001)
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    weights = sum(p.numel() for m in convs for p in m.parameters())
    depthwise = sum(m.out_channels for m in convs if isinstance(m, nn.Conv2d) and m.groups == m.in_channels > 1)
    normalized = sum(m.num_features for m in norms)
    assert (weights, depthwise, normalized) == (3_472_041, 7_136, 17_056)
    assert weights + 4 * depthwise + (normalized - depthwise) == 3_510_505
    assert weights + 4 * normalized == 3_540_265  # Keras' count_params() at 1,001 classes, the config's erratum
    status = {r.model: r.status for r in check(load_model("v2")[0]) if r.source == "Hollemans 2018 (Metal)"}
    assert status == {"Metal MobileNetV2": "erratum"}
