"""The network's own tables: per layer (MobileNets Table 1), per block (V2 Table 2, V3 Tables 1–2), totals per
variant (MobileNets Tables 4–7), the share per layer type or part (Table 2), the built-in models, one convolution."""

from __future__ import annotations

from mobcost.conventions import counting_words, implementation_note
from mobcost.display import shows
from mobcost.language import ParamCounting
from mobcost.sizing import Sweep
from mobcost.table import Column, Report, batched, exact, millions, optional, percent
from mobcost.trace import Analysis, Row, Scaled, Totals, resize_note, size_text


def unit_of(flops: bool, name: str = "paper") -> tuple[str, str]:
    """The key and the header of a cost column: Mult-Adds, or FLOPs = 2 × Mult-Adds, and how they were counted."""
    key, unit = ("flops", "FLOPs") if flops else ("macs", "Mult-Adds")
    return key, unit if name == "paper" else f"{unit} ({name})"


def in_unit(rows: list[dict], flops: bool) -> list[dict]:
    """Rows with their Mult-Adds also as FLOPs = 2 × Mult-Adds, where FLOPs are asked for."""
    return [{**row, "flops": 2 * row["macs"]} for row in rows] if flops else rows


def counted_data(analysis: Analysis, data, counting: ParamCounting, flops: bool):
    """JSON data (always in Mult-Adds), saying how it was counted and whose network it is."""
    how = {"convention": analysis.convention, "params": counting, "shown_as": unit_of(flops)[1],
           "follows": list(analysis.network.follows)}
    if note := implementation_note(analysis, counting, analysis.convention):
        how["warning"] = note
    if note := resize_note(analysis):
        how["resized"] = note
    if uncounted := getattr(analysis, "uncounted", None):
        how["uncounted"] = uncounted
    return {**data, "counting": how}


def uncounted_words(analysis) -> str:
    """What the totals leave out: the imported operators mobcost has no rule for, or nothing."""
    uncounted = getattr(analysis, "uncounted", None)
    if not uncounted:
        return ""
    ops = ", ".join(f"{op} × {n}" for op, n in uncounted.items())
    return (f" Not counted: {sum(uncounted.values())} imported operator(s) mobcost has no rule for ({ops}), each a "
            "marked `unknown` row of 0 Mult-Adds and 0 parameters: the totals leave them out.")


def layer_table(analysis: Analysis, counting: ParamCounting = "weights", flops: bool = False) -> Report:
    """MobileNets Table 1 with Mult-Adds and Parameters per layer and a totals row."""
    columns = (Column("name", "Layer", wrap=True), Column("type", "Type / Stride", hide=1),
               Column("filter", "Filter Shape", wrap=True), Column("input", "Input Size", wrap=True),
               Column(*unit_of(flops, analysis.convention), exact, True),
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
                 f"{unit_of(flops, analysis.convention)[1]}, {params / 10**6:,.2f} million parameters (M = 10⁶). "
                 f"{counting_words(counting, analysis.convention, flops)}{uncounted_words(analysis)}")
    notes += filter(None, [implementation_note(analysis, counting, analysis.convention), resize_note(analysis)])
    total = {columns[0].key: "Total" + (" (not all counted)" if analysis.uncounted else ""), "macs": analysis.macs,
             "params": params}
    data = analysis.to_dict(counting)
    if len(analysis.parts) > 1:
        data["parts"] = [{"part": part, "macs": macs, "params": params}
                         for part, (macs, params) in analysis.breakdown(counting, "part").items()]
    return Report(f"{analysis.label} (α = {analysis.alpha:g}, {analysis.size})",
                  columns, in_unit(rows, flops), counted_data(analysis, data, counting, flops),
                  total=in_unit([total], flops)[0], notes=tuple(notes),
                  style=lambda row: "bold" if row.get("subtotal") else None)


_NL = {"relu": "RE", "relu6": "RE6", "hswish": "HS", "hsigmoid": "HSIG", "sigmoid": "SIG", "swish": "SW"}


def _ratio(t) -> str:
    return f"{float(t):g}" if 10**6 % t.denominator == 0 else f"{t.numerator}/{t.denominator}"


def blocks(rows: tuple[Row, ...]) -> list[list[Row]]:
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
    return {**row, "operator": _operator(unit), "stride": getattr(unit, "stride", first.stride),
            "act": _NL.get(getattr(unit, "act", None), "–"), "n": getattr(unit, "n", 1), "exp": dw.input.c,
            "t": _ratio(unit.t) if hasattr(unit, "t") else "–", "se": "✓" if getattr(unit, "se", False) else "–"}


def _operator(unit) -> str:
    """A block as its table names it: its kind and kernel (`bottleneck 3×3`), a UIB's two depthwise kernels (`uib 3,
    5`; – where it has none), or its kind alone (se, attention)."""
    if unit.kind == "uib":
        return f"uib {unit.start_dw or '–'}, {unit.mid_dw or '–'}"
    kernel = getattr(unit, "kernel", None)
    if kernel is None or unit.kind == "attention":
        return unit.kind
    return f"{unit.kind} {kernel}×{kernel}" if isinstance(kernel, int) else f"{unit.kind} {kernel[0]}×{kernel[1]}"


def block_table(analysis: Analysis, counting: ParamCounting = "weights", flops: bool = False) -> Report:
    """One row per block (MobileNetV2 Table 2: t, c, n, s; MobileNetV3 Tables 1–2: exp size, #out, SE, NL, s)."""
    rows = [{**_block_row(group, counting), "name": group[0].block or group[0].name, "part": group[0].part}
            for group in blocks(analysis.rows)]
    # a network of several parts (backbone, extras, heads) names every row, and each part closes with its subtotal
    named = [Column("name", "Layer", wrap=True)] if len(analysis.parts) > 1 else []
    columns = [*named, Column("input", "Input"), Column("operator", "Operator", wrap=bool(named)),
               Column("t", "t", numeric=True, hide=4 if named else 0),
               Column("exp", "exp size", numeric=True, hide=2), Column("out", "c (#out)", numeric=True),
               Column("n", "n", numeric=True), Column("se", "SE", hide=1), Column("act", "NL", hide=3),
               Column("stride", "s", numeric=True), Column(*unit_of(flops, analysis.convention), exact, True),
               Column("params", "Parameters", exact, True)]
    unused = {"n": all(r["n"] == 1 for r in rows), "se": all(r["se"] == "–" for r in rows)}
    columns = tuple(c for c in columns if not unused.get(c.key))
    return _per_row(analysis, columns, _subtotals(analysis, rows, counting), counting, flops)


def has_blocks(analysis: Analysis) -> bool:
    """Whether the network's papers list it by block (inverted residuals) rather than by layer (V1 Table 1)."""
    return any(row.unit is not None and row.unit.kind == "bottleneck" for row in analysis.rows)


def totals_table(title: str, analyses: list[Scaled], accuracy: list[tuple[float, str] | None],
                 counting: ParamCounting = "weights", flops: bool = False) -> Report:
    """One row per model with Million Mult-Adds and Million Parameters (MobileNets Tables 4–7)."""
    key, unit = unit_of(flops, analyses[0].convention)
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
    notes.append(f"M = 10⁶. {counting_words(counting, analyses[0].convention, flops)}")
    notes += list(dict.fromkeys(note for a in analyses if (note := implementation_note(a, counting, a.convention))))
    notes += list(dict.fromkeys(f"{a.label}:{words}" for a in analyses if (words := uncounted_words(a))))
    data = [counted_data(a, {"model": a.label, "name": a.network.name, "alpha": a.alpha, "resolution": a.resolution,
                      "accuracy": row["accuracy"], "accuracy_source": row["accuracy_source"],
                      "macs": a.macs, "params": row["params"]}, counting, flops)
            for a, row in zip(analyses, rows)]
    return Report(title, columns, in_unit(rows, flops), data, notes=tuple(notes))


def breakdown_table(analysis: Analysis, counting: ParamCounting = "weights", flops: bool = False,
                    by: str = "type") -> Report:
    """Share of Mult-Adds and parameters per layer type (MobileNets Table 2), or per part (backbone, extras, heads)."""
    key, unit = unit_of(flops, analysis.convention)
    params_total = analysis.params_counted(counting)
    columns = (Column("type", "Type" if by == "type" else "Part"), Column("macs_share", f"{unit} (%)", percent, True),
               Column("params_share", "Parameters (%)", percent, True),
               Column(key, unit, exact, True), Column("params", "Parameters", exact, True))
    def share(part: int, whole: int) -> float:  # a network of norms and affines only has parameters, no Mult-Adds
        return 100 * part / whole if whole else 0.0

    rows = [{"type": kind, "macs_share": share(macs, analysis.macs), "params_share": share(params, params_total),
             "macs": macs, "params": params} for kind, (macs, params) in analysis.breakdown(counting, by).items()]
    data = {"model": analysis.network.name, "alpha": analysis.alpha, "resolution": analysis.resolution,
            "totals": {"macs": analysis.macs, "params": params_total},
            "types" if by == "type" else "parts": [{("type" if by == "type" else "part"): row["type"],
                                                    "macs": row["macs"], "params": row["params"]} for row in rows]}
    return Report(f"Resource per {'layer type' if by == 'type' else 'part'}: {analysis.label}", columns,
                  in_unit(rows, flops),
                  counted_data(analysis, data, counting, flops),
                  total=in_unit([{"type": "Total", "macs": analysis.macs, "params": params_total}], flops)[0],
                  notes=("Layer types with no Mult-Adds and no parameters are left out. "
                         + counting_words(counting, analysis.convention, flops) + uncounted_words(analysis),
                         *filter(None, [implementation_note(analysis, counting, analysis.convention)])))


def conv_table(steps: list[dict], ratio_note: str) -> Report:
    """One layer, standard vs depthwise + pointwise, step by step (MobileNets eq. 2, 4, 5)."""
    columns = (Column("operation", "Operation", wrap=True), Column("formula", "Formula", wrap=True),
               Column("arithmetic", "Arithmetic", wrap=True),
               Column("macs", "Mult-Adds", exact, True), Column("params", "Parameters", exact, True))
    return Report("Standard vs depthwise-separable convolution", columns, steps, {"steps": steps}, notes=(ratio_note,))

def models_table(entries: list[dict]) -> Report:
    columns = (Column("name", "Model"), Column("aliases", "Aliases", hide=2, wrap=True),
               Column("title", "Title", hide=1, wrap=True),
               Column("resolution", "Input", numeric=True), Column("macs", "Million Mult-Adds", millions(1), True),
               Column("params", "Million Parameters", millions(2), True), Column("variants", "Variants", hide=3, wrap=True),
               Column("source", "Source", hide=4, wrap=True))
    rows = [{**entry, "resolution": size_text(entry["resolution"])} for entry in entries]  # 1024×2048, not a tuple
    return Report("Built-in models (α = 1 at their own resolution)", columns, rows, entries)


@shows(Analysis)
def analysis_table(analysis: Analysis) -> Report:
    """The per-layer table, or per block for networks of bottlenecks, as `mobcost table` prints it."""
    return (block_table if has_blocks(analysis) else layer_table)(analysis)


@shows(Sweep)
def sweep_table(sweep: Sweep) -> Report:
    """The table `mobcost sweep` prints."""
    return totals_table(sweep.title, list(sweep.totals), list(sweep.accuracy))


@shows(Totals)
def variant_table(totals: Totals) -> Report:
    """A variant's totals as a one-row table."""
    return totals_table(totals.label, [totals], [None])
