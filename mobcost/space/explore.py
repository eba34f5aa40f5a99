"""A space explored: its size, its members enumerated when there are few and drawn uniformly otherwise, the exact
distribution of each cost, the share within a budget and the Pareto members (computation only, plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mobcost.display import Displayed
from mobcost.errors import MobcostError
from mobcost.limits import LIMIT
from mobcost.space.run import (CHUNK, METRICS, QUANTILES, Budget, Job, Members, Partial, bounds, chunk, chunks,
                               costs, pick, quantile_targets, run_chunk)
from mobcost.space.spec import Space, member_text
from mobcost.space.tables import Tables, build

MAX_SAMPLES = 10**9  # members one command evaluates: minutes on one core
DEFAULT_SAMPLES = 100_000
INT64_INDEX = 2**63 - 1


@dataclass(repr=False)
class SpaceResult(Displayed):
    """What `mobcost space` prints: the size, how the members were chosen, each metric's distribution (min, the
    QUANTILES, max, as arrays), the share within budget and the Pareto members (the most Mult-Adds for their cost),
    as arrays: `front["macs"]`, `front[cost]`, `front["member"]` and one array per choice."""

    space: Space
    size: int
    exhaustive: bool
    evaluated: int
    seed: int | None
    metrics: tuple[str, ...]
    distribution: dict[str, np.ndarray]  # metric → [min, *QUANTILES, max]
    budget: Budget
    within: int
    cost: str  # the Pareto members' cost
    front: dict[str, np.ndarray]
    hist: dict[str, tuple]  # metric → (low, high, counts per bin of all members, of those within budget)
    device: str | None = None
    dtype: str = "fp32"
    quantiles: tuple[float, ...] = QUANTILES
    members: dict[str, np.ndarray] | None = None  # with keep=True: every member's choices and costs

    @property
    def share(self) -> float:
        """The share of the members evaluated that fit the budget."""
        return self.within / self.evaluated if self.evaluated else 0.0

    def __repr__(self) -> str:
        return (f"SpaceResult({self.space.name}: {self.size:,} members, {self.evaluated:,} "
                f"{'enumerated' if self.exhaustive else 'drawn'}, median {int(self.distribution['macs'][4]):,} "
                "Mult-Adds)")


def numpy_needed() -> None:
    try:
        import numpy  # noqa: F401
    except ImportError:
        raise MobcostError("mobcost space needs numpy: pip install 'mobcost[space]'") from None


def tables_for(space: Space, device: str | None = None) -> Tables:
    from mobcost.latency.device import device as find_device

    return build(space, find_device(device) if device else None)


def columns(space: Space, m: Members) -> dict[str, tuple[tuple, np.ndarray]]:
    """Each member's choices, column by column (Space.columns): the column's values and each member's index into
    them, −1 where the member has no such choice (a block it drops)."""
    out: dict[str, tuple[tuple, np.ndarray]] = {}
    g = m.g.copy()
    for choice in space.globals:
        out[choice.field] = (choice.values, g % len(choice.values))
        g //= len(choice.values)
    k = 0
    for j, stage in enumerate(space.stages):
        if stage.split and len(stage.depths) > 1:
            out[f"{stage.label}.n"] = (stage.depths, np.searchsorted(np.array(stage.depths), m.d[j]))
        s = m.s[j].copy()
        for choice in stage.stage_choices:
            out[f"{stage.label}.{choice.field}"] = (choice.values, s % len(choice.values))
            s //= len(choice.values)
        for b in range(stage.blocks):
            prefix = f"{stage.label}.{b + 1}." if stage.split else f"{stage.label}."
            option = m.l[k]
            k += 1
            present = (option >= 0) & (option < stage.block_combos)
            rest = np.where(present, option, 0)
            for choice in stage.block_choices:
                out[prefix + choice.field] = (choice.values, np.where(present, rest % len(choice.values), -1))
                rest //= len(choice.values)
            if stage.zero and b > 0:
                out[prefix + "zero"] = ((False, True), np.where(option < 0, -1, (option == stage.block_combos) * 1))
    return out


def explore(space: Space, samples: int | None = None, seed: int = 0, exhaustive: bool | None = None,
            device: str | None = None, budget: Budget | None = None, cost: str | None = None, dtype: str = "fp32",
            client=None, sink=None, keep: bool = False, tables: Tables | None = None) -> SpaceResult:
    """The space's distribution over all its members (exhaustive: when it has at most `samples` members, or when
    asked) or over `samples` members drawn uniformly with `seed`; `client` a dask.distributed Client to run the
    chunks on; `sink(space, members, costs)` sees every chunk (the CSV of every member); `keep` keeps every
    member's choices and costs as arrays."""
    numpy_needed()
    budget = budget or Budget()
    size = space.size
    samples = DEFAULT_SAMPLES if samples is None else samples
    if not 1 <= samples <= MAX_SAMPLES:
        raise MobcostError(f"--samples takes 1 to {MAX_SAMPLES:,} members {LIMIT} (found {samples:,})")
    if exhaustive is None:
        exhaustive = size <= samples
    if exhaustive and size > INT64_INDEX:
        raise MobcostError(f"{space.name} has {size:,} members: too many to number in 64 bits; draw --samples")
    if exhaustive and size > MAX_SAMPLES and client is None:
        raise MobcostError(f"{space.name} has {size:,} members, more than the {MAX_SAMPLES:,} one command enumerates "
                           f"{LIMIT}: draw --samples from it, or run the chunks on a Dask cluster (--dask)")
    if keep and (size if exhaustive else samples) > 10**7:
        raise MobcostError("keep=True holds every member in memory: at most 10,000,000 members")
    if device is None and (budget.latency is not None or cost == "latency"):
        raise MobcostError("a latency budget needs a device: --device pixel1 (`mobcost devices` lists them)")
    tables = tables or tables_for(space, device)
    metrics = tuple(m for m in METRICS if m != "latency" or device)
    cost = cost or ("latency" if device else "memory" if budget.memory is not None else "params")
    if cost not in metrics or cost == "macs":
        raise MobcostError(f"the Pareto members trade Mult-Adds for latency, memory or params (found {cost!r})")
    work = (size if exhaustive else samples, None if exhaustive else seed)  # members, and the draw's seed
    edges = {metric: bounds(tables, metric, dtype) for metric in metrics}
    kept: list = []

    def seen(members, values):
        if keep:
            kept.append((columns(space, members), values, members.index))
        if sink is not None:
            sink(space, members, values)
    job = Job(metrics, edges, budget, cost, dtype)
    first = _map(tables, job, work, client, seen if keep or sink is not None else None)
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
    front: dict[str, np.ndarray] = {}
    if first.front is not None:
        rows = first.front
        m = Members.of_rows(rows[:, :-2], len(space.stages))
        front["member"] = m.index
        for name, (values, index) in columns(space, m).items():
            front[name] = np.array([values[i] if i >= 0 else None for i in index], dtype=object)
        front["macs"] = rows[:, -2]
        front[cost] = rows[:, -1].view(np.float64) if cost == "latency" else rows[:, -1]
    hist = {metric: (*edges[metric], first.hist[metric], first.hist_within[metric]) for metric in metrics}
    members = None
    if keep:
        members = {"member": np.concatenate([index for _, _, index in kept])}
        for name in space.columns():
            values = kept[0][0][name][0]
            members[name] = np.concatenate([np.array(values, dtype=object)[cols[name][1]] for cols, _, _ in kept])
            members[name][np.concatenate([cols[name][1] for cols, _, _ in kept]) < 0] = None
        for metric in metrics:
            members[metric] = np.concatenate([values[metric] for _, values, _ in kept])
    return SpaceResult(space, size, exhaustive, first.count, None if exhaustive else seed, metrics, distribution,
                       budget, first.within, cost, front, hist, device, dtype, members=members)


def member(space: Space, number: int, samples: int, seed: int | None) -> str:
    """Member `number` as a plain spec's text: of the draw of `samples` members with `seed`, or (seed None) of the
    enumeration, as `mobcost space` numbers them in its CSV and its Pareto table."""
    numpy_needed()
    total = space.size if seed is None else samples
    if not 0 <= number < total:
        raise MobcostError(f"--spec-of takes a member's number from 0 to {total - 1:,} (found {number:,})")
    drawn = chunk(number // CHUNK, total, seed)  # the whole chunk, as drawn: a member depends on its chunk's size
    m = drawn.members(space)
    i = number - drawn.start
    stages, k = [], 0
    for j, stage in enumerate(space.stages):
        stages.append((int(m.s[j][i]), int(m.d[j][i]), [int(m.l[k + b][i]) for b in range(stage.blocks)]))
        k += stage.blocks
    return member_text(space, int(m.g[i]), stages)


def _map(tables: Tables, job: Job, work: tuple[int, int | None], client, sink) -> Partial:
    """Every chunk of `work` (members, seed), here or on a Dask cluster, merged."""
    if client is not None:
        from mobcost.space.distributed import map_chunks

        if sink is not None:
            raise MobcostError("every member's costs (-f csv, keep) are gathered on one machine: leave out --dask")
        return map_chunks(client, tables, job, *work)
    total = Partial()
    for part in chunks(*work):
        total.merge(run_chunk(tables, job, part, sink))
    return total
