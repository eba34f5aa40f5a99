"""The sizing commands (issue 5): sweep grids, fit, plot, schema, and --export of any table."""

from __future__ import annotations

import csv
import io
import json
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml
from typer.testing import CliRunner

from mobcost.cli import network as cli_network
from mobcost.cli import app
from mobcost.table import Format
from test_sizing import v1_by_hand

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


# ---- sweep --------------------------------------------------------------------------------------------------

def test_sweep_csv_and_json_parse_back_to_the_hand_arithmetic():
    grid = ["--alpha", "0.25:1.0:0.25", "--res", "128:224:32"]
    as_csv = list(csv.DictReader(io.StringIO(run("sweep", "v1", *grid, "-f", "csv").stdout)))
    as_json = json.loads(run("sweep", "v1", *grid, "-f", "json").stdout)
    assert len(as_csv) == len(as_json) == 16
    for row, item in zip(as_csv, as_json):
        expected = v1_by_hand(item["alpha"], item["resolution"])
        assert (int(row["macs"]), int(row["params"])) == (item["macs"], item["params"]) == expected
        assert row["model"] == item["model"]
    assert as_json[0]["model"] == "0.25 MobileNet-128" and as_json[-1]["model"] == "1.0 MobileNet-224"
    assert as_json[-1]["macs"] == 568_740_352  # MobileNets Table 6: 569 million


def test_sweep_markdown_has_one_row_per_variant():
    out = run("sweep", "v1", "--alpha", "0.5,1", "--res", "160:224:64", "-f", "markdown").stdout
    assert sum(line.startswith(("| 0.5 MobileNet", "| 1.0 MobileNet")) for line in out.splitlines()) == 4


def test_sweep_refuses_a_bad_range():
    result = run("sweep", "v1", "--alpha", "1:0.5")
    assert result.exit_code == 2 and "runs upwards" in result.stderr


def test_progress_only_on_a_terminal_for_long_non_json_sweeps(monkeypatch):
    items = iter(range(6000))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert cli_network._progress(items, 6000, Format.csv) is items  # a pipe: no bar
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert cli_network._progress(items, 6000, Format.json) is items  # JSON: no bar
    assert cli_network._progress(items, 10, Format.rich) is items  # short: no bar
    tracked = cli_network._progress(iter(range(6000)), 6000, Format.rich)
    assert tracked is not items and sum(tracked) == sum(range(6000))


# ---- fit ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("macs", ["150M", "0.15G", "1.5e8", "150000k", "150000000"])
def test_fit_reads_sizes_in_every_notation(macs):
    out = json.loads(run("fit", "v1", "--max-macs", macs, "--max-params", "2M", "-f", "json").stdout)
    assert out["budget"]["max_macs"] == 150_000_000 and out["budget"]["max_params"] == 2_000_000
    assert all(v["macs"] <= 150_000_000 and v["params"] <= 2_000_000 for v in out["variants"])


def test_fit_json_ranks_estimates_first_and_names_their_points():
    out = json.loads(run("fit", "v1", "--max-macs", "150M", "--alpha", "0.5:1.0:0.25", "--res", "96:224:32",
                         "-f", "json").stdout)
    variants = out["variants"]
    # within 150M: 0.5 at 224 (149.5M) is the best published point; 0.75 at 128 (106.8M) is 62.1
    assert variants[0]["model"] == "0.5 MobileNet-224" and variants[0]["accuracy"] == 63.3
    assert variants[0]["accuracy_points"] == [{"alpha": 0.5, "resolution": 224, "accuracy": 63.3}]
    assert [v["accuracy"] for v in variants if v["accuracy"] is not None] == sorted(
        (v["accuracy"] for v in variants if v["accuracy"] is not None), reverse=True)
    assert variants[-1]["accuracy"] is None and variants[-1]["resolution"] == 96  # outside the published grid
    assert "TF-slim" in out["estimated_from"]


def test_fit_rich_table_says_estimate_and_marks_the_front():
    out = run("fit", "v1", "--max-macs", "150M", "--top", "5").stdout
    assert "ESTIMATE" in out and "★" in out and "the best 5 are shown" in out


@pytest.mark.parametrize("args, message", [(["--max-macs", "lots"], "--max-macs: "),
                                           (["--max-memory", "1MB", "--dtype", "float8"], "--dtype"),
                                           (["--max-macs", "1M", "--res", "96:1"], "--res")])
def test_fit_bad_input_exits_2(args, message):
    result = run("fit", "v1", *args)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


# ---- --export -----------------------------------------------------------------------------------------------

def test_every_table_command_can_export():
    for command in app.registered_commands:
        name = command.callback.__name__
        if "fmt" in command.callback.__wrapped__.__code__.co_varnames:
            assert "--export" in run(name, "--help").stdout, name


def test_export_svg_and_html(tmp_path):
    svg, html = tmp_path / "table.svg", tmp_path / "table.html"
    assert run("table", "v1", "-f", "csv", "--export", str(svg)).exit_code == 0
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and "568,740,352" in svg.read_text()
    assert run("check", "v1", "--export", str(html)).exit_code == 0
    assert html.read_text().lstrip().startswith("<!DOCTYPE html>") and "TF-slim" in html.read_text()


def test_export_refuses_other_suffixes(tmp_path):
    result = run("table", "v1", "--export", str(tmp_path / "table.pdf"))
    assert result.exit_code == 2 and ".svg or .html" in result.stderr


# ---- schema -------------------------------------------------------------------------------------------------

def test_schema_validates_the_shipped_config_and_rejects_a_bad_one():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(run("schema").stdout)
    from mobcost.language import builtin_dir

    for path in builtin_dir().glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)
    bad = {"name": "x", "title": "X", "input": {"resolution": 224}, "layers": [{"kind": "dw", "out": 3}],
           "budget": {"max_macs": "150M"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)  # a depthwise conv has no `out`
    del bad["layers"][0]["out"]
    jsonschema.validate(bad, schema)  # and 150M is a size


# ---- plot ---------------------------------------------------------------------------------------------------

def test_plot_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "figure4.png"
    result = run("plot", "v1", "--against", "macs", "--out", str(out))
    assert result.exit_code == 0 and "16 published models" in result.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_svg_has_sixteen_points(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "figure5.svg"
    assert run("plot", "v1", "--against", "params", "--out", str(out)).exit_code == 0
    ns = "{http://www.w3.org/2000/svg}"
    series = {g.get("id"): len(list(g.iter(ns + "use"))) for g in ET.parse(out).getroot().iter(ns + "g")
              if g.get("id", "").startswith("points-")}
    assert series == {"points-224": 4, "points-192": 4, "points-160": 4, "points-128": 4}  # Figures 4, 5: 16 models


def test_plot_without_matplotlib_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    result = run("plot", "v1", "--out", str(tmp_path / "f.png"))
    assert result.exit_code == 2 and "pip install 'mobcost[plot]'" in result.stderr


@pytest.mark.parametrize("args, message", [(["--against", "flops"], "--against"), (["--out", "f.pdf"], ".png or .svg")])
def test_plot_bad_options_exit_2(tmp_path, args, message):
    result = run("plot", "v1", "--out", str(tmp_path / "f.png"), *args)
    assert result.exit_code == 2 and message in result.stderr


def test_fit_says_when_nothing_fits_and_exits_1():
    result = run("fit", "v1", "--max-macs", "1k", "-f", "markdown")  # as grep: nothing found is exit 1
    assert result.exit_code == 1 and "0 of the variants tried fit" in result.stdout and "None fits" in result.stdout


def test_fit_latencies_in_csv_to_the_microsecond():
    rows = run("fit", "v2", "--max-latency", "20ms", "--device", "pixel1", "-f", "csv").stdout.splitlines()
    at = rows[0].split(",").index("latency_ms")
    latencies = [row.split(",")[at] for row in rows[1:]]
    assert latencies and all(len(ms.partition(".")[2]) <= 3 for ms in latencies)
