"""Hold a network to its published figures and its budget: one result per figure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

from mobcost.spec import Network, ParamCounting, Reference
from mobcost.trace import Analysis, Row, trace

Status = Literal["ok", "erratum", "FAIL"]
_ROUNDING = {"nearest": ROUND_HALF_UP, "down": ROUND_FLOOR, "up": ROUND_CEILING}
_FIGURES = {"macs": "Mult-Adds", "params": "Parameters"}
_UNITS = {"million": 10**6, "billion": 10**9}


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
    unit = printed[-1] if printed[-1] in "MB" else ""
    if unit == "B":  # printed in billions: "0.39B" is 390 million to the nearest 10 million
        value /= 1000
    number = printed.removesuffix(unit)
    shown = at_precision(value, number, ref.rounding)
    exact = f"{float(value):.{max(2, -Decimal(number).as_tuple().exponent + 2)}f}{unit}"
    matches = shown == Decimal(number)
    erratum = ref.errata.get(key)
    if matches and erratum:
        status, note = "FAIL", f"recorded as an erratum, but the arithmetic agrees: {erratum}"
    elif matches:
        status, note = "ok", ""
    elif erratum:
        status, note = "erratum", erratum
    else:
        status, note = "FAIL", f"{ref.rounding} rounding of {exact} gives {shown}, the source prints {printed}"
    return CheckResult(model, figure, ref.source, printed, f"{exact} → {shown}{unit}", status, note)


def check_reference(network: Network, ref: Reference, counting: ParamCounting = "weights") -> list[CheckResult]:
    """Every figure of one published row, at its printed precision, counted as the source counts (its `classes`,
    its `counting` of parameters, else `counting`)."""
    built = network.variant(ref.variant)
    if ref.classes is not None:
        built = built.model_copy(update={"classes": ref.classes})
    analysis = trace(built, ref.alpha, ref.resolution)
    rows = _parts(network, ref, analysis)
    computed = {"macs": sum(row.macs for row in rows),
                "params": sum(row.params_counted(ref.counting or counting) for row in rows)}
    results = []
    for key in ("macs", "params"):
        if (printed := getattr(ref, key)) is not None:
            unit = ref.macs_unit if key == "macs" else "million"
            value = Fraction(computed[key], _UNITS[unit])
            results.append(_judge(ref, key, printed, value, ref.label, f"{unit.capitalize()} {_FIGURES[key]}"))
    breakdown = analysis.breakdown()
    for key, shares in ref.shares.items():
        total = computed[key]
        for category, printed in shares.items():
            if category not in breakdown:
                raise network.problem(("reference",), "shares", f"{category!r} is not a layer type of "
                                      f"{network.name}; its types are {', '.join(breakdown)}")
            part = breakdown[category][0 if key == "macs" else 1]
            results.append(_judge(ref, f"{key}:{category}", printed, Fraction(100 * part, total), ref.label,
                                  f"% {_FIGURES[key]}, {category}"))
    known = {"macs", "params"} | {f"{key}:{c}" for key, shares in ref.shares.items() for c in shares}
    for key in ref.errata.keys() - known:
        raise network.problem(("reference",), "errata", f"{key!r} names no figure of the row {ref.label!r} "
                              f"({ref.source}); it has {', '.join(sorted(known))}")
    return results


def _parts(network: Network, ref: Reference, analysis: Analysis) -> tuple[Row, ...]:
    """The rows a published row counts: those of its `parts`, or all."""
    if not ref.parts:
        return analysis.rows
    known = list(dict.fromkeys(row.part for row in analysis.rows))
    if unknown := [part for part in ref.parts if part not in known]:
        raise network.problem(("reference",), "parts", f"{unknown[0]!r} is not a part of {network.name}; its parts "
                              f"are {', '.join(known)}")
    return tuple(row for row in analysis.rows if row.part in ref.parts)


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


def check(network: Network, counting: ParamCounting = "weights") -> list[CheckResult]:
    """All published figures and budget limits of a network; `counting` for sources that do not declare theirs."""
    return ([r for ref in network.reference for r in check_reference(network, ref, counting)]
            + check_budget(network, counting))
