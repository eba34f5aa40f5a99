"""The counting conventions: what each counts, every convention's totals side by side, where two differ."""

from __future__ import annotations

from mobcost.conventions import CONVENTIONS, implementation_note, imported_note
from mobcost.table import Column, Report, exact, signed
from mobcost.trace import Analysis
from mobcost.views.network import unit_of


def conventions_table() -> Report:
    """What each counting convention charges per operation class, and the batch-norm terms it counts as parameters."""
    from mobcost.conventions import OPERATION_CLASSES

    columns = (Column("operation", "Operation", wrap=True),
               *(Column(name, name, wrap=True, hide=name == "keras") for name in CONVENTIONS))  # keras's column is torch's
    rows = [{"operation": op, **{c.name: c.rules[op].text + (f" ({c.rules[op].bug}: a bug)" if c.rules[op].bug else "")
                                 for c in CONVENTIONS.values()}} for op in OPERATION_CLASSES]
    per_channel = {"weights": "0", "folded": "1 (a bias)", "torch": "γ, β", "keras": "γ, β, mean, variance"}
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

    key, unit = unit_of(flops)
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
             *dict.fromkeys(filter(None, (implementation_note(a, "torch") for a in analyses))),
             *dict.fromkeys(filter(None, (imported_note(a) for a in analyses))))
    return Report("Why tools disagree: one network, every counting convention", tuple(columns), rows, data,
                  notes=notes)


def difference_table(analysis: Analysis, a: str, b: str, flops: bool = False) -> Report:
    """Where conventions a and b differ: per operation class over the network, then per layer."""
    from mobcost.conventions import OPERATION_CLASSES, difference

    diff = difference(analysis, a, b)
    unit, scale = unit_of(flops)[1], 2 if flops else 1
    columns = (Column("where", "Where", wrap=True), Column("what", "What differs", wrap=True), Column("a", f"{a} {unit}", exact, True),
               Column("b", f"{b} {unit}", exact, True), Column("delta", f"{unit} {b} − {a}", signed, True),
               Column("params_delta", f"Parameters {b} − {a}", signed, True, hide=1))
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
