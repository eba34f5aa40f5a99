"""Makes tests/data/keras_mobilenet_v2_tf2onnx.onnx (run with tensorflow-cpu 2.15.1 and tf2onnx 1.16.1, in a venv of
their own; not part of the test suite): prints Keras' own counts, which tests/test_onnx_keras.py holds the import to.

Keras MobileNetV2 (weights=None, then every weight random so that tf2onnx drops no zero bias) through tf2onnx
(opset 13, NHWC input), saved without its weights: each initializer keeps its name, type and dims, its data is
external in a file that does not exist."""
import json, numpy as np, tensorflow as tf, tf2onnx, onnx
from onnx import TensorProto
tf.random.set_seed(0); rng = np.random.default_rng(0)
m = tf.keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
m.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) for w in m.get_weights()])
spec = (tf.TensorSpec((1, 224, 224, 3), tf.float32, name="input"),)
proto, _ = tf2onnx.convert.from_keras(m, input_signature=spec, opset=13)
for t in proto.graph.initializer:
    n = int(np.prod(t.dims)) if t.dims else 1
    if n > 16:
        for f in ("raw_data", "float_data", "int64_data", "int32_data"):
            t.ClearField(f)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", "weights_not_shipped.bin"), ("offset", "0"), ("length", str(4 * n))):
            e = t.external_data.add(); e.key, e.value = k, v
proto.producer_name += " (weights stripped: mobcost reads shapes only)"
onnx.save(proto, "keras_mobilenet_v2_tf2onnx.onnx")
macs = 0
for layer in m.layers:
    cfg = layer.get_config()
    if isinstance(layer, tf.keras.layers.DepthwiseConv2D):
        _, h, w, c = layer.output_shape; k = cfg["kernel_size"]; macs += k[0] * k[1] * h * w * c
    elif isinstance(layer, tf.keras.layers.Conv2D):
        _, h, w, c = layer.output_shape; k = cfg["kernel_size"]; macs += k[0] * k[1] * layer.input_shape[-1] * h * w * c
    elif isinstance(layer, tf.keras.layers.Dense):
        macs += layer.input_shape[-1] * cfg["units"]
bn = sum(int(l.input_shape[-1]) for l in m.layers if isinstance(l, tf.keras.layers.BatchNormalization))
print(json.dumps({"count_params": m.count_params(), "macs": macs, "bn_channels": bn}))
