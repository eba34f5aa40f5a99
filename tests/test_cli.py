"""Every command and format through typer's runner; golden files pin the rendered tables."""

import csv
import io
import json
import os
from pathlib import Path

import pytest

from typer.testing import CliRunner

from mobcost.cli import app
from test_trace import v1_by_hand

GOLDEN = Path(__file__).parent / "golden"
COMMANDS = {
    "table_v1_0.5_160": ["table", "v1", "--alpha", "0.5", "--res", "160"],
    "table_v1_markdown": ["table", "v1", "--format", "markdown"],
    "breakdown_v1": ["breakdown", "v1"],
    "sweep_v1_table6": ["sweep", "v1", "--alpha", "1,0.75,0.5,0.25", "--accuracy", "MobileNets V1 Table 6"],
    "sweep_v1_table7": ["sweep", "v1", "--res", "224,192,160,128", "--accuracy", "Table 7", "--format", "markdown"],
    "compare_v1_table4": ["compare", "v1:conv", "v1"],
    "compare_v1_table5": ["compare", "v1@0.75", "v1:shallow"],
    "conv_seed_example": ["conv", "--input", "6x6x3", "--kernel", "3", "--out", "5", "--padding", "valid"],
    "check_v1": ["check", "v1"],
    "models": ["models"],
}


@pytest.mark.parametrize("args", COMMANDS.values(), ids=COMMANDS.keys())
def test_golden_output(mobcost, args, request):
    result = mobcost(*args)
    assert result.exit_code == 0, result.stderr
    golden = GOLDEN / f"{request.node.callspec.id}.txt"
    if os.environ.get("MOBCOST_UPDATE_GOLDEN"):
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()


def test_every_command_has_help_with_an_example(mobcost):
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        result = mobcost(name, "--help")
        assert result.exit_code == 0 and "Example: mobcost" in result.stdout, name


def test_the_list_of_commands_flows_its_help_as_each_command_does():
    """`mobcost --help` kept each docstring's line breaks ("... exit 1 when" then "none fits." on the next line)
    where `mobcost fit --help` flows the same text; each Example keeps a line of its own, and brackets stay text."""
    text = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "80"}).stdout
    assert "Pareto front; exit 1 when none fits." in text and "pip install 'mobcost[torch]'" in text
    assert "│              Example: mobcost fit v1 --max-macs 150M --max-params 2M" in text

def test_force_names_every_file_option_of_its_command():
    """`space --force` said "--export or --out" where space writes --export and --plot."""
    from test_widths import commands

    for path, command in commands():
        options = {opt for param in command.params for opt in param.opts}
        force = next((param for param in command.params if "--force" in param.opts), None)
        for written in sorted(options & {"--export", "--out", "--plot"} if force else ()):
            assert written in force.help, (path, written, force.help)

@pytest.mark.parametrize("fmt", ["rich", "markdown", "csv", "json"])
@pytest.mark.parametrize("command", [["table", "v1"], ["breakdown", "v1"], ["sweep", "v1", "--alpha", "1,0.5"],
                                     ["compare", "v1", "v1:shallow"], ["check", "v1"], ["models"],
                                     ["conv", "--input", "14x14x512", "--out", "512"]])
def test_every_command_in_every_format(mobcost, command, fmt):
    result = mobcost(*command, "--format", fmt)
    assert result.exit_code == 0 and result.stdout.strip()
    if fmt == "json":
        json.loads(result.stdout)


def test_table_json_has_exact_integers(mobcost):
    data = json.loads(mobcost("table", "v1", "--alpha", "0.5", "--res", "160", "--format", "json").stdout)
    assert data["model"] == "mobilenet_v1" and data["alpha"] == 0.5 and data["resolution"] == 160
    assert (data["totals"]["macs"], data["totals"]["params"]) == v1_by_hand(0.5, 160)
    assert set(data["layers"][0]) == {"name", "kind", "stride", "filter", "input", "output", "macs", "params", "reads",
                                      "part", "batch"}
    assert data["layers"][1]["macs"] == 3 * 3 * 16 * 80 * 80


def test_table_json_counts_parameters_as_asked(mobcost):
    data = json.loads(mobcost("table", "v2", "--params", "torch", "--format", "json").stdout)
    assert data["counting"]["params"] == "torch"
    assert data["totals"]["params"] == 3_504_872  # torchvision mobilenet_v2 num_params (batch norm's γ and β counted)
    assert data["layers"][0]["params"] == 3 * 3 * 3 * 32 + 2 * 32


def test_csv_columns_sum_to_the_total_row(mobcost):
    rows = list(csv.DictReader(io.StringIO(mobcost("table", "v1", "--format", "csv").stdout)))
    *layers, total = rows
    assert total["name"] == "Total"
    assert sum(int(r["macs"]) for r in layers) == int(total["macs"]) == v1_by_hand(1.0, 224)[0]
    assert sum(int(r["params"]) for r in layers) == int(total["params"]) == v1_by_hand(1.0, 224)[1]


def test_markdown_columns_sum_to_the_total_row(mobcost):
    lines = mobcost("table", "v1", "--format", "markdown").stdout.splitlines()
    cells = [[c.strip(" *").replace(",", "") for c in line.strip("|").split("|")] for line in lines
             if line.startswith("| ") and "Layer" not in line]
    *layers, total = cells
    assert sum(int(r[4]) for r in layers) == int(total[4]) and sum(int(r[5]) for r in layers) == int(total[5])


def test_conv_reproduces_the_seed_example(mobcost):
    data = json.loads(mobcost("conv", "--input", "6x6x3", "--kernel", "3", "--out", "5", "--padding", "valid",
                              "--format", "json").stdout)
    assert [s["macs"] for s in data["steps"]] == [3 * 3 * 3 * 5 * 4 * 4, 3 * 3 * 3 * 4 * 4, 3 * 5 * 4 * 4, 432 + 240]


def test_sweep_shows_published_accuracy(mobcost):
    data = json.loads(mobcost("sweep", "v1", "--alpha", "1,0.75,0.5,0.25", "--accuracy", "MobileNets V1 Table 6",
                              "--format", "json").stdout)
    assert [row["accuracy"] for row in data] == [70.6, 68.4, 63.7, 50.6]  # MobileNets V1 Table 6
    assert [row["macs"] for row in data] == [v1_by_hand(a, 224)[0] for a in (1.0, 0.75, 0.5, 0.25)]


def test_rho_and_model_reference(mobcost):
    by_rho = json.loads(mobcost("table", "v1", "--rho", "0.714", "--format", "json").stdout)
    assert by_rho["resolution"] == 160 and by_rho["totals"]["macs"] == v1_by_hand(1.0, 160)[0]


def test_a_failed_check_exits_1(mobcost, tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text("name: tiny\ntitle: Tiny\ninput: {resolution: 8}\nclasses: 10\n"
                    "layers:\n  - {kind: conv, out: 4}\n  - {kind: avgpool}\n  - {kind: fc}\n"
                    "budget: {max_macs: 1k}\n")
    result = mobcost("check", str(spec))
    assert result.exit_code == 1 and "fail" in result.stdout


BAD_INPUT = {
    "unknown model": (["table", "v7"], "unknown model 'v7'"),
    "unknown variant": (["table", "v1:deep"], "no variant 'deep'"),
    "missing file": (["table", "nowhere/spec.yaml"], "nowhere/spec.yaml: no such file"),
    "alpha zero": (["table", "v1", "--alpha", "0"], "--alpha takes a number above 0"),
    "res and rho": (["table", "v1", "--res", "160", "--rho", "0.7"], "not both"),
    "resolution zero": (["table", "v1", "--res", "0"], "--res (pixels, 224, or height × width, 240x320) takes a whole number from 1"),
    "bad sweep list": (["sweep", "v1", "--alpha", "1,x"], "numbers separated by commas"),
    "sweep without grid": (["sweep", "v1"], "needs --alpha, --res or both"),
    "bad conv input": (["conv", "--input", "6x6", "--out", "5"], "--input takes H×W×C"),
    "conv kernel too large": (["conv", "--input", "2x2x3", "--kernel", "3", "--out", "5", "--padding", "valid"],
                              "leaves nothing"),
}


@pytest.mark.parametrize("args, message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_paragraph_and_exit_2(mobcost, args, message):
    result = mobcost(*args)
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.startswith("mobcost: ")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_bad_spec_file(mobcost, tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\ntitle: Bad\ninput: {resolution: 8}\nlayers:\n  - {kind: conv, out: 4, stride: 0}\n")
    result = mobcost("table", str(spec))
    assert result.exit_code == 2
    assert f"{spec}, line 5, column 34: layer layers[0] (conv), field 'stride'" in result.stderr


def test_a_typo_in_a_flag_exits_2(mobcost):
    result = mobcost("table", "v1", "--alpah", "0.5")
    assert result.exit_code == 2 and "No such option" in result.stderr


def test_a_terminal_table_shows_at_most_max_shown_rows_and_counts_the_rest(mobcost, tmp_path):
    from mobcost.limits import MAX_SHOWN_ROWS

    spec = tmp_path / "long.yaml"
    spec.write_text(f"name: long\ntitle: Long\ninput: {{resolution: 8}}\nlayers:\n  - repeat: {MAX_SHOWN_ROWS + 2}\n"
                    "    layers: [{kind: pw, out: 8}]\n")
    shown = mobcost("table", str(spec)).stdout
    assert "2 more rows are not shown (at most 1,000 in a table)" in " ".join(shown.split())
    assert f"{8 * 8 * 3 * 8 + 8 * 8 * 8 * 8 * (MAX_SHOWN_ROWS + 1):,}" in shown  # the total: the whole network's
    assert len(json.loads(mobcost("table", str(spec), "-f", "json").stdout)["layers"]) == MAX_SHOWN_ROWS + 2
