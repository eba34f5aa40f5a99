"""Apply α and the resolution, expand blocks and repeats, propagate shapes: rows and totals, no I/O."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import groupby
from typing import Iterable, Iterator

from mobcost.layers import Conv, Layer, Leaf, Repeat, Scaling, Separable, Shape, ShapeError
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

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "stride": self.stride, "filter": self.filter,
                "input": [self.input.h, self.input.w, self.input.c],
                "output": [self.output.h, self.output.w, self.output.c], "macs": self.macs, "params": self.params}


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

    def params_counted(self, counting: ParamCounting = "weights") -> int:
        """Parameters as a framework counts them (see Analysis.params_counted)."""
        return self.params + BN_PARAMS[counting] * self.bn


@dataclass(frozen=True)
class Analysis(Scaled):
    """A traced network: its rows and totals at one α and resolution."""

    rows: tuple[Row, ...]

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

    def breakdown(self) -> dict[str, tuple[int, int]]:
        """Mult-Adds and parameters per layer type (MobileNets Table 2), in order of first appearance."""
        macs, params = Counter(), Counter()
        for row in self.rows:
            macs[row.category] += row.macs
            params[row.category] += row.params
        return {key: (macs[key], params[key]) for key in macs if macs[key] or params[key]}

    def to_dict(self) -> dict:
        return {"model": self.network.name, "title": self.network.title, "alpha": float(self.alpha),
                "resolution": self.resolution, "totals": {"macs": self.macs, "params": self.params},
                "layers": [row.to_dict() for row in self.rows]}


def resolution_of(network: Network, resolution: int | None = None, rho: float | None = None) -> int:
    """The input resolution: given outright, or ρ times the spec's (rounded to the nearest pixel)."""
    if resolution is not None and rho is not None:
        raise MobcostError("give the resolution either as --res or as --rho, not both")
    if rho is not None:
        if rho <= 0:
            raise MobcostError(f"the resolution multiplier ρ must be positive (found {rho})")
        return max(1, round(Fraction(str(rho)) * network.input.resolution))
    if resolution is not None and resolution < 1:
        raise MobcostError(f"the resolution must be a positive number of pixels (found {resolution})")
    return resolution or network.input.resolution


def trace(network: Network, alpha: float = 1.0, resolution: int | None = None) -> Analysis:
    """Propagate the input through every layer at width multiplier α and the given resolution."""
    scaling = _scaling(network, alpha)
    resolution = resolution_of(network, resolution)
    walk = _Walk(network, scaling, resolution)
    walk.layers(network.layers, Shape(resolution, resolution, network.input.channels), ("layers",))
    return Analysis(network, scaling.alpha, resolution, tuple(walk.rows))


def _scaling(network: Network, alpha: float) -> Scaling:
    if not alpha > 0:
        raise MobcostError(f"the width multiplier α must be positive (found {alpha})")
    rounding = network.width_rounding
    return Scaling(Fraction(str(alpha)), network.classes,
                   rounding.divisor if isinstance(rounding, MakeDivisible) else None)


def sweep(network: Network, alphas: Iterable[float], resolutions: Iterable[int]) -> Iterator[Totals]:
    """Totals of every α × resolution, α-major, one at a time, so memory stays flat however large the grid.

    At each α one full trace builds the layers (α applied); every other resolution reuses them, keeping sums rather
    than rows. A block's parts may depend on its input (an SE block's scale records the spatial size), so each block
    is expanded again, and each layer costed again, only when its input differs from the previous resolution's.
    """
    resolutions = [resolution_of(network, r) for r in resolutions]
    for alpha in alphas:
        first = trace(network, alpha, resolutions[0])
        yield Totals(network, first.alpha, first.resolution, first.macs, first.params, sum(r.bn for r in first.rows))
        program = [(rows[0].unit, [row.layer for row in rows])  # the rows of each block (units compare equal
                   for rows in (list(g) for _, g in groupby(first.rows, key=lambda r: id(r.unit)))]  # when repeated)
        scaling, last = _scaling(network, alpha), {}
        for resolution in resolutions[1:]:
            yield _replay(network, scaling, resolution, program, last)


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
    except ShapeError:
        trace(network, alpha, resolution)  # raises the error, located in the spec
        raise
    return y, layer.macs(x), layer.params(x), layer.bn_channels(x)


_PREFIX = {"separable": "sep", "avgpool": "pool", "bottleneck": "bneck"}


@dataclass
class _Walk:
    """One pass over the spec: expands repeats and blocks, names unnamed layers, appends a Row per leaf."""

    network: Network
    scaling: Scaling
    resolution: int
    rows: list = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def layers(self, layers, x: Shape, path: Path_, suffix: str = "") -> Shape:
        for i, layer in enumerate(layers):
            here = path + (i,)
            self.counts[layer.kind] += 1
            name = layer.name + suffix if layer.name else f"{_PREFIX.get(layer.kind, layer.kind)}{self.counts[layer.kind]}"
            if isinstance(layer, Repeat):
                for k in range(1, layer.repeat + 1):
                    x = self.layers(layer.layers, x, here + ("layers",), f"{suffix}.{k}")
            elif hasattr(layer, "parts"):  # a block: its parts are named block/part and carry the block's name
                unit = layer.resolve(self.scaling)  # α first: a block's parts depend on its resolved widths
                for part in unit.parts(x):
                    x = self.leaf(part, x, here, f"{name}/{part.name or part.kind}", name, unit)
            else:
                x = self.leaf(layer, x, here, name, None)
        return x

    def leaf(self, layer: Leaf, x: Shape, path: Path_, name: str, block: str | None, unit=None) -> Shape:
        built = layer.resolve(self.scaling)
        try:
            y = built.output_shape(x)
        except ShapeError as e:
            raise self.network.problem(path, e.field, f"{e} (input {x}, at resolution {self.resolution})") from None
        self.rows.append(Row(name, built, x, y, built.macs(x), built.params(x), block, built.bn_channels(x), unit))
        return y


def separable_steps(x: Shape, kernel: int, out: int, stride: int = 1, padding="same") -> tuple[list[dict], str]:
    """One layer as a standard convolution and as depthwise + pointwise, with the arithmetic written out."""
    conv = Conv(kernel=kernel, stride=stride, padding=padding, out=out)
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
