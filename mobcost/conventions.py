"""Counting conventions: what the paper, PyTorch, Keras, fvcore, ptflops and thop each count, in one table.

Every convention counts the same traced rows; it differs only in what it charges for each class of operation
(multiply-adds, bias adds, batch norm, activations, pooling, LRN, softmax, residual adds, SE scales) and in which
batch-norm terms it counts as parameters. A count is in Mult-Adds: one fused multiply-add, or one elementary operation, is 1 (FLOPs = 2 × that).
A row that runs on a batch of crops (Upsample.batch) counts its whole batch: every tool counts the elements of the
tensors a module sees, batch included, and the rows' Mult-Adds are already the batch's.
Each rule below was read from the tool's source and is proven against the tool by tests/test_verify.py (Keras:
tests/test_keras.py):
  torch    torch/utils/flop_counter.py: conv_flop_count and mm_flop, 2 FLOPs per multiply-add, bias ignored
  keras    keras BatchNormalization: γ, β, moving mean and moving variance are all weights for count_params()
  fvcore   fvcore/nn/flop_count.py _DEFAULT_SUPPORTED_OPS and jit_handles.py (batchnorm_flop_jit in eval mode)
  ptflops  ptflops/pytorch_ops.py MODULES_MAPPING hooks and FUNCTIONAL_MAPPING patches (pytorch backend)
  ptflops-aten  ptflops/aten_ops.py ATEN_OPS_MAPPING (aten backend, ptflops ≥ 0.7.3): conv and matmul, bias counted
  thop     thop/profile.py register_hooks and thop/vision/basic_hooks.py, calc_func.py
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Literal

from mobcost.errors import listed
from mobcost.language import LIBRARY, MobcostError, ParamCounting
from mobcost.trace import Analysis, Row, Scaled

OpClass = Literal["conv", "fc", "bias", "bn", "act", "global pool", "avg pool", "max pool", "lrn", "softmax", "add",
                  "scale", "upsample", "layer norm", "group norm", "affine", "attention", "data movement", "unknown"]

OPERATION_CLASSES: dict[OpClass, str] = {
    "conv": "Mult-Adds of convolutions (standard, grouped, depthwise, pointwise)",
    "fc": "Mult-Adds of fully connected and token-wise linear layers",
    "bias": "bias adds, one per output element of a layer with `bias: true`",
    "bn": "batch norm, per normalized element (inference: a scale and a shift), after a layer or on its own",
    "act": "activation, per output element",
    "global pool": "adaptive average pooling: global, or to a fixed output size (`output: [h, w]`)",
    "avg pool": "k×k average pooling",
    "max pool": "k×k max pooling",
    "lrn": "local response normalization across `size` channels",
    "softmax": "softmax over the classes",
    "add": "residual add, per element (built as `x + y`, as torchvision does)",
    "scale": "squeeze-and-excite gating, per element (built as `gate * x`)",
    "upsample": "nearest or bilinear upsampling (built as nn.Upsample), per output element",
    "layer norm": "layer norm over the channels at each position (built as nn.LayerNorm on the tokens), per element",
    "group norm": "group norm (built as nn.GroupNorm), per element",
    "affine": "a per-channel scale and shift that is not a batch norm (built as `x * γ + β`), per element",
    "attention": "the attention products Q·Kᵀ and A·V (built as two `@` matmuls; softmax as a tensor method)",
    "data movement": "dropout (the identity at inference), flatten, concat, channel split, slice and shuffle, "
                     "zero padding",
    "unknown": "an imported operator mobcost has no rule for (`mobcost import --unknown zero`): a marked 0",
}

# The class of a leaf kind's own work, the one thing a new layer kind adds here. Bias, batch norm and
# activation come from the row's fields, whatever its kind.
KIND_CLASS: dict[str, Callable[[Row], OpClass]] = {
    "conv": lambda row: "conv",
    "dw": lambda row: "conv",
    "pw": lambda row: "conv",
    "fc": lambda row: "fc",
    "linear": lambda row: "fc",
    "avgpool": lambda row: "global pool" if row.layer.adaptive else "avg pool",
    "maxpool": lambda row: "max pool",
    "lrn": lambda row: "lrn",
    "softmax": lambda row: "softmax",
    "add": lambda row: "add",
    "scale": lambda row: "scale",
    "dropout": lambda row: "data movement",
    "flatten": lambda row: "data movement",
    "concat": lambda row: "data movement",
    "unknown": lambda row: "unknown",
    "upsample": lambda row: "upsample",
    "split": lambda row: "data movement",
    "shuffle": lambda row: "data movement",
    "slice": lambda row: "data movement",
    "pad": lambda row: "data movement",
    "layernorm": lambda row: "layer norm",
    "groupnorm": lambda row: "group norm",
    "batchnorm": lambda row: "bn",
    "affine": lambda row: "affine",
    "attend": lambda row: "attention",
}


def operations(row: Row) -> list[OpClass]:
    """The operation classes one row performs, in order: its own operation first."""
    ops = [KIND_CLASS[row.kind](row)]
    if getattr(row.layer, "bias", False):
        ops.append("bias")
    if row.bn and "bn" not in ops:  # a batch norm of its own is its row's operation
        ops.append("bn")
    if getattr(row.layer, "act", None):
        ops.append("act")
    return ops


@dataclass(frozen=True)
class Rule:
    """What a convention charges for one operation class: `text` for the table, `count` for one row.

    `bug` and `extra` describe and count what the tool adds by mistake (already part of the tool's total)."""

    text: str
    count: Callable[[Row], int]
    bug: str = ""
    extra: Callable[[Row], int] = lambda row: 0

    def total(self, row: Row) -> int:
        return self.count(row) + self.extra(row)


Calling = Literal["module", "function", "method"]


def called(row: Row, op: OpClass) -> Calling:
    """How the implementation calls this operation of the row (the spec's `functional`): as a module, a function
    (F.relu) or a tensor method (x.mean([2, 3]))."""
    spec = row.layer.functional
    own = op == KIND_CLASS[row.kind](row)
    if own and "method" in spec:
        return "method"
    return "function" if ("act" in spec and op == "act") or ("op" in spec and own) else "module"


def _macs(row: Row) -> int:
    return row.macs


def _outputs(row: Row) -> int:
    return row.batch * row.output.size


def _inputs(row: Row) -> int:
    return row.input_batch * row.input.size


def _positions(row: Row, shape) -> int:
    """Spatial positions of the row's batch, at the shape of its input or its output."""
    return row.batch * shape.h * shape.w


def _by_mode(nearest: int, bilinear: int, **bug) -> Rule:
    """Per output element of an upsample, by its mode."""
    return Rule(f"per output element: nearest {nearest}, bilinear {bilinear}",
                lambda row: (nearest if row.layer.mode == "nearest" else bilinear) * _outputs(row), **bug)


def _bn_elements(row: Row) -> int:
    return _positions(row, row.output) * row.bn


def _per_bn_element(n: int) -> Rule:
    return Rule(f"{n} per element", lambda row: n * _bn_elements(row))


def _activations(per: dict[str, int], bug: dict[str, int] | None = None) -> Rule:
    """Per output element, by activation; an activation not named counts 0."""
    counted = ", ".join(f"{name} {n}" for name, n in per.items() if n)
    text = f"per element: {counted}; others 0" if counted else "0"
    extra = (lambda row: bug.get(row.layer.act, 0) * _outputs(row)) if bug else (lambda row: 0)
    return Rule(text, lambda row: per.get(row.layer.act, 0) * _outputs(row),
                bug=f"{', '.join(bug)} counted twice" if bug else "", extra=extra)


def _by_affine(plain: int, affine: int) -> Rule:
    """Per element of a layer or group norm, by whether it has γ and β."""
    return Rule(f"per element: {plain}, {affine} with γ and β" if plain != affine else f"{plain} per element",
                lambda row: (affine if row.layer.affine else plain) * _outputs(row))


def _thop_adaptive(row: Row) -> int:
    """thop's count_adap_avgpool, in its own float64 arithmetic (truncated at the end, as thop's int() does):
    (h/oh · w/ow + 1) per output element; whole when the output divides the input."""
    oh, ow = row.layer.adaptive
    return int(((row.input.h / oh) * (row.input.w / ow) + 1) * _outputs(row))


ZERO = Rule("0", lambda row: 0)
MACS = Rule("Mult-Adds", _macs)


@dataclass(frozen=True)
class Convention:
    """One way of counting: a rule per operation class, and the batch-norm terms counted as parameters."""

    name: str
    tool: str  # the call that counts this way
    params: ParamCounting
    rules: dict[OpClass, Rule]
    description: str  # one sentence, shown under every table counted this way
    # an operation the implementation calls as a function: counted as a module would be (the operator-level
    # counters), once by the patched functional and never by a module hook (ptflops), or not at all (thop's hooks)
    functional: Literal["as a module", "once", "not at all"] = "as a module"
    # an operation computed by a tensor method (x.mean([2, 3])): as a module would be, or not at all (fvcore has no
    # handler for aten::mean, ptflops patches no tensor method but matmul's, thop hooks modules only)
    method: Literal["as a module", "not at all"] = "as a module"
    # layer kinds whose weights the tool leaves out of its parameter count (thop counts a module's parameters only
    # if it has a hook for the module's type: none for nn.GroupNorm or a scale-and-shift module)
    unhooked: tuple[str, ...] = ()

    def charge(self, op: OpClass, row: Row) -> tuple[int, int]:
        """What this convention counts for one operation of a row: (its count, the part a tool adds by mistake)."""
        rule = self.rules[op]
        how = called(row, op)
        if how == "function" and self.functional != "as a module":
            return (rule.count(row) if self.functional == "once" else 0), 0
        if how == "method" and self.method == "not at all":
            return 0, 0
        return rule.total(row), rule.extra(row)

    def count(self, row: Row) -> Counter:
        """This row's count per operation class."""
        return Counter({op: self.charge(op, row)[0] for op in operations(row)})

    def params_of(self, row: Row) -> int:
        return 0 if row.kind in self.unhooked else row.params_counted(self.params)


_MULT_ADDS = ("conv", "fc")


def _rules(**counted: Rule) -> dict[OpClass, Rule]:
    """A convention's rules: Mult-Adds for conv and fc, the given ones, and 0 for every other class."""
    named = {op.replace("_", " "): rule for op, rule in counted.items()}
    if unknown := named.keys() - OPERATION_CLASSES.keys():
        raise ValueError(f"no operation class {', '.join(unknown)}")
    return {op: named.get(op, MACS if op in _MULT_ADDS else ZERO) for op in OPERATION_CLASSES}


_PAPER_RULES = _rules(attention=MACS)

CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention(
        "paper", "the MobileNets papers' Mult-Adds (V1 Tables 1–10)", "weights", _PAPER_RULES,
        "Mult-Adds = fused multiply-adds of convolutions and fully connected layers; pooling, softmax, batch norm, "
        "activations, LRN, and element-wise adds, scales and concatenations count 0 (the MobileNets paper's "
        "convention)."),
    Convention(
        "torch", "torch.utils.flop_counter.FlopCounterMode ÷ 2; sum(p.numel() for p in model.parameters())",
        "torch", _PAPER_RULES,
        "Mult-Adds counted as PyTorch's FlopCounterMode does, halved: convolutions and matrix products only, bias "
        "ignored (the paper's count)."),
    Convention(
        "keras", "model.count_params() (Keras has no Mult-Add counter)", "keras", _PAPER_RULES,
        "Mult-Adds as the paper (Keras has no counter; Keras Applications quote TF-slim's figures)."),
    Convention(
        "fvcore", "fvcore.nn.FlopCountAnalysis(model.eval(), x).total(); fvcore.nn.parameter_count", "torch",
        _rules(bn=_per_bn_element(2), global_pool=Rule("1 per input element", _inputs),
               upsample=_by_mode(1, 4), layer_norm=_by_affine(4, 5), group_norm=_by_affine(4, 5),
               attention=MACS),
        "Mult-Adds counted as fvcore's FlopCountAnalysis (its \"flops\" are Mult-Adds): convolutions and matrix "
        "products without bias, batch norm 2 per element in eval mode, global pooling 1 per input element, "
        "upsampling 1 (nearest) or 4 (bilinear) per output element, layer and group norm 4 per element (5 with "
        "γ and β), attention's matrix products; activations, k×k pooling, LRN, softmax, element-wise operations and a mean taken as a tensor method "
        "(x.mean([2, 3])) are skipped.", method="not at all"),
    Convention(
        "ptflops", "ptflops.get_model_complexity_info(model, (c, h, w), backend='pytorch')", "torch",
        _rules(bias=Rule("1 per output element", _outputs), bn=_per_bn_element(2),
               act=_activations({"relu": 1, "relu6": 1, "swish": 1, "silu": 1, "gelu": 1, "leaky_relu": 1},
                                bug={"relu": 1, "gelu": 1}),
               global_pool=Rule("1 per input element", _inputs, "counted twice", _inputs),
               avg_pool=Rule("1 per input element", _inputs, "counted twice", _inputs),
               max_pool=Rule("1 per input element", _inputs, "counted twice", _inputs),
               # F.local_response_norm: x·x, x·α and + k per element, and avg_pool3d over the channel-padded squares
               lrn=Rule("3 per element + (c + size − 1)·h·w",
                        lambda row: 3 * _inputs(row) + (row.input.c + row.layer.size - 1) * _positions(row, row.input)),
               softmax=Rule("1 per element", _outputs),
               # upsample_flops_counter_hook counts `output[0]`: the first item of a batch, not the batch
               upsample=Rule("1 per output element", _outputs, "counted again, for a batch's first item only",
                             lambda row: row.output.size),
               # bn_flops_counter_hook doubles for `module.affine`, which nn.LayerNorm does not have
               layer_norm=_by_affine(1, 1), group_norm=_by_affine(1, 2)),
        "Mult-Adds counted as ptflops' pytorch backend: plus bias adds, batch norm 2 per element, ReLU, ReLU6, "
        "swish (SiLU), GELU and leaky ReLU 1 per element, pooling 1 per input element, upsampling 1 per output "
        "element, LRN's element-wise operations, softmax 1 per element, layer norm 1 and group norm 1 per element (2 "
        "with γ and β), attention's `@` products 0; ReLU, GELU, pooling and upsampling are "
        "counted twice (the module hook and the patched functional both fire, ptflops issue 139; the upsampling hook "
        "counts only a batch's first item), once where the implementation calls the function itself, not at all where "
        "it takes a tensor method (x.mean([2, 3])).",
        "once", "not at all"),
    Convention(
        "ptflops-aten", "ptflops.get_model_complexity_info(model, (c, h, w), backend='aten')", "torch",
        _rules(bias=Rule("1 per output element", _outputs), attention=MACS),
        "Mult-Adds counted as ptflops' aten backend (ptflops/aten_ops.py: aten.convolution, addmm, mm, bmm under a "
        "dispatch mode, so whatever calls them, module, function or method, is seen once): convolutions and "
        "matrix products (attention's `@` products too) plus 1 per bias output element; batch norm, layer and "
        "group norm, activations, pooling, upsampling and element-wise operations 0."),
    Convention(
        "thop", "thop.profile(model, inputs=(x,))", "torch",
        _rules(bn=_per_bn_element(4),
               global_pool=Rule("(h/oh · w/ow + 1) per output element", _thop_adaptive),
               avg_pool=Rule("1 per output element", _outputs),
               softmax=Rule("3·c − 1 per position, c channels",
                            lambda row: _positions(row, row.output) * (3 * row.output.c - 1)),
               upsample=_by_mode(1, 11), layer_norm=_by_affine(2, 4)),
        "Mult-Adds counted as thop's profile: without bias, batch norm 4 per element, activations and max pooling "
        "0, adaptive average pooling h/oh · w/ow + 1 per output element (h·w + 1 when global), k×k average "
        "pooling 1 per output element, softmax 3c − 1 per position, nn.Upsample 1 (nearest) or 11 (bilinear) per "
        "output element, layer norm 2 per element (4 with γ and β), group norm and attention's `@` products 0; "
        "what the implementation calls as a function or a tensor method 0 (thop hooks modules "
        "only); parameters of group norms and affines 0 (thop counts only the modules it hooks).",
        "not at all", "not at all", ("groupnorm", "affine")),
)}


def convention(name: str) -> Convention:
    if name not in CONVENTIONS:
        raise MobcostError(f"unknown counting convention {name!r}; the conventions are {listed(CONVENTIONS)}")
    return CONVENTIONS[name]


def _traced(analysis: Analysis) -> Analysis:
    """Conventions count from the trace's own figures, never from an analysis already counted another way."""
    if analysis.convention != "paper":
        raise ValueError(f"this analysis is already counted as {analysis.convention}; count from the trace")
    return analysis


def counted(analysis: Analysis, name: str = "paper") -> Analysis:
    """The analysis with every row's Mult-Adds counted by a named convention (parameters stay as traced: count
    them with `params_counted(convention(name).params)`, or as the user asks)."""
    conv = convention(name)
    rows = tuple(dataclasses.replace(row, macs=sum(conv.count(row).values())) for row in _traced(analysis).rows)
    return dataclasses.replace(analysis, rows=rows, convention=name)


def totals(analysis: Analysis, name: str) -> tuple[int, int]:
    """Mult-Adds and parameters of the whole network, as a named convention counts them."""
    conv = convention(name)
    return counted(analysis, name).macs, sum(conv.params_of(row) for row in analysis.rows)


@dataclass(frozen=True)
class RowDifference:
    """One row that two conventions count differently."""

    row: Row
    macs: tuple[int, int]
    params: tuple[int, int]
    classes: list[OpClass]  # the operation classes counted differently (none: parameters only)


@dataclass(frozen=True)
class Difference:
    """Where two conventions count one network differently."""

    a: str
    b: str
    by_class: dict[OpClass, tuple[int, int]]  # class → (count in a, count in b), classes that differ
    by_row: list[RowDifference]
    macs: tuple[int, int]  # the whole network's, in a and in b
    params: tuple[int, int]
    bugs: dict[OpClass, tuple[int, int]]  # class → (a's, b's) counts a tool adds by mistake


def difference(analysis: Analysis, a: str, b: str) -> Difference:
    """Per operation class and per row, what `a` and `b` count differently."""
    ca, cb = convention(a), convention(b)
    by_class: dict[OpClass, list[int]] = {op: [0, 0] for op in OPERATION_CLASSES}
    bugs: dict[OpClass, list[int]] = {op: [0, 0] for op in OPERATION_CLASSES}
    by_row = []
    for row in _traced(analysis).rows:
        na, nb = ca.count(row), cb.count(row)
        for op in operations(row):
            by_class[op][0] += na[op]
            by_class[op][1] += nb[op]
            bugs[op][0] += ca.charge(op, row)[1]
            bugs[op][1] += cb.charge(op, row)[1]
        params = (ca.params_of(row), cb.params_of(row))
        if (differ := [op for op in operations(row) if na[op] != nb[op]]) or params[0] != params[1]:
            by_row.append(RowDifference(row, (sum(na.values()), sum(nb.values())), params, differ))
    pa, pb = (sum(c.params_of(row) for row in analysis.rows) for c in (ca, cb))
    whole = (sum(x for x, _ in by_class.values()), sum(y for _, y in by_class.values()))
    return Difference(a, b, {op: (x, y) for op, (x, y) in by_class.items() if x != y}, by_row, whole, (pa, pb),
                      {op: (x, y) for op, (x, y) in bugs.items() if x or y})


# ---- the counting in words, for every table and JSON document that shows a count -------------------------------

_COUNTING = {"weights": "",
             "folded": " Counted with batch norm folded: plus one bias per normalized channel, as a deployed model "
                       "stores it.",
             "torch": " Counted as PyTorch does: plus batch-norm γ and β (2 per normalized channel).",
             "keras": " Counted as Keras does: plus batch-norm γ, β, moving mean and variance "
                      "(4 per normalized channel)."}


def counting_words(counting: ParamCounting = "weights", name: str = "paper", flops: bool = False) -> str:
    """The counting convention in words: the Mult-Adds convention, the parameter counting, and the unit shown."""
    return (f"{CONVENTIONS[name].description} Parameters = weights, plus biases where the spec declares them."
            + _COUNTING[counting] + (" FLOPs = 2 × Mult-Adds." if flops else ""))


_TOOLS = ("fvcore", "ptflops", "thop")  # counters that run on the source model's modules and calls
_IMPORTED = ("ONNX file ", "exported by torch.onnx")  # the `source:` of a spec `mobcost import` wrote


def imported_note(analysis: Scaled, name: str | None = None) -> str | None:
    """A warning where a tool's convention (`name`, or any of them) cannot equal that tool run on the model an
    imported graph came from: the tools count modules and calls an ONNX graph does not record, and an export with
    folded batch norms has none to count."""
    network = analysis.network
    tools = _TOOLS if name is None else (name,) if name in _TOOLS else ()
    if not tools or not any(s in (network.source or "") for s in _IMPORTED):
        return None
    rows = getattr(analysis, "rows", ())
    folded = rows and not any(row.bn for row in rows)
    who = ", ".join(tools)
    return (f"Imported from ONNX: {who} count{'s' if len(tools) == 1 else ''} the source model's modules and calls, "
            "which the graph does not record (timm's BatchNormAct2d is counted differently by thop and ptflops; an "
            "activation called as a function is counted once or not at all), so this is "
            f"{'that tool' if len(tools) == 1 else 'each tool'}'s count of the graph's operators as modules"
            + (", and the exporter folded every batch norm into its conv: the source model's batch-norm cost is "
               "not in it" if folded else "") + ".")


def implementation_note(analysis: Scaled, counting: ParamCounting, name: str = "paper") -> str | None:
    """A warning where the counting asked for is a library's (PyTorch's, Keras') but the network is not the one that
    library builds (the spec's `follows` does not name it), or where a tool's convention cannot reproduce that tool
    on an imported graph's source model; else None."""
    imported = imported_note(analysis, name)
    note = _library_note(analysis, counting, name)
    return " ".join(filter(None, (note, imported))) or None


def _library_note(analysis: Scaled, counting: ParamCounting, name: str = "paper") -> str | None:
    network = analysis.network
    if not network.follows:
        return None  # a spec that names no implementation makes no claim to check
    implied = {LIBRARY.get(counting), LIBRARY.get(CONVENTIONS[name].params) if name != "paper" else None}
    for library in sorted(implied - {None} - set(network.follows)):
        own = next((f"`{network.name}:{key}`" for key, v in network.variants.items() if library in v.follows),
                   f"not in this spec (`mobcost verify {network.name} --against MODULE:CALLABLE` compares yours)")
        counter = {"torchvision": "PyTorch", "keras": "Keras"}[library]
        return (f"Not {library}'s network: {network.title} as written follows {', '.join(network.follows)}, so "
                f"these are {counter}'s counts of that network, not of {library}'s build, which is {own}.")
    return None
