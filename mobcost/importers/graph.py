"""Units of an imported graph → the spec's layers: series-parallel structure recovered as blocks, exact patterns
folded back into the paper's blocks, names from the exporter's modules, and the YAML a person reads.

Format-independent: an importer (onnx.py) turns operators into units; everything after that is here.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import yaml

from mobcost.layers import Shape, make_divisible
from mobcost.errors import MobcostError


def clean(text: str | bytes, keep: str = r"\w./:\-") -> str:
    """Untrusted text from the file, safe to print and to write into YAML: no markup, no escapes. (protobuf hands a
    string field that is not UTF-8 over as bytes.)"""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return re.sub(f"[^{keep} ]", "_", text)


def whole(text: str) -> str:
    """A name from the file, cleaned, whole up to a bound no real exporter reaches."""
    return clean(text)[:300]


def name_of(text: str) -> str:
    """A name from the file, cleaned and at most 64 characters."""
    return clean(text, r"\w./:\-")[:64].replace(" ", "_")


@dataclass
class Unit:
    """One node of the importer's graph: the input, a layer (with its folded batch norm and activation), an add,
    a concat, an SE scale, or a sigmoid waiting to be read as half of x·sigmoid(x)."""

    id: int
    kind: str
    spec: dict
    inputs: list[int]
    shape: Shape
    nodes: list[str] = field(default_factory=list)


# ---- units → the spec's nested layers ------------------------------------------------------------------------

_EXIT = 1 << 60  # the virtual node after every output: post-dominators are taken towards it
_JOINS = ("add", "concat", "scale", "attend")  # units that read several tensors as a layer kind of the same name


class Builder:
    """Series-parallel structure recovered from the units: a fork and the join that post-dominates it become a
    `residual` (add) or `concat` (branches) block; everything else is a chain. Where the language has `from:`, a
    fork whose branches never meet again (a detection head's taps) continues along its longest branch, and each
    other branch follows the trunk, reading the tapped tensor by name."""

    def __init__(self, units: list[Unit], outputs: list[int], path: Path):
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
        self.pending: list[tuple[int, int]] = []  # (tapped unit, the first unit of a branch that leaves it)
        self.named = set(outputs) if len(outputs) > 1 else set()  # units a `from:` or `outputs` names

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

    def structure_error(self, unit: Unit, why: str) -> MobcostError:
        return MobcostError(f"{self.path}: node {name_of(unit.nodes[0] if unit.nodes else '?')!r}: {why}; the spec "
                            "language writes chains, blocks, and branches that read a named tensor")

    def build(self) -> list[dict]:
        layers, _ = self.chain(0, _EXIT)
        while self.pending:
            fork, start = self.pending.pop(0)
            side, _ = self.chain(start, _EXIT)
            layers += [{**self.leaf(self.units[start]), "_from": fork}] + side
        return layers

    def flat(self) -> list[dict]:
        """Every unit in order as a top-level layer, reading what is not the previous layer's output by name: the
        graph as it is where it is not series-parallel (DenseNet's concatenations of every earlier output, a gate
        computed on another branch, an unknown operator reading two tensors). Chains still fold into blocks."""
        layers, previous = [], 0
        for unit in self.live[1:]:
            layer = self.leaf(unit)
            if unit.kind in _JOINS:
                layer = {"kind": unit.kind, **layer}
            if unit.kind in _JOINS or len(unit.inputs) > 1:
                layer["_from"] = list(unit.inputs)
            elif unit.inputs[0] != previous:
                layer["_from"] = unit.inputs[0]
            for i in unit.inputs if "_from" in layer else ():
                self.named.add(i)
            layers.append(layer)
            previous = unit.id
        return layers

    def leaf(self, unit: Unit) -> dict:
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
                if cur == 0:
                    raise self.structure_error(self.units[cur], "branches that do not meet again in one add or concat")
                trunk = max(succ, key=lambda c: self.depth[c])
                self.pending += [(cur, c) for c in succ if c != trunk]
                self.named.add(cur)
                succ = [trunk]
            elif stop == _EXIT and cur in self.outputs:
                self.named.add(cur)
            v = self.units[succ[0]]
            if v.id == stop:
                return out, cur
            if len(v.inputs) > 1:
                raise self.structure_error(v, "a join whose inputs do not start from one tensor")
            out.append(self.leaf(v))
            cur = v.id

    def block(self, fork: int, succ: list[int], join: Unit) -> list[dict]:
        """The branches from `fork` to `join` as one block: a concat, or a residual (with the activation after its add,
        ResNet's ReLU)."""
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
        return [{"kind": "residual", "layers": body, **({"shortcut": shortcut} if shortcut else {}),
                 **({"act": join.spec["act"]} if "act" in join.spec else {}), **common}]


# ---- folding repeated patterns back into the paper's blocks --------------------------------------------------

def _is(layer: dict, kind: str, **fields) -> bool:
    return layer.get("kind") == kind and all(layer.get(k) == v for k, v in fields.items())


def _public(layer: dict) -> dict:
    """A layer's fields as the spec says them, without names or the importer's bookkeeping."""
    return _plain(layer, names=False)


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


def excite_acts(act: str, gate: str) -> dict:
    """The SE's activations where they are not MobileNetV3's (relu, then the hsigmoid gate)."""
    return {**({"act": act} if act != "relu" else {}), **({"gate": gate} if gate != "hsigmoid" else {})}


def exact_squeeze(c: int, s: int) -> dict | None:
    """The `se` settings that squeeze c channels to exactly s: MobileNetV3's (none), or c / s with no rounding."""
    if make_divisible(Fraction(c, 4), 8) == s:
        return {}
    if c % s == 0:
        return {"reduction": c // s, "divisor": None}  # divisor None: max(1, c // reduction), unrounded
    for reduction in (4, 2, 8, 16):  # a rounding of c / reduction other than MobileNetV3's (GhostNet: divisor 4)
        for divisor in (4, 8, 16, 2):
            if make_divisible(Fraction(c, reduction), divisor) == s:
                return {"reduction": reduction, **({"divisor": divisor} if divisor != 8 else {})}
    return None


def _excite(se: dict, c_in: int, e: int):
    """A bottleneck's `se:` for the SE layer found inside it: true for MobileNetV3's, else its settings (squeezed
    from the expanded width, or from the block's input as EfficientNet where the language says so); else None."""
    acts = excite_acts(se.get("act", "relu"), se.get("gate", "hsigmoid"))
    s = se["_squeeze"]
    if max(1, c_in // 4) == s and make_divisible(Fraction(e, 4), 8) != s:  # EfficientNet: max(1, input_channels // 4)
        return {"squeeze_from": "input", "reduction": 4, "divisor": None, **acts}
    settings = exact_squeeze(e, s)
    if settings is None:
        return None
    return {**settings, **acts} or True


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
        elif layer["kind"] == "concat" and "branches" in layer:
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
    if isinstance(node, bytes):  # protobuf hands a name that is not UTF-8 over as bytes
        node = node.decode("utf-8", "replace")
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
        name = name_of(own) if own else None
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
            numbers = [int(m[2]) for m in match] if all(match) else []
            if numbers == list(range(1, j - i + 1)) and len({m[1] for m in match}) == 1:
                first = {"kind": first["kind"], "name": match[0][1], **first}
            out.append({"repeat": j - i, "layers": [first]})
        i = j
    return out


def _plain(layer: dict, names: bool = True) -> dict:
    """The layer as YAML data: the importer's bookkeeping (keys starting with _) gone, inside its blocks too."""
    out = {}
    for key, value in layer.items():
        if key.startswith("_") or (key == "name" and not names):
            continue
        if key in ("layers", "shortcut"):
            value = [_plain(inner, names) for inner in value]
        elif key == "branches":
            value = [[_plain(inner, names) for inner in branch] for branch in value]
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


class Dumper(yaml.SafeDumper):
    """Block style for the network and its blocks, flow style for a layer (one line each, as the configs)."""


def _represent_dict(dumper, data):
    flow = not any(isinstance(v, list) and any(isinstance(i, (list, dict)) for i in v) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _represent_list(dumper, data):
    flow = not any(isinstance(v, (list, dict)) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


Dumper.add_representer(dict, _represent_dict)
Dumper.add_representer(list, _represent_list)


def linked(layers: list[dict], outputs: list[int], path: Path) -> tuple[list[dict], list[str]]:
    """`from:` on each branch that reads a tapped tensor, and the names of the outputs where there are several."""
    names = {0: "input", **{layer["_id"]: layer["name"] for layer in layers if "_id" in layer and "name" in layer}}
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
        if section and section != part:  # tables group rows by part
            head["part"] = part = section
        if several and layer.get("_id") in outputs and "out" in layer:
            head["width"] = "fixed"  # a head's outputs are the task's (anchors × classes): α leaves them
        linked.append({**head, **layer})
    return linked, [names[i] for i in outputs] if several else []


def leaves(layers: list[dict]):
    for layer in layers:
        yield layer
        for key in ("layers", "shortcut"):
            yield from leaves(layer.get(key, []))
        for branch in layer.get("branches", []):
            yield from leaves(branch)


def spec_layers(units: list[Unit], outputs: list[int], path: Path) -> tuple[list[dict], list[str], int | None]:
    """The spec's layers for an imported graph, the names of its outputs where there are several, and the classes
    of its classifier where it ends in one."""
    builder = Builder(units, outputs, path)
    try:
        layers = builder.build()
    except MobcostError:  # not series-parallel: the graph as it is, each layer reading its inputs by name
        builder = Builder(units, outputs, path)
        layers = builder.flat()
    for layer in leaves(layers):
        if layer.get("_id") in builder.named:
            layer["_tap"] = True
    layers, names = linked(_merged(_named(_fold(layers))), outputs, path)
    layers = [_plain(layer) for layer in _repeats(layers)]
    classes = _classifier(layers) if not names else None
    for layer in leaves(layers):
        if layer.get("kind") == "unknown":
            layer["note"] = f"no rule for ONNX {layer['op']}: not counted (0 Mult-Adds, 0 parameters); its output " \
                            "shape is ONNX shape inference's"
    return layers, names, classes


def dump(data: dict) -> str:
    """A spec as YAML: block style for the network and its blocks, one line per layer."""
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=120)
