"""The network spec: what a YAML spec may say (Network, Variant, Reference, Budget) and how it is validated."""

from __future__ import annotations

import re
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, PrivateAttr, Tag, TypeAdapter, ValidationError, WithJsonSchema)

from mobcost.layers import (LAYER_KINDS, Arithmetic, Bottleneck, Concat, Layer, MakeDivisible, Ratio, Repeat, Residual, Rounding,
                            Separable)
from mobcost.limits import (LIMIT, MAX_COUNT, MAX_LAYERS, MAX_MULTIPLIER, MAX_NODES, ChannelCount, PixelPair, Pixels,
                            decimal_of)
from mobcost.errors import MAX_PROBLEMS, MobcostError, Path_, Problem, SpecError, listed, shown
from mobcost.language.locate import did_you_mean, error_message, error_problem, merged, problem_at
from mobcost.language.shipped import builtin, builtin_models
from mobcost.language.yaml import compose, read_spec_file

LAYER_TAGS = [kind.model_fields["kind"].default for kind in LAYER_KINDS]
ParamCounting = Literal["weights", "folded", "torch", "keras"]
"""How parameters are counted: weights and declared biases (the papers'); plus batch-norm γ and β (PyTorch's
`sum(p.numel() for p in model.parameters())`); plus batch-norm running mean and variance (Keras' `count_params()`);
or, folded, one bias per batch-normalized channel: batch norm folded into the layer before it, as a deployed model
(TFLite, Core ML, Metal) stores it."""
BN_PARAMS: dict[str, int] = {"weights": 0, "folded": 1, "torch": 2, "keras": 4}  # parameters per batch-normalized channel


# ---- sizes: 150M, 1.5G, 2.5e6, 300k -------------------------------------------------------------------------

_SUFFIX = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}


def parse_size(value: str | int | float) -> int:
    """An exact count from `150M`, `1.5G`, `2.5e6`, `300k` or a plain number."""
    text = str(value).strip().replace("_", "").replace(",", "")
    match = re.fullmatch(r"(.*?)\s*([kKMGBT]?)", text)
    number = decimal_of(match[1]) if match and not isinstance(value, bool) else None
    if number is not None:
        number *= _SUFFIX[match[2]]
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
    if not re.fullmatch(r"[0-9]{1,15}(\.[0-9]{1,9})?", text):
        raise ValueError('expected a figure as printed, such as "569" or "4.2" (up to 15 digits and 9 decimals)')
    return text


Printed = Annotated[str, BeforeValidator(_printed), WithJsonSchema({
    "anyOf": [{"type": "string", "pattern": r"^\s*[0-9]*\.?[0-9]+\s*$"}, {"type": "number"}],
    "description": "A published figure as printed (in millions, or billions with `macs_unit: billion`); quote it to "
                   "keep trailing zeros (\"4.20\")."})]
"""A published figure exactly as printed (quote it in YAML to keep trailing zeros): its digits give its precision."""


def _as_written(value) -> str:
    """A field's value as a spec writes it: a mapping by the fields it sets (`{divisor: 8}`), a word as itself."""
    if isinstance(value, BaseModel):
        fields = value.model_dump(include=value.model_fields_set or None)
        return "{" + ", ".join(f"{k}: {v}" for k, v in fields.items()) + "}"
    return str(value)


# ---- the spec -----------------------------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)  # as layers._Kind


def _square(value):
    return value[0] if isinstance(value, tuple) and value[0] == value[1] else value


Resolution = Annotated[Union[Annotated[Pixels, Tag("side")], Annotated[PixelPair, Tag("pair")]],
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


Implementation = Literal["paper", "tf-slim", "keras", "torchvision", "timm"]
"""The implementations a network may follow; `--params torch` and `--params keras` say so when the network shown
is not the one torchvision or Keras builds."""
LIBRARY = {"torch": "torchvision", "keras": "keras"}  # parameter counting → the library whose network it implies


class Builder(_Strict):
    """How a library builds this network, for `mobcost verify MODEL --against LIBRARY`."""

    call: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")  # MODULE:CALLABLE returning the model
    alpha: str | None = None  # the keyword that takes α (torchvision's width_mult); None: the builder takes no α
    args: dict[str, Union[bool, int, float, str, None]] = {}
    """Further keywords, e.g. GoogLeNet's `aux_logits: false`, or `weights_backbone: null` (None: no download)."""


Knob = Literal["alpha", "resolution", "depth"]
"""What a user may change of a network: its width multiplier α, its input resolution, its depth multiplier."""


class Variant(_Strict):
    """A named edit of the network: a paper's comparison model, or another implementation's build of the same
    network, declared as its differences from the spec (never a second copy of it)."""

    title: str
    follows: list[Implementation] = []  # the implementations this variant is (default: the network's)
    builder: Builder | None = None  # how the implementation it follows builds it (verify --against)
    full_conv: bool = False  # every separable block becomes one full k×k conv (MobileNets Table 4)
    drop: list[str] = []  # top-level layers removed by name (MobileNets Table 5, "Shallow MobileNet")
    set: dict[str, dict[str, Any]] = {}  # top-level layer name → fields changed, e.g. a paper's head width
    each: dict[str, dict[str, Any]] = {}  # layer kind → fields changed on every layer of that kind, at any depth
    width_arithmetic: Arithmetic | None = None  # replaces the network's (its implementation's arithmetic)
    accepts: list[Knob] | None = None  # replaces the network's: what the implementation it follows takes
    resizes: Resolution | None = None  # replaces the network's: the size the implementation resizes every image to
    width: Multiplier | None = None  # compound scaling (EfficientNet §3.3): replaces the network's `width`
    depth: Multiplier | None = None  # replaces the network's `depth`
    resolution: Resolution | None = None  # replaces the input resolution


_MODEL = re.compile(r"[A-Za-z0-9_-]{1,100}(:[A-Za-z_][A-Za-z0-9_-]{0,99})?", re.ASCII)


def _model_name(value):
    if not isinstance(value, str) or not _MODEL.fullmatch(value):
        raise ValueError("expected a shipped model's name or alias, optionally with a variant (mobilenet_v2, "
                         "v3_large:torchvision); a backbone is never a path: only the configs mobcost ships are "
                         "included")
    return value


ModelName = Annotated[str, BeforeValidator(_model_name), WithJsonSchema({
    "type": "string", "pattern": f"^{_MODEL.pattern}$",
    "description": "A shipped config's name or alias, optionally :variant (`mobcost models` lists them)."})]


class Backbone(_Strict):
    """A shipped network's top-level layers as this network's first ones, up to and including `through`, edited as a
    variant edits layers (`drop`, `set`, `each`): the head reads them by name instead of repeating them."""

    model: ModelName  # a shipped config's name or alias, optionally :variant (v3_large:torchvision); never a path
    through: str | None = None  # the last top-level layer kept, by name (default: every layer)
    drop: list[str] = []  # top-level layers removed by name
    set: dict[str, dict[str, Any]] = {}  # top-level layer name → fields changed, e.g. {c4: {stride: 1, dilation: 2}}
    each: dict[str, dict[str, Any]] = {}  # layer kind → fields changed on every included layer of that kind


INHERITED = ("width_rounding", "width_arithmetic", "width", "depth")
"""What a network takes from its backbone: one network has one rounding rule and one pair of scaling coefficients,
so that its backbone's rows are the shipped network's at every α."""


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
    classes: ChannelCount | None = None  # the source's classifier width, e.g. 1001 where TF-slim adds a background class
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
    follows: list[Implementation] = []  # the implementations the network as written is (variants name the others)
    input: Input
    classes: ChannelCount = 1000
    width_rounding: Rounding = "int"
    width_arithmetic: Arithmetic = "exact"  # α·c exactly, or as the implementation's float product (layers.Arithmetic)
    accepts: list[Knob] | None = None
    """What the implementation the network follows lets a user change (α, resolution, depth); a request outside is
    refused (exit 2), never shown under that implementation's name. None: all three, by mobcost's own rules."""
    resizes: Resolution | None = None
    """The size the implementation resizes every image to before its network (torchvision's SSD transform: 320):
    the network is counted at this size, whatever --res asks, and a note says so."""
    width: Multiplier = Fraction(1)  # compound scaling's width coefficient: multiplies α
    depth: Multiplier = Fraction(1)  # compound scaling's depth coefficient: repeats = ceil(n · depth)
    backbone: Backbone | None = None  # a shipped network whose layers come first (the three fields above: its own)
    layers: list[Layer] = Field(min_length=1)
    outputs: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field([], max_length=64)
    """The tensors the network returns, by name (default: the last layer's output)."""
    variants: dict[str, Variant] = {}
    reference: list[Reference] = []
    budget: Budget | None = None

    _file: str = PrivateAttr("<spec>")
    _positions: dict = PrivateAttr(default_factory=dict)
    _source: Any = PrivateAttr(None)  # the data as read from the YAML, which the positions describe
    _variant: str | None = PrivateAttr(None)  # the variant applied, if any
    _included: tuple = PrivateAttr(("", ()))  # the backbone's name; each included layer's index and name there

    @property
    def included(self) -> str | None:
        """The backbone whose layers this network's first layers are, once included (parse_spec includes them)."""
        return self._included[0] or None

    @property
    def file(self) -> str:
        """The file the spec was read from (`<spec>` for text, `<stdin>` for standard input)."""
        return self._file

    def line(self, path: Path_) -> int | None:
        """The line of a value in the spec's file by its path of keys and indices, e.g. ("budget", "max_macs")."""
        return self._positions.get(tuple(path), (None,))[0]

    def problem(self, path: Path_, field: str | None, message: str) -> SpecError:
        """A SpecError at a place in this spec (a path of keys and indices into the YAML)."""
        return SpecError([self._at(path, field, message)])

    def _at(self, path: Path_, field: str | None, message: str) -> Problem:
        model, origins = self._included
        if origins and path[:1] == ("layers",) and len(path) > 1 and isinstance(path[1], int):
            if path[1] >= len(origins):  # the network's own layers: their place in its `layers`
                path = ("layers", path[1] - len(origins), *path[2:])
            else:  # an included layer: at the backbone's edit of it, else at `backbone`; named as the backbone does
                index, name = origins[path[1]]
                edited = ("backbone", "set", name) if name in self.backbone.set else ("backbone",)
                at = problem_at(self._file, self._data(), self._positions, edited, None, "")
                what = repr(name) if name else getattr(self.layers[path[1]], "kind", "repeat")
                return Problem(self._file, message, at.line, at.column,
                               f"layer layers[{index}] ({what}) of the backbone {model}", field)
        return problem_at(self._file, self._data(), self._positions, path, field, message)

    def _semantic_problems(self) -> tuple[list[Problem], int]:
        """Names the spec uses that it does not define (variants' layers, references' and the budget's variants),
        and a network too large to expand: the base network and every variant, each as it will be traced. Bad
        names are found first, cheaply; only the first MAX_PROBLEMS are worded (with a closest-name suggestion),
        the rest counted."""
        found = [self._too_many_rows(self.layers, ("layers",))]
        by_name: dict[str, list] = {}  # top-level layers by name, for each variant's edits: no variant is built
        for layer in self.layers:
            by_name.setdefault(layer.name, []).append(layer)
        total = expanded_rows(self.layers)
        # `each` edits layers at any depth, so such a variant is built to be validated and counted: bounded here
        each = [key for key, edit in self.variants.items() if edit.each]
        if len(each) * written_layers(self.layers) > MAX_NODES:
            found.append(self._at(("variants", each[0], "each"), None,
                                  f"expected at most {MAX_NODES:,} layers edited by `each` in all {LIMIT}; "
                                  f"found {len(each):,} variants over {written_layers(self.layers):,} layers"))
            each = []
        for key, edit in self.variants.items():
            if (unknown := self._unknown_layer(edit)) is not None:
                found.append(lambda key=key, unknown=unknown: self._at(("variants", key, unknown[0]), None,
                                                                        self._unknown_message(*unknown)))
                continue
            if edit.each:
                if key in each:
                    try:
                        if expanded_rows(self.variant(key).layers) > MAX_LAYERS:
                            found.append(self._at(("variants", key, "each"), None,
                                                  f"expected at most {MAX_LAYERS:,} layers once repeats are "
                                                  f"multiplied out {LIMIT}; this variant expands to more"))
                    except SpecError as e:
                        found += e.problems[:1]
                        continue
            try:  # each set layer validated as the layer it becomes
                edited = {name: [self._set(layer, edit.set[name], ("variants", key, "set", name), name)
                                 for layer in by_name[name]]
                          for name in edit.set if name not in edit.drop}
            except SpecError as e:
                found += e.problems[:1]
                continue
            dropped = set(edit.drop)
            if sum(len(by_name[name]) for name in dropped) == len(self.layers):
                found.append(self._at(("variants", key, "drop"), None, "drops every layer; expected at least one "
                                                                       "layer to remain"))
            rows = (total - sum(expanded_rows(by_name[name]) for name in dropped | edited.keys())
                    + sum(expanded_rows(layers) for layers in edited.values()))
            if rows > MAX_LAYERS and not edit.each:  # an `each` variant was counted as built, above
                biggest = max(edited, key=lambda name: expanded_rows(edited[name]), default=None)
                found.append(self._at(("variants", key) + (("set", biggest) if biggest else ()), None,
                                      f"expected at most {MAX_LAYERS:,} layers once repeats are multiplied out "
                                      f"{LIMIT}; this variant expands to more"))
        uses = [(("reference", i, "variant"), ref.variant) for i, ref in enumerate(self.reference)]
        uses.append((("budget", "variant"), self.budget and self.budget.variant))
        found += [lambda path=path, name=name: self._at(path, None, f"expected a variant of this spec "
                                                                    f"({listed(self.variants, 'none defined')}); "
                                                                    f"found {shown(name)!r}"
                                                                    f"{did_you_mean(name, self.variants)}")
                  for path, name in uses if name is not None and name not in self.variants]
        found = [problem for problem in found if problem is not None]
        return [p if isinstance(p, Problem) else p() for p in found[:MAX_PROBLEMS]], max(0, len(found) - MAX_PROBLEMS)

    def _too_many_rows(self, layers, path: Path_) -> Problem | None:
        """Before any expanding: `repeat: 1000000000` fails here at once."""
        if expanded_rows(layers) <= MAX_LAYERS:
            return None
        biggest = max(range(len(layers)), key=lambda i: expanded_rows(layers[i:i + 1]))
        return self._at((*path, biggest), None, f"expected at most {MAX_LAYERS:,} layers once repeats are multiplied "
                                                f"out {LIMIT}; this layer expands to more")

    def _unknown_layer(self, edit: Variant | Backbone, layers=None) -> tuple[str, str, list[str]] | None:
        """The first kind an edit (a variant's, or a backbone's of its `layers`) changes that is no layer kind, or
        the first name it drops or sets that no top-level layer has: (its field, the name, the valid names)."""
        if unknown := next((kind for kind in edit.each if kind not in LAYER_TAGS), None):
            return "each", unknown, list(LAYER_TAGS)
        known = [layer.name for layer in (self.layers if layers is None else layers) if layer.name]
        names = set(known)
        for field in ("drop", "set"):
            if missing := next((name for name in getattr(edit, field) if name not in names), None):
                return field, missing, known
        return None

    @staticmethod
    def _unknown_message(field: str, missing: str, known: list[str]) -> str:
        what = "layer kind" if field == "each" else "top-level layer"
        return (f"no {what} is named {shown(missing)!r}; expected one of: "
                f"{listed(known, 'none has a name')}{did_you_mean(missing, known)}")

    def accuracy(self, variant: str | None, alpha, resolution: int) -> tuple[float, str] | None:
        """The first published accuracy for this variant, α and resolution, with its source."""
        for ref in self.reference:
            if (ref.accuracy is not None and ref.variant == variant
                    and (ref.resolution or self.input.resolution) == resolution and ref.alpha == alpha):
                return ref.accuracy, ref.source
        return None

    def _data(self):
        if self._source is None:  # built in Python, or a variant: its data as dumped, its own layers as written
            self._source = self.model_dump(mode="python", exclude_none=False, by_alias=True)
            self._source["layers"] = self._source["layers"][len(self._included[1]):]
        return self._source

    def _shipped(self) -> bool:
        """Whether this network is one of mobcost's own configs (named by its model name, not its path)."""
        from mobcost.language.shipped import builtin_dir

        return Path(self._file).parent == builtin_dir()

    def variant(self, key: str | None) -> Network:
        """This network with a named variant's edits applied."""
        if key is None:
            return self
        if key not in self.variants:
            where = "" if self._shipped() else f"{self._file}: "  # a shipped config by its name, not a path
            raise MobcostError(f"{where}{self.name} has no variant {shown(key)!r}; "
                               f"it has: {listed(self.variants, 'none')}{did_you_mean(key, self.variants)}")
        edit = self.variants[key]
        if unknown := self._unknown_layer(edit):
            raise self.problem(("variants", key, unknown[0]), None, self._unknown_message(*unknown))
        layers = self._apply(self.layers, edit, ("variants", key))
        scaled = {key: value for key, value in (("width", edit.width), ("depth", edit.depth),
                                                ("width_arithmetic", edit.width_arithmetic),
                                                ("accepts", edit.accepts), ("resizes", edit.resizes))
                  if value is not None}
        if edit.resolution is not None:
            scaled["input"] = self.input.model_copy(update={"resolution": edit.resolution})
        net = self.model_copy(update={"layers": layers, "title": edit.title, "follows": edit.follows or self.follows,
                                      **scaled})
        net._file, net._source = self._file, None  # its references and budget stay where they were; its layers changed
        net._variant = key
        net._positions = {path: at for path, at in self._positions.items() if path[:1] != ("layers",)}
        model, origins = self._included
        net._included = model, tuple(origin for origin, layer in zip(origins, self.layers)
                                     if layer.name not in edit.drop)
        return net

    def _apply(self, layers, edit: Variant | Backbone, where: Path_) -> list:
        """Layers with an edit's `drop`, `set`, `each` (and a variant's `full_conv`) applied, its errors located at
        `where` (a variant's key, or the backbone)."""
        kept = [self._set(layer, edit.set.get(layer.name), (*where, "set", layer.name), layer.name)
                for layer in layers if layer.name not in edit.drop]
        return [self._edited(layer, edit, where) for layer in kept]

    def _with_backbone(self) -> Network:
        """This network with its backbone's layers first: a shipped config (one level: a backbone has none of its
        own), through the layer named, edited; width rounding and scaling coefficients taken from it."""
        spec, at = self.backbone, ("backbone", "model")
        name, _, variant = spec.model.partition(":")
        path = builtin(name)  # parses only the config heads that contain the name
        if path is None:
            raise self.problem(at, None, f"expected a shipped model, by name or alias (`mobcost models` lists "
                                         f"them); found {shown(name)!r}{did_you_mean(name, builtin_models())}")
        base = parse_spec(read_spec_file(path), str(path), includes=False)
        if base.backbone is not None:
            raise self.problem(at, None, f"{base.name} has a backbone of its own; expected a network without one "
                                         "(a backbone is included one level deep)")
        if len(self._positions) + len(base._positions) > MAX_NODES:
            raise self.problem(("backbone",), None, f"expected at most {MAX_NODES:,} YAML values with the "
                                                    f"backbone's included {LIMIT}; found {len(self._positions):,} "
                                                    f"here and {len(base._positions):,} in {base.name}")
        if variant and variant not in base.variants:
            raise self.problem(at, None, f"{base.name} has no variant {shown(variant)!r}; expected one of: "
                                         f"{listed(base.variants, 'none')}{did_you_mean(variant, base.variants)}")
        base = base.variant(variant or None)
        names = [layer.name for layer in base.layers]
        if spec.through is not None and spec.through not in names:
            known = [name for name in names if name]
            raise self.problem(("backbone", "through"), None, f"{base.name} has no top-level layer named "
                               f"{shown(spec.through)!r}; expected one of: {listed(known, 'none has a name')}"
                               f"{did_you_mean(spec.through, known)}")
        end = len(names) if spec.through is None else names.index(spec.through) + 1
        if unknown := self._unknown_layer(spec, base.layers[:end]):
            field, missing, known = unknown
            raise self.problem(("backbone", field) + ((missing,) if field != "drop" else ()), None,
                               self._unknown_message(*unknown) + (f" (in {base.name} through {spec.through})"
                                                                  if field != "each" and spec.through else ""))
        for key in INHERITED:
            if key in self.model_fields_set and getattr(self, key) != getattr(base, key):
                raise self.problem((key,), None, f"is the backbone's ({base.name}: {_as_written(getattr(base, key))}); expected "
                                                 "it left out, or the same: one network rounds and scales its "
                                                 "widths one way")
        layers = self._apply(base.layers[:end], spec, ("backbone",))
        inherited = {key: getattr(base, key) for key in INHERITED}
        net = self.model_copy(update={"layers": [*layers, *self.layers], **inherited})
        net._included = base.name, tuple((i, layer.name) for i, layer in enumerate(base.layers[:end])
                                         if layer.name not in spec.drop)
        return net

    def _set(self, layer, changes: dict | None, path: Path_, label: str):
        """A layer with an edit's field changes, validated as the layer it becomes; `path` ends in the edit's
        field (`set`, `each`) and the key."""
        if not changes:
            return layer
        try:
            return _layer_adapter().validate_python({**layer.model_dump(exclude_none=True, by_alias=True), **changes})
        except ValidationError as e:
            err = e.errors(include_url=False)[0]
            where = ".".join(map(str, (label, *err["loc"][1:2])))  # the layer kind's tag, then the field
            raise self.problem(path, path[-2], f"{where}: {error_message(err, Network)}") from None

    def _edited(self, layer, edit: Variant | Backbone, where: Path_):
        """A layer with an edit's `each` (and a variant's full_conv) applied, inside repeats, branches and residual
        blocks too (a block's own fields first, then its layers')."""
        def edit_all(layers):
            return [self._edited(inner, edit, where) for inner in layers]

        layer = self._set(layer, edit.each.get(layer.kind), (*where, "each", layer.kind), layer.name or layer.kind)
        if isinstance(layer, Repeat):
            return layer.model_copy(update={"layers": edit_all(layer.layers)})
        if isinstance(layer, Concat) and layer.branches:
            return layer.model_copy(update={"branches": [edit_all(branch) for branch in layer.branches]})
        if isinstance(layer, Residual):
            return layer.model_copy(update={"layers": edit_all(layer.layers), "shortcut": edit_all(layer.shortcut)})
        if isinstance(layer, Separable) and getattr(edit, "full_conv", False):
            return layer.as_conv()
        return layer

    def builder(self, library: str = "torchvision") -> tuple[str, Builder] | None:
        """The variant that names a builder of `library` (torchvision or timm), and the builder: what `verify
        --against torchvision` builds: the variant being checked, if it names one (ShuffleNetV2's x0_5), else the
        first that does (so that `v3_large --against torchvision` is held to torchvision's network, and shows where
        it differs)."""
        named = [(key, v.builder) for key, v in self.variants.items() if v.builder and library in v.follows]
        return next((found for found in named if found[0] == self._variant), next(iter(named), None))


@cache
def _layer_adapter() -> TypeAdapter:
    """The validator of one layer, built once: building it costs about 0.1 s, and every edit validates its layer."""
    return TypeAdapter(Layer)


def written_layers(layers) -> int:
    """Layers as written, blocks' inner layers included and repeats counted once: the work of editing each."""
    total = 0
    for layer in layers:
        total += 1
        if isinstance(layer, (Repeat, Residual)):
            total += written_layers(layer.layers) + written_layers(getattr(layer, "shortcut", []))
        elif isinstance(layer, Concat) and layer.branches:
            total += sum(map(written_layers, layer.branches))
    return total


def expanded_rows(layers) -> int:
    """Rows the layers expand to with repeats multiplied out, a block counted once per repeat (trace.trace holds
    the exact count to the same limit); capped just past the limit, so that nested repeats build no huge number."""
    total = 0
    for layer in layers:
        if isinstance(layer, Repeat):
            total += layer.repeat * expanded_rows(layer.layers)
        elif isinstance(layer, Residual):
            total += expanded_rows(layer.layers) + expanded_rows(layer.shortcut) + 1
        elif isinstance(layer, Concat) and layer.branches:
            total += sum(map(expanded_rows, layer.branches)) + 1
        else:
            total += layer.n if isinstance(layer, Bottleneck) else 1
    return min(MAX_LAYERS + 1, total)


def spec_schema() -> dict:
    """The JSON Schema of the spec format, generated from the pydantic models (`mobcost schema`)."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **Network.model_json_schema()}


# ---- loading ------------------------------------------------------------------------------------------------

def load_spec(path: str | Path) -> Network:
    """Read, parse and validate one YAML spec."""
    return parse_spec(read_spec_file(Path(path)), str(path))


def _inside_the_member(errors: list[dict]) -> list[dict]:
    """A union (`se: true | {reduction: ...}`) given a value of one member's type fails in every member; the members
    whose type the value is not (`expected a valid boolean; found a mapping`) say nothing about the mistake, which the
    errors inside the member it is name: only those are kept."""
    locs = [e["loc"] for e in errors]
    fields = _field_names()
    return [e for e in errors if not (
        e["type"].endswith("_type") and len(loc := e["loc"]) >= 2
        and any(len(other) > len(loc) and other[:len(loc) - 1] == loc[:-1] and other[len(loc) - 1] != loc[-1]
                and not {loc[-1], other[len(loc) - 1]} <= fields  # two fields of one layer: both errors stand
                for other in locs))]


@cache
def _field_names() -> frozenset[str]:
    """Every layer kind's field names (and aliases): an error at one of them is about that field, not a union's
    member (`stride: [2, 1]` fails deeper than `bn: yes` beside it, and neither hides the other)."""
    return frozenset(name for kind in LAYER_KINDS for key, info in kind.model_fields.items()
                     for name in (key, info.alias) if name)


def parse_spec(text: str, file: str = "<spec>", includes: bool = True) -> Network:
    """Parse and validate a spec given as YAML text; its backbone's layers included unless `includes` is false
    (a backbone itself is read so, and refused if it names one)."""
    data, positions, repeated = compose(text, file)
    if not isinstance(data, dict):
        found = "an empty file" if data is None else f"a YAML {type(data).__name__}"
        raise SpecError([Problem(file, f"expected a mapping with 'name', 'title', 'input' and 'layers'; found {found}",
                                 *positions.get((), (None, None)))])
    problems = [problem_at(file, data, positions, path, None, "repeats a key: expected each key once in a mapping "
                         "(YAML would silently keep only the last)") for path in repeated]
    if "space" in data:  # a design space's fields are choices, which one network cannot be
        raise SpecError([problem_at(file, data, positions, ("space",), None, "makes this file a design space, not one "
                                    "network: `mobcost space FILE` costs its members, `mobcost space FILE --spec-of N` "
                                    "prints member N as a network")])
    try:
        net = Network.model_validate(data)
    except ValidationError as e:
        errors = _inside_the_member(e.errors(include_url=False))
        worded = errors[:3 * MAX_PROBLEMS]  # a union's branches fail together, and merge into one problem
        problems += [error_problem(file, data, positions, err, Network) for err in worded]
        raise SpecError(merged(problems), more=len(errors) - len(worded)) from None
    net._file, net._positions, net._source = file, positions, data
    if net.backbone is not None:
        if not includes:  # read as a backbone, which its includer refuses: its variants may edit what it includes
            return net
        try:
            net = net._with_backbone()
        except SpecError as e:
            raise SpecError(problems + e.problems) from None
    semantic, more = net._semantic_problems()
    problems += semantic
    if problems:
        raise SpecError(problems, more)
    return net
