"""What mobcost writes: text made safe for a terminal, and files written only where the user said.

Every string that reaches a terminal passes `printable` (report.render does it for every table, the CLI for every
error), and every file mobcost writes goes through `write_file`. Imports nothing of mobcost's but its errors.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from pathlib import Path

from mobcost.errors import MobcostError, shown

# C0 controls but tab and newline, DEL, C1 controls (ESC, CSI, OSC and the rest), and the bidirectional
# overrides, embeddings and isolates that reorder what is shown (Trojan Source, CVE-2021-42574).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters that show nothing (zero-width spaces and joiners, the word joiner, the byte-order mark, soft hyphen)
# or break a line where a terminal, a log viewer or an editor may not (line and paragraph separators): shown as
# their escape, so that two names that look alike are told apart and no line starts where none was written.
_INVISIBLE = re.compile("[\xad\u180e\u200b-\u200d\u2028\u2029\u2060-\u2064\ufeff]")
_LINE_BREAKS = re.compile("[\t\n]")


def printable(text: str, lines: bool = False) -> str:
    """Text from a spec or the command line, safe to print: no control characters, so no terminal escape
    sequence (clear the screen, set the title, move the cursor) and no bidi reordering; invisible characters shown
    as escapes (`\\u200b`); tabs and newlines become spaces unless `lines` keeps them. Rich markup is not
    interpreted here: render it as rich `Text`."""
    text = _INVISIBLE.sub(lambda m: f"\\u{ord(m[0]):04x}", _CONTROLS.sub("", str(text)))
    return text if lines else _LINE_BREAKS.sub(" ", text)


def json_safe(text: str) -> str:
    """JSON text with the control, bidi and invisible characters that json.dumps(ensure_ascii=False) leaves raw
    written as \\uXXXX escapes: the same data, nothing a terminal acts on."""
    return _INVISIBLE.sub(_u, _CONTROLS.sub(_u, text))


def json_text(data, indent: int | None = 2) -> str:
    """Data as strict JSON (RFC 8259): no NaN or Infinity, which json.dumps writes by default and strict parsers
    refuse (a ValueError here is mobcost's bug, never the user's: a number that is not finite is shown as null by
    the code that made it); text as json_safe leaves it."""
    return json_safe(json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False))


def _u(m) -> str:
    return f"\\u{ord(m[0]):04x}"


def check_destination(path: Path, force: bool = False, reading: tuple[Path, ...] = (), option: str = "--out") -> None:
    """Refuse, before any work, a destination mobcost may not write: a file that exists, unless `force`; a symbolic
    link, unless `force` (then the link itself is replaced, never its target); a folder, pipe, device or socket,
    whatever `force` (never opened, so a pipe cannot block); any of the files being read."""
    where = shown(path, 200)
    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    except OSError as e:
        raise MobcostError(f"{option}: cannot write {where!r}: {e.strerror}") from None
    if info is not None and any(_same(path, source) for source in reading):
        raise MobcostError(f"{option}: {where!r} is a spec being read; choose another file name")
    if info is not None:
        if stat.S_ISLNK(info.st_mode) and not force:
            raise MobcostError(f"{option}: {where!r} is a symbolic link; mobcost does not write through links "
                               "(add --force to replace the link itself with the file)")
        if not stat.S_ISLNK(info.st_mode) and not stat.S_ISREG(info.st_mode):
            raise MobcostError(f"{option}: {where!r} is a folder, pipe, device or socket; expected a file name")
        if not force:
            raise MobcostError(f"{option}: {where!r} exists; add --force to replace it")
    if not path.parent.is_dir():
        raise MobcostError(f"{option}: cannot write {where!r}: its folder does not exist")


def write_file(path: Path, data: bytes, force: bool = False, reading: tuple[Path, ...] = (), option: str = "--out") -> None:
    """Write data to the file the user named, only there and only whole: check_destination's refusals, then the
    data goes to a temporary file in the same folder and is renamed into place, so an interrupted write leaves the
    old file whole and no partial one."""
    check_destination(path, force, reading, option)
    where = shown(path, 200)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise MobcostError(f"{option}: cannot write {where!r}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException as e:  # an error or Ctrl-C: no partial file is left behind
        Path(temporary).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise MobcostError(f"{option}: cannot write {where!r}: {e.strerror}") from None
        raise


def _same(path: Path, other: Path) -> bool:
    try:
        return path.resolve() == other.resolve() or os.path.samefile(path, other)
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
