"""A design space: a spec whose fields may be choices, read into stages and slots; a member written as a plain spec.

A space is a network spec in which a field may be `{choice: [3, 5, 7]}` (or `{choice: {from: 128, to: 224, step:
4}}`): the input's `resolution`, the network's `width` coefficient, and any field of a top-level layer. A bottleneck
whose `n` is a choice has elastic depth as Once-for-All defines it: a member keeps its first d blocks. A bottleneck
with choices is a stage of blocks; its `kernel`, `t` and every other field choose once per block, `n`, `out` and
`width_mult` (the stage's width multiplier: out = make_divisible(out · m)) once per stage, unless the choice says
`per: stage` or `per: block`. `zero: true` lets each block after a stage's first be the zero operation (ProxylessNAS:
the block is skipped). A member is one value for every choice that exists in it: the blocks a member drops choose
nothing, so the space's size counts distinct choice assignments.

Plain data, no numpy: the tables and the evaluation are in mobcost.space.tables and mobcost.space.run.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from mobcost.errors import MobcostError, Path_, Problem, SpecError, shown
from mobcost.layers.base import Scaling, _ratio
from mobcost.limits import LIMIT, MAX_LAYERS

MAX_VALUES = 1_000  # values of one choice
MAX_SLOTS = 10_000  # choices once stages are split into blocks
MAX_COMBINATIONS = 200_000  # combinations of one layer's choices, each a table entry (mobcost.space.tables)
STAGE_FIELDS = ("n", "out", "width_mult")  # choose once per stage unless `per:` says otherwise
SPACE_FIELDS = ("width_mult", "zero")  # a space's own layer fields, resolved when a member is written


@dataclass(frozen=True)
class Choice:
    """One field's values, where the space's file declares them."""

    field: str
    values: tuple
    path: Path_  # of the `{choice: ...}` mapping in the file


@dataclass(frozen=True)
class Stage:
    """A top-level layer of the space: its fixed fields, its choices per stage and per block, its depths."""

    index: int
    label: str  # its name, or layers[i]
    layer: dict  # the layer as written, choices left out
    stage_choices: tuple[Choice, ...]
    block_choices: tuple[Choice, ...]
    depths: tuple[int, ...]  # the block counts a member may keep (one value unless `n` is a choice)
    zero: bool = False
    split: bool = False  # a bottleneck with choices: one unit per block

    @property
    def stage_combos(self) -> int:
        return math.prod(len(c.values) for c in self.stage_choices)

    @property
    def block_combos(self) -> int:
        return math.prod(len(c.values) for c in self.block_choices)

    @property
    def blocks(self) -> int:
        """Units of the stage: its largest depth when split, else one."""
        return max(self.depths) if self.split else 1

    def options(self, block: int) -> int:
        """Choices of one block: its combinations, and the zero operation after the first block."""
        return self.block_combos + (1 if self.zero and block > 0 else 0)

    def by_depth(self) -> list[int]:
        """Members of the stage at each depth (one stage combination): the product of its blocks' options."""
        if not self.split:
            return [self.block_combos]
        return [math.prod(self.options(b) for b in range(d)) for d in self.depths]

    @property
    def size(self) -> int:
        return self.stage_combos * sum(self.by_depth())

    @property
    def width_choice(self) -> bool:
        """Whether the stage's output width is chosen (`out` or `width_mult`)."""
        return any(c.field in ("out", "width_mult") for c in self.stage_choices)


@dataclass(frozen=True)
class Space:
    """A design space read from its file: the data as written, its global choices and its stages."""

    name: str
    title: str
    file: str
    data: dict
    positions: dict
    globals: tuple[Choice, ...]  # input resolution, network width
    stages: tuple[Stage, ...]
    source: str | None = None
    fixed: tuple[tuple[str, tuple], ...] = ()  # the global choices `fix` restricted, with the values kept

    @property
    def restricted(self) -> str:
        """The restrictions `fix` made, as words ("width 0.3, 0.5; resolution 144"), or ""."""
        return "; ".join(f"{field} {', '.join(map(shown_value, values))}" for field, values in self.fixed)

    @property
    def global_combos(self) -> int:
        return math.prod(len(c.values) for c in self.globals)

    @property
    def size(self) -> int:
        """The number of members, exactly."""
        return self.global_combos * math.prod(stage.size for stage in self.stages)

    def decode_global(self, g: int) -> dict[str, object]:
        values = {}
        for choice in self.globals:
            g, i = divmod(g, len(choice.values))
            values[choice.field] = choice.values[i]
        return values

    def problem(self, path: Path_, field: str | None, message: str) -> SpecError:
        from mobcost.language.locate import problem_at

        return SpecError([problem_at(self.file, self.data, self.positions, path, field, message)])

    def columns(self) -> list[str]:
        """A member's choices as columns: the global ones, then each stage's, then each block's."""
        names = [c.field for c in self.globals]
        for stage in self.stages:
            if stage.split and len(stage.depths) > 1:
                names.append(f"{stage.label}.n")
            names += [f"{stage.label}.{c.field}" for c in stage.stage_choices]
            for b in range(stage.blocks):
                prefix = f"{stage.label}.{b + 1}." if stage.split else f"{stage.label}."
                names += [prefix + c.field for c in stage.block_choices]
                if stage.zero and b > 0:
                    names.append(prefix + "zero")
        return names


def shown_value(value) -> str:
    """A choice's value as a table or a CSV shows it: true, 3, 0.75, {reduction: 4}."""
    return _flow(value).replace('"', "") if isinstance(value, (dict, bool)) else str(value)


def _values(raw, path: Path_, space_file: str, data, positions) -> tuple:
    from mobcost.language.locate import problem_at

    def bad(message: str) -> SpecError:
        return SpecError([problem_at(space_file, data, positions, path, "choice", message)])

    if isinstance(raw, dict):
        if set(raw) != {"from", "to", "step"} or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                                         for v in raw.values()):
            raise bad("a range of values is {from: 128, to: 224, step: 4}: positive whole numbers")
        if raw["to"] < raw["from"]:
            raise bad(f"a range runs from its smaller value to its larger ({raw['from']} > {raw['to']})")
        count = (raw["to"] - raw["from"]) // raw["step"] + 1
        if count > MAX_VALUES:
            raise bad(f"expected at most {MAX_VALUES:,} values in one choice {LIMIT}; this range has {count:,}")
        return tuple(range(raw["from"], raw["to"] + 1, raw["step"]))
    if not isinstance(raw, list) or not raw:
        raise bad("expected a list of values, `{choice: [3, 5, 7]}`, or a range, `{choice: {from: 128, to: 224, "
                  "step: 4}}`")
    if len(raw) > MAX_VALUES:
        raise bad(f"expected at most {MAX_VALUES:,} values in one choice {LIMIT}; found {len(raw):,}")
    if any(isinstance(v, list) or (isinstance(v, dict) and "choice" in v) for v in raw):
        raise bad("a choice's values are numbers, words, true/false or a field's mapping (an `se:`), not lists "
                  "or choices")
    if len(set(map(repr, raw))) != len(raw):
        raise bad("lists a value twice: each value of a choice once")
    return tuple(raw)


def _is_choice(value) -> bool:
    return isinstance(value, dict) and "choice" in value


def _no_choices_below(value, path: Path_, found: list) -> None:
    """The paths of choices where none may stand, into `found`."""
    if _is_choice(value):
        found.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_choices_below(item, path + (key,), found)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_choices_below(item, path + (i,), found)


def read_space(text: str, file: str = "<space>") -> Space:
    """A space from its YAML text: its choices located, bounded and checked for where they may stand."""
    from mobcost.language.yaml import compose

    data, positions, repeated = compose(text, file)
    from mobcost.language.locate import problem_at

    def at(path: Path_, field: str | None, message: str) -> SpecError:
        return SpecError([problem_at(file, data, positions, path, field, message)])

    if not isinstance(data, dict) or not isinstance(data.get("layers"), list) or "space" not in data:
        raise SpecError([Problem(file, "expected a space: a spec with `space:` (its source) and `layers:`, whose "
                                       "fields may be choices, `{choice: [3, 5, 7]}`", 1)])
    if repeated:
        raise at(repeated[0], None, "repeats a key: expected each key once in a mapping")
    data = copy.deepcopy(data)
    found: list = []
    globals_ = []
    inp = data.get("input")
    if isinstance(inp, dict) and _is_choice(inp.get("resolution")):
        path = ("input", "resolution")
        globals_.append(Choice("resolution", _choice_values(inp["resolution"], path, file, data, positions), path))
    if _is_choice(data.get("width")):
        globals_.append(Choice("width", _choice_values(data["width"], ("width",), file, data, positions), ("width",)))
    for key, value in data.items():
        if key not in ("layers", "input", "width"):
            _no_choices_below(value, (key,), found)
    if isinstance(inp, dict):
        for key, value in inp.items():
            if key != "resolution":
                _no_choices_below(value, ("input", key), found)
    stages = []
    slots = 0
    for i, layer in enumerate(data["layers"]):
        if not isinstance(layer, dict):
            raise at(("layers", i), None, "expected a layer: a mapping with `kind`")
        stage = _stage(i, layer, file, data, positions, found)
        slots += len(stage.stage_choices) + 1 + stage.blocks * (len(stage.block_choices) + 1)
        if stage.stage_combos * stage.block_combos > MAX_COMBINATIONS:
            raise at(("layers", i), None, f"expected at most {MAX_COMBINATIONS:,} combinations of one layer's "
                                          f"choices {LIMIT}; this one has {stage.stage_combos * stage.block_combos:,}")
        stages.append(stage)
    if found:
        raise at(found[0], None, "a choice stands only on the input's resolution, the network's width or a field of "
                                 "a top-level layer (not inside a repeat, a branch, a backbone or a variant)")
    if slots > MAX_SLOTS:
        raise at(("layers",), None, f"expected at most {MAX_SLOTS:,} choices once stages are split into blocks "
                                    f"{LIMIT}; this space has {slots:,}")
    space = data["space"]
    source = space.get("source") if isinstance(space, dict) else None
    if not isinstance(space, dict) or not isinstance(source, str):
        raise at(("space",), None, "expected `space: {source: ...}`: where the space is defined (paper, code)")
    return Space(str(data.get("name", Path(file).stem)), str(data.get("title", data.get("name", ""))), file, data,
                 positions, tuple(globals_), tuple(stages), source)


def _choice_values(raw: dict, path: Path_, file: str, data, positions) -> tuple:
    from mobcost.language.locate import problem_at

    extra = set(raw) - {"choice", "per"}
    if extra:
        raise SpecError([problem_at(file, data, positions, path, None, f"a choice takes `choice:` and `per:` "
                                    f"(stage or block); found {', '.join(map(shown, sorted(map(str, extra))))}")])
    return _values(raw["choice"], path + ("choice",), file, data, positions)


def _stage(i: int, layer: dict, file: str, data, positions, found: list) -> Stage:
    from mobcost.language.locate import problem_at

    def at(path: Path_, field: str | None, message: str) -> SpecError:
        return SpecError([problem_at(file, data, positions, path, field, message)])

    kind = layer.get("kind")
    label = str(layer.get("name") or f"layers[{i}]")
    fixed, per_stage, per_block, depths = {}, [], [], None
    for key, value in layer.items():
        path = ("layers", i, key)
        if not _is_choice(value):
            _no_choices_below(value, path, found)
            fixed[key] = value
            continue
        per = value.get("per", "stage" if key in STAGE_FIELDS else "block")
        if per not in ("stage", "block"):
            raise at(path + ("per",), "per", f"expected `stage` or `block`; found {shown(per)}")
        if key in ("kind", "name", "from", "stride", "padding", "part", "layers", "branches", "shortcut", "zero"):
            raise at(path, key, f"`{key}` cannot be a choice: a member's layers, names and feature-map sizes are "
                                "those of the space")
        values = _choice_values(value, path, file, data, positions)
        if key == "n":
            if kind != "bottleneck":
                raise at(path, key, "elastic depth (`n` as a choice) is a bottleneck stage's")
            if per != "stage":
                raise at(path, key, "the depth `n` is chosen once per stage")
            if not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_LAYERS for v in values):
                raise at(path, key, f"expected block counts from 1 to {MAX_LAYERS:,}")
            depths = tuple(sorted(values))
            continue
        if key in ("out", "width_mult") and per != "stage":
            raise at(path, key, f"`{key}` is chosen once per stage: the blocks of a stage share their width")
        (per_stage if per == "stage" else per_block).append(Choice(key, values, path))
    zero = fixed.pop("zero", False)
    if zero not in (True, False):
        raise at(("layers", i, "zero"), "zero", "expected true or false")
    choices = per_stage or per_block or depths
    if zero and kind != "bottleneck":
        raise at(("layers", i, "zero"), "zero", "the zero operation skips a bottleneck's blocks after the first")
    n = fixed.get("n", 1)
    if depths is None:
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_LAYERS:
            depths = (1,)
        else:
            depths = (n,)
    split = kind == "bottleneck" and bool(choices or zero)
    if "width_mult" in fixed or any(c.field == "width_mult" for c in per_stage + per_block):
        if "out" not in layer:
            raise at(("layers", i), "width_mult", "a width multiplier scales the layer's `out`: give `out`")
    return Stage(i, label, fixed, tuple(per_stage), tuple(per_block), depths, zero, split)


# ---- members ---------------------------------------------------------------------------------------------------

def _digits(index: int, choices: tuple[Choice, ...]) -> dict[str, object]:
    values = {}
    for choice in choices:
        index, i = divmod(index, len(choice.values))
        values[choice.field] = choice.values[i]
    return values


def _rounding(space: Space) -> int | None:
    rounding = space.data.get("width_rounding", "int")
    return rounding.get("divisor", 8) if isinstance(rounding, dict) else None


def resolved(space: Space, layer: dict) -> dict:
    """A layer's space-only fields resolved: `width_mult` into `out` (make_divisible(out · m), as the network's
    width rounding rounds α · out)."""
    layer = dict(layer)
    if "width_mult" in layer:
        m = layer.pop("width_mult")
        try:
            ratio = _ratio(m)
        except ValueError as e:
            raise MobcostError(f"width_mult {shown(m)}: {e}") from None
        out = layer["out"]
        if out != "classes":
            scaling = Scaling(ratio, 1, _rounding(space))
            layer["out"] = scaling.channels(out, "scaled")
    return layer


def stage_layers(space: Space, stage: Stage, s: int, depth: int, blocks: list[int]) -> list[dict]:
    """A stage's layers in a member: stage combination s, `depth` blocks with block options `blocks` (an option
    equal to block_combos is the zero operation)."""
    values = _digits(s, stage.stage_choices)
    if not stage.split:
        return [resolved(space, {**stage.layer, **values, **_digits(blocks[0], stage.block_choices)})]
    layers = []
    for b in range(depth):
        if blocks[b] >= stage.block_combos:
            continue
        layer = {**stage.layer, **values, **_digits(blocks[b], stage.block_choices), "n": 1}
        layer.pop("name", None)
        if b > 0:
            layer["stride"] = 1
        layers.append(resolved(space, layer))
    if "name" in stage.layer:
        layers[-1]["name"] = stage.layer["name"]
    return layers


def member_data(space: Space, g: int, stages: list[tuple[int, int, list[int]]]) -> dict:
    """A member as plain spec data: global combination g, and per stage (stage combination, depth, block options)."""
    data = {key: value for key, value in space.data.items() if key not in ("space",)}
    data["name"] = f"{space.name}_member"
    data["input"] = dict(data["input"])
    for field, value in space.decode_global(g).items():
        if field == "resolution":
            data["input"]["resolution"] = value
        else:
            data[field] = value
    layers = []
    for stage, (s, depth, blocks) in zip(space.stages, stages):
        layers += stage_layers(space, stage, s, depth, blocks)
    data["layers"] = layers
    return data


def member_text(space: Space, g: int, stages: list[tuple[int, int, list[int]]]) -> str:
    """A member as a plain spec's YAML text, which `mobcost table` reads: one line per key and per layer (values in
    flow style, JSON's spelling of them, which YAML reads as written)."""
    data = member_data(space, g, stages)
    lines = [f"{key}: {_flow(value)}" for key, value in data.items() if key != "layers"]
    lines.append("layers:")
    lines += [f"  - {_flow(layer)}" for layer in data["layers"]]
    return "\n".join(lines) + "\n"


def _flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if isinstance(value, Fraction):
        value = str(value)
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) and value.lower() not in _WORDS:
        return value  # a plain word as YAML reads it: kind, act, classes
    return json.dumps(value, ensure_ascii=False)


_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n", "null"}  # YAML 1.1 reads these as booleans or null


def fix(space: Space, field: str, values: list[str]) -> Space:
    """The space with a global choice (resolution, width) restricted to some of its values, as written
    (`--fix resolution=144,160`): TinyNAS compares such spaces."""
    import dataclasses

    names = [c.field for c in space.globals]
    if field not in names:
        raise MobcostError(f"--fix names a global choice of {space.name}: "
                           f"{', '.join(names) or 'it has none (its resolution and width are fixed)'} "
                           f"(found {shown(field)})")
    choice = space.globals[names.index(field)]
    kept = []
    for text in values:
        match = [v for v in choice.values if shown_value(v) == text.strip() or _same_number(v, text)]
        if not match:
            raise MobcostError(f"--fix {field}={shown(text)}: not one of its values, "
                               f"{', '.join(map(shown_value, choice.values[:20]))}"
                               f"{' …' if len(choice.values) > 20 else ''}")
        kept += [v for v in match if v not in kept]
    globals_ = tuple(dataclasses.replace(c, values=tuple(kept)) if c is choice else c for c in space.globals)
    fixed = (*((f, v) for f, v in space.fixed if f != field), (field, tuple(kept)))
    return dataclasses.replace(space, globals=globals_, fixed=fixed)


def _same_number(value, text: str) -> bool:
    from mobcost.limits import decimal_of

    number = decimal_of(text)
    return (number is not None and isinstance(value, (int, float)) and not isinstance(value, bool)
            and _ratio(value) == Fraction(number))


def load_space(target: str | Path) -> Space:
    """A shipped space by name, or a space file (`-`: standard input)."""
    from mobcost.language.yaml import read_spec_file
    from mobcost.language.zoo import STDIN, stdin_text

    path, shipped = Path(target), spaces()
    if str(target) == STDIN:
        return read_space(stdin_text(), "<stdin>")
    if str(target) in shipped:
        path = shipped[str(target)]
    elif not path.suffix and not path.exists():
        from mobcost.errors import listed

        raise MobcostError(f"unknown space {shown(target)!r}: the shipped spaces are {listed(sorted(shipped))}, "
                           "or give a space file (.yaml, or - for standard input)")
    return read_space(read_spec_file(path), str(path))


def spaces() -> dict[str, Path]:
    """The shipped spaces by name (configs/spaces/*.yaml)."""
    from mobcost.language.shipped import builtin_dir

    return {path.stem: path for path in sorted((builtin_dir() / "spaces").glob("*.yaml"))}

