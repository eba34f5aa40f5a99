"""Every width a user can ask of an implementation's variant, held to that implementation's own model: α from 0.01
to 3.00 in steps of 0.01, parameters counted by the library (torchvision: Σ numel of the model it builds; Keras:
count_params()) against `params_counted` of the variant traced at that α.

The implementations compute α·c as a float product and round it (`_make_divisible(c * width_mult, 8)`), so at
the α where α·c is 8k + 4 and the product lands just below (V3-Large at 0.58: 8·… + 4) they round down where exact
arithmetic rounds up; the configs declare `width_arithmetic: float`. Parameters alone are compared: a width
shows in them (Mult-Adds follow from the same widths, and tests/test_reference.py holds those at chosen α).

torchvision models are built without weights and with initialization skipped (a few milliseconds each). A Keras
model takes half a second to build, so the Keras scan runs in full only with MOBCOST_FULL_SCAN=1; otherwise at
every 0.05, at the α where exact and float arithmetic give different widths for that network, and where Keras'
MobileNetV2 truncation matters.
"""

import contextlib
import os
from fractions import Fraction
from unittest import mock

import pytest

from mobcost.language import load_model
from mobcost.trace import trace

ALPHAS = [i / 100 for i in range(1, 301)]


@contextlib.contextmanager
def _no_init(torch):
    """Build modules without initializing their weights: the counts do not depend on the values."""
    with contextlib.ExitStack() as stack:
        for name in ("kaiming_normal_", "kaiming_uniform_", "normal_", "zeros_", "ones_", "uniform_", "constant_",
                     "xavier_uniform_", "trunc_normal_"):
            stack.enter_context(mock.patch.object(torch.nn.init, name, lambda tensor, *args, **kwargs: tensor))
        yield


TORCHVISION = {
    "v2:torchvision": lambda tv, a: tv.mobilenet_v2(width_mult=a),
    "v3_large:torchvision": lambda tv, a: tv.mobilenet_v3_large(width_mult=a),
    "v3_small:torchvision": lambda tv, a: tv.mobilenet_v3_small(width_mult=a),
    "mnasnet:torchvision": lambda tv, a: tv.MNASNet(a),
}


@pytest.mark.parametrize("model", TORCHVISION)
def test_torchvision_every_width(model):
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision.models")
    net, _ = load_model(model)
    wrong = []
    for alpha in ALPHAS:
        with _no_init(torch):
            built = TORCHVISION[model](tv, alpha)
        theirs = sum(p.numel() for p in built.parameters())
        ours = trace(net, alpha).params_counted("torch")
        if ours != theirs:
            wrong.append((alpha, ours - theirs))
    assert wrong == []


def test_float_arithmetic_is_the_difference():
    """V3-Large at α = 0.58: the ninth block's expansion (Table 1's exp size 200) is 0.58 · 200 = 116 = 8·14 + 4,
    which make_divisible rounds up to 120; the float product is 115.99999999999999, and
    int(115.99… + 4) // 8 · 8 = 112 (112 ≥ 0.9 · 116, so no step up). Nothing else changes."""
    assert 0.58 * 200 < 116 and 112 >= 0.9 * 116
    net, _ = load_model("v3_large:torchvision")
    exact = net.model_copy(update={"width_arithmetic": "exact"})
    changed = [(row.name, before.output.c, row.output.c)
               for row, before in zip(trace(net, 0.58).rows, trace(exact, 0.58).rows) if row.output.c != before.output.c]
    assert changed == [("bneck8/expand", 120, 112), ("bneck8/dw", 120, 112)]


KERAS = {"v1:keras": "MobileNet", "v2:keras": "MobileNetV2", "v3_large:keras": "MobileNetV3Large",
         "v3_small:keras": "MobileNetV3Small"}


def _keras_alphas(model: str) -> list[float]:
    if os.environ.get("MOBCOST_FULL_SCAN"):
        return ALPHAS
    net, _ = load_model(model)
    exact = net.model_copy(update={"width_arithmetic": "exact"})
    differ = [a for a in ALPHAS if trace(net, a).params != trace(exact, a).params]
    # and where Keras MobileNetV2 truncates before rounding (int(0.28 · 96) = 26 → 24, TF-slim's 26.88 → 32)
    return sorted({a for a in ALPHAS if Fraction(str(a)) % Fraction(1, 20) == 0} | set(differ) | {0.28, 0.56, 1.12})


@pytest.mark.parametrize("model", KERAS)
def test_keras_widths(model):
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    make = getattr(keras.applications, KERAS[model])
    options = {"include_preprocessing": False} if "v3" in model else {}
    net, _ = load_model(model)
    wrong = []
    for alpha in _keras_alphas(model):
        try:
            theirs = make(weights=None, alpha=alpha, input_shape=(224, 224, 3), **options).count_params()
            keras.backend.clear_session()  # memory stays flat over hundreds of models
        except ValueError as e:  # Keras refuses a layer of 0 filters: mobcost must refuse that α too
            theirs = f"refused: {e}"
        try:
            ours = trace(net, alpha).params_counted("keras")
        except Exception as e:
            ours = f"refused: {e}"
        if isinstance(ours, str) != isinstance(theirs, str) or (isinstance(ours, int) and ours != theirs):
            wrong.append((alpha, ours, theirs))
    assert wrong == []
