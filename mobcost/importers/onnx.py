"""An ONNX graph → a mobcost spec: operators become layer kinds, repeated patterns fold back into blocks.

Weights are never read: the graph is loaded with external data off and only initializer shapes (`dims`) are used;
the values read are those of small constants that decide a rule (Clip's 0 and 6, a Reshape's target). An operator
with no rule stops the import with every such operator and node named, unless `unknown="zero"` keeps each as a
marked row of 0 Mult-Adds (layers.Unknown). The `onnx` package is imported only here, only when a model is read.
"""

from __future__ import annotations

import mmap
import os
import re
import typing
from collections import Counter, defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import yaml

from mobcost import layers as L
from mobcost.layers import Shape, ShapeError, make_divisible
from mobcost.limits import LIMIT, MAX_ONNX_BYTES, MAX_ONNX_NODES, MAX_PIXELS
from mobcost.spec.errors import MobcostError

UNKNOWN = ("error", "zero")
_ACTS = set(typing.get_args(L.Activation))  # the activations the spec language names
_LAYOUT = {(0, 3, 1, 2), (0, 2, 3, 1)}  # NHWC ↔ NCHW transposes: the spec's Shape has no layout
_PASS = {"Identity", "Dropout", "Cast"}  # the identity at inference
_SMALL = 64  # constants read by value (a Clip bound, a Reshape target); anything larger is a weight


# ---- reading the file ---------------------------------------------------------------------------------------

def read_model(path: str | Path):
    """The ModelProto without its weights: external data is not loaded, and the file is bounded in size."""
    path = Path(path)
    try:
        size = os.stat(path).st_size
    except OSError as e:
        raise MobcostError(f"{path}: cannot read the ONNX file: {e.strerror}") from None
    if size > MAX_ONNX_BYTES:
        raise MobcostError(f"{path}: expected an ONNX file of at most {MAX_ONNX_BYTES:,} bytes {LIMIT}; it has "
                           f"{size:,} (store large weights as external data: they are never read)")
    try:
        import onnx
    except ImportError:
        raise MobcostError("reading an ONNX model needs the onnx package: pip install 'mobcost[onnx]'") from None
    try:
        with open(path, "rb") as f, (mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else nullcontext(b"")) \
                as data:
            model = onnx.ModelProto.FromString(_without_weights(data))
    except Exception as e:  # protobuf's DecodeError and friends: a malformed file is bad input, never a traceback
        raise MobcostError(f"{path}: not a readable ONNX model ({type(e).__name__}: {_clean(str(e))[:200]})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise MobcostError(f"{path}: not an ONNX model: it has no graph of operators")
    if len(model.graph.node) > MAX_ONNX_NODES:
        raise MobcostError(f"{path}: expected at most {MAX_ONNX_NODES:,} ONNX nodes {LIMIT}; it has "
                           f"{len(model.graph.node):,}")
    return model


# ONNX's protobuf schema (onnx/onnx.proto): ModelProto.graph = 7; GraphProto.initializer = 5, sparse_initializer = 15;
# TensorProto's data: float_data 4, int32_data 5, string_data 6, int64_data 7, raw_data 9, double_data 10,
# uint64_data 11. Everything else is copied as it is.
_GRAPH, _INITIALIZERS, _TENSOR_DATA = 7, {5, 15}, {4, 5, 6, 7, 9, 10, 11}
_KEEP_DATA = 1024  # bytes: a constant this small may decide a rule (Clip's bounds); a weight is larger


def _without_weights(data) -> bytes:
    """The model's bytes with the data of every large initializer left out, read field by field from a memory map:
    protobuf parses a message whole, so `onnx.load` of a file with inline weights holds them all in memory."""
    out = bytearray()
    for number, start, body, end in _fields(data, 0, len(data)):
        out += _stripped_graph(data, body, end) if number == _GRAPH else data[start:end]
    return bytes(out)


def _stripped_graph(data, start: int, end: int) -> bytes:
    graph = bytearray()
    for number, at, body, stop in _fields(data, start, end):
        if number in _INITIALIZERS:
            tensor = b"".join(data[a:b] for n, a, c, b in _fields(data, body, stop)
                              if n not in _TENSOR_DATA or b - c <= _KEEP_DATA)
            graph += _varint((number << 3) | 2) + _varint(len(tensor)) + tensor
        else:
            graph += data[at:stop]
    return _varint((_GRAPH << 3) | 2) + _varint(len(graph)) + bytes(graph)


def _fields(data, pos: int, end: int):
    """(field number, start of the field, start of its value, end) of each field of a protobuf message."""
    while pos < end:
        start = pos
        key, pos = _read_varint(data, pos)
        wire = key & 7
        if wire == 0:
            _, pos = _read_varint(data, pos)
            body = start
        elif wire == 2:
            length, body = _read_varint(data, pos)
            pos = body + length
        elif wire in (1, 5):
            body, pos = pos, pos + (8 if wire == 1 else 4)
        else:
            raise ValueError(f"protobuf wire type {wire} at byte {start}")
        if pos > end:
            raise ValueError(f"a field at byte {start} runs past the end of its message")
        yield key >> 3, start, body, pos


def _read_varint(data, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("a truncated or overlong varint")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _clean(text: str, keep: str = r"\w./:\-") -> str:
    """Untrusted text from the file, safe to print and to write into YAML: no markup, no escapes."""
    return re.sub(f"[^{keep} ]", "_", text)


def _name(text: str) -> str:
    return _clean(text, r"\w./:\-")[:64].replace(" ", "_")


# ---- the graph as units: one layer, join or input each -------------------------------------------------------

@dataclass
class _Unit:
    """One node of the importer's graph: the input, a layer (with its folded batch norm and activation), an add,
    a concat, an SE scale, or a sigmoid waiting to be read as half of x·sigmoid(x)."""

    id: int
    kind: str
    spec: dict
    inputs: list[int]
    shape: Shape
    nodes: list[str] = field(default_factory=list)


class _Unsupported(Exception):
    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def _attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class _Reader:
    """One pass over the nodes in their (topological) order, turning operators into units."""

    def __init__(self, model, path: Path, resolution: int | None, unknown: str):
        self.model, self.path, self.unknown = model, path, unknown
        graph = model.graph
        self.dims = {t.name: list(t.dims) for t in graph.initializer}
        self.values = {t.name: v for t in graph.initializer if (v := _value(t)) is not None}
        self.units: list[_Unit] = []
        self.tensor: dict[str, int] = {}  # a data tensor → the unit whose output it is
        self.consts: set[str] = set(self.dims)  # tensors that do not depend on the image
        self.unknown_ops: list[tuple[str, str, str]] = []  # (operator, node name, why)
        self.uses = Counter(name for node in graph.node for name in node.input if name)
        self.uses.update(o.name for o in graph.output)
        self.layout = "NCHW"
        self.tail = _tail(graph)
        self.heads: list[int] = []  # units whose outputs only a tail of reshapes and concatenations moves on
        self._input(graph, resolution)

    # the image input
    def _input(self, graph, resolution: int | None) -> None:
        inputs = [v for v in graph.input if v.name not in self.dims]
        if len(inputs) != 1:
            raise MobcostError(f"{self.path}: expected one image input; the graph has {len(inputs)} "
                               f"({', '.join(_name(v.name) for v in inputs) or 'none'})")
        value = inputs[0]
        dims = [d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim]
        if len(dims) != 4:
            raise MobcostError(f"{self.path}: input {_name(value.name)!r} has {len(dims)} dimensions; expected an "
                               "image batch of 4 (NCHW, or NHWC as TensorFlow exports)")
        consumers = [n for n in graph.node if value.name in n.input]
        nhwc = any(n.op_type == "Transpose" and tuple(_attrs(n).get("perm", ())) == (0, 3, 1, 2) for n in consumers)
        self.layout = "NHWC" if nhwc else "NCHW"
        _, h, w, c = dims if nhwc else (dims[0], dims[2], dims[3], dims[1])
        if c is None:
            raise MobcostError(f"{self.path}: input {_name(value.name)!r} has a dynamic channel count")
        if resolution is not None:
            h = w = resolution
        if h is None or w is None:
            raise MobcostError(f"{self.path}: input {_name(value.name)!r} has a dynamic height or width "
                               f"({self.layout} {dims}); give the resolution with --res")
        if not (0 < h <= MAX_PIXELS and 0 < w <= MAX_PIXELS and 0 < c):
            raise MobcostError(f"{self.path}: input {_name(value.name)!r} of {h}×{w}×{c} is out of mobcost's "
                               f"limits {LIMIT}")
        self.input_shape = Shape(h, w, c)
        self.tensor[value.name] = self._add("input", {}, [], self.input_shape, []).id

    def _add(self, kind, spec, inputs, shape, nodes) -> _Unit:
        unit = _Unit(len(self.units), kind, spec, inputs, shape, nodes)
        self.units.append(unit)
        return unit

    def read(self) -> list[_Unit]:
        for i, node in enumerate(self.model.graph.node):
            self.node(node, i in self.tail)
        if self.unknown_ops and self.unknown == "error":
            listed = "; ".join(f"{op} (node {name!r}{': ' + why if why else ''})" for op, name, why in self.unknown_ops)
            raise MobcostError(f"{self.path}: {len(self.unknown_ops)} ONNX node(s) mobcost has no rule for: {listed}. "
                               "Nothing is counted as zero silently: `--unknown zero` records each as a marked row "
                               "of 0 Mult-Adds and 0 parameters.")
        ends = [self.tensor[o.name] for o in self.model.graph.output if o.name in self.tensor] + self.heads
        if not ends:
            raise MobcostError(f"{self.path}: the graph's outputs do not depend on its input image")
        self.outputs = list(dict.fromkeys(ends))
        return self.units

    # one node
    def node(self, node, tail: bool = False) -> None:
        data = [name for name in node.input if name and name in self.tensor]
        if not data:  # shape arithmetic and constants: no image data flows through it
            if node.op_type == "Constant":
                value = _attrs(node).get("value")
                if value is not None and (v := _value(value)) is not None:
                    self.values[node.output[0]] = v
                    self.dims[node.output[0]] = list(value.dims)
            self.consts.update(node.output)
            return
        if node.op_type == "Shape":
            self.consts.update(node.output)
            return
        try:
            self.rule(node, data)
        except _Unsupported as e:
            if tail:  # only data movement from here to the outputs: the tensors it moves are the outputs
                self.heads += [self.tensor[name] for name in data]
                return
            self.unknown_ops.append((_name(node.op_type), _name(node.name), e.why))
            unit = self.unit_of(data[0])
            spec = {"kind": "unknown", "op": _clean(node.op_type, r"\w.:")[:64]}
            new = self._add("layer", spec, [unit.id], unit.shape, [node.name])
            for out in node.output:
                self.tensor[out] = new.id

    def unit_of(self, tensor: str) -> _Unit:
        return self.units[self.tensor[tensor]]

    def alias(self, node, data) -> None:
        self.tensor[node.output[0]] = self.tensor[data[0]]

    def layer(self, node, data, spec: dict) -> _Unit:
        """A new layer unit reading data[0], its shape by the layer kind's own rule."""
        x = self.unit_of(data[0]).shape
        try:
            layer = _KINDS[spec["kind"]](**spec)
            y = layer.output_shape(x)
        except ShapeError as e:
            raise _Unsupported(str(e)) from None
        except ValueError as e:  # pydantic: a field past mobcost's limits
            raise _Unsupported(_clean(str(e).splitlines()[-1] if str(e) else type(e).__name__)) from None
        unit = self._add("layer", spec, [self.tensor[data[0]]], y, [node.name])
        self.tensor[node.output[0]] = unit.id
        return unit

    def single_use(self, tensor: str) -> bool:
        return self.uses[tensor] == 1

    def rule(self, node, data) -> None:
        op, a = node.op_type, _attrs(node)
        if len(data) > 1 and op not in ("Add", "Mul", "Concat", "Sum"):
            raise _Unsupported(f"reads {len(data)} image tensors")
        if op in _PASS or (op == "Transpose" and tuple(a.get("perm", ())) in _LAYOUT):
            return self.alias(node, data)
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            raise _Unsupported("")
        handler(node, data, a)

    # ---- operator rules (ONNX operator docs: https://onnx.ai/onnx/operators/) ----

    def weight(self, node, i: int) -> list[int]:
        if len(node.input) <= i or node.input[i] not in self.dims:
            raise _Unsupported(f"input {i} is not a weight initializer")
        return self.dims[node.input[i]]

    def op_Conv(self, node, data, a) -> None:
        m, per_group, kh, kw = self.weight(node, 1)
        x = self.unit_of(data[0]).shape
        groups = a.get("group", 1)
        strides, dilations = a.get("strides", [1, 1]), a.get("dilations", [1, 1])
        if kh != kw:
            raise _Unsupported(f"a {kh}×{kw} kernel (mobcost's kernels are square)")
        if strides[0] != strides[1]:
            raise _Unsupported(f"strides {strides} (mobcost's strides are the same on both axes)")
        if any(d != 1 for d in dilations):
            raise _Unsupported(f"dilations {dilations}")
        bias = len(node.input) > 2 and bool(node.input[2])
        padding = self.padding(a, kh, strides[0], x)
        common = {"kernel": kh, "stride": strides[0], "padding": padding}
        if groups > 1 and groups == x.c == m:
            spec = {"kind": "dw", **common}
        elif groups == 1 and kh == 1 and strides[0] == 1 and padding in (0, "same", "valid"):
            spec = {"kind": "pw", "out": m}
        else:
            spec = {"kind": "conv", **common, "out": m, **({"groups": groups} if groups > 1 else {})}
        if bias:
            spec["bias"] = True
        self.layer(node, data, spec)

    def padding(self, a, k: int, s: int, x: Shape):
        """ONNX pads as the spec says them: a number of pixels each side, or `same` (TensorFlow's, asymmetric)."""
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            return "same"
        if auto == "VALID":
            return "valid"
        pads = list(a.get("pads", [0, 0, 0, 0]))
        if len(set(pads)) == 1:
            return pads[0] if pads[0] else "valid"
        same = [max((-(-n // s) - 1) * s + k - n, 0) for n in (x.h, x.w)]  # TensorFlow's total padding per axis
        if [pads[0] + pads[2], pads[1] + pads[3]] == same:
            return "same"
        raise _Unsupported(f"asymmetric pads {pads}")

    def op_BatchNormalization(self, node, data, a) -> None:
        unit = self.unit_of(data[0])
        if unit.kind != "layer" or "bn" in unit.spec or "act" in unit.spec or not self.single_use(data[0]) \
                or unit.spec["kind"] not in ("conv", "dw", "pw", "fc"):
            raise _Unsupported("not right after a convolution")
        unit.spec["bn"] = True
        unit.nodes.append(node.name)
        self.alias(node, data)

    def activation(self, node, data, act: str) -> None:
        if act not in _ACTS:
            raise _Unsupported(f"the spec language has no activation {act!r}")
        unit = self.unit_of(data[0])
        if unit.kind in ("layer", "add") and "act" not in unit.spec and self.single_use(data[0]) \
                and (unit.kind == "layer" and "act" in _KINDS[unit.spec["kind"]].model_fields
                     or unit.kind == "add" and ("act" in L.Residual.model_fields or _graph_language())):
            unit.spec["act"] = act
            unit.nodes.append(node.name)
            return self.alias(node, data)
        if act == "sigmoid":  # perhaps half of x·sigmoid(x) (swish), or an SE gate: resolved at the Mul
            unit = self._add("sigmoid", {}, [self.tensor[data[0]]], unit.shape, [node.name])
            self.tensor[node.output[0]] = unit.id
            return
        raise _Unsupported("an activation that follows no layer")

    def op_Relu(self, node, data, a):
        self.activation(node, data, "relu")

    def op_Clip(self, node, data, a):
        low = a.get("min", self.const(node, 1))
        high = a.get("max", self.const(node, 2))
        if (low, high) == (0, 6):
            return self.activation(node, data, "relu6")
        if low == 0 and high is None:
            return self.activation(node, data, "relu")
        raise _Unsupported(f"Clip({low}, {high}): only Clip(0, 6) is ReLU6")

    def const(self, node, i: int):
        if len(node.input) <= i or not node.input[i]:
            return None
        value = self.values.get(node.input[i])
        if value is None or len(value) != 1:
            raise _Unsupported(f"input {i} is not a constant mobcost can read")
        return value[0]

    def op_HardSwish(self, node, data, a):
        self.activation(node, data, "hswish")

    def op_HardSigmoid(self, node, data, a):
        self.activation(node, data, "hsigmoid")

    def op_Sigmoid(self, node, data, a):
        self.activation(node, data, "sigmoid")

    def op_LeakyRelu(self, node, data, a):
        self.activation(node, data, "leaky_relu")

    def op_Gelu(self, node, data, a):
        self.activation(node, data, "gelu")

    def op_Gemm(self, node, data, a) -> None:
        dims = self.weight(node, 1)
        if a.get("transA", 0):
            raise _Unsupported("transA")
        n_in, out = (dims[1], dims[0]) if a.get("transB", 0) else (dims[0], dims[1])
        self.fc(node, data, n_in, out, len(node.input) > 2 and bool(node.input[2]))

    def op_MatMul(self, node, data, a) -> None:
        dims = self.weight(node, 1)
        if len(dims) != 2:
            raise _Unsupported(f"a {len(dims)}-D weight")
        self.fc(node, data, dims[0], dims[1], False)

    def fc(self, node, data, n_in: int, out: int, bias: bool) -> None:
        x = self.unit_of(data[0]).shape
        if x.size != n_in:
            raise _Unsupported(f"a {n_in}-input fully connected layer on a {x} tensor")
        if (x.h, x.w) != (1, 1):
            raise _Unsupported(f"a fully connected layer on an unflattened {x} tensor")
        self.layer(node, data, {"kind": "fc", "out": out, **({} if bias else {"bias": False})})

    def op_Add(self, node, data, a) -> None:
        if len(data) == 1:  # a bias: MatMul + Add is a fully connected layer with biases
            unit = self.unit_of(data[0])
            other = next(name for name in node.input if name != data[0])
            if unit.kind == "layer" and unit.spec["kind"] == "fc" and unit.spec.get("bias") is False \
                    and self.single_use(data[0]) and self.dims.get(other, [None])[-1:] == [unit.shape.c]:
                del unit.spec["bias"]
                unit.nodes.append(node.name)
                return self.alias(node, data)
            raise _Unsupported("adds a constant")
        if len(data) != 2:
            raise _Unsupported(f"adds {len(data)} tensors")
        x, y = self.unit_of(data[0]), self.unit_of(data[1])
        if x.shape != y.shape:
            raise _Unsupported(f"adds tensors of different shapes ({x.shape} and {y.shape})")
        unit = self._add("add", {}, [x.id, y.id], x.shape, [node.name])
        self.tensor[node.output[0]] = unit.id

    op_Sum = op_Add

    def op_Mul(self, node, data, a) -> None:
        if len(data) != 2:
            raise _Unsupported("multiplies by a constant")
        for x_name, g_name in (data, data[::-1]):
            x, g = self.unit_of(x_name), self.unit_of(g_name)
            if g.kind == "sigmoid" and g.inputs == [x.id]:  # x·sigmoid(x): swish (SiLU)
                if x.kind == "layer" and "act" not in x.spec and self.uses[x_name] == 2 \
                        and "act" in _KINDS[x.spec["kind"]].model_fields:
                    x.spec["act"] = "swish"
                    x.nodes += g.nodes + [node.name]
                    g.kind = "dead"
                    self.tensor[node.output[0]] = x.id
                    return
            if (g.shape.h, g.shape.w) == (1, 1) and g.shape.c == x.shape.c and (x.shape.h, x.shape.w) != (1, 1):
                return self.squeeze_excite(node, x, g)
        raise _Unsupported("multiplies two tensors that are neither x·sigmoid(x) nor a squeeze-and-excite gate")

    def squeeze_excite(self, node, x: _Unit, gate: _Unit) -> None:
        """global pool → 1×1 conv (bias) → act → 1×1 conv (bias) → gate activation → × x: the `se` kind."""
        chain, unit = [], gate
        if unit.kind == "sigmoid":
            chain.append(unit)
            unit = self.units[unit.inputs[0]]
        while unit.id != x.id and unit.kind == "layer" and len(chain) < 4:
            chain.append(unit)
            unit = self.units[unit.inputs[0]]
        kinds = [u.spec.get("kind") if u.kind == "layer" else u.kind for u in reversed(chain)]
        if unit.id != x.id or kinds not in (["avgpool", "pw", "pw"], ["avgpool", "pw", "pw", "sigmoid"]):
            raise _Unsupported("a gate that is not global pool, 1×1 conv, activation, 1×1 conv, gate")
        pool, reduce, expand = reversed(chain[-3:])
        gate_act = "sigmoid" if kinds[-1] == "sigmoid" else expand.spec.get("act")
        if pool.spec.get("kernel", "global") != "global" or not (reduce.spec.get("bias") and expand.spec.get("bias")) \
                or "bn" in reduce.spec or "bn" in expand.spec or gate_act is None or reduce.spec.get("act") is None \
                or (kinds[-1] == "sigmoid" and "act" in expand.spec):
            raise _Unsupported("a squeeze-and-excite gate that the `se` kind does not describe")
        c, s = x.shape.c, reduce.spec["out"]
        if make_divisible(Fraction(c, 4), 8) == s:
            spec = {"kind": "se"}  # MobileNetV3's: make_divisible(c/4, 8)
        elif c % s == 0:
            ratio = "ratio" if "ratio" in L.SqueezeExcite.model_fields else "reduction"
            spec = {"kind": "se", ratio: c // s, "divisor": None if ratio == "ratio" else 1}  # exactly c / ratio
        else:
            raise _Unsupported(f"a squeeze of {c} channels to {s}, which `se` cannot say")
        spec.update(_excite_acts(reduce.spec["act"], gate_act))
        spec["_squeeze"] = s
        for u in chain:
            u.kind = "dead"
        unit = self._add("layer", spec, [x.id], x.shape, [n for u in reversed(chain) for n in u.nodes] + [node.name])
        self.tensor[node.output[0]] = unit.id

    def op_Concat(self, node, data, a) -> None:
        if len(data) != len(node.input) or a.get("axis") not in (1, -3):
            raise _Unsupported("a concatenation that is not of image tensors along channels")
        shapes = [self.unit_of(name).shape for name in data]
        if len({(s.h, s.w) for s in shapes}) > 1:
            raise _Unsupported("concatenates tensors of different heights and widths")
        y = Shape(shapes[0].h, shapes[0].w, sum(s.c for s in shapes))
        unit = self._add("concat", {}, [self.tensor[name] for name in data], y, [node.name])
        self.tensor[node.output[0]] = unit.id

    def pool(self, node, data, a, kind: str) -> None:
        k, strides = a.get("kernel_shape", [1, 1]), a.get("strides", [1, 1])
        if k[0] != k[1] or strides[0] != strides[1] or any(d != 1 for d in a.get("dilations", [1, 1])):
            raise _Unsupported(f"a {k} window with strides {strides}")
        x = self.unit_of(data[0]).shape
        spec = {"kind": kind, "kernel": k[0], "stride": strides[0], "padding": self.padding(a, k[0], strides[0], x)}
        if kind == "maxpool" or a.get("ceil_mode", 0):
            spec["ceil_mode"] = bool(a.get("ceil_mode", 0))
        self.layer(node, data, spec)

    def op_MaxPool(self, node, data, a):
        self.pool(node, data, a, "maxpool")

    def op_AveragePool(self, node, data, a):
        self.pool(node, data, a, "avgpool")

    def op_GlobalAveragePool(self, node, data, a):
        self.layer(node, data, {"kind": "avgpool"})

    def op_ReduceMean(self, node, data, a):
        axes = a.get("axes")
        if axes is None and len(node.input) > 1:
            axes = self.values.get(node.input[1])
        spatial = {1, 2} if self.layout == "NHWC" else {2, 3}
        if axes is None or {int(i) % 4 for i in axes} != spatial:
            raise _Unsupported(f"a mean over axes {axes}, not over height and width")
        self.layer(node, data, {"kind": "avgpool"})
        if not a.get("keepdims", 1):
            self.units[-1].spec["name"] = self.units[-1].spec.get("name", "pool")

    def op_Flatten(self, node, data, a):
        self.layer(node, data, {"kind": "flatten"})

    def op_Reshape(self, node, data, a):
        target = self.values.get(node.input[1]) if len(node.input) > 1 else None
        if target is None or len(target) != 2:
            raise _Unsupported(f"a reshape to {'a shape computed at run time' if target is None else list(target)}, "
                               "not a flatten")
        self.layer(node, data, {"kind": "flatten"})

    def op_Squeeze(self, node, data, a):
        if (self.unit_of(data[0]).shape.h, self.unit_of(data[0]).shape.w) != (1, 1):
            raise _Unsupported("squeezes a tensor larger than 1×1")
        self.layer(node, data, {"kind": "flatten"})

    def op_Softmax(self, node, data, a):
        self.layer(node, data, {"kind": "softmax"})


def _graph_language() -> bool:
    """Whether the spec language has `from:` and `outputs` (the graph language), to write what blocks cannot say."""
    return "from_" in L._Kind.model_fields


_MOVES = {"Reshape", "Transpose", "Concat", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Cast"}


def _tail(graph) -> set[int]:
    """The nodes that only move data on to the graph's outputs (a detection head's reshapes and concatenations of its
    per-map predictions): nothing after them is computed, so the tensors they read are the network's outputs."""
    consumers = defaultdict(list)
    for i, node in enumerate(graph.node):
        for name in node.input:
            consumers[name].append(i)
    outputs, tail = {o.name for o in graph.output}, set()
    for i in reversed(range(len(graph.node))):
        node = graph.node[i]
        if node.op_type in _MOVES and all((consumers[o] or o in outputs) and all(c in tail for c in consumers[o])
                                          for o in node.output):
            tail.add(i)
    return tail


_KINDS = {k.model_fields["kind"].default: k for k in (*L.LAYER_KINDS, L.Unknown)}


def _value(tensor) -> list | None:
    """A small constant's values (a Clip bound, a Reshape target), or None for a weight: never read."""
    import onnx
    from onnx import numpy_helper

    count = 1
    for d in tensor.dims:
        count *= d
    if count > _SMALL or tensor.data_location == onnx.TensorProto.EXTERNAL:
        return None
    try:
        return [x.item() for x in numpy_helper.to_array(tensor).reshape(-1)]
    except Exception:  # noqa: BLE001 - a malformed constant reads as unknown, and its rule says so
        return None


# ---- units → the spec's nested layers ------------------------------------------------------------------------

_EXIT = 1 << 60  # the virtual node after every output: post-dominators are taken towards it


class _Builder:
    """Series-parallel structure recovered from the units: a fork and the join that post-dominates it become a
    `residual` (add) or `concat` (branches) block; everything else is a chain. Where the language has `from:`, a
    fork whose branches never meet again (a detection head's taps) continues along its longest branch, and each
    other branch follows the trunk, reading the tapped tensor by name."""

    def __init__(self, units: list[_Unit], outputs: list[int], path: Path):
        self.units, self.path = units, path
        self.live = [u for u in units if u.kind != "dead"]
        self.consumers: dict[int, list[int]] = defaultdict(list)
        for u in self.live:
            for i in u.inputs:
                self.consumers[i].append(u.id)
        self.outputs = outputs
        self.ipdom = self._post_dominators()
        self.depth = {}  # the longest path from a unit to an output: the trunk is the deepest branch
        for u in reversed(self.live):
            self.depth[u.id] = 1 + max((self.depth[c] for c in self.consumers[u.id]), default=0)
        self.graph = _graph_language()
        self.pending: list[tuple[int, int]] = []  # (tapped unit, the first unit of a branch that leaves it)
        self.named: set[int] = set(outputs)  # units whose output tensor a `from:` or `outputs` names

    def _post_dominators(self) -> dict[int, int]:
        ipdom = {_EXIT: _EXIT}
        for u in reversed(self.live):  # ids are a topological order: every consumer comes later
            succ = self.consumers[u.id] + ([_EXIT] if u.id in self.outputs or not self.consumers[u.id] else [])
            new = succ[0]
            for other in succ[1:]:
                a, b = new, other
                while a != b:
                    a, b = (ipdom[a], b) if a < b else (a, ipdom[b])
                new = a
            ipdom[u.id] = new
        return ipdom

    def structure_error(self, unit: _Unit, why: str) -> MobcostError:
        language = ("chains, blocks, and branches that read a named tensor" if self.graph else
                    "chains, residual blocks and concatenated branches that meet again, with one output")
        return MobcostError(f"{self.path}: node {_name(unit.nodes[0] if unit.nodes else '?')!r}: {why}; the spec "
                            f"language of this mobcost version writes {language}")

    def build(self) -> list[dict]:
        if len(self.outputs) != 1 and not self.graph:
            raise self.structure_error(self.units[self.outputs[0]], f"the graph has {len(self.outputs)} outputs")
        layers, _ = self.chain(0, _EXIT)
        while self.pending:
            fork, start = self.pending.pop(0)
            side, _ = self.chain(start, _EXIT)
            layers += [{**self.leaf(self.units[start]), "_from": fork}] + side
        return layers

    def leaf(self, unit: _Unit) -> dict:
        return {**unit.spec, "_in": self.units[unit.inputs[0]].shape, "_out": unit.shape, "_nodes": unit.nodes,
                "_id": unit.id}

    def chain(self, cur: int, stop: int) -> tuple[list[dict], int]:
        """The layers after unit `cur` up to the join `stop`, and the last unit before it."""
        out = []
        while True:
            succ = self.consumers[cur]
            if not succ:
                if stop != _EXIT or cur not in self.outputs:
                    raise self.structure_error(self.units[cur], "a branch that leads to no output")
                return out, cur
            if len(succ) > 1:
                join = self.units[self.ipdom[cur]] if self.ipdom[cur] != _EXIT else None
                if join is not None and join.kind in ("add", "concat") and len(join.inputs) == len(succ):
                    out += self.block(cur, succ, join)
                    cur = join.id
                    continue
                if not self.graph or cur == 0:
                    raise self.structure_error(self.units[cur], "branches that do not meet again in one add or concat")
                trunk = max(succ, key=lambda c: self.depth[c])
                self.pending += [(cur, c) for c in succ if c != trunk]
                self.named.add(cur)
                succ = [trunk]
            elif stop == _EXIT and cur in self.outputs and self.graph:
                self.named.add(cur)
            v = self.units[succ[0]]
            if v.id == stop:
                return out, cur
            if v.kind in ("add", "concat"):
                raise self.structure_error(v, "a join whose inputs do not start from one tensor")
            out.append(self.leaf(v))
            cur = v.id

    def block(self, fork: int, succ: list[int], join: _Unit) -> list[dict]:
        """The branches from `fork` to `join` as one block; or, for an add with an activation after it where
        `residual` has none (ResNet's ReLU), as the graph language writes it: the branches, then `add` from both."""
        branches = []
        for c in succ:
            if c == join.id:
                branches.append(([], fork))
            else:
                layers, last = self.chain(c, join.id)
                branches.append(([self.leaf(self.units[c])] + layers, last))
        order = sorted(range(len(branches)), key=lambda i: join.inputs.index(branches[i][1]))
        paths = [branches[i][0] for i in order]
        nodes = [n for path in paths for layer in path for n in layer["_nodes"]] + join.nodes
        common = {"_in": self.units[fork].shape, "_out": join.shape, "_nodes": nodes, "_id": join.id}
        if join.kind == "concat":
            return [{"kind": "concat", "branches": paths, **common}]
        (body, _), (shortcut, end) = sorted([branches[i] for i in order], key=lambda b: len(b[0]), reverse=True)
        if "act" in join.spec and "act" not in L.Residual.model_fields:
            if not self.graph or fork == 0:
                raise self.structure_error(join, "an activation after a residual add")
            self.named.update({fork, body[-1]["_id"], end})
            if shortcut:
                shortcut[0]["_from"] = fork
            add = {"kind": "add", "act": join.spec["act"], "_from": [body[-1]["_id"], end], **common}
            return body + shortcut + [{**add, "_nodes": join.nodes}]
        return [{"kind": "residual", "layers": body, **({"shortcut": shortcut} if shortcut else {}),
                 **({"act": join.spec["act"]} if "act" in join.spec else {}), **common}]


# ---- folding repeated patterns back into the paper's blocks --------------------------------------------------

def _is(layer: dict, kind: str, **fields) -> bool:
    return layer.get("kind") == kind and all(layer.get(k) == v for k, v in fields.items())


def _public(layer: dict) -> dict:
    """A layer's fields as the spec says them, without names or the importer's bookkeeping."""
    out = {}
    for key, value in layer.items():
        if key.startswith("_") or key == "name":
            continue
        if key in ("layers", "shortcut"):
            value = [_public(inner) for inner in value]
        elif key == "branches":
            value = [[_public(inner) for inner in branch] for branch in value]
        out[key] = value
    return out


def _bottleneck(parts: list[dict], residual: bool) -> dict | None:
    """An inverted residual (MobileNetV2 Fig. 3, V3's bneck): [1×1 expand], k×k depthwise, [SE], linear 1×1
    project, every conv with batch norm and no bias, as the `bottleneck` kind expands it; else None."""
    if any(p.get("_tap") for p in parts[:-1]) or any("_from" in p for p in parts[1:]):
        return None  # a tensor inside is read by name elsewhere, or a part reads another tensor
    expand = parts[0] if _is(parts[0], "pw") and len(parts) >= 3 else None
    rest = parts[1:] if expand else parts
    if len(rest) not in (2, 3):
        return None
    dw, *se, project = rest
    act = dw.get("act")
    if not (_is(dw, "dw", bn=True) and "bias" not in dw and act and dw["padding"] in ("same", (dw["kernel"] - 1) // 2)
            and dw["kernel"] % 2 and _is(project, "pw", bn=True) and "bias" not in project and "act" not in project
            and all(_is(s, "se") for s in se)):
        return None
    if expand and not (expand.get("bn") and expand.get("act") == act and "bias" not in expand):
        return None
    c_in, e = parts[0]["_in"].c, dw["_in"].c
    if (expand is None) != (e == c_in):
        return None
    excite = _excite(se[0], c_in, e) if se else False
    if excite is None:
        return None
    t = Fraction(e, c_in)
    block = {"kind": "bottleneck", "t": _ratio(t), "out": project["out"], "kernel": dw["kernel"],
             "stride": dw["stride"], **({"se": excite} if se else {}), "act": act}
    if not residual and dw["stride"] == 1 and c_in == project["out"]:
        block["residual"] = False
    return {**block, **_ends(parts[0], project), "_nodes": [n for p in parts for n in p["_nodes"]]}


def _excite_acts(act: str, gate: str) -> dict:
    """The SE's activations where they are not MobileNetV3's (relu, then the hsigmoid gate)."""
    return {**({"act": act} if act != "relu" else {}), **({"gate": gate} if gate != "hsigmoid" else {})}


def _excite(se: dict, c_in: int, e: int):
    """A bottleneck's `se:` for the SE layer found inside it: true for MobileNetV3's, else its settings where the
    language has them (squeezed from the block's input as EfficientNet, or from the expanded width); else None."""
    acts = _excite_acts(se.get("act", "relu"), se.get("gate", "hsigmoid"))
    s = se["_squeeze"]
    if make_divisible(Fraction(e, 4), 8) == s and not acts:
        return True
    if not hasattr(L, "Excite") or "squeeze_from" not in L.Excite.model_fields:
        return None
    if max(1, c_in // 4) == s:  # torchvision's EfficientNet: max(1, input_channels // 4)
        return {"squeeze_from": "input", "ratio": 4, "divisor": None, **acts}
    if make_divisible(Fraction(e, 4), 8) == s:
        return acts
    return {"ratio": e // s, "divisor": None, **acts} if e % s == 0 else None


def _ends(first: dict, last: dict) -> dict:
    """A block's bookkeeping from its first and last parts: what it reads, what it gives, and whether it is named."""
    return {"_in": first["_in"], "_out": last["_out"], "_id": last["_id"],
            **({"_from": first["_from"]} if "_from" in first else {}), **({"_tap": True} if last.get("_tap") else {})}


def _ratio(t: Fraction):
    """t as a config writes it: 6, 2.5, or "184/80" where no short decimal is exact."""
    if t.denominator == 1:
        return t.numerator
    if len(str(float(t))) <= 8 and Fraction(str(float(t))) == t:
        return float(t)
    return f"{t.numerator}/{t.denominator}"


def _separable(dw: dict, pw: dict) -> dict | None:
    """A k×k depthwise conv then a 1×1 conv with the same batch norm, activation and bias: MobileNets' block."""
    same = all(dw.get(k) == pw.get(k) for k in ("bn", "act", "bias"))
    if not (_is(dw, "dw") and _is(pw, "pw") and same) or dw.get("_tap") or "_from" in pw:
        return None
    block = {"kind": "separable", "kernel": dw["kernel"], "stride": dw["stride"], "padding": dw["padding"],
             "out": pw["out"], **{k: dw[k] for k in ("bias", "bn", "act") if k in dw}}
    return {**block, **_ends(dw, pw), "_nodes": dw["_nodes"] + pw["_nodes"]}


def _fold(layers: list[dict]) -> list[dict]:
    """Blocks recognised bottom-up: inverted residuals (merged into `n` repeats), separable pairs."""
    out: list[dict] = []
    i = 0
    while i < len(layers):
        layer = layers[i]
        if layer["kind"] == "residual":
            if "shortcut" not in layer and "act" not in layer and (b := _bottleneck(layer["layers"], True)):
                layer = {**b, **_ends(layer, layer), "_nodes": layer["_nodes"]}
            else:
                layer = {**layer, "layers": _fold(layer["layers"]),
                         **({"shortcut": _fold(layer["shortcut"])} if "shortcut" in layer else {})}
        elif layer["kind"] == "concat":
            layer = {**layer, "branches": [_fold(branch) for branch in layer["branches"]]}
        else:
            for size in (4, 3, 2):
                if (b := _bottleneck(layers[i:i + size], False)) and len(layers[i:i + size]) == size:
                    layer, i = b, i + size - 1
                    break
            else:
                if i + 1 < len(layers) and (s := _separable(layer, layers[i + 1])):
                    layer, i = s, i + 1
        i += 1
        out.append(layer)
    return out


def _module(node: str) -> str:
    """A node's module as PyTorch qualifies it, from the exporter's node name: /features/features.1/features.1.0/
    block/block.0/block.0.0/Conv is features.1.0.block.0.0 (the last part is the operator). Other names are kept."""
    if not node.startswith("/"):
        return node
    qualified, previous = "", ""
    for part in [p for p in node.split("/") if p][:-1]:
        if previous and part.startswith(previous + "."):  # a numbered child repeats its parent's name
            qualified = qualified[:len(qualified) - len(previous)] + part
        else:
            qualified = f"{qualified}.{part}" if qualified else part
        previous = part
    return qualified


_BLOCKS = {"bottleneck", "separable", "residual", "concat", "se"}


def _named(layers: list[dict], scope: str = "") -> list[dict]:
    """Names from the nodes' modules: a layer by its first node's (the conv or pool whose batch norm and activation
    follow it), a block by the module its nodes share up to its last number (features.1.conv is features.1); inside
    a block relative to the block; a name already used in this list is left out rather than repeated."""
    used, out = set(), []
    for layer in layers:
        modules = [_module(n) for n in layer["_nodes"] if n]
        common = ".".join(os.path.commonprefix([m.split(".") for m in modules])) if modules else ""
        numbered = re.match(r".*\.\d+", common)
        if layer["kind"] in _BLOCKS and (numbered or common):
            own = numbered[0] if numbered and len(numbered[0]) > len(scope) else common
        else:
            own = modules[0] if modules else ""
        own = own[len(scope) + 1:] if scope and own.startswith(scope + ".") else "" if own == scope else own
        layer = {k: v for k, v in layer.items() if k != "name"}
        name = _name(own) if own else None
        if layer.get("_tap") and (not name or name in used):  # a `from:` or `outputs` names it: it needs a name
            name = f"{name or layer['kind']}_{layer['_id']}"
        if name and name not in used:
            used.add(name)
            layer = {"kind": layer["kind"], "name": name, **layer}
        inner = numbered[0] if numbered else common
        for key in ("layers", "shortcut"):
            if key in layer:
                layer[key] = _named(layer[key], inner)
        if "branches" in layer:
            layer["branches"] = [_named(branch, inner) for branch in layer["branches"]]
        out.append(layer)
    return out


def _merged(layers: list[dict]) -> list[dict]:
    """Consecutive like bottlenecks as one row with `n` repeats (MobileNetV2 Table 2), named by the first."""
    out: list[dict] = []
    for layer in layers:
        previous = out[-1] if out else None
        if previous and _is(previous, "bottleneck") and _is(layer, "bottleneck", stride=1) \
                and not previous.get("_tap") and "_from" not in layer \
                and "residual" not in layer and "residual" not in previous \
                and all(previous.get(k) == layer.get(k) for k in ("t", "out", "kernel", "se", "act")):
            n = previous.pop("n", 1) + 1
            out[-1] = _with_n(previous, n, layer)
            continue
        out.append(dict(layer))
    return out


def _with_n(block: dict, n: int, last: dict) -> dict:
    """A bottleneck with `n` repeats, written right after `out` as the paper's table has its columns."""
    ordered = {}
    for key, value in block.items():
        if key != "n" and key != "_tap":
            ordered[key] = value
        if key == "out":
            ordered["n"] = n
    return {**ordered, **_ends(block, last)}


def _repeats(layers: list[dict]) -> list[dict]:
    """Runs of identical layers as one `repeat` (the paper's "5×" rows), named `prefix` when they are prefix.1 …"""
    out, i = [], 0
    while i < len(layers):
        j = i + 1
        while j < len(layers) and _public(layers[j]) == _public(layers[i]) and not layers[j - 1].get("_tap") \
                and "_from" not in layers[j]:
            j += 1
        if j - i == 1:
            out.append(layers[i])
        else:
            names = [layer.get("name") or "" for layer in layers[i:j]]
            match = [re.fullmatch(r"(.+)\.(\d+)", n) for n in names]
            first = {k: v for k, v in layers[i].items() if k != "name"}
            if all(match) and len({m[1] for m in match}) == 1 and [int(m[2]) for m in match] == list(range(1, j - i + 1)):
                first = {"kind": first["kind"], "name": match[0][1], **first}
            out.append({"repeat": j - i, "layers": [first]})
        i = j
    return out


def _plain(layer: dict) -> dict:
    """The layer as YAML data: bookkeeping gone, blocks' layers plain too."""
    out = {}
    for key, value in layer.items():
        if key.startswith("_"):
            continue
        if key in ("layers", "shortcut"):
            value = [_plain(inner) for inner in value]
        elif key == "branches":
            value = [[_plain(inner) for inner in branch] for branch in value]
        out[key] = value
    return out


def _classifier(layers: list[dict]) -> int | None:
    """The last fully connected (or 1×1) layer, if nothing costed follows it, is the classifier: `out: classes`,
    so that α leaves it alone as it does in every config. Its width, or None."""
    for layer in reversed(layers):
        if layer.get("kind") in ("flatten", "softmax", "dropout"):
            continue
        if layer.get("kind") in ("fc", "pw") and isinstance(layer.get("out"), int):
            classes, layer["out"] = layer["out"], "classes"
            return classes
        return None
    return None


class _Dumper(yaml.SafeDumper):
    """Block style for the network and its blocks, flow style for a layer (one line each, as the configs)."""


def _represent_dict(dumper, data):
    flow = not any(isinstance(v, (list, dict)) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _represent_list(dumper, data):
    flow = not any(isinstance(v, (list, dict)) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def import_onnx(path: str | Path, resolution: int | None = None, unknown: str = "error") -> str:
    """A spec (YAML text) for the network in an ONNX file, its weights never read.

    `resolution` sets the input size where the model's is dynamic (or overrides it); `unknown="zero"` keeps each
    operator mobcost has no rule for as a marked row of 0 Mult-Adds instead of failing.
    """
    if unknown not in UNKNOWN:
        raise MobcostError(f"--unknown takes {' or '.join(UNKNOWN)} (found {unknown!r})")
    path = Path(path)
    model = read_model(path)
    reader = _Reader(model, path, resolution, unknown)
    units = reader.read()
    builder = _Builder(units, reader.outputs, path)
    layers = builder.build()
    for layer in _leaves(layers):
        if layer.get("_id") in builder.named:
            layer["_tap"] = True
    layers, outputs = _linked(_merged(_named(_fold(layers))), reader.outputs, path)
    layers = [_plain(layer) for layer in _repeats(layers)]
    classes = _classifier(layers) if not outputs else None
    for layer in _leaves(layers):
        if layer.get("kind") == "unknown":
            layer["note"] = f"no rule for ONNX {layer['op']}: counted as 0, shape assumed unchanged"
    x = reader.input_shape
    stem = _name(path.stem) or "model"
    data = {"name": _name(model.graph.name) if model.graph.name and model.graph.name != "main_graph" else stem,
            "title": stem, "source": f"ONNX file {_name(path.name)}",
            "input": {"resolution": x.h if x.h == x.w else [x.h, x.w], "channels": x.c},
            **({"classes": classes} if classes else {}), **({"outputs": outputs} if outputs else {}),
            "layers": layers}
    bn = sum(n.op_type == "BatchNormalization" for n in model.graph.node)
    norm = (f"its {bn} batch norms follow their convolutions (`bn: true`)" if bn else
            "it has no batch norm nodes: a conv's `bias: true` is its own bias or a batch norm the exporter folded "
            "into it")
    producer = _clean(f"{model.producer_name} {model.producer_version}".strip()) or "unknown"
    opset = ", ".join(f"{_clean(o.domain) or 'ai.onnx'} {o.version}" for o in model.opset_import)
    header = (f"# Imported by `mobcost import` from {_name(path.name)} (producer: {producer}; opset {opset}; input "
              f"layout {reader.layout}).\n# Weights were not read, only their shapes; {norm}.\n")
    return header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def _linked(layers: list[dict], outputs: list[int], path: Path) -> tuple[list[dict], list[str]]:
    """`from:` on each branch that reads a tapped tensor, and the names of the outputs where there are several."""
    names = {layer["_id"]: layer["name"] for layer in layers if "_id" in layer and "name" in layer}
    reads = [i for layer in layers if "_from" in layer
             for i in (layer["_from"] if isinstance(layer["_from"], list) else [layer["_from"]])]
    missing = [i for i in reads + outputs if i not in names]
    if missing and (len(outputs) > 1 or any("_from" in layer for layer in layers)):
        raise MobcostError(f"{path}: a tensor inside a block is read by another branch or is an output; the "
                           "importer names only the outputs of top-level layers")
    several = len(outputs) > 1
    linked, part = [], "backbone"
    for layer in layers:
        head = {"kind": layer["kind"], **({"name": layer["name"]} if "name" in layer else {})}
        if "_from" in layer:
            source = layer["_from"]
            head["from"] = [names[i] for i in source] if isinstance(source, list) else names[source]
        section = layer.get("name", "").split(".")[0] if several else part
        if section and section != part and "part" in L._Kind.model_fields:  # tables group rows by part
            head["part"] = part = section
        if several and layer.get("_id") in outputs and "out" in layer:
            head["width"] = "fixed"  # a head's outputs are the task's (anchors × classes): α leaves them
        linked.append({**head, **layer})
    return linked, [names[i] for i in outputs] if several else []


def _leaves(layers: list[dict]):
    for layer in layers:
        yield layer
        for key in ("layers", "shortcut"):
            yield from _leaves(layer.get(key, []))
        for branch in layer.get("branches", []):
            yield from _leaves(branch)
