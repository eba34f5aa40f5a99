"""Hold a network to its published figures and its budget: one result per figure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

from mobcost.spec import MobcostError, ModelRef, Network, ParamCounting, Reference, SpecError
from mobcost.spec.errors import listed, shown
from mobcost.trace import Analysis, Totals, plan_work, summed, trace

Status = Literal["ok", "erratum", "FAIL"]
_ROUNDING = {"nearest": ROUND_HALF_UP, "down": ROUND_FLOOR, "up": ROUND_CEILING}
_FIGURES = {"macs": "Mult-Adds", "params": "Parameters"}


@dataclass(frozen=True)
class CheckResult:
    """One published figure or budget limit against the computed value."""

    model: str
    figure: str
    source: str
    published: str
    computed: str  # the computed value at the published precision, e.g. "568.74 → 569"
    status: Status
    note: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def at_precision(value: Fraction, printed: str, rounding: str) -> Decimal:
    """`value` rounded the way a source printed `printed`: to as many decimals, by its rounding rule."""
    places = Decimal(printed).as_tuple().exponent
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(places), rounding=_ROUNDING[rounding])


def _judge(ref: Reference, key: str, printed: str, value: Fraction, model: str, figure: str) -> CheckResult:
    shown = at_precision(value, printed, ref.rounding)
    exact = f"{float(value):.{max(2, -Decimal(printed).as_tuple().exponent + 2)}f}"
    matches = shown == Decimal(printed)
    erratum = ref.errata.get(key)
    if matches and erratum:
        status, note = "FAIL", f"recorded as an erratum, but the arithmetic agrees: {erratum}"
    elif matches:
        status, note = "ok", ""
    elif erratum:
        status, note = "erratum", erratum
    else:
        status, note = "FAIL", f"{ref.rounding} rounding of {exact} gives {shown}, the source prints {printed}"
    return CheckResult(model, figure, ref.source, printed, f"{exact} → {shown}", status, note)


@dataclass(frozen=True)
class _Computed:
    """What a check needs of one traced variant: its totals and its breakdown, never its rows."""

    totals: Totals
    breakdown: dict[str, tuple[int, int]]


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
    found = _Computed(summed(analysis), analysis.breakdown())
    if cache is not None:
        cache[key] = found
    return found


def check_reference(network: Network, ref: Reference, counting: ParamCounting = "weights", index: int | None = None,
                    cache: dict | None = None) -> list[CheckResult]:
    """Every figure of one published row (the `index`th), at its printed precision, counted as the source counts
    (its `classes`, its `counting` of parameters, else `counting`)."""
    if index is None:
        index = next((i for i, r in enumerate(network.reference) if r == ref), None)
    at = ("reference",) if index is None else ("reference", index)
    try:
        computed = _computed(network, ref.variant, ref.alpha, ref.resolution, ref.classes, cache)
    except SpecError as e:  # the row's α, resolution or classes take a layer past a limit: blame the row
        first = e.problems[0]
        raise network.problem(at, None, f"this published row cannot be computed: {first.message}"
                                        + (f" ({first.layer})" if first.layer else "")) from None
    totals = {"macs": computed.totals.macs, "params": computed.totals.params_counted(ref.counting or counting)}
    results = []
    for key in ("macs", "params"):
        if (printed := getattr(ref, key)) is not None:
            value = Fraction(totals[key], 10**6)
            results.append(_judge(ref, key, printed, value, ref.label, f"Million {_FIGURES[key]}"))
    breakdown = computed.breakdown
    for key, shares in ref.shares.items():
        total = totals[key]
        for category, printed in shares.items():
            if category not in breakdown:
                raise network.problem((*at, "shares", key, category), None,
                                      f"{shown(category)!r} is not a layer type of {network.name}; its types are "
                                      f"{listed(breakdown)}")
            part = breakdown[category][0 if key == "macs" else 1]
            results.append(_judge(ref, f"{key}:{category}", printed, Fraction(100 * part, total), ref.label,
                                  f"% {_FIGURES[key]}, {category}"))
    known = {"macs", "params"} | {f"{key}:{c}" for key, shares in ref.shares.items() for c in shares}
    for key in ref.errata.keys() - known:
        raise network.problem((*at, "errata", key), None,
                              f"{shown(key)!r} names no figure of the row {shown(ref.label)!r} "
                              f"({shown(ref.source)}); it has {listed(sorted(known))}")
    return results


def check_budget(network: Network, counting: ParamCounting = "weights") -> list[CheckResult]:
    """The budget's limits against the computed totals, parameters counted by `counting`."""
    budget = network.budget
    if budget is None:
        return []
    analysis: Analysis = trace(network.variant(budget.variant), budget.alpha, budget.resolution)
    results = []
    for key, limit in (("macs", budget.max_macs), ("params", budget.max_params)):
        if limit is not None:
            value = analysis.macs if key == "macs" else analysis.params_counted(counting)
            results.append(CheckResult(analysis.label, f"{_FIGURES[key]} budget", "budget", f"≤ {limit:,}",
                                       f"{value:,}", "ok" if value <= limit else "FAIL",
                                       "" if value <= limit else f"over by {value - limit:,}"))
    return results


def check(network: Network, counting: ParamCounting = "weights", only: ModelRef | None = None) -> list[CheckResult]:
    """All published figures and budget limits of a network; `counting` for sources that do not declare theirs.
    `only` (`v1:shallow`, `v1@0.25_128`) keeps the figures and budget of that variant, α and resolution; it is an
    error if there are none."""
    def chosen(variant: str | None, alpha: float, resolution: int | None) -> bool:
        return only is None or only == ModelRef(only.target) or (
            variant == only.variant and (only.alpha is None or Fraction(str(only.alpha)) == Fraction(str(alpha)))
            and (only.resolution is None or only.resolution == (resolution or network.input.resolution)))

    refs = [(i, ref) for i, ref in enumerate(network.reference) if chosen(ref.variant, ref.alpha, ref.resolution)]
    budget = network.budget is not None and chosen(network.budget.variant, network.budget.alpha,
                                                   network.budget.resolution)
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
            + (check_budget(network, counting) if budget else []))
