"""Every option of the CLI that takes a destination, found by walking typer's click commands, held to the same cases:
a file that exists, a symbolic link, a named pipe, a folder, a device and the input itself are refused before any
work (exit 2, nothing written, the pipe never opened); a new file is written whole, through output.write_file."""

import os
from pathlib import Path

import pytest
import typer.main

from mobcost.cli import app

SPEC = "name: n\ntitle: N\ninput: {resolution: 8}\nlayers: [{kind: conv, out: 8}]\n"
NEEDS = {"latency": ["--device", "pixel1"], "conv": ["--input", "6x6x3"], "check": ["--max-macs", "1G"],
         "fit": ["--max-macs", "1G"], "sweep": ["--alpha", "1"]}
"""What a command needs besides its inputs to get as far as its destination."""
SUFFIX = {"--export": ".svg", "plot --out": ".png", "import --out": ".yaml", "export --out": ".onnx",
          "view --out": ".html", "devices --out": ".yaml", "space --plot": ".png"}


def destinations() -> list[tuple[str, str]]:
    """(command, option) for every option whose value is a file path (annotated `Path`) in typer's click commands."""
    group = typer.main.get_command(app)
    return [(name, param.opts[0]) for name, command in sorted(group.commands.items()) for param in command.params
            if param.param_type_name == "option" and _annotation(param) is Path]


def _annotation(param):
    """The parameter's Python type: typer keeps it on the parameter (its own click), or as click's Path type."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        return descriptor.annotation
    return Path if type(getattr(param, "type", None)).__name__ == "Path" else None


def test_the_destinations_are_found():
    found = destinations()
    assert ("import", "--out") in found and ("plot", "--out") in found and ("table", "--export") in found
    assert all(option in ("--export", "--out", "--plot") for _, option in found), found  # a new one: add its cases
    assert {command for command, option in found if option == "--out"} <= {"devices", "export", "import", "plot",
                                                                           "view"}, found  # and its SUFFIX


def argv(command: str, option: str, source: Path, out: Path) -> list[str]:
    """The command with its inputs (a spec, or an ONNX file for import), what it needs and the destination."""
    group = typer.main.get_command(app)
    inputs = [str(source) for param in group.commands[command].params if param.param_type_name == "argument"]
    if command == "devices":  # `devices fit CSV -o device.yaml`: its arguments are a word and a CSV, not models
        inputs = ["fit", str(source)]
    return [command, *inputs, *NEEDS.get(command, []), option, str(out)]


def _files(folder: Path) -> dict:
    return {p.name: (p.is_symlink(), p.read_bytes() if p.is_file() and not p.is_symlink() else p.is_dir())
            for p in folder.iterdir() if not p.is_fifo()}


@pytest.mark.parametrize("command, option", destinations(), ids=[" ".join(d) for d in destinations()])
@pytest.mark.parametrize("where", ["existing", "symlink", "fifo", "folder", "device", "input"])
def test_every_destination_refuses(command, option, where, mobcost, tmp_path):
    if command == "import":
        onnx = pytest.importorskip("onnx")
        from onnx import TensorProto, helper

        source = tmp_path / "model.onnx"
        graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
        onnx.save(helper.make_model(graph), source)
    elif command == "devices":
        source = tmp_path / "measurements.csv"
        source.write_text("model,alpha,resolution,latency_ms\nv1,1,224,100\n")
    else:
        source = tmp_path / "net.yaml"
        source.write_text(SPEC)
    out = tmp_path / f"out{SUFFIX.get(f'{command} {option}', SUFFIX.get(option, '.yaml'))}"
    if where == "existing":
        out.write_text("theirs")
    elif where == "symlink":
        (tmp_path / "victim.txt").write_text("victim")
        out.symlink_to(tmp_path / "victim.txt")
    elif where == "fifo":
        os.mkfifo(out)  # opening it would block until a reader comes
    elif where == "folder":
        out.mkdir()
    elif where == "device":
        out = Path(os.devnull)
    else:
        out = source
    before = _files(tmp_path)
    forced = ["--force"] if where in ("fifo", "folder", "device", "input") else []  # refused whatever --force says
    result = mobcost(*argv(command, option, source, out), *forced)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("mobcost: ") and (option in result.stderr or "-o" in result.stderr), result.stderr
    assert _files(tmp_path) == before


@pytest.mark.parametrize("command, option", destinations(), ids=[" ".join(d) for d in destinations()])
def test_every_destination_writes_a_new_file_whole(command, option, mobcost, tmp_path):
    if command == "plot":
        pytest.importorskip("matplotlib")
    if command in ("import", "plot", "verify", "export", "view", "devices", "space"):
        pytest.skip(f"{command} is held to a new file by its own tests")
    source = tmp_path / "net.yaml"
    source.write_text(SPEC)
    out = tmp_path / "out.svg"
    result = mobcost(*argv(command, option, source, out))
    assert result.exit_code in (0, 1), (result.stdout, result.stderr)  # check fails without figures: still written
    assert out.read_text().startswith("<svg") and sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml", "out.svg"]
