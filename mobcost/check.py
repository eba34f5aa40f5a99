"""Hold a network to its published figures and its budget: one result per figure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

from mobcost.language import BN_PARAMS, Budget, MobcostError, ModelRef, Network, ParamCounting, Reference, SpecError
from mobcost.errors import listed, shown
from mobcost.trace import Analysis, Totals, plan_work, summed, trace

Status = Literal["ok", "erratum", "fail"]
_ROUNDING = {"nearest": ROUND_HALF_UP, "down": ROUND_FLOOR, "up": ROUND_CEILING}
_FIGURES = {"macs": "Mult-Adds", "params": "Parameters", "memory": "Peak activation bytes"}
_UNITS = {"million": 10**6, "billion": 10**9}


@dataclass(frozen=True)
class CheckResult:
    """One published figure or budget limit against the computed value, and where the spec states it."""

    model: str
    figure: str
    source: str  # the publication, `budget` (the spec's) or the command-line option
    key: str  # what is checked: macs, params, macs:<layer type> (a share), or a budget's max_macs, max_params…
    published: Decimal | int  # as printed (4.20 keeps its two decimals), or the budget's limit
    computed: Fraction | int  # exact: millions or percent for a published figure, a count for a budget
    rounded: Decimal | int  # the computed value at the published precision (a budget: the computed count)
    status: Status
    note: str = ""
    file: str | None = None  # the spec file, and the line of the figure or limit (None: the command line's)
    line: int | None = None

    @property
    def budget(self) -> bool:
        return self.key.startswith("max_")

    def shown(self) -> tuple[str, str]:
        """The published and computed values as the table prints them: `4.20`, `4.2088 → 4.21`; `≤ 300,000,000`."""
        if self.budget:
            return f"≤ {self.published:,}", f"{self.computed:,}"
        decimals = max(0, -self.published.as_tuple().exponent)
        return str(self.published), f"{float(self.computed):.{decimals + 2}f} → {self.rounded}"

    def to_dict(self) -> dict:
        """The result for JSON: numbers as numbers (the README's `mobcost check -f json` schema)."""
        def number(x):
            return int(x) if isinstance(x, int) or (isinstance(x, Decimal) and x == x.to_integral_value()) else float(x)

        decimals = None if self.budget else max(0, -self.published.as_tuple().exponent)
        return {"model": self.model, "figure": self.figure, "key": self.key, "source": self.source,
                "published": number(self.published), "decimals": decimals, "computed": number(self.computed),
                "rounded": number(self.rounded), "status": self.status, "note": self.note, "file": self.file,
                "line": self.line}


def at_precision(value: Fraction, printed: str, rounding: str) -> Decimal:
    """`value` rounded the way a source printed `printed`: to as many decimals, by its rounding rule."""
    places = Decimal(printed).as_tuple().exponent
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(places), rounding=_ROUNDING[rounding])


def _judge(network: Network, at: tuple, ref: Reference, key: str, printed: str, value: Fraction, figure: str
           ) -> CheckResult:
    shown = at_precision(value, printed, ref.rounding)
    matches = shown == Decimal(printed)
    erratum = ref.errata.get(key)
    if matches and erratum:
        status, note = "fail", f"recorded as an erratum, but the arithmetic agrees: {erratum}"
    elif matches:
        status, note = "ok", ""
    elif erratum:
        status, note = "erratum", erratum
    else:
        exact = f"{float(value):.{max(2, -Decimal(printed).as_tuple().exponent + 2)}f}"
        status, note = "fail", f"{ref.rounding} rounding of {exact} gives {shown}, the source prints {printed}"
    return CheckResult(ref.label, figure, ref.source, key, Decimal(printed), value, shown, status, note,
                       network.file, network.line(at))


@dataclass(frozen=True)
class _Computed:
    """What a check needs of one traced variant: its totals, its breakdown and its parts' sums, never its rows."""

    totals: Totals
    breakdown: dict[str, tuple[int, int]]
    parts: dict[str, tuple[int, int, int]]  # part → Mult-Adds, parameters, batch-normalized channels


def _computed(network: Network, variant: str | None, alpha: float, resolution: int | None,
              classes: int | None, cache: dict | None) -> _Computed:
    """The variant traced once per (variant, α, resolution, classes), however many published rows name it."""
    key = (variant, alpha, resolution, classes)
    if cache is not None and key in cache:
        return cache[key]
    built = network.variant(variant)
    if classes is not None:
        built = built.model_copy(update={"classes": classes})
    analysis = trace(built, alpha, resolution)
    parts: dict[str, tuple[int, int, int]] = {}
    for row in analysis.rows:
        macs, params, bn = parts.get(row.part, (0, 0, 0))
        parts[row.part] = (macs + row.macs, params + row.params, bn + row.bn)
    found = _Computed(summed(analysis), analysis.breakdown(), parts)
    if cache is not None:
        cache[key] = found
    return found


def _counted(network: Network, ref: Reference, at: tuple, computed: _Computed, counting: ParamCounting) -> dict:
    """The Mult-Adds and parameters a published row counts: those of its `parts`, or the whole network's."""
    if not ref.parts:
        return {"macs": computed.totals.macs, "params": computed.totals.params_counted(counting)}
    if unknown := [part for part in ref.parts if part not in computed.parts]:
        raise network.problem((*at, "parts"), None, f"{shown(unknown[0])!r} is not a part of {network.name}; its "
                              f"parts are {listed(computed.parts)}")
    sums = [computed.parts[part] for part in ref.parts]
    return {"macs": sum(macs for macs, _, _ in sums),
            "params": sum(params + BN_PARAMS[counting] * bn for _, params, bn in sums)}


def check_reference(network: Network, ref: Reference, counting: ParamCounting = "weights", index: int | None = None,
                    cache: dict | None = None) -> list[CheckResult]:
    """Every figure of one published row (the `index`th), at its printed precision, counted as the source counts
    (its `classes`, its `parts`, its `counting` of parameters, else `counting`)."""
    if index is None:
        index = next((i for i, r in enumerate(network.reference) if r == ref), None)
    at = ("reference",) if index is None else ("reference", index)
    try:
        computed = _computed(network, ref.variant, ref.alpha, ref.resolution, ref.classes, cache)
    except SpecError as e:  # the row's α, resolution or classes take a layer past a limit: blame the row
        first = e.problems[0]
        raise network.problem(at, None, f"this published row cannot be computed: {first.message}"
                                        + (f" ({first.layer})" if first.layer else "")) from None
    totals = _counted(network, ref, at, computed, ref.counting or counting)
    results = []
    for key in ("macs", "params"):
        if (printed := getattr(ref, key)) is not None:
            unit = ref.macs_unit if key == "macs" else "million"
            value = Fraction(totals[key], _UNITS[unit])
            results.append(_judge(network, (*at, key), ref, key, printed, value,
                                  f"{unit.capitalize()} {_FIGURES[key]}"))
    breakdown = computed.breakdown
    for key, shares in ref.shares.items():
        total = totals[key]
        for category, printed in shares.items():
            if category not in breakdown:
                raise network.problem((*at, "shares", key, category), None,
                                      f"{shown(category)!r} is not a layer type of {network.name}; its types are "
                                      f"{listed(breakdown)}")
            part = breakdown[category][0 if key == "macs" else 1]
            results.append(_judge(network, (*at, "shares", key, category), ref, f"{key}:{category}", printed,
                                  Fraction(100 * part, total), f"% {_FIGURES[key]}, {category}"))
    known = {"macs", "params"} | {f"{key}:{c}" for key, shares in ref.shares.items() for c in shares}
    for key in ref.errata.keys() - known:
        raise network.problem((*at, "errata", key), None,
                              f"{shown(key)!r} names no figure of the row {shown(ref.label)!r} "
                              f"({shown(ref.source)}); it has {listed(sorted(known))}")
    return results


def check_budget(network: Network, counting: ParamCounting = "weights", limits: dict[str, int] | None = None,
                 dtype: str = "fp16") -> list[CheckResult]:
    """The budget's limits against the computed totals, parameters counted by `counting`; `limits` adds limits
    from the command line (`max_macs`, `max_params`, `max_memory` in bytes of activations at `dtype`)."""
    budget = network.budget or Budget()
    given = [("budget", key, limit) for key in ("max_macs", "max_params")
             if (limit := getattr(budget, key)) is not None]
    given += [(f"--{key.replace('_', '-')}", key, limit) for key, limit in (limits or {}).items() if limit is not None]
    if not given:
        return []
    analysis: Analysis = trace(network.variant(budget.variant), budget.alpha, budget.resolution)
    results = []
    for source, key, limit in given:
        if key == "max_memory":
            from mobcost.memory import peak_memory

            value, figure = peak_memory(analysis, dtype), f"{_FIGURES['memory']} ({dtype}) budget"
        else:
            value = analysis.macs if key == "max_macs" else analysis.params_counted(counting)
            figure = f"{_FIGURES[key[4:]]} budget"
        line = network.line(("budget", key)) if source == "budget" else None
        results.append(CheckResult(analysis.label, figure, source, key, limit, value, value,
                                   "ok" if value <= limit else "fail", "" if value <= limit else
                                   f"over by {value - limit:,}", network.file, line))
    return results


def check(network: Network, counting: ParamCounting = "weights", only: ModelRef | None = None,
          limits: dict[str, int] | None = None, dtype: str = "fp16") -> list[CheckResult]:
    """All published figures and budget limits of a network; `counting` for sources that do not declare theirs;
    `limits` and `dtype` as check_budget's. `only` (`v1:shallow`, `v1@0.25_128`) keeps the figures and budget of
    that variant, α and resolution; it is an error if there are none."""
    def chosen(variant: str | None, alpha: float, resolution: int | None) -> bool:
        return only is None or only == ModelRef(only.target) or (
            variant == only.variant and (only.alpha is None or Fraction(str(only.alpha)) == Fraction(str(alpha)))
            and (only.resolution is None or only.resolution == (resolution or network.input.resolution)))

    refs = [(i, ref) for i, ref in enumerate(network.reference) if chosen(ref.variant, ref.alpha, ref.resolution)]
    budget = network.budget is None or chosen(network.budget.variant, network.budget.alpha, network.budget.resolution)
    if not refs and not budget and only is not None and only != ModelRef(only.target):
        network.variant(only.variant)  # an unknown variant is named as such
        alpha = "any" if only.alpha is None else f"{only.alpha:g}"
        asked = f"variant {only.variant or '(the network itself)'}, α {alpha}, resolution {only.resolution or 'any'}"
        raise MobcostError(f"{shown(only.target)}: no published figure or budget of {network.name} is for {asked}; "
                           f"`mobcost check {shown(only.target)}` checks them all")
    plan_work(network, len({(r.variant, r.alpha, r.resolution, r.classes) for _, r in refs}) + budget,
              f"check {network.name}")
    cache: dict = {}
    return ([r for i, ref in refs for r in check_reference(network, ref, counting, i, cache)]
            + (check_budget(network, counting, limits, dtype) if budget else []))
