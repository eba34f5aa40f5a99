"""The typer app and what every command shares: options, bad input as exit 2, output, --export.

Exit codes: 0 success (also when the reader of a pipe stops early, as `| head` does), 1 a check failed, 2 bad input
(a spec, a model name or an option) or output that cannot be written, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import signal
import sys


def _interrupted(signum, frame):
    raise SystemExit(130)  # quietly, with the shell's code for Ctrl-C; `finally` blocks still run


signal.signal(signal.SIGINT, _interrupted)  # first, so that Ctrl-C while the imports below run is no traceback

import contextvars  # noqa: E402
import functools  # noqa: E402
import inspect  # noqa: E402
import os  # noqa: E402
from enum import Enum  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated, Optional  # noqa: E402

import typer  # noqa: E402
from typer.core import TyperCommand, TyperGroup  # noqa: E402

from mobcost.api import analyze  # noqa: E402
from mobcost.conventions import CONVENTIONS  # noqa: E402
from mobcost.limits import MAX_CHANNELS, MAX_MULTIPLIER, MAX_PIXELS  # noqa: E402
from mobcost.output import check_destination, printable, write_file  # noqa: E402
from mobcost.table import Format  # noqa: E402

EXIT_CODES = "Exit codes: 0 success, 1 a check failed, 2 bad input (a spec, a model name or an option)."


class Counting(str, Enum):
    weights = "weights"
    folded = "folded"
    torch = "torch"
    keras = "keras"


class Unknown(str, Enum):
    error = "error"
    zero = "zero"


class By(str, Enum):
    type = "type"
    part = "part"


class Dtype(str, Enum):
    fp32 = "fp32"
    fp16 = "fp16"
    int8 = "int8"


class _HelpAsWritten:
    """`--help` as written: a flag shows no `<bool>` type, and help text is never read as rich markup (so
    `pip install 'mobcost[torch]'` keeps its brackets)."""

    def format_help(self, ctx, formatter) -> None:
        from rich.markup import escape

        for item in [self, *self.get_params(ctx), *getattr(self, "commands", {}).values()]:
            if item.help and not getattr(item, "_escaped", False):
                item.help, item._escaped = escape(item.help), True
            if getattr(item, "is_flag", False):
                item.metavar = ""
            elif getattr(getattr(item, "type_descriptor", None), "is_choice", False) and item.show_choices:
                # <choice>, not <rich|markdown|csv|json>: the choices go in the help, which wraps at spaces
                choices = [str(getattr(c, "value", c)) for c in item.type_descriptor.choices or ()]
                item.show_choices = False
                if not all(choice in (item.help or "") for choice in choices):
                    item.help = f"{item.help or ''} One of: {', '.join(choices)}.".strip()
        for command in getattr(self, "commands", {}).values():  # typer's list of commands keeps a docstring's line
            if command.help and not command.short_help:  # breaks: it flows as --help does, its Example on a line
                first = command.help.split("\n\n")[0]
                command.short_help = "\nExample:".join(part.replace("\n", " ") for part in first.split("\nExample:"))
        super().format_help(ctx, formatter)


class _Command(_HelpAsWritten, TyperCommand):
    pass


class _Group(_HelpAsWritten, TyperGroup):
    pass


app = typer.Typer(
    name="mobcost", cls=_Group,
    help=f"Exact Mult-Adds and parameters of MobileNet-style networks, from a YAML spec. {EXIT_CODES}",
    no_args_is_help=True, pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from mobcost import __version__

        typer.echo(f"mobcost {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = False) -> None:
    pass

def complete_model(incomplete: str) -> list[str]:
    """Shell completion of a model: the built-in names and aliases, and after `NAME:` that model's variants."""
    from mobcost.language.shipped import builtin, builtin_models

    name, colon, variant = incomplete.partition(":")
    if not colon:
        return [model for model in builtin_models() if model.startswith(incomplete)]
    if (path := builtin(name)) is None:
        return []
    from mobcost.language import load_spec

    return [f"{name}:{key}" for key in load_spec(path).variants if key.startswith(variant)]


def complete_device(incomplete: str) -> list[str]:
    """Shell completion of a latency device's name."""
    from mobcost.latency.device import devices

    return [name for name in devices() if name.startswith(incomplete)]


Model = Annotated[str, typer.Argument(metavar="MODEL", autocompletion=complete_model,
                                      help="A built-in model (see `mobcost models`), a YAML spec, an ONNX model "
                                           "(imported on the fly) or - (standard input); `v1:shallow` names a "
                                           "variant, `v1@0.75_160` an α and resolution.")]


def number(what: str, high):
    """How a multiplier option is read: limits.number_of (ASCII digits, finite, above 0 up to `high`), as a float."""
    def parse(text: str) -> float:
        from mobcost.limits import number_of

        return float(number_of(text, what, 0, high, above=True))

    return parse


def read_resolution(text: str):
    from mobcost.trace import parse_resolution

    return parse_resolution(text)


# Options whose text the command wrapper reads (in `command`, so a refusal is one paragraph and exit 2): typer hands
# them over as written, since click's FLOAT takes `nan`, `inf` and `1e308` and its INT other scripts' digits.
Alpha = Annotated[Optional[str], typer.Option("--alpha", "-a", metavar="FLOAT", help="Width multiplier α (default 1).")]
Res = Annotated[Optional[str], typer.Option("--res", "-r", help="Input resolution in pixels, 224, or height × width, "
                                                                "240x320 (default: the spec's).")]
Rho = Annotated[Optional[str], typer.Option("--rho", metavar="FLOAT",
                                            help="Resolution multiplier ρ: each side = round(ρ × the spec's).")]
Depth = Annotated[Optional[str], typer.Option("--depth", metavar="FLOAT",
                                              help="Depth multiplier d (EfficientNet's compound scaling): each block's "
                                                   "repeats become ceil(n · d), times the spec's own.")]
NUMBERS = [(Alpha, number("--alpha", MAX_CHANNELS)), (Res, read_resolution), (Rho, number("--rho", MAX_PIXELS)),
           (Depth, number("--depth", MAX_MULTIPLIER))]
"""Each number option's type and the one function that reads it."""
Classes = Annotated[Optional[int], typer.Option("--classes", help="The classifier's classes (default: the spec's), "
                                                 "e.g. 1001 as TF-slim's checkpoints (a background class).")]
Fmt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
Accuracy = Annotated[Optional[str], typer.Option(
    "--accuracy", metavar="SOURCE", help="Take published accuracies only from the sources whose name contains this, "
                                         "e.g. tf-slim or 'MobileNets V1' (default: one source, the one with the "
                                         "largest α × resolution grid).")]
_PARAMS = ("Parameter counting: weights (weights and declared biases, as the papers count), folded (plus one bias "
           "per batch-norm channel, batch norm folded as a deployed model stores it), torch (plus batch-norm γ and β, "
           "as PyTorch's parameters()), keras (plus batch-norm moving mean and variance, as Keras' count_params()).")
Params = Annotated[Counting, typer.Option("--params", help=_PARAMS)]
ConventionName = Enum("ConventionName", {name: name for name in CONVENTIONS}, type=str)
Convention = Annotated[ConventionName, typer.Option(
    "--convention", "-c", help="Count as the paper (default), PyTorch, Keras, fvcore, ptflops (its pytorch or aten "
                               "backend) or thop do, Mult-Adds and parameters; `mobcost conventions` shows what each "
                               "counts. --params overrides its parameter counting.")]
ConventionParams = Annotated[Optional[Counting], typer.Option("--params", help=_PARAMS + " Default: the convention's.")]
Flops = Annotated[bool, typer.Option("--flops", help="Show FLOPs = 2 × Mult-Adds instead of Mult-Adds.")]
PAPER = ConventionName("paper")
DeviceOpt = Annotated[Optional[str], typer.Option(
    "--device", autocompletion=complete_device,
    help="Also estimate latency on this device (`mobcost devices` lists them), e.g. pixel1.")]
MaxMacs = Annotated[Optional[str], typer.Option(help="Most Mult-Adds, e.g. 150M, 1.5G, 2.5e6, 300k.")]
MaxParams = Annotated[Optional[str], typer.Option(help="Most parameters, e.g. 2M, 300k.")]
MaxMemory = Annotated[Optional[str], typer.Option(
    help="Most bytes of activations alive at once (the peak of `mobcost memory`), e.g. 1MB.")]
DtypeOption = Annotated[Dtype, typer.Option("--dtype", help="Bytes per activation: fp32 4, fp16 2, int8 1.")]
Export = Annotated[Optional[Path], typer.Option(
    "--export", help="Also save the table as SVG or HTML (by the file's suffix), e.g. --export table.svg; an "
                     "existing file is replaced only with --force.")]
Force = Annotated[bool, typer.Option("--force",
                                     help="Replace the file that --export, -o/--out or --plot names if it exists.")]
_export: contextvars.ContextVar[tuple | None] = contextvars.ContextVar("export", default=None)


def command(func=None, *, name: str | None = None):
    """Register a command whose bad-input errors print as one paragraph and exit 2.

    A command that renders a table (it takes `fmt`) also gets `--export FILE.svg|.html` and `--force`, which
    `emit` honours.
    """
    if func is None:
        return functools.partial(command, name=name)
    signature = inspect.signature(func, eval_str=True)
    tabular = "fmt" in signature.parameters
    numbers = {name: next(read for kind, read in NUMBERS if kind == p.annotation)
               for name, p in signature.parameters.items() if any(kind == p.annotation for kind, _ in NUMBERS)}
    own_force = "force" in signature.parameters  # a command that writes a file of its own (-o) shares --force

    @functools.wraps(func)
    def run(*args, **kwargs):
        from mobcost.language import MobcostError

        export = kwargs.pop("export", None) if tabular else None
        force = (kwargs.get if own_force else kwargs.pop)("force", False) if tabular else False
        token = _export.set(None if export is None else (export, force, read_paths(kwargs)))
        try:
            if export is not None:
                if export.suffix.lower() not in (".svg", ".html", ".htm"):
                    raise MobcostError(f"--export saves a table as .svg or .html (found {str(export)!r})")
                check_destination(*_export.get(), "--export")  # before any work or output
            for name, read in numbers.items():
                if isinstance(kwargs.get(name), str):
                    kwargs[name] = read(kwargs[name])
            return func(*args, **kwargs)
        except MobcostError as e:
            fail(str(e))
        except BrokenPipeError:
            _reader_gone()
        except OSError as e:  # the output could not be written: a full disk, a closed or lost terminal
            fail(f"cannot write the output: {e.strerror or e}")
        finally:
            _export.reset(token)

    if tabular:
        extra = [inspect.Parameter("export", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Export)]
        if not own_force:
            extra.append(inspect.Parameter("force", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Force))
        run.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *extra])
    return app.command(name, cls=_Command, epilog=EXIT_CODES)(run)


def fail(message: str) -> None:
    """One paragraph on stderr, control characters removed (a spec's names reach it), and exit 2."""
    warn(message)
    raise typer.Exit(2)


def warn(message: str) -> None:
    """A message on stderr, `mobcost: ` first and made printable (output.printable). The names, file names and
    values in it are written with errors.shown or one_line, so none adds a line of its own."""
    say(f"mobcost: {message}", err=True, lines=True)  # wrapped at spaces in a terminal, as written in a log


def _reader_gone() -> None:
    """The reader of a pipe stopped early (`mobcost table v1 | head`): it has what it wanted, so exit 0 quietly."""
    _silence_stdout()
    raise typer.Exit(0)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that nothing more written to it, nor the flush at exit, raises."""
    import os

    global _silenced
    _silenced = True

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


_silenced = False  # stdout pointed at /dev/null by _silence_stdout, not by rich's exit on a broken pipe


def _stdout_is_null() -> bool:
    import os

    try:
        out, null = os.fstat(1), os.stat(os.devnull)
    except OSError:
        return False
    return (out.st_dev, out.st_ino) == (null.st_dev, null.st_ino)


def read_paths(kwargs: dict) -> tuple[Path, ...]:
    """The spec files a command reads (the models it names, the shipped configs), which it never writes."""
    from mobcost.language import MobcostError, ModelRef, builtin_models, locate

    paths = set(builtin_models().values())
    for name in [kwargs["model"]] if "model" in kwargs else kwargs.get("models") or []:
        try:
            paths.add(locate(ModelRef.parse(name).target))
        except MobcostError:
            pass  # not a model: the command says so
    return tuple(paths)


def say(text: str, err: bool = False, lines: bool = False) -> None:
    """One line of news (a file written), made printable, on stdout or stderr; a terminal wraps it at its spaces,
    never inside a word, and a pipe or a file gets it on one line."""
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, stderr=err)
    console.print(Text(printable(text, lines)), soft_wrap=not console.is_terminal)


def emit(report, fmt: Format) -> None:
    from mobcost.table import render

    out = render(report, fmt)
    try:
        if isinstance(out, str):
            typer.echo(out)
        else:
            from rich.console import Console

            class Printer(Console):
                def on_broken_pipe(self) -> None:  # rich's own answer is to exit 1; ours is below
                    raise BrokenPipeError

            console = Printer()
            if not console.is_terminal and "COLUMNS" not in os.environ:
                console = Printer(width=200)  # a pipe or file: no wrapping, the table takes the width it needs
            console.print(out)
        sys.stdout.flush()  # here, so that a full disk or a closed pipe is reported by the command, not at exit
    except BrokenPipeError:  # the reader left (`| head`): the command goes on, and `check` still exits 1 on a FAIL
        _silence_stdout()
    if (export := _export.get()) is not None:
        _save(render(report, Format.rich), printable(report.title), *export)


def analyzed(model, resolution=None, **scale):
    """analyze() with --res as the user wrote it (224, 240x320), or a resolution already parsed."""
    from mobcost.trace import parse_resolution

    return analyze(model, resolution=parse_resolution(resolution) if isinstance(resolution, str) else resolution,
                   **scale)


def counted_as(model, convention: ConventionName, **scale):
    from mobcost.conventions import counted

    return counted(analyzed(model, **scale), convention.value)


def counting_of(convention: ConventionName, params: Counting | None) -> str:
    """The parameter counting asked for, else the convention's."""
    return params.value if params is not None else CONVENTIONS[convention.value].params


def _save(renderable, title: str, path: Path, force: bool, reading: tuple[Path, ...]) -> None:
    """The rich table as SVG or HTML, by rich's own export (Console(record=True)), written by output.write_file."""
    import io

    from rich.console import Console

    console = Console(record=True, file=io.StringIO(), width=200)
    console.print(renderable)
    text = console.export_svg(title=title) if path.suffix.lower() == ".svg" else console.export_html()
    write_file(path, text.encode("utf-8"), force, reading, "--export")


def main() -> None:
    """The console entry point: every way the environment can fail ends in exit 0, 1, 2 or 130, never a traceback."""
    import gc

    if sys.stdout is None or sys.stderr is None:  # started with stdout or stderr closed (`mobcost table v1 >&-`)
        if sys.stderr is not None:
            sys.stderr.write("mobcost: cannot write the output: standard output is closed\n")
        sys.exit(2)
    for stream in (sys.stdout, sys.stderr):  # PYTHONIOENCODING=ascii: α and × as ?, not a UnicodeEncodeError
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    started_on_null = _stdout_is_null()
    gc.freeze()  # what is imported lives until exit: no collection scans it, at exit either (bench/startup.py)
    try:  # the commands handle their own output's errors (in `command`); this is for --help and usage messages
        app(prog_name="mobcost")
    except SystemExit as e:
        # exit 1 is also how rich (stdout pointed at /dev/null) and click (stdout wrapped) answer a reader that
        # left the pipe early; a failed check exits 1 too, so only a stdout changed that way means a broken pipe
        if e.code == 1 and (type(sys.stdout).__name__ == "PacifyFlushWrapper"
                            or (_stdout_is_null() and not started_on_null and not _silenced)):
            raise SystemExit(0) from None
        raise
    except OSError as e:
        sys.stderr.write(f"mobcost: cannot write the output: {e.strerror or e}\n")
        raise SystemExit(2) from None
