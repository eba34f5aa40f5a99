"""The documentation's promises: the README's two commands are what CI runs, and every shell example in README.md and
docs/*.md (a ```console block of `$ mobcost ...` lines, each followed by its output) prints what the page shows.

Each example runs once, in-process, in page order, in one temporary folder (never the checkout: examples write
files), as to a pipe COLUMNS wide (80 unless the line sets `COLUMNS=N` before `mobcost`). The folder holds
docs/examples/ and every fenced block a page names with a title (```text title="phone.csv"), so that an example
can read the file the page shows. A line `...` in the shown output stands for any number of lines; output that
depends on the machine goes in a ```text block, which is not run. After a deliberate change, rewrite the shown
outputs with `MOBCOST_UPDATE_DOCS=1 python -m pytest tests/test_docs.py` and read the diff.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mobcost.cli import app

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
CONSOLE = re.compile(r"^```console\n(.*?)^```$", re.M | re.S)
TITLED = re.compile(r'^```\w* title="([\w.-]+)"\n(.*?)^```$', re.M | re.S)
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
    """The shown lines equal the printed ones, where a shown `...` line stands for any lines, and a line that ends
    in ` ...` for a printed line that starts with what precedes it, and any lines after."""
    segments: list[list[str]] = [[]]
    for line in (line.rstrip() for line in shown):
        if line == "...":
            segments.append([])
        elif line.endswith(" ..."):
            segments[-1].append(line)
            segments.append([])
        else:
            segments[-1].append(line)

    def equal(part: list[str], lines: list[str]) -> bool:
        return len(part) == len(lines) and all(
            line.startswith(want[:-4]) if want.endswith(" ...") else line == want for want, line in zip(part, lines))

    if len(segments) == 1:
        return equal(segments[0], printed)
    first, *middle, last = segments
    if not equal(first, printed[:len(first)]) or (last and not equal(last, printed[len(printed) - len(last):])):
        return False
    at, end = len(first), len(printed) - len(last)
    for segment in middle:
        at = next((i for i in range(at, end - len(segment) + 1) if equal(segment, printed[i:i + len(segment)])), None)
        if at is None:
            return False
        at += len(segment)
    return at <= end


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Where the examples run: docs/examples/ and the files the pages show under a title."""
    where = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "docs" / "examples", where / "docs" / "examples")
    for page in PAGES:
        for name, text in TITLED.findall(page.read_text(encoding="utf-8")):
            (where / name).write_text(text, encoding="utf-8")
    return where


@pytest.mark.parametrize("page,line,command,shown", CASES,
                         ids=[f"{page.relative_to(ROOT)}:{line}" for page, line, *_ in CASES])
def test_shell_example_prints_what_the_page_shows(page, line, command, shown, folder, monkeypatch):
    monkeypatch.chdir(folder)
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
