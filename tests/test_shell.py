"""What a shell user expects: --version, completion, `-` for standard input, plain help, and CSV for a grid."""

import csv
import io

from typer.testing import CliRunner

import mobcost
from mobcost.cli import app
from mobcost.limits import MAX_FILE_BYTES
from mobcost.language import builtin_dir
from test_trace import v1_by_hand

V1 = (builtin_dir() / "mobilenet_v1.yaml").read_text()


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"mobcost {mobcost.__version__}\n"


def test_completion_installer_is_offered(mobcost):
    out = mobcost("--help").stdout
    assert "--install-completion" in out and "--show-completion" in out


def test_a_spec_from_standard_input():
    result = CliRunner().invoke(app, ["table", "-", "--alpha", "0.5", "--res", "160", "-f", "csv"], input=V1)
    assert result.exit_code == 0, result.stderr
    total = result.stdout.splitlines()[-1].split(",")
    assert (int(total[-2]), int(total[-1])) == v1_by_hand(0.5, 160)


def test_standard_input_is_read_up_to_the_size_limit():
    result = CliRunner().invoke(app, ["table", "-"], input="#" * (MAX_FILE_BYTES + 10))
    assert result.exit_code == 2 and f"<stdin>: is more than {MAX_FILE_BYTES:,} bytes" in result.stderr


def test_standard_input_errors_name_stdin_and_the_line():
    result = CliRunner().invoke(app, ["table", "-"], input=V1.replace("kernel: 3, stride: 2", "kernel: 0, stride: 2", 1))
    assert result.exit_code == 2 and result.stderr.startswith("mobcost: <stdin>, line ")


def test_help_has_no_bool_types_and_keeps_brackets(mobcost):
    for command in app.registered_commands:
        out = mobcost(command.callback.__name__, "--help").stdout
        assert "<bool>" not in out, command.callback.__name__
    assert "pip install 'mobcost[torch]'" in " ".join(mobcost("verify", "--help").stdout.split())
    assert "<bool>" not in mobcost("--help").stdout


def test_sweep_csv_has_alpha_resolution_and_the_accuracy_source(mobcost):
    rows = list(csv.DictReader(io.StringIO(mobcost("sweep", "v1", "--alpha", "1,0.5", "--res", "224,160",
                                                   "-f", "csv").stdout)))
    assert [(row["alpha"], row["resolution"]) for row in rows] == [("1.0", "224"), ("1.0", "160"), ("0.5", "224"),
                                                                    ("0.5", "160")]
    # one source, the one `fit` estimates from: TF-slim's checkpoints (1.0/224 70.9, 0.5/224 63.3, 0.5/160 59.1)
    assert {row["accuracy_source"] for row in rows} == {"TF-slim mobilenet_v1.md (2018-02-22 checkpoints)"}
    assert [row["accuracy"] for row in rows] == ["70.9", "68.0", "63.3", "59.1"]


def test_one_accuracy_source_unless_named(mobcost):
    def accuracy(*args):
        out = mobcost("sweep", "v1", "--alpha", "0.5", "-f", "csv", *args).stdout
        return next(csv.DictReader(io.StringIO(out)))["accuracy"]

    assert accuracy() == "63.3"  # TF-slim mobilenet_v1_0.5_224
    assert accuracy("--accuracy", "MobileNets V1 Table 6") == "63.7"  # the paper's Table 6
    bad = mobcost("sweep", "v1", "--alpha", "0.5", "--accuracy", "Table 99")
    assert bad.exit_code == 2 and "its sources are" in bad.stderr
