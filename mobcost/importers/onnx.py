"""An ONNX graph → a mobcost spec: operators become layer kinds, repeated patterns fold back into blocks.

Weights are never read: the graph is loaded with external data off and only initializer shapes (`dims`) are used;
the values read are those of small constants that decide a rule (Clip's 0 and 6, a Reshape's target). An operator
with no rule stops the import with every such operator and node named, unless `unknown="zero"` keeps each as a
marked row of 0 Mult-Adds (layers.Unknown). The `onnx` package is imported only here, only when a model is read.
"""

from __future__ import annotations

import mmap
import os
import stat
import typing
from collections import Counter, defaultdict
from contextlib import nullcontext
from pathlib import Path

from mobcost import layers as L
from mobcost.importers.graph import (Unit, clean, dump, exact_squeeze, excite_acts, name_of,
                                    spec_layers)
from mobcost.importers.protobuf import without_weights
from mobcost.layers import Shape, ShapeError
from mobcost.limits import LIMIT, MAX_ONNX_BYTES, MAX_ONNX_NODES, MAX_PIXELS
from mobcost.errors import MobcostError

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
        info = os.stat(path)
    except OSError as e:
        raise MobcostError(f"{path}: cannot read the ONNX file: {e.strerror}") from None
    if not stat.S_ISREG(info.st_mode):  # a device or a pipe is refused unopened: reading it could block
        raise MobcostError(f"{path}: not a regular file")
    size = info.st_size
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
            model = onnx.ModelProto.FromString(without_weights(data))
    except Exception as e:  # protobuf's DecodeError and friends: a malformed file is bad input, never a traceback
        raise MobcostError(f"{path}: not a readable ONNX model ({type(e).__name__}: {clean(str(e))[:200]})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise MobcostError(f"{path}: not an ONNX model: it has no graph of operators")
    if len(model.graph.node) > MAX_ONNX_NODES:
        raise MobcostError(f"{path}: expected at most {MAX_ONNX_NODES:,} ONNX nodes {LIMIT}; it has "
                           f"{len(model.graph.node):,}")
    return model


# ---- the graph as units: one layer, join or input each -------------------------------------------------------

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
        self.units: list[Unit] = []
        self.tensor: dict[str, int] = {}  # a data tensor → the unit whose output it is
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
                               f"({', '.join(name_of(v.name) for v in inputs) or 'none'})")
        value = inputs[0]
        dims = [d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim]
        if len(dims) != 4:
            raise MobcostError(f"{self.path}: input {name_of(value.name)!r} has {len(dims)} dimensions; expected an "
                               "image batch of 4 (NCHW, or NHWC as TensorFlow exports)")
        consumers = [n for n in graph.node if value.name in n.input]
        nhwc = any(n.op_type == "Transpose" and tuple(_attrs(n).get("perm", ())) == (0, 3, 1, 2) for n in consumers)
        self.layout = "NHWC" if nhwc else "NCHW"
        _, h, w, c = dims if nhwc else (dims[0], dims[2], dims[3], dims[1])
        if c is None:
            raise MobcostError(f"{self.path}: input {name_of(value.name)!r} has a dynamic channel count")
        if resolution is not None:
            h = w = resolution
        if h is None or w is None:
            raise MobcostError(f"{self.path}: input {name_of(value.name)!r} has a dynamic height or width "
                               f"({self.layout} {dims}); give the resolution with --res")
        if not (0 < h <= MAX_PIXELS and 0 < w <= MAX_PIXELS and 0 < c):
            raise MobcostError(f"{self.path}: input {name_of(value.name)!r} of {h}×{w}×{c} is out of mobcost's "
                               f"limits {LIMIT}")
        self.input_shape = Shape(h, w, c)
        self.tensor[value.name] = self._add("input", {}, [], self.input_shape, []).id

    def _add(self, kind, spec, inputs, shape, nodes) -> Unit:
        unit = Unit(len(self.units), kind, spec, inputs, shape, nodes)
        self.units.append(unit)
        return unit

    def read(self) -> list[Unit]:
        for i, node in enumerate(self.model.graph.node):
            self.node(node, i in self.tail)
        if self.unknown_ops and self.unknown == "error":
            listed = "; ".join(f"{op} (node {name!r}{': ' + why if why else ''})" for op, name, why in self.unknown_ops)
            raise MobcostError(f"{self.path}: {len(self.unknown_ops)} ONNX node(s) mobcost has no rule for: {listed}. "
                               f"Nothing is counted as zero silently: `mobcost import {name_of(self.path.name)} "
                               "--unknown zero -o model.yaml` records each as a marked row of 0 Mult-Adds and 0 "
                               "parameters.")
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
            return
        if node.op_type == "Shape":  # shape arithmetic reads the image's shape, not its data
            return
        try:
            try:
                self.rule(node, data)
            except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as e:  # attributes out of shape
                raise _Unsupported(f"malformed ({type(e).__name__})") from None
        except _Unsupported as e:
            if tail:  # only data movement from here to the outputs: the tensors it moves are the outputs
                self.heads += [self.tensor[name] for name in data]
                return
            self.unknown_ops.append((name_of(node.op_type), name_of(node.name), e.why))
            unit = self.unit_of(data[0])
            spec = {"kind": "unknown", "op": clean(node.op_type, r"\w.:")[:64]}
            new = self._add("layer", spec, [unit.id], unit.shape, [node.name])
            for out in node.output:
                self.tensor[out] = new.id

    def unit_of(self, tensor: str) -> Unit:
        return self.units[self.tensor[tensor]]

    def alias(self, node, data) -> None:
        self.tensor[node.output[0]] = self.tensor[data[0]]

    def layer(self, node, data, spec: dict) -> Unit:
        """A new layer unit reading data[0], its shape by the layer kind's own rule."""
        x = self.unit_of(data[0]).shape
        try:
            layer = _KINDS[spec["kind"]](**spec)
            y = layer.output_shape(x)
        except ShapeError as e:
            raise _Unsupported(str(e)) from None
        except ValueError as e:  # pydantic: a field past mobcost's limits
            raise _Unsupported(clean(str(e).splitlines()[-1] if str(e) else type(e).__name__)) from None
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
        dims, x, groups = self.weight(node, 1), self.unit_of(data[0]).shape, a.get("group", 1)
        if len(dims) != 4 or groups < 1 or dims[1] * groups != x.c:
            raise _Unsupported(f"a weight of shape {dims} in {groups} group(s) on {x.c} channels")
        m, _, kh, kw = dims
        strides, dilations = a.get("strides", [1, 1]), a.get("dilations", [1, 1])
        if kh != kw:
            raise _Unsupported(f"a {kh}×{kw} kernel (mobcost's kernels are square)")
        if strides[0] != strides[1]:
            raise _Unsupported(f"strides {strides} (mobcost's strides are the same on both axes)")
        if dilations[0] != dilations[1]:
            raise _Unsupported(f"dilations {dilations} (mobcost's dilations are the same on both axes)")
        bias = len(node.input) > 2 and bool(node.input[2])
        padding = self.padding(a, dilations[0] * (kh - 1) + 1, strides[0], x)
        common = {"kernel": kh, "stride": strides[0], "padding": padding,
                  **({"dilation": dilations[0]} if dilations[0] != 1 else {})}
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
                     or unit.kind == "add"):
            unit.spec["act"] = act
            unit.nodes.append(node.name)
            return self.alias(node, data)
        if act == "sigmoid":  # perhaps half of x·sigmoid(x) (swish), or an SE gate: resolved at the Mul
            unit = self._add("sigmoid", {}, [self.tensor[data[0]]], unit.shape, [node.name])
            self.tensor[node.output[0]] = unit.id
            return
        if unit.kind == "add":
            raise _Unsupported("an activation after a residual add, which `residual` cannot say")
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
            other = next((name for name in node.input if name != data[0]), None)
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

    def squeeze_excite(self, node, x: Unit, gate: Unit) -> None:
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
        settings = exact_squeeze(c, s)
        if settings is None:
            raise _Unsupported(f"a squeeze of {c} channels to {s}, which `se` cannot say")
        spec = {"kind": "se", **settings}
        spec.update(excite_acts(reduce.spec["act"], gate_act))
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

    def op_LRN(self, node, data, a):
        self.layer(node, data, {"kind": "lrn", "size": a["size"], "alpha": float(a.get("alpha", 1e-4)),
                                "beta": float(a.get("beta", 0.75)), "k": float(a.get("bias", 1.0))})

    def op_Resize(self, node, data, a):
        """A resize to constant sizes (or scales) of height and width: an upsample by an integer scale or to a size."""
        x = self.unit_of(data[0]).shape
        sizes = self.values.get(node.input[3]) if len(node.input) > 3 and node.input[3] else None
        scales = self.values.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if sizes is not None and len(sizes) == 4:
            h, w = int(sizes[2]), int(sizes[3])
        elif scales is not None and len(scales) == 4 and scales[2] == scales[3] and float(scales[2]).is_integer():
            h, w = x.h * int(scales[2]), x.w * int(scales[3])
        else:
            raise _Unsupported("a resize to sizes computed at run time")
        mode = a.get("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode not in ("nearest", "linear"):
            raise _Unsupported(f"{mode} interpolation")
        spec = {"kind": "upsample", **({"scale": h // x.h} if h == w // x.w * x.h and h % x.h == 0 and w % x.w == 0
                                       and h // x.h == w // x.w else {"size": [h, w]})}
        if mode == "linear":
            spec["mode"] = "bilinear"
            ctm = a.get("coordinate_transformation_mode", b"half_pixel")
            if (ctm.decode() if isinstance(ctm, bytes) else ctm) == "align_corners":
                spec["align_corners"] = True
        self.layer(node, data, spec)


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
    layers, outputs, classes = spec_layers(units, reader.outputs, path)
    x = reader.input_shape
    stem = name_of(path.stem) or "model"
    data = {"name": name_of(model.graph.name) if model.graph.name and model.graph.name != "main_graph" else stem,
            "title": stem, "source": f"ONNX file {name_of(path.name)}",
            "input": {"resolution": x.h if x.h == x.w else [x.h, x.w], "channels": x.c},
            **({"classes": classes} if classes else {}), **({"outputs": outputs} if outputs else {}),
            "layers": layers}
    bn = sum(n.op_type == "BatchNormalization" for n in model.graph.node)
    norm = (f"its {bn} batch norms follow their convolutions (`bn: true`)" if bn else
            "it has no batch norm nodes: a conv's `bias: true` is its own bias or a batch norm the exporter folded "
            "into it")
    producer = clean(f"{model.producer_name} {model.producer_version}".strip()) or "unknown"
    opset = ", ".join(f"{clean(o.domain) or 'ai.onnx'} {o.version}" for o in model.opset_import)
    header = (f"# Imported by `mobcost import` from {name_of(path.name)} (producer: {producer}; opset {opset}; input "
              f"layout {reader.layout}).\n# Weights were not read, only their shapes; {norm}.\n")
    return header + dump(data)


