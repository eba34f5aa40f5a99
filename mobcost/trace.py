"""Apply α and the resolution, expand blocks and repeats, propagate shapes: rows and totals, no I/O."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import groupby
from typing import Iterable, Iterator

from pydantic import ValidationError

from mobcost.layers import (Add, Branches, Concat, Conv, Layer, Leaf, Repeat, Residual, Scaling, Separable, Shape,
                            ShapeError)
from mobcost.limits import LIMIT, MAX_CHANNELS, MAX_LAYERS, MAX_PIXELS
from mobcost.spec import BN_PARAMS, MakeDivisible, MobcostError, Network, ParamCounting, Path_


@dataclass(frozen=True)
class Row:
    """One layer as built: α applied, shapes known, cost computed."""

    name: str
    layer: Leaf
    input: Shape
    output: Shape
    macs: int
    params: int
    block: str | None = None  # the block (e.g. separable) this row came from
    bn: int = 0  # batch-normalized channels: 2·bn affine parameters (γ, β) and 2·bn running statistics
    unit: Layer | None = None  # the block as built (α applied), for tables that show one row per block

    def params_counted(self, counting: ParamCounting = "weights") -> int:
        """This row's parameters as a framework counts them (see Analysis.params_counted)."""
        return self.params + BN_PARAMS[counting] * self.bn

    @property
    def kind(self) -> str:
        return self.layer.kind

    @property
    def stride(self) -> int:
        return self.layer.stride

    @property
    def type(self) -> str:
        """"Type / Stride" as MobileNets Table 1 prints it."""
        return f"{self.layer.paper_type} / s{self.stride}"

    @property
    def filter(self) -> str:
        return self.layer.filter_shape(self.input)

    @property
    def category(self) -> str:
        return self.layer.category(self.input)

    @property
    def standard_macs(self) -> int | None:
        return self.layer.standard_macs(self.input)

    def to_dict(self, counting: ParamCounting = "weights") -> dict:
        return {"name": self.name, "kind": self.kind, "stride": self.stride, "filter": self.filter,
                "input": [self.input.h, self.input.w, self.input.c],
                "output": [self.output.h, self.output.w, self.output.c], "macs": self.macs,
                "params": self.params_counted(counting)}


@dataclass(frozen=True)
class Scaled:
    """A network at one width multiplier α and input resolution."""

    network: Network
    alpha: Fraction
    resolution: int

    @property
    def label(self) -> str:
        """The model as the papers name it: "0.75 MobileNet-224", or a variant's title."""
        alpha = f"{float(self.alpha):g}"
        return f"{alpha if '.' in alpha else alpha + '.0'} {self.network.title}-{self.resolution}"


@dataclass(frozen=True)
class Totals(Scaled):
    """A variant's total Mult-Adds and parameters, without its rows (what a sweep keeps)."""

    macs: int
    params: int
    bn: int = 0  # batch-normalized channels, as Row.bn
    convention: str = "paper"  # a sweep's totals count as the paper does

    def params_counted(self, counting: ParamCounting = "weights") -> int:
        """Parameters as a framework counts them (see Analysis.params_counted)."""
        return self.params + BN_PARAMS[counting] * self.bn


@dataclass(frozen=True)
class Analysis(Scaled):
    """A traced network: its rows and totals at one α and resolution."""

    rows: tuple[Row, ...]
    convention: str = "paper"  # how the rows' Mult-Adds were counted (mobcost.conventions)

    @property
    def macs(self) -> int:
        return sum(row.macs for row in self.rows)

    @property
    def params(self) -> int:
        return sum(row.params for row in self.rows)

    def params_counted(self, counting: ParamCounting = "weights") -> int:
        """Parameters as a framework counts them: weights and declared biases only (the papers'), plus batch-norm
        γ and β (PyTorch's `sum(p.numel())`), plus batch-norm running mean and variance (Keras' `count_params()`)."""
        return sum(row.params_counted(counting) for row in self.rows)

    def breakdown(self, counting: ParamCounting = "weights") -> dict[str, tuple[int, int]]:
        """Mult-Adds and parameters per layer type (MobileNets Table 2), in order of first appearance."""
        macs, params = Counter(), Counter()
        for row in self.rows:
            macs[row.category] += row.macs
            params[row.category] += row.params_counted(counting)
        return {key: (macs[key], params[key]) for key in macs if macs[key] or params[key]}

    def to_dict(self, counting: ParamCounting = "weights") -> dict:
        """The totals and rows as data, parameters counted by `counting`."""
        return {"model": self.network.name, "title": self.network.title, "alpha": float(self.alpha),
                "resolution": self.resolution, "params_counting": counting,
                "totals": {"macs": self.macs, "params": self.params_counted(counting)},
                "layers": [row.to_dict(counting) for row in self.rows]}


def resolution_of(network: Network, resolution: int | None = None, rho: float | None = None) -> int:
    """The input resolution: given outright, or ρ times the spec's (rounded to the nearest pixel)."""
    if resolution is not None and rho is not None:
        raise MobcostError("give the resolution either as --res or as --rho, not both")
    if rho is not None:
        if not 0 < rho < math.inf:
            raise MobcostError(f"the resolution multiplier ρ must be positive and finite (found {rho})")
        resolution = max(1, round(Fraction(str(rho)) * network.input.resolution))
    if resolution is not None and not 1 <= resolution <= MAX_PIXELS:
        found = f"{resolution:,}" if abs(resolution) < 10**24 else "a number of more than 24 digits"
        raise MobcostError(f"the resolution must be a positive number of pixels up to {MAX_PIXELS:,} (found "
                           f"{found}; {MAX_PIXELS:,} is mobcost's limit, see Limits in the README)")
    return resolution or network.input.resolution


def trace(network: Network, alpha: float = 1.0, resolution: int | None = None) -> Analysis:
    """Propagate the input through every layer at width multiplier α and the given resolution."""
    scaling = _scaling(network, alpha)
    resolution = resolution_of(network, resolution)
    walk = _Walk(network, scaling, resolution)
    walk.layers(network.layers, Shape(resolution, resolution, network.input.channels), ("layers",))
    return Analysis(network, scaling.alpha, resolution, tuple(walk.rows))


def _scaling(network: Network, alpha: float) -> Scaling:
    if not 0 < alpha < math.inf:
        raise MobcostError(f"the width multiplier α must be positive and finite (found {alpha})")
    rounding = network.width_rounding
    return Scaling(Fraction(str(alpha)), network.classes,
                   rounding.divisor if isinstance(rounding, MakeDivisible) else None)


def sweep(network: Network, alphas: Iterable[float], resolutions: Iterable[int]) -> Iterator[Totals]:
    """Totals of every α × resolution, α-major, one at a time, so memory stays flat however large the grid.

    At each α one full trace builds the layers (α applied). In a chain of layers (no branches) every other
    resolution reuses them and keeps sums rather than rows; a block's parts may depend on its input (an SE block's
    scale records the spatial size), so a block is expanded again, and a layer costed again, only when its input
    differs from the previous resolution's. A network with branches is traced in full at every resolution.
    """
    resolutions = [resolution_of(network, r) for r in resolutions]
    chain = _chain(network.layers)
    for alpha in alphas:
        first = trace(network, alpha, resolutions[0])
        yield _summed(first)
        if not chain:
            yield from (_summed(trace(network, alpha, resolution)) for resolution in resolutions[1:])
            continue
        occurrences = groupby(first.rows, key=lambda r: (id(r.unit), r.block))  # each block as it occurs
        program = [(rows[0].unit, [row.layer for row in rows]) for rows in (list(g) for _, g in occurrences)]
        scaling, last = _scaling(network, alpha), {}
        for resolution in resolutions[1:]:
            yield _replay(network, scaling, resolution, program, last)


def _summed(analysis: Analysis) -> Totals:
    return Totals(analysis.network, analysis.alpha, analysis.resolution, analysis.macs, analysis.params,
                  sum(row.bn for row in analysis.rows))


def _chain(layers) -> bool:
    """Whether every leaf reads the previous leaf's output: no parallel branches and no residual blocks."""
    return not any(isinstance(layer, (Branches, Residual)) or (isinstance(layer, Repeat) and not _chain(layer.layers))
                   for layer in layers)


def _replay(network: Network, scaling: Scaling, resolution: int, program: list, last: dict) -> Totals:
    """What trace(network, α, resolution) sums to, from the layers a trace at another resolution built."""
    x = Shape(resolution, resolution, network.input.channels)
    macs = params = bn = 0
    for i, (unit, layers) in enumerate(program):
        if unit is not None:  # a block, as the trace expands it: its parts at this input, α applied
            layers = _again(last, i, unit, x, lambda: [part.resolve(scaling) for part in unit.parts(x)])
        for j, layer in enumerate(layers):
            y, *cost = _again(last, (i, j), layer, x, lambda: _cost(network, scaling.alpha, resolution, layer, x))
            macs, params, bn = macs + cost[0], params + cost[1], bn + cost[2]
            x = y
    return Totals(network, scaling.alpha, resolution, macs, params, bn)


def _again(last: dict, place, item, x: Shape, compute):
    """compute() for the layer or block at this place at input x, or its result at the previous resolution if the
    same item had the same input (deep layers do at neighbouring resolutions). One entry a place: flat memory."""
    hit = last.get(place)
    if hit is None or hit[0] is not item or hit[1] != x:
        hit = last[place] = (item, x, compute())
    return hit[2]


def _cost(network: Network, alpha: Fraction, resolution: int, layer: Leaf, x: Shape) -> tuple[Shape, int, int, int]:
    try:
        y = layer.output_shape(x)
        _check_limits(y)
    except ShapeError:
        trace(network, alpha, resolution)  # raises the error, located in the spec
        raise
    return y, layer.macs(x), layer.params(x), layer.bn_channels(x)


_PREFIX = {"separable": "sep", "avgpool": "pool", "bottleneck": "bneck"}


def _check_limits(y: Shape) -> None:
    """A feature map within mobcost's limits, so that no count grows without bound."""
    if max(y.h, y.w) > MAX_PIXELS:
        raise ShapeError("padding", f"expected a feature map of at most {MAX_PIXELS:,} pixels a side {LIMIT}; "
                                    f"found {y.h:,}×{y.w:,}")
    if y.c > MAX_CHANNELS:
        raise ShapeError("out", f"expected at most {MAX_CHANNELS:,} channels {LIMIT}; found {y.c:,}")


@dataclass
class _Walk:
    """One pass over the spec: expands repeats and blocks, names unnamed layers, appends a Row per leaf.

    Branches and residual blocks recurse with the block's input: each branch, body and shortcut is traced from it
    and names its rows inside the block (`inception3a/b2/conv2`, `layer1.0/shortcut/conv1`), counting unnamed
    layers afresh in each such scope."""

    network: Network
    scaling: Scaling
    resolution: int
    rows: list = field(default_factory=list)
    counts: defaultdict = field(default_factory=lambda: defaultdict(Counter))

    def layers(self, layers, x: Shape, path: Path_, scope: str = "", suffix: str = "",
               block: str | None = None) -> Shape:
        """Trace layers from x: `scope` prefixes their names, `suffix` numbers a repeat's passes."""
        counts = self.counts[scope]
        for i, layer in enumerate(layers):
            here = path + (i,)
            counts[layer.kind] += 1
            own = layer.name + suffix if layer.name else f"{_PREFIX.get(layer.kind, layer.kind)}{counts[layer.kind]}"
            name = scope + own
            if isinstance(layer, Repeat):
                for k in range(1, layer.repeat + 1):
                    x = self.layers(layer.layers, x, here + ("layers",), scope, f"{suffix}.{k}", block)
            elif isinstance(layer, Branches):
                x = self.branches(layer, x, here, name)
            elif isinstance(layer, Residual):
                x = self.residual(layer, x, here, name)
            elif hasattr(layer, "parts"):  # a block: its parts are named block/part and carry the block's name
                unit = layer.resolve(self.scaling)  # α first: a block's parts depend on its resolved widths
                for part in self.parts(unit, x, here):
                    x = self.leaf(part, x, here, f"{name}/{part.name or part.kind}", name, unit)
            else:
                x = self.leaf(layer, x, here, name, block)
        return x

    def parts(self, unit, x: Shape, path: Path_) -> tuple:
        try:
            return unit.parts(x)
        except ValidationError as e:  # a part past a limit, such as an expansion t·c of more channels than allowed
            error = e.errors(include_url=False)[0]
            raise self.network.problem(path, None, f"expands to a part whose {error['loc'][0]} is {error['input']}: "
                                                   f"{error['msg']} (input {x})") from None

    def branches(self, layer: Branches, x: Shape, path: Path_, name: str) -> Shape:
        """Every branch from x, then a concat row whose input is their outputs stacked along channels."""
        outs = [self.layers(branch, x, path + ("branches", b), f"{name}/b{b + 1}/", block=name)
                for b, branch in enumerate(layer.branches)]
        if len({(y.h, y.w) for y in outs}) > 1:
            raise self.network.problem(path, "branches", "branch outputs must share their height and width to be "
                                       f"concatenated; they are {', '.join(map(str, outs))} (input {x})")
        joined = Concat(widths=tuple(y.c for y in outs))
        return self.leaf(joined, Shape(outs[0].h, outs[0].w, sum(joined.widths)), path, f"{name}/concat", name)

    def residual(self, layer: Residual, x: Shape, path: Path_, name: str) -> Shape:
        """The body and the shortcut from x, then an add row of their common shape."""
        first = len(self.rows)  # the block's input is the input of its first row
        body = self.layers(layer.layers, x, path + ("layers",), f"{name}/", block=name)
        shortcut = self.layers(layer.shortcut, x, path + ("shortcut",), f"{name}/shortcut/", block=name)
        if body != shortcut:
            raise self.network.problem(path, "shortcut", f"the body gives {body} but the shortcut gives {shortcut} "
                                       f"(input {x}); they must match to be added, so give the shortcut a 1×1 "
                                       "projection conv with the body's stride and channels")
        return self.leaf(Add(skip=len(self.rows) - first), body, path, f"{name}/add", name)

    def leaf(self, layer: Leaf, x: Shape, path: Path_, name: str, block: str | None, unit=None) -> Shape:
        if len(self.rows) == MAX_LAYERS:  # before expanding one more: blocks the load-time count did not multiply
            raise self.network.problem(path[:2], None, f"expected at most {MAX_LAYERS:,} layers once repeats and "
                                                       f"blocks are expanded {LIMIT}; this layer expands to more")
        built = layer.resolve(self.scaling)
        try:
            y = built.output_shape(x)
            _check_limits(y)
        except ShapeError as e:
            raise self.network.problem(path, e.field, f"{e} (input {x}, α = {float(self.scaling.alpha):g}, "
                                                      f"at resolution {self.resolution})") from None
        self.rows.append(Row(name, built, x, y, built.macs(x), built.params(x), block, built.bn_channels(x), unit))
        return y


def separable_steps(x: Shape, kernel: int, out: int, stride: int = 1, padding="same") -> tuple[list[dict], str]:
    """One layer as a standard convolution and as depthwise + pointwise, with the arithmetic written out."""
    try:
        _check_limits(x)
        conv = Conv(kernel=kernel, stride=stride, padding=padding, out=out)
    except ShapeError as e:
        raise MobcostError(f"--input {x}: {e}") from None
    except ValidationError as e:
        errors = e.errors(include_url=False)  # a union field fails once per branch: show the limit's
        error = next((err for err in errors if err["type"] == "mobcost_limit"), errors[0])
        raise MobcostError(f"--{error['loc'][0]}: {error['msg']}; found {error['input']:,}") from None
    dw, pw = Separable(kernel=kernel, stride=stride, padding=padding, out=out).parts()
    try:
        y = conv.output_shape(x)
    except ShapeError as e:
        raise MobcostError(f"--{e.field}: {e}") from None
    k, m, n, f = kernel, x.c, out, f"{y.h}·{y.w}"
    steps = [
        {"operation": "Standard convolution", "formula": "D_K·D_K·M·N·D_F·D_F",
         "arithmetic": f"{k}·{k}·{m}·{n}·{f}", "macs": conv.macs(x), "params": conv.params(x)},
        {"operation": "Depthwise convolution", "formula": "D_K·D_K·M·D_F·D_F",
         "arithmetic": f"{k}·{k}·{m}·{f}", "macs": dw.macs(x), "params": dw.params(x)},
        {"operation": "Pointwise convolution", "formula": "M·N·D_F·D_F",
         "arithmetic": f"{m}·{n}·{f}", "macs": pw.macs(dw.output_shape(x)), "params": pw.params(x)},
    ]
    separable = steps[1]["macs"] + steps[2]["macs"]
    steps.append({"operation": "Depthwise separable", "formula": "depthwise + pointwise",
                  "arithmetic": f"{steps[1]['macs']:,} + {steps[2]['macs']:,}", "macs": separable,
                  "params": steps[1]["params"] + steps[2]["params"]})
    ratio = Fraction(separable, steps[0]["macs"])
    note = (f"Input {x}, output {y}. Separable / standard = {separable:,} / {steps[0]['macs']:,} = {float(ratio):.4f}"
            f" = 1/N + 1/D_K² = 1/{n} + 1/{k * k} (MobileNets eq. 5). M = input channels, N = output channels, "
            f"D_K = kernel, D_F = output size.")
    return steps, note
