"""Apply α and the resolution, expand blocks and repeats, propagate shapes: rows and totals, no I/O."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Iterator, Union

from pydantic import ValidationError

from mobcost.layers import (Add, Concat, Join, Conv, Layer, Leaf, Repeat, Residual, Scaling, Separable, Shape, ShapeError,
                            SqueezeExcite)
from mobcost.display import Displayed
from mobcost.errors import shown
from mobcost.limits import (LIMIT, MAX_CHANNELS, MAX_LAYERS, MAX_MULTIPLIER, MAX_PIXELS, MAX_SWEPT_ROWS,
                            MAX_TRACED_ROWS, MAX_VARIANTS, number_of)
from mobcost.language import BN_PARAMS, MakeDivisible, MobcostError, Network, ParamCounting, Path_, expanded_rows
from mobcost.language.locate import did_you_mean


@dataclass(frozen=True)
class Row:
    """One layer as built: α applied, shapes known, cost computed.

    `input` and `output` are one item's shapes; `batch` is how many items the row computes (a batch of crops, see
    Upsample.batch), and `macs` is the whole batch's. Parameters and batch norm are the layer's, shared by the batch."""

    name: str
    layer: Leaf
    input: Shape
    output: Shape
    macs: int
    params: int
    block: str | None = None  # the block (e.g. separable) this row came from
    bn: int = 0  # batch-normalized channels: 2·bn affine parameters (γ, β) and 2·bn running statistics
    unit: Layer | None = None  # the block as built (α applied), for tables that show one row per block
    reads: tuple[str, ...] = ("input",)  # the rows whose outputs this row reads, by name; `input` is the image
    part: str = "backbone"  # the part of the network (backbone, extras, heads) the row belongs to
    batch: int = 1  # items in the row's output: a batch of crops runs every later layer that reads it once per crop

    @property
    def input_batch(self) -> int:
        """Items in the row's input: 1 where the row makes the batch (a crop reads one tensor), else its batch."""
        return 1 if getattr(self.layer, "batch", None) else self.batch

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
        stride = self.stride if isinstance(self.stride, int) else "×".join(map(str, self.stride))
        return f"{self.layer.paper_type} / s{stride}"

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
                "params": self.params_counted(counting), "reads": list(self.reads), "part": self.part,
                "batch": self.batch}


@dataclass(frozen=True, repr=False)
class Scaled(Displayed):
    """A network at one width multiplier α and input resolution; α is kept exact (`exact_alpha`)."""

    network: Network
    exact_alpha: Fraction
    resolution: Resolution

    @property
    def alpha(self) -> float:
        """The width multiplier α as a float (`exact_alpha` is the Fraction the arithmetic uses)."""
        return float(self.exact_alpha)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.label}: {self.macs:,} Mult-Adds, "
                f"{self.params:,} parameters{self._more()})")

    def _more(self) -> str:
        return ""

    @property
    def label(self) -> str:
        """The model as the papers name it: "0.75 MobileNet-224", or a variant's title."""
        alpha = f"{self.alpha:g}"
        return f"{alpha if '.' in alpha else alpha + '.0'} {self.network.title}-{size_text(self.resolution, 'x')}"

    @property
    def size(self) -> str:
        """The input's height × width: "224×224"."""
        h, w = hw(self.resolution)
        return f"{h}×{w}"


@dataclass(frozen=True, repr=False)
class Totals(Scaled):
    """A variant's total Mult-Adds and parameters, without its rows (what a sweep keeps)."""

    macs: int
    params: int
    bn: int = 0  # batch-normalized channels, as Row.bn
    convention: str = "paper"  # a sweep's totals count as the paper does

    def params_counted(self, counting: ParamCounting = "weights") -> int:
        """Parameters as a framework counts them (see Analysis.params_counted)."""
        return self.params + BN_PARAMS[counting] * self.bn


@dataclass(frozen=True, repr=False)
class Analysis(Scaled):
    """A traced network: its rows and totals at one α and resolution."""

    rows: tuple[Row, ...]
    convention: str = "paper"  # how the rows' Mult-Adds were counted (mobcost.conventions)
    outputs: tuple[str, ...] = ()  # the rows whose outputs the network returns (default: the last row's)
    image: Resolution | None = None  # the image size asked, where the implementation resizes it (network.resizes)

    @property
    def uncounted(self) -> dict[str, int]:
        """The imported operators mobcost has no rule for (`unknown` rows, 0 Mult-Adds and 0 parameters each), by
        operator: what the totals leave out."""
        return dict(Counter(row.layer.op for row in self.rows if row.kind == "unknown"))

    def sources(self) -> list[tuple[int, ...]]:
        """The tensors each row reads, by index: 0 is the input image, j + 1 is row j's output."""
        index = {"input": 0} | {row.name: j + 1 for j, row in enumerate(self.rows)}
        return [tuple(index[name] for name in row.reads) for row in self.rows]

    @property
    def returned(self) -> tuple[str, ...]:
        """The rows the network returns: its declared outputs, else its last row."""
        return self.outputs or (self.rows[-1].name,)

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

    def breakdown(self, counting: ParamCounting = "weights", by: str = "type") -> dict[str, tuple[int, int]]:
        """Mult-Adds and parameters per layer type (MobileNets Table 2) or per part (backbone, extras, heads), in
        order of first appearance; a group with neither is left out."""
        macs, params = Counter(), Counter()
        for row in self.rows:
            key = row.part if by == "part" else row.category
            macs[key] += row.macs
            params[key] += row.params_counted(counting)
        return {key: (macs[key], params[key]) for key in macs if macs[key] or params[key]}

    def _more(self) -> str:
        return f", {len(self.rows)} rows"

    def to_records(self) -> list[dict]:
        """One dict per layer: name, kind, stride, filter, input and output (h, w, c), Mult-Adds, parameters, the rows
        it reads, its part and its batch."""
        return [row.to_dict() for row in self.rows]

    def to_dict(self, counting: ParamCounting = "weights") -> dict:
        """The analysis for JSON (`mobcost table -f json`): totals and rows, Mult-Adds as this analysis counted them
        and parameters counted as asked."""
        return {"model": self.network.name, "title": self.network.title, "alpha": self.alpha,
                "resolution": self.resolution,
                "totals": {"macs": self.macs, "params": self.params_counted(counting)},
                "outputs": list(self.returned), "layers": [row.to_dict(counting) for row in self.rows]}

    @property
    def parts(self) -> list[str]:
        """The network's parts, in order of first appearance."""
        return list(dict.fromkeys(row.part for row in self.rows))


Resolution = Union[int, tuple[int, int]]
"""An input resolution: one number for a square image, (height, width) otherwise."""


def hw(resolution: Resolution) -> tuple[int, int]:
    """Height and width of a resolution."""
    return (resolution, resolution) if isinstance(resolution, int) else tuple(resolution)


def size_text(resolution: Resolution, times: str = "×") -> str:
    """224 for a square, 240×320 (height × width) otherwise."""
    return str(resolution) if isinstance(resolution, int) else f"{resolution[0]}{times}{resolution[1]}"


def parse_resolution(text: str) -> Resolution:
    """`224`, or height × width as `240x320` (also `240×320`): whole numbers of pixels, read by limits.number_of."""
    parts = text.strip().lower().replace("×", "x").split("x")
    if len(parts) > 2:
        raise MobcostError(f"--res takes pixels, 224, or height × width, 240x320 (found {shown(text)!r})")
    sides = [int(number_of(part, "--res (pixels, 224, or height × width, 240x320)", 1, MAX_PIXELS, whole=True))
             for part in parts]
    return squared(*sides) if len(sides) == 2 else sides[0]


def squared(h: int, w: int) -> Resolution:
    return h if h == w else (h, w)


def with_classes(network: Network, classes: int | None) -> Network:
    """The network with its `classes` replaced (None: as it is)."""
    if classes is None:
        return network
    if not 1 <= classes <= MAX_CHANNELS:
        raise MobcostError(f"--classes takes a number of classes from 1 to {MAX_CHANNELS:,} (found {classes:,}; "
                           f"{MAX_CHANNELS:,} is mobcost's limit, see docs/limits.md)")
    return network.model_copy(update={"classes": classes})


def resolution_of(network: Network, resolution: Resolution | None = None, rho: float | None = None) -> Resolution:
    """The input resolution: given outright (a side, or height × width), or ρ times the spec's on both sides
    (rounded to the nearest pixel)."""
    if resolution is not None and rho is not None:
        raise MobcostError("give the resolution either as --res or as --rho, not both")
    if rho is not None:
        if not 0 < rho < math.inf:
            raise MobcostError(f"the resolution multiplier ρ must be positive and finite (found {rho})")
        resolution = squared(*(max(1, round(Fraction(str(rho)) * side)) for side in hw(network.input.resolution)))
    if resolution is not None:
        for side in hw(resolution):
            if not 1 <= side <= MAX_PIXELS:
                found = f"{side:,}" if abs(side) < 10**24 else "a number of more than 24 digits"
                raise MobcostError(f"the resolution must be a positive number of pixels up to {MAX_PIXELS:,} (found "
                                   f"{found}; {MAX_PIXELS:,} is mobcost's limit, see docs/limits.md)")
        return squared(*hw(resolution))
    return network.input.resolution


def trace(network: Network, alpha: float = 1.0, resolution: Resolution | None = None,
          depth: float | None = None, memo: dict | None = None) -> Analysis:
    """Propagate the input through the graph, in the spec's order, at width multiplier α and the given resolution
    (and depth multiplier, times the network's own). `memo`, shared by traces of one network at one α and depth
    (fit's variants at each resolution), keeps the layers and blocks α built: they depend on the channels their
    input has, never on its height or width (as sweep's replay has it), so each is built once."""
    if network.backbone is not None and not network.included:
        raise MobcostError(f"{network.name}: its backbone {network.backbone.model} is not included; read the spec "
                           "with parse_spec or load_spec, which include it")
    scaling = _scaling(network, alpha, depth)
    image = resolution_of(network, resolution)
    accepted(network, alpha, image, depth)
    resolution = network.resizes or image
    walk = _Walk(network, scaling, resolution, **({} if memo is None else {"built": memo}))
    walk.values.append(Shape(*hw(resolution), network.input.channels))
    walk.layers(network.layers, 0, ("layers",))
    return Analysis(network, Fraction(str(alpha)), resolution, tuple(walk.rows), outputs=walk.outputs(),
                    image=image if network.resizes else None)


def resize_note(scaled) -> str | None:
    """Where the implementation resizes every image before its network: what --res sized, and what was counted."""
    image = getattr(scaled, "image", None)
    if image is None:
        return None
    runs, asked = ("×".join(map(str, hw(size))) for size in (scaled.resolution, image))
    return (f"{scaled.network.title} resizes every image to {runs} before its network (its transform), so the "
            f"network is counted at {runs}: --res sizes the image ({asked}), not the network's input.")


_KNOBS = {"alpha": ("width multiplier", "--alpha"), "resolution": ("input resolution but its own", "--res"),
          "depth": ("depth multiplier", "--depth")}


def accepted(network: Network, alpha: float = 1.0, resolution: Resolution | None = None,
             depth: float | None = None) -> None:
    """Refuse (MobcostError) a width, resolution or depth that the implementation the network follows does not take
    (its `accepts`): such a network is no build of that implementation, and is never shown under its name."""
    if network.accepts is None:
        return
    asked = {"alpha": Fraction(str(alpha)) != 1, "depth": depth is not None and Fraction(str(depth)) != 1,
             "resolution": network.resizes is None and resolution is not None
                           and squared(*hw(resolution)) != network.input.resolution}
    refused = [knob for knob, changed in asked.items() if changed and knob not in network.accepts]
    if not refused:
        return
    what, option = _KNOBS[refused[0]]
    name = f"{network.name}:{network._variant}" if network._variant else network.name
    follows = ", ".join(network.follows) or "its implementation"
    builder = network.builder()
    call = f" ({builder[1].call})" if builder and builder[0] == network._variant else ""
    value = {"alpha": f"α = {float(alpha):g}", "depth": f"depth × {float(depth or 1):g}",
             "resolution": f"{size_text(resolution) if resolution is not None else ''}"}[refused[0]]
    own = (f"; without the variant, `{network.name} {option} …` is mobcost's own rule, shown under mobcost's name"
           if network._variant else "")
    raise MobcostError(f"{name} is {follows}'s network{call}, which takes no {what}: at {value} it would be a "
                       f"network {follows} does not build, so mobcost does not show it under that name{own}")


def _scaling(network: Network, alpha: float, depth: float | None = None) -> Scaling:
    """α times the network's width coefficient; the network's depth coefficient times `depth`."""
    for name, value in (("width multiplier α", alpha), ("depth multiplier", depth)):
        if value is not None and not 0 < value < math.inf:
            raise MobcostError(f"the {name} must be positive and finite (found {value})")
    depth = network.depth * Fraction(str(depth or 1))
    if depth > MAX_MULTIPLIER:
        raise MobcostError(f"the depth multiplier must be at most {MAX_MULTIPLIER} (found {float(depth):g}; "
                           f"{MAX_MULTIPLIER} is mobcost's limit, see docs/limits.md)")
    rounding = network.width_rounding
    return Scaling(Fraction(str(alpha)) * network.width, network.classes,
                   rounding.divisor if isinstance(rounding, MakeDivisible) else None, depth, network.width_arithmetic)


def sweep(network: Network, alphas: Iterable[float], resolutions: Iterable[Resolution]) -> Iterator[Totals]:
    """Totals of every α × resolution, α-major, one at a time, so memory stays flat however large the grid.

    At each α one full trace builds the layers (α applied) and the graph: which rows read which. A block's parts
    depend on its input's channels, never on its height or width, so every other resolution replays the same layers
    over the same graph, keeping sums rather than rows, and costs a layer again only when its input differs from the
    previous resolution's.
    """
    alphas, resolutions = list(alphas), [resolution_of(network, r) for r in resolutions]
    for resolution in resolutions:
        accepted(network, resolution=resolution)
    resolutions = [network.resizes or resolution for resolution in resolutions]  # what the network runs at
    plan_work(network, len(alphas) * len(resolutions), "the sweep", MAX_SWEPT_ROWS)
    for alpha in alphas:
        first = trace(network, alpha, resolutions[0])
        yield summed(first)
        program = list(zip((row.layer for row in first.rows), first.sources(), (row.batch for row in first.rows)))
        last = {}
        for resolution in resolutions[1:]:
            yield _replay(network, Fraction(str(alpha)), resolution, program, last)


def plan_work(network: Network, variants: int, what: str, most: int = MAX_TRACED_ROWS) -> None:
    """Refuse, before the first trace, work beyond what takes about a second (bench/work_plan.py): more than
    MAX_VARIANTS variants (each a row of the table), or more than `most` rows in all: MAX_TRACED_ROWS when each of
    `variants` traces the whole network, MAX_SWEPT_ROWS when sweep replays it at each resolution. So a command's
    time is bounded by what was asked, whatever the spec."""
    if variants > MAX_VARIANTS:
        raise MobcostError(f"{what} has {variants:,} α × resolution variants; expected at most {MAX_VARIANTS:,} "
                           f"{LIMIT}: ask for fewer α and resolution values")
    rows = expanded_rows(network.layers)
    if variants * rows > most:
        how = " in full" if most == MAX_TRACED_ROWS else ""
        raise MobcostError(f"{what} traces {variants:,} variants of {rows:,} or more rows each{how}; expected at "
                           f"most {most:,} rows in all {LIMIT}: ask for fewer α and resolution values")


def summed(analysis: Analysis) -> Totals:
    """An analysis's totals without its rows: what a sweep keeps, so memory grows with variants, not layers."""
    return Totals(analysis.network, analysis.exact_alpha, analysis.resolution, analysis.macs, analysis.params,
                  sum(row.bn for row in analysis.rows), analysis.convention)


def _replay(network: Network, alpha: Fraction, resolution: Resolution, program: list, last: dict) -> Totals:
    """What trace(network, α, resolution) sums to, from the layers, graph and batches a trace at another resolution
    built (a batch never depends on the resolution)."""
    values = [Shape(*hw(resolution), network.input.channels)]
    macs = params = bn = 0
    for i, (layer, reads, batch) in enumerate(program):
        inputs = tuple(values[j] for j in reads)
        y, *cost = _again(last, i, layer, inputs, lambda: _cost(network, alpha, resolution, layer, inputs))
        macs, params, bn = macs + batch * cost[0], params + cost[1], bn + cost[2]
        values.append(y)
    return Totals(network, alpha, resolution, macs, params, bn)


def _again(last: dict, place, item, inputs, compute):
    """compute() for the layer at this place on these inputs, or its result at the previous resolution if the same
    layer had the same inputs (deep layers do at neighbouring resolutions). One entry a place: flat memory."""
    hit = last.get(place)
    if hit is None or hit[0] is not item or hit[1] != inputs:
        hit = last[place] = (item, inputs, compute())
    return hit[2]


def _cost(network: Network, alpha: Fraction, resolution: Resolution, layer: Leaf,
          inputs: tuple[Shape, ...]) -> tuple[Shape, int, int, int]:
    try:
        named = [(str(i), shape) for i, shape in enumerate(inputs)]
        x, y = layer.apply(named)
        layer = layer.joined(named) if isinstance(layer, Join) else layer  # an attend's key positions
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
    """One pass over the spec in its order: expands repeats and blocks, names unnamed layers, resolves `from:`
    names, appends a Row per leaf. Values are the tensors: value 0 is the input image, value j + 1 row j's output.

    Branches and residual blocks recurse with the block's input: each branch, body and shortcut is traced from it
    and names its rows inside the block (`inception3a/b2/conv2`, `layer1.0/shortcut/conv1`), counting unnamed
    layers afresh in each such scope. A block's parts read each other by their names inside the block."""

    network: Network
    scaling: Scaling
    resolution: Resolution
    rows: list = field(default_factory=list)
    values: list = field(default_factory=list)  # the shape of each value
    batches: list = field(default_factory=lambda: [1])  # the items in each value: the input is one image
    names: dict = field(default_factory=lambda: {"input": 0})  # tensor name → value
    counts: defaultdict = field(default_factory=lambda: defaultdict(Counter))
    built: dict = field(default_factory=dict)  # id(layer) → (layer, the layer with α applied): a repeat's layers
    # resolve once, not once per pass; the layer is kept so that its id is not reused while the walk lives
    part: str = "backbone"

    def layers(self, layers, x: int, path: Path_, scope: str = "", suffix: str = "",
               block: str | None = None, repeat: str = "") -> int:
        """Trace layers from value x: `scope` prefixes their names, `suffix` numbers a repeat's passes, and a named
        repeat's name (`repeat`, with its slash) prefixes the names its layers give (stage/dw_start.1)."""
        counts = self.counts[scope]
        for i, layer in enumerate(layers):
            here = path + (i,)
            counts[layer.kind] += 1
            own = repeat + layer.name + suffix if layer.name else \
                f"{_PREFIX.get(layer.kind, layer.kind)}{counts[layer.kind]}"
            name = scope + own
            if layer.name and suffix and name in self.names:
                raise self.network.problem(here, "name", f"{name!r}, the name {layer.name!r} takes in pass "
                                           f"{suffix.rsplit('.', 1)[1]} of its repeat ({layer.name} + .pass), already "
                                           "names an earlier tensor; name the repeat, so that its layers' names are "
                                           "scoped to it (stage/" + layer.name + suffix + "), or rename the layer")
            self.part = layer.part or self.part
            if isinstance(layer.from_, str):
                x = self.lookup(layer.from_, here, scope, suffix, repeat)
            if isinstance(layer, Repeat):
                for k in range(1, self.repeats(layer, here) + 1):
                    x = self.layers(layer.layers, x, here + ("layers",), scope, f"{suffix}.{k}", block,
                                    f"{repeat}{layer.name}/" if layer.name else repeat)
            elif isinstance(layer, Concat) and layer.branches is not None:
                x = self.branches(layer, x, here, name)
            elif isinstance(layer, Residual):
                x = self.residual(layer, x, here, name)
            elif hasattr(layer, "parts"):  # a block: its parts are named block/part and carry the block's name
                unit, parts = self.block(layer, x, here, scope, suffix)
                local = {"input": x}
                for part in parts:
                    reads = self.reads(part, local, x)
                    x = local[part.name] = self.leaf(part, reads, here, f"{name}/{part.name}", name, unit)
            else:
                reads = (x,) if not isinstance(layer, Join) or not isinstance(layer.from_, list) else tuple(
                    self.lookup(source, here, scope, suffix, repeat) for source in layer.from_)
                if getattr(layer, "size_of", None):
                    reads += (self.lookup(layer.size_of, here, scope, suffix, repeat),)
                if isinstance(layer, Join) and layer.reads_list and not layer.from_:
                    raise self.network.problem(here, "from", f"a {layer.kind} reads two or more tensors: list their "
                                                             "names, e.g. `from: [a, b]`")
                x = self.leaf(layer, reads, here, name, block)
            if layer.name:
                self.name(name, x, here)
            else:
                self.names.setdefault(name, x)  # an unnamed block is read by its row prefix: `from: bneck4`
        return x

    def lookup(self, name: str, path: Path_, scope: str, suffix: str, repeat: str = "") -> int:
        """The value a `from:` name reads: a tensor named in this scope and repeat pass first, then anywhere."""
        for candidate in (scope + repeat + name + suffix, scope + name + suffix, scope + name, name):
            if candidate in self.names:
                return self.names[candidate]
        known = [n for n in self.names if "/" not in n]
        raise self.network.problem(path, "from", f"no earlier tensor is named {shown(name)!r}; a layer reads only tensors "
                                                 f"written before it{did_you_mean(name, known)}")

    def name(self, name: str, value: int, path: Path_) -> None:
        if name in self.names and self.names[name] != value:
            what = "the network's input" if name == "input" else "an earlier tensor"
            raise self.network.problem(path, "name", f"{shown(name)!r} already names {what}; names are unique in a network")
        self.names[name] = value

    def repeats(self, layer: Repeat, path: Path_) -> int:
        """A repeat's count times the depth coefficient, rounded up."""
        return self.scaling.repeats(layer.repeat)

    def reads(self, part, local: dict, x: int) -> tuple[int, ...]:
        """The values a block's part reads: the parts its `from:` names (or `input`), else the previous part."""
        sources = [part.from_] if isinstance(part.from_, str) else part.from_
        return tuple(local[source] for source in sources) if sources else (x,)

    def block(self, layer, x: int, path: Path_, scope: str, suffix: str) -> tuple:
        """A block with α applied and its parts, built once per input channels (kept in `built`, which a memo may
        share between traces at one α)."""
        base = getattr(layer, "squeeze_from", None)  # an SE squeezing from another tensor: its channels too
        key = ("block", id(layer), scope, suffix, self.values[x].c,
               base and self.values[self.lookup(base, path, scope, suffix)].c)
        if key not in self.built:
            unit = layer.resolve(self.scaling)  # α first: a block's parts depend on its resolved widths
            if getattr(unit, "n", 1) > MAX_LAYERS:
                raise self.network.problem(path, "n", f"expected at most {MAX_LAYERS:,} layers once repeats are "
                                                      f"multiplied out {LIMIT}; this block repeats {unit.n:,} times")
            self.built[key] = (layer, unit, self.parts(unit, x, path, scope, suffix))
        return self.built[key][1:]

    def parts(self, unit, x: int, path: Path_, scope: str, suffix: str) -> tuple:
        try:
            if isinstance(unit, SqueezeExcite) and unit.squeeze_from:
                return unit.parts(self.values[x], self.values[self.lookup(unit.squeeze_from, path, scope, suffix)].c)
            return unit.parts(self.values[x])
        except ValidationError as e:  # a part past a limit, such as an expansion t·c of more channels than allowed
            error = e.errors(include_url=False)[0]
            raise self.network.problem(path, None, f"expands to a part whose {error['loc'][0]} is {error['input']}: "
                                                   f"{error['msg']} (input {self.values[x]})") from None
        except ShapeError as e:
            raise self.network.problem(path, e.field, f"{e} (input {self.values[x]})") from None

    def branches(self, layer: Concat, x: int, path: Path_, name: str) -> int:
        """Every branch from x, then a concat row reading their outputs."""
        outs = [self.layers(branch, x, path + ("branches", b), f"{name}/b{b + 1}/", block=name)
                for b, branch in enumerate(layer.branches)]
        if len({(self.values[y].h, self.values[y].w) for y in outs}) > 1:
            raise self.network.problem(path, "branches", "branch outputs must share their height and width to be "
                                       f"concatenated; they are {', '.join(str(self.values[y]) for y in outs)} "
                                       f"(input {self.values[x]})")
        return self.leaf(Concat(), tuple(outs), path, f"{name}/concat", name)

    def residual(self, layer: Residual, x: int, path: Path_, name: str) -> int:
        """The body and the shortcut from x, then an add row of their common shape."""
        body = self.layers(layer.layers, x, path + ("layers",), f"{name}/", block=name)
        shortcut = self.layers(layer.shortcut, x, path + ("shortcut",), f"{name}/shortcut/", block=name)
        if self.values[body] != self.values[shortcut]:
            raise self.network.problem(path, "shortcut", f"the body gives {self.values[body]} but the shortcut gives "
                                       f"{self.values[shortcut]} (input {self.values[x]}); they must match to be added, "
                                       "so give the shortcut a 1×1 projection conv with the body's stride and channels")
        add = Add(from_=["body", "shortcut"], act=getattr(layer, "act", None),
                  functional=layer.functional)  # ResNet's ReLU after the add
        return self.leaf(add, (body, shortcut), path, f"{name}/add", name)

    def leaf(self, layer: Leaf, reads: tuple[int, ...], path: Path_, name: str, block: str | None, unit=None) -> int:
        """One row reading the given values; its output is the next value."""
        if len(self.rows) == MAX_LAYERS:  # before expanding one more: blocks the load-time count did not multiply
            raise self.network.problem(path[:2], None, f"expected at most {MAX_LAYERS:,} layers once repeats and "
                                                       f"blocks are expanded {LIMIT}; this layer expands to more")
        built = self.built.get(id(layer), (None, None))[1]
        if built is None:
            built = layer.resolve(self.scaling)
            self.built[id(layer)] = (layer, built)
        built = built.fitted(self.values[reads[0]]) if reads else built
        sources = tuple(self.rows[j - 1].name if j else "input" for j in reads)
        try:
            names = layer.from_ if isinstance(layer, Join) and isinstance(layer.from_, list) \
                and len(layer.from_) == len(reads) else sources
            inputs = [(name, self.values[j]) for name, j in zip(names, reads)]
            x, y = built.apply(inputs)
            if isinstance(built, Join):
                built = built.joined(inputs)
            _check_limits(y)
        except ShapeError as e:  # blamed on the field only if the layer has it (a flatten has no `out`)
            field = e.field if e.field in type(built).model_fields else None
            x = " and ".join(str(self.values[j]) for j in reads)
            raise self.network.problem(path, field, f"{e} (input {x}, α = {float(self.scaling.alpha):g}, "
                                                      f"at resolution {size_text(self.resolution)})") from None
        if name in self.names:
            raise self.network.problem(path, "name", f"{shown(name)!r} already names an earlier tensor; names are unique "
                                                     "in a network")
        batch = self.batch(built, reads, sources, path)
        self.rows.append(Row(name, built, x, y, batch * built.macs(x), built.params(x), block, built.bn_channels(x),
                             unit, sources, self.part, batch))
        self.values.append(y)
        self.batches.append(batch)
        self.names[name] = len(self.values) - 1
        return len(self.values) - 1

    def batch(self, layer: Leaf, reads: tuple[int, ...], sources: tuple[str, ...], path: Path_) -> int:
        """The items a row computes: its inputs' common batch, or the batch of crops it makes (Upsample.batch). A
        join's inputs must agree; an upsample's `size_of` tensor is read for its size only."""
        data = reads if isinstance(layer, Join) else reads[:1]
        batches = [self.batches[j] for j in data] or [1]
        for source, batch in zip(sources[1:], batches[1:]):
            if batch != batches[0]:
                raise self.network.problem(path, "from", f"cannot {layer.kind} {shown(sources[0])!r} ({_items(batches[0])}) "
                                           f"and {shown(source)!r} ({_items(batch)}): the tensors a layer joins must be "
                                           "batches of the same size")
        if not getattr(layer, "batch", None):
            return batches[0]
        if batches[0] != 1:
            raise self.network.problem(path, "batch", f"{shown(sources[0])!r} is already {_items(batches[0])}; a batch of "
                                                      "crops is cut from one tensor")
        return layer.batch

    def outputs(self) -> tuple[str, ...]:
        """The network's declared outputs, as the rows that write them."""
        found = []
        for i, name in enumerate(self.network.outputs):
            if name not in self.names:
                raise self.network.problem(("outputs", i), None, f"no tensor is named {shown(name)!r}"
                                                                 f"{did_you_mean(name, [n for n in self.names if '/' not in n])}")
            value = self.names[name]
            found.append(self.rows[value - 1].name if value else "input")
        return tuple(found)


def _items(batch: int) -> str:
    return "one tensor" if batch == 1 else f"a batch of {batch:,}"


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
