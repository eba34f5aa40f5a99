"""A space explored: its size, its members enumerated when there are few and drawn uniformly otherwise, the exact
distribution of each cost, the share within a budget and the Pareto members (computation only, plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from mobcost.errors import MobcostError
from mobcost.limits import LIMIT
from mobcost.space.run import (METRICS, QUANTILES, Budget, Chunk, Job, Members, Partial, bounds, chunks, costs,
                               pick, quantile_targets, run_chunk, unit_blocks)
from mobcost.space.spec import Space, _digits, load_space, read_space
from mobcost.space.tables import Tables, build

MAX_SAMPLES = 10**9  # members one command evaluates: about 20 minutes on one core
DEFAULT_SAMPLES = 100_000
INT64_INDEX = 2**63 - 1


@dataclass
class SpaceResult:
    """What `mobcost space` prints: the size, how the members were chosen, each metric's distribution (min, the
    quantiles, max), the share within budget and the Pareto members (most Mult-Adds for their cost)."""

    space: Space
    size: int
    exhaustive: bool
    evaluated: int
    seed: int | None
    metrics: tuple[str, ...]
    distribution: dict[str, np.ndarray]  # metric → [min, *QUANTILES, max]
    budget: Budget
    within: int
    cost: str  # the Pareto members' cost axis
    front: dict[str, np.ndarray]  # "member" (number), each choice column, "macs", and the cost
    device: str | None = None
    dtype: str = "fp32"
    quantiles: tuple[float, ...] = QUANTILES

    @property
    def share(self) -> float:
        return self.within / self.evaluated if self.evaluated else 0.0


@lru_cache(maxsize=8)
def _tables(text: str, file: str, device: str | None) -> Tables:
    from mobcost.latency.device import device as find_device

    return build(read_space(text, file), find_device(device) if device else None)


def tables_for(space: Space, device: str | None = None) -> Tables:
    from mobcost.latency.device import device as find_device

    return build(space, find_device(device) if device else None)


def choices_of(space: Space, rows: np.ndarray) -> dict[str, list]:
    """Member rows (Members.rows) as their choices, column by column (None where a block is absent)."""
    m = Members.of_rows(rows, len(space.stages), len(unit_blocks(space)))
    columns: dict[str, list] = {name: [] for name in space.columns()}
    names = space.columns()
    for i in range(len(m)):
        values: list = [space.decode_global(int(m.g[i]))[c.field] for c in space.globals]
        k = 0
        for j, stage in enumerate(space.stages):
            if stage.split and len(stage.depths) > 1:
                values.append(int(m.d[j][i]))
            values += list(_digits(int(m.s[j][i]), stage.stage_choices).values())
            for b in range(stage.blocks):
                option = int(m.l[k][i])
                k += 1
                present = 0 <= option < stage.block_combos
                values += (list(_digits(option, stage.block_choices).values()) if present
                           else [None] * len(stage.block_choices))
                if stage.zero and b > 0:
                    values.append(option == stage.block_combos if option >= 0 else None)
        for name, value in zip(names, values):
            columns[name].append(value)
    return columns


def explore(space: Space, samples: int | None = None, seed: int = 0, exhaustive: bool | None = None,
            device: str | None = None, budget: Budget | None = None, cost: str | None = None, dtype: str = "fp32",
            client=None, sink=None, tables: Tables | None = None) -> SpaceResult:
    """The space's distribution over all its members (exhaustive: when it has at most `samples` members, or when
    asked) or over `samples` members drawn uniformly with `seed`; `client` a dask.distributed Client to run the
    chunks on; `sink(members, costs)` sees every chunk (the CSV of every member)."""
    budget = budget or Budget()
    size = space.size
    samples = DEFAULT_SAMPLES if samples is None else samples
    if not 1 <= samples <= MAX_SAMPLES:
        raise MobcostError(f"--samples takes 1 to {MAX_SAMPLES:,} members {LIMIT} (found {samples:,})")
    if exhaustive is None:
        exhaustive = size <= samples
    if exhaustive and size > MAX_SAMPLES and client is None:
        raise MobcostError(f"{space.name} has {size:,} members, more than the {MAX_SAMPLES:,} one command enumerates "
                           f"{LIMIT}: draw --samples from it, or run the chunks on a Dask cluster (--dask)")
    if exhaustive and size > INT64_INDEX:
        raise MobcostError(f"{space.name} has {size:,} members: too many to number in 64 bits; draw --samples")
    if device is None and (budget.latency is not None or cost == "latency"):
        raise MobcostError("a latency budget needs a device: --device pixel1 (`mobcost devices` lists them)")
    tables = tables or tables_for(space, device)
    metrics = tuple(m for m in METRICS if m != "latency" or device)
    cost = cost or ("latency" if device else "memory" if budget.memory is not None else "params")
    total = size if exhaustive else samples
    work = chunks(total, None if exhaustive else seed)
    edges = {metric: bounds(tables, metric, dtype) for metric in metrics}
    job = Job(metrics, edges, budget, cost, dtype)
    first = _map(tables, job, work, client, sink)
    targets = quantile_targets(first, metrics)
    wanted = tuple(sorted({(metric, target) for (metric, _), (target, _) in targets.items()}, key=str))
    second = _map(tables, Job(metrics, edges, budget, cost, dtype, wanted), work, client, None)
    distribution = {}
    for metric in metrics:
        values = [first.low[metric]]
        for q in QUANTILES:
            target, rank = targets[(metric, q)]
            values.append(pick(second.found[(metric, target)], rank))
        values.append(first.high[metric])
        distribution[metric] = np.array(values)
    front = {}
    if first.front is not None:
        rows = first.front
        front["member"] = rows[:, 0]
        front.update({name: np.array(values, dtype=object) for name, values in choices_of(space, rows[:, :-2]).items()})
        front["macs"] = rows[:, -2]
        front[cost] = rows[:, -1].view(np.float64) if cost == "latency" else rows[:, -1]
    return SpaceResult(space, size, exhaustive, first.count, None if exhaustive else seed, metrics, distribution,
                       budget, first.within, cost, front, device, dtype)


def _map(tables: Tables, job: Job, work: list[Chunk], client, sink) -> Partial:
    if client is not None:
        from mobcost.space.distributed import map_chunks

        return map_chunks(client, tables, job, work)
    total = Partial()
    for chunk in work:
        total.merge(run_chunk(tables, job, chunk, sink))
    return total


def evaluate(space: Space, members: Members, device: str | None = None, dtype: str = "fp32",
             tables: Tables | None = None) -> dict[str, np.ndarray]:
    """The costs of given members (a search loop's candidates), as arrays."""
    tables = tables or tables_for(space, device)
    return costs(tables, members, METRICS if device else METRICS[:3], dtype)
