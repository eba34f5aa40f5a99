"""Two networks compared row by row: the layers that differ, with Mult-Add and parameter deltas (`mobcost diff`)."""

from __future__ import annotations

from mobcost.conventions import counting_words
from mobcost.delta import Diff, relative
from mobcost.display import shows
from mobcost.errors import listed
from mobcost.table import Column, Report, exact, signed


@shows(Diff)
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

    rows = [{"name": c.shown, "change": c.kind, "filter": shape(c),
             **({"macs_before": c.macs[0], "params_before": c.params[0]} if c.before else {}),
             **({"macs_after": c.macs[1], "params_after": c.params[1]} if c.after else {}),
             "macs_delta": c.macs[1] - c.macs[0], "params_delta": c.params[1] - c.params[0]} for c in d.changes]
    (ma, mb), (pa, pb) = d.macs, d.params
    total = {"name": "Total", "macs_before": ma, "macs_after": mb, "macs_delta": mb - ma, "params_before": pa,
             "params_after": pb, "params_delta": pb - pa}
    def change(x: int, y: int) -> str:
        return f"{x:,} → {y:,} ({signed(y - x)}, {relative(x, y):+.1%})"

    renamed = ""
    if d.renamed:
        renamed = f" ({len(d.renamed)} of them renamed: {listed([f'{x} → {y}' for x, y in d.renamed])})"
    notes = (f"Mult-Adds {change(ma, mb)}; parameters {change(pa, pb)}. {len(d.changes)} layers differ, "
             f"{d.unchanged} unchanged{renamed}; rows are matched by their place in the graph, then by name and "
             f"kind.", counting_words(d.counting))
    return Report(f"{d.before.label} → {d.after.label}", columns, rows, d.to_dict(), total=total, notes=notes,
                  style=lambda row: {"added": "green", "removed": "red"}.get(row["change"]))
