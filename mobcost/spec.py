"""The network spec and load_spec(): the only module that reads YAML.

Errors in a spec become a SpecError that names the file, the line and column, the layer and the field.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PositiveInt, PrivateAttr, TypeAdapter,
                      ValidationError)

from mobcost.layers import Layer, Repeat, Separable, kind_of

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Path_ = tuple[Union[str, int], ...]

ParamCounting = Literal["weights", "torch", "keras"]
"""How parameters are counted: weights and declared biases (the papers'); plus batch-norm γ and β (PyTorch's
`sum(p.numel() for p in model.parameters())`); plus batch-norm running mean and variance (Keras' `count_params()`)."""
BN_PARAMS: dict[str, int] = {"weights": 0, "torch": 2, "keras": 4}  # parameters per batch-normalized channel


class MobcostError(Exception):
    """Bad input: the CLI prints it as one paragraph and exits with code 2."""


@dataclass(frozen=True)
class Problem:
    """One mistake in a spec, located as precisely as the spec allows."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    layer: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line else "") + (f", column {self.column}" if self.column else "")
        what = "".join([f"{self.layer}, " if self.layer else "", f"field '{self.field}': " if self.field else ""])
        return f"{where}: {what}{self.message}"


class SpecError(MobcostError):
    """A spec that cannot be read, validated or traced."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


# ---- sizes: 150M, 1.5G, 2.5e6, 300k -------------------------------------------------------------------------

_SUFFIX = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}


def parse_size(value: str | int | float) -> int:
    """An exact count from `150M`, `1.5G`, `2.5e6`, `300k` or a plain number."""
    text = str(value).strip().replace("_", "").replace(",", "")
    match = re.fullmatch(r"([0-9.eE+-]+)\s*([kKMGBT]?)", text)
    try:
        number = Decimal(match[1]) * _SUFFIX[match[2]] if match else None
    except InvalidOperation:
        number = None
    if number is None or number < 0 or number != number.to_integral_value():
        raise ValueError(f"{value!r} is not a size; write a whole count such as 150M, 1.5G, 2.5e6 or 300k")
    return int(number)


Size = Annotated[int, BeforeValidator(parse_size)]


def _printed(value) -> str:
    text = str(value)
    try:
        Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number as printed, e.g. \"4.2\"") from None
    return text


Printed = Annotated[str, BeforeValidator(_printed)]
"""A published figure exactly as printed (quote it in YAML to keep trailing zeros): its digits give its precision."""


# ---- the spec -----------------------------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Input(_Strict):
    resolution: PositiveInt
    channels: PositiveInt = 3


class MakeDivisible(_Strict):
    divisor: PositiveInt = 8


class Variant(_Strict):
    """A named edit of the network: a paper's comparison model derived from the same spec."""

    title: str
    full_conv: bool = False  # every separable block becomes one full k×k conv (MobileNets Table 4)
    drop: list[str] = []  # top-level layers removed by name (MobileNets Table 5, "Shallow MobileNet")
    set: dict[str, dict[str, Any]] = {}  # top-level layer name → fields changed, e.g. a paper's head width


class Reference(_Strict):
    """A published row: the figures a source prints for one variant, at their printed precision."""

    source: str
    label: str
    variant: str | None = None
    alpha: float = Field(1.0, gt=0)
    resolution: PositiveInt | None = None
    accuracy: float | None = None
    macs: Printed | None = None  # million Mult-Adds
    params: Printed | None = None  # million parameters
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
    resolution: PositiveInt | None = None


class Network(_Strict):
    """A whole network: its input, classes, width-rounding rule, layers, and the figures it must reproduce."""

    name: str
    title: str
    aliases: list[str] = []
    source: str | None = None
    input: Input
    classes: PositiveInt = 1000
    width_rounding: Union[Literal["int"], MakeDivisible] = "int"
    layers: list[Layer] = Field(min_length=1)
    variants: dict[str, Variant] = {}
    reference: list[Reference] = []
    budget: Budget | None = None

    _file: str = PrivateAttr("<spec>")
    _positions: dict = PrivateAttr(default_factory=dict)

    def problem(self, path: Path_, field: str | None, message: str) -> SpecError:
        """A SpecError at a place in this spec (a path of keys and indices into the YAML)."""
        return SpecError([_problem(self._file, self._data(), self._positions, path, field, message)])

    def accuracy(self, variant: str | None, alpha, resolution: int) -> tuple[float, str] | None:
        """The first published accuracy for this variant, α and resolution, with its source."""
        for ref in self.reference:
            if (ref.accuracy is not None and ref.variant == variant and ref.alpha == alpha
                    and (ref.resolution or self.input.resolution) == resolution):
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
        known = {layer.name for layer in self.layers}
        for field in ("drop", "set"):
            if missing := [n for n in getattr(edit, field) if n not in known]:
                raise self.problem(("variants", key, field), field, f"no top-level layer is named {missing[0]!r}")
        layers = [self._set(layer, edit.set.get(layer.name), key)
                  for layer in self.layers if layer.name not in edit.drop]
        net = self.model_copy(update={"layers": [_edited(layer, edit) for layer in layers], "title": edit.title})
        net._file, net._positions = self._file, {}
        return net

    def _set(self, layer, changes: dict | None, key: str):
        """A layer with a variant's field changes, validated as the layer it becomes."""
        if not changes:
            return layer
        try:
            return TypeAdapter(Layer).validate_python({**layer.model_dump(exclude_none=True), **changes})
        except ValidationError as e:
            err = e.errors(include_url=False)[0]
            where = ".".join(map(str, (layer.name, *err["loc"][1:2])))  # the layer kind's tag, then the field
            raise self.problem(("variants", key, "set", layer.name), "set", f"{where}: {_message(err)}") from None


def _edited(layer, edit: Variant):
    if isinstance(layer, Repeat):
        return layer.model_copy(update={"layers": [_edited(inner, edit) for inner in layer.layers]})
    if isinstance(layer, Separable) and edit.full_conv:
        return layer.as_conv()
    return layer


# ---- loading ------------------------------------------------------------------------------------------------

def load_spec(path: str | Path) -> Network:
    """Read, parse and validate one YAML spec."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([Problem(file, "no such file")]) from None
    except IsADirectoryError:
        raise SpecError([Problem(file, "is a folder, not a YAML spec")]) from None
    except UnicodeDecodeError as e:
        raise SpecError([Problem(file, f"is not UTF-8 text (byte {e.start})")]) from None
    except OSError as e:
        raise SpecError([Problem(file, f"cannot be read: {e.strerror}")]) from None
    return parse_spec(text, file)


def parse_spec(text: str, file: str = "<spec>") -> Network:
    """Parse and validate a spec given as YAML text."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise SpecError([Problem(file, f"is not valid YAML: {e.problem or e.context}",
                                 mark.line + 1 if mark else None, mark.column + 1 if mark else None)]) from None
    except yaml.YAMLError as e:
        raise SpecError([Problem(file, f"is not valid YAML: {e}")]) from None
    finally:
        loader.dispose()
    positions = _positions(node, ()) if node is not None else {}
    if not isinstance(data, dict):
        found = "an empty file" if data is None else f"a YAML {type(data).__name__}"
        raise SpecError([Problem(file, f"must be a mapping with 'name', 'input' and 'layers'; found {found}",
                                 *positions.get((), (None, None)))])
    try:
        net = Network.model_validate(data)
    except ValidationError as e:
        raise SpecError([_problem(file, data, positions, err["loc"], None, _message(err))
                         for err in e.errors(include_url=False)]) from None
    net._file, net._positions = file, positions
    return net


def _positions(node, path: Path_) -> dict[Path_, tuple[int, int]]:
    """Line and column (1-based) of every node of a composed YAML document, by its path of keys and indices."""
    found = {path: (node.start_mark.line + 1, node.start_mark.column + 1)}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found.update(_positions(value, path + (key.value,)))
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            found.update(_positions(value, path + (i,)))
    return found


def _message(err: dict) -> str:
    message = err["msg"]
    if err["type"] == "missing":
        return "is required but missing"
    if err["type"] == "extra_forbidden":
        return "is not a field of this layer kind" if "layers" in err["loc"] else "is not a field here"
    value = err.get("input")
    if isinstance(value, (str, int, float, bool)) or value is None:
        message += f" (found {value!r})"
    return message


def _problem(file: str, data, positions: dict, loc: Path_, field: str | None, message: str) -> Problem:
    """Walk an error's location through the data: the real path (skipping union tags), the layer and the field."""
    path: list = []
    layer = found = tag = None
    node = data
    for i, part in enumerate(loc):
        if part == tag:  # pydantic names the union member right after the layer's index
            tag = None
            continue
        tag = None
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if path and (path[-1] in ("layers", "shortcut") or path[-2:-1] == ["branches"]):
                name, kind = (node.get("name"), node.get("kind")) if isinstance(node, dict) else (None, None)
                index = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path + [part]).lstrip(".")
                layer = f"layer {index}" + (f" ({name!r})" if name else f" ({kind})" if kind else "")
                found, tag = None, kind_of(node)
        elif isinstance(node, dict) and i == len(loc) - 1:
            found = part if found is None else f"{found}.{part}"  # a missing or misspelled key
            break
        else:
            continue  # a discriminator tag in the location
        path.append(part)
        if isinstance(part, str):
            found = part if found is None else f"{found}.{part}"
    line_col = next((positions[tuple(path[:end])] for end in range(len(path), -1, -1)
                     if tuple(path[:end]) in positions), (None, None))
    return Problem(file, message, *line_col, layer=layer, field=field or found)


# ---- the model zoo and model references ---------------------------------------------------------------------

def builtin_dir() -> Path:
    """The shipped configs: inside the installed package, or beside it in a source checkout."""
    packaged = Path(__file__).with_name("configs")
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "configs"


@cache
def builtin_models() -> dict[str, Path]:
    """Every built-in name and alias → its config file, read from each file's head (what precedes `layers:`) so that
    naming a model does not parse the whole zoo."""
    names: dict[str, Path] = {}
    for path in sorted(builtin_dir().glob("*.yaml")):
        head = yaml.load(path.read_text(encoding="utf-8").split("\nlayers:", 1)[0], Loader=_Loader)
        for name in [head["name"], *head.get("aliases", [])]:
            names[name] = path
    return names


@dataclass(frozen=True)
class ModelRef:
    """A model as the CLI names it: `v1`, `v1:shallow`, `v1@0.75`, `v1@0.5_160`, or a path to a YAML file."""

    target: str
    variant: str | None = None
    alpha: float | None = None
    resolution: int | None = None

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        match = re.fullmatch(r"(?P<target>.+?)(?::(?P<variant>[A-Za-z_][\w-]*))?"
                             r"(?:@(?P<alpha>\d*\.?\d+)(?:_(?P<res>\d+))?)?", text)
        if not match or (Path(text).suffix in (".yaml", ".yml") and Path(text).exists()):
            return cls(text)
        alpha, res = match["alpha"], match["res"]
        return cls(match["target"], match["variant"], float(alpha) if alpha else None, int(res) if res else None)


def locate(target: str) -> Path:
    """The config file for a built-in name, or the path itself."""
    models = builtin_models()
    if target in models:
        return models[target]
    path = Path(target)
    if path.suffix in (".yaml", ".yml") or path.exists() or "/" in target:
        return path
    close = difflib.get_close_matches(target, models, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise MobcostError(f"unknown model {target!r}: not a built-in model ({', '.join(models)}) "
                       f"and not a path to a YAML spec.{hint} `mobcost models` lists the built-in ones.")


def load_model(ref: str | ModelRef) -> tuple[Network, ModelRef]:
    """The network a model reference names, with its variant applied, and the parsed reference."""
    ref = ref if isinstance(ref, ModelRef) else ModelRef.parse(ref)
    return load_spec(locate(ref.target)).variant(ref.variant), ref
