"""Apply α and the resolution, expand blocks and repeats, propagate shapes: rows and totals, no I/O."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from mobcost.layers import Conv, Leaf, Repeat, Scaling, Separable, Shape, ShapeError
from mobcost.spec import MakeDivisible, MobcostError, Network, Path_


ParamCounting = Literal["weights", "torch", "keras"]
BN_PARAMS: dict[ParamCounting, int] = {"weights": 0, "torch": 2, "keras": 4}
"""Parameters per batch-normalized channel: none (the papers'), γ and β (PyTorch's `sum(p.numel())`), and the
running mean and variance too (Keras' `count_params()`)."""


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
class Analysis:
    """A traced network: its rows and totals at one α and resolution."""

    network: Network
    alpha: Fraction
    resolution: int
    rows: tuple[Row, ...]
    convention: str = "paper"  # how the rows' Mult-Adds and parameters were counted (mobcost.conventions)

    @property
    def macs(self) -> int:
        return sum(row.macs for row in self.rows)

    @property
    def params(self) -> int:
        return sum(row.params for row in self.rows)

    def params_counted(self, counting: ParamCounting = "weights") -> int:
        """Parameters as a framework counts them (see BN_PARAMS)."""
        return self.params + BN_PARAMS[counting] * sum(row.bn for row in self.rows)

    @property
    def label(self) -> str:
        """The model as the papers name it: "0.75 MobileNet-224", or a variant's title."""
        alpha = f"{float(self.alpha):g}"
        return f"{alpha if '.' in alpha else alpha + '.0'} {self.network.title}-{self.resolution}"

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
    if not alpha > 0:
        raise MobcostError(f"the width multiplier α must be positive (found {alpha})")
    exact_alpha = Fraction(str(alpha))
    resolution = resolution_of(network, resolution)
    rounding = network.width_rounding
    scaling = Scaling(exact_alpha, network.classes, rounding.divisor if isinstance(rounding, MakeDivisible) else None)
    walk = _Walk(network, scaling, resolution)
    walk.layers(network.layers, Shape(resolution, resolution, network.input.channels), ("layers",))
    return Analysis(network, exact_alpha, resolution, tuple(walk.rows))


_PREFIX = {"separable": "sep", "avgpool": "pool"}


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
                for part in layer.parts(x):
                    x = self.leaf(part, x, here, f"{name}/{part.name or part.kind}", name)
            else:
                x = self.leaf(layer, x, here, name, None)
        return x

    def leaf(self, layer: Leaf, x: Shape, path: Path_, name: str, block: str | None) -> Shape:
        built = layer.resolve(self.scaling)
        try:
            y = built.output_shape(x)
        except ShapeError as e:
            raise self.network.problem(path, e.field, f"{e} (input {x}, at resolution {self.resolution})") from None
        self.rows.append(Row(name, built, x, y, built.macs(x), built.params(x), block, built.bn_channels(x)))
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
