"""The keras convention against Keras itself: model.count_params() and TensorFlow's `same` output sizes.

Keras 3 runs here on its PyTorch backend (pip install torch==2.13.0 '.[counters]'); skipped without it. The model
is built from the traced rows, one Keras layer per leaf kind, as tests/test_verify.py builds the PyTorch one.
"""

import os

import pytest
from zoo import MODELS, analysis

import mobcost
from mobcost.conventions import counted

pytest.importorskip("torch")
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
layers = keras.layers


def _padded(row, layer):
    """Keras takes `same` (TensorFlow's, asymmetric where it must be) and `valid`; a number of pixels pads first."""
    padding = row.layer.padding
    if isinstance(padding, int):
        return [layers.ZeroPadding2D(padding), layer("valid")]
    return [layer(padding)]


KERAS_LAYERS = {
    "conv": lambda row: _padded(row, lambda p: layers.Conv2D(row.output.c, row.layer.kernel, row.layer.stride, p,
                                                             use_bias=row.layer.bias)),
    "dw": lambda row: _padded(row, lambda p: layers.DepthwiseConv2D(row.layer.kernel, row.layer.stride, p,
                                                                    use_bias=row.layer.bias)),
    "pw": lambda row: [layers.Conv2D(row.output.c, 1, use_bias=row.layer.bias)],
    "avgpool": lambda row: ([layers.GlobalAveragePooling2D(keepdims=True)] if row.layer.kernel == "global" else
                            _padded(row, lambda p: layers.AveragePooling2D(row.layer.kernel, row.layer.stride, p))),
    "fc": lambda row: [layers.Flatten(), layers.Dense(row.output.c, use_bias=row.layer.bias),
                       layers.Reshape((1, 1, row.output.c))],
    "softmax": lambda row: [layers.Softmax()],
}
KERAS_ACTIVATION = {"relu": "relu", "relu6": "relu6", "hswish": "hard_swish", "hsigmoid": "hard_sigmoid",
                    "sigmoid": "sigmoid", "swish": "swish"}


def keras_model(a) -> tuple:
    """The traced network as a Keras model, and each row's Keras output shape (H, W, C)."""
    x = inputs = keras.Input((a.resolution, a.resolution, a.rows[0].input.c))
    shapes = []
    for row in a.rows:
        for layer in KERAS_LAYERS[row.kind](row):
            x = layer(x)
        if row.bn:
            x = layers.BatchNormalization()(x)
        if act := getattr(row.layer, "act", None):
            x = layers.Activation(KERAS_ACTIVATION[act])(x)
        shapes.append(tuple(x.shape[1:]))
    return keras.Model(inputs, x), shapes


@pytest.mark.parametrize("model", MODELS)
def test_keras_count_params(model):
    a = analysis(model)
    net, shapes = keras_model(a)
    assert shapes == [(row.output.h, row.output.w, row.output.c) for row in a.rows]
    assert net.count_params() == counted(a, "keras").params


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
