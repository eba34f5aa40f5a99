"""Rows → rich Table / Markdown / CSV / JSON; builds, never prints.

A Report holds raw values (exact integers); only its columns' `show` functions round, and each header says its unit.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable

from mobcost.check import CheckResult
from mobcost.conventions import CONVENTIONS
from mobcost.output import json_safe, printable
from mobcost.delta import Diff, relative
from mobcost.language import LIBRARY, ParamCounting
from mobcost.trace import Analysis, Row, Scaled, size_text

if TYPE_CHECKING:
    from mobcost.sizing import AccuracyGrid, Candidate, Limits

_COUNTING = {"weights": "",
             "torch": " Counted as PyTorch does: plus batch-norm γ and β (2 per normalized channel).",
             "keras": " Counted as Keras does: plus batch-norm γ, β, moving mean and variance "
                      "(4 per normalized channel)."}


def convention(counting: ParamCounting = "weights", name: str = "paper", flops: bool = False) -> str:
    """The counting convention in words: the Mult-Adds convention, the parameter counting, and the unit shown."""
    return (f"{CONVENTIONS[name].description} Parameters = weights, plus biases where the spec declares them."
            + _COUNTING[counting] + (" FLOPs = 2 × Mult-Adds." if flops else ""))


def _unit(flops: bool, name: str = "paper") -> tuple[str, str]:
    """The key and the header of a cost column: Mult-Adds, or FLOPs = 2 × Mult-Adds, and how they were counted."""
    key, unit = ("flops", "FLOPs") if flops else ("macs", "Mult-Adds")
    return key, unit if name == "paper" else f"{unit} ({name})"


def _in_unit(rows: list[dict], flops: bool) -> list[dict]:
    """Rows with their Mult-Adds also as FLOPs = 2 × Mult-Adds, where FLOPs are asked for."""
    return [{**row, "flops": 2 * row["macs"]} for row in rows] if flops else rows


def implementation_note(analysis: Scaled, counting: ParamCounting, name: str = "paper") -> str | None:
    """A warning where the counting asked for is a library's (PyTorch's, Keras') but the network is not the one that
    library builds (the spec's `follows` does not name it), or None."""
    network = analysis.network
    if not network.follows:
        return None  # a spec that names no implementation makes no claim to check
    implied = {LIBRARY.get(counting), LIBRARY.get(CONVENTIONS[name].params) if name != "paper" else None}
    for library in sorted(implied - {None} - set(network.follows)):
        own = next((f"`{network.name}:{key}`" for key, v in network.variants.items() if library in v.follows),
                   f"not in this spec (`mobcost verify {network.name} --against MODULE:CALLABLE` compares yours)")
        counter = {"torchvision": "PyTorch", "keras": "Keras"}[library]
        return (f"Not {library}'s network: {network.title} as written follows {', '.join(network.follows)}, so "
                f"these are {counter}'s counts of that network, not of {library}'s build, which is {own}.")
    return None


def _data(analysis: Analysis, data, counting: ParamCounting, flops: bool):
    """JSON data (always in Mult-Adds), saying how it was counted and whose network it is."""
    how = {"convention": analysis.convention, "params": counting, "shown_as": _unit(flops)[1],
           "follows": list(analysis.network.follows)}
    if note := implementation_note(analysis, counting, analysis.convention):
        how["warning"] = note
    return {**data, "counting": how}


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
    """A column: its key in the rows, its header, how a value is shown, and how it gives way in a narrow terminal.

    A narrow terminal never truncates a number: it first moves a `prose` column below the table (numbered notes),
    then hides the columns with the highest `hide` first (0: never hidden), and says which. `wrap` lets text wrap
    at spaces; other cells keep their width.
    """

    key: str
    header: str
    show: Callable[[Any], str] = str
    numeric: bool = False
    hide: int = 0
    wrap: bool = False
    prose: bool = False
    machine: bool = False  # CSV only: a value the table shows in another column (α and resolution in the label)


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

    @property
    def shown(self) -> tuple[Column, ...]:
        """The columns a reader sees (all but the CSV-only ones)."""
        return tuple(c for c in self.columns if not c.machine)

    def cells(self, row: dict) -> list[str]:
        return [c.show(row[c.key]) if c.key in row else "" for c in self.shown]


# ---- builders -----------------------------------------------------------------------------------------------

def layer_table(analysis: Analysis, counting: ParamCounting = "weights", flops: bool = False) -> Report:
    """MobileNets Table 1 with Mult-Adds and Parameters per layer and a totals row."""
    columns = (Column("name", "Layer", wrap=True), Column("type", "Type / Stride", hide=1),
               Column("filter", "Filter Shape", wrap=True), Column("input", "Input Size", wrap=True),
               Column(*_unit(flops, analysis.convention), exact, True),
               Column("params", "Parameters", exact, True))
    rows = [{"name": r.name, "type": r.type, "filter": r.filter, "input": batched(r.input, r.input_batch),
             "macs": r.macs, "params": r.params_counted(counting), "part": r.part} for r in analysis.rows]
    return _per_row(analysis, columns, _subtotals(analysis, rows, counting), counting, flops)


def _subtotals(analysis: Analysis, rows: list[dict], counting: ParamCounting) -> list[dict]:
    """Rows grouped by part, each part closed by its subtotal, where a network has more than one part."""
    if len(analysis.parts) < 2:
        return rows
    grouped = []
    for part, (macs, params) in ({p: (0, 0) for p in analysis.parts} | analysis.breakdown(counting, "part")).items():
        grouped += [row for row in rows if row["part"] == part]
        grouped.append({"name": f"Subtotal: {part}", "macs": macs, "params": params, "subtotal": True})
    return grouped


def _per_row(analysis: Analysis, columns: tuple[Column, ...], rows: list[dict], counting: ParamCounting,
             flops: bool) -> Report:
    params = analysis.params_counted(counting)
    notes = [f"{r.name}: {r.layer.note}" for r in analysis.rows if r.layer.note]
    notes += [f"{r.name} makes a batch of {r.batch:,} crops: every row that reads it (Input Size {r.batch:,} × …) "
              f"runs once per crop, so its Mult-Adds are {r.batch:,} times one crop's; its weights are shared."
              for r in analysis.rows if getattr(r.layer, "batch", None)]
    notes.append(f"Total: {(2 if flops else 1) * analysis.macs / 10**6:,.1f} million "
                 f"{_unit(flops, analysis.convention)[1]}, {params / 10**6:,.2f} million parameters (M = 10⁶). "
                 f"{convention(counting, analysis.convention, flops)}")
    if note := implementation_note(analysis, counting, analysis.convention):
        notes.append(note)
    total = {columns[0].key: "Total", "macs": analysis.macs, "params": params}
    data = analysis.to_dict(counting)
    if len(analysis.parts) > 1:
        data["parts"] = [{"part": part, "macs": macs, "params": params}
                         for part, (macs, params) in analysis.breakdown(counting, "part").items()]
    return Report(f"{analysis.label} (α = {analysis.alpha:g}, {analysis.size})",
                  columns, _in_unit(rows, flops), _data(analysis, data, counting, flops),
                  total=_in_unit([total], flops)[0], notes=tuple(notes),
                  style=lambda row: "bold" if row.get("subtotal") else None)


_NL = {"relu": "RE", "relu6": "RE6", "hswish": "HS", "hsigmoid": "HSIG", "sigmoid": "SIG", "swish": "SW"}


def _ratio(t) -> str:
    return f"{float(t):g}" if 10**6 % t.denominator == 0 else f"{t.numerator}/{t.denominator}"


def _blocks(rows: tuple[Row, ...]) -> list[list[Row]]:
    """Rows grouped by the block they came from; a row outside any block is a group of its own."""
    groups: list[list[Row]] = []
    for row in rows:
        if groups and row.block is not None and groups[-1][0].block == row.block:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _block_row(group: list[Row], counting: ParamCounting) -> dict:
    first, unit = group[0], group[0].unit
    size = f"{first.input.h}²" if first.input.h == first.input.w else f"{first.input.h}×{first.input.w}"
    items = f"{first.input_batch:,} × " if first.input_batch > 1 else ""
    row = {"input": f"{items}{size} × {first.input.c}", "out": group[-1].output.c, "n": 1, "stride": first.stride,
           "act": _NL.get(getattr(first.layer, "act", None), "–"), "t": "–", "exp": "–", "se": "–",
           "macs": sum(r.macs for r in group), "params": sum(r.params_counted(counting) for r in group)}
    if unit is None:
        normed = first.kind not in ("conv", "pw", "dw") or first.layer.bn
        return {**row, "operator": first.category.lower() + ("" if normed else ", NBN")}
    dw = next((r for r in group if r.kind == "dw"), first)
    return {**row, "operator": f"{unit.kind} {unit.kernel}×{unit.kernel}", "stride": unit.stride,
            "act": _NL.get(unit.act, "–"), "n": getattr(unit, "n", 1), "exp": dw.input.c,
            "t": _ratio(unit.t) if hasattr(unit, "t") else "–", "se": "✓" if getattr(unit, "se", False) else "–"}


def block_table(analysis: Analysis, counting: ParamCounting = "weights", flops: bool = False) -> Report:
    """One row per block (MobileNetV2 Table 2: t, c, n, s; MobileNetV3 Tables 1–2: exp size, #out, SE, NL, s)."""
    rows = [_block_row(group, counting) for group in _blocks(analysis.rows)]
    columns = [Column("input", "Input"), Column("operator", "Operator"), Column("t", "t", numeric=True),
               Column("exp", "exp size", numeric=True, hide=2), Column("out", "c (#out)", numeric=True),
               Column("n", "n", numeric=True), Column("se", "SE", hide=1), Column("act", "NL", hide=3),
               Column("stride", "s", numeric=True), Column(*_unit(flops, analysis.convention), exact, True),
               Column("params", "Parameters", exact, True)]
    unused = {"n": all(r["n"] == 1 for r in rows), "se": all(r["se"] == "–" for r in rows)}
    columns = tuple(c for c in columns if not unused.get(c.key))
    return _per_row(analysis, columns, rows, counting, flops)


def has_blocks(analysis: Analysis) -> bool:
    """Whether the network's papers list it by block (inverted residuals) rather than by layer (V1 Table 1)."""
    return any(row.unit is not None and row.unit.kind == "bottleneck" for row in analysis.rows)


def totals_table(title: str, analyses: list[Scaled], accuracy: list[tuple[float, str] | None],
                 counting: ParamCounting = "weights", flops: bool = False) -> Report:
    """One row per model with Million Mult-Adds and Million Parameters (MobileNets Tables 4–7)."""
    key, unit = _unit(flops, analyses[0].convention)
    columns = (Column("model", "Model"), Column("alpha", "α", machine=True),
               Column("resolution", "Resolution", machine=True),
               Column("accuracy", "ImageNet Accuracy (published)", optional("{:.1f}%".format), True),
               Column("accuracy_source", "Accuracy source", machine=True),
               Column(key, f"Million {unit}", millions(1), True),
               Column("params", "Million Parameters", millions(2), True))
    rows = [{"model": a.label, "alpha": a.alpha, "resolution": a.resolution, "accuracy": acc[0] if acc else None,
             "accuracy_source": acc[1] if acc else None, "macs": a.macs, "params": a.params_counted(counting)}
            for a, acc in zip(analyses, accuracy)]
    sources = sorted({acc[1] for acc in accuracy if acc})
    notes = [f"Accuracy as published in {', '.join(sources)}; mobcost computes costs, not accuracy."] if sources else []
    notes.append(f"M = 10⁶. {convention(counting, analyses[0].convention, flops)}")
    notes += list(dict.fromkeys(note for a in analyses if (note := implementation_note(a, counting, a.convention))))
    data = [_data(a, {"model": a.label, "name": a.network.name, "alpha": a.alpha, "resolution": a.resolution,
                      "accuracy": row["accuracy"], "accuracy_source": row["accuracy_source"],
                      "macs": a.macs, "params": row["params"]}, counting, flops)
            for a, row in zip(analyses, rows)]
    return Report(title, columns, _in_unit(rows, flops), data, notes=tuple(notes))


def breakdown_table(analysis: Analysis, counting: ParamCounting = "weights", flops: bool = False,
                    by: str = "type") -> Report:
    """Share of Mult-Adds and parameters per layer type (MobileNets Table 2), or per part (backbone, extras, heads)."""
    key, unit = _unit(flops, analysis.convention)
    params_total = analysis.params_counted(counting)
    columns = (Column("type", "Type" if by == "type" else "Part"), Column("macs_share", f"{unit} (%)", percent, True),
               Column("params_share", "Parameters (%)", percent, True),
               Column(key, unit, exact, True), Column("params", "Parameters", exact, True))
    rows = [{"type": kind, "macs_share": 100 * macs / analysis.macs, "params_share": 100 * params / params_total,
             "macs": macs, "params": params} for kind, (macs, params) in analysis.breakdown(counting, by).items()]
    data = {"model": analysis.network.name, "alpha": analysis.alpha, "resolution": analysis.resolution,
            "totals": {"macs": analysis.macs, "params": params_total},
            "types" if by == "type" else "parts": [{("type" if by == "type" else "part"): row["type"],
                                                    "macs": row["macs"], "params": row["params"]} for row in rows]}
    return Report(f"Resource per {'layer type' if by == 'type' else 'part'}: {analysis.label}", columns,
                  _in_unit(rows, flops),
                  _data(analysis, data, counting, flops),
                  total=_in_unit([{"type": "Total", "macs": analysis.macs, "params": params_total}], flops)[0],
                  notes=("Layer types with no Mult-Adds and no parameters are left out. "
                         + convention(counting, analysis.convention, flops),
                         *filter(None, [implementation_note(analysis, counting, analysis.convention)])))


def memory_table(analysis: Analysis, dtype: str = "fp16", counting: ParamCounting = "torch") -> Report:
    """The widest materialized tensor at each spatial resolution, the peak live set (MobileNetV2 Table 3), and the
    weights' size at the same dtype: RAM and flash."""
    from mobcost.memory import BYTES, RULE, by_resolution, peak_memory, steps

    size = BYTES[dtype]
    rows = [{"resolution": f"{h}×{w}", "channels": c, "batch": batch, "bytes": batch * h * w * c * size,
             "kb": batch * h * w * c * size, "tensor": name} for (h, w), c, name, batch in by_resolution(analysis)]
    peak = peak_memory(analysis, dtype)
    where = max(steps(analysis), key=lambda step: step.live).rows
    weights = analysis.params_counted(counting)
    several = any(row["batch"] > 1 for row in rows)
    columns = (Column("resolution", "Size"), Column("channels", "Max channels" if not several else "Channels",
                                                    numeric=True),
               *([Column("batch", "Batch", exact, True)] if several else []),
               Column("kb", "Memory (kB)", lambda n: f"{n / 1000:,.1f}", True),
               Column("bytes", "Memory (bytes)", exact, True), Column("tensor", "Written by", hide=1))
    notes = (f"Peak live activations: {peak:,} bytes ({peak / 1000:,.1f} kB, {dtype}, one image), "
             f"during {where[0].name}" + (f" … {where[-1].name}" if len(where) > 1 else "") + ".",
             f"Weights: {weights:,} parameters × {size} bytes = {weights * size:,} bytes ({weights * size / 10**6:,.2f}"
             f" MB, {dtype}; parameters counted as {'PyTorch' if counting == 'torch' else counting}).",
             f"{RULE} kB = 10³ bytes, MB = 10⁶ bytes.")
    data = {"model": analysis.network.name, "alpha": analysis.alpha, "resolution": analysis.resolution,
            "dtype": dtype, "bytes_per_activation": size, "peak_bytes": peak, "weights": weights,
            "weights_bytes": weights * size,
            "resolutions": [{k: row[k] for k in ("resolution", "channels", "batch", "bytes", "tensor")}
                            for row in rows]}
    return Report(f"Activation memory: {analysis.label} ({dtype})", columns, rows, data, notes=notes)


def memory_layers_table(analysis: Analysis, dtype: str = "fp16") -> Report:
    """Every row's input and output activations, whether its output is materialized, and its step's live set."""
    from mobcost.memory import BYTES, RULE, steps

    size = BYTES[dtype]
    rows = []
    for step in steps(analysis):
        for row in step.rows:
            rows.append({"name": row.name, "input": batched(row.input, row.input_batch),
                         "output": batched(row.output, row.batch),
                         "input_size": row.input_batch * row.input.size,
                         "output_size": row.batch * row.output.size,
                         "whole": "yes" if row is step.rows[-1] else "sliced", "live": step.live * size})
    columns = (Column("name", "Layer"), Column("input", "Input", hide=2), Column("output", "Output", hide=1),
               Column("input_size", "Input activations", exact, True),
               Column("output_size", "Output activations", exact, True),
               Column("whole", "Output materialized", hide=3),
               Column("live", f"Live set (bytes, {dtype})", exact, True))
    return Report(f"Activations per layer: {analysis.label}", columns, rows, {"model": analysis.network.name,
                  "dtype": dtype, "layers": rows}, notes=(f"{RULE} Activations are counted in elements.",))


def conv_table(steps: list[dict], ratio_note: str) -> Report:
    """One layer, standard vs depthwise + pointwise, step by step (MobileNets eq. 2, 4, 5)."""
    columns = (Column("operation", "Operation", wrap=True), Column("formula", "Formula", wrap=True),
               Column("arithmetic", "Arithmetic", wrap=True),
               Column("macs", "Mult-Adds", exact, True), Column("params", "Parameters", exact, True))
    return Report("Standard vs depthwise-separable convolution", columns, steps, {"steps": steps}, notes=(ratio_note,))


STATUSES = ("ok", "erratum", "fail")


def check_table(results: list[CheckResult], empty: list[str] = ()) -> Report:
    """One row per published figure or budget limit; `empty` names the models that had nothing to check."""
    columns = (Column("model", "Model", wrap=True), Column("figure", "Figure", wrap=True),
               Column("source", "Source", hide=1, wrap=True),
               Column("published", "Published", numeric=True, wrap=True),
               Column("computed", "Computed", numeric=True, wrap=True),
               Column("status", "Status"), Column("note", "Note", prose=True))
    rows = [{**r.to_dict(), **dict(zip(("published", "computed"), r.shown()))} for r in results]
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    summary = (f"{counts['ok']} agree, {counts['erratum']} known errata (the source disagrees with its own "
               f"arithmetic, as the note explains), {counts['fail']} failed.")
    colors = {"ok": "green", "erratum": "yellow", "fail": "bold red"}
    return Report("Published figures and budgets", columns, rows,
                  {"results": [r.to_dict() for r in results], "summary": {**counts, "empty": list(empty)}},
                  notes=(summary,), style=lambda row: colors[row["status"]])


def github_annotations(results: list[CheckResult], empty: list[tuple[str, str]] = ()) -> str:
    """GitHub Actions workflow commands: an error per failed figure or limit at its spec line, a notice per erratum
    (https://docs.github.com/actions/reference/workflow-commands-for-github-actions)."""
    def escape(text: str, prop: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    lines = []
    for r in results:
        if r.status == "ok":
            continue
        where = [f"file={escape(r.file, True)}"] * bool(r.file) + [f"line={r.line}"] * bool(r.line)
        published, computed = r.shown()
        message = f"{r.model}, {r.figure} ({r.source}): published {published}, computed {computed}" + (
            f": {r.note}" if r.note else "")
        level = "error" if r.status == "fail" else "notice"
        title = escape(f"mobcost check: {r.status}", True)
        lines.append(f"::{level} {','.join([*where, f'title={title}'])}::{escape(message)}")
    lines += [f"::error file={escape(file, True)},title={escape('mobcost check: nothing to check', True)}::"
              f"{escape(message)}" for file, message in empty]
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    lines.append(f"{counts['ok']} agree, {counts['erratum']} known errata, {counts['fail']} failed"
                 + (f", {len(empty)} with nothing to check" if empty else "") + ".")
    return "\n".join(lines)


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
               *([Column("latency", f"Latency (ms, est. {limits.device})", optional("{:,.1f}".format), True)]
                 if latency else []),
               Column("accuracy", "Top-1 % estimate", optional("{:.1f}".format), True),
               Column("basis", "Estimated from", hide=3, wrap=True),
               Column("front", "Pareto", lambda f: "★" if f else "", False))
    rows = [{"rank": i, "model": c.totals.label, "alpha": c.totals.alpha, "resolution": c.totals.resolution,
             "macs": c.totals.macs, "params": c.totals.params, "memory": c.memory, "latency": c.latency,
             "accuracy": c.estimate.accuracy if c.estimate else None,
             "basis": c.estimate.describe() if c.estimate else "no estimate: outside the published grid",
             "front": c.front} for i, c in enumerate(candidates, 1)]
    axes = ("estimated accuracy against Mult-Adds" if any(c.estimate for c in candidates)
            else "Mult-Adds against parameters (no accuracy estimate among them)")
    shown_note = f"; the best {len(candidates)} are shown" if len(candidates) < fitting else ""
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

        notes.append(describe(device(limits.device)))
    notes.append(f"M = 10⁶. {convention()}")
    budget = {"max_macs": limits.max_macs, "max_params": limits.max_params, "max_memory": limits.max_memory,
              "dtype": limits.dtype,
              **({"max_latency_ms": limits.max_latency, "device": limits.device} if latency else {})}
    data = {"model": network_title, "fitting": fitting, "budget": budget,
            "estimated_from": grid.describe() if grid else None,
            "variants": [{**{k: row[k] for k in ("rank", "model", "alpha", "resolution", "macs", "params",
                                                  "accuracy", "front")},
                          **({"memory": row["memory"]} if memory else {}),
                          **({"latency_ms": row["latency"]} if latency else {}),
                          "accuracy_points": [{"alpha": float(a), "resolution": r, "accuracy": acc}
                                              for a, r, acc in c.estimate.points] if c.estimate else None}
                         for row, c in zip(rows, candidates)]}
    return Report(f"{network_title}: variants within the budget, best first", columns, rows, data, notes=tuple(notes),
                  style=lambda row: "bold" if row["front"] else None)


def models_table(entries: list[dict]) -> Report:
    columns = (Column("name", "Model"), Column("aliases", "Aliases", hide=2, wrap=True),
               Column("title", "Title", hide=1, wrap=True),
               Column("resolution", "Input", numeric=True), Column("macs", "Million Mult-Adds", millions(1), True),
               Column("params", "Million Parameters", millions(2), True), Column("variants", "Variants", hide=3, wrap=True),
               Column("source", "Source", hide=4, wrap=True))
    rows = [{**entry, "resolution": size_text(entry["resolution"])} for entry in entries]  # 1024×2048, not a tuple
    return Report("Built-in models (α = 1 at their own resolution)", columns, rows, entries)


# ---- counting conventions and verification ------------------------------------------------------------------

def signed(n: int) -> str:
    return f"{n:+,}" if n else "0"


def conventions_table() -> Report:
    """What each counting convention charges per operation class, and the batch-norm terms it counts as parameters."""
    from mobcost.conventions import OPERATION_CLASSES

    columns = (Column("operation", "Operation", wrap=True),
               *(Column(name, name, wrap=True, hide=name == "keras") for name in CONVENTIONS))  # keras's column is torch's
    rows = [{"operation": op, **{c.name: c.rules[op].text + (f" ({c.rules[op].bug}: a bug)" if c.rules[op].bug else "")
                                 for c in CONVENTIONS.values()}} for op in OPERATION_CLASSES]
    per_channel = {"weights": "0", "torch": "γ, β", "keras": "γ, β, mean, variance"}
    rows.append({"operation": "parameters per batch-norm channel",
                 **{c.name: per_channel[c.params] for c in CONVENTIONS.values()}})
    called = {"as a module": "as a module", "once": "once (no module hook)", "not at all": "0"}
    rows.append({"operation": "`functional: [op|act]` (called as a function)",
                 **{c.name: called[c.functional] for c in CONVENTIONS.values()}})
    rows.append({"operation": "`functional: [method]` (a tensor method, `x.mean([2, 3])`)",
                 **{c.name: called[c.method] for c in CONVENTIONS.values()}})
    notes = tuple(f"{op}: {text}." for op, text in OPERATION_CLASSES.items())
    notes += tuple(f"{c.name}: {c.tool}" for c in CONVENTIONS.values())
    data = {c.name: {"tool": c.tool, "params": c.params, "functional": c.functional, "method": c.method,
                     "rules": {op: r.text for op, r in c.rules.items()}} for c in CONVENTIONS.values()}
    return Report("Counting conventions: what each counts, in Mult-Adds (one multiply-add or one operation = 1)",
                  columns, rows, data, notes=notes)


def conventions_totals(analyses: list[Analysis], flops: bool = False) -> Report:
    """Every convention's totals side by side, one row per convention, a column pair per model."""
    from mobcost.conventions import totals

    key, unit = _unit(flops)
    columns = [Column("convention", "Convention")]
    for i, a in enumerate(analyses):
        columns += [Column(f"{key}{i}", f"{a.label} {unit}", exact, True),
                    Column(f"params{i}", f"{a.label} Parameters", exact, True)]
    rows, data = [], []
    for name in CONVENTIONS:
        row: dict = {"convention": name}
        for i, a in enumerate(analyses):
            macs, params = totals(a, name)
            row |= {f"{key}{i}": (2 if flops else 1) * macs, f"params{i}": params}
            data.append({"convention": name, "params_counting": CONVENTIONS[name].params, "model": a.label,
                         "follows": list(a.network.follows), "macs": macs, "params": params})
        rows.append(row)
    notes = (f"{'FLOPs = 2 × Mult-Adds. ' if flops else ''}Each convention counts the same traced network; "
             "`mobcost conventions` shows what each counts, `mobcost explain MODEL --between A B` where two differ.",
             *dict.fromkeys(filter(None, (implementation_note(a, "torch") for a in analyses))))
    return Report("Why tools disagree: one network, every counting convention", tuple(columns), rows, data,
                  notes=notes)


def difference_table(analysis: Analysis, a: str, b: str, flops: bool = False) -> Report:
    """Where conventions a and b differ: per operation class over the network, then per layer."""
    from mobcost.conventions import OPERATION_CLASSES, difference

    diff = difference(analysis, a, b)
    unit, scale = _unit(flops)[1], 2 if flops else 1
    columns = (Column("where", "Where", wrap=True), Column("what", "What differs", wrap=True), Column("a", f"{a} {unit}", exact, True),
               Column("b", f"{b} {unit}", exact, True), Column("delta", f"{unit} {b} − {a}", signed, True),
               Column("params_delta", f"Parameters {b} − {a}", signed, True))
    rows = [{"where": "all layers", "what": f"{op}: {OPERATION_CLASSES[op]}", "a": scale * x, "b": scale * y,
             "delta": scale * (y - x)} for op, (x, y) in diff.by_class.items()]
    rows += [{"where": d.row.name, "what": ", ".join(d.classes) or "parameters only", "a": scale * d.macs[0],
              "b": scale * d.macs[1], "delta": scale * (d.macs[1] - d.macs[0]),
              "params_delta": d.params[1] - d.params[0]} for d in diff.by_row]
    (ta, tb), (pa, pb) = diff.macs, diff.params
    channels = sum(row.bn for row in analysis.rows)
    notes = [f"Parameters: {a} {pa:,}, {b} {pb:,} ({signed(pb - pa)}; {channels:,} batch-normalized channels). "
             "Only the operation classes and layers that differ are listed; the total is the whole network's."]
    notes += [f"{name}: {scale * extra:,} of its {op} count is a bug ({CONVENTIONS[name].rules[op].bug})."
              for op, extras in diff.bugs.items() for name, extra in zip((a, b), extras) if extra]
    by_layer = [{"layer": d.row.name, "classes": d.classes, "macs": list(d.macs), "params": list(d.params)}
                for d in diff.by_row]
    return Report(f"{analysis.label}: {a} vs {b}", columns, rows,
                  {"a": a, "b": b, "by_class": {op: list(v) for op, v in diff.by_class.items()},
                   "by_layer": by_layer, "macs": [ta, tb], "params": [pa, pb], "shown_as": unit},
                  total={"where": "Total", "a": scale * ta, "b": scale * tb, "delta": scale * (tb - ta),
                         "params_delta": pb - pa},
                  notes=tuple(notes))


def diff_table(d: Diff) -> Report:
    """The layers that differ between two networks, with Mult-Add and parameter deltas, and the totals."""
    columns = (Column("name", "Layer"), Column("change", "Change"), Column("filter", "Filter Shape", hide=5, wrap=True),
               Column("macs_before", "Mult-Adds before", exact, True, hide=3),
               Column("macs_after", "Mult-Adds after", exact, True, hide=1),
               Column("macs_delta", "Δ Mult-Adds", signed, True),
               Column("params_before", "Parameters before", exact, True, hide=4),
               Column("params_after", "Parameters after", exact, True, hide=2),
               Column("params_delta", "Δ Parameters", signed, True))

    def shape(c) -> str:
        filters = [row.filter for row in (c.before, c.after) if row]
        return filters[0] if len(set(filters)) == 1 else " → ".join(filters)

    rows = [{"name": c.name, "change": c.kind, "filter": shape(c),
             **({"macs_before": c.macs[0], "params_before": c.params[0]} if c.before else {}),
             **({"macs_after": c.macs[1], "params_after": c.params[1]} if c.after else {}),
             "macs_delta": c.macs[1] - c.macs[0], "params_delta": c.params[1] - c.params[0]} for c in d.changes]
    (ma, mb), (pa, pb) = d.macs, d.params
    total = {"name": "Total", "macs_before": ma, "macs_after": mb, "macs_delta": mb - ma, "params_before": pa,
             "params_after": pb, "params_delta": pb - pa}
    def change(x: int, y: int) -> str:
        return f"{x:,} → {y:,} ({signed(y - x)}, {relative(x, y):+.1%})"

    notes = (f"Mult-Adds {change(ma, mb)}; parameters {change(pa, pb)}. {len(d.changes)} layers differ, "
             f"{d.unchanged} unchanged (rows matched by name).", convention(d.counting))
    return Report(f"{d.before.label} → {d.after.label}", columns, rows, d.to_dict(), total=total, notes=notes,
                  style=lambda row: {"added": "green", "removed": "red"}.get(row["change"]))


def verify_table(analysis: Analysis, checks: list, torch_version: str) -> Report:
    """mobcost beside PyTorch, per layer: output shape, parameters, Mult-Adds (FlopCounterMode FLOPs ÷ 2)."""
    columns = (Column("name", "Layer"), Column("shape", "Output", hide=2),
               Column("torch_shape", "PyTorch output (N×C×H×W)", hide=1),
               Column("params", "Parameters (torch)", exact, True),
               Column("torch_params", "PyTorch parameters", exact, True),
               Column("macs", "Mult-Adds", exact, True), Column("torch_macs", "PyTorch Mult-Adds", exact, True),
               Column("status", "Status"))
    rows = [{"name": c.name, "shape": batched(c.shape, c.batch), "torch_shape": "×".join(map(str, c.torch_shape)),
             "params": c.params, "torch_params": c.torch_params, "macs": c.macs, "torch_macs": c.torch_macs,
             "status": "ok" if c.ok else "MISMATCH"} for c in checks]
    bad = sum(not c.ok for c in checks)
    total = {"name": "Total", "params": sum(c.params for c in checks), "torch_params": sum(c.torch_params for c in checks),
             "macs": sum(c.macs for c in checks), "torch_macs": sum(c.torch_macs for c in checks)}
    total["status"] = "MISMATCH" if bad else "ok"
    notes = (f"{len(checks) - bad} of {len(checks)} layers agree with PyTorch {torch_version}. Parameters as "
             "sum(p.numel()) (weights, biases, batch-norm γ and β); Mult-Adds = torch.utils.flop_counter."
             "FlopCounterMode FLOPs ÷ 2. PyTorch pads `same` symmetrically by k // 2, TensorFlow asymmetrically; "
             "for odd kernels both give ceil(n / stride) outputs and the same costs.",)
    return Report(f"{analysis.label}: mobcost vs PyTorch", columns, rows, {"layers": rows, "total": total},
                  total=total, notes=notes, style=lambda row: None if row["status"] == "ok" else "bold red")


def reference_table(analysis: Analysis, comparison) -> Report:
    """The spec beside an implementation (mobcost.verify.reference.Comparison): every convolution and linear layer
    in the order the model runs them, and every total in the notes."""
    def shape(s) -> str:
        return "–" if s is None else "×".join(map(str, s))

    columns = (Column("name", "Layer (mobcost)"), Column("shape", "Output (C×H×W)"),
               Column("params", "Parameters", optional(exact), True), Column("module", "Implementation's layer"),
               Column("module_shape", "Its output"), Column("module_params", "Its parameters", optional(exact), True),
               Column("status", "Status"))
    rows = [{"name": p.row.name if p.row else "–", "shape": shape(p.shape), "params": p.row and p.row.params,
             "module": p.layer.name if p.layer else "–", "module_shape": shape(p.layer and p.layer.shape),
             "module_params": p.layer and p.layer.params, "status": "ok" if p.ok else "DIFFERS"}
            for p in comparison.layers]
    first = comparison.first_difference
    notes = [f"Ran {comparison.runs}."]
    notes += [f"{t.what}: {t.mobcost:,} and {t.reference:,}, {'equal' if t.ok else 'DIFFERENT'}."
              for t in comparison.totals]
    notes += [f"{tool} could not run this model ({why}); its convention is not compared."
              for tool, why in comparison.failed.items()]
    if first is not None:
        notes.append(f"First difference: mobcost's {first.row.name if first.row else '(no layer)'} and the "
                     f"implementation's {first.layer.name if first.layer else '(no layer)'}.")
    notes.append(f"Layers compared: {sum(p.ok for p in comparison.layers)} of {len(comparison.layers)} convolutions "
                 f"and linear layers agree in output shape and parameters (weights and biases). Built: "
                 f"{comparison.against}; " + ", ".join(f"{k} {v}" for k, v in comparison.versions.items()) + ".")
    data = {"model": analysis.network.name, "alpha": analysis.alpha, "resolution": analysis.resolution,
            "against": comparison.against, "runs": comparison.runs, "versions": comparison.versions,
            "not_run": comparison.failed, "ok": comparison.ok,
            "totals": [{"what": t.what, "mobcost": t.mobcost, "reference": t.reference, "ok": t.ok}
                       for t in comparison.totals],
            "first_difference": None if first is None else rows[comparison.layers.index(first)], "layers": rows}
    return Report(f"{analysis.label}: mobcost vs {comparison.against}", columns, rows, data, notes=tuple(notes),
                  style=lambda row: None if row["status"] == "ok" else "bold red")


# ---- renderers ----------------------------------------------------------------------------------------------

def render(report: Report, fmt: Format):
    """The report as a rich renderable (for `rich`) or as text (for the other formats), every string in it (a
    spec's titles, names and notes) made printable first: no terminal escapes, and no rich markup (rich renders
    `Text`, never markup, so `[/bold]` or `[link=...]` in a title is shown as written)."""
    return {Format.rich: _rich, Format.markdown: _markdown, Format.csv: _csv, Format.json: _json}[fmt](_printable(report))


def _printable(report: Report) -> Report:
    def row(values: dict | None) -> dict | None:
        return None if values is None else {k: printable(v) if isinstance(v, str) else v for k, v in values.items()}

    return replace(report, title=printable(report.title), notes=tuple(map(printable, report.notes)),
                   columns=tuple(replace(c, header=printable(c.header)) for c in report.columns),
                   rows=[row(r) for r in report.rows], total=row(report.total))


def _rich(report: Report):
    return _Fitted(report)


class _Fitted:
    """A report as a rich table fitted to the width it is rendered at (see Column)."""

    def __init__(self, report: Report):
        self.report = report

    def __rich_console__(self, console, options):
        from rich.table import Table
        from rich.text import Text

        report, width = self.report, options.max_width
        rows = [report.cells(row) for row in report.rows]
        cells = {c.key: [row[i] for row in rows] for i, c in enumerate(report.shown)}
        footer = dict(zip((c.key for c in report.shown), report.cells(report.total))) if report.total else {}
        columns = list(report.shown)
        needed = _widths(columns, cells, footer)
        prose = [c for c in columns if c.prose]
        if prose and sum(needed[c.key][1] for c in columns) + 3 * len(columns) + 1 > width:
            columns = [c for c in columns if not c.prose]  # each row's prose becomes a numbered note below
        hidden = []
        for c in sorted((c for c in columns if c.hide), key=lambda c: -c.hide):
            if sum(needed[c.key][0] for c in columns) + 3 * len(columns) + 1 <= width:
                break
            columns.remove(c)
            hidden.append(c)
        folded = [c for c in prose if c not in columns]
        numbered, notes = _numbered(report, folded)
        if numbered:  # the note's number goes after the cell before the prose: "erratum (1)"
            key = report.shown[report.shown.index(folded[0]) - 1].key
            cells[key] = [f"{cell} ({numbered[i]})" if i in numbered else cell for i, cell in enumerate(cells[key])]
            needed = _widths(columns, cells, footer)
        sizes = _fit([needed[c.key] for c in columns], width - 3 * len(columns) - 1,
                     [(c.wrap or c.prose) and not c.numeric for c in columns])
        # Text, not str: a plain string would go through rich's markup and emoji parsing (and their imports)
        table = Table(title=Text(report.title, style="bold"), show_footer=bool(footer))
        for c, size in zip(columns, sizes):
            table.add_column(Text(c.header), footer=Text(footer.get(c.key, "")), width=size,
                             justify="right" if c.numeric else "left")
        for i, row in enumerate(report.rows):
            table.add_row(*(Text(cells[c.key][i], overflow="fold") for c in columns), style=report.style(row))
        yield table
        for note in notes:
            yield Text(note)
        if hidden:
            names = ", ".join(c.header for c in report.shown if c in hidden)
            yield Text(f"{len(hidden)} column{'s' * (len(hidden) > 1)} hidden ({names}); widen the terminal or use "
                       f"-f markdown.", style="dim")
        for note in report.notes:
            yield Text(note, style="dim")


def _words(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(word) for word in text.split()), default=0)


def _widths(columns, cells: dict, footer: dict) -> dict[str, tuple[int, int]]:
    """Each column's (narrowest, natural) width: a header wraps at spaces, a cell only where its column wraps."""
    from rich.cells import cell_len

    found = {}
    for c in columns:
        texts = [*cells[c.key], footer.get(c.key, "")]
        natural = max(cell_len(c.header), *map(cell_len, texts))
        narrowest = max(_words(c.header), *(_words(t) if c.wrap or c.prose else cell_len(t) for t in texts))
        found[c.key] = (narrowest, natural)
    return found


def _fit(needed: list[tuple[int, int]], room: int, wraps: list[bool]) -> list[int]:
    """Widths from the narrowest up towards the natural, one character at a time to the column furthest short;
    with too little room, the widest wrapping column gives way (it folds a word, never a number's column)."""
    sizes = [low for low, _ in needed]
    spare = room - sum(sizes)
    while spare < 0 and any(w and size > 6 for w, size in zip(wraps, sizes)):
        widest = max((i for i, w in enumerate(wraps) if w), key=sizes.__getitem__)
        sizes[widest] -= 1
        spare += 1
    while spare > 0:
        short = max(range(len(sizes)), key=lambda i: needed[i][1] - sizes[i])
        if needed[short][1] <= sizes[short]:
            break
        sizes[short] += 1
        spare -= 1
    return sizes


def _numbered(report: Report, folded: list[Column]) -> tuple[dict[int, int], list[str]]:
    """The prose of folded columns as numbered notes: row index → number, and the notes (same text, one number)."""
    numbers: dict[str, int] = {}
    by_row = {}
    for i, row in enumerate(report.rows):
        text = " ".join(c.show(row[c.key]) for c in folded if row.get(c.key))
        if text:
            by_row[i] = numbers.setdefault(text, len(numbers) + 1)
    return by_row, [f"({n}) {text}" for text, n in numbers.items()]


def batched(shape, batch: int) -> str:
    """A tensor as tables show it: `14×14×512`, or `300 × 14×14×512` for a batch of 300 (Upsample.batch)."""
    return f"{batch:,} × {shape}" if batch > 1 else str(shape)


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\*[]<>|"})


def _md(text: str) -> str:
    """Text as markdown shows it literally: no link, image, HTML tag or emphasis from a spec's names, titles and notes
    (backslash escapes, CommonMark §2.4), and no `|` that would end a table cell. A code span shows its text literally
    already and takes no escapes, but for `|` (GFM tables split cells first)."""
    return "".join(part.replace("|", "\\|") if i % 2 else part.translate(_MARKDOWN)
                   for i, part in enumerate(re.split(r"(`[^`]*`)", text)))


def _markdown(report: Report) -> str:
    rows = [[_md(cell) for cell in report.cells(row)] for row in report.rows]
    if report.total:
        rows.append([f"**{_md(cell)}**" if cell else "" for cell in report.cells(report.total)])
    lines = [f"**{_md(report.title)}**", "", "| " + " | ".join(_md(c.header) for c in report.shown) + " |",
             "|" + "|".join("---:" if c.numeric else "---" for c in report.shown) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines + [""] + [f"{_md(note)}  " for note in report.notes])


def html(report: Report) -> str:
    """The report as an HTML table with its title and notes, for notebooks (`_repr_html_`)."""
    from html import escape

    def row(cells: list[str], tag: str = "td") -> str:
        return "<tr>" + "".join(f'<{tag} style="text-align: {"right" if c.numeric else "left"}">{escape(cell)}</{tag}>'
                                for c, cell in zip(report.shown, cells)) + "</tr>"

    body = "".join(row(report.cells(r)) for r in report.rows)
    foot = f"<tfoot>{row(report.cells(report.total), 'th')}</tfoot>" if report.total else ""
    notes = "".join(f"<p><small>{escape(note)}</small></p>" for note in report.notes)
    return (f"<table><caption><b>{escape(report.title)}</b></caption><thead>{row([c.header for c in report.shown], 'th')}"
            f"</thead><tbody>{body}</tbody>{foot}</table>{notes}")


def _csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(c.key for c in report.columns)
    for row in report.rows + ([report.total] if report.total else []):
        writer.writerow(row.get(c.key, "") for c in report.columns)
    return out.getvalue().rstrip("\n")


def _json(report: Report) -> str:
    return json_safe(json.dumps(report.data, indent=2, ensure_ascii=False))
