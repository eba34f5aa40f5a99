"""The network spec: what a YAML spec may say (Network, Variant, Reference, Budget) and how it is validated."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, PositiveInt,
                      PrivateAttr, Tag, TypeAdapter, ValidationError, WithJsonSchema)

from mobcost.layers import Bottleneck, Concat, Layer, Ratio, Repeat, Residual, Separable
from mobcost.limits import LIMIT, MAX_COUNT, MAX_LAYERS, MAX_MULTIPLIER, ChannelCount, Pixels
from mobcost.spec.errors import MobcostError, Path_, Problem, SpecError
from mobcost.spec.locate import did_you_mean, error_message, error_problem, merged, problem_at
from mobcost.spec.yaml import compose, read_spec_file

ParamCounting = Literal["weights", "torch", "keras"]
"""How parameters are counted: weights and declared biases (the papers'); plus batch-norm γ and β (PyTorch's
`sum(p.numel() for p in model.parameters())`); plus batch-norm running mean and variance (Keras' `count_params()`)."""
BN_PARAMS: dict[str, int] = {"weights": 0, "torch": 2, "keras": 4}  # parameters per batch-normalized channel


# ---- sizes: 150M, 1.5G, 2.5e6, 300k -------------------------------------------------------------------------

_SUFFIX = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}


def parse_size(value: str | int | float) -> int:
    """An exact count from `150M`, `1.5G`, `2.5e6`, `300k` or a plain number."""
    text = str(value).strip().replace("_", "").replace(",", "")
    match = re.fullmatch(r"([0-9.eE+-]+)\s*([kKMGBT]?)", text)
    try:
        number = Decimal(match[1]) * _SUFFIX[match[2]] if match else None
    except ArithmeticError:  # decimal's InvalidOperation, Overflow
        number = None
    if number is None or number < 0 or number > MAX_COUNT or number != number.to_integral_value():
        raise ValueError(f"not a size: expected a whole count up to {MAX_COUNT:.0e}, such as 150M, "
                         "1.5G, 2.5e6 or 300k")
    return int(number)


Size = Annotated[int, BeforeValidator(parse_size), WithJsonSchema({
    "anyOf": [{"type": "number", "minimum": 0},
              {"type": "string", "pattern": r"^\s*[0-9.eE+-]+\s*[kKMGBT]?\s*$"}],
    "description": "A count: 150M, 1.5G, 2.5e6, 300k or a plain number (k = 10³, M = 10⁶, G = B = 10⁹)."})]


def _printed(value) -> str:
    text = str(value)
    if not re.fullmatch(r"\d{1,15}(\.\d{1,9})?[MB]?", text):
        raise ValueError('expected a figure as printed, such as "569", "4.2" or "0.39B" (up to 15 digits and 9 '
                         'decimals; millions unless it ends in B for billions)')
    return text


Printed = Annotated[str, BeforeValidator(_printed), WithJsonSchema({
    "anyOf": [{"type": "string", "pattern": r"^\s*-?[0-9]*\.?[0-9]+[MB]?\s*$"}, {"type": "number"}],
    "description": "A published figure as printed, in millions, or in billions with a B (\"0.39B\"); quote it to "
                   "keep trailing zeros (\"4.20\")."})]
"""A published figure exactly as printed (quote it in YAML to keep trailing zeros): its digits give its precision."""


# ---- the spec -----------------------------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _square(value):
    return value[0] if isinstance(value, tuple) and value[0] == value[1] else value


Resolution = Annotated[Union[Annotated[Pixels, Tag("side")], Annotated[tuple[Pixels, Pixels], Tag("pair")]],
                       Discriminator(lambda v: "pair" if isinstance(v, (list, tuple)) else "side"),
                       AfterValidator(_square)]
"""An input resolution: a side in pixels, or [height, width]."""

def _at_most_multiplier(value):
    if value > MAX_MULTIPLIER:
        raise ValueError(f"expected a multiplier of at most {MAX_MULTIPLIER} {LIMIT}; found {float(value):g}")
    return value


Multiplier = Annotated[Ratio, AfterValidator(_at_most_multiplier)]
"""A width or depth coefficient, an exact ratio (1.1, "11/10") up to MAX_MULTIPLIER."""


class Input(_Strict):
    resolution: Resolution  # a side, or [height, width]
    channels: ChannelCount = 3


class MakeDivisible(_Strict):
    divisor: ChannelCount = 8


class Variant(_Strict):
    """A named edit of the network: a paper's comparison model derived from the same spec."""

    title: str
    full_conv: bool = False  # every separable block becomes one full k×k conv (MobileNets Table 4)
    drop: list[str] = []  # top-level layers removed by name (MobileNets Table 5, "Shallow MobileNet")
    set: dict[str, dict[str, Any]] = {}  # top-level layer name → fields changed, e.g. a paper's head width
    width: Multiplier | None = None  # compound scaling (EfficientNet §3.3): replaces the network's `width`
    depth: Multiplier | None = None  # replaces the network's `depth`
    resolution: Resolution | None = None  # replaces the input resolution


class Reference(_Strict):
    """A published row: the figures a source prints for one variant, at their printed precision."""

    source: str
    label: str
    variant: str | None = None
    alpha: float = Field(1.0, gt=0)
    resolution: Resolution | None = None  # a side, or [height, width]
    accuracy: float | None = None
    macs: Printed | None = None  # million Mult-Adds, or billion with `macs_unit: billion`
    params: Printed | None = None  # million parameters
    macs_unit: Literal["million", "billion"] = "million"  # detection and segmentation tables print billions
    parts: list[str] = []  # count only these parts' rows: a paper's figures for a detector's extra layers and heads
    shares: dict[Literal["macs", "params"], dict[str, Printed]] = {}  # percent per layer type (Table 2)
    rounding: Literal["nearest", "down", "up"] = "nearest"
    counting: ParamCounting | None = None  # how the source counts parameters (default: the check's --params)
    classes: PositiveInt | None = None  # the source's classifier width, e.g. 1001 where TF-slim adds a background class
    errata: dict[str, str] = {}  # figure key ("macs", "params:Conv 3×3") → why the source disagrees


class Budget(_Strict):
    """Limits a CI pipeline holds the model to."""

    max_macs: Size | None = None
    max_params: Size | None = None
    variant: str | None = None
    alpha: float = Field(1.0, gt=0)
    resolution: Pixels | None = None


class Network(_Strict):
    """A whole network: its input, classes, width-rounding rule, layers, and the figures it must reproduce."""

    name: str
    title: str
    aliases: list[str] = []
    source: str | None = None
    input: Input
    classes: ChannelCount = 1000
    width_rounding: Union[Literal["int"], MakeDivisible] = "int"
    width: Multiplier = Fraction(1)  # compound scaling's width coefficient: multiplies α
    depth: Multiplier = Fraction(1)  # compound scaling's depth coefficient: repeats = ceil(n · depth)
    layers: list[Layer] = Field(min_length=1)
    outputs: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field([], max_length=64)
    """The tensors the network returns, by name (default: the last layer's output)."""
    variants: dict[str, Variant] = {}
    reference: list[Reference] = []
    budget: Budget | None = None

    _file: str = PrivateAttr("<spec>")
    _positions: dict = PrivateAttr(default_factory=dict)

    def problem(self, path: Path_, field: str | None, message: str) -> SpecError:
        """A SpecError at a place in this spec (a path of keys and indices into the YAML)."""
        return SpecError([self._at(path, field, message)])

    def _at(self, path: Path_, field: str | None, message: str) -> Problem:
        return problem_at(self._file, self._data(), self._positions, path, field, message)

    def _semantic_problems(self) -> list[Problem]:
        """Names the spec uses that it does not define (variants' layers, references' and the budget's variants),
        and a network too large to expand."""
        found = [self._at(("variants", key, unknown[0]), None, unknown[1])
                 for key, edit in self.variants.items() if (unknown := self._unknown_layer(edit))]
        uses = [(("reference", i, "variant"), ref.variant) for i, ref in enumerate(self.reference)]
        uses.append((("budget", "variant"), self.budget and self.budget.variant))
        variants = ", ".join(self.variants) or "none defined"
        found += [self._at(path, None, f"expected a variant of this spec ({variants}); found {name!r}"
                                            f"{did_you_mean(name, self.variants)}") for path, name in uses
                  if name is not None and name not in self.variants]
        if _rows(self.layers) > MAX_LAYERS:  # before any expanding: `repeat: 1000000000` fails here at once
            biggest = max(range(len(self.layers)), key=lambda i: _rows(self.layers[i:i + 1]))
            found.append(self._at(("layers", biggest), None, f"expected at most {MAX_LAYERS:,} layers once repeats "
                                                             f"are multiplied out {LIMIT}; this layer expands to more"))
        return found

    def _unknown_layer(self, edit: Variant) -> tuple[str, str] | None:
        """The first name a variant drops or sets that no top-level layer has: (its field, the message)."""
        known = [layer.name for layer in self.layers if layer.name]
        for field in ("drop", "set"):
            if missing := [name for name in getattr(edit, field) if name not in known]:
                return field, (f"no top-level layer is named {missing[0]!r}; expected one of: "
                               f"{', '.join(known) or 'none has a name'}{did_you_mean(missing[0], known)}")
        return None

    def accuracy(self, variant: str | None, alpha, resolution: int) -> tuple[float, str] | None:
        """The first published accuracy for this variant, α and resolution, with its source."""
        for ref in self.reference:
            if (ref.accuracy is not None and ref.variant == variant
                    and (ref.resolution or self.input.resolution) == resolution and ref.alpha == alpha):
                return ref.accuracy, ref.source
        return None

    def _data(self):
        return self.model_dump(mode="python", exclude_none=False, by_alias=True)

    def variant(self, key: str | None) -> Network:
        """This network with a named variant's edits applied."""
        if key is None:
            return self
        if key not in self.variants:
            raise MobcostError(f"{self._file}: {self.name} has no variant {key!r}; "
                               f"it has: {', '.join(self.variants) or 'none'}")
        edit = self.variants[key]
        if unknown := self._unknown_layer(edit):
            raise self.problem(("variants", key, unknown[0]), None, unknown[1])
        layers = [self._set(layer, edit.set.get(layer.name), key)
                  for layer in self.layers if layer.name not in edit.drop]
        scaled = {key: value for key, value in (("width", edit.width), ("depth", edit.depth)) if value is not None}
        if edit.resolution is not None:
            scaled["input"] = self.input.model_copy(update={"resolution": edit.resolution})
        net = self.model_copy(update={"layers": [_edited(layer, edit) for layer in layers], "title": edit.title,
                                      **scaled})
        net._file, net._positions = self._file, {}
        return net

    def _set(self, layer, changes: dict | None, key: str):
        """A layer with a variant's field changes, validated as the layer it becomes."""
        if not changes:
            return layer
        try:
            return TypeAdapter(Layer).validate_python({**layer.model_dump(exclude_none=True, by_alias=True), **changes})
        except ValidationError as e:
            err = e.errors(include_url=False)[0]
            where = ".".join(map(str, (layer.name, *err["loc"][1:2])))  # the layer kind's tag, then the field
            raise self.problem(("variants", key, "set", layer.name), "set", f"{where}: {error_message(err)}") from None


def _rows(layers) -> int:
    """Rows the layers expand to with repeats multiplied out, a block counted once per repeat (trace.trace holds
    the exact count to the same limit); capped just past the limit, so that nested repeats build no huge number."""
    total = 0
    for layer in layers:
        if isinstance(layer, Repeat):
            total += layer.repeat * _rows(layer.layers)
        elif isinstance(layer, Residual):
            total += _rows(layer.layers) + _rows(layer.shortcut) + 1
        elif isinstance(layer, Concat) and layer.branches:
            total += sum(map(_rows, layer.branches)) + 1
        else:
            total += layer.n if isinstance(layer, Bottleneck) else 1
    return min(MAX_LAYERS + 1, total)


def _edited(layer, edit: Variant):
    """A layer with a variant's full_conv edit applied, inside repeats, branches and residual blocks too."""
    def edit_all(layers):
        return [_edited(inner, edit) for inner in layers]

    if isinstance(layer, Repeat):
        return layer.model_copy(update={"layers": edit_all(layer.layers)})
    if isinstance(layer, Concat) and layer.branches:
        return layer.model_copy(update={"branches": [edit_all(branch) for branch in layer.branches]})
    if isinstance(layer, Residual):
        return layer.model_copy(update={"layers": edit_all(layer.layers), "shortcut": edit_all(layer.shortcut)})
    if isinstance(layer, Separable) and edit.full_conv:
        return layer.as_conv()
    return layer


def spec_schema() -> dict:
    """The JSON Schema of the spec format, generated from the pydantic models (`mobcost schema`)."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **Network.model_json_schema()}


# ---- loading ------------------------------------------------------------------------------------------------

def load_spec(path: str | Path) -> Network:
    """Read, parse and validate one YAML spec."""
    return parse_spec(read_spec_file(Path(path)), str(path))


def parse_spec(text: str, file: str = "<spec>") -> Network:
    """Parse and validate a spec given as YAML text."""
    data, positions, repeated = compose(text, file)
    if not isinstance(data, dict):
        found = "an empty file" if data is None else f"a YAML {type(data).__name__}"
        raise SpecError([Problem(file, f"expected a mapping with 'name', 'title', 'input' and 'layers'; found {found}",
                                 *positions.get((), (None, None)))])
    problems = [problem_at(file, data, positions, path, None, "repeats a key: expected each key once in a mapping "
                         "(YAML would silently keep only the last)") for path in repeated]
    try:
        net = Network.model_validate(data)
    except ValidationError as e:
        problems += [error_problem(file, data, positions, err) for err in e.errors(include_url=False)]
        raise SpecError(merged(problems)) from None
    net._file, net._positions = file, positions
    problems += net._semantic_problems()
    if problems:
        raise SpecError(problems)
    return net
