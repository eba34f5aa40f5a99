"""Per-choice cost tables: each unit of a space (a stage's block, or a fixed layer) traced once per combination of
the choices it depends on, by mobcost's own trace, into numpy arrays a member's cost is gathered from.

A unit's cost depends on the global choices (resolution, width), on the choices that set its input width (the
last earlier stage whose width is chosen) and on its own stage's and block's choices; nothing else, since a
space's layers run in sequence. Its table is indexed by those, in that order; one more entry, the last, is an
absent block (dropped by elastic depth, or the zero operation): no Mult-Adds, no parameters, no time.

Peak memory is not a sum: each unit keeps the live sets of its steps (mobcost.memory) as five numbers, the first
step's, the largest inner one's, the first step's written side, the last step's read side and its output, and two
flags: a single step, and an input computed in slices (read by a bottleneck's depthwise or projection alone), in
which case the step that writes that input runs on into the unit. mobcost.space.run walks the units in order.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
from pydantic import ValidationError

from mobcost.errors import MobcostError, SpecError
from mobcost.layers import Shape
from mobcost.limits import LIMIT
from mobcost.space.spec import Space, Stage, member_data, resolved, _digits

MAX_ENTRIES = 200_000  # table entries of one space, all units together (the shipped spaces: at most 32,617)
MAX_ROWS = 1_000_000  # rows traced to build them, each distinct block once (the shipped spaces: under 100,000)
INT64 = 2**63 - 1

COUNTS = ("macs", "params")
MEMORY = ("first", "inner", "opens", "reads", "writes", "single", "sliced")


@dataclass
class Unit:
    """One unit's tables: its place, the keys its entries are indexed by, and one array per quantity."""

    stage: int
    block: int
    keys: tuple[tuple[str, int], ...]  # (g | p | s | l, size), the flat index's digits, most significant first
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # each of size prod(sizes) + 1 (the absent entry)
    sliced: bool = False  # whether any entry's input is computed in slices (never the first unit's: the image)

    @property
    def entries(self) -> int:
        return math.prod(size for _, size in self.keys)


@dataclass
class Tables:
    space: Space
    units: list[Unit]
    sources: list[int | None]  # per stage: the earlier stage whose combination sets its input width
    device: object | None = None


class _At:
    """The trace's view of the space's network: a problem in a unit is placed at the space's layer."""

    def __init__(self, network, index: int):
        self.network, self.index = network, index

    def problem(self, path, field, message):
        return self.network.problem(("layers", self.index, *path[2:]), field, message)


def _network(space: Space, g: int):
    """The space's largest member at global combination g, as a validated Network: the trace's scaling and the
    place of problems (positions of the space's own file)."""
    from mobcost.language import parse_spec
    import yaml

    stages = [(0, max(stage.depths), [0] * stage.blocks) for stage in space.stages]
    text = yaml.safe_dump(member_data(space, g, stages), sort_keys=False)
    try:
        network = parse_spec(text, space.file)
    except SpecError as e:
        raise SpecError([p.__class__(space.file, f"the space's first member: {p.message}", None, None, p.layer,
                                     p.field) for p in e.problems]) from None
    network._positions, network._source = space.positions, space.data
    return network


def _layer(space: Space, stage: Stage, s: int, l: int, block: int):
    """A unit's layer at stage combination s and block combination l, validated."""
    from mobcost.language.schema import _layer_adapter

    values = {**_digits(s, stage.stage_choices), **_digits(l, stage.block_choices)}
    layer = {**stage.layer, **values}
    if stage.split:
        layer["n"] = 1
        layer.pop("name", None)
        if block > 0:
            layer["stride"] = 1
    try:
        layer = resolved(space, layer)
        return _layer_adapter().validate_python(layer), layer
    except (ValidationError, MobcostError) as e:
        chosen = ", ".join(f"{k} = {v}" for k, v in values.items())
        if isinstance(e, ValidationError):
            err = e.errors(include_url=False)[0]
            name = next((str(part) for part in reversed(err["loc"]) if isinstance(part, str) and part in layer), None)
            message = f"{err['msg']} (found {str(err.get('input'))[:60]})"
        else:
            name, message = None, str(e)
        choice = next((c for c in stage.stage_choices + stage.block_choices if c.field == name), None)
        path = choice.path if choice else ("layers", stage.index) + ((name,) if name in stage.layer else ())
        raise space.problem(path, name, f"{message}, with {chosen}" if chosen else message) from None


def _measure(network, layer, scaling, shape: Shape, index: int, device) -> tuple:
    from mobcost.memory import input_sliced, steps
    from mobcost.trace import Analysis, _Walk, squared

    walk = _Walk(_At(network, index), scaling, squared(shape.h, shape.w))
    walk.values.append(shape)
    walk.layers([layer], 0, ("layers",))
    analysis = Analysis(network, scaling.alpha, squared(shape.h, shape.w), tuple(walk.rows))
    out = walk.values[-1]
    macs = sum(row.macs for row in walk.rows)
    params = sum(row.params for row in walk.rows)
    st = steps(analysis)
    lives = [step.live for step in st]
    memory = (lives[0], max(lives[1:-1], default=0), st[0].output + st[0].held, st[-1].input + st[-1].held,
              st[-1].output, len(st) == 1, input_sliced(analysis))
    ms = 0.0
    if device is not None:
        from mobcost.latency.model import ops, seconds

        ms = 1000 * seconds(ops(analysis, device.bytes_per_value), device.coefficients())
    return out, macs, params, memory, ms, len(walk.rows)


def build(space: Space, device=None) -> Tables:
    """Every unit's tables, each entry traced once (identical layers on identical inputs share their trace)."""
    from mobcost.trace import _scaling

    G = space.global_combos
    networks, scalings = {}, []
    for g in range(G):
        values = space.decode_global(g)
        key = values.get("width")
        if key not in networks:
            networks[key] = _network(space, g)
        scalings.append((networks[key], _scaling(networks[key], 1.0)))
    image = []
    for g in range(G):
        net = scalings[g][0]
        r = space.decode_global(g).get("resolution", net.input.resolution)
        h, w = (r, r) if isinstance(r, int) else tuple(r)
        image.append(Shape(h, w, net.input.channels))
    # entries bound before any trace
    total, src, sizes = 0, None, []
    for stage in space.stages:
        P = space.stages[src].stage_combos if src is not None else 1
        for b in range(stage.blocks):
            uses_p = src is not None and not (stage.width_choice and b > 0)
            total += G * (P if uses_p else 1) * stage.stage_combos * stage.block_combos
        if stage.width_choice:
            src = stage.index
    if total > MAX_ENTRIES:
        raise space.problem(("layers",), None, f"expected at most {MAX_ENTRIES:,} table entries (each a traced "
                                               f"block) {LIMIT}; this space needs {total:,}")
    # every entry small enough that a member's sum over all units, and a live set in bytes, fit in int64
    limit = INT64 // (8 * (sum(stage.blocks for stage in space.stages) + 2))
    cache: dict = {}
    traced = 0
    units: list[Unit] = []
    sources: list[int | None] = []
    shapes = {(g, 0): image[g] for g in range(G)}  # input shape by (g, combination of the width source)
    src = None
    for stage in space.stages:
        sources.append(src)
        S, L = stage.stage_combos, stage.block_combos
        P = space.stages[src].stage_combos if src is not None else 1
        layers = {(s, l, b > 0): _layer(space, stage, s, l, b) for s in range(S) for l in range(L)
                  for b in range(min(stage.blocks, 2))}
        for b in range(stage.blocks):
            uses_p = src is not None and not (stage.width_choice and b > 0)
            keys = (("g", G),) + ((("p", P),) if uses_p else ()) + (("s", S), ("l", L))
            n = G * (P if uses_p else 1) * S * L
            arrays = {name: np.zeros(n + 1, dtype=np.int64) for name in COUNTS + MEMORY}
            arrays["ms"] = np.zeros(n + 1, dtype=np.float64)
            new_shapes = {}
            flat = 0
            for g in range(G):
                network, scaling = scalings[g]
                for p in range(P if uses_p else 1):
                    for s in range(S):
                        x = shapes[(g, s)] if (stage.width_choice and b > 0) else shapes[(g, p)]
                        for l in range(L):
                            layer, written = layers[(s, l, b > 0)]
                            key = (json.dumps(written, sort_keys=True, default=str), scaling, x)
                            if key not in cache:
                                cache[key] = _measure(network, layer, scaling, x, stage.index, device)
                                traced += cache[key][-1]
                                if traced > MAX_ROWS:
                                    raise space.problem(("layers", stage.index), None, "expected at most "
                                                        f"{MAX_ROWS:,} rows traced to build the space's tables "
                                                        f"{LIMIT}; its blocks expand to more")
                            out, macs, params, memory, ms, _ = cache[key]
                            if max(macs, params, *memory) > limit:
                                raise space.problem(("layers", stage.index), None, "its counts are too large to add "
                                                    f"in 64-bit integers: {max(macs, params, *memory):,} (at most "
                                                    f"{limit:,} a layer in this space, mobcost's limit)")
                            arrays["macs"][flat], arrays["params"][flat], arrays["ms"][flat] = macs, params, ms
                            for name, value in zip(MEMORY, memory):
                                arrays[name][flat] = value
                            flat += 1
                            target = (g, s) if stage.width_choice else (g, p)
                            if new_shapes.setdefault(target, out) != out:
                                raise space.problem(("layers", stage.index), None, "its choices change the shape of "
                                                    f"its output ({new_shapes[target]} or {out}); only a chosen "
                                                    "width (`out`, `width_mult`) may, per stage")
            if not units:  # the image is whole
                arrays["sliced"][:] = 0
            whole = np.maximum(arrays["first"], arrays["inner"])
            whole[(arrays["single"] == 1) | (arrays["sliced"] == 1)] = 0  # a sliced input: its first step merges
            arrays["whole"] = np.where(arrays["sliced"] == 1, arrays["inner"], whole)
            units.append(Unit(stage.index, b, tuple((k, v) for k, v in keys), arrays,
                              bool(arrays["sliced"].any()) and bool(units)))
            shapes = new_shapes
            if stage.width_choice:
                src = stage.index
    return Tables(space, units, sources, device)
