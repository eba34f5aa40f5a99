"""Sizing a model before training: α × resolution grids, budgets, accuracy estimates and the Pareto front.

Accuracy is never computed, only estimated from published figures: bilinear interpolation in (α, resolution) over
the largest full grid of published accuracies one source gives for the network (for MobileNet V1 the 16 TF-slim
checkpoints, α ∈ {0.25, 0.5, 0.75, 1} × {128, 160, 192, 224}; for V2 the TF-slim README's 20 at α ≤ 1). Outside
that grid there is no estimate.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from collections.abc import Sequence
from typing import Iterable, Iterator

from mobcost.errors import shown
from mobcost.limits import LIMIT, MAX_GRID, decimal_of
from mobcost.language import Budget, MobcostError, Network, parse_size
from mobcost.memory import BYTES, Dtype, peak_memory
from mobcost.display import Displayed
from mobcost.trace import Totals, plan_work, sweep, trace

# ---- grids: `0.25:1.0:0.05`, `224,192,160`, or both mixed -------------------------------------------------------


def parse_grid(text: str, option: str, default_step: str) -> list[Decimal]:
    """The values of a list (`1,0.75,0.5`) and/or inclusive ranges (`start:stop[:step]`), in the order given, each
    bound read by limits.decimal_of (ASCII digits, finite); at most MAX_GRID values, counted before any is built."""
    values: list[Decimal] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        bounds = [decimal_of(b) for b in part.split(":")]
        if len(bounds) > 3 or None in bounds:
            raise MobcostError(f"{option} takes numbers separated by commas (e.g. 1,0.75,0.5) and ranges "
                               f"start:stop[:step] (e.g. 0.25:1.0:0.05); found {shown(text)!r}")
        if len(bounds) == 1:
            bounds.append(bounds[0])  # one value: the range start:start
        start, stop, step = (*bounds, Decimal(default_step))[:3]
        if step <= 0 or stop < start:
            raise MobcostError(f"{option} {shown(part)!r}: a range runs upwards from start to stop by a positive "
                               f"step, e.g. 0.25:1.0:0.05")
        try:
            count = (stop - start) // step + 1
        except ArithmeticError:  # a quotient of more digits than decimal's precision: far too many values
            count = Decimal(MAX_GRID + 1)
        if len(values) + count > MAX_GRID:  # before building the list
            raise MobcostError(f"{option}: expected at most {MAX_GRID:,} values {LIMIT}; found {shown(part)!r}")
        values += [start + i * step for i in range(int(count))]
    return values


def alphas_of(text: str) -> list[float]:
    """Width multipliers from `--alpha`; a range without a step goes by 0.05."""
    return [float(a) for a in parse_grid(text, "--alpha", "0.05")]


def resolutions_of(text: str) -> list[int]:
    """Resolutions in pixels from `--res`; a range without a step goes by 8."""
    values = parse_grid(text, "--res", "8")
    if any(v != v.to_integral_value() or v < 1 for v in values):
        raise MobcostError(f"--res takes whole numbers of pixels (found {text!r})")
    return [int(v) for v in values]


# ---- memory -----------------------------------------------------------------------------------------------------

def parse_bytes(value: str | int) -> int:
    """A number of bytes: `1MB`, `512kB`, `1.5M`, `2e6` (decimal units, M = 10⁶; a trailing B means bytes)."""
    text = str(value).strip()
    return parse_size(text[:-1] if text.endswith("B") and re.search(r"[0-9kKMGT]B$", text) else text)


# ---- accuracy estimates -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    """An accuracy read off the published grid, with the published points it came from."""

    accuracy: float
    points: tuple[tuple[Fraction, int, float], ...]  # (α, resolution, published accuracy)
    source: str

    @property
    def published(self) -> bool:
        return len(self.points) == 1

    def describe(self) -> str:
        pts = ", ".join(f"{float(a):g}/{r} {acc:g}" for a, r, acc in self.points)
        return f"published ({self.source})" if self.published else f"between {pts}"


@dataclass(frozen=True)
class AccuracyGrid:
    """Published accuracies at every α × resolution of one source, for bilinear interpolation."""

    source: str
    alphas: tuple[Fraction, ...]
    resolutions: tuple[int, ...]
    accuracy: dict[tuple[Fraction, int], float]

    @classmethod
    def of(cls, network: Network, variant: str | None = None, named: str | None = None) -> AccuracyGrid | None:
        """The largest full α × resolution grid one source publishes for this network and variant, or None;
        `named` takes the accuracies of the sources whose names contain it as one source."""
        by_source = _accuracies(network, variant, named)
        grids = [grid for source, points in by_source.items() if (grid := cls._rectangle(source, points))]
        return max(grids, key=lambda g: len(g.accuracy), default=None)

    @classmethod
    def _rectangle(cls, source: str, points: dict) -> AccuracyGrid | None:
        """The largest α × resolution grid inside one source's points (TF-slim V2 has 1.3 and 1.4 at 224 only)."""
        published = {a: {r for b, r in points if b == a} for a, _ in points}
        best = None
        for resolutions in {frozenset(rs) for rs in published.values() if len(rs) > 1}:
            alphas = sorted(a for a, rs in published.items() if rs >= resolutions)
            if len(alphas) > 1 and (best is None or len(alphas) * len(resolutions) > len(best.accuracy)):
                best = cls(source, tuple(alphas), tuple(sorted(resolutions)),
                           {(a, r): points[a, r] for a in alphas for r in resolutions})
        return best

    def estimate(self, alpha: Fraction, resolution: int) -> Estimate | None:
        """Bilinear in (α, resolution) between the four surrounding published points; None outside the grid."""
        a_lo, a_hi, a_t = _bracket(self.alphas, Fraction(alpha))
        r_lo, r_hi, r_t = _bracket(self.resolutions, resolution)
        if a_t is None or r_t is None:
            return None
        weights: dict[tuple[Fraction, int], Fraction] = {}
        for a, wa in ((a_lo, 1 - a_t), (a_hi, a_t)):
            for r, wr in ((r_lo, 1 - r_t), (r_hi, r_t)):
                if wa * wr:
                    weights[a, r] = weights.get((a, r), 0) + wa * wr
        value = sum(float(w) * self.accuracy[key] for key, w in weights.items())
        points = tuple((a, r, self.accuracy[a, r]) for a, r in sorted(weights))
        return Estimate(round(value, 6), points, self.source)

    def describe(self) -> str:
        alphas = ", ".join(f"{float(a):g}" for a in self.alphas)
        return (f"{len(self.accuracy)} published Top-1 accuracies from {self.source} (α {alphas} × resolution "
                f"{', '.join(map(str, self.resolutions))})")


def _accuracies(network: Network, variant: str | None, named: str | None = None
                ) -> dict[str, dict[tuple[Fraction, int], float]]:
    """Published accuracies by source, then by (α, resolution); with `named`, of every source whose name contains
    it (case-insensitive), under their names joined."""
    refs = [ref for ref in network.reference if ref.accuracy is not None and ref.variant == variant]
    if named is not None:
        sources = list(dict.fromkeys(ref.source for ref in network.reference if ref.accuracy is not None))
        refs = [ref for ref in refs if named.casefold() in ref.source.casefold()]
        if not refs:
            raise MobcostError(f"--accuracy {named!r}: no published accuracy of {network.name} comes from a source "
                               f"of that name; its sources are: {'; '.join(sources) or 'none'}")
    by_source: dict[str, dict[tuple[Fraction, int], float]] = {}
    joined = "; ".join(dict.fromkeys(ref.source for ref in refs))
    for ref in refs:
        key = (Fraction(str(ref.alpha)), ref.resolution or network.input.resolution)
        by_source.setdefault(joined if named is not None else ref.source, {}).setdefault(key, ref.accuracy)
    return by_source


def published_accuracy(network: Network, variant: str | None = None, named: str | None = None
                       ) -> tuple[str | None, dict[tuple[Fraction, int], float]]:
    """One source's published accuracies by (α, resolution): the sources named (see _accuracies), else the source
    of the accuracy grid `fit` estimates from, else the source with the most; never a mix of sources unasked."""
    by_source = _accuracies(network, variant, named)
    if not by_source:
        return None, {}
    grid = AccuracyGrid.of(network, variant, named)
    source = grid.source if grid else max(by_source, key=lambda s: len(by_source[s]))
    return source, by_source[source]


def _bracket(grid: tuple, x) -> tuple:
    """The grid values around x and x's fraction of the way between them; (…, None) outside the grid."""
    if not grid[0] <= x <= grid[-1]:
        return None, None, None
    i = bisect_left(grid, x)
    if grid[i] == x:
        return x, x, Fraction(0)
    lo, hi = grid[i - 1], grid[i]
    return lo, hi, Fraction(x - lo) / (hi - lo)


# ---- fit ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """One variant within the budgets, with its estimated accuracy and whether it is on the Pareto front."""

    totals: Totals
    memory: int | None = None  # peak activation bytes (mobcost.memory's rule), when a memory budget was given
    estimate: Estimate | None = None
    front: bool = False
    latency: float | None = None  # estimated milliseconds on the limits' device (mobcost.latency), when one is given


@dataclass(frozen=True)
class Limits:
    """The budgets of a fit: Mult-Adds, parameters, peak activation bytes at a data type."""

    max_macs: int | None = None
    max_params: int | None = None
    max_memory: int | None = None
    dtype: Dtype = "fp16"
    max_latency: float | None = None  # milliseconds, as estimated on `device`
    device: str | None = None  # a latency device (mobcost devices): estimate each variant's latency there

    @classmethod
    def of(cls, budget: Budget | None, max_macs: str | None = None, max_params: str | None = None,
           max_memory: str | None = None, dtype: Dtype = "fp16", max_latency: str | None = None,
           device: str | None = None) -> Limits:
        """Limits from command-line sizes (`150M`, `1.5G`, `2.5e6`, `300k`, `1MB`); with none, the config's budget."""
        if dtype not in BYTES:
            raise MobcostError(f"--dtype takes {', '.join(BYTES)} (found {dtype!r})")
        values = []
        for option, text, parse in (("--max-macs", max_macs, parse_size), ("--max-params", max_params, parse_size),
                                    ("--max-memory", max_memory, parse_bytes)):
            try:
                values.append(None if text is None else parse(text))
            except ValueError as e:
                raise MobcostError(f"{option}: {e}") from None
        if max_latency is not None and device is None:
            raise MobcostError("--max-latency needs --device: latency is estimated per device (mobcost devices)")
        if device is not None:
            from mobcost.latency.device import device as known_device

            known_device(device)
        ms = None
        if max_latency is not None:
            from mobcost.latency.estimate import parse_ms

            ms = parse_ms(max_latency)
        if values == [None, None, None] and ms is None and budget is not None:
            values = [budget.max_macs, budget.max_params, None]
        return cls(*values, dtype, ms, device)

    def describe(self) -> str:
        parts = [f"Mult-Adds ≤ {self.max_macs:,}" if self.max_macs is not None else "",
                 f"parameters ≤ {self.max_params:,}" if self.max_params is not None else "",
                 "" if self.max_memory is None else f"peak activations ≤ {self.max_memory:,} bytes ({self.dtype})",
                 "" if self.max_latency is None else f"estimated latency ≤ {self.max_latency:g} ms on {self.device}"]
        return ", ".join(filter(None, parts))


@dataclass(frozen=True, repr=False)
class Fit(Displayed):
    """The variants of a network within a budget, best first (mobcost.fit), with the grid the accuracy came from."""

    title: str
    candidates: tuple[Candidate, ...]
    grid: AccuracyGrid | None
    limits: Limits

    def __repr__(self) -> str:
        best = self.candidates[0] if self.candidates else None
        accuracy = f", {best.estimate.accuracy:.1f}% Top-1 (estimate)" if best and best.estimate else ""
        return (f"Fit({self.title}: {len(self.candidates)} variants within {self.limits.describe()}"
                + (f"; best {best.totals.label}{accuracy})" if best else ")"))


@dataclass(frozen=True, repr=False)
class Sweep(Displayed, Sequence):
    """The totals of every α × resolution (mobcost.sweep): a sequence of Totals that shows itself as the table
    `mobcost sweep` prints, with the published accuracy where the config has one."""

    title: str
    totals: tuple[Totals, ...]
    accuracy: tuple[tuple[float, str] | None, ...]

    def __getitem__(self, index):
        return self.totals[index]

    def __len__(self) -> int:
        return len(self.totals)

    def __repr__(self) -> str:
        span = f"{self.totals[0].label} … {self.totals[-1].label}" if len(self) > 1 else self.totals[0].label
        return f"Sweep({self.title}: {len(self)} variants, {span})"


def fit(network: Network, alphas: Iterable[float], resolutions: Iterable[int], limits: Limits,
        variant: str | None = None, accuracy: str | None = None) -> tuple[list[Candidate], AccuracyGrid | None]:
    """Every α × resolution within the limits, best first: by estimated accuracy, then (no estimate) by Mult-Adds;
    accuracy estimated from the grid of the sources named `accuracy` (see AccuracyGrid.of)."""
    if (limits.max_macs is None and limits.max_params is None and limits.max_memory is None
            and limits.max_latency is None):
        raise MobcostError("fit needs a budget: --max-macs, --max-params, --max-memory or --max-latency with --device "
                           "(e.g. --max-macs 150M), or a `budget:` in the config")
    alphas, resolutions = list(alphas), list(resolutions)
    if not alphas or not resolutions:
        raise MobcostError("fit needs at least one value in each of --alpha and --res (found "
                           f"{len(alphas)} and {len(resolutions)}), e.g. --alpha 0.25:1.4 --res 96:320")
    if limits.max_memory is not None or limits.device is not None:  # each variant within the other limits is
        what = "fit --max-memory" if limits.max_memory is not None else "fit --device"  # traced in full
        plan_work(network, len(alphas) * len(resolutions), what)
    grid = AccuracyGrid.of(network, variant, accuracy)
    candidates = [Candidate(t, memory, grid.estimate(t.exact_alpha, t.resolution) if grid else None, latency=ms)
                  for t, memory, ms in _within(network, alphas, resolutions, limits)]
    candidates = _mark_front(candidates)
    estimated = sorted((c for c in candidates if c.estimate), key=lambda c: (-c.estimate.accuracy, c.totals.macs))
    rest = sorted((c for c in candidates if not c.estimate), key=lambda c: (-c.totals.macs, c.totals.params))
    return estimated + rest, grid


def _within(network: Network, alphas, resolutions,
            limits: Limits) -> Iterator[tuple[Totals, int | None, float | None]]:
    if limits.device is not None:
        from mobcost.latency.device import device
        from mobcost.latency.estimate import estimate

        on = device(limits.device)
    memo: dict = {}  # the layers built at one α, shared by its resolutions' traces (trace's `memo`)
    for t in sweep(network, alphas, resolutions):
        if ((limits.max_macs is not None and t.macs > limits.max_macs)
                or (limits.max_params is not None and t.params > limits.max_params)):
            continue
        if memo.get("alpha") != t.exact_alpha:
            memo = {"alpha": t.exact_alpha}
        full = (trace(network, t.exact_alpha, t.resolution, memo=memo)  # once, for its memory and its latency
                if limits.max_memory is not None or limits.device is not None else None)
        memory = None
        if limits.max_memory is not None:
            memory = peak_memory(full, limits.dtype)
            if memory > limits.max_memory:
                continue
        ms = None
        if limits.device is not None:
            ms = estimate(full, on).ms
            if limits.max_latency is not None and ms > limits.max_latency:
                continue
        yield t, memory, ms


def _mark_front(candidates: list[Candidate]) -> list[Candidate]:
    """Mark the Pareto front: no other candidate is at least as good on both axes and better on one.

    With accuracy estimates the axes are accuracy (higher) against Mult-Adds (lower), among the estimated
    candidates; without any, Mult-Adds (higher) against parameters (lower): the most compute per parameter.
    """
    if any(c.estimate for c in candidates):
        pool = [(c.totals.macs, c.estimate.accuracy, i) for i, c in enumerate(candidates) if c.estimate]
    else:
        pool = [(c.totals.params, c.totals.macs, i) for i, c in enumerate(candidates)]
    front, best = set(), None
    for cost, benefit, i in sorted(pool, key=lambda p: (p[0], -p[1])):
        if best is None or benefit > best:
            front.add(i)
            best = benefit
    return [replace(c, front=i in front) for i, c in enumerate(candidates)]
