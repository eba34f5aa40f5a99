"""Hostile and malformed specs: each gets one clear error naming file, line and column, exit 2, nothing on stdout.

Each regression input is a file in tests/hostile/ whose `# expect:` lines are fragments of the error it must give
(" … " stands for text that may change, such as the list of layer kinds);
the inputs too big to commit (a 50 MB spec, 100,000 nested brackets) are generated here into tmp_path.
Their speed and memory are measured by bench/hostile.py, not asserted here.
"""

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mobcost import limits
from mobcost.cli import app
from mobcost.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, MAX_PIXELS
from mobcost.language import SpecError, parse_spec

HOSTILE = sorted((Path(__file__).parent / "hostile").glob("*.yaml"))


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def assert_bad_input(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("mobcost: ")
    for fragment in fragments:
        assert fragment in result.stderr


def expectations(path: Path) -> list[str]:
    lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


@pytest.mark.parametrize("path", HOSTILE, ids=[p.stem for p in HOSTILE])
def test_hostile_file(path):
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect:' line"
    fragments = [part for line in expected for part in line.split(" … ")]
    assert_bad_input(run("table", str(path), "--format", "json"), f"mobcost: {path}", *fragments)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")
    assert_bad_input(run("table", str(path)), "found an empty file")


def test_50_megabyte_spec_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(50 * 2**20)  # sparse: stat() reports 50 MB without writing them
    assert_bad_input(run("table", str(path)), f"is {50 * 2**20:,} bytes; expected a YAML spec of at most "
                                              f"{MAX_FILE_BYTES:,} bytes")


def test_spec_one_byte_over_the_limit(tmp_path):
    path = tmp_path / "over.yaml"
    path.write_bytes(b"#" * MAX_FILE_BYTES + b"\n")
    assert_bad_input(run("table", str(path)), f"is {MAX_FILE_BYTES + 1:,} bytes")


def test_text_over_the_limit_through_the_api():
    with pytest.raises(SpecError, match="expected a YAML spec of at most"):
        parse_spec("#" * (MAX_FILE_BYTES + 1))


def test_deep_nesting_stops_before_the_recursive_composer(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("layers: " + "[" * 100_000 + "]" * 100_000 + "\n")
    # Either layer may stop it first: mobcost's event check (at the bracket that opens level MAX_DEPTH + 1, the root
    # mapping being level 1) or PyYAML's own scanner limit (6.0.4 and later stop at 1,000 levels). Both must give
    # one located line and exit 2, never the composer's recursion.
    result = run("table", str(path))
    assert_bad_input(result, f"{path}, line 1, column ")
    assert result.stderr.count("\n") == 1
    ours = f"line 1, column {len('layers: ') + MAX_DEPTH}: expected mappings and lists nested at most {MAX_DEPTH} levels"
    assert ours in result.stderr or re.search(r"line 1, column \d+: is not valid YAML: .*nesting depth", result.stderr)


def test_many_values_without_aliases(tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text("name: [" + "1, " * MAX_NODES + "1]\n")
    assert_bad_input(run("table", str(path)), f"expected at most {MAX_NODES:,} YAML values")


def test_directory(tmp_path):
    assert_bad_input(run("table", str(tmp_path)), f"mobcost: {tmp_path}: is a folder; expected a YAML spec file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_named_pipe_is_not_opened(tmp_path):
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)  # opening it would wait for a writer for ever
    assert_bad_input(run("table", str(path)), "is a device, pipe or socket; expected a YAML spec file")


def test_missing_file(tmp_path):
    assert_bad_input(run("table", str(tmp_path / "nothing.yaml")), "no such file")


@pytest.mark.parametrize("args, fragment", [
    (["table", "v1", "--alpha", "inf"], "--alpha takes a number above 0 up to 1,048,576 in ASCII digits (found 'inf')"),
    (["table", "v1", "--alpha", "nan"], "--alpha takes a number above 0 up to 1,048,576 in ASCII digits (found 'nan')"),
    (["table", "v1", "--alpha", "1e9"], "--alpha takes a number above 0 up to 1,048,576 in ASCII digits (found '1e9')"),
    (["table", "v1", "--res", "1000000000000"], "--res (pixels, 224, or height × width, 240x320) takes a whole number from 1 up to 65,536"),
    (["table", "v1", "--rho", "inf"], "--rho takes a number above 0 up to 65,536 in ASCII digits (found 'inf')"),
    (["table", "v1", "--rho", "1e12"], "--rho takes a number above 0 up to 65,536"),
    (["table", "v1@0.5_1000000000000"], f"the resolution must be a positive number of pixels up to {MAX_PIXELS:,}"),
    (["sweep", "v1", "--res", "1e400"], "--res takes numbers separated by commas"),
    (["sweep", "v1", "--res", "1e5000"], "--res takes numbers separated by commas"),
    (["sweep", "v1", "--alpha", "nan"], "--alpha takes numbers separated by commas"),
    (["sweep", "v1", "--alpha", "0:1:1e-12"], "--alpha: expected at most 1,000 values"),
    (["sweep", "v1", "--alpha", "0:inf"], "--alpha takes numbers separated by commas"),
    (["sweep", "v1", "--alpha", ",".join(["0.5"] * 1001)], "--alpha: expected at most 1,000 values"),
    (["sweep", "v1", "--res", "1e999999999:1e9999999999"], "--res takes numbers"),
    (["conv", "--input", "1000000000000x1x3"], "expected a feature map of at most 65,536 pixels a side"),
    (["conv", "--input", "8x8x3", "--out", "1000000000000"], "--out: expected at most 1,048,576 channels"),
    (["conv", "--input", "8x8x3", "--kernel", "1000000000000"], "--kernel: expected at most 65,536 pixels"),
    (["conv", "--input", "8x8x3", "--padding", "1000000000000"], "--padding: expected at most 65,536 pixels"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_hostile_options(args, fragment):
    assert_bad_input(run(*args), fragment)


@pytest.mark.parametrize("command", [None] + [c.name or c.callback.__name__ for c in app.registered_commands])
def test_help_states_the_exit_codes(command):
    result = run(*([command] if command else []), "--help")
    assert result.exit_code == 0
    assert "Exit codes: 0 success, 1 a check failed, 2 bad input" in " ".join(result.stdout.split())


def test_the_limits_page_states_every_limit():
    page = (Path(__file__).parent.parent / "docs" / "limits.md").read_text(encoding="utf-8")
    stated = {name: value for name, value in vars(limits).items() if name.startswith("MAX_")}
    assert len(stated) == 21
    for name, value in stated.items():
        assert f"| `{name}` | {value:,} |" in page
