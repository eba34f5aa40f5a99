"""Errors in specs and model names: what the CLI turns into one paragraph and exit code 2."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

Path_ = tuple[Union[str, int], ...]
"""A place in a spec: the keys and indices from the document's root."""


MAX_PROBLEMS = 20  # problems worded per file; the rest are counted ("and 5,980 more")
MAX_LISTED = 20  # names listed in one error ("expected one of: a, b, … and 9,980 more")


def listed(names, empty: str = "none") -> str:
    """Valid names as an error lists them: the first MAX_LISTED, then how many more."""
    names = list(names)
    more = f" and {len(names) - MAX_LISTED:,} more" if len(names) > MAX_LISTED else ""
    return ", ".join(shown(name) for name in names[:MAX_LISTED]) + more or empty


def shown(value, limit: int = 60) -> str:
    """A value from the input as an error echoes it: on one line (see one_line) and at most `limit` characters, so
    that a 900 kB name is not printed back in full."""
    text = one_line(str(value)[:limit * 2])  # an escape is at most 6 characters for 1: cut first, bounded work
    return text if len(text) <= limit else f"{text[:limit - 3]}..."


def one_line(text: str) -> str:
    """A value from the input (a name, a file name, a YAML tag) as one line of plain text: tabs, CR and LF as
    spaces (no value starts a line of its own, as a GitHub workflow command would), control characters and bidi
    overrides removed (no terminal escape, no reordering), and every other character str.isprintable() refuses
    (zero-width characters, line and paragraph separators) shown as its escape, `\\u200b`."""
    if text.isprintable():
        return text
    text = _CONTROLS.sub("", _BREAKS.sub(" ", text))
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"
                   for c in text)


_BREAKS = re.compile("[\t\n\r]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class MobcostError(Exception):
    """Bad input: the CLI prints it as one paragraph and exits with code 2. The message is made one line
    (one_line): a file name or a value in it cannot start a line of its own, whoever wrote the message."""

    def __init__(self, message: str = ""):
        super().__init__(one_line(str(message)))


@dataclass(frozen=True)
class Problem:
    """One mistake in a spec, located as precisely as the spec allows."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    layer: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = one_line(self.file) + (f", line {self.line}" if self.line else "") + (f", column {self.column}" if self.column else "")
        what = "".join([f"{self.layer}, " if self.layer else "", f"field '{self.field}': " if self.field else ""])
        return f"{where}: {what}{self.message}"


class SpecError(MobcostError):
    """A spec that cannot be read, validated or traced."""

    def __init__(self, problems: list[Problem], more: int = 0):
        """The problems found; `more` counts those found but not worded (past MAX_PROBLEMS)."""
        self.problems, self.more = problems, more + max(0, len(problems) - MAX_PROBLEMS)
        worded = [str(p) for p in problems[:MAX_PROBLEMS]]
        if self.more:
            worded.append(f"… and {self.more:,} more problems in the same file")
        Exception.__init__(self, "\n".join(map(one_line, worded)))  # a line a problem, each made one line


TORCH_CPU = ("install PyTorch's CPU build as PyTorch's own instructions do: pip install torch torchvision "
             "--index-url https://download.pytorch.org/whl/cpu (then pip install 'mobcost[torch]'; a plain "
             "`pip install torch` on Linux fetches the CUDA build)")
"""How to get torch and torchvision anywhere, for every message that needs them."""
