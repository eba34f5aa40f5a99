"""The variants within a budget, best first, with estimated accuracy and the Pareto front (`mobcost fit`)."""

from __future__ import annotations

from mobcost.conventions import counting_words
from mobcost.display import shows
from mobcost.sizing import AccuracyGrid, Candidate, Fit, Limits
from mobcost.table import Column, Report, millions, optional
from mobcost.views.latency import MS_PRECISION, in_ms


def fit_table(network_title: str, candidates: list[Candidate], grid: AccuracyGrid | None, limits: Limits,
              shown: int | None = None) -> Report:
    """The variants within a budget, best first, with estimated accuracy and the Pareto front (mobcost fit)."""
    fitting, candidates = len(candidates), candidates[:shown]
    memory = limits.max_memory is not None
    latency = limits.device is not None
    columns = (Column("rank", "Rank", str, True, hide=1), Column("model", "Model", hide=2),
               Column("alpha", "α", "{:g}".format, True),
               Column("resolution", "Resolution", str, True), Column("macs", "Million Mult-Adds", millions(1), True),
               Column("params", "Million Parameters", millions(2), True),
               *([Column("memory", f"Peak activations (MB, {limits.dtype})", millions(2), True)] if memory else []),
               *([Column("latency_ms", f"Latency (ms, est. {limits.device})", optional("{:,.1f}".format), True)]
                 if latency else []),
               Column("accuracy", "Top-1 % estimate", optional("{:.1f}".format), True),
               Column("basis", "Estimated from", hide=3, wrap=True),
               Column("front", "Pareto", lambda f: "★" if f else "", False))
    rows = [{"rank": i, "model": c.totals.label, "alpha": c.totals.alpha, "resolution": c.totals.resolution,
             "macs": c.totals.macs, "params": c.totals.params, "memory": c.memory, "latency_ms": in_ms(c.latency),
             "accuracy": c.estimate.accuracy if c.estimate else None,
             "basis": c.estimate.describe() if c.estimate else "no estimate: outside the published grid",
             "front": c.front} for i, c in enumerate(candidates, 1)]
    axes = ("estimated accuracy against Mult-Adds" if any(c.estimate for c in candidates)
            else "Mult-Adds against parameters (no accuracy estimate among them)")
    shown_note = (f"; the best {len(candidates)} are shown, {fitting - len(candidates)} more (use --top or -f csv)"
                  if len(candidates) < fitting else "")
    notes = [f"Budget: {limits.describe()}. {fitting} of the variants tried fit{shown_note}."]
    if not fitting:
        notes.append("None fits: loosen the budget or widen --alpha and --res.")
    else:
        notes.append(f"★ marks the Pareto front of {axes}: no other variant that fits is at least as good on both "
                     f"and better on one.")
    if grid:
        notes.append(f"Accuracy is an ESTIMATE, not a measurement: bilinear interpolation in (α, resolution) between "
                     f"the {grid.describe()}; outside that grid there is no estimate, and those variants follow, "
                     f"ranked by Mult-Adds.")
    else:
        notes.append("No published grid of accuracies for this model: variants are ranked by Mult-Adds, most first.")
    if memory:
        notes.append("Peak activations: the largest live set of activations during inference, as `mobcost memory` "
                     "computes it (MobileNetV2 §5.1), in bytes (M = 10⁶).")
    if latency:
        from mobcost.latency.device import device
        from mobcost.latency.estimate import describe

        notes.append(describe(device(limits.device)) + f" {MS_PRECISION}")
    notes.append(f"M = 10⁶. {counting_words()}")
    budget = {"max_macs": limits.max_macs, "max_params": limits.max_params, "max_memory": limits.max_memory,
              "dtype": limits.dtype,
              **({"max_latency_ms": limits.max_latency, "device": limits.device} if latency else {})}
    data = {"model": network_title, "fitting": fitting, "budget": budget,
            "estimated_from": grid.describe() if grid else None,
            "variants": [{**{k: row[k] for k in ("rank", "model", "alpha", "resolution", "macs", "params",
                                                  "accuracy", "front")},
                          **({"memory": row["memory"]} if memory else {}),
                          **({"latency_ms": c.latency} if latency else {}),
                          "accuracy_points": [{"alpha": float(a), "resolution": r, "accuracy": acc}
                                              for a, r, acc in c.estimate.points] if c.estimate else None}
                         for row, c in zip(rows, candidates)]}
    return Report(f"{network_title}: variants within the budget, best first", columns, rows, data, notes=tuple(notes),
                  style=lambda row: "bold" if row["front"] else None)


@shows(Fit)
def fitted_table(fit: Fit) -> Report:
    """The table `mobcost fit` prints."""
    return fit_table(fit.title, list(fit.candidates), fit.grid, fit.limits)
