"""The table model: raw rows (exact integers), columns that say how a value is shown, notes. Knows no concern.

A Report holds raw values; only its columns' `show` functions round, and each header says its unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable


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


def signed(n: int) -> str:
    return f"{n:+,}" if n else "0"


def batched(shape, batch: int) -> str:
    """A tensor as tables show it: `14×14×512`, or `300 × 14×14×512` for a batch of 300 (Upsample.batch)."""
    return f"{batch:,} × {shape}" if batch > 1 else str(shape)


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
    csv: Callable[[Any], Any] | None = None  # the value as CSV writes it, where not raw (a latency to its precision)


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
