"""What a change to a spec costs: two traced networks matched row by row by layer name, no I/O.

Every row of either network is added, removed, changed (its cost, shape or filter differ) or unchanged; the
deltas of the rows listed sum to the totals' delta, since an unchanged row's delta is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
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
        return {"name": self.name, "change": self.kind, "before": side(self.before), "after": side(self.after),
                "macs_delta": mb - ma, "params_delta": pb - pa}


@dataclass(frozen=True, repr=False)
class Diff(Displayed):
    """Two analyses of a network and the layers that differ between them, in the order of the second."""

    before: Analysis
    after: Analysis
    changes: tuple[Change, ...]
    unchanged: int
    counting: ParamCounting = "weights"

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

        totals = {key: {"before": x, "after": y, "delta": y - x, "relative": relative(x, y)}
                  for key, (x, y) in (("macs", self.macs), ("params", self.params))}
        return {"before": side(self.before), "after": side(self.after), "counting": self.counting,
                "totals": totals, "rows": [c.to_dict() for c in self.changes], "unchanged": self.unchanged}


def relative(before: int, after: int) -> float:
    """(after − before) / before; infinite growth from 0, none from 0 to 0."""
    if before == 0:
        return 0.0 if after == 0 else float("inf")
    return (after - before) / before


def _keys(rows: tuple[Row, ...]) -> list[tuple[str, int]]:
    """Each row's name and its occurrence of that name, so that repeated names pair up in order."""
    seen: dict[str, int] = {}
    keys = []
    for row in rows:
        seen[row.name] = seen.get(row.name, 0) + 1
        keys.append((row.name, seen[row.name]))
    return keys


def _same(a: Row, b: Row, counting: ParamCounting) -> bool:
    return (a.macs, a.params_counted(counting), a.input, a.output, a.filter) == (
        b.macs, b.params_counted(counting), b.input, b.output, b.filter)


def merged(before: Analysis, after: Analysis, counting: ParamCounting = "weights") -> list[Change]:
    """Every row of either network, in the order of the second with the removed rows in their place, each marked
    added, removed, changed or unchanged (rows matched by name)."""
    keys_a, keys_b = _keys(before.rows), _keys(after.rows)
    index_a = {key: i for i, key in enumerate(keys_a)}
    in_b = set(keys_b)
    rows, next_a = [], 0

    def removed_up_to(stop: int) -> None:
        nonlocal next_a
        for i in range(next_a, stop):
            if keys_a[i] not in in_b:
                rows.append(Change(before.rows[i].name, "removed", before.rows[i], None, counting))
        next_a = max(next_a, stop)

    for key, row in zip(keys_b, after.rows):
        if key not in index_a:
            rows.append(Change(row.name, "added", None, row, counting))
            continue
        i = index_a[key]
        removed_up_to(i + 1)  # the rows removed before this one, in their place
        kind = "unchanged" if _same(before.rows[i], row, counting) else "changed"
        rows.append(Change(row.name, kind, before.rows[i], row, counting))
    removed_up_to(len(keys_a))
    return rows


def diff(before: Analysis, after: Analysis, counting: ParamCounting = "weights") -> Diff:
    """The layers added, removed and changed from `before` to `after`, matched by name."""
    rows = merged(before, after, counting)
    changes = tuple(row for row in rows if row.kind != "unchanged")
    return Diff(before, after, changes, len(rows) - len(changes), counting)
