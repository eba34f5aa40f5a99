"""The keras convention against Keras itself: model.count_params() and TensorFlow's `same` output sizes.

Keras 3 runs here on its PyTorch backend (pip install torch '.[counters]'); skipped without it. The model
is built from the traced rows, one Keras layer per leaf kind, as tests/test_verify.py builds the PyTorch one.
"""

import os

import pytest
from zoo import MODELS, analysis

import mobcost
from mobcost.conventions import totals
from mobcost.trace import hw

pytest.importorskip("torch")
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
layers = keras.layers
pytest.importorskip("mobcost.verify")


def _padded(row, layer):
    """Keras takes `same` (TensorFlow's, asymmetric where it must be) and `valid`. A number of pixels pads first, plus
    what a ceil-mode pool's last window reaches past the input (Keras has no ceil mode; the counts are the same)."""
    padding = row.layer.padding
    if padding == "same" or (padding == "valid" and not getattr(row.layer, "ceil_mode", False)):
        return [layer(padding)]
    pad = 0 if padding == "valid" else padding
    k, s = row.layer.kernel, row.layer.stride
    extra = [max(0, (out - 1) * s + k - (n + 2 * pad)) for n, out in ((row.input.h, row.output.h),
                                                                       (row.input.w, row.output.w))]
    return [layers.ZeroPadding2D(((pad, pad + extra[0]), (pad, pad + extra[1]))), layer("valid")]


KERAS_LAYERS = {
    "conv": lambda row: _padded(row, lambda p: layers.Conv2D(row.output.c, row.layer.kernel, row.layer.stride, p,
                                                             dilation_rate=row.layer.dilation,
                                                             groups=row.layer.groups, use_bias=row.layer.bias)),
    "dw": lambda row: _padded(row, lambda p: layers.DepthwiseConv2D(row.layer.kernel, row.layer.stride, p,
                                                                    dilation_rate=row.layer.dilation,
                                                                    use_bias=row.layer.bias)),
    "pw": lambda row: [layers.Conv2D(row.output.c, 1, use_bias=row.layer.bias)],
    # Keras has no adaptive pool to a fixed size: a resize to it has the same shape and no weights
    "avgpool": lambda row: ([layers.Resizing(*row.layer.output)] if row.layer.output else
                            [layers.GlobalAveragePooling2D(keepdims=True)] if row.layer.kernel == "global" else
                            _padded(row, lambda p: layers.AveragePooling2D(row.layer.kernel, row.layer.stride, p))),
    "maxpool": lambda row: _padded(row, lambda p: layers.MaxPooling2D(row.layer.kernel, row.layer.stride, p)),
    "fc": lambda row: [layers.Flatten(), layers.Dense(row.output.c, use_bias=row.layer.bias),
                       layers.Reshape((1, 1, row.output.c))],
    "softmax": lambda row: [layers.Softmax()],
    "lrn": lambda row: [layers.Identity()],  # Keras has no LRN layer; it has no weights
    "dropout": lambda row: [layers.Dropout(row.layer.p)],
    "flatten": lambda row: [layers.Flatten(), layers.Reshape((1, 1, row.input.size))],
    "add": lambda row: [layers.Add()],
    "scale": lambda row: [layers.Multiply()],
    "concat": lambda row: [layers.Concatenate()],
    # the first input resized to the row's output (a second input, `size_of`, is read for its size only)
    "upsample": lambda row: [layers.Lambda(lambda xs: xs[0] if isinstance(xs, list) else xs),
                             layers.Resizing(row.output.h, row.output.w, row.layer.mode)],
    "split": lambda row: [layers.Lambda(lambda x, k=row.output.c, t=row.layer.take: x[..., t * k:(t + 1) * k])],
    "shuffle": lambda row: [layers.Reshape((row.input.h, row.input.w, row.layer.groups, -1)),
                            layers.Permute((1, 2, 4, 3)), layers.Reshape((row.input.h, row.input.w, row.input.c))],
}
KERAS_ACTIVATION = {"relu": "relu", "relu6": "relu6", "hswish": "hard_swish", "hsigmoid": "hard_sigmoid",
                    "sigmoid": "sigmoid", "swish": "swish", "silu": "silu", "hardswish": "hard_swish",
                    "hardsigmoid": "hard_sigmoid", "gelu": "gelu", "leaky_relu": "leaky_relu"}


def keras_model(a) -> tuple:
    """The traced network as a Keras model, each row fed the tensors it reads (`Analysis.sources`), and each
    row's Keras output shape (H, W, C)."""
    values = [keras.Input((*hw(a.resolution), a.rows[0].input.c))]  # height × width
    for row, read in zip(a.rows, a.sources()):
        inputs = [values[j] for j in read]
        first, *rest = KERAS_LAYERS[row.kind](row)
        x = first(inputs if len(inputs) > 1 else inputs[0])
        for layer in rest:
            x = layer(x)
        if row.bn:
            x = layers.BatchNormalization()(x)
        if act := getattr(row.layer, "act", None):
            x = layers.Activation(KERAS_ACTIVATION[act])(x)
        values.append(x)
    index = {row.name: j + 1 for j, row in enumerate(a.rows)}  # the network's outputs: a detector has several
    outputs = [values[index[name]] for name in a.returned]
    return keras.Model(values[0], outputs), [tuple(x.shape[1:]) for x in values[1:]]


@pytest.mark.parametrize("model", MODELS)
def test_keras_count_params(model):
    a = analysis(model)
    net, shapes = keras_model(a)
    assert shapes == [(row.output.h, row.output.w, row.output.c) for row in a.rows]
    assert net.count_params() == totals(a, "keras")[1]


def test_same_padding_is_tensorflows_for_even_kernels_too():
    """TensorFlow's `same`: ceil(n / stride) outputs for any kernel (PyTorch's k // 2 keeps that only for odd k)."""
    spec = """
name: even
title: Even kernels
input: {resolution: 9}
layers:
  - {kind: conv, kernel: 2, stride: 2, out: 3}
  - {kind: dw, kernel: 4, stride: 2}
  - {kind: conv, kernel: 2, out: 4}
"""
    a = mobcost.analyze(mobcost.parse_spec(spec))
    _, shapes = keras_model(a)
    assert shapes == [(5, 5, 3), (3, 3, 3), (3, 3, 4)]  # ceil(9 / 2), ceil(5 / 2), 3
    assert shapes == [(row.output.h, row.output.w, row.output.c) for row in a.rows]


# ---- the `keras` variants against Keras Applications' own builders ------------------------------------------

APPLICATIONS = [("v1:keras", "MobileNet", 1.0), ("v1:keras", "MobileNet", 0.5),
                ("v2:keras", "MobileNetV2", 1.0), ("v2:keras", "MobileNetV2", 0.35),
                ("v2:keras", "MobileNetV2", 0.28),  # int(0.28 · 96) = 26 → 24 channels, TF-slim's 26.88 → 32
                ("v3_large:keras", "MobileNetV3Large", 0.75), ("v3_large:keras", "MobileNetV3Large", 0.6),
                ("v3_small:keras", "MobileNetV3Small", 1.0), ("v3_small:keras", "MobileNetV3Small", 0.6)]


@pytest.mark.parametrize(("model", "builder", "alpha"), APPLICATIONS, ids=[f"{m}@{a}" for m, _, a in APPLICATIONS])
def test_keras_variant_is_keras_applications_network(model, builder, alpha):
    """keras.applications' own model, count_params() (V1 at α = 1: 4,253,864, the figure keras.io prints; V2:
    3,538,984, the keras.io Applications table's)."""
    built = getattr(keras.applications, builder)(weights=None, alpha=alpha, input_shape=(224, 224, 3))
    assert mobcost.analyze(model, alpha=alpha).params_counted("keras") == built.count_params()


def test_the_tf_slim_v3_small_is_not_keras_at_alpha_0_6():
    """Keras' last conv is 6 × its input, 6 · make_divisible(0.6 · 96) = 336; TF-slim's make_divisible(0.6 · 576) =
    344."""
    rows = {row.name: row for row in mobcost.analyze("v3_small", alpha=0.6).rows}
    assert rows["last"].output.c == 344
    rows = {row.name: row for row in mobcost.analyze("v3_small:keras", alpha=0.6).rows}
    assert rows["last"].output.c == 6 * 56 == 336
