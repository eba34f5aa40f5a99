"""A Report as rich, Markdown, CSV, JSON or HTML, every string in it (a spec's titles, names and notes) made safe for
the channel first."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

from mobcost.output import json_text, printable
from mobcost.table.model import Column, Format, Report


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
    from mobcost.table.rich import Fitted

    return Fitted(report)


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\*~[]<>|&@"})
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")  # an `_` that may open or close emphasis: not inside a word
_LINKS = re.compile(r"(?i)(?<=[a-z])(?=://)|(?<=\bwww)(?=\.)")  # http://x and www.x: GFM makes each a link


def _md(text: str) -> str:
    """Text as markdown shows it literally: no link, image, HTML tag, entity, emphasis, strikethrough or @mention
    from a spec's names, titles and notes (backslash escapes, CommonMark §2.4; a bare URL's `://` and `www.` broken
    by an escape, so GFM's autolinks do not find them), and no `|` that would end a table cell. A code span shows
    its text literally already and takes no escapes, but for `|` (GFM tables split cells first)."""
    return "".join(part.replace("|", "\\|") if i % 2 else _escaped(part)
                   for i, part in enumerate(re.split(r"(`[^`]*`)", text)))


def _escaped(text: str) -> str:
    return _LINKS.sub("\\\\", _UNDERSCORE.sub(r"\\_", text.translate(_MARKDOWN)))


def _markdown(report: Report) -> str:
    rows = [[_md(cell) for cell in report.cells(row)] for row in report.rows]
    if report.total:
        rows.append([f"**{_md(cell)}**" if cell else "" for cell in report.cells(report.total)])
    lines = [f"**{_md(report.title)}**", "", "| " + " | ".join(_md(c.header) for c in report.shown) + " |",
             "|" + "|".join("---:" if c.numeric else "---" for c in report.shown) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines + [""] + [f"{_md(note)}  " for note in report.notes])


def html(report: Report, inline_style: bool = True) -> str:
    """The report as an HTML table with its title and notes, for notebooks (`_repr_html_`); every text is escaped
    and made printable. Numbers align right by a style attribute, or (`inline_style=False`, for a page whose
    Content-Security-Policy admits no style attribute) by the class `num`."""
    from html import escape

    report = _printable(report)

    def align(c: Column) -> str:
        if not inline_style:
            return ' class="num"' if c.numeric else ""
        return f' style="text-align: {"right" if c.numeric else "left"}"'

    def row(cells: list[str], tag: str = "td") -> str:
        return "<tr>" + "".join(f"<{tag}{align(c)}>{escape(cell)}</{tag}>"
                                for c, cell in zip(report.shown, cells)) + "</tr>"

    body = "".join(row(report.cells(r)) for r in report.rows)
    foot = f"<tfoot>{row(report.cells(report.total), 'th')}</tfoot>" if report.total else ""
    notes = "".join(f"<p><small>{escape(note)}</small></p>" for note in report.notes)
    return (f"<table><caption><b>{escape(report.title)}</b></caption><thead>{row([c.header for c in report.shown], 'th')}"
            f"</thead><tbody>{body}</tbody>{foot}</table>{notes}")


_FORMULA = tuple("=+-@\t\r")  # a cell starting so is a formula to a spreadsheet (OWASP, CSV injection)


def _csv(report: Report) -> str:
    """One line per row, every column; a text cell that a spreadsheet would run as a formula (`=HYPERLINK(…)`,
    `+1`, `-x`, `@SUM(…)`) starts with `'`, as OWASP advises. Numbers stay numbers: -5 is a value, not a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(c.key for c in report.columns)
    for row in report.rows + ([report.total] if report.total else []):
        writer.writerow(_cell(c.csv(row[c.key]) if c.csv and row.get(c.key) is not None else row.get(c.key, ""))
                        for c in report.columns)
    return out.getvalue().rstrip("\n")


def _cell(value):
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA) else value


def _json(report: Report) -> str:
    return json_text(report.data)
