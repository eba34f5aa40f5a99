"""Every table at 80, 100 and 120 columns: every number of the full (markdown) table appears whole."""

import re

import pytest

COMMANDS = {
    "table_v1": ["table", "v1"], "table_v2": ["table", "v2"], "table_v3_large": ["table", "v3_large"],
    "table_v2_layers": ["table", "v2", "--layers", "--params", "torch"], "models": ["models"],
    "fit_v1": ["fit", "v1", "--max-macs", "150M"], "fit_v2_memory": ["fit", "v2", "--max-memory", "1MB", "--top", "5"],
    "check": ["check"], "breakdown_v1": ["breakdown", "v1"], "compare": ["compare", "v1:conv", "v1", "v1@0.75"],
    "sweep": ["sweep", "v1", "--alpha", "1,0.5", "--res", "224,128"], "memory_v2": ["memory", "v2"],
    "memory_layers": ["memory", "v2", "--layers"], "conv": ["conv", "--input", "112x112x32", "--out", "64"],
    "conventions": ["conventions"], "explain": ["explain", "v1", "v2"],
    "explain_between": ["explain", "v1", "--between", "paper", "thop"],
    "diff": ["diff", "v1", "v1@0.75"],
}
NUMBER = re.compile(r"[+−-]?\d[\d,.]*")


def numbers(markdown: str, hidden: set[str]) -> list[str]:
    """The numbers in the right-aligned (numeric) columns of a markdown table, totals included, but for the
    columns the narrow table says it hides."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    headers = [cell.strip() for cell in lines[0][1:-1].split(" | ")]
    numeric = [cell.endswith(":") and header not in hidden
               for cell, header in zip(lines[1].strip("|").split("|"), headers)]
    found = []
    for line in lines[2:]:
        cells = [cell.strip().strip("*") for cell in line[1:-1].split(" | ")]
        found += [n.rstrip(".,") for cell, is_number in zip(cells, numeric) if is_number for n in NUMBER.findall(cell)]
    return found


def hidden_columns(shown: str) -> set[str]:
    said = re.search(r"\d columns? hidden \((.*?)\); widen the terminal", " ".join(shown.split()))
    return set(said[1].split(", ")) if said else set()


@pytest.mark.parametrize("width", [80, 100, 120])
@pytest.mark.parametrize("args", COMMANDS.values(), ids=COMMANDS.keys())
def test_every_number_whole_at_every_width(mobcost, monkeypatch, args, width):
    full = mobcost(*args, "--format", "markdown")
    assert full.exit_code == 0, full.stderr
    monkeypatch.setenv("COLUMNS", str(width))
    shown = mobcost(*args).stdout
    assert max(len(line) for line in shown.splitlines()) <= width
    hidden = hidden_columns(shown)
    # `models` at 80 columns also hides Title: torchvision's builder names (ssdlite320_mobilenet_v3_large) are long
    assert len(hidden) <= (4 if args == ["models"] and width == 80 else 3)
    for number in numbers(full.stdout, hidden):
        assert re.search(rf"(?<![\d,.]){re.escape(number)}(?![\d,])", shown), (number, shown)


def test_narrow_terminal_says_what_it_hides(mobcost, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = mobcost("models").stdout
    assert "4 columns hidden (Aliases, Title, Variants, Source); widen the terminal or use -f markdown." in " ".join(
        out.split())
    assert "Source" not in out.split("hidden")[0]


def test_check_notes_move_below_the_table_when_narrow(mobcost, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = mobcost("check", "v1").stdout
    assert "erratum (1)" in out and "\n(1) " in out  # Table 2's transposed digits, numbered below
    monkeypatch.setenv("COLUMNS", "1000")
    assert "erratum (1)" not in mobcost("check", "v1").stdout
