"""A Report as a rich table fitted to the terminal's width: prose to numbered notes, then columns hidden and named,
never a number cut."""

from __future__ import annotations

from dataclasses import replace

from mobcost.limits import MAX_SHOWN_ROWS
from mobcost.table.model import Column, Report


class Fitted:
    """A report as a rich table fitted to the width it is rendered at (see Column)."""

    def __init__(self, report: Report):
        self.report = report

    def __rich_console__(self, console, options):
        from rich.table import Table
        from rich.text import Text

        report, width = self.report, options.max_width
        more = len(report.rows) - MAX_SHOWN_ROWS
        if more > 0:  # a terminal's table of ten thousand rows takes seconds to lay out, and nobody reads it
            report = replace(report, rows=report.rows[:MAX_SHOWN_ROWS])
        rows = [report.cells(row) for row in report.rows]
        cells = {c.key: [row[i] for row in rows] for i, c in enumerate(report.shown)}
        footer = dict(zip((c.key for c in report.shown), report.cells(report.total))) if report.total else {}
        columns = list(report.shown)
        needed = _widths(columns, cells, footer)
        prose = [c for c in columns if c.prose]
        if prose and sum(needed[c.key][1] for c in columns) + 3 * len(columns) + 1 > width:
            columns = [c for c in columns if not c.prose]  # each row's prose becomes a numbered note below
        folded = [c for c in prose if c not in columns]
        numbered, notes = _numbered(report, folded)
        key = None  # the column that carries the notes' numbers, never hidden
        if numbered:  # the note's number goes after the cell before the prose: "erratum (1)"
            key = report.shown[report.shown.index(folded[0]) - 1].key
            cells[key] = [f"{cell} ({numbered[i]})" if i in numbered else cell for i, cell in enumerate(cells[key])]
            needed = _widths(columns, cells, footer)
        hidden = []
        for c in sorted((c for c in columns if c.hide), key=lambda c: -c.hide):
            if _room(needed, columns) <= width:
                break
            columns.remove(c)
            hidden.append(c)
        # still too wide: the text columns give way from the right, then the numbers' (never the first, the name)
        for c in [*(c for c in columns[:0:-1] if not c.numeric and c.key != key),
                  *(c for c in columns[:0:-1] if c.numeric)]:
            if _room(needed, columns) <= width:
                break
            columns.remove(c)
            hidden.append(c)
        sizes = _fit([needed[c.key] for c in columns], width - 3 * len(columns) - 1)
        # Text, not str: a plain string would go through rich's markup and emoji parsing (and their imports)
        table = Table(title=Text(report.title, style="bold"), show_footer=bool(footer))
        for c, size in zip(columns, sizes):
            table.add_column(Text(c.header), footer=Text(footer.get(c.key, "")), width=size,
                             justify="right" if c.numeric else "left")
        for i, row in enumerate(report.rows):
            table.add_row(*(Text(cells[c.key][i], overflow="fold") for c in columns), style=report.style(row))
        yield table
        if more > 0:
            yield Text(f"{more:,} more row{'s are' if more > 1 else ' is'} not shown (at most {MAX_SHOWN_ROWS:,} in a "
                       f"table): -f csv, json or markdown gives every row.", style="dim")
        for note in notes:
            yield Text(note)
        if hidden:
            names = ", ".join(c.header for c in report.shown if c in hidden)
            yield Text(f"{len(hidden)} column{'s' * (len(hidden) > 1)} hidden ({names}); widen the terminal or use "
                       f"-f markdown.", style="dim")
        for note in report.notes:
            yield Text(note, style="dim")


def _room(needed: dict, columns: list[Column]) -> int:
    """The width of a table of these columns at their narrowest: cells, one space either side, and the rules."""
    return sum(needed[c.key][0] for c in columns) + 3 * len(columns) + 1


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


def _fit(needed: list[tuple[int, int]], room: int) -> list[int]:
    """Widths from the narrowest (no word, no number cut) up towards the natural, one character at a time to the
    column furthest short."""
    sizes = [low for low, _ in needed]
    spare = room - sum(sizes)
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
