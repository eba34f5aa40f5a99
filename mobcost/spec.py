"""The network spec and load_spec(): the only module that reads YAML.

Errors in a spec become a SpecError that names the file, the line and column, the layer and the field.
"""

from __future__ import annotations

import difflib
import re
import stat
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args

import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PositiveInt, PrivateAttr, TypeAdapter,
                      ValidationError, WithJsonSchema)

from mobcost.layers import LAYER_KINDS, Bottleneck, Branches, Layer, Repeat, Residual, Separable, kind_of
from mobcost.limits import (MAX_COUNT, MAX_DEPTH, MAX_FILE_BYTES, MAX_LAYERS, MAX_NODES, MAX_NUMBER_CHARS,
                            ChannelCount, Pixels)

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
    if not re.fullmatch(r"\d{1,15}(\.\d{1,9})?", text):
        raise ValueError('expected a figure as printed, such as "569" or "4.2" (up to 15 digits and 9 decimals)')
    return text


Printed = Annotated[str, BeforeValidator(_printed), WithJsonSchema({
    "anyOf": [{"type": "string", "pattern": r"^\s*-?[0-9]*\.?[0-9]+\s*$"}, {"type": "number"}],
    "description": "A published figure as printed; quote it to keep trailing zeros (\"4.20\")."})]
"""A published figure exactly as printed (quote it in YAML to keep trailing zeros): its digits give its precision."""


# ---- the spec -----------------------------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Input(_Strict):
    resolution: Pixels
    channels: ChannelCount = 3


class MakeDivisible(_Strict):
    divisor: ChannelCount = 8


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
    resolution: Pixels | None = None
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
    layers: list[Layer] = Field(min_length=1)
    variants: dict[str, Variant] = {}
    reference: list[Reference] = []
    budget: Budget | None = None

    _file: str = PrivateAttr("<spec>")
    _positions: dict = PrivateAttr(default_factory=dict)

    def problem(self, path: Path_, field: str | None, message: str) -> SpecError:
        """A SpecError at a place in this spec (a path of keys and indices into the YAML)."""
        return SpecError([self._at(path, field, message)])

    def _at(self, path: Path_, field: str | None, message: str) -> Problem:
        return _problem(self._file, self._data(), self._positions, path, field, message)

    def _semantic_problems(self) -> list[Problem]:
        """Names the spec uses that it does not define (variants' layers, references' and the budget's variants),
        and a network too large to expand."""
        found = [self._at(("variants", key, unknown[0]), None, unknown[1])
                 for key, edit in self.variants.items() if (unknown := self._unknown_layer(edit))]
        uses = [(("reference", i, "variant"), ref.variant) for i, ref in enumerate(self.reference)]
        uses.append((("budget", "variant"), self.budget and self.budget.variant))
        variants = ", ".join(self.variants) or "none defined"
        found += [self._at(path, None, f"expected a variant of this spec ({variants}); found {name!r}"
                                            f"{_closest(name, self.variants)}") for path, name in uses
                  if name is not None and name not in self.variants]
        if _rows(self.layers) > MAX_LAYERS:  # before any expanding: `repeat: 1000000000` fails here at once
            biggest = max(range(len(self.layers)), key=lambda i: _rows(self.layers[i:i + 1]))
            found.append(self._at(("layers", biggest), None, f"expected at most {MAX_LAYERS:,} layers once repeats "
                                                             f"are multiplied out {_LIMIT}; this layer expands to more"))
        return found

    def _unknown_layer(self, edit: Variant) -> tuple[str, str] | None:
        """The first name a variant drops or sets that no top-level layer has: (its field, the message)."""
        known = [layer.name for layer in self.layers if layer.name]
        for field in ("drop", "set"):
            if missing := [name for name in getattr(edit, field) if name not in known]:
                return field, (f"no top-level layer is named {missing[0]!r}; expected one of: "
                               f"{', '.join(known) or 'none has a name'}{_closest(missing[0], known)}")
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


def _rows(layers) -> int:
    """Rows the layers expand to with repeats multiplied out, a block counted once per repeat (trace.trace holds
    the exact count to the same limit); capped just past the limit, so that nested repeats build no huge number."""
    total = 0
    for layer in layers:
        if isinstance(layer, Repeat):
            total += layer.repeat * _rows(layer.layers)
        elif isinstance(layer, Residual):
            total += _rows(layer.layers) + _rows(layer.shortcut) + 1
        elif isinstance(layer, Branches):
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
    if isinstance(layer, Branches):
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
    path = Path(path)
    file = str(path)
    try:
        info = path.stat()  # before opening: opening a pipe would wait for a writer
        if stat.S_ISDIR(info.st_mode):
            raise SpecError([Problem(file, "is a folder; expected a YAML spec file")])
        if not stat.S_ISREG(info.st_mode):
            raise SpecError([Problem(file, "is a device, pipe or socket; expected a YAML spec file")])
        if info.st_size > MAX_FILE_BYTES:
            raise _too_big(file, info.st_size)
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
    except FileNotFoundError:
        raise SpecError([Problem(file, "no such file")]) from None
    except OSError as e:
        raise SpecError([Problem(file, f"cannot be read: {e.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line_start = raw.rfind(b"\n", 0, e.start) + 1
        column = len(raw[line_start:e.start].decode("utf-8", "replace")) + 1
        raise SpecError([Problem(file, f"is not UTF-8 text: expected UTF-8, found the byte 0x{raw[e.start]:02x} "
                                       "(save the spec as UTF-8)", raw.count(b"\n", 0, e.start) + 1, column)]) from None
    return parse_spec(text, file)


def parse_spec(text: str, file: str = "<spec>") -> Network:
    """Parse and validate a spec given as YAML text."""
    if len(text) > MAX_FILE_BYTES:
        raise _too_big(file, len(text))
    try:
        _check_events(text, file)
        loader = _SpecLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        raise _yaml_problem(file, text, e) from None
    positions, repeated = _positions(node)
    if not isinstance(data, dict):
        found = "an empty file" if data is None else f"a YAML {type(data).__name__}"
        raise SpecError([Problem(file, f"expected a mapping with 'name', 'title', 'input' and 'layers'; found {found}",
                                 *positions.get((), (None, None)))])
    problems = [_problem(file, data, positions, path, None, "repeats a key: expected each key once in a mapping "
                         "(YAML would silently keep only the last)") for path in repeated]
    try:
        net = Network.model_validate(data)
    except ValidationError as e:
        problems += [_error_problem(file, data, positions, err) for err in e.errors(include_url=False)]
        raise SpecError(_merged(problems)) from None
    net._file, net._positions = file, positions
    problems += net._semantic_problems()
    if problems:
        raise SpecError(problems)
    return net


class _SpecLoader(_Loader):
    """The safe loader without YAML 1.1 timestamps: a spec has no dates, and `2017-13-01` must not crash."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()}
_CORE = "tag:yaml.org,2002:"
_PLAIN_TAGS = {None, "!", *(_CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq"))}
_LIMIT = "(mobcost's limit, see Limits in the README)"
_NUMBER_TAGS = (_CORE + "int", _CORE + "float")
_START_EVENTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_END_EVENTS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_NODE_EVENTS = (yaml.ScalarEvent, *_START_EVENTS)


def _check_events(text: str, file: str) -> None:
    """Refuse from the parse events alone, before anything is built, a spec too deep or too large once its
    aliases are expanded ("billion laughs"), a tag that is not plain data, or a number too long to read."""
    loader = _SpecLoader(text)
    anchors: dict[str, tuple[int, int]] = {}  # anchor → (values, depth) it expands to
    open_: list[list] = []  # collections being read, outermost first: [values, depth below, anchor]
    aliased = False

    def refuse(event, message: str) -> SpecError:
        return SpecError([Problem(file, message, event.start_mark.line + 1, event.start_mark.column + 1)])

    try:
        while loader.check_event():
            event = loader.get_event()
            kind = type(event)
            if kind in _NODE_EVENTS and event.tag not in _PLAIN_TAGS:
                raise refuse(event, _tag_message(event.tag))
            if kind is yaml.ScalarEvent:
                if (event.implicit[0] and len(event.value) > MAX_NUMBER_CHARS
                        and loader.resolve(yaml.ScalarNode, event.value, event.implicit) in _NUMBER_TAGS):
                    raise refuse(event, f"expected a number of at most {MAX_NUMBER_CHARS} characters {_LIMIT}; "
                                        f"found one of {len(event.value):,}")
                values, depth, anchor = 1, 0, event.anchor
            elif kind in _START_EVENTS:
                open_.append([1, 0, event.anchor])
                if len(open_) > MAX_DEPTH:
                    raise refuse(event, f"expected mappings and lists nested at most {MAX_DEPTH} levels deep {_LIMIT}; "
                                        "found more")
                continue
            elif kind in _END_EVENTS:
                values, depth, anchor = open_.pop()
                depth += 1
            elif kind is yaml.AliasEvent:
                (values, depth), anchor, aliased = anchors.get(event.anchor, (1, 0)), None, True
                if len(open_) + depth > MAX_DEPTH:
                    raise refuse(event, f"expected mappings and lists nested at most {MAX_DEPTH} levels deep {_LIMIT}; "
                                        f"found more once the alias *{event.anchor} is expanded")
            else:
                continue  # stream and document events
            if anchor is not None:
                anchors[anchor] = (values, depth)
            if open_:
                parent = open_[-1]
                parent[0] += values
                parent[1] = max(parent[1], depth)
                if parent[0] > MAX_NODES:
                    raise refuse(event, f"expected at most {MAX_NODES:,} YAML values {_LIMIT}; found more"
                                        + (" once its aliases (*name) are expanded" if aliased else ""))
    finally:
        loader.dispose()


def _too_big(file: str, size: int) -> SpecError:
    return SpecError([Problem(file, f"is {size:,} bytes; expected a YAML spec of at most {MAX_FILE_BYTES:,} bytes {_LIMIT}")])


def _tag_message(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
    if tag.startswith(_CORE + "python/"):
        return (f"expected plain data; found the tag {shown}, which asks YAML to build a Python object "
                "(mobcost reads mappings, lists, strings, numbers, true/false and null, and never builds objects)")
    return f"expected plain data (mappings, lists, strings, numbers, true/false and null); found the tag {shown}"


def _yaml_problem(file: str, text: str, e: yaml.YAMLError) -> SpecError:
    if isinstance(e, yaml.reader.ReaderError):
        code = e.character if isinstance(e.character, int) else ord(e.character)
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        return SpecError([Problem(file, f"is not valid YAML: found the character U+{code:04X}, which YAML does not "
                                        f"allow ({e.reason}); expected printable text", line, column)])
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        return SpecError([Problem(file, f"is not valid YAML: {e.problem or e.context}",
                                  mark.line + 1 if mark else None, mark.column + 1 if mark else None)])
    return SpecError([Problem(file, f"is not valid YAML: {e}")])


def _positions(root) -> tuple[dict[Path_, tuple[int, int]], list[Path_]]:
    """Line and column (1-based) of every value of a composed YAML document by its path of keys and indices,
    and the paths of repeated keys. Aliased nodes are walked once per use, which
    _check_events has bounded."""
    if root is None:
        return {}, []
    found, repeated, todo = {(): _mark(root)}, [], [((), root)]
    while todo:
        path, node = todo.pop()
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                here = path + (key.value,)
                if key.value in seen:
                    repeated.append(here)
                seen.add(key.value)
                found[here] = _mark(value)
                todo.append((here, value))
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                found[path + (i,)] = _mark(value)
                todo.append((path + (i,), value))
    return found, sorted(set(repeated), key=found.get)


def _mark(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


# ---- error messages: where, what was expected, what was found -----------------------------------------------

_KINDS = {kind.model_fields["kind"].default: kind for kind in LAYER_KINDS}


def _error_problem(file: str, data, positions: dict, err: dict) -> Problem:
    """One pydantic error as a Problem, at the layer's `kind` when that is what is wrong."""
    loc, value = err["loc"], err.get("input")
    if err["type"] == "layer_kind" and isinstance(value, dict) and "kind" in value:
        loc += ("kind",)
    return _problem(file, data, positions, loc, None, _message(err))


def _message(err: dict) -> str:
    """What was expected and what was found; for a misspelled kind or field, the closest valid name."""
    if err["type"] == "layer_kind":
        return _kind_message(err.get("input"))
    if err["type"] == "missing":
        return "is required but missing"
    if err["type"] == "extra_forbidden":
        return _unknown_field(err["loc"])
    expected = err["msg"].removeprefix("Value error, ")
    if expected.startswith("Input should be "):
        expected = "expected " + expected.removeprefix("Input should be ")
    return f"{expected}; found {_found(err.get('input'))}"


def _found(value) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    text = {None: "null", True: "true", False: "false"}.get(value, repr(value)) if isinstance(value, (bool, type(None))) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _nearest(name, valid, cutoff: float = 0.6) -> str | None:
    """The valid name closest to a misspelled one, if any is close."""
    return next(iter(difflib.get_close_matches(str(name), list(valid), n=1, cutoff=cutoff)), None)


def _closest(name, valid) -> str:
    close = _nearest(name, valid)
    return f"; did you mean {close!r}?" if close else ""


def _kind_message(value) -> str:
    kinds = ", ".join(_KINDS)
    if not isinstance(value, dict):
        return f"expected a layer as a mapping such as {{kind: conv, out: 32}}; found {_found(value)}"
    if "kind" not in value:
        return f"expected a 'kind' (one of {kinds}) or 'repeat'; found neither"
    return f"unknown layer kind {_found(value['kind'])}; expected one of {kinds}{_closest(value['kind'], _KINDS)}"


def _unknown_field(loc: Path_) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return "is not a field here"
    what = f"of a {model.model_fields['kind'].default!r} layer" if model in LAYER_KINDS else "here"
    return (f"is not a field {what}{_closest(loc[-1], model.model_fields)} "
            f"Expected one of: {', '.join(model.model_fields)}")


def _model_at(loc: Path_) -> type[BaseModel] | None:
    """The model whose fields are valid at an error location, found by walking the spec's types along it (from
    the network, or from a layer kind when the location starts with one, as a variant's `set` does)."""
    model = _KINDS[loc[0]] if loc and loc[0] in _KINDS else Network
    for part in loc:
        if model in LAYER_KINDS and part in _KINDS:
            model = _KINDS[part]  # the discriminator's tag names the layer's kind
        elif isinstance(part, str) and part in model.model_fields:
            model = _first_model(model.model_fields[part].annotation)
            if model is None:
                return None
    return model


def _first_model(hint) -> type[BaseModel] | None:
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return hint
    return next(filter(None, map(_first_model, get_args(hint))), None)


def _merged(problems: list[Problem]) -> list[Problem]:
    """One problem per place: the branches of a union (`padding: same | valid | pixels`) fail together."""
    merged: list[Problem] = []
    for p in problems:
        expected, _, found = p.message.rpartition("; found ")
        last = merged[-1] if merged else None
        if last and (last.line, last.column, last.layer, last.field) == (p.line, p.column, p.layer, p.field) \
                and expected.startswith("expected ") and last.message.endswith(f"; found {found}"):
            merged[-1] = replace(last, message=last.message.removesuffix(f"; found {found}")
                                 + f", or {expected.removeprefix('expected ')}; found {found}")
        else:
            merged.append(p)
    return merged


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
                name, kind = (v if isinstance(v, str) else None for v in (name, kind))
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
    close = _nearest(target, models, cutoff=0.5)  # model names are short: v1 for v7
    hint = f" Did you mean {close!r}?" if close else ""
    raise MobcostError(f"unknown model {target!r}: not a built-in model ({', '.join(models)}) "
                       f"and not a path to a YAML spec.{hint} `mobcost models` lists the built-in ones.")


def load_model(ref: str | ModelRef) -> tuple[Network, ModelRef]:
    """The network a model reference names, with its variant applied, and the parsed reference."""
    ref = ref if isinstance(ref, ModelRef) else ModelRef.parse(ref)
    return load_spec(locate(ref.target)).variant(ref.variant), ref
