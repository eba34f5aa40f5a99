"""Keras MobileNetV2 through tf2onnx (NHWC input, TensorFlow's "same" as explicit pads, batch norms folded), imported
from a file made by tests/data/make_keras_mobilenet_v2.py with Keras 2.15 and tf2onnx 1.16.1: its weights stripped
(external data in a file that does not exist), so the import is held to reading shapes only.

Keras' own counts, printed by that script: `model.count_params()` = 3,538,984, of which 4 per batch-normalized channel
(γ, β, moving mean and variance) over 17,056 channels; Mult-Adds 300,774,272 by hand arithmetic over Keras' layers
(k·k·c_in·h·w·c_out per Conv2D, k·k·h·w·c per DepthwiseConv2D, c_in·units per Dense) — the MobileNetV2 paper's
300 million (Table 3). Needs onnx only.
"""

from pathlib import Path

import pytest

pytest.importorskip("onnx")

from mobcost import analyze  # noqa: E402
from mobcost.importers.onnx import import_onnx  # noqa: E402
from mobcost.language import parse_spec  # noqa: E402

FILE = Path(__file__).parent / "data" / "keras_mobilenet_v2_tf2onnx.onnx"
KERAS_COUNT_PARAMS, KERAS_BN_CHANNELS, KERAS_MACS = 3_538_984, 17_056, 300_774_272


def test_keras_mobilenet_v2_through_tf2onnx_imports_exactly():
    result = analyze(parse_spec(import_onnx(FILE)))
    assert result.macs == KERAS_MACS
    # folded: each batch norm's four values per channel became the conv's one bias
    assert result.params == KERAS_COUNT_PARAMS - 3 * KERAS_BN_CHANNELS
    assert not result.uncounted


def test_the_file_stays_small():
    assert FILE.stat().st_size < 200_000
