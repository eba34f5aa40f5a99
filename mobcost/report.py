"""Rows → rich Table / Markdown / CSV / JSON; builds, never prints.

A Report holds raw values (exact integers); only its columns' `show` functions round, and each header says its unit.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from mobcost.check import CheckResult
from mobcost.trace import Analysis, Scaled

CONVENTION = ("Mult-Adds = fused multiply-adds of convolutions and fully connected layers; pooling, softmax, "
              "batch norm and activations count 0 (the MobileNets paper's convention). Parameters = weights, "
              "plus biases where the spec declares them.")


class Format(str, Enum):
    rich = "rich"
    markdown = "markdown"
    csv = "csv"
    json = "json"


def exact(n: int) -> str:
    return f"{n:,}"


def millions(decimals: int) -> Callable[[int], str]:
    return lambda n: f"{n / 10**6:,.{decimals}f}"


def percent(x: float) -> str:
    return f"{x:.2f}"


def optional(show: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda v: "–" if v is None else show(v)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    show: Callable[[Any], str] = str
    numeric: bool = False


@dataclass(frozen=True)
class Report:
    """A table ready to render: raw rows, the JSON document, and the notes that explain them."""

    title: str
    columns: tuple[Column, ...]
    rows: list[dict]
    data: Any
    total: dict | None = None
    notes: tuple[str, ...] = ()
    style: Callable[[dict], str | None] = field(default=lambda row: None)

    def cells(self, row: dict) -> list[str]:
        return [c.show(row[c.key]) if c.key in row else "" for c in self.columns]


# ---- builders -----------------------------------------------------------------------------------------------

def layer_table(analysis: Analysis) -> Report:
    """MobileNets Table 1 with Mult-Adds and Parameters per layer and a totals row."""
    columns = (Column("name", "Layer"), Column("type", "Type / Stride"), Column("filter", "Filter Shape"),
               Column("input", "Input Size"), Column("macs", "Mult-Adds", exact, True),
               Column("params", "Parameters", exact, True))
    rows = [{"name": r.name, "type": r.type, "filter": r.filter, "input": str(r.input), "macs": r.macs,
             "params": r.params} for r in analysis.rows]
    notes = [f"{r.name}: {r.layer.note}" for r in analysis.rows if r.layer.note]
    notes.append(f"Total: {analysis.macs / 10**6:,.1f} million Mult-Adds, {analysis.params / 10**6:,.2f} million "
                 f"parameters (M = 10⁶). {CONVENTION}")
    return Report(f"{analysis.label} (α = {float(analysis.alpha):g}, {analysis.resolution}×{analysis.resolution})",
                  columns, rows, analysis.to_dict(),
                  total={"name": "Total", "macs": analysis.macs, "params": analysis.params}, notes=tuple(notes))


def totals_table(title: str, analyses: list[Scaled], accuracy: list[tuple[float, str] | None]) -> Report:
    """One row per model with Million Mult-Adds and Million Parameters (MobileNets Tables 4–7)."""
    columns = (Column("model", "Model"), Column("accuracy", "ImageNet Accuracy (published)", optional("{:.1f}%".format), True),
               Column("macs", "Million Mult-Adds", millions(1), True),
               Column("params", "Million Parameters", millions(2), True))
    rows = [{"model": a.label, "accuracy": acc[0] if acc else None, "macs": a.macs, "params": a.params}
            for a, acc in zip(analyses, accuracy)]
    sources = sorted({acc[1] for acc in accuracy if acc})
    notes = [f"Accuracy as published in {', '.join(sources)}; mobcost computes costs, not accuracy."] if sources else []
    notes.append(f"M = 10⁶. {CONVENTION}")
    data = [{"model": a.label, "name": a.network.name, "alpha": float(a.alpha), "resolution": a.resolution,
             "accuracy": row["accuracy"], "macs": a.macs, "params": a.params} for a, row in zip(analyses, rows)]
    return Report(title, columns, rows, data, notes=tuple(notes))


def breakdown_table(analysis: Analysis) -> Report:
    """Share of Mult-Adds and parameters per layer type (MobileNets Table 2)."""
    columns = (Column("type", "Type"), Column("macs_share", "Mult-Adds (%)", percent, True),
               Column("params_share", "Parameters (%)", percent, True),
               Column("macs", "Mult-Adds", exact, True), Column("params", "Parameters", exact, True))
    rows = [{"type": kind, "macs_share": 100 * macs / analysis.macs, "params_share": 100 * params / analysis.params,
             "macs": macs, "params": params} for kind, (macs, params) in analysis.breakdown().items()]
    data = {"model": analysis.network.name, "alpha": float(analysis.alpha), "resolution": analysis.resolution,
            "totals": {"macs": analysis.macs, "params": analysis.params},
            "types": [{k: row[k] for k in ("type", "macs", "params")} for row in rows]}
    return Report(f"Resource per layer type: {analysis.label}", columns, rows, data,
                  total={"type": "Total", "macs": analysis.macs, "params": analysis.params},
                  notes=(f"Layer types with no Mult-Adds and no parameters are left out. {CONVENTION}",))


def conv_table(steps: list[dict], ratio_note: str) -> Report:
    """One layer, standard vs depthwise + pointwise, step by step (MobileNets eq. 2, 4, 5)."""
    columns = (Column("operation", "Operation"), Column("formula", "Formula"), Column("arithmetic", "Arithmetic"),
               Column("macs", "Mult-Adds", exact, True), Column("params", "Parameters", exact, True))
    return Report("Standard vs depthwise-separable convolution", columns, steps, {"steps": steps}, notes=(ratio_note,))


def check_table(results: list[CheckResult]) -> Report:
    """One row per published figure or budget limit."""
    columns = (Column("model", "Model"), Column("figure", "Figure"), Column("source", "Source"),
               Column("published", "Published", numeric=True), Column("computed", "Computed", numeric=True),
               Column("status", "Status"), Column("note", "Note"))
    rows = [r.to_dict() for r in results]
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "erratum", "FAIL")}
    summary = (f"{counts['ok']} agree, {counts['erratum']} known errata (the source disagrees with its own "
               f"arithmetic, as the note explains), {counts['FAIL']} failed.")
    colors = {"ok": "green", "erratum": "yellow", "FAIL": "bold red"}
    return Report("Published figures and budgets", columns, rows, {"results": rows, "summary": counts},
                  notes=(summary,), style=lambda row: colors[row["status"]])


def fit_table(network_title: str, candidates: list, grid, limits, shown: int | None = None) -> Report:
    """The variants within a budget, best first, with estimated accuracy and the Pareto front (mobcost fit)."""
    fitting, candidates = len(candidates), candidates[:shown]
    memory = limits.max_memory is not None
    columns = (Column("rank", "Rank", str, True), Column("model", "Model"), Column("alpha", "α", "{:g}".format, True),
               Column("resolution", "Resolution", str, True), Column("macs", "Million Mult-Adds", millions(1), True),
               Column("params", "Million Parameters", millions(2), True),
               *([Column("memory", f"Peak activations (MB, {limits.dtype})", millions(2), True)] if memory else []),
               Column("accuracy", "Top-1 % (estimate)", optional("{:.1f}".format), True),
               Column("basis", "Estimated from"), Column("front", "Pareto", lambda f: "★" if f else "", False))
    rows = [{"rank": i, "model": c.totals.label, "alpha": float(c.totals.alpha), "resolution": c.totals.resolution,
             "macs": c.totals.macs, "params": c.totals.params, "memory": c.memory,
             "accuracy": c.estimate.accuracy if c.estimate else None,
             "basis": c.estimate.describe() if c.estimate else "no estimate: outside the published grid",
             "front": c.front} for i, c in enumerate(candidates, 1)]
    axes = ("estimated accuracy against Mult-Adds" if any(c.estimate for c in candidates)
            else "Mult-Adds against parameters (no published accuracies to estimate from)")
    shown_note = f"; the best {len(candidates)} are shown" if len(candidates) < fitting else ""
    notes = [f"Budget: {limits.describe()}. {fitting} of the variants tried fit{shown_note}.",
             f"★ marks the Pareto front of {axes}: no other variant that fits is at least as good on both and "
             f"better on one."]
    if grid:
        notes.append(f"Accuracy is an ESTIMATE, not a measurement: bilinear interpolation in (α, resolution) between "
                     f"the {grid.describe()}; outside that grid there is no estimate, and those variants follow, "
                     f"ranked by Mult-Adds.")
    else:
        notes.append("No published grid of accuracies for this model: variants are ranked by Mult-Adds, most first.")
    if memory:
        notes.append("Peak activations: the largest input + output of any one layer, in bytes (M = 10⁶).")
    notes.append(f"M = 10⁶. {CONVENTION}")
    data = {"model": network_title, "fitting": fitting, "budget": {"max_macs": limits.max_macs, "max_params": limits.max_params,
                                               "max_memory": limits.max_memory, "dtype": limits.dtype},
            "estimated_from": grid.describe() if grid else None,
            "variants": [{**{k: row[k] for k in ("rank", "model", "alpha", "resolution", "macs", "params",
                                                  "accuracy", "front")},
                          **({"memory": row["memory"]} if memory else {}),
                          "accuracy_points": [{"alpha": float(a), "resolution": r, "accuracy": acc}
                                              for a, r, acc in c.estimate.points] if c.estimate else None}
                         for row, c in zip(rows, candidates)]}
    return Report(f"{network_title}: variants within the budget, best first", columns, rows, data, notes=tuple(notes),
                  style=lambda row: "bold" if row["front"] else None)


def models_table(entries: list[dict]) -> Report:
    columns = (Column("name", "Model"), Column("aliases", "Aliases"), Column("title", "Title"),
               Column("resolution", "Input", numeric=True), Column("macs", "Million Mult-Adds", millions(1), True),
               Column("params", "Million Parameters", millions(2), True), Column("variants", "Variants"),
               Column("source", "Source"))
    return Report("Built-in models (α = 1 at their own resolution)", columns, entries, entries)


# ---- renderers ----------------------------------------------------------------------------------------------

def render(report: Report, fmt: Format):
    """The report as a rich renderable (for `rich`) or as text (for the other formats)."""
    return {Format.rich: _rich, Format.markdown: _markdown, Format.csv: _csv, Format.json: _json}[fmt](report)


def _rich(report: Report):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title=report.title, show_footer=report.total is not None, title_style="bold")
    for c in report.columns:
        footer = report.cells(report.total)[report.columns.index(c)] if report.total else ""
        table.add_column(c.header, footer=footer, justify="right" if c.numeric else "left", no_wrap=c is not report.columns[-1])
    for row in report.rows:
        table.add_row(*(Text(cell) for cell in report.cells(row)), style=report.style(row))
    return Group(table, *(Text(note, style="dim") for note in report.notes))


def _markdown(report: Report) -> str:
    rows = [report.cells(row) for row in report.rows]
    if report.total:
        rows.append([f"**{cell}**" if cell else "" for cell in report.cells(report.total)])
    lines = [f"**{report.title}**", "", "| " + " | ".join(c.header for c in report.columns) + " |",
             "|" + "|".join("---:" if c.numeric else "---" for c in report.columns) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines + [""] + [f"{note}  " for note in report.notes])


def _csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(c.key for c in report.columns)
    for row in report.rows + ([report.total] if report.total else []):
        writer.writerow(row.get(c.key, "") for c in report.columns)
    return out.getvalue().rstrip("\n")


def _json(report: Report) -> str:
    return json.dumps(report.data, indent=2, ensure_ascii=False)
