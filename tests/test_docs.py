"""The documentation's promises: the README's two commands are what CI runs, and every shell example in README.md and
docs/*.md (a ```console block of `$ mobcost ...` lines, each followed by its output) prints what the page shows.

Each example runs once, in-process, in the repository's root, as to a pipe COLUMNS wide (80 unless the line sets
`COLUMNS=N` before `mobcost`). A line `...` in the shown output stands for any number of lines. After a deliberate
change, rewrite the shown outputs with `MOBCOST_UPDATE_DOCS=1 python -m pytest tests/test_docs.py` and read the diff.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mobcost.cli import app

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
CONSOLE = re.compile(r"^```console\n(.*?)^```$", re.M | re.S)
UPDATE = bool(os.environ.get("MOBCOST_UPDATE_DOCS"))


def examples(page: Path) -> list[tuple[int, str, list[str]]]:
    """(line, command, shown output lines) of every `$ ` line in the page's console blocks."""
    found = []
    text = page.read_text(encoding="utf-8")
    for block in CONSOLE.finditer(text):
        line = text.count("\n", 0, block.start(1)) + 1
        for offset, row in enumerate(block[1].splitlines()):
            if row.startswith("$ "):
                found.append((line + offset, row[2:], []))
            elif found and found[-1][0] >= line:
                found[-1][2].append(row)
            else:
                raise AssertionError(f"{page.name}:{line + offset}: a console block starts with a `$ ` line")
    return found


CASES = [(page, *example) for page in PAGES for example in examples(page)]


@functools.cache
def run(command: str) -> tuple[str, int]:
    """What `command` prints (stdout, then stderr) and its exit code; each distinct command runs once."""
    words = shlex.split(command)
    env = {"COLUMNS": "80"}
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    assert words[:1] == ["mobcost"], f"a console example runs mobcost only (use ```sh for others): {command}"
    result = CliRunner().invoke(app, words[1:], env=env)
    output = result.stdout + (result.stderr or "")
    return "\n".join(line.rstrip() for line in output.rstrip("\n").splitlines()), result.exit_code


def matches(shown: list[str], printed: list[str]) -> bool:
    """The shown lines equal the printed ones, where a shown `...` line stands for any lines."""
    shown = [line.rstrip() for line in shown]
    if "..." not in shown:
        return shown == printed
    segments: list[list[str]] = [[]]
    for line in shown:
        if line == "...":
            segments.append([])
        else:
            segments[-1].append(line)
    first, *middle, last = segments
    if printed[:len(first)] != first or (last and printed[len(printed) - len(last):] != last):
        return False
    at, end = len(first), len(printed) - len(last)
    for segment in middle:
        at = next((i for i in range(at, end - len(segment) + 1) if printed[i:i + len(segment)] == segment), None)
        if at is None:
            return False
        at += len(segment)
    return at <= end


@pytest.mark.parametrize("page,line,command,shown", CASES,
                         ids=[f"{page.relative_to(ROOT)}:{line}" for page, line, *_ in CASES])
def test_shell_example_prints_what_the_page_shows(page, line, command, shown, monkeypatch):
    monkeypatch.chdir(ROOT)
    printed, _ = run(command)
    if UPDATE and not matches(shown, printed.splitlines()):
        update(page, line, command, printed)
    assert matches(shown, printed.splitlines()), f"{page.name}:{line}: `{command}` now prints:\n{printed}"


def update(page: Path, line: int, command: str, printed: str) -> None:
    """Replace the output shown after the `$ ` line at `line` (1-based) by what the command prints."""
    lines = page.read_text(encoding="utf-8").splitlines(keepends=True)
    # earlier updates may have moved the line: the same command's line nearest to where it was
    line = 1 + min((i for i, row in enumerate(lines) if row.rstrip("\n") == f"$ {command}"),
                   key=lambda i: abs(i + 1 - line))
    end = line
    while end < len(lines) and not lines[end].startswith(("$ ", "```")):
        end += 1
    lines[line:end] = [row + "\n" for row in printed.splitlines()]
    page.write_text("".join(lines), encoding="utf-8")


def test_every_page_is_in_the_site():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in (ROOT / "docs").glob("**/*.md"):
        assert str(page.relative_to(ROOT / "docs")) in nav, f"{page.name} is not in mkdocs.yml's nav"


def test_readme_is_a_front_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 220
    for page in (ROOT / "docs").glob("*.md"):
        assert f"docs/{page.name}" in readme, f"the README's map of the docs leaves out {page.name}"


def test_ci_runs_the_readme_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = readme.split("```sh\n")
    install, tests = blocks[1].split("\n```")[0], blocks[2].split("\n```")[0]
    assert install == "pip install . && mobcost table v1 --alpha 0.5 --res 160"
    assert tests in (ROOT / ".ci" / "run").read_text()
