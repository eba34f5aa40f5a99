"""An ONNX graph → a mobcost spec: operators become layer kinds, repeated patterns fold back into blocks.

Weights are never read: the graph is loaded with external data off and only initializer shapes (`dims`) are used;
the values read are those of small constants that decide a rule (Clip's 0 and 6, a Reshape's target). An operator
with no rule stops the import with every such operator and node named, unless `unknown="zero"` keeps each as a
marked row of 0 Mult-Adds (layers.Unknown). The `onnx` package is imported only here, only when a model is read.
"""

from __future__ import annotations

import math
import mmap
import os
import stat
import typing
from collections import Counter, defaultdict
from contextlib import nullcontext
from pathlib import Path

from mobcost import layers as L
from mobcost.importers.graph import (Unit, clean, dump, exact_squeeze, excite_acts, name_of, whole,
                                    spec_layers)
from mobcost.importers.protobuf import TooMany, without_weights
from mobcost.layers import Shape, ShapeError
from mobcost.limits import LIMIT, MAX_LAYERS, MAX_ONNX_BYTES, MAX_ONNX_INITIALIZERS, MAX_ONNX_NODES, MAX_PIXELS
from mobcost.errors import MAX_LISTED, MobcostError, shown

UNKNOWN = ("error", "zero")
_ACTS = set(typing.get_args(L.Activation))  # the activations the spec language names
_LAYOUT = {(0, 3, 1, 2), (0, 2, 3, 1)}  # NHWC ↔ NCHW transposes: the spec's Shape has no layout
_PASS = {"Identity", "Dropout", "Cast"}  # the identity at inference
_ELEMENTWISE = {"Add", "Sum", "Mul", "Div", "Erf", "Sigmoid", "Relu", "Clip", "HardSwish", "HardSigmoid", "LeakyRelu",
                "Gelu"}
_TOKEN_MOVES = {"Reshape", "Transpose", "Unsqueeze", "Squeeze", "Identity", "Softmax"}  # on attention's tokens
_SMALL = 64  # constants read by value (a Clip bound, a Reshape target); anything larger is a weight
_CAUSES, _NAMES = 12, 3  # a refusal lists at most this many root causes, each with this many node names


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
            model = onnx.ModelProto.FromString(without_weights(data, MAX_ONNX_NODES, MAX_ONNX_INITIALIZERS))
    except TooMany as e:  # counted while the bytes were walked, before protobuf parsed the graph
        raise MobcostError(f"{path}: {e} {LIMIT}; it has more") from None
    except Exception as e:  # protobuf's DecodeError and friends: a malformed file is bad input, never a traceback
        raise MobcostError(f"{path}: not a readable ONNX model ({type(e).__name__}: {clean(str(e))[:200]})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise MobcostError(f"{path}: not an ONNX model: it has no graph of operators")
    _check_order(model.graph, path)
    return model


def _check_order(graph, path: Path) -> None:
    """Every tensor a node reads is written before it (by a node, or as an input or an initializer): ONNX requires
    the nodes in topological order, and a node read out of order would otherwise be dropped without a word."""
    written = {v.name for v in graph.input} | {t.name for t in graph.initializer} | {
        t.values.name for t in graph.sparse_initializer}
    later = {name for node in graph.node for name in node.output}
    for i, node in enumerate(graph.node):
        for name in node.input:
            if name and name not in written:
                where = f"node {i:,} ({shown(node.op_type)} {shown(node.name)!r}) reads tensor {shown(name)!r}"
                raise MobcostError(f"{path}: {where} before the node that writes it: the nodes are not in "
                                   "topological order, as ONNX requires" if name in later else
                                   f"{path}: {where}, which no node, graph input or initializer writes")
        written.update(node.output)


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
        self.values = {t.name: v for t in graph.initializer if (v := _value(t)) is not None}  # the same, flat
        self.arrays = {t.name: v for t in graph.initializer if (v := _array(t)) is not None}  # and shape arithmetic
        self.units: list[Unit] = []
        self.tensor: dict[str, int] = {}  # a data tensor → the unit whose output it is
        self.unknown_ops: list[tuple[str, str, str]] = []  # (operator, node name, why)
        self.uses = Counter(name for node in graph.node for name in node.input if name)
        self.uses.update(o.name for o in graph.output)
        self.layout = "NCHW"
        self.tail = _tail(graph)
        self.heads: list[int] = []  # units whose outputs only a tail of reshapes and concatenations moves on
        self.nhwc: set[str] = set()  # the data tensors in TensorFlow's layout (the input, up to its transpose)
        self.guessed: set[int] = set()  # placeholder units of a refused import whose real shape is unknown
        self.views: dict[str, dict] = {}  # tensors that are a unit's map seen as attention's tokens (see attention)
        self.patch: tuple[int, int] | None = None  # MobileViT's patch while its tokens are unfolded (see patches)
        self.consumers: dict[str, list] = defaultdict(list)
        for node in graph.node:
            for name in node.input:
                self.consumers[name].append(node)
        self._input(graph, resolution)
        self.shapes = _inferred(model, self.input_name, self.input_dims)

    # the image input
    def _input(self, graph, resolution: int | tuple[int, int] | None) -> None:
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
        if resolution is not None:  # a side, or (height, width) as --res 240x320 gives it
            h, w = resolution if isinstance(resolution, tuple) else (resolution, resolution)
        if h is None or w is None:
            raise MobcostError(f"{self.path}: input {name_of(value.name)!r} has a dynamic height or width "
                               f"({self.layout} {dims}); give the resolution with --res")
        if not (0 < h <= MAX_PIXELS and 0 < w <= MAX_PIXELS and 0 < c):
            raise MobcostError(f"{self.path}: input {name_of(value.name)!r} of {h}×{w}×{c} is out of mobcost's "
                               f"limits {LIMIT}")
        self.input_shape = Shape(h, w, c)
        self.input_name, self.input_dims = value.name, [1, h, w, c] if nhwc else [1, c, h, w]
        if nhwc:
            self.nhwc.add(value.name)
        self.tensor[value.name] = self._add("input", {}, [], self.input_shape, []).id

    def _add(self, kind, spec, inputs, shape, nodes) -> Unit:
        unit = Unit(len(self.units), kind, spec, inputs, shape, nodes)
        self.units.append(unit)
        return unit

    def read(self) -> list[Unit]:
        for i, node in enumerate(self.model.graph.node):
            self.node(node, i in self.tail)
        self.finish()
        if self.unknown_ops and self.unknown == "error":
            raise MobcostError(self.refusal())
        ends = [self.tensor[o.name] for o in self.model.graph.output if o.name in self.tensor] + self.heads
        if not ends:
            raise MobcostError(f"{self.path}: the graph's outputs do not depend on its input image")
        self.outputs = list(dict.fromkeys(ends))
        return self.units

    def refusal(self) -> str:
        """Each root cause once (an operator and why), with its count and its first nodes' whole names; never the
        nodes that fail only because they read an earlier one's output."""
        causes: dict[tuple[str, str], list[str]] = defaultdict(list)
        for op, name, why, after in self.unknown_ops:
            if not after:
                causes[op, why].append(name)
        after = sum(1 for *_, a in self.unknown_ops if a)
        ops = Counter(op for op, *_ in (k for k in causes))
        lines = [f"{self.path}: {sum(map(len, causes.values()))} ONNX node(s) mobcost has no rule for "
                 f"({', '.join(f'{op} × {sum(len(v) for (o, _), v in causes.items() if o == op)}' for op in ops)}):"]
        for (op, why), names in list(causes.items())[:_CAUSES]:
            shown = ", ".join(repr(n) for n in names[:_NAMES]) + (f" and {len(names) - _NAMES} more"
                                                                 if len(names) > _NAMES else "")
            lines.append(f"  {op} × {len(names)}: {why or 'no rule for this operator'} (node {shown})")
        if len(causes) > _CAUSES:
            lines.append(f"  and {len(causes) - _CAUSES} more causes")
        if after:
            lines.append(f"  ({after} node(s) after these, reading what they give, fail with them or go unexamined: not listed)")
        lines.append(f"Nothing is counted as zero silently: `mobcost import {name_of(self.path.name)} --unknown zero "
                     "-o model.yaml` keeps each as a marked row of 0 Mult-Adds and 0 parameters, with the output shape "
                     "ONNX shape inference gives it, and the totals say what they leave out.")
        return "\n".join(lines)

    # one node
    def node(self, node, tail: bool = False) -> None:
        data = [name for name in node.input if name and name in self.tensor]
        if not data or node.op_type == "Shape":  # shape arithmetic and constants: no image data flows through it
            if node.op_type == "Constant" and (value := _attrs(node).get("value")) is not None:
                self.dims[node.output[0]] = list(value.dims)
            if node.op_type in ("Identity", "Transpose") and node.input[0] in self.dims:  # a weight's alias (shared
                dims = self.dims[node.input[0]]  # by the exporter) or its transpose (a linear layer's, unfolded)
                perm = _attrs(node).get("perm", range(len(dims))[::-1]) if node.op_type == "Transpose" else None
                self.dims[node.output[0]] = dims if perm is None else [dims[i] for i in perm]
            if node.op_type == "Reshape" and node.input[0] in self.dims and len(node.input) > 1 \
                    and (target := self.values.get(node.input[1])) is not None:  # a weight viewed as 1×c×1×1
                dims, target = self.dims[node.input[0]], [int(d) for d in target]
                target = [dims[i] if d == 0 and i < len(dims) else d for i, d in enumerate(target)]
                if target.count(-1) == 1 and all(d > 0 for d in target if d != -1):
                    target[target.index(-1)] = math.prod(dims) // math.prod(d for d in target if d != -1)
                if all(d > 0 for d in target) and math.prod(target) == math.prod(dims):
                    self.dims[node.output[0]] = target
            shapes = self.shapes
            if node.op_type == "Shape" and data and None in shapes.get(data[0], [None]) \
                    and data[0] not in self.views:  # inference stopped
                x = self.unit_of(data[0]).shape  # before it (after a pad it could not size): mobcost's own shape
                shapes = {data[0]: [1, x.h, x.w, x.c] if data[0] in self.nhwc else [1, x.c, x.h, x.w]}
            if (value := _folded(node, self.arrays, shapes)) is not None:
                self.arrays[node.output[0]] = value
                self.values[node.output[0]] = [x.item() for x in value.reshape(-1)]
            return
        self.in_tail = tail
        if any(self.tensor[name] in self.guessed for name in data):  # downstream of a shape no one knows
            return self.unknown_node(node, data, "")
        if node.op_type in _ELEMENTWISE and data[0] in self.nhwc:  # keeps the layout of what it reads
            self.nhwc.update(node.output)
        try:
            try:
                self.rule(node, data)
            except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as e:  # attributes out of shape
                raise _Unsupported(f"malformed ({type(e).__name__})") from None
        except _Unsupported as e:
            if tail:  # only data movement from here to the outputs: the tensors it moves are the outputs
                self.heads += [self.tensor[name] for name in data]
                return
            self.unknown_node(node, data, e.why)

    def unknown_node(self, node, data, why: str) -> None:
        """An operator with no rule: a unit that reads all its data inputs and has the output shape ONNX shape
        inference gives it, never a guess. Without that shape `--unknown zero` refuses; an import that refuses anyway
        keeps the first input's shape only to go on finding the other root causes."""
        sources = [self.unit_of(name) for name in dict.fromkeys(data)]
        after = any(u.kind == "unknown" for u in sources)
        guessed = any(u.id in self.guessed for u in sources)
        op = clean(node.op_type, r"\w.:")[:64]
        self.unknown_ops.append((op, whole(node.name), why, after))
        outputs = [out for out in node.output if out and self.uses[out]] or node.output[:1]
        for out in outputs:
            shape = self.shape_of(out)
            if shape is None and self.unknown == "zero":
                raise MobcostError(f"{self.path}: node {whole(node.name)!r} ({op}) has no rule, and ONNX shape "
                                   f"inference gives no {'2-D or 4-D ' if out in self.shapes else ''}shape for its "
                                   f"output {whole(out)!r}: `--unknown zero` keeps an operator it cannot count only "
                                   "with its real output shape, never a guess")
            y = shape or sources[0].shape
            x = sources[0].shape
            spec = {"kind": "unknown", "op": op, "shape": [y.h, y.w, y.c], "at": [x.h, x.w, x.c]}
            unit = self._add("unknown", spec, [u.id for u in sources], y, [node.name])
            self.tensor[out] = unit.id
            if shape is None or guessed:  # a placeholder only to go on finding root causes: nothing after it is one
                self.guessed.add(unit.id)
            if node.input[0] in self.nhwc:
                self.nhwc.add(out)

    def shape_of(self, tensor: str) -> Shape | None:
        """A data tensor's shape as ONNX shape inference gives it: N×C×H×W (N×H×W×C in TensorFlow's layout) with
        N = 1, or N×C as 1×1×C; else None."""
        dims = self.shapes.get(tensor)
        if dims is None or None in dims or not dims or dims[0] != 1 or len(dims) not in (2, 4) or min(dims) < 1:
            return None
        if len(dims) == 2:
            return Shape(1, 1, dims[1])
        return Shape(dims[1], dims[2], dims[3]) if tensor in self.nhwc else Shape(dims[2], dims[3], dims[1])

    def unit_of(self, tensor: str) -> Unit:
        return self.units[self.tensor[tensor]]

    def alias(self, node, data) -> None:
        self.tensor[node.output[0]] = self.tensor[data[0]]
        if data[0] in self.nhwc:
            self.nhwc.add(node.output[0])

    def layer(self, node, data, spec: dict, source: Unit | None = None, out: str | None = None) -> Unit:
        """A new layer unit reading data[0] (or `source`), its shape by the layer kind's own rule, which must be the
        shape ONNX shape inference gives where it gives one."""
        source = source or self.unit_of(data[0])
        out = out or node.output[0]
        try:
            layer = _KINDS[spec["kind"]](**spec)
            y = layer.output_shape(source.shape)
        except ShapeError as e:
            raise _Unsupported(str(e)) from None
        except ValueError as e:  # pydantic: a field past mobcost's limits, or a form the kind does not take
            errors = getattr(e, "errors", None)
            first = errors()[0] if errors else None
            why = f"{'.'.join(map(str, first['loc']))}: {first['msg']}" if first else str(e) or type(e).__name__
            raise _Unsupported(clean(f"the {spec['kind']}'s {why}")) from None
        if data[0] in self.nhwc and spec["kind"] != "flatten":
            self.nhwc.add(out)
        inferred = self.shape_of(out)
        if inferred is not None and inferred != y:
            raise _Unsupported(f"mobcost's {spec['kind']} gives {y}, ONNX shape inference {inferred}")
        unit = self._add("layer", spec, [source.id], y, [node.name])
        self.tensor[out] = unit.id
        return unit

    def pending(self, node, data, kind: str, spec: dict) -> Unit:
        """A unit that a later node completes (a pad a conv absorbs, the reshape of a channel shuffle); one left
        incomplete when the graph ends is an operator with no rule."""
        source = self.unit_of(data[0])
        unit = self._add(kind, {**spec, "_op": node.op_type, "_node": node.name}, [source.id],
                         self.shape_of(node.output[0]) or source.shape, [node.name])
        self.tensor[node.output[0]] = unit.id
        return unit

    def finish(self) -> None:
        """Units still pending at the end: a pad no convolution absorbed, half a channel shuffle, a sigmoid that is
        neither half of x·sigmoid(x) nor an SE gate — operators with no rule, each where it was."""
        why = {"pad": "an explicit pad that no convolution absorbs", "grouped": "a reshape to groups of channels that "
               "is not a channel shuffle", "sigmoid": "a sigmoid that follows no layer",
               "gelu": "the start of x · (1 + erf(x / √2)) · 0.5 that does not end as GELU"}
        for unit in self.units:
            if unit.kind in why:
                op = unit.spec.get("_op", "Sigmoid")
                after = any(self.units[i].kind == "unknown" for i in unit.inputs)
                self.unknown_ops.append((op, whole(unit.nodes[0]), why[unit.kind], after))
                unit.kind = "unknown"
                x = self.units[unit.inputs[0]].shape
                unit.spec = {"kind": "unknown", "op": op, "shape": [unit.shape.h, unit.shape.w, unit.shape.c],
                             "at": [x.h, x.w, x.c]}

    def single_use(self, tensor: str) -> bool:
        return self.uses[tensor] == 1

    def rule(self, node, data) -> None:
        op, a = node.op_type, _attrs(node)
        if self.attention(node, data):
            return
        if len(data) > 1 and op not in ("Add", "Mul", "Concat", "Sum"):
            raise _Unsupported(f"reads {len(data)} image tensors")
        if len(set(data)) < len(data):  # Add(a, a), Concat(a, a): a join of a tensor with itself
            raise _Unsupported("reads the same image tensor twice, which the spec language's joins cannot say")
        if op in _PASS or (op == "Transpose" and tuple(a.get("perm", ())) in _LAYOUT):
            self.tensor[node.output[0]] = self.tensor[data[0]]
            if tuple(a.get("perm", ())) == (0, 2, 3, 1) or (op != "Transpose" and data[0] in self.nhwc):
                self.nhwc.add(node.output[0])
            return
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            raise _Unsupported("")
        handler(node, data, a)

    # ---- attention: a feature map seen as tokens, Q·Kᵀ, softmax, A·V (MobileNetV4's Mobile MQA) ----

    def attention(self, node, data) -> bool:
        """Multi-head (or multi-query) attention as exporters write it: each of q, k, v a map reshaped into heads ×
        channels × positions (a token view of its unit: reshapes, transposes, unsqueezes and scalar scales move it,
        nothing else), Q·Kᵀ, softmax, A·V — an `attend` of the three maps — and a reshape back to a map. Every step
        is held to the dimensions ONNX shape inference gives."""
        op, views = node.op_type, [self.views.get(name) for name in data]
        out = node.output[0] if node.output else ""
        dims = self.shapes.get(out)
        if self.patches(node, data, dims):
            return True
        if op == "Reshape" and views[0] is None and len(data) == 1:
            x = self.unit_of(data[0]).shape
            target = dims if dims and None not in dims else self.values.get(node.input[1])
            if target and len(target) in (3, 4) and target[0] == 1 and target[-1] == x.h * x.w \
                    and math.prod(target) == x.size and (x.h, x.w) != (1, 1) and data[0] not in self.nhwc:
                self.alias(node, data)
                self.views[out] = {"heads": target[1] if len(target) == 4 else 1}
                return True
            return False
        if not any(views):
            return False
        view = next(v for v in views if v)
        if op in _TOKEN_MOVES and len(data) == 1 \
                or op in ("Mul", "Div") and len(data) == 1 and len(self.values.get(node.input[1], ())) == 1:
            self.alias(node, data)
            x = self.unit_of(data[0]).shape
            if (not dims or None in dims) and op == "Reshape":  # a target inference did not follow: folded
                dims = self.values.get(node.input[1])
                if not dims or min(dims) < 1:
                    raise _Unsupported("a reshape of attention's tokens to a shape computed at run time")
            known = dims and None not in dims and len(dims) == 4 and "scores" not in view
            groups = view.get("groups", 1)
            if known and op == "Reshape" and list(dims[1:]) == [x.h, x.w, x.c]:  # back to the map, NHWC
                self.nhwc.add(out)
            elif dims and len(dims) == 3 and list(dims) == [groups, x.h * x.w // groups, x.c] and groups > 1 \
                    and op == "Reshape" and "scores" not in view:  # back to MobileViT's tokens
                self.nhwc.add(out)
            elif not (known and [dims[2], dims[3], dims[1]] == [x.h, x.w, x.c]):  # else back to the map, NCHW
                self.views[out] = view
            return True
        if op == "MatMul" and len(data) == 2 and all(views):
            first, second = views
            groups = first.get("groups", 1)
            if "scores" not in first and "scores" not in second:  # Q·Kᵀ
                q, k = self.unit_of(data[0]), self.unit_of(data[1])
                lq, lk = q.shape.h * q.shape.w // groups, k.shape.h * k.shape.w // groups
                if dims != [groups, first["heads"], lq, lk]:
                    raise _Unsupported(f"a product of two token views giving {dims}, not Q·Kᵀ")
                self.tensor[out] = q.id
                self.views[out] = {**first, "scores": (q.id, k.id)}
                return True
            if "scores" in first and "scores" not in second:  # A·V
                (q, k), v, heads = (self.units[i] for i in first["scores"]), self.unit_of(data[1]), first["heads"]
                key_dim = q.shape.c // heads
                value_dim = v.shape.c // second["heads"] if second["heads"] > 1 else v.shape.c
                if dims != [groups, heads, q.shape.h * q.shape.w // groups, value_dim] or q.shape.c % heads:
                    raise _Unsupported(f"an attention product giving {dims}")
                spec = {"kind": "attend", "heads": heads, "key_dim": key_dim, "value_dim": value_dim,
                        **({"patch": list(first["patch"])} if "patch" in first else {})}
                unit = self._add("attend", spec, [q.id, k.id, v.id], Shape(q.shape.h, q.shape.w, heads * value_dim),
                                 [node.name])
                self.tensor[out] = unit.id
                self.views[out] = {key: value for key, value in first.items() if key != "scores"}
                return True
        raise _Unsupported(f"{op} on tensors seen as attention's tokens")

    def patches(self, node, data, dims) -> bool:
        """MobileViT's unfolding (Mehta & Rastegari 2022, §3.1): a map cut into ph×pw patches and reshaped into
        ph·pw sequences of tokens, channels last; each token-wise layer (layer norm, linear, activation, add) is then
        that layer on the map, the attention within each patch offset an `attend` with `patch: [ph, pw]`; folded
        back to the map by the inverse reshapes. The intermediate reshapes and transposes only move data."""
        op, out = node.op_type, node.output[0] if node.output else ""
        if len(data) != 1 or op not in ("Reshape", "Transpose", "Split", "Slice", "Gather") \
                or not dims and op not in ("Split", "Slice", "Gather"):
            return False
        x, view = self.unit_of(data[0]).shape, self.views.get(data[0])
        known = dims is not None and None not in dims and min(dims or [0]) > 0
        if op == "Reshape" and view is None and data[0] not in self.nhwc and known and len(dims) == 4 \
                and dims[0] % x.c == 0 and (dims[0] // x.c) * dims[1] == x.h and dims[2] * dims[3] == x.w \
                and dims[1] * dims[3] > 1:  # the first cut: (c·h/ph) × ph × (w/pw) × pw
            self.alias(node, data)
            self.views[out] = {"moving": True, "patch": (dims[1], dims[3])}
            return True
        if view is not None and view.get("moving"):
            self.alias(node, data)
            ph, pw = view["patch"]
            if known and dims == [ph * pw, x.h * x.w // (ph * pw), x.c]:  # the tokens: channels last
                self.nhwc.add(out)
                self.patch = view["patch"]
            elif known and dims == [1, x.c, x.h, x.w]:  # back to the map
                self.patch = None
            else:
                self.views[out] = view
            return True
        if data[0] in self.nhwc and self.patch and x.h * x.w > 1 and view is None:
            ph, pw = self.patch
            p, n = ph * pw, x.h * x.w // (ph * pw)
            if op == "Reshape" and known and len(dims) == 5 and dims[:3] == [p, n, 3] and 3 * dims[3] * dims[4] == x.c:
                self.alias(node, data)  # the fused qkv projection's output as q, k, v × heads × head_dim
                self.views[out] = {"qkv": (dims[3], dims[4]), "patch": self.patch, "groups": p}
                return True
            if op in ("Reshape", "Transpose") and not (known and len(dims) == 3):  # the fold back begins
                self.alias(node, data)
                self.nhwc.discard(out)
                self.views[out] = {"moving": True, "patch": self.patch}
                return True
            return False
        if view is not None and "qkv" in view:
            if op == "Transpose":
                self.alias(node, data)
                self.views[out] = view
                return True
            heads, head_dim = view["qkv"]
            width = heads * head_dim
            parts = list(enumerate(node.output))
            if op in ("Slice", "Gather"):  # one of q, k, v: the dynamo exporter's unbind
                at = self.values.get(node.input[1]) or []
                axes = self.values.get(node.input[3]) if op == "Slice" and len(node.input) > 3 else [_attrs(node)
                                                                                                    .get("axis", 0)]
                if len(at) != 1 or list(axes or [0]) != [0] or not 0 <= at[0] < 3:
                    raise _Unsupported(f"a {op} of the fused query-key-value projection mobcost cannot read")
                parts = [(int(at[0]), out)]
            for i, part in parts:
                self.layer(node, data, {"kind": "slice", "start": i * width, "stop": (i + 1) * width}, out=part)
                self.views[part] = {"heads": heads, "patch": view["patch"], "groups": view["groups"]}
                self.nhwc.discard(part)
            return True
        return False


    # ---- operator rules (ONNX operator docs: https://onnx.ai/onnx/operators/) ----

    def weight(self, node, i: int) -> list[int]:
        if len(node.input) <= i or node.input[i] not in self.dims:
            raise _Unsupported(f"input {i} is not a weight initializer")
        return self.dims[node.input[i]]

    def op_Conv(self, node, data, a) -> None:
        source = self.unit_of(data[0])
        extra = [0, 0, 0, 0]
        if source.kind == "pad" and self.single_use(data[0]):  # TensorFlow's "same" as an explicit Pad before it
            extra, source = source.spec["pads"], self.units[source.inputs[0]]
        dims, x, groups = self.weight(node, 1), source.shape, a.get("group", 1)
        if len(dims) != 4 or groups < 1 or dims[1] * groups != x.c:
            raise _Unsupported(f"a weight of shape {dims} in {groups} group(s) on {x.c} channels")
        m, _, kh, kw = dims
        strides, dilations = a.get("strides", [1, 1]), a.get("dilations", [1, 1])
        if dilations[0] != dilations[1]:
            raise _Unsupported(f"dilations {dilations} (mobcost's dilations are the same on both axes)")
        d = dilations[0]
        bias = len(node.input) > 2 and bool(node.input[2])
        padding = self.padding(a, (d * (kh - 1) + 1, d * (kw - 1) + 1), strides, x, extra)
        common = {"kernel": _one((kh, kw)), "stride": _one(strides), "padding": padding,
                  **({"dilation": d} if d != 1 else {})}
        if groups > 1 and groups == x.c == m:
            spec = {"kind": "dw", **common}
        elif groups == 1 and kh == kw == 1 and list(strides) == [1, 1] and padding in (0, "same", "valid"):
            spec = {"kind": "pw", "out": m}
        else:
            spec = {"kind": "conv", **common, "out": m, **({"groups": groups} if groups > 1 else {})}
        if bias:
            spec["bias"] = True
        unit = self.layer(node, data, spec, source)
        if source is not self.unit_of(data[0]):  # the pad is part of the conv
            self.unit_of(data[0]).kind = "dead"
            unit.nodes.append(self.unit_of(data[0]).nodes[0])

    def padding(self, a, k, s, x: Shape, extra=(0, 0, 0, 0)):
        """ONNX pads (with those of a Pad before the conv) as the spec says them: a number of pixels each side, or
        `same` (TensorFlow's, asymmetric); k is the span of the (dilated) kernel and s the stride, (height, width)."""
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("SAME_UPPER", "SAME_LOWER") and not any(extra):
            return "same"
        if auto == "VALID" and not any(extra):
            return "valid"
        if auto not in ("NOTSET", "VALID"):
            raise _Unsupported(f"auto_pad {auto} after an explicit pad")
        pads = [p + q for p, q in zip(a.get("pads", [0, 0, 0, 0]), extra)]
        if len(set(pads)) == 1:
            return pads[0] if pads[0] else "valid"
        same = [max((-(-n // si) - 1) * si + ki - n, 0)  # TensorFlow's total padding per axis
                for n, ki, si in ((x.h, k[0], s[0]), (x.w, k[1], s[1]))]
        if [pads[0] + pads[2], pads[1] + pads[3]] == same and pads[2] >= pads[0] and pads[3] >= pads[1] \
                and pads[2] - pads[0] <= 1 and pads[3] - pads[1] <= 1:
            return "same"
        raise _Unsupported(f"asymmetric pads {pads}")

    def op_Pad(self, node, data, a) -> None:
        mode = a.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        pads = a.get("pads") if len(node.input) < 2 else self.values.get(node.input[1])
        value = self.const(node, 2) if len(node.input) > 2 and node.input[2] else 0
        if mode != "constant" or value not in (0, None):
            raise _Unsupported(f"a {mode} pad with {value}" if mode == "constant" else f"a {mode} pad")
        if pads is None or len(pads) != 8 or (len(node.input) > 3 and node.input[3]):
            raise _Unsupported("pads computed at run time" if pads is None else f"pads {list(pads)} over axes mobcost "
                               "cannot read")
        pads = [int(p) for p in pads]
        h, w, c = (1, 2, 3) if data[0] in self.nhwc else (2, 3, 1)
        if pads[0] or pads[4] or pads[c] or pads[c + 4] or min(pads) < 0:
            raise _Unsupported(f"pads {pads}: not zeros around the height and width")
        self.pending(node, data, "pad", {"pads": [pads[h], pads[w], pads[h + 4], pads[w + 4]]})

    def op_BatchNormalization(self, node, data, a) -> None:
        unit = self.unit_of(data[0])
        if unit.kind != "layer" or "bn" in unit.spec or "act" in unit.spec or not self.single_use(data[0]) \
                or unit.spec["kind"] not in ("conv", "dw", "pw", "fc"):  # not right after a conv: one of its own
            return self.layer(node, data, {"kind": "batchnorm"})
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
        x = self.unit_of(data[0]).shape
        if (x.h, x.w) != (1, 1) and self.channels_last(data[0]):  # every position's channels: a token-wise linear
            if dims[0] != x.c:
                raise _Unsupported(f"a {dims[0]}-input linear layer on a {x} tensor")
            return self.layer(node, data, {"kind": "linear", "out": dims[1]})
        self.fc(node, data, dims[0], dims[1], False)

    def channels_last(self, tensor: str) -> bool:
        """Whether a tensor's last axis is its channels: NHWC (a transformer block's permuted map)."""
        return tensor in self.nhwc

    def op_LayerNormalization(self, node, data, a):
        rank = len(self.shapes.get(data[0]) or ())
        if not self.channels_last(data[0]) or a.get("axis", -1) not in (-1, rank - 1):
            raise _Unsupported(f"a layer norm over axes {a.get('axis', -1)}…, not over the channels at each position")
        if len(node.input) < 3 or not node.input[2] or node.input[1] not in self.dims:
            raise _Unsupported("a layer norm without both its scale γ and its bias β")
        self.layer(node, data, {"kind": "layernorm"})

    # GELU as the TorchScript exporter writes it: x · (1 + erf(x / √2)) · 0.5 (Hendrycks & Gimpel 2016, eq. 1)
    def op_Div(self, node, data, a):
        if len(data) != 1 or node.input[0] != data[0] or not _near(self.const(node, 1), math.sqrt(2)):
            raise _Unsupported("a division that is not GELU's x / √2")
        self.pending(node, data, "gelu", {"step": 1, "x": data[0]})

    def gelu_step(self, node, data, step: int) -> Unit | None:
        unit = self.unit_of(data[0])
        if unit.kind == "gelu" and unit.spec["step"] == step and self.single_use(data[0]):
            unit.spec["step"] = step + 1
            unit.nodes.append(node.name)
            self.alias(node, data)
            return unit
        return None

    def op_Erf(self, node, data, a):
        if not self.gelu_step(node, data, 1):
            raise _Unsupported("an erf that is not GELU's")

    def gelu(self, node, data) -> bool:
        """The last steps of GELU: + 1 (step 2), × x (step 3), × 0.5 (step 4), which makes it x's activation."""
        if len(data) == 1 and self.unit_of(data[0]).kind == "gelu":
            unit, step = self.unit_of(data[0]), self.unit_of(data[0]).spec["step"]
            value = {("Add", 2): 1, ("Mul", 4): 0.5}.get((node.op_type, step))
            if value is None or not _near(self.const(node, 1 if node.input[0] == data[0] else 0), value):
                return False
            if step == 2:
                return bool(self.gelu_step(node, data, 2))
            x_name = unit.spec["x"]
            x = self.unit_of(x_name)
            if "act" in x.spec or x.kind != "layer" or "act" not in _KINDS[x.spec["kind"]].model_fields \
                    or self.uses[x_name] != 2 or not self.single_use(data[0]):
                raise _Unsupported("a GELU that follows no layer it can be the activation of")
            x.spec["act"] = "gelu"
            x.nodes += unit.nodes + [node.name]
            unit.kind = "dead"
            self.alias(node, [x_name])
            return True
        if len(data) == 2 and node.op_type == "Mul":
            for x_name, g_name in (data, data[::-1]):
                g = self.unit_of(g_name)
                if g.kind == "gelu" and g.spec["step"] == 3 and g.spec["x"] == x_name:
                    return bool(self.gelu_step(node, [g_name], 3))
        return False

    def fc(self, node, data, n_in: int, out: int, bias: bool) -> None:
        x = self.unit_of(data[0]).shape
        if x.size != n_in:
            raise _Unsupported(f"a {n_in}-input fully connected layer on a {x} tensor")
        if (x.h, x.w) != (1, 1):
            raise _Unsupported(f"a fully connected layer on an unflattened {x} tensor")
        self.layer(node, data, {"kind": "fc", "out": out, **({} if bias else {"bias": False})})

    def op_Add(self, node, data, a) -> None:
        if self.gelu(node, data):
            return
        if len(data) == 1:  # a bias: MatMul + Add is a fully connected layer with biases
            unit = self.unit_of(data[0])
            other = next((name for name in node.input if name != data[0]), None)
            if unit.kind == "layer" and self.single_use(data[0]) and "act" not in unit.spec \
                    and self.dims.get(other, [None])[-1:] == [unit.shape.c] \
                    and (unit.spec["kind"] == "fc" and unit.spec.get("bias") is False
                         or unit.spec["kind"] == "linear" and "bias" not in unit.spec):
                unit.spec.pop("bias") if unit.spec["kind"] == "fc" else unit.spec.update(bias=True)
                unit.nodes.append(node.name)
                return self.alias(node, data)
            if unit.kind == "layer" and unit.spec["kind"] == "affine" and unit.spec.get("shift") is False \
                    and self.single_use(data[0]) and self.per_channel(node, data):  # γ·x + β
                del unit.spec["shift"]
                unit.nodes.append(node.name)
                return self.alias(node, data)
            if self.per_channel(node, data):  # a shift of its own
                return self.layer(node, data, {"kind": "affine", "scale": False})
            raise _Unsupported("adds a constant that is neither a bias nor one value per channel")
        if len(data) != 2:
            raise _Unsupported(f"adds {len(data)} tensors")
        x, y = self.unit_of(data[0]), self.unit_of(data[1])
        if x.shape != y.shape:
            raise _Unsupported(f"adds tensors of different shapes ({x.shape} and {y.shape})")
        unit = self._add("add", {}, [x.id, y.id], x.shape, [node.name])
        self.tensor[node.output[0]] = unit.id

    op_Sum = op_Add

    def per_channel(self, node, data) -> bool:
        """Whether the constant an element-wise node applies to data[0] holds one value per channel, broadcast along
        the channel axis (c×1×1 in NCHW, c last in NHWC or on a 1×1×c vector)."""
        other = next((name for name in node.input if name != data[0]), None)
        dims, x = self.dims.get(other), self.unit_of(data[0]).shape
        if not dims or math.prod(dims) != x.c or x.c == 1:
            return False
        from_right = len(dims) - max(i for i, d in enumerate(dims) if d == x.c)
        last = data[0] in self.nhwc or len(self.shapes.get(data[0], ())) in (2, 3)
        return from_right == (1 if last else 3)

    def op_Mul(self, node, data, a) -> None:
        if self.gelu(node, data):
            return
        if len(data) == 1 and self.per_channel(node, data):  # a layer scale γ, or half of a standalone affine
            return self.layer(node, data, {"kind": "affine", "shift": False})
        if len(data) != 2:
            raise _Unsupported("multiplies by a constant that is not one value per channel")
        for x_name, g_name in (data, data[::-1]):
            x, g = self.unit_of(x_name), self.unit_of(g_name)
            if g.kind == "sigmoid" and g.inputs == [x.id]:  # x·sigmoid(x): swish (SiLU)
                if "act" not in x.spec and self.uses[x_name] == 2 and (x.kind == "add" or x.kind == "layer"
                                                                        and "act" in _KINDS[x.spec["kind"]].model_fields):
                    x.spec["act"] = "swish"
                    x.nodes += g.nodes + [node.name]
                    g.kind = "dead"
                    self.tensor[node.output[0]] = x.id
                    return
            if (g.shape.h, g.shape.w) == (1, 1) and g.shape.c == x.shape.c and (x.shape.h, x.shape.w) != (1, 1):
                try:
                    return self.squeeze_excite(node, x, g)
                except _Unsupported:  # a gate, but not one the `se` kind describes: a `scale` of x by it
                    return self.scale(node, g, x)
        x, g = self.unit_of(data[1]), self.unit_of(data[0])
        if x.shape == g.shape and g.kind != "sigmoid":  # a gate of x's own shape (LR-ASPP's, upsampled)
            return self.scale(node, g, x)
        raise _Unsupported("multiplies two tensors that are neither x·sigmoid(x) nor a gate of x's shape or 1×1")

    def scale(self, node, gate: Unit, x: Unit) -> None:
        """x times a gate computed elsewhere, channel by channel (1×1×c) or element by element: the `scale` kind."""
        if gate.kind == "sigmoid":
            raise _Unsupported("a gate that is a sigmoid following no layer")
        unit = self._add("scale", {}, [gate.id, x.id], x.shape, [node.name])
        self.tensor[node.output[0]] = unit.id

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
        if len(node.input) == 1:  # torch.cat of one tensor (DenseNet's first layer): the identity
            return self.alias(node, data)
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
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            raise _Unsupported(f"a {k} window with dilations {a['dilations']}")
        x = self.unit_of(data[0]).shape
        if kind == "avgpool" and k[0] != k[1] and list(strides) == list(k) and not any(a.get("pads", [0])) \
                and x.h % k[0] == 0 and x.w % k[1] == 0:  # tiles of the map: adaptive pooling to its size
            out = [x.h // k[0], x.w // k[1]]
            return self.layer(node, data, {"kind": "avgpool", **({"output": out} if out != [1, 1] else {})})
        spec = {"kind": kind, "kernel": _one(k), "stride": _one(strides), "padding": self.padding(a, k, strides, x)}
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
        x, y = self.unit_of(data[0]).shape, self.shape_of(node.output[0])
        if axes is None and y is not None and (y.h, y.w, y.c) == (1, 1, x.c):  # axes in an unread constant
            axes = sorted(spatial)
        if axes is None or {int(i) % 4 for i in axes} != spatial:
            raise _Unsupported(f"a mean over axes {list(axes)}, not over height and width" if axes is not None else
                               "a mean over axes mobcost cannot read, whose output shape inference does not give")
        self.layer(node, data, {"kind": "avgpool"})
        if not a.get("keepdims", 1):
            self.units[-1].spec["name"] = self.units[-1].spec.get("name", "pool")

    def op_Flatten(self, node, data, a):
        self.layer(node, data, {"kind": "flatten"})

    def op_Reshape(self, node, data, a):
        """A flatten; or, with the transpose and reshape after it, a channel shuffle (ShuffleNet: c channels as
        groups × c/groups, transposed, flattened back)."""
        target = self.values.get(node.input[1]) if len(node.input) > 1 else None
        dims = self.shapes.get(node.output[0])
        if (dims is None or None in dims) and target is not None and min(target) > 0:
            dims = target  # a target folded from shape arithmetic that inference did not follow
        unit, x = self.unit_of(data[0]), self.unit_of(data[0]).shape
        if dims is not None and len(dims) == 5 and list(dims[:1]) + list(dims[3:]) == [1, x.h, x.w] \
                and None not in dims[1:3] and dims[1] * dims[2] == x.c and unit.kind != "grouped" \
                and not self.in_tail:  # a detection head's (anchors, classes) split of its outputs is not a shuffle
            return self.pending(node, data, "grouped", {"groups": dims[1]})
        y = self.shape_of(node.output[0]) or (Shape(dims[2], dims[3], dims[1]) if dims and len(dims) == 4 else None)
        if unit.kind == "grouped" and unit.spec.get("transposed") and self.single_use(data[0]) and y == x:
            unit.kind, unit.spec = "layer", {"kind": "shuffle", "groups": unit.spec["groups"]}
            unit.nodes.append(node.name)
            return self.alias(node, data)
        if dims is None or len(dims) not in (1, 2) or None in dims or math.prod(dims) != x.size:
            raise _Unsupported(f"a reshape to {'a shape computed at run time' if dims is None else list(dims)}, "
                               "not a flatten")
        self.layer(node, data, {"kind": "flatten"})

    def op_Gather(self, node, data, a):
        """Elements gathered into a tensor of the input's own shape (the dynamo exporter's as_strided of a pooled
        vector): data movement, no cost."""
        x = self.unit_of(data[0]).shape
        if node.input[0] != data[0] or self.shape_of(node.output[0]) != x or (x.h, x.w) != (1, 1):
            raise _Unsupported("a gather that is not a rearrangement of a pooled vector")
        self.alias(node, data)

    def op_Transpose(self, node, data, a):
        unit = self.unit_of(data[0])
        if unit.kind != "grouped" or tuple(a.get("perm", ())) != (0, 2, 1, 3, 4) or not self.single_use(data[0]):
            raise _Unsupported(f"a transpose {list(a.get('perm', ()))} that is neither NHWC ↔ NCHW nor a channel "
                               "shuffle's")
        unit.spec["transposed"] = True
        unit.nodes.append(node.name)
        self.alias(node, data)

    def channels(self, node, data, out: str, start: int, stop: int) -> None:
        """Channels start:stop of the input: part `take` of `sections` equal parts where that is what they are."""
        x = self.unit_of(data[0]).shape
        start, stop = max(0, min(start, x.c)), max(0, min(stop, x.c))
        size = stop - start
        if size <= 0:
            raise _Unsupported(f"channels {start}:{stop} of {x.c}")
        if size == x.c:  # every channel (GhostNet's x[:, :out] where the concatenation has exactly out)
            self.tensor[out] = self.tensor[data[0]]
            return
        if x.c % size == 0 and start % size == 0:
            return self.layer(node, data, {"kind": "split", "sections": x.c // size, "take": start // size}, out=out)
        if "slice" in _KINDS:
            return self.layer(node, data, {"kind": "slice", "start": start, "stop": stop}, out=out)
        raise _Unsupported(f"channels {start}:{stop} of {x.c}, which `split` (equal parts) cannot say")

    def channel_axis(self, data, axis) -> None:
        if int(axis) % 4 != (3 if data[0] in self.nhwc else 1):
            raise _Unsupported(f"a cut along axis {axis}, not channels")

    def op_Slice(self, node, data, a):
        starts, ends, axes, steps = (a.get(k) for k in ("starts", "ends", "axes", "steps"))
        if len(node.input) > 1:  # opset 10 on: inputs, not attributes
            starts, ends, axes, steps = (self.values.get(node.input[i]) if len(node.input) > i and node.input[i]
                                         else None for i in range(1, 5))
        if starts is None or ends is None or len(starts) != 1 or any(v != 1 for v in steps or [1]):
            raise _Unsupported("a slice mobcost cannot read (several axes, steps, or bounds computed at run time)")
        self.channel_axis(data, (axes or [0])[0])
        self.channels(node, data, node.output[0], int(starts[0]), int(ends[0]))

    def op_Split(self, node, data, a):
        self.channel_axis(data, a.get("axis", 0))
        c = self.unit_of(data[0]).shape.c
        sizes = a.get("split") or (self.values.get(node.input[1]) if len(node.input) > 1 and node.input[1] else None)
        if sizes is None:
            n = len(node.output)
            sizes = [-(-c // n)] * (n - 1) + [c - (n - 1) * -(-c // n)]
        start = 0
        for out, size in zip(node.output, sizes):
            if out and self.uses[out]:
                self.channels(node, data, out, start, start + int(size))
            start += int(size)

    def op_Resize(self, node, data, a):
        x, y = self.unit_of(data[0]).shape, self.shape_of(node.output[0])
        mode = a.get("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if y is None or y.c != x.c or mode not in ("nearest", "linear"):
            raise _Unsupported(f"a {mode} resize" if y is not None else "a resize to a size shape inference cannot give")
        ctm = a.get("coordinate_transformation_mode", b"half_pixel")
        spec = {"kind": "upsample", "mode": "bilinear" if mode == "linear" else "nearest"}
        if mode == "linear" and (ctm.decode() if isinstance(ctm, bytes) else ctm) == "align_corners":
            spec["align_corners"] = True
        if y.h % x.h == 0 and y.w % x.w == 0 and y.h // x.h == y.w // x.w:
            spec["scale"] = y.h // x.h
        else:
            spec["size"] = [y.h, y.w]
        self.layer(node, data, spec)

    op_Upsample = op_Resize

    def op_Squeeze(self, node, data, a):
        if (self.unit_of(data[0]).shape.h, self.unit_of(data[0]).shape.w) != (1, 1):
            raise _Unsupported("squeezes a tensor larger than 1×1")
        self.layer(node, data, {"kind": "flatten"})

    def op_Softmax(self, node, data, a):
        self.layer(node, data, {"kind": "softmax"})

    def op_LRN(self, node, data, a):
        self.layer(node, data, {"kind": "lrn", "size": a["size"], "alpha": float(a.get("alpha", 1e-4)),
                                "beta": float(a.get("beta", 0.75)), "k": float(a.get("bias", 1.0))})


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


def _inferred(model, name: str, dims: list[int]) -> dict[str, list[int | None]]:
    """Every tensor's dimensions by ONNX shape inference (https://onnx.ai/onnx/api/shape_inference.html), the input
    fixed to one image of the resolution read or given; a dimension inference cannot give is None. Inference that
    fails on a malformed graph gives nothing, and the rules that need a shape say so."""
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for value in copy.graph.input:
        if value.name == name:
            shape = value.type.tensor_type.shape
            shape.ClearField("dim")
            for d in dims:
                shape.dim.add().dim_value = d
    try:
        inferred = onnx.shape_inference.infer_shapes(copy, data_prop=True)
    except Exception:  # noqa: BLE001 - inference's own errors on a graph it cannot type: no shapes, not a traceback
        return {}
    return {v.name: [d.dim_value if d.HasField("dim_value") else None for d in v.type.tensor_type.shape.dim]
            for v in (*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input)
            if v.type.tensor_type.HasField("shape")}


_FOLD = {  # shape arithmetic on small integer constants, as exporters write it (ONNX operator semantics)
    "Identity": lambda a, x: x, "Neg": lambda a, x: -x,
    "Cast": lambda a, x: x.astype(__import__("onnx").helper.tensor_dtype_to_np_dtype(a["to"])),
    "Clip": lambda a, x, low=None, high=None: _np().clip(x, low, high) if low is not None or high is not None else x,
    "Equal": lambda a, x, y: _np().equal(x, y), "Where": lambda a, c, x, y: _np().where(c, x, y),
    "Expand": lambda a, x, shape: x * _np().ones([int(d) for d in shape], dtype=x.dtype),
    "Add": lambda a, x, y: x + y, "Sub": lambda a, x, y: x - y, "Mul": lambda a, x, y: x * y,
    "Div": lambda a, x, y: _div(x, y), "Max": lambda a, *x: _np().maximum.reduce(x),
    "Min": lambda a, *x: _np().minimum.reduce(x), "Ceil": lambda a, x: _np().ceil(x), "Floor": lambda a, x: _np().floor(x),
    "Concat": lambda a, *x: _np().concatenate(x, axis=a.get("axis", 0)),
    "Unsqueeze": lambda a, x, axes=None: _np().expand_dims(x, tuple(int(i) for i in (a.get("axes") if axes is None
                                                                                    else axes))),
    "Squeeze": lambda a, x, axes=None: _np().squeeze(x, None if axes is None and "axes" not in a
                                                      else tuple(int(i) for i in (a.get("axes") if axes is None else axes))),
    "Gather": lambda a, x, i: _np().take(x, i, axis=a.get("axis", 0)),
    "Reshape": lambda a, x, shape: x.reshape([int(d) if d else x.shape[i] for i, d in enumerate(shape)]),
    "Transpose": lambda a, x: _np().transpose(x, a.get("perm")),
    "ConstantOfShape": lambda a, shape: _np().full([int(d) for d in shape], _value(a["value"])[0] if "value" in a
                                                   else 0.0),
    "Slice": lambda a, x, starts, ends, axes=None, steps=None: x[tuple(_cut(x.ndim, starts, ends, axes, steps))],
    "Range": lambda a, start, limit, delta: _np().arange(start, limit, delta),
    "Sqrt": lambda a, x: _np().sqrt(x), "Reciprocal": lambda a, x: 1 / x,
}


def _one(pair):
    """A kernel or stride as the spec writes it: one number when both axes agree, else [h, w]."""
    return int(pair[0]) if pair[0] == pair[1] else [int(pair[0]), int(pair[1])]


def _near(value, target: float) -> bool:
    return isinstance(value, (int, float)) and abs(value - target) <= 1e-6 * abs(target)


def _np():
    import numpy

    return numpy


def _div(x, y):
    np = _np()
    return np.trunc(x / y).astype(np.result_type(x, y)) if np.issubdtype(np.result_type(x, y), np.integer) else x / y


def _cut(ndim, starts, ends, axes, steps) -> list:
    cut = [slice(None)] * ndim
    for i, (start, end) in enumerate(zip(starts, ends)):
        cut[int(axes[i]) if axes is not None else i] = slice(int(start), int(end), int(steps[i]) if steps is not None
                                                              else 1)
    return cut


def _folded(node, arrays: dict, shapes: dict):
    """A small constant's value where every input is one: the exporter's shape arithmetic (the bounds of a Pad or a
    Slice, computed from constants or from the image's shape once the resolution is fixed), else None."""
    np, a = _np(), _attrs(node)
    try:
        if node.op_type == "Constant":
            out = _array(a["value"]) if "value" in a else np.asarray(a.get("value_int", a.get("value_ints")))
        elif node.op_type == "Shape":
            dims = shapes.get(node.input[0])
            out = None if dims is None or None in dims else np.array(dims[a.get("start", 0):a.get("end", len(dims))])
        elif node.op_type in _FOLD and all(not i or i in arrays for i in node.input):
            out = np.asarray(_FOLD[node.op_type](a, *[arrays[i] if i else None for i in node.input]))
        else:
            return None
    except Exception:  # noqa: BLE001 - arithmetic a constant cannot do is shape arithmetic mobcost does not read
        return None
    return out if out is not None and out.size <= _SMALL and out.dtype.kind in "iufb" else None


def _array(tensor):
    """A small constant (a Clip bound, a Reshape target) as an array, or None for a weight: never read."""
    import onnx
    from onnx import numpy_helper

    count = 1
    for d in tensor.dims:
        count *= d
    if count > _SMALL or tensor.data_location == onnx.TensorProto.EXTERNAL:
        return None
    try:
        return numpy_helper.to_array(tensor)
    except Exception:  # noqa: BLE001 - a malformed constant reads as unknown, and its rule says so
        return None


def _value(tensor) -> list | None:
    """A small constant's values, flat, or None for a weight."""
    array = _array(tensor)
    return None if array is None else [x.item() for x in array.reshape(-1)]


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
    if len(units) > MAX_LAYERS + 1:  # the input and a row each: the spec mobcost would then refuse, not written
        raise MobcostError(f"{path}: the imported network has {len(units) - 1:,} rows; expected at most "
                           f"{MAX_LAYERS:,} {LIMIT}")
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


