"""What a change to a spec costs: two traced networks matched row by row by structure, no I/O.

Rows pair by their place in the graph: first the runs of rows that are the same layer (kind, filter, shapes and
cost), whatever their names (an imported ONNX file against its shipped config, a block dropped from the middle);
between those runs, rows of the same name, then rows of the same kind in order, then rows of the same output and
cost under another kind (an FC on a 1×1 map and a 1×1 convolution). A pair whose names differ is a
rename. Every row of either network is added, removed, changed (its cost, shape or filter differ) or unchanged; the
deltas of the rows listed sum to the totals' delta, since an unchanged row's delta is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from mobcost.language import ParamCounting
from mobcost.display import Displayed
from mobcost.trace import Analysis, Row

ChangeKind = Literal["added", "removed", "changed", "unchanged"]


@dataclass(frozen=True)
class Change:
    """One layer that differs: its row before and after (None where it was added or removed)."""

    name: str
    kind: ChangeKind
    before: Row | None
    after: Row | None
    counting: ParamCounting = "weights"

    @property
    def shown(self) -> str:
        """The layer's name, `old → new` where the pair was renamed."""
        if self.before and self.after and self.before.name != self.after.name:
            return f"{self.before.name} → {self.after.name}"
        return self.name

    @property
    def macs(self) -> tuple[int, int]:
        return tuple(row.macs if row else 0 for row in (self.before, self.after))

    @property
    def params(self) -> tuple[int, int]:
        return tuple(row.params_counted(self.counting) if row else 0 for row in (self.before, self.after))

    def to_dict(self) -> dict:
        def side(row: Row | None) -> dict | None:
            return row and {"filter": row.filter, "input": [row.input.h, row.input.w, row.input.c],
                            "output": [row.output.h, row.output.w, row.output.c], "macs": row.macs,
                            "params": row.params_counted(self.counting)}

        (ma, mb), (pa, pb) = self.macs, self.params
        return {"name": self.name, "change": self.kind, "renamed_from": self.before.name if self.shown != self.name
                else None, "before": side(self.before), "after": side(self.after),
                "macs_delta": mb - ma, "params_delta": pb - pa}


@dataclass(frozen=True, repr=False)
class Diff(Displayed):
    """Two analyses of a network and the layers that differ between them, in the order of the second."""

    before: Analysis
    after: Analysis
    changes: tuple[Change, ...]
    unchanged: int
    counting: ParamCounting = "weights"
    renamed: tuple[tuple[str, str], ...] = ()  # unchanged layers whose names differ: (before, after)

    @property
    def macs(self) -> tuple[int, int]:
        return self.before.macs, self.after.macs

    @property
    def params(self) -> tuple[int, int]:
        return self.before.params_counted(self.counting), self.after.params_counted(self.counting)

    def __repr__(self) -> str:
        (ma, mb), (pa, pb) = self.macs, self.params
        return (f"Diff({self.before.label} → {self.after.label}: Mult-Adds {mb - ma:+,} ({relative(ma, mb):+.1%}), "
                f"parameters {pb - pa:+,} ({relative(pa, pb):+.1%}), {len(self.changes)} layers differ)")

    def growth(self) -> float:
        """The larger relative growth of Mult-Adds and parameters (0.05 = 5%; negative when both shrink)."""
        return max(relative(*self.macs), relative(*self.params))

    def to_dict(self) -> dict:
        def side(a: Analysis) -> dict:
            return {"model": a.network.name, "label": a.label, "alpha": a.alpha, "resolution": a.resolution,
                    "macs": a.macs, "params": a.params_counted(self.counting)}

        totals = {key: {"before": x, "after": y, "delta": y - x, "relative": relative(x, y) if x or not y else None}
                  for key, (x, y) in (("macs", self.macs), ("params", self.params))}
        return {"before": side(self.before), "after": side(self.after), "counting": self.counting,
                "totals": totals, "rows": [c.to_dict() for c in self.changes], "unchanged": self.unchanged,
                "renamed": [list(pair) for pair in self.renamed]}


def relative(before: int, after: int) -> float:
    """(after − before) / before; infinite growth from 0, none from 0 to 0."""
    if before == 0:
        return 0.0 if after == 0 else float("inf")
    return (after - before) / before


def _signature(row: Row, counting: ParamCounting) -> tuple:
    return row.kind, row.filter, row.input, row.output, row.batch, row.macs, row.params_counted(counting)


def _same(a: Row, b: Row, counting: ParamCounting) -> bool:
    return _signature(a, counting) == _signature(b, counting)


def _pairs(a: tuple[Row, ...], b: tuple[Row, ...], counting: ParamCounting) -> list[tuple[int | None, int | None]]:
    """Row indices paired by structure, in the order of `b`, each row only in `a` before the next pair after it."""
    match: dict[int, int] = {}  # index in b → index in a
    same = SequenceMatcher(None, [_signature(r, counting) for r in a], [_signature(r, counting) for r in b],
                           autojunk=False)
    for tag, i1, i2, j1, j2 in same.get_opcodes():
        if tag == "equal":
            match.update(zip(range(j1, j2), range(i1, i2)))
        else:
            match.update(_stretch(a, b, range(i1, i2), range(j1, j2)))
    moved: dict[tuple, list[int]] = {}  # rows listed in another order (an ONNX export's SSD heads): the same row
    for i in sorted(set(range(len(a))) - set(match.values())):
        moved.setdefault(_signature(a[i], counting), []).append(i)
    for j in (j for j in range(len(b)) if j not in match):
        if moved.get(signature := _signature(b[j], counting)):
            match[j] = moved[signature].pop(0)
    pairs: list[tuple[int | None, int | None]] = []
    paired, next_a = set(match.values()), 0
    for j in range(len(b)):
        if j in match:
            pairs += [(i, None) for i in range(next_a, match[j]) if i not in paired]
            next_a = max(next_a, match[j] + 1)
        pairs.append((match.get(j), j))
    return pairs + [(i, None) for i in range(next_a, len(a)) if i not in paired]


def _stretch(a: tuple[Row, ...], b: tuple[Row, ...], rows_a: range, rows_b: range) -> dict[int, int]:
    """Between two equal runs: rows of the same name pair, then rows of the same kind, in order."""
    match: dict[int, int] = {}
    by_name: dict[str, int] = {}
    for i in rows_a:
        by_name.setdefault(a[i].name, i)
    for j in rows_b:
        if (i := by_name.pop(b[j].name, None)) is not None:
            match[j] = i
    left_a = [i for i in rows_a if i not in match.values()]
    left_b = [j for j in rows_b if j not in match]
    # the same kind; then the same output and cost under another kind (an FC on a 1×1 map is a 1×1 conv)
    for key in (lambda r: r.kind, lambda r: (r.output, r.macs, r.params)):
        kinds = SequenceMatcher(None, [key(a[i]) for i in left_a], [key(b[j]) for j in left_b], autojunk=False)
        for block in kinds.get_matching_blocks():
            match.update((left_b[block.b + k], left_a[block.a + k]) for k in range(block.size))
        left_a = [i for i in left_a if i not in match.values()]
        left_b = [j for j in left_b if j not in match]
    return match


def merged(before: Analysis, after: Analysis, counting: ParamCounting = "weights") -> list[Change]:
    """Every row of either network, in the order of the second with the removed rows in their place, each marked
    added, removed, changed or unchanged (rows paired by structure, see the module)."""
    rows = []
    for i, j in _pairs(before.rows, after.rows, counting):
        a = before.rows[i] if i is not None else None
        b = after.rows[j] if j is not None else None
        if a is None:
            rows.append(Change(b.name, "added", None, b, counting))
        elif b is None:
            rows.append(Change(a.name, "removed", a, None, counting))
        else:
            rows.append(Change(b.name, "unchanged" if _same(a, b, counting) else "changed", a, b, counting))
    return rows


def diff(before: Analysis, after: Analysis, counting: ParamCounting = "weights") -> Diff:
    """The layers added, removed and changed from `before` to `after`, matched by structure (see the module)."""
    rows = merged(before, after, counting)
    changes = tuple(row for row in rows if row.kind != "unchanged")
    renamed = tuple((row.before.name, row.after.name) for row in rows
                    if row.kind == "unchanged" and row.before.name != row.after.name)
    return Diff(before, after, changes, len(rows) - len(changes), counting, renamed)
