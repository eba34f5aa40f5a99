"""A user's own whole-network latencies, as a CSV with the header `model,alpha,resolution,latency_ms` (other columns
ignored), read as untrusted input: the file's size and rows are bounded, every number is parsed strictly (ASCII
digits, positive, finite), every error names the file, line and column (standard library only)."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

from mobcost.errors import MobcostError, Problem, SpecError, shown
from mobcost.latency.device import Figure
from mobcost.limits import MAX_PIXELS, decimal_of

MAX_CSV_BYTES = 1_000_000
MAX_ROWS = 200  # a user times a handful of networks; every row is traced and fitted, leave one out, per base
COLUMNS = ("model", "alpha", "resolution", "latency_ms")


def read_measurements(path: Path) -> list[Figure]:
    """Each row as a Figure (source: the file's name); at least one row, at most MAX_ROWS."""
    file = str(path)
    try:
        info = path.stat()  # before opening: a pipe would block
        if not stat.S_ISREG(info.st_mode):
            raise MobcostError(f"{shown(file)}: not a regular file; expected a CSV of measurements")
        if info.st_size > MAX_CSV_BYTES:
            raise MobcostError(f"{shown(file)}: expected a CSV of at most {MAX_CSV_BYTES:,} bytes; it has "
                               f"{info.st_size:,}")
        with path.open("rb") as f:
            raw = f.read(MAX_CSV_BYTES + 1)
    except FileNotFoundError:
        raise MobcostError(f"{shown(file)}: no such file") from None
    except OSError as e:
        raise MobcostError(f"{shown(file)}: cannot be read: {e.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise MobcostError(f"{shown(file)}: byte {e.start} is not UTF-8; expected a CSV text file") from None
    return parse_measurements(text, file)


def parse_measurements(text: str, file: str = "<csv>") -> list[Figure]:
    if len(text) > MAX_CSV_BYTES:
        raise MobcostError(f"{shown(file)}: expected a CSV of at most {MAX_CSV_BYTES:,} bytes")
    if "\x00" in text:
        raise MobcostError(f"{shown(file)}: holds a NUL byte; expected a CSV text file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise MobcostError(f"{shown(file)}, line 1: not readable as CSV ({e})") from None
    names = [h.strip().lower() for h in header or []]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise MobcostError(f"{shown(file)}, line 1: expected the header {','.join(COLUMNS)} (other columns are "
                           f"ignored); missing {', '.join(missing)}")
    where = {c: names.index(c) for c in COLUMNS}
    figures, problems = [], []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(figures) + len(problems) >= MAX_ROWS:
                raise MobcostError(f"{shown(file)}, line {line}: expected at most {MAX_ROWS:,} measurements")
            try:
                figures.append(_row(cells, where, file, line))
            except ValueError as e:
                problems.append(Problem(file, str(e), line))
                if len(problems) >= 10:
                    break
    except csv.Error as e:
        raise MobcostError(f"{shown(file)}, line {reader.line_num}: not readable as CSV ({e})") from None
    if problems:
        raise SpecError(problems)
    if not figures:
        raise MobcostError(f"{shown(file)}: no measurements after the header")
    return figures


def _row(cells: list[str], where: dict[str, int], file: str, line: int) -> Figure:
    def cell(column: str) -> str:
        i = where[column]
        if i >= len(cells) or not cells[i].strip():
            raise ValueError(f"column {column!r}: empty")
        return cells[i].strip()

    model = cell("model")
    from mobcost.language.shipped import builtin

    name = model.split(":")[0]
    if len(model) > 200 or not all(ch.isascii() and (ch.isalnum() or ch in "_:-") for ch in model) \
            or builtin(name) is None:
        raise ValueError(f"column 'model': expected a built-in model (`mobcost models`), with a variant as "
                         f"mobilenet_v3_small:paper_head; found {shown(model)}")
    alpha = _number(cell("alpha"), "alpha")
    if not 0 < alpha <= 16:
        raise ValueError(f"column 'alpha': expected a width multiplier in (0, 16]; found {shown(cell('alpha'))}")
    res_text = cell("resolution")
    if not (res_text.isascii() and res_text.isdigit() and len(res_text) <= 6 and 1 <= int(res_text) <= MAX_PIXELS):
        raise ValueError(f"column 'resolution': expected a whole number of pixels from 1 to {MAX_PIXELS:,}; found "
                         f"{shown(res_text)}")
    ms = _number(cell("latency_ms"), "latency_ms")
    if not 0 < ms <= 1e9:
        raise ValueError(f"column 'latency_ms': expected a positive time in milliseconds; found "
                         f"{shown(cell('latency_ms'))}")
    label = f"{model} α={alpha:g} {res_text} (line {line})"
    return Figure(model=model, alpha=alpha, resolution=int(res_text), ms=ms, source=Path(file).name[:200] or "csv",
                  label=label)


def _number(text: str, column: str) -> float:
    value = decimal_of(text)
    if value is None or not value.is_finite():
        raise ValueError(f"column {column!r}: expected a number such as 0.75 or 12.5 (ASCII digits); found "
                         f"{shown(text)}")
    return float(value)
