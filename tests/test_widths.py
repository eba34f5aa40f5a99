"""Every command at 60, 80 and 120 columns in a real pseudo-terminal: every number whole, no word split, every
hidden column named.

The commands come from the typer app itself: each command's `--help`, its `Example:` (every command has one), and,
for a command that takes a MODEL, that example over a classifier, a detection head, a segmentation head and an
imported ONNX file (with `--layers` too where the command has it). A new command is covered without editing this
file. typer lays out `--help`, checked from 80 columns (at 60 its own table folds long words). All cases of one width run in one process in one pseudo-terminal (the CLI in-process, one case after another),
so the terminal is real and the start-up is paid three times.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import time
from functools import cache
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from mobcost.cli import app

pty = pytest.importorskip("pty")  # POSIX only

ROOT = Path(__file__).parent.parent
WIDTHS = tuple(int(w) for w in os.environ.get("MOBCOST_WIDTHS", "60,80,120").split(","))
MODELS = ("v2", "ssdlite320_mobilenet_v3_large", "lraspp_mobilenet_v3_large", "imported.onnx")
# the defects of issue 23, each a case of its own beside what the app gives
NAMED = ["devices", "devices pixel1", "latency v2 --device pixel1", "latency v3_large --device pixel2 --layers",
         "explain v2 --between paper fvcore", "check v1", "table v1 --alpha 100", "models", "table v1",
         "fit v1 --max-macs 150M"]
SLOW = {"verify", "plot", "import", "view", "export"}  # torch, files written: their examples only, not the model matrix
TORCH = {"verify"}  # its example (torch and torchvision imported, a model built and counted four ways) at 80 only
MARK = "\x1e"


def commands(group=None, path=()):
    """(path, click command) of every command and subcommand of the app."""
    group = group or get_command(app)
    for name, command in sorted(group.commands.items()):
        if getattr(command, "commands", None):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name), command


def example(command) -> list[str]:
    """The command's `Example:` as arguments, in the rich format (the others are for machines, not terminals)."""
    found = re.search(r"Example: mobcost (.+)", command.help or "")
    assert found, f"`{command.name}` has no `Example: mobcost ...` line in its help (the width test runs it)"
    words = shlex.split(found[1].split("  ")[0])
    for flag in ("--format", "-f"):
        if flag in words:
            at = words.index(flag)
            del words[at:at + 2]
    return words


def cases(width: int) -> list[list[str]]:
    found = [shlex.split(case) for case in NAMED]
    for path, command in commands():
        ex = example(command)
        # typer lays out --help; at 60 columns its own table folds long words, which mobcost does not draw
        found += [[*path, "--help"]] * (width >= 80) + ([ex] if width == 80 or path[-1] not in TORCH else [])
        params = {p.name: p for p in command.params}
        if path[-1] in SLOW or not any(p.name in ("model", "models") for p in command.params):
            continue
        for model in MODELS:
            found.append([*path, model, *ex[len(path) + 1:]])
            if "layers" in params and "--layers" not in ex:
                found.append([*path, model, *ex[len(path) + 1:], "--layers"])
    unique = []
    for case in found:
        if case not in unique:
            unique.append(case)
    return unique


DRIVER = r"""
import json, os, sys, time
from mobcost.cli import app
for i, argv in enumerate(json.loads(sys.argv[1])):
    sys.stdout.write("\x1e%d\n" % i); sys.stdout.flush()
    start = time.perf_counter()
    try:
        app(argv, prog_name="mobcost")
    except SystemExit:
        pass
    except Exception as e:
        print("CRASH", type(e).__name__, e)
    sys.stdout.flush(); sys.stderr.flush()
    if os.environ.get("MOBCOST_WIDTH_TIMES"):
        with open(os.environ["MOBCOST_WIDTH_TIMES"], "a") as log:
            log.write("%.3f %s\n" % (time.perf_counter() - start, " ".join(argv)))
"""


def fresh(template: Path) -> Path:
    """A new folder holding the example files: what one run writes (plot --out, import -o) is not there for the next."""
    where = template.parent / f"{template.name}-{time.perf_counter_ns()}"
    shutil.copytree(template, where)
    return where


def in_terminal(argvs: list[list[str]], width: int, template: Path) -> list[str]:
    """What each command shows in a pseudo-terminal `width` columns wide, escape sequences removed."""
    cwd = fresh(template)
    import fcntl
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI in a terminal of that size
        os.chdir(cwd)
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR")}
        env.update(TERM="xterm-256color", PYTHONPATH=str(ROOT))
        os.execve(sys.executable, [sys.executable, "-c", DRIVER, json.dumps(argvs)], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, width, 0, 0))
    chunks = []
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", b"".join(chunks).decode("utf-8", "replace"))
    parts = re.split(MARK + r"(\d+)\r?\n", text.replace("\r\n", "\n"))
    return [parts[i + 1] for i in range(1, len(parts), 2)]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder with the files the examples name: an imported ONNX file and specs."""
    onnx = pytest.importorskip("onnx")
    from test_onnx_import import Graph

    where = tmp_path_factory.mktemp("widths")
    g = Graph((1, 3, 224, 224), "input")
    g.conv(3, 32, stride=2); g.bn(32); g.op("Relu")
    g.conv(32, 32, group=32); g.bn(32); g.op("Relu")
    g.conv(32, 64, k=1); g.bn(64); g.op("Relu")
    g.op("GlobalAveragePool"); g.op("Flatten")
    g.op("Gemm", [g.last, g.weight(1000, 64), g.weight(1000)], transB=1)
    g.save(where / "imported.onnx")
    shutil.copy(where / "imported.onnx", where / "model.onnx")
    assert onnx
    for name, config in (("my_net.yaml", "mobilenet_v1"), ("old.yaml", "mobilenet_v1"), ("net.yaml", "mobilenet_v2")):
        shutil.copy(ROOT / "configs" / f"{config}.yaml", where / name)
    return where




NUMBER = re.compile(r"[+−-]?\d[\d,.]*")
BOX = re.compile(r"[\s│┃║─━═┏┓┗┛┡┩┢┪╇╈┳┻╋┣┫┠┨┯┷┼┬┴├┤┌┐└┘╭╮╰╯]+")
HIDDEN = re.compile(r"(\d) columns? hidden \((.*?)\); widen the terminal or use -f markdown\.")


def tokens(text: str) -> set[str]:
    return {t for t in BOX.split(text) if t}


@cache
def wide(argv: tuple[str, ...], template: Path) -> tuple[str, str | None]:
    """The command's rich output 1,000 columns wide, and its markdown table when it has one."""
    runner, argv = CliRunner(), list(argv)
    here = os.getcwd()
    os.chdir(fresh(template))
    try:
        rich = runner.invoke(app, argv, env={"COLUMNS": "1000"})
        markdown = None
        if "--help" not in argv and any("--format" in p.opts for p in _params(argv)):
            markdown = runner.invoke(app, [*argv, "--format", "markdown"], env={"COLUMNS": "1000"}).stdout
    finally:
        os.chdir(here)
    return rich.stdout + (rich.stderr or ""), markdown


def _params(argv):
    for path, command in commands():
        if list(path) == argv[:len(path)]:
            return command.params
    return []


def numbers(markdown: str, hidden: str) -> list[str]:
    """The numbers in the right-aligned columns of a markdown table, totals included, but for hidden columns."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    if len(lines) < 2:
        return []
    headers = [cell.strip() for cell in lines[0][1:-1].split(" | ")]
    numeric = [cell.endswith(":") and not (header and header in hidden)
               for cell, header in zip(lines[1].strip("|").split("|"), headers)]
    found = []
    for line in lines[2:]:
        cells = [cell.strip().strip("*") for cell in line[1:-1].split(" | ")]
        found += [n.rstrip(".,") for cell, is_number in zip(cells, numeric) if is_number for n in NUMBER.findall(cell)]
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_every_command_reads_at_every_width(workdir, width):
    argvs = cases(width)
    problems = []
    for argv, out in zip(argvs, in_terminal(argvs, width, workdir), strict=True):
        case = "mobcost " + " ".join(argv)
        assert "CRASH" not in out and "Traceback" not in out, (case, out)
        lines = out.splitlines()
        if too_wide := [line for line in lines if len(line) > width]:
            problems.append(f"{case}: {len(too_wide)} lines over {width} columns: {too_wide[0]!r}")
        said = HIDDEN.search(" ".join(out.split()))
        hidden = said[2] if said else ""  # the hidden columns' names (a name may hold a comma)
        narrow = HIDDEN.sub("", " ".join(out.split()))
        # what a terminal shows of a long list (`fit`: the best 20, and how many more) is compared with the same
        shown_top = re.search(r"the best (\d+) are shown", " ".join(out.split()))
        full, markdown = wide(tuple(argv + ["--top", shown_top[1]] if shown_top and "--top" not in argv else argv),
                              workdir)
        split = {t for t in tokens(narrow) - tokens(full) if not re.fullmatch(r"\(\d+\)", t)}
        if split:
            problems.append(f"{case}: split or cut at {width}: {sorted(split)[:8]}")
        if markdown:
            for number in numbers(markdown, hidden):
                if not re.search(rf"(?<![\d,.]){re.escape(number)}(?![\d,])", out):
                    problems.append(f"{case}: {number} not whole at {width}")
                    break
    assert not problems, "\n".join(problems)


def test_narrow_terminal_says_what_it_hides(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = CliRunner().invoke(app, ["models"]).stdout
    said = HIDDEN.search(" ".join(out.split()))
    assert said and "Source" in said[2]
    assert "Source" not in out.split("hidden")[0]


def test_check_notes_move_below_the_table_when_narrow(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert "erratum (1)" in (out := CliRunner().invoke(app, ["check", "v1"]).stdout) and "\n(1) " in out
    monkeypatch.setenv("COLUMNS", "1000")
    assert "erratum (1)" not in CliRunner().invoke(app, ["check", "v1"]).stdout


def test_fit_in_a_terminal_shows_the_best_20_and_says_how_many_more(workdir):
    out = in_terminal([["fit", "v1", "--max-macs", "150M"], ["fit", "v1", "--max-macs", "150M", "--top", "3"]],
                      120, workdir)
    fitting = len(CliRunner().invoke(app, ["fit", "v1", "--max-macs", "150M", "-f", "csv"]).stdout.splitlines()) - 1
    said = " ".join(out[0].split())
    assert f"{fitting} of the variants tried fit; the best 20 are shown, {fitting - 20} more (use --top or -f csv)" \
        in said
    assert "the best 3 are shown" in " ".join(out[1].split())
