"""A traced network → a runnable ONNX graph with random weights (`mobcost export`; needs only the `onnx` package).

Each layer kind has one small function in EXPORTERS that writes its operators: a row's input tensors in, its output
tensor's name out. The graph is NCHW, batch 1, float32; weights are drawn from a seeded normal distribution scaled
so that activations stay finite through a deep network (the numbers mean nothing; the shapes and the work are the
network's). Batch norm is written as a BatchNormalization node after its convolution, as a framework exports it, so
`mobcost import` reads the file back to the same counts. A kind that cannot be exported (an imported operator
mobcost has no rule for, a batch of crops) is refused, naming the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from mobcost.errors import MobcostError
from mobcost.trace import Analysis, Row

OPSET = 17


@dataclass
class _Graph:
    """The graph being written: nodes, initializers, each tensor's rank (2 after a flatten, else 4)."""

    helper: object
    numpy_helper: object
    numpy: object
    rng: object
    nodes: list = field(default_factory=list)
    weights: list = field(default_factory=list)
    rank: dict = field(default_factory=dict)
    count: int = 0

    def name(self, base: str) -> str:
        self.count += 1
        return f"{base}:{self.count}"

    def node(self, op: str, inputs: list[str], row: Row, rank: int | None = None, **attrs) -> str:
        out = self.name(row.name)
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=out, **attrs))
        self.rank[out] = rank if rank is not None else self.rank.get(inputs[0], 4)
        return out

    def weight(self, row: Row, what: str, shape: tuple[int, ...], fan_in: int = 1, value: float | None = None) -> str:
        np = self.numpy
        if value is None:
            data = self.rng.standard_normal(shape, dtype=np.float32) * np.float32((2.0 / max(fan_in, 1)) ** 0.5)
        else:
            data = np.full(shape, value, dtype=np.float32)
        name = self.name(f"{row.name}/{what}")
        self.weights.append(self.numpy_helper.from_array(data, name))
        return name

    def ints(self, row: Row, what: str, values: list[int]) -> str:
        name = self.name(f"{row.name}/{what}")
        self.weights.append(self.numpy_helper.from_array(self.numpy.array(values, dtype=self.numpy.int64), name))
        return name


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _pads(row: Row, kernel, stride, dilation: int = 1) -> list[int]:
    """ONNX pads (top, left, bottom, right) for the layer's padding: TensorFlow's `same` is asymmetric when odd. A
    kernel or stride is one number or (height, width)."""
    padding = getattr(row.layer, "padding", "valid")
    if padding == "valid":
        return [0, 0, 0, 0]
    if padding != "same":
        return [padding] * 4
    total = [max((-(-n // s) - 1) * s + dilation * (k - 1) + 1 - n, 0)
             for n, k, s in zip((row.input.h, row.input.w), _pair(kernel), _pair(stride))]
    return [total[0] // 2, total[1] // 2, total[0] - total[0] // 2, total[1] - total[1] // 2]


_ACTS = {"relu": ("Relu", {}), "relu6": ("Clip", None), "hswish": ("HardSwish", {}), "hardswish": ("HardSwish", {}),
         "hsigmoid": ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}),
         "hardsigmoid": ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}), "sigmoid": ("Sigmoid", {}),
         "leaky_relu": ("LeakyRelu", {"alpha": 0.01})}


def _activation(g: _Graph, row: Row, x: str, act: str | None) -> str:
    if act is None:
        return x
    if act in ("silu", "swish"):  # x·σ(x), as frameworks export SiLU before opset 22's Swish
        return g.node("Mul", [x, g.node("Sigmoid", [x], row)], row)
    if act == "gelu":
        return _gelu(g, row, x)
    op, attrs = _ACTS[act]
    if op == "Clip":
        return g.node("Clip", [x, g.weight(row, "min", (), value=0.0), g.weight(row, "max", (), value=6.0)], row)
    return g.node(op, [x], row, **attrs)


def _gelu(g: _Graph, row: Row, x: str) -> str:
    """0.5·x·(1 + erf(x / √2)), as torch.onnx writes GELU before opset 20."""
    scaled = g.node("Div", [x, g.weight(row, "sqrt2", (), value=2 ** 0.5)], row)
    erf = g.node("Erf", [scaled], row)
    one = g.node("Add", [erf, g.weight(row, "one", (), value=1.0)], row)
    return g.node("Mul", [g.node("Mul", [x, one], row), g.weight(row, "half", (), value=0.5)], row)


def _normed(g: _Graph, row: Row, x: str) -> str:
    """Batch norm (if the layer has it), then its activation."""
    if getattr(row.layer, "bn", False):
        c = row.output.c
        x = g.node("BatchNormalization", [x, g.weight(row, "gamma", (c,), value=1.0),
                                          g.weight(row, "beta", (c,), value=0.0),
                                          g.weight(row, "mean", (c,), value=0.0),
                                          g.weight(row, "var", (c,), value=1.0)], row, epsilon=1e-3)
    return _activation(g, row, x, getattr(row.layer, "act", None))


def _conv(g: _Graph, row: Row, xs: list[str]) -> str:
    layer, c_in, c_out = row.layer, row.input.c, row.output.c
    groups = c_in if row.kind == "dw" else getattr(layer, "groups", 1)
    k, s, d = getattr(layer, "kernel", 1), getattr(layer, "stride", 1), getattr(layer, "dilation", 1)
    (kh, kw), (sh, sw) = _pair(k), _pair(s)
    inputs = [xs[0], g.weight(row, "weight", (c_out, c_in // groups, kh, kw), fan_in=c_in // groups * kh * kw)]
    if getattr(layer, "bias", False):
        inputs.append(g.weight(row, "bias", (c_out,), value=0.0))
    y = g.node("Conv", inputs, row, kernel_shape=[kh, kw], strides=[sh, sw], dilations=[d, d], group=groups,
               pads=_pads(row, k, s, d))
    return _normed(g, row, y)


def _fc(g: _Graph, row: Row, xs: list[str]) -> str:
    x = xs[0] if g.rank[xs[0]] == 2 else g.node("Flatten", [xs[0]], row, rank=2, axis=1)
    n_in, out = row.input.size, row.output.c
    inputs = [x, g.weight(row, "weight", (out, n_in), fan_in=n_in)]
    if row.layer.bias:
        inputs.append(g.weight(row, "bias", (out,), value=0.0))
    return _normed(g, row, g.node("Gemm", inputs, row, rank=2, transB=1))


def _avgpool(g: _Graph, row: Row, xs: list[str]) -> str:
    layer = row.layer
    if layer.adaptive == (1, 1):
        return g.node("GlobalAveragePool", xs, row)
    if layer.adaptive is not None:
        if row.input.h % row.output.h or row.input.w % row.output.w:
            raise _Refused(f"adaptive pooling from {row.input.h}×{row.input.w} to {row.output.h}×{row.output.w}, "
                           "which no fixed window computes")
        kh, kw = row.input.h // row.output.h, row.input.w // row.output.w
        return g.node("AveragePool", xs, row, kernel_shape=[kh, kw], strides=[kh, kw])
    return _pool(g, row, xs, "AveragePool", count_include_pad=0)


def _pool(g: _Graph, row: Row, xs: list[str], op: str = "MaxPool", **attrs) -> str:
    k, s = row.layer.kernel, row.layer.stride
    return g.node(op, xs, row, kernel_shape=[k, k], strides=[s, s], pads=_pads(row, k, s),
                  ceil_mode=int(row.layer.ceil_mode), **attrs)


def _upsample(g: _Graph, row: Row, xs: list[str]) -> str:
    layer = row.layer
    if layer.batch:
        raise _Refused("a batch of crops (`batch:`), which needs the boxes a detector computes at run time")
    sizes = g.ints(row, "sizes", [1, row.output.c, row.output.h, row.output.w])
    if layer.mode == "nearest":
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    else:
        attrs = {"mode": "linear",
                 "coordinate_transformation_mode": "align_corners" if layer.align_corners else "pytorch_half_pixel"}
    return g.node("Resize", [xs[0], "", "", sizes], row, **attrs)


def _split(g: _Graph, row: Row, xs: list[str]) -> str:
    part = row.output.c
    begin = g.ints(row, "begin", [row.layer.take * part])
    end = g.ints(row, "end", [(row.layer.take + 1) * part])
    return g.node("Slice", [xs[0], begin, end, g.ints(row, "axes", [1])], row)


def _shuffle(g: _Graph, row: Row, xs: list[str]) -> str:
    groups, (h, w, c) = row.layer.groups, (row.input.h, row.input.w, row.input.c)
    grouped = g.node("Reshape", [xs[0], g.ints(row, "grouped", [1, groups, c // groups, h, w])], row)
    swapped = g.node("Transpose", [grouped], row, perm=[0, 2, 1, 3, 4])
    return g.node("Reshape", [swapped, g.ints(row, "shape", [1, c, h, w])], row)


def _add(g: _Graph, row: Row, xs: list[str]) -> str:
    y = xs[0]
    for x in xs[1:]:
        y = g.node("Add", [y, x], row)
    return _activation(g, row, y, getattr(row.layer, "act", None))


def _tokens(g: _Graph, row: Row, x: str, node: Callable[[str], str]) -> str:
    """A token-wise operation on NCHW: to NHWC, the operation on the last axis, back to NCHW."""
    return g.node("Transpose", [node(g.node("Transpose", [x], row, perm=[0, 2, 3, 1]))], row, perm=[0, 3, 1, 2])


def _layernorm(g: _Graph, row: Row, xs: list[str]) -> str:
    c = row.input.c
    scale = [g.weight(row, "gamma", (c,), value=1.0)] + ([g.weight(row, "beta", (c,), value=0.0)]
                                                          if row.layer.affine else [])
    return _tokens(g, row, xs[0], lambda x: g.node("LayerNormalization", [x, *scale], row, axis=-1,
                                                   epsilon=row.layer.eps))


def _linear(g: _Graph, row: Row, xs: list[str]) -> str:
    c, out = row.input.c, row.output.c

    def matmul(x: str) -> str:
        y = g.node("MatMul", [x, g.weight(row, "weight", (c, out), fan_in=c)], row)
        return g.node("Add", [y, g.weight(row, "bias", (out,), value=0.0)], row) if row.layer.bias else y

    return _activation(g, row, _tokens(g, row, xs[0], matmul), row.layer.act)


def _batchnorm(g: _Graph, row: Row, xs: list[str]) -> str:
    c = row.input.c
    y = g.node("BatchNormalization", [xs[0], g.weight(row, "gamma", (c,), value=1.0),
                                      g.weight(row, "beta", (c,), value=0.0), g.weight(row, "mean", (c,), value=0.0),
                                      g.weight(row, "var", (c,), value=1.0)], row, epsilon=1e-3)
    return _activation(g, row, y, row.layer.act)


def _affine(g: _Graph, row: Row, xs: list[str]) -> str:
    y, c = xs[0], row.input.c
    if row.layer.scale:
        y = g.node("Mul", [y, g.weight(row, "gamma", (c, 1, 1), value=1.0)], row)
    if row.layer.shift:
        y = g.node("Add", [y, g.weight(row, "beta", (c, 1, 1), value=0.0)], row)
    return y


def _pad(g: _Graph, row: Row, xs: list[str]) -> str:
    top, left, bottom, right = row.layer.pads
    return g.node("Pad", [xs[0], g.ints(row, "pads", [0, 0, top, left, 0, 0, bottom, right])], row)


def _slice(g: _Graph, row: Row, xs: list[str]) -> str:
    start = row.layer.start
    return g.node("Slice", [xs[0], g.ints(row, "begin", [start]), g.ints(row, "end", [start + row.output.c]),
                            g.ints(row, "axes", [1])], row)


def _attend(g: _Graph, row: Row, xs: list[str]) -> str:
    """Q·Kᵀ, softmax, A·V per head, as the MatMul and Softmax nodes torch.onnx writes for unfused attention."""
    layer, q = row.layer, row.input
    if layer.patch:
        raise _Refused("attention within patches (`patch:`), whose unfolding the exporter does not write yet")
    heads, dk, dv, keys = layer.heads, layer.key_dim, layer.value_dim, layer.keys

    def per_head(x: str, dim: int, positions: int, transpose: bool) -> str:  # heads (or one shared) × dim × L
        y = g.node("Reshape", [x, g.ints(row, "heads", [1, -1, dim, positions])], row)
        return g.node("Transpose", [y], row, perm=[0, 1, 3, 2]) if transpose else y

    query = per_head(xs[0], dk, q.h * q.w, True)
    key = per_head(xs[1], dk, keys, False)
    value = per_head(xs[2], dv, keys, True)
    attention = g.node("Softmax", [g.node("MatMul", [query, key], row)], row, axis=-1)
    out = g.node("Transpose", [g.node("MatMul", [attention, value], row)], row, perm=[0, 1, 3, 2])
    return g.node("Reshape", [out, g.ints(row, "shape", [1, heads * dv, q.h, q.w])], row)


def _unknown(g: _Graph, row: Row, xs: list[str]) -> str:
    raise _Refused(f"an imported operator mobcost has no rule for ({row.layer.op}): its computation is not known")


EXPORTERS: dict[str, Callable[[_Graph, Row, list[str]], str]] = {
    "conv": _conv, "dw": _conv, "pw": _conv, "fc": _fc,
    "avgpool": _avgpool, "maxpool": _pool, "upsample": _upsample,
    "add": _add, "scale": lambda g, row, xs: g.node("Mul", [xs[1], xs[0]], row),
    "concat": lambda g, row, xs: g.node("Concat", xs, row, axis=1),
    "softmax": lambda g, row, xs: g.node("Softmax", xs, row, axis=1),
    "lrn": lambda g, row, xs: g.node("LRN", xs, row, size=row.layer.size, alpha=row.layer.alpha,
                                     beta=row.layer.beta, bias=row.layer.k),
    "dropout": lambda g, row, xs: xs[0],  # the identity at inference
    "flatten": lambda g, row, xs: xs[0] if g.rank[xs[0]] == 2 else g.node("Flatten", xs, row, rank=2, axis=1),
    "split": _split, "shuffle": _shuffle, "unknown": _unknown,
    "layernorm": _layernorm, "batchnorm": _batchnorm, "affine": _affine, "pad": _pad, "slice": _slice,
    "linear": _linear, "attend": _attend,
    "groupnorm": lambda g, row, xs: _refuse("a group norm, which ONNX writes as GroupNormalization from opset 18; "
                                            f"this file is opset {OPSET}"),
}
"""One function per layer kind (a row of the trace): it writes the kind's operators and returns its output tensor."""


class _Refused(Exception):
    pass


def _refuse(reason: str) -> str:
    raise _Refused(reason)


def export_onnx(analysis: Analysis, seed: int = 0) -> bytes:
    """The network as a serialized ONNX model: input `input` (1, C, H, W); outputs the rows the network returns."""
    try:
        import numpy
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        raise MobcostError("exporting to ONNX needs the onnx package: pip install 'mobcost[onnx]'") from None
    g = _Graph(helper, numpy_helper, numpy, numpy.random.default_rng(seed))
    tensors = {"input": "input"}
    g.rank["input"] = 4
    for row in analysis.rows:
        exporter = EXPORTERS.get(row.kind)
        try:
            if exporter is None:
                raise _Refused(f"the layer kind {row.kind!r}, which the exporter does not write yet")
            tensors[row.name] = exporter(g, row, [tensors[name] for name in row.reads])
        except _Refused as e:
            raise MobcostError(f"{analysis.network.name}: row {row.name!r} cannot be exported to ONNX: {e}") from None
    first = analysis.rows[0].input if analysis.rows else None
    if first is None:
        raise MobcostError(f"{analysis.network.name}: no layers to export")
    shapes = {row.name: row for row in analysis.rows}
    outputs = []
    for name in analysis.returned:
        row, tensor = shapes[name], tensors[name]
        out = f"output:{name}"
        g.nodes.append(helper.make_node("Identity", [tensor], [out], name=out))
        dims = [1, row.output.c] if g.rank[tensor] == 2 else [1, row.output.c, row.output.h, row.output.w]
        outputs.append(helper.make_tensor_value_info(out, onnx.TensorProto.FLOAT, dims))
    inputs = [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [1, first.c, first.h, first.w])]
    graph = helper.make_graph(g.nodes, analysis.network.name, inputs, outputs, g.weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="mobcost")
    model.ir_version = 8  # onnxruntime reads IR 8 since 1.14
    return model.SerializeToString()
