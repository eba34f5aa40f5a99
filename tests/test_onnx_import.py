"""The ONNX importer on graphs built by hand with onnx.helper: each operator rule held to arithmetic, without torch.

Every weight here is an initializer whose data is external, in a file that does not exist: the importer reads
only shapes, so a test that passed while reading a weight could not pass at all.
"""

import json

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from mobcost import analyze  # noqa: E402
from mobcost.importers.onnx import import_onnx  # noqa: E402
from mobcost.language import MobcostError, parse_spec  # noqa: E402
from mobcost.layers import Shape  # noqa: E402


class Graph:
    """A graph under construction: weights as external-data initializers (never written), small constants inline."""

    def __init__(self, shape=(1, 3, 32, 32), name="x"):
        self.nodes, self.inits, self.count = [], [], 0
        self.input = helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))
        self.last = name

    def _fresh(self, stem):
        self.count += 1
        return f"{stem}{self.count}"

    def weight(self, *dims):
        name = self._fresh("w")
        tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(dims))
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "missing_weights.bin"), ("offset", "0"), ("length", str(4 * _prod(dims)))):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        self.inits.append(tensor)
        return name

    def const(self, *values, dtype=TensorProto.FLOAT, dims=None):
        name = self._fresh("c")
        self.inits.append(helper.make_tensor(name, dtype, [] if dims is None else dims, list(values)))
        return name

    def op(self, op_type, inputs=None, name=None, **attrs):
        out = self._fresh("t")
        node_name = name if name is not None else self._fresh(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs if inputs is not None else [self.last], [out],
                                           name=node_name, **attrs))
        self.last = out
        return out

    def conv(self, c_in, out, k=3, stride=1, pad=None, group=1, bias=False, src=None, **attrs):
        pad = (k - 1) // 2 if pad is None else pad
        inputs = [src or self.last, self.weight(out, c_in // group, k, k)] + ([self.weight(out)] if bias else [])
        return self.op("Conv", inputs, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=group,
                       **attrs)

    def bn(self, c):
        return self.op("BatchNormalization", [self.last] + [self.weight(c) for _ in range(4)])

    def save(self, path, outputs=None):
        outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in (outputs or [self.last])]
        graph = helper.make_graph(self.nodes, "net", [self.input], outs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        onnx.save(model, str(path))
        return path


def _prod(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def spec_of(path, **kwargs):
    return parse_spec(import_onnx(path, **kwargs))


def layers_of(path, **kwargs):
    return [layer.model_dump(exclude_none=True, by_alias=True) for layer in spec_of(path, **kwargs).layers]


# ---- convolutions --------------------------------------------------------------------------------------------

def test_a_standard_conv(tmp_path):
    g = Graph()
    g.conv(3, 8, k=3, stride=2, pad=1, bias=True)
    result = analyze(spec_of(g.save(tmp_path / "m.onnx")))
    assert result.rows[0].kind == "conv" and result.rows[0].output.h == 16
    assert result.macs == 3 * 3 * 3 * 8 * 16 * 16
    assert result.params == 3 * 3 * 3 * 8 + 8


def test_depthwise_when_groups_equal_the_channels(tmp_path):
    g = Graph((1, 8, 16, 16))
    g.conv(8, 8, k=3, stride=1, group=8)
    result = analyze(spec_of(g.save(tmp_path / "m.onnx")))
    assert result.rows[0].kind == "dw"
    assert (result.macs, result.params) == (3 * 3 * 8 * 16 * 16, 3 * 3 * 8)


def test_pointwise_when_one_by_one(tmp_path):
    g = Graph((1, 8, 16, 16))
    g.conv(8, 24, k=1, pad=0)
    result = analyze(spec_of(g.save(tmp_path / "m.onnx")))
    assert result.rows[0].kind == "pw"
    assert (result.macs, result.params) == (8 * 24 * 16 * 16, 8 * 24)


def test_grouped_conv(tmp_path):
    g = Graph((1, 8, 16, 16))
    g.conv(8, 16, k=3, group=2)
    result = analyze(spec_of(g.save(tmp_path / "m.onnx")))
    assert result.rows[0].layer.groups == 2
    assert (result.macs, result.params) == (3 * 3 * (8 // 2) * 16 * 16 * 16, 3 * 3 * (8 // 2) * 16)


def test_batch_norm_attaches_to_its_conv(tmp_path):
    g = Graph()
    g.conv(3, 8, k=3)
    g.bn(8)
    result = analyze(spec_of(g.save(tmp_path / "m.onnx")))
    assert len(result.rows) == 1 and result.rows[0].layer.bn
    assert result.params_counted("torch") == 3 * 3 * 3 * 8 + 2 * 8  # γ and β per channel


def test_tensorflow_same_padding_is_same(tmp_path):
    g = Graph((1, 3, 32, 32))
    g.op("Conv", [g.last, g.weight(8, 3, 3, 3)], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1])
    result = analyze(spec_of(g.save(tmp_path / "m.onnx")))
    assert result.rows[0].layer.padding == "same" and result.rows[0].output.h == 16  # ceil(32 / 2)


# ---- activations ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op, inputs, attrs, act", [
    ("Relu", 0, {}, "relu"),
    ("Clip", 2, {}, "relu6"),
    ("HardSwish", 0, {}, "hswish"),
    ("HardSigmoid", 0, {"alpha": 1 / 6}, "hsigmoid"),
    ("Sigmoid", 0, {}, "sigmoid"),
])
def test_activations(tmp_path, op, inputs, attrs, act):
    g = Graph()
    x = g.conv(3, 8)
    g.op(op, [x] + ([g.const(0.0), g.const(6.0)] if inputs else []), **attrs)
    assert layers_of(g.save(tmp_path / "m.onnx"))[0]["act"] == act


def test_x_times_sigmoid_x_is_swish(tmp_path):
    g = Graph()
    x = g.conv(3, 8)
    s = g.op("Sigmoid", [x])
    g.op("Mul", [x, s])
    layers = layers_of(g.save(tmp_path / "m.onnx"))
    assert len(layers) == 1 and layers[0]["act"] == "swish"


def test_clip_other_than_relu6_is_not_guessed(tmp_path):
    g = Graph()
    x = g.conv(3, 8)
    g.op("Clip", [x, g.const(-1.0), g.const(1.0)], name="clamp")
    with pytest.raises(MobcostError, match=r"Clip × 1: Clip\(-1.0, 1.0\): only Clip\(0, 6\) is ReLU6 \(node 'clamp'\)"):
        import_onnx(g.save(tmp_path / "m.onnx"))


# ---- fully connected, pooling, reshaping ---------------------------------------------------------------------

def test_classifier_head(tmp_path):
    g = Graph((1, 64, 7, 7))
    g.op("GlobalAveragePool")
    g.op("Flatten", axis=1)
    g.op("Gemm", [g.last, g.weight(10, 64), g.weight(10)], transB=1)
    g.op("Softmax", axis=1)
    result = analyze(spec_of(g.save(tmp_path / "m.onnx")))
    assert [r.kind for r in result.rows] == ["avgpool", "flatten", "fc", "softmax"]
    assert (result.macs, result.params) == (64 * 10, 64 * 10 + 10)
    assert result.network.classes == 10  # the last fc is the classifier: α leaves it alone
    assert analyze(result.network, alpha=0.5).rows[2].output.c == 10


def test_matmul_and_add_is_a_fully_connected_layer_with_biases(tmp_path):
    g = Graph((1, 32, 1, 1))
    g.op("Reshape", [g.last, g.const(1, 32, dtype=TensorProto.INT64, dims=[2])])
    g.op("MatMul", [g.last, g.weight(32, 5)])
    g.op("Add", [g.last, g.weight(5)])
    result = analyze(spec_of(g.save(tmp_path / "m.onnx")))
    assert (result.macs, result.params) == (32 * 5, 32 * 5 + 5)


@pytest.mark.parametrize("op, attrs, side", [
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, (32 + 2 - 3) // 2 + 1),
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}, 16),  # ⌈(32 − 3) / 2⌉ + 1 = 16
    ("AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2]}, 16),
    ("GlobalAveragePool", {}, 1),
])
def test_pooling(tmp_path, op, attrs, side):
    g = Graph((1, 8, 32, 32))
    g.op(op, **attrs)
    result = analyze(spec_of(g.save(tmp_path / "m.onnx")))
    assert result.rows[0].output == type(result.rows[0].output)(side, side, 8) and result.macs == 0


def test_reduce_mean_over_height_and_width_is_a_global_pool(tmp_path):
    g = Graph((1, 8, 7, 7))
    g.op("ReduceMean", [g.last, g.const(2, 3, dtype=TensorProto.INT64, dims=[2])], keepdims=1)
    assert layers_of(g.save(tmp_path / "m.onnx"))[0]["kind"] == "avgpool"


# ---- joins: residual adds, concatenations, squeeze-and-excite ------------------------------------------------

def test_an_add_of_a_fork_is_a_residual_block(tmp_path):
    g = Graph((1, 16, 8, 8))
    x = g.last
    g.conv(16, 16, k=3)
    g.op("Relu")
    g.conv(16, 16, k=3)
    g.op("Add", [x, g.last])
    (block,) = layers_of(g.save(tmp_path / "m.onnx"))
    assert block["kind"] == "residual" and [layer["kind"] for layer in block["layers"]] == ["conv", "conv"]
    assert not block.get("shortcut")
    assert analyze(spec_of(tmp_path / "m.onnx")).macs == 2 * 3 * 3 * 16 * 16 * 8 * 8


def test_concatenated_branches_keep_their_order(tmp_path):
    g = Graph((1, 16, 8, 8))
    x = g.last
    a = g.conv(16, 4, k=1, pad=0, src=x)
    b = g.conv(16, 8, k=3, src=x)
    g.op("Concat", [x, b, a], axis=1)
    (block,) = layers_of(g.save(tmp_path / "m.onnx"))
    assert block["kind"] == "concat" and [len(branch) for branch in block["branches"]] == [0, 1, 1]
    assert [branch[0]["out"] for branch in block["branches"][1:]] == [8, 4]
    assert analyze(spec_of(tmp_path / "m.onnx")).rows[-1].output.c == 16 + 8 + 4


def squeeze_excite(g, c, squeeze, act="Relu", gate="HardSigmoid"):
    x = g.last
    g.op("GlobalAveragePool")
    g.conv(c, squeeze, k=1, pad=0, bias=True)
    g.op(act)
    g.conv(squeeze, c, k=1, pad=0, bias=True)
    g.op(gate)
    return g.op("Mul", [x, g.last])


def test_a_gated_mul_is_squeeze_and_excite(tmp_path):
    g = Graph((1, 72, 14, 14))
    squeeze_excite(g, 72, 24)  # MobileNetV3: make_divisible(72 / 4, 8) = 24
    (layer,) = layers_of(g.save(tmp_path / "m.onnx"))
    assert layer["kind"] == "se"
    result = analyze(spec_of(tmp_path / "m.onnx"))
    assert result.macs == 72 * 24 + 24 * 72 and result.params == 72 * 24 + 24 + 24 * 72 + 72


def test_inverted_residuals_fold_into_one_bottleneck_row(tmp_path):
    g = Graph((1, 16, 28, 28))

    def relu6():
        g.op("Clip", [g.last, g.const(0.0), g.const(6.0)])

    def block(c_in, out, t, stride):
        x, e = g.last, c_in * t
        g.conv(c_in, e, k=1, pad=0)
        g.bn(e)
        relu6()
        g.conv(e, e, k=3, stride=stride, group=e)
        g.bn(e)
        relu6()
        g.conv(e, out, k=1, pad=0)
        g.bn(out)
        if stride == 1 and c_in == out:
            g.op("Add", [x, g.last])

    block(16, 24, 6, 2)
    block(24, 24, 6, 1)
    (layer,) = spec_of(g.save(tmp_path / "m.onnx")).layers
    assert (layer.kind, layer.t, layer.out, layer.n, layer.stride, layer.act) == ("bottleneck", 6, 24, 2, 2, "relu6")
    e1, e2 = 16 * 6, 24 * 6
    assert analyze(spec_of(tmp_path / "m.onnx")).macs == (16 * e1 * 28 * 28 + 9 * e1 * 14 * 14 + e1 * 24 * 14 * 14
                                                          + 24 * e2 * 14 * 14 + 9 * e2 * 14 * 14 + e2 * 24 * 14 * 14)


def test_separable_pairs_and_repeats(tmp_path):
    g = Graph((1, 32, 14, 14))
    for _ in range(3):
        g.conv(32, 32, k=3, group=32)
        g.bn(32)
        g.op("Relu")
        g.conv(32, 32, k=1, pad=0)
        g.bn(32)
        g.op("Relu")
    (layer,) = layers_of(g.save(tmp_path / "m.onnx"))
    assert layer["repeat"] == 3 and layer["layers"][0]["kind"] == "separable"


# ---- what the importer refuses, and how ----------------------------------------------------------------------

def unknown_graph(tmp_path):
    g = Graph((1, 8, 8, 8))
    g.conv(8, 8, k=3)
    g.op("Erf", name="mystery")
    g.op("Tanh", name="other")
    return g.save(tmp_path / "m.onnx")


def test_a_refusal_names_each_root_cause_once_not_the_nodes_after_it(tmp_path, mobcost):
    result = mobcost("import", str(unknown_graph(tmp_path)))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Erf × 1: an erf that is not GELU's (node 'mystery')" in result.stderr
    assert "'other'" not in result.stderr  # Tanh fails only because it reads Erf's output
    assert "1 node(s) after these, reading what they give, fail with them or go unexamined" in result.stderr
    assert "--unknown zero" in result.stderr


def test_a_refusal_counts_each_operator_and_stays_short(tmp_path):
    g = Graph((1, 8, 8, 8))
    long = "/features/" + "block." * 30 + "Erf"  # whole names: longer than 64 characters
    for i in range(40):
        g.op("Erf", [g.conv(8, 8, k=1, pad=0)], name=f"{long}{i}")
        g.op("Relu")
    with pytest.raises(MobcostError) as e:
        import_onnx(g.save(tmp_path / "m.onnx"))
    text = str(e.value)
    assert "(Erf × 40)" in text and f"'{long}0'" in text and "and 37 more" in text
    assert len(text.splitlines()) <= 20


def test_unknown_zero_records_a_marked_row(tmp_path, mobcost):
    out = tmp_path / "m.yaml"
    assert mobcost("import", str(unknown_graph(tmp_path)), "--unknown", "zero", "-o", str(out)).exit_code == 0
    result = mobcost("table", str(out), "-f", "markdown")
    assert result.exit_code == 0
    assert "| mystery | Unknown / s1 | Erf: not counted |" in result.stdout
    assert "mystery: no rule for ONNX Erf: not counted" in result.stdout
    assert "Not counted: 2 imported operator(s) mobcost has no rule for (Erf × 1, Tanh × 1)" in result.stdout
    assert analyze(str(out)).macs == 3 * 3 * 8 * 8 * 8 * 8
    data = json.loads(mobcost("table", str(out), "-f", "json").stdout)
    assert data["counting"]["uncounted"] == {"Erf": 1, "Tanh": 1}


def test_unknown_zero_keeps_the_inferred_shape_and_every_input(tmp_path):
    """An unknown operator that halves the size and reads two tensors: the conv after it sees the real 4×4×8
    (ONNX shape inference's), and both inputs are read; nothing takes the first input's shape."""
    g = Graph((1, 8, 8, 8))
    a = g.conv(8, 8, k=1, pad=0)
    b = g.conv(8, 8, k=1, pad=0, src="x")
    g.op("Pow", [a, b], name="mix")  # two tensors, no rule
    g.op("MaxRoiPool", [g.last, g.const(0.0, 0.0, 0.0, 7.0, 7.0, dims=[1, 5])], name="roi", pooled_shape=[4, 4])
    g.conv(8, 16, k=1, pad=0)
    spec = spec_of(g.save(tmp_path / "m.onnx"), unknown="zero")
    result = analyze(spec)
    rows = {r.layer.op: r for r in result.rows if r.kind == "unknown"}
    assert rows["MaxRoiPool"].output == Shape(4, 4, 8) and len(rows["Pow"].reads) == 2
    assert result.rows[-1].macs == 8 * 16 * 4 * 4
    assert result.uncounted == {"Pow": 1, "MaxRoiPool": 1} and result.macs == 2 * 8 * 8 * 64 + 8 * 16 * 16


def test_unknown_zero_refuses_where_shape_inference_gives_no_shape(tmp_path):
    g = Graph((1, 8, 8, 8))
    g.conv(8, 8, k=1, pad=0)
    g.op("NoSuchOp", name="mystery")  # no schema: inference gives no shape
    with pytest.raises(MobcostError, match="'mystery'.*gives no shape.*never a guess"):
        import_onnx(g.save(tmp_path / "m.onnx"), unknown="zero")


# ---- the rules for what exporters write beyond a plain chain --------------------------------------------------

def test_a_pad_before_a_conv_is_its_padding(tmp_path):
    """timm's tf_ models: an explicit Pad (0 top/left, 1 bottom/right) before a stride-2 conv: TensorFlow's same."""
    g = Graph((1, 3, 224, 224))
    g.op("Pad", [g.last, g.const(0, 0, 0, 0, 0, 0, 1, 1, dtype=TensorProto.INT64, dims=[8])], name="pad")
    g.conv(3, 16, k=3, stride=2, pad=0)
    (conv,) = layers_of(g.save(tmp_path / "m.onnx"))
    assert conv["padding"] == "same"
    assert analyze(spec_of(tmp_path / "m.onnx")).macs == 3 * 3 * 3 * 16 * 112 * 112


def test_a_dilated_conv(tmp_path):
    g = Graph((1, 8, 14, 14))
    g.conv(8, 8, k=3, pad=2, group=8, dilations=[2, 2])
    (dw,) = layers_of(g.save(tmp_path / "m.onnx"))
    assert (dw["kind"], dw["dilation"], dw["padding"]) == ("dw", 2, 2)
    assert analyze(spec_of(tmp_path / "m.onnx")).macs == 3 * 3 * 8 * 14 * 14


def test_resize_is_an_upsample(tmp_path):
    g = Graph((1, 8, 7, 7))
    g.op("Resize", [g.last, "", g.const(1.0, 1.0, 2.0, 2.0, dims=[4])], mode="linear")
    g.conv(8, 4, k=1, pad=0)
    up, pw = layers_of(g.save(tmp_path / "m.onnx"))
    assert (up["kind"], up["scale"], up["mode"]) == ("upsample", 2, "bilinear")
    assert analyze(spec_of(tmp_path / "m.onnx")).macs == 8 * 4 * 14 * 14


def test_channel_split_and_shuffle(tmp_path):
    """ShuffleNetV2's unit: split the channels in two, convolve one half, concatenate, shuffle in 2 groups."""
    g = Graph((1, 16, 8, 8))
    x = g.last
    half = [g.const(0, dtype=TensorProto.INT64, dims=[1]), g.const(8, dtype=TensorProto.INT64, dims=[1])]
    rest = [g.const(8, dtype=TensorProto.INT64, dims=[1]), g.const(16, dtype=TensorProto.INT64, dims=[1])]
    axis = g.const(1, dtype=TensorProto.INT64, dims=[1])
    left = g.op("Slice", [x, *half, axis])
    right = g.conv(8, 8, k=1, pad=0, src=g.op("Slice", [x, *rest, axis]))
    g.op("Concat", [left, right], axis=1)
    g.op("Reshape", [g.last, g.const(1, 2, 8, 8, 8, dtype=TensorProto.INT64, dims=[5])])
    g.op("Transpose", perm=[0, 2, 1, 3, 4])
    g.op("Reshape", [g.last, g.const(1, 16, 8, 8, dtype=TensorProto.INT64, dims=[4])])
    g.conv(16, 4, k=1, pad=0)
    concat, shuffle, _ = layers_of(g.save(tmp_path / "m.onnx"))
    assert [b[0]["kind"] for b in concat["branches"]] == ["split", "split"]
    assert (shuffle["kind"], shuffle["groups"]) == ("shuffle", 2)
    assert analyze(spec_of(tmp_path / "m.onnx")).macs == 8 * 8 * 8 * 8 + 16 * 4 * 8 * 8


def test_a_slice_of_uneven_channels_is_a_slice(tmp_path):
    g = Graph((1, 12, 4, 4))
    g.op("Slice", [g.last, g.const(0, dtype=TensorProto.INT64, dims=[1]), g.const(10, dtype=TensorProto.INT64,
                                                                                     dims=[1]),
                   g.const(1, dtype=TensorProto.INT64, dims=[1])])
    g.conv(10, 4, k=1, pad=0)
    cut, _ = layers_of(g.save(tmp_path / "m.onnx"))
    assert (cut["kind"], cut.get("start", 0), cut["stop"]) == ("slice", 0, 10)
    assert analyze(spec_of(tmp_path / "m.onnx")).macs == 10 * 4 * 4 * 4


def test_a_gate_that_is_not_an_se_is_a_scale(tmp_path):
    """LR-ASPP: one branch's 1×1 conv, times a sigmoid gate pooled from the same input on another branch."""
    g = Graph((1, 16, 8, 8))
    x = g.last
    s = g.conv(16, 8, k=1, pad=0)
    g.op("GlobalAveragePool", [x])
    g.conv(16, 8, k=1, pad=0)
    gate = g.op("Sigmoid")
    g.op("Mul", [s, gate], name="gate")
    layers = layers_of(g.save(tmp_path / "m.onnx"))
    assert layers[-1]["kind"] == "scale" and len(layers[-1]["from"]) == 2
    assert analyze(spec_of(tmp_path / "m.onnx")).macs == 16 * 8 * 8 * 8 + 16 * 8


def test_an_se_squeezed_to_another_rounding(tmp_path):
    """GhostNet's SE: 72 channels squeezed to make_divisible(72 / 4, 4) = 20, which is no divisor of 72."""
    g = Graph((1, 72, 8, 8))
    x = g.last
    g.op("GlobalAveragePool", [x])
    g.conv(72, 20, k=1, pad=0, bias=True)
    g.op("Relu")
    g.conv(20, 72, k=1, pad=0, bias=True)
    g.op("HardSigmoid", alpha=1 / 6, beta=0.5)
    g.op("Mul", [x, g.last])
    (se,) = layers_of(g.save(tmp_path / "m.onnx"))
    assert (se["kind"], se["reduction"], se["divisor"]) == ("se", 4, 4)
    assert analyze(spec_of(tmp_path / "m.onnx")).params == 72 * 20 + 20 + 20 * 72 + 72


def test_the_table_reads_an_onnx_file_directly(tmp_path, mobcost):
    g = Graph()
    g.conv(3, 8, k=3, stride=2, pad=1)
    result = mobcost("table", str(g.save(tmp_path / "m.onnx")), "-f", "json")
    assert result.exit_code == 0 and f"{3 * 3 * 3 * 8 * 16 * 16}" in result.stdout


@pytest.mark.parametrize("content, fragment", [
    (b"\x08\x07\x12\x04junk\xff\xff", "not a readable ONNX model"),
    (b"", "it has no graph"),
])
def test_a_malformed_file_is_bad_input(tmp_path, mobcost, content, fragment):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    for command in ("import", "table"):
        result = mobcost(command, str(path))
        assert result.exit_code == 2 and fragment in result.stderr and "Traceback" not in result.output


def test_limits_on_size_and_nodes(tmp_path, monkeypatch, mobcost):
    from mobcost.importers import onnx as importer

    g = Graph()
    g.conv(3, 8)
    g.op("Relu")
    path = g.save(tmp_path / "m.onnx")
    monkeypatch.setattr(importer, "MAX_ONNX_NODES", 1)
    assert "expected at most 1 ONNX nodes" in mobcost("import", str(path)).stderr
    monkeypatch.setattr(importer, "MAX_ONNX_BYTES", 10)
    assert "expected an ONNX file of at most 10 bytes" in mobcost("import", str(path)).stderr


def test_dynamic_height_and_width_come_from_res(tmp_path, mobcost):
    g = Graph((1, 3, "height", "width"))
    g.conv(3, 8, k=3, stride=2, pad=1)
    path = g.save(tmp_path / "m.onnx")
    result = mobcost("import", str(path))
    assert result.exit_code == 2 and "dynamic height or width" in result.stderr and "--res" in result.stderr
    assert analyze(str(path), resolution=64).macs == 3 * 3 * 3 * 8 * 32 * 32
    assert "resolution: 64" in mobcost("import", str(path), "--res", "64").stdout


def test_nhwc_input_as_tensorflow_exports_it(tmp_path):
    g = Graph((1, 32, 32, 3))
    g.op("Transpose", perm=[0, 3, 1, 2])
    g.conv(3, 8, k=3, stride=2, pad=1)
    spec = spec_of(g.save(tmp_path / "m.onnx"))
    assert (spec.input.resolution, spec.input.channels) == (32, 3)
    assert analyze(spec).macs == 3 * 3 * 3 * 8 * 16 * 16


def test_names_from_the_file_cannot_inject_markup_or_escapes(tmp_path, mobcost):
    g = Graph()
    g.conv(3, 8, name="[red]evil\x1b[31m: {x}")
    result = mobcost("import", str(g.save(tmp_path / "m.onnx")))
    assert result.exit_code == 0 and "\x1b" not in result.stdout and "[red]" not in result.stdout


def test_inline_weights_are_skipped_unread(tmp_path):
    """Weights inside the protobuf are stepped over field by field: the model read has their shapes, not their bytes."""
    from mobcost.importers.onnx import read_model

    g = Graph((1, 64, 8, 8))
    x = g.op("Conv", [g.last, "big"], kernel_shape=[3, 3], pads=[1] * 4)
    g.op("Clip", [x, g.const(0.0), g.const(6.0)])
    g.inits.append(TensorProto(name="big", data_type=TensorProto.FLOAT, dims=[128, 64, 3, 3],
                               raw_data=bytes(4 * 128 * 64 * 9)))
    path = g.save(tmp_path / "m.onnx")
    (big,) = [t for t in read_model(path).graph.initializer if t.name == "big"]
    assert list(big.dims) == [128, 64, 3, 3] and not big.raw_data
    result = analyze(spec_of(path))
    assert result.rows[0].layer.act == "relu6" and result.macs == 3 * 3 * 64 * 128 * 8 * 8


def test_onnx_is_imported_only_by_the_commands_that_read_onnx(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from typer.testing import CliRunner; from mobcost.cli import app; "
            "assert CliRunner().invoke(app, ['table', 'v1']).exit_code == 0; print('onnx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_without_the_onnx_package_the_command_says_what_to_install(tmp_path, monkeypatch, mobcost):
    import sys

    g = Graph()
    g.conv(3, 8)
    path = g.save(tmp_path / "m.onnx")
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    result = mobcost("import", str(path))
    assert result.exit_code == 2 and "pip install 'mobcost[onnx]'" in result.stderr


# ---- several outputs: taps, detection tails (the graph language's `from:` and `outputs`) ---------------------

def detector(tmp_path):
    """A backbone with a head on two of its maps; each head's output reshaped and all concatenated, as SSD's."""
    g = Graph((1, 8, 16, 16))
    tap = g.conv(8, 16, k=3, stride=2)  # 8×8×16
    g.conv(16, 32, k=3, stride=2)  # 4×4×32
    heads = [g.conv(32, 12, k=1, pad=0), g.conv(16, 12, k=1, pad=0, src=tap)]
    flat = [g.op("Reshape", [g.op("Transpose", [h], perm=[0, 2, 3, 1]), g.const(1, -1, 4, dtype=TensorProto.INT64,
                                                                                   dims=[3])]) for h in heads]
    g.op("Concat", flat, axis=1)
    return g.save(tmp_path / "m.onnx")


def test_a_detection_head_reads_its_maps_by_name(tmp_path):
    spec = spec_of(detector(tmp_path))
    assert len(spec.outputs) == 2
    assert analyze(spec).macs == (3 * 3 * 8 * 16 * 8 * 8 + 3 * 3 * 16 * 32 * 4 * 4
                                  + 32 * 12 * 4 * 4 + 16 * 12 * 8 * 8)  # the reshapes and the concat move data only


def test_mutated_files_are_bad_input_never_a_traceback(tmp_path, mobcost):
    """200 seeded mutants of a small valid model (bytes flipped, cut short, spliced): each imports or is exit 2."""
    import random

    g = Graph((1, 3, 16, 16))
    x = g.conv(3, 8, k=3, stride=2, pad=1)
    g.bn(8)
    g.op("Relu")
    g.conv(8, 8, k=3, group=8)
    g.op("Add", [x, g.last])
    g.op("GlobalAveragePool")
    g.op("Flatten")
    g.op("Gemm", [g.last, g.weight(10, 8), g.weight(10)], transB=1)
    original = g.save(tmp_path / "m.onnx").read_bytes()
    rng = random.Random(14)
    path = tmp_path / "mutant.onnx"
    for _ in range(200):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            how, at = rng.random(), rng.randrange(len(data) or 1)
            if how < 0.6 and data:
                data[at] = rng.randrange(256)
            elif how < 0.8:
                del data[at:]
            else:
                data[at:at] = data[rng.randrange(len(data) or 1):][:rng.randint(1, 16)]
        path.write_bytes(bytes(data))
        result = mobcost("import", str(path))
        assert result.exit_code in (0, 2) and "Traceback" not in result.output, bytes(data).hex()


def test_a_batch_norm_before_its_conv_is_a_batchnorm(tmp_path):
    """DenseNet's pre-activation BN-ReLU-conv: the batch norm is a layer of its own, ReLU its activation; PyTorch
    counts its γ and β (`--params torch`)."""
    g = Graph((1, 16, 8, 8))
    g.bn(16)
    g.op("Relu")
    g.conv(16, 8, k=1, pad=0)
    bn, pw = layers_of(g.save(tmp_path / "m.onnx"))
    assert (bn["kind"], bn["act"]) == ("batchnorm", "relu")
    result = analyze(spec_of(tmp_path / "m.onnx"))
    assert (result.macs, result.params_counted("torch")) == (16 * 8 * 8 * 8, 16 * 8 + 2 * 16)


def test_a_concatenation_of_every_earlier_output_imports_flat(tmp_path):
    """DenseNet's dense block: each layer reads the concatenation of the block's input and every earlier layer's
    output, which no series-parallel block says: each layer reads its inputs by name."""
    g = Graph((1, 8, 8, 8))
    x = g.last
    a = g.conv(8, 4, k=1, pad=0)
    ab = g.op("Concat", [x, a], axis=1)
    b = g.conv(12, 4, k=1, pad=0, src=ab)
    g.op("Concat", [x, a, b], axis=1)
    g.conv(16, 8, k=1, pad=0)
    layers = layers_of(g.save(tmp_path / "m.onnx"))
    assert [layer["kind"] for layer in layers] == ["pw", "concat", "pw", "concat", "pw"]
    assert layers[3]["from"] == ["input", layers[0]["name"], layers[2]["name"]]
    assert analyze(spec_of(tmp_path / "m.onnx")).macs == 8 * 8 * (8 * 4 + 12 * 4 + 16 * 8)


def test_per_channel_mul_and_add_are_an_affine(tmp_path):
    """A scale γ and a shift β of one value per channel that follow no conv: an affine of 2·c parameters."""
    g = Graph((1, 8, 4, 4))
    g.op("GlobalAveragePool")
    g.op("Mul", [g.last, g.weight(8, 1, 1)])
    g.op("Add", [g.last, g.weight(8, 1, 1)])
    _, affine = layers_of(g.save(tmp_path / "m.onnx"))
    assert affine["kind"] == "affine" and affine["scale"] and affine["shift"]
    assert analyze(spec_of(tmp_path / "m.onnx")).params == 2 * 8


def test_a_convnext_block_layer_norm_linear_gelu(tmp_path):
    """torchvision's ConvNeXt block as the TorchScript exporter writes it: a 7×7 depthwise conv, NCHW → NHWC, layer
    norm over the channels, a token-wise linear to 4c and GELU (x · (1 + erf(x / √2)) · 0.5), a linear back, NHWC →
    NCHW, a layer scale γ, the residual add."""
    c = 8
    g = Graph((1, c, 7, 7))
    x = g.last
    g.conv(c, c, k=7, group=c, bias=True)
    g.op("Transpose", perm=[0, 2, 3, 1])
    g.op("LayerNormalization", [g.last, g.weight(c), g.weight(c)], axis=-1)
    g.op("MatMul", [g.last, g.weight(c, 4 * c)])
    h = g.op("Add", [g.last, g.weight(4 * c)])
    g.op("Div", [h, g.const(1.4142135623730951)])
    g.op("Erf")
    g.op("Add", [g.last, g.const(1.0)])
    g.op("Mul", [h, g.last])
    g.op("Mul", [g.last, g.const(0.5)])
    g.op("MatMul", [g.last, g.weight(4 * c, c)])
    g.op("Add", [g.last, g.weight(c)])
    g.op("Transpose", perm=[0, 3, 1, 2])
    g.op("Mul", [g.last, g.weight(c, 1, 1)])
    g.op("Add", [g.last, x])
    (block,) = layers_of(g.save(tmp_path / "m.onnx"))
    kinds = [(layer["kind"], layer.get("act")) for layer in block["layers"]]
    assert kinds == [("dw", None), ("layernorm", None), ("linear", "gelu"), ("linear", None), ("affine", None)]
    result = analyze(spec_of(tmp_path / "m.onnx"))
    assert result.macs == 7 * 7 * c * 49 + 2 * c * 4 * c * 49
    assert result.params == (49 * c + c) + 2 * c + (c * 4 * c + 4 * c) + (4 * c * c + c) + c


def test_a_tools_convention_on_an_imported_file_says_what_it_cannot_reproduce(tmp_path, mobcost):
    """fvcore, ptflops and thop count the source model's modules; an ONNX graph with its batch norms folded has no
    batch-norm cost to give them: the table's notes and counting.warning say so, and the paper's count says nothing."""
    g = Graph()
    g.conv(3, 8, bias=True)
    g.op("Relu")
    folded = g.save(tmp_path / "folded.onnx")
    for convention, warned in (("fvcore", True), ("thop", True), ("paper", False)):
        data = json.loads(mobcost("table", str(folded), "--convention", convention, "-f", "json").stdout)
        assert ("folded every batch norm" in data["counting"].get("warning", "")) == warned
    g = Graph()
    g.conv(3, 8)
    g.bn(8)
    kept = g.save(tmp_path / "kept.onnx")
    data = json.loads(mobcost("table", str(kept), "--convention", "ptflops", "-f", "json").stdout)
    assert "Imported from ONNX: ptflops counts" in data["counting"]["warning"]
    assert "folded" not in data["counting"]["warning"]


def test_an_unknown_shape_is_not_carried_to_another_width(tmp_path, mobcost):
    """An unknown operator's output shape is ONNX's at the imported input: at α = 0.5 nothing says what it is, so the
    sweep refuses, naming the layer, rather than carry it over."""
    out = tmp_path / "m.yaml"
    assert mobcost("import", str(unknown_graph(tmp_path)), "--unknown", "zero", "-o", str(out)).exit_code == 0
    result = mobcost("table", str(out), "--alpha", "0.5")
    assert result.exit_code == 2 and "known only for the input it was imported with, 8×8×8" in result.stderr


def test_import_of_a_callable_that_does_not_exist_is_bad_input(mobcost):
    result = mobcost("import", "nosuchmodule_i19:build", "--arg", "1")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "nosuchmodule_i19" in result.stderr


def test_arg_is_for_a_callable_only(tmp_path, mobcost):
    result = mobcost("import", str(unknown_graph(tmp_path)), "--arg", "1")
    assert result.exit_code == 2 and "--arg passes arguments to MODULE:CALLABLE" in result.stderr


def test_multi_query_attention_is_an_attend(tmp_path):
    """MobileNetV4's Mobile MQA as the TorchScript exporter writes timm's unfused attention: 1×1 query, key and value
    convs, the query reshaped into 4 heads of 8 channels × 16 positions, one key and one value head, Q·Kᵀ, softmax,
    A·V, reshaped back to a map, a 1×1 output conv. Q·Kᵀ and A·V cost heads · Lq · Lk · (key_dim + value_dim)."""
    heads, kd, vd, c = 4, 8, 8, 16
    g = Graph((1, c, 4, 4))
    x = g.last
    i64 = TensorProto.INT64
    q = g.op("Reshape", [g.conv(c, heads * kd, k=1, pad=0, src=x), g.const(1, heads, kd, 16, dtype=i64, dims=[4])])
    q = g.op("Transpose", [q], perm=[0, 1, 3, 2])
    k = g.op("Reshape", [g.conv(c, kd, k=1, pad=0, src=x), g.const(1, kd, 16, dtype=i64, dims=[3])])
    k = g.op("Unsqueeze", [g.op("Transpose", [k], perm=[0, 2, 1]), g.const(1, dtype=i64, dims=[1])])
    v = g.op("Reshape", [g.conv(c, vd, k=1, pad=0, src=x), g.const(1, vd, 16, dtype=i64, dims=[3])])
    v = g.op("Unsqueeze", [g.op("Transpose", [v], perm=[0, 2, 1]), g.const(1, dtype=i64, dims=[1])])
    scores = g.op("MatMul", [g.op("Mul", [q, g.const(kd ** -0.5)]), g.op("Transpose", [k], perm=[0, 1, 3, 2])])
    out = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
    out = g.op("Reshape", [g.op("Transpose", [out], perm=[0, 1, 3, 2]), g.const(1, heads * vd, 4, 4, dtype=i64,
                                                                                  dims=[4])])
    g.conv(heads * vd, c, k=1, pad=0, src=out)
    layers = layers_of(g.save(tmp_path / "m.onnx"))
    attend = next(layer for layer in layers if layer["kind"] == "attend")
    assert (attend["heads"], attend["key_dim"], attend["value_dim"]) == (heads, kd, vd)
    projections = 16 * (c * heads * kd + c * kd + c * vd + heads * vd * c)
    assert analyze(spec_of(tmp_path / "m.onnx")).macs == projections + heads * 16 * 16 * (kd + vd)


def test_mobilevit_unfolding_and_per_patch_attention(tmp_path):
    """timm's MobileViT block as the TorchScript exporter writes it: an 8×8×8 map unfolded into 2×2 patches (4
    sequences of 16 tokens), layer norm, a fused qkv linear of 2 heads of 4 channels, Split into q, k and v, Q·Kᵀ,
    softmax and A·V within each sequence, the output projection, the residual add, folded back, a 1×1 conv.
    Attention within each of the 4 patch offsets: 4 · heads · 16 · 16 · (4 + 4) Mult-Adds."""
    c, heads, hd, i64 = 8, 2, 4, TensorProto.INT64
    g = Graph((1, c, 8, 8))
    g.op("Reshape", [g.last, g.const(c * 4, 2, 4, 2, dtype=i64, dims=[4])])
    g.op("Transpose", perm=[0, 2, 1, 3])
    g.op("Reshape", [g.last, g.const(1, c, 16, 4, dtype=i64, dims=[4])])
    g.op("Transpose", perm=[0, 3, 2, 1])
    tokens = g.op("Reshape", [g.last, g.const(4, 16, c, dtype=i64, dims=[3])])
    g.op("LayerNormalization", [tokens, g.weight(c), g.weight(c)], axis=-1)
    g.op("Add", [g.op("MatMul", [g.last, g.weight(c, 3 * heads * hd)]), g.weight(3 * heads * hd)])
    g.op("Reshape", [g.last, g.const(4, 16, 3, heads, hd, dtype=i64, dims=[5])])
    qkv = g.op("Transpose", perm=[2, 0, 3, 1, 4])
    parts = ["q", "k", "v"]
    g.nodes.append(helper.make_node("Split", [qkv], parts, axis=0, name="split"))
    q, k, v = (g.op("Squeeze", [p, g.const(0, dtype=i64, dims=[1])]) for p in parts)
    scores = g.op("MatMul", [g.op("Mul", [q, g.const(hd ** -0.5)]), g.op("Transpose", [k], perm=[0, 1, 3, 2])])
    out = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
    g.op("Reshape", [g.op("Transpose", [out], perm=[0, 2, 1, 3]), g.const(4, 16, heads * hd, dtype=i64, dims=[3])])
    g.op("Add", [g.op("MatMul", [g.last, g.weight(heads * hd, c)]), g.weight(c)])
    g.op("Add", [g.last, tokens])
    g.op("Reshape", [g.last, g.const(1, 4, 16, c, dtype=i64, dims=[4])])
    g.op("Transpose", perm=[0, 3, 2, 1])
    g.op("Reshape", [g.last, g.const(c * 4, 4, 2, 2, dtype=i64, dims=[4])])
    g.op("Transpose", perm=[0, 2, 1, 3])
    g.op("Reshape", [g.last, g.const(1, c, 8, 8, dtype=i64, dims=[4])])
    g.conv(c, 4, k=1, pad=0)
    layers = layers_of(g.save(tmp_path / "m.onnx"))
    attend = next(layer for layer in layers if layer["kind"] == "attend")
    assert (attend["heads"], attend["key_dim"], attend["value_dim"], attend["patch"]) == (heads, hd, hd, (2, 2))
    result = analyze(spec_of(tmp_path / "m.onnx"))
    linears = 64 * (c * 3 * heads * hd + heads * hd * c)
    assert result.macs == linears + 4 * heads * 16 * 16 * (hd + hd) + 64 * c * 4
    assert result.params == 2 * c + (c * 3 * heads * hd + 3 * heads * hd) + (heads * hd * c + c) + c * 4


def test_non_square_kernels_and_strides(tmp_path):
    """A 1×7 conv with pads 0 and 3 (`same`), a 2×1-strided 3×3 conv, and an average pool over 4×2 tiles of an 8×4
    map (adaptive pooling to 2×2)."""
    g = Graph((1, 4, 8, 8))
    g.op("Conv", [g.last, g.weight(4, 4, 1, 7)], kernel_shape=[1, 7], pads=[0, 3, 0, 3])
    g.op("Conv", [g.last, g.weight(4, 4, 3, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 2])
    g.op("AveragePool", kernel_shape=[4, 2], strides=[4, 2])
    wide, strided, pool = layers_of(g.save(tmp_path / "m.onnx"))
    assert (wide["kernel"], wide["padding"]) == ((1, 7), "same")
    assert (strided["stride"], pool["output"]) == ((1, 2), (2, 2))
    assert analyze(spec_of(tmp_path / "m.onnx")).macs == 7 * 4 * 4 * 64 + 9 * 4 * 4 * 32
