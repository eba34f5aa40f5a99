"""A space's members, drawn or enumerated in chunks, their costs gathered from the tables, and the distribution,
the share within budget and the Pareto members accumulated chunk by chunk (memory flat in the number of members).

A chunk is independent work: members [start, stop) of the enumeration, or `count` members drawn from the seed
(seed, chunk number), so chunks run in any order, on any worker (mobcost.space.distributed) and merge to the same
result. Quantiles are exact in two passes over the same chunks: the first counts members per bin between known
bounds, the second collects the values in the bins the quantiles fall in.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator
from fractions import Fraction

import numpy as np

from mobcost.space.spec import Space
from mobcost.space.tables import Tables

CHUNK = 1 << 16  # members per chunk: about 20 MB of arrays for a 26-unit space
BINS = 1 << 16
QUANTILES = (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
METRICS = ("macs", "params", "memory", "latency")
BYTES = {"fp32": 4, "fp16": 2, "int8": 1}


@dataclass
class Members:
    """Members as arrays: the global combination, each stage's combination and depth, each unit's block option
    (−1 where the member has no such block; block_combos for the zero operation)."""

    g: np.ndarray
    s: list[np.ndarray]
    d: list[np.ndarray]
    l: list[np.ndarray]
    index: np.ndarray  # each member's number: its place in the enumeration, or in the draw

    def __len__(self) -> int:
        return len(self.g)

    def take(self, mask) -> Members:
        return Members(self.g[mask], [a[mask] for a in self.s], [a[mask] for a in self.d], [a[mask] for a in self.l],
                       self.index[mask])

    def rows(self) -> np.ndarray:
        """One int64 row per member: index, g, every s, every d, every l."""
        return np.column_stack([self.index, self.g, *self.s, *self.d, *self.l]) if len(self) else np.zeros(
            (0, 2 + len(self.s) + len(self.d) + len(self.l)), dtype=np.int64)

    @classmethod
    def of_rows(cls, rows: np.ndarray, stages: int) -> Members:
        cols = [rows[:, i] for i in range(rows.shape[1])]
        return cls(cols[1], cols[2:2 + stages], cols[2 + stages:2 + 2 * stages], cols[2 + 2 * stages:], cols[0])


def draw(space: Space, count: int, rng: np.random.Generator, first: int = 0) -> Members:
    """`count` members drawn uniformly from the space: every member equally likely (a stage's depth d weighted by
    its number of members at that depth)."""
    g = rng.integers(space.global_combos, size=count, dtype=np.int64)
    s, d, l = [], [], []
    for stage in space.stages:
        s.append(rng.integers(stage.stage_combos, size=count, dtype=np.int64))
        if len(stage.depths) > 1:
            counts = stage.by_depth()
            total = sum(counts)
            p = np.array([float(Fraction(c, total)) for c in counts])
            d.append(np.array(stage.depths, dtype=np.int64)[rng.choice(len(counts), size=count, p=p / p.sum())])
        else:
            d.append(np.full(count, stage.depths[0], dtype=np.int64))
        for b in range(stage.blocks):
            block = rng.integers(stage.options(b), size=count, dtype=np.int64)
            l.append(np.where(b < d[-1], block, -1) if stage.split else block)
    return Members(g, s, d, l, np.arange(first, first + count, dtype=np.int64))


def decode(space: Space, start: int, stop: int) -> Members:
    """Members start … stop − 1 of the enumeration (global combination fastest, then each stage's members in
    order: its combination, its depth, its blocks)."""
    idx = np.arange(start, stop, dtype=np.int64)
    rest = idx.copy()
    G = space.global_combos
    g = rest % G
    rest //= G
    s, d, l = [], [], []
    for stage in space.stages:
        r = rest % stage.size if stage.size > 1 else np.zeros_like(rest)
        rest //= stage.size
        s.append(r % stage.stage_combos)
        r //= stage.stage_combos
        counts = stage.by_depth()
        ends = np.cumsum(np.array(counts, dtype=np.int64))
        which = np.searchsorted(ends, r, side="right")
        r = r - (ends[which] - np.array(counts, dtype=np.int64)[which])
        d.append(np.array(stage.depths, dtype=np.int64)[which])
        for b in range(stage.blocks):
            opt = stage.options(b)
            block = r % opt
            r //= opt
            l.append(np.where(b < d[-1], block, -1) if stage.split else block)
    return Members(g, s, d, l, idx)


def costs(tables: Tables, m: Members, metrics=METRICS, dtype: str = "fp32") -> dict[str, np.ndarray]:
    """Each member's Mult-Adds, parameters, peak activation memory (bytes) and latency (ms, with a device),
    gathered from the tables in int64 (float64 for the latency)."""
    space = tables.space
    n = len(m)
    want = set(metrics)
    out = {name: np.zeros(n, dtype=np.int64) for name in ("macs", "params") if name in want}
    timed = "latency" in want and tables.device is not None
    if timed:
        out["latency"] = np.zeros(n, dtype=np.float64)
    memory = "memory" in want
    peak, pend, pend_out = (np.zeros(n, dtype=np.int64) for _ in range(3))
    for k, unit in enumerate(tables.units):
        stage = space.stages[unit.stage]
        block = m.l[k]
        absent = None
        if stage.split:
            absent = (block < 0) | (block >= stage.block_combos)
            if not absent.any():
                absent = None
        idx = m.g.copy()
        for key, size in unit.keys[1:]:
            if size == 1:
                idx *= size
                continue
            digit = (m.s[tables.sources[unit.stage]] if key == "p" else m.s[unit.stage] if key == "s"
                     else block if absent is None else np.where(absent, 0, block))
            idx *= size
            idx += digit
        if absent is not None:
            idx[absent] = unit.entries
        arrays = unit.arrays
        for name in ("macs", "params"):
            if name in out:
                out[name] += arrays[name].take(idx)
        if timed:
            out["latency"] += arrays["ms"].take(idx)
        if memory:
            _step(unit, k, idx, absent, peak, pend, pend_out)
    if memory:
        np.maximum(peak, pend + pend_out, out=peak)
        out["memory"] = peak * BYTES[dtype]
    return out


def _step(unit, k: int, idx, absent, peak, pend, pend_out) -> None:
    """One unit's steps in the live-set walk (mobcost.space.tables): close the step the previous unit left open,
    unless this unit's input is computed in slices (then the step runs on into this unit), take this unit's own
    steps, and leave its last step open. `peak`, `pend` (the open step's read side) and `pend_out` (its output) are
    updated in place."""
    a = unit.arrays
    whole_peak = a["whole"].take(idx)  # first and inner steps, 0 for a single-step unit or an absent block
    if not k or not unit.sliced:
        closing = pend + pend_out
        if absent is not None:
            closing[absent] = 0
        np.maximum(peak, np.maximum(closing, whole_peak, out=closing), out=peak)
    else:
        sliced = a["sliced"].take(idx).astype(bool)
        single = a["single"].take(idx).astype(bool)
        closing = np.where(sliced, 0, pend + pend_out)
        if absent is not None:
            closing[absent] = 0
        np.maximum(peak, np.maximum(closing, whole_peak, out=closing), out=peak)
        merged = np.where(sliced & ~single, np.maximum(pend + a["opens"].take(idx), a["inner"].take(idx)), 0)
        np.maximum(peak, merged, out=peak)
        keep = sliced & single
        if absent is not None:
            keep |= absent
        np.copyto(pend, a["reads"].take(idx), where=~keep)
        if absent is not None:
            np.copyto(pend_out, a["writes"].take(idx), where=~absent)
        else:
            pend_out[:] = a["writes"].take(idx)
        return
    if absent is None:
        pend[:] = a["reads"].take(idx)
        pend_out[:] = a["writes"].take(idx)
    else:
        np.copyto(pend, a["reads"].take(idx), where=~absent)
        np.copyto(pend_out, a["writes"].take(idx), where=~absent)


def bounds(tables: Tables, metric: str, dtype: str = "fp32") -> tuple[float, float]:
    """Every member's value of a metric lies between these (sums of each unit's least and largest entries)."""
    units = tables.units
    if metric == "memory":
        top = max(int(max(u.arrays["first"].max(), u.arrays["inner"].max())) for u in units)
        reads = max(int(u.arrays["reads"].max()) for u in units)
        writes = max(int(max(u.arrays["writes"].max(), u.arrays["opens"].max())) for u in units)
        return 0, (max(top, reads + writes) + reads + writes) * BYTES[dtype]
    name = "ms" if metric == "latency" else metric
    return (sum(u.arrays[name].min() for u in units), sum(u.arrays[name].max() for u in units))


# ---- chunks and their partial results -------------------------------------------------------------------------

@dataclass(frozen=True)
class Chunk:
    """Independent work: members start … stop − 1 of the enumeration (seed None), or stop − start members drawn from
    (seed, number), numbered from start."""

    number: int
    start: int
    stop: int
    seed: int | None = None

    def members(self, space: Space) -> Members:
        if self.seed is None:
            return decode(space, self.start, self.stop)
        rng = np.random.default_rng([self.seed, self.number])
        return draw(space, self.stop - self.start, rng, self.start)


def chunk(number: int, total: int, seed: int | None) -> Chunk:
    """Chunk `number` of `total` members: members number · CHUNK onwards (the last chunk may be shorter)."""
    return Chunk(number, number * CHUNK, min((number + 1) * CHUNK, total), seed)


def chunks(total: int, seed: int | None, first: int = 0, stop: int | None = None) -> Iterator[Chunk]:
    """Chunks first … stop − 1 (default: all) of `total` members, made as they are needed."""
    for number in range(first, -(-total // CHUNK) if stop is None else stop):
        yield chunk(number, total, seed)


@dataclass
class Budget:
    macs: int | None = None
    params: int | None = None
    memory: int | None = None  # bytes
    latency: float | None = None  # ms

    def given(self) -> dict:
        return {name: value for name, value in vars(self).items() if value is not None}


@dataclass
class Partial:
    """What one pass over some chunks found: counts per bin, least and largest values, members within budget, the
    Pareto members among them (first pass); the values in the quantiles' bins (second pass)."""

    count: int = 0
    low: dict = field(default_factory=dict)
    high: dict = field(default_factory=dict)
    hist: dict = field(default_factory=dict)
    hist_within: dict = field(default_factory=dict)  # of the members within budget
    within: int = 0
    front: np.ndarray | None = None  # member rows with their capacity and cost columns last
    found: dict = field(default_factory=dict)  # (metric, bin) → Counter of values

    def merge(self, other: Partial) -> Partial:
        if not other.count and not other.found:
            return self
        self.count += other.count
        for name, value in other.low.items():
            self.low[name] = min(self.low.get(name, value), value)
            self.high[name] = max(self.high.get(name, other.high[name]), other.high[name])
            for mine, theirs in ((self.hist, other.hist), (self.hist_within, other.hist_within)):
                mine[name] = mine[name] + theirs[name] if name in mine else theirs[name]
        self.within += other.within
        if other.front is not None:
            both = other.front if self.front is None else np.concatenate([self.front, other.front])
            self.front = pareto(both)
        for key, counter in other.found.items():
            self.found.setdefault(key, Counter()).update(counter)
        return self


def pareto(rows: np.ndarray) -> np.ndarray:
    """Rows not dominated: most Mult-Adds (column −2) for their cost (column −1), ties kept once (the first
    member by number)."""
    if not len(rows):
        return rows
    order = np.lexsort((rows[:, 0], -rows[:, -2], rows[:, -1]))  # cost ↑, Mult-Adds ↓, member number ↑
    rows = rows[order]
    best = np.maximum.accumulate(rows[:, -2])
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = rows[1:, -2] > best[:-1]
    return rows[keep]


@dataclass(frozen=True)
class Job:
    """What every chunk needs: the metrics, their bins, the budget and the Pareto cost."""

    metrics: tuple[str, ...]
    edges: dict  # metric → (low, high): every value lies within
    budget: Budget
    cost: str  # the Pareto members' cost: latency, memory or params
    dtype: str = "fp32"
    targets: tuple = ()  # second pass: (metric, bin) pairs whose values to collect


def bins(values: np.ndarray, low, high) -> np.ndarray:
    scale = BINS / (float(high) - float(low) + 1)
    return np.clip(np.floor((values - low) * scale).astype(np.int64), 0, BINS - 1)


def run_chunk(tables: Tables, job: Job, chunk: Chunk, sink=None) -> Partial:
    members = chunk.members(tables.space)
    values = costs(tables, members, job.metrics, job.dtype)
    part = Partial()
    if sink is not None:
        sink(members, values)
    if job.targets:
        for metric, target in job.targets:
            v = values[metric]
            hit = v[bins(v, *job.edges[metric]) == target]
            uniq, counts = np.unique(hit, return_counts=True)
            part.found[(metric, target)] = Counter(dict(zip(uniq.tolist(), counts.tolist())))
        return part
    part.count = len(members)
    ok = np.ones(len(members), dtype=bool)
    for metric, limit in job.budget.given().items():
        ok &= values[metric] <= limit
    part.within = int(ok.sum())
    for metric in job.metrics:
        v = values[metric]
        part.low[metric], part.high[metric] = v.min().item(), v.max().item()
        where = bins(v, *job.edges[metric])
        part.hist[metric] = np.bincount(where, minlength=BINS)
        part.hist_within[metric] = np.bincount(where[ok], minlength=BINS)
    if ok.any():
        cost = values[job.cost][ok]
        cost = cost if cost.dtype == np.int64 else cost.view(np.int64)  # positive floats order as their bits
        part.front = pareto(np.column_stack([members.take(ok).rows(), values["macs"][ok], cost]))
    return part


def quantile_targets(first: Partial, metrics, qs=QUANTILES) -> dict:
    """For each metric and quantile: the bin its value falls in and its rank there (inverted CDF: the value at rank
    ⌈q·N⌉)."""
    out = {}
    for metric in metrics:
        cum = np.cumsum(first.hist[metric])
        for q in qs:
            rank = max(1, math.ceil(Fraction(q).limit_denominator(10**6) * first.count))
            target = int(np.searchsorted(cum, rank))
            before = int(cum[target - 1]) if target else 0
            out[(metric, q)] = (target, rank - before)
    return out


def pick(counter: Counter, rank: int):
    seen = 0
    for value in sorted(counter):
        seen += counter[value]
        if seen >= rank:
            return value
    raise AssertionError("rank beyond the bin's count")
