"""Rows → rich Table / Markdown / CSV / JSON; builds, never prints.

A Report holds raw values (exact integers); only its columns' `show` functions round, and each header says its unit.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable

from mobcost.check import CheckResult
from mobcost.conventions import CONVENTIONS
from mobcost.spec import ParamCounting
from mobcost.trace import Analysis, Row, Scaled

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


def _data(analysis: Analysis, data, flops: bool):
    """JSON data (always in Mult-Adds), saying how it was counted where that is not the paper's way in Mult-Adds."""
    if analysis.convention == "paper" and not flops:
        return data
    return {**data, "counting": {"convention": analysis.convention, "shown_as": _unit(flops)[1]}}


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

def layer_table(analysis: Analysis, counting: ParamCounting = "weights", flops: bool = False) -> Report:
    """MobileNets Table 1 with Mult-Adds and Parameters per layer and a totals row."""
    columns = (Column("name", "Layer"), Column("type", "Type / Stride"), Column("filter", "Filter Shape"),
               Column("input", "Input Size"), Column(*_unit(flops, analysis.convention), exact, True),
               Column("params", "Parameters", exact, True))
    rows = [{"name": r.name, "type": r.type, "filter": r.filter, "input": str(r.input), "macs": r.macs,
             "params": r.params_counted(counting), "part": r.part} for r in analysis.rows]
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
    notes.append(f"Total: {(2 if flops else 1) * analysis.macs / 10**6:,.1f} million "
                 f"{_unit(flops, analysis.convention)[1]}, {params / 10**6:,.2f} million parameters (M = 10⁶). "
                 f"{convention(counting, analysis.convention, flops)}")
    total = {columns[0].key: "Total", "macs": analysis.macs, "params": params}
    data = analysis.to_dict(counting)
    if len(analysis.parts) > 1:
        data["parts"] = [{"part": part, "macs": macs, "params": params}
                         for part, (macs, params) in analysis.breakdown(counting, "part").items()]
    return Report(f"{analysis.label} (α = {float(analysis.alpha):g}, {analysis.size})",
                  columns, _in_unit(rows, flops), _data(analysis, data, flops),
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
    row = {"input": f"{size} × {first.input.c}", "out": group[-1].output.c, "n": 1, "stride": first.stride,
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
               Column("exp", "exp size", numeric=True), Column("out", "c (#out)", numeric=True),
               Column("n", "n", numeric=True), Column("se", "SE"), Column("act", "NL"),
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
    columns = (Column("model", "Model"), Column("accuracy", "ImageNet Accuracy (published)", optional("{:.1f}%".format), True),
               Column(key, f"Million {unit}", millions(1), True),
               Column("params", "Million Parameters", millions(2), True))
    rows = [{"model": a.label, "accuracy": acc[0] if acc else None, "macs": a.macs,
             "params": a.params_counted(counting)} for a, acc in zip(analyses, accuracy)]
    sources = sorted({acc[1] for acc in accuracy if acc})
    notes = [f"Accuracy as published in {', '.join(sources)}; mobcost computes costs, not accuracy."] if sources else []
    notes.append(f"M = 10⁶. {convention(counting, analyses[0].convention, flops)}")
    data = [_data(a, {"model": a.label, "name": a.network.name, "alpha": float(a.alpha), "resolution": a.resolution,
                      "accuracy": row["accuracy"], "macs": a.macs, "params": row["params"]}, flops)
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
    data = {"model": analysis.network.name, "alpha": float(analysis.alpha), "resolution": analysis.resolution,
            "totals": {"macs": analysis.macs, "params": params_total},
            "types" if by == "type" else "parts": [{("type" if by == "type" else "part"): row["type"],
                                                    "macs": row["macs"], "params": row["params"]} for row in rows]}
    return Report(f"Resource per {'layer type' if by == 'type' else 'part'}: {analysis.label}", columns,
                  _in_unit(rows, flops),
                  _data(analysis, data, flops),
                  total=_in_unit([{"type": "Total", "macs": analysis.macs, "params": params_total}], flops)[0],
                  notes=("Layer types with no Mult-Adds and no parameters are left out. "
                         + convention(counting, analysis.convention, flops),))


def memory_table(analysis: Analysis, dtype: str = "fp16", counting: ParamCounting = "torch") -> Report:
    """The widest materialized tensor at each spatial resolution, the peak live set (MobileNetV2 Table 3), and the
    weights' size at the same dtype: RAM and flash."""
    from mobcost.memory import BYTES, RULE, by_resolution, peak_memory, steps

    size = BYTES[dtype]
    rows = [{"resolution": f"{h}×{w}", "channels": c, "bytes": h * w * c * size, "kb": h * w * c * size,
             "tensor": name} for (h, w), c, name in by_resolution(analysis)]
    peak = peak_memory(analysis, dtype)
    where = max(steps(analysis), key=lambda step: step.live).rows
    weights = analysis.params_counted(counting)
    columns = (Column("resolution", "Size"), Column("channels", "Max channels", numeric=True),
               Column("kb", "Memory (kB)", lambda n: f"{n / 1000:,.1f}", True),
               Column("bytes", "Memory (bytes)", exact, True), Column("tensor", "Written by"))
    notes = (f"Peak live activations: {peak:,} bytes ({peak / 1000:,.1f} kB, {dtype}, one image), "
             f"during {where[0].name}" + (f" … {where[-1].name}" if len(where) > 1 else "") + ".",
             f"Weights: {weights:,} parameters × {size} bytes = {weights * size:,} bytes ({weights * size / 10**6:,.2f}"
             f" MB, {dtype}; parameters counted as {'PyTorch' if counting == 'torch' else counting}).",
             f"{RULE} kB = 10³ bytes, MB = 10⁶ bytes.")
    data = {"model": analysis.network.name, "alpha": float(analysis.alpha), "resolution": analysis.resolution,
            "dtype": dtype, "bytes_per_activation": size, "peak_bytes": peak, "weights": weights,
            "weights_bytes": weights * size,
            "resolutions": [{k: row[k] for k in ("resolution", "channels", "bytes", "tensor")} for row in rows]}
    return Report(f"Activation memory: {analysis.label} ({dtype})", columns, rows, data, notes=notes)


def memory_layers_table(analysis: Analysis, dtype: str = "fp16") -> Report:
    """Every row's input and output activations, whether its output is materialized, and its step's live set."""
    from mobcost.memory import BYTES, RULE, steps

    size = BYTES[dtype]
    rows = []
    for step in steps(analysis):
        for row in step.rows:
            rows.append({"name": row.name, "input": str(row.input), "output": str(row.output),
                         "input_size": row.input.size, "output_size": row.output.size,
                         "whole": "yes" if row is step.rows[-1] else "sliced", "live": step.live * size})
    columns = (Column("name", "Layer"), Column("input", "Input"), Column("output", "Output"),
               Column("input_size", "Input activations", exact, True),
               Column("output_size", "Output activations", exact, True), Column("whole", "Output materialized"),
               Column("live", f"Live set (bytes, {dtype})", exact, True))
    return Report(f"Activations per layer: {analysis.label}", columns, rows, {"model": analysis.network.name,
                  "dtype": dtype, "layers": rows}, notes=(f"{RULE} Activations are counted in elements.",))


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


def fit_table(network_title: str, candidates: list[Candidate], grid: AccuracyGrid | None, limits: Limits,
              shown: int | None = None) -> Report:
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
    notes.append(f"M = 10⁶. {convention()}")
    budget = {"max_macs": limits.max_macs, "max_params": limits.max_params, "max_memory": limits.max_memory,
              "dtype": limits.dtype}
    data = {"model": network_title, "fitting": fitting, "budget": budget,
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


# ---- counting conventions and verification ------------------------------------------------------------------

def signed(n: int) -> str:
    return f"{n:+,}" if n else "0"


def conventions_table() -> Report:
    """What each counting convention charges per operation class, and the batch-norm terms it counts as parameters."""
    from mobcost.conventions import OPERATION_CLASSES

    columns = (Column("operation", "Operation"),
               *(Column(name, name) for name in CONVENTIONS))
    rows = [{"operation": op, **{c.name: c.rules[op].text + (f" ({c.rules[op].bug}: a bug)" if c.rules[op].bug else "")
                                 for c in CONVENTIONS.values()}} for op in OPERATION_CLASSES]
    per_channel = {"weights": "0", "torch": "γ, β", "keras": "γ, β, mean, variance"}
    rows.append({"operation": "parameters per batch-norm channel",
                 **{c.name: per_channel[c.params] for c in CONVENTIONS.values()}})
    notes = tuple(f"{op}: {text}." for op, text in OPERATION_CLASSES.items())
    notes += tuple(f"{c.name}: {c.tool}" for c in CONVENTIONS.values())
    data = {c.name: {"tool": c.tool, "params": c.params, "rules": {op: r.text for op, r in c.rules.items()}}
            for c in CONVENTIONS.values()}
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
            data.append({"convention": name, "model": a.label, "macs": macs, "params": params})
        rows.append(row)
    notes = (f"{'FLOPs = 2 × Mult-Adds. ' if flops else ''}Each convention counts the same traced network; "
             "`mobcost conventions` shows what each counts, `mobcost explain MODEL --between A B` where two differ.",)
    return Report("Why tools disagree: one network, every counting convention", tuple(columns), rows, data,
                  notes=notes)


def difference_table(analysis: Analysis, a: str, b: str, flops: bool = False) -> Report:
    """Where conventions a and b differ: per operation class over the network, then per layer."""
    from mobcost.conventions import OPERATION_CLASSES, difference

    diff = difference(analysis, a, b)
    unit, scale = _unit(flops)[1], 2 if flops else 1
    columns = (Column("where", "Where"), Column("what", "What differs"), Column("a", f"{a} {unit}", exact, True),
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


def verify_table(analysis: Analysis, checks: list, torch_version: str) -> Report:
    """mobcost beside PyTorch, per layer: output shape, parameters, Mult-Adds (FlopCounterMode FLOPs ÷ 2)."""
    columns = (Column("name", "Layer"), Column("shape", "Output"), Column("torch_shape", "PyTorch output (N×C×H×W)"),
               Column("params", "Parameters (torch)", exact, True),
               Column("torch_params", "PyTorch parameters", exact, True),
               Column("macs", "Mult-Adds", exact, True), Column("torch_macs", "PyTorch Mult-Adds", exact, True),
               Column("status", "Status"))
    rows = [{"name": c.name, "shape": str(c.shape), "torch_shape": "×".join(map(str, c.torch_shape)),
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
