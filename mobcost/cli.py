"""The typer app: parse arguments, call the library, print, map errors to exit codes.

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

from mobcost import analyze  # noqa: E402
from mobcost.conventions import CONVENTIONS  # noqa: E402
from mobcost.output import check_destination, printable, write_file  # noqa: E402
from mobcost.table import Format  # noqa: E402

EXIT_CODES = "Exit codes: 0 success, 1 a check failed, 2 bad input (a spec, a model name or an option)."


class Counting(str, Enum):
    weights = "weights"
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

Model = Annotated[str, typer.Argument(metavar="MODEL", help="A built-in model (see `mobcost models`), a YAML spec, "
                                           "an ONNX model (imported on the fly) or - (standard input); `v1:shallow` names a variant, `v1@0.75_160` an α "
                                           "and resolution.")]
Alpha = Annotated[Optional[float], typer.Option("--alpha", "-a", help="Width multiplier α (default 1).")]
Res = Annotated[Optional[str], typer.Option("--res", "-r", help="Input resolution in pixels, 224, or height × width, "
                                          "240x320 (default: the spec's).")]
Rho = Annotated[Optional[float], typer.Option("--rho", help="Resolution multiplier ρ: each side = round(ρ × the spec's).")]
Depth = Annotated[Optional[float], typer.Option("--depth", help="Depth multiplier d (EfficientNet's compound scaling): "
                                               "each block's repeats become ceil(n · d), times the spec's own.")]
Fmt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
Accuracy = Annotated[Optional[str], typer.Option(
    "--accuracy", metavar="SOURCE", help="Take published accuracies only from the sources whose name contains this, "
                                         "e.g. tf-slim or 'MobileNets V1' (default: one source, the one with the "
                                         "largest α × resolution grid).")]
_PARAMS = ("Parameter counting: weights (weights and declared biases, as the papers count), torch (plus batch-norm "
           "γ and β, as PyTorch's parameters()), keras (plus batch-norm moving mean and variance, as Keras' "
           "count_params()).")
Params = Annotated[Counting, typer.Option("--params", help=_PARAMS)]
ConventionName = Enum("ConventionName", {name: name for name in CONVENTIONS}, type=str)
Convention = Annotated[ConventionName, typer.Option(
    "--convention", "-c", help="Count as the paper (default), PyTorch, Keras, fvcore, ptflops or thop do, Mult-Adds "
                               "and parameters; `mobcost conventions` shows what each counts. --params overrides "
                               "its parameter counting.")]
ConventionParams = Annotated[Optional[Counting], typer.Option("--params", help=_PARAMS + " Default: the convention's.")]
Flops = Annotated[bool, typer.Option("--flops", help="Show FLOPs = 2 × Mult-Adds instead of Mult-Adds.")]
PAPER = ConventionName("paper")
DeviceOpt = Annotated[Optional[str], typer.Option(
    "--device", help="Also estimate latency on this device (`mobcost devices` lists them), e.g. pixel1.")]
MaxMacs = Annotated[Optional[str], typer.Option(help="Most Mult-Adds, e.g. 150M, 1.5G, 2.5e6, 300k.")]
MaxParams = Annotated[Optional[str], typer.Option(help="Most parameters, e.g. 2M, 300k.")]
MaxMemory = Annotated[Optional[str], typer.Option(
    help="Most bytes of activations alive at once (the peak of `mobcost memory`), e.g. 1MB.")]
DtypeOption = Annotated[Dtype, typer.Option("--dtype", help="Bytes per activation: fp32 4, fp16 2, int8 1.")]
Export = Annotated[Optional[Path], typer.Option(
    "--export", help="Also save the table as SVG or HTML (by the file's suffix), e.g. --export table.svg; an "
                     "existing file is replaced only with --force.")]
Force = Annotated[bool, typer.Option("--force", help="Replace the file --export or --out names if it exists.")]
_export: contextvars.ContextVar[tuple | None] = contextvars.ContextVar("export", default=None)


def _command(func=None, *, name: str | None = None):
    """Register a command whose bad-input errors print as one paragraph and exit 2.

    A command that renders a table (it takes `fmt`) also gets `--export FILE.svg|.html` and `--force`, which
    `_emit` honours.
    """
    if func is None:
        return functools.partial(_command, name=name)
    signature = inspect.signature(func, eval_str=True)
    tabular = "fmt" in signature.parameters

    @functools.wraps(func)
    def run(*args, **kwargs):
        from mobcost.language import MobcostError

        export, force = (kwargs.pop("export", None), kwargs.pop("force", False)) if tabular else (None, False)
        token = _export.set(None if export is None else (export, force, _inputs(kwargs)))
        try:
            if export is not None:
                if export.suffix.lower() not in (".svg", ".html", ".htm"):
                    raise MobcostError(f"--export saves a table as .svg or .html (found {str(export)!r})")
                check_destination(*_export.get(), "--export")  # before any work or output
            return func(*args, **kwargs)
        except MobcostError as e:
            _fail(str(e))
        except BrokenPipeError:
            _reader_gone()
        except OSError as e:  # the output could not be written: a full disk, a closed or lost terminal
            _fail(f"cannot write the output: {e.strerror or e}")
        finally:
            _export.reset(token)

    if tabular:
        extra = [inspect.Parameter("export", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Export),
                 inspect.Parameter("force", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Force)]
        run.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *extra])
    return app.command(name, cls=_Command, epilog=EXIT_CODES)(run)


def _fail(message: str) -> None:
    """One paragraph on stderr, control characters removed (a spec's names reach it), and exit 2."""
    typer.echo(f"mobcost: {printable(message, lines=True)}", err=True)
    raise typer.Exit(2)


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


def _inputs(kwargs: dict) -> tuple[Path, ...]:
    """The spec files a command reads (the models it names, the shipped configs), which it never writes."""
    from mobcost.language import MobcostError, ModelRef, builtin_models, locate

    paths = set(builtin_models().values())
    for name in [kwargs["model"]] if "model" in kwargs else kwargs.get("models") or []:
        try:
            paths.add(locate(ModelRef.parse(name).target))
        except MobcostError:
            pass  # not a model: the command says so
    return tuple(paths)


def _emit(report, fmt: Format) -> None:
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


def _analyze(model, resolution=None, **scale):
    """analyze() with --res as the user wrote it (224, 240x320), or a resolution already parsed."""
    from mobcost.trace import parse_resolution

    return analyze(model, resolution=parse_resolution(resolution) if isinstance(resolution, str) else resolution,
                   **scale)


def _counted(model, convention: ConventionName, **scale):
    from mobcost.conventions import counted

    return counted(_analyze(model, **scale), convention.value)


def _counting(convention: ConventionName, params: Counting | None) -> str:
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


@_command
def table(model: Model, alpha: Alpha = None, res: Res = None, rho: Rho = None, depth: Depth = None,
          fmt: Fmt = Format.rich,
          layers: Annotated[Optional[bool], typer.Option(
              "--layers/--blocks", help="Every layer, or one row per block (default: blocks for networks built "
                                        "of bottlenecks, as the V2/V3 papers list them).")] = None,
          params: ConventionParams = None, convention: Convention = PAPER, flops: Flops = False,
          device: DeviceOpt = None) -> None:
    """Mult-Adds and parameters per layer (MobileNets Table 1) or per block (MobileNetV2 Table 2, V3 Tables 1–2).
    Example: mobcost table v2 --layers --params torch"""
    from mobcost.views.network import block_table, has_blocks, layer_table

    analysis = _counted(model, convention, alpha=alpha, resolution=res, rho=rho, depth=depth)
    by_layer = layers if layers is not None else not has_blocks(analysis)
    report = (layer_table if by_layer else block_table)(analysis, _counting(convention, params), flops)
    if device is not None:
        from mobcost.latency.device import device as known_device
        from mobcost.views.latency import layers_with_latency

        report = layers_with_latency(report, analysis, known_device(device), by_layer)
    _emit(report, fmt)


@_command
def sweep(model: Model,
          alpha: Annotated[str, typer.Option("--alpha", "-a", help=(
              "Width multipliers: a list 1,0.75,0.5 and/or ranges start:stop[:step] such as 0.25:1.0:0.05 "
              "(step 0.05 if left out)."))] = "",
          res: Annotated[str, typer.Option("--res", "-r", help="Resolutions: a list 224,192,160 and/or ranges such as "
                                           "96:320:8 (step 8 if left out).")] = "",
          fmt: Fmt = Format.rich, params: ConventionParams = None, convention: Convention = PAPER,
          flops: Flops = False, accuracy: Accuracy = None, device: DeviceOpt = None) -> None:
    """Totals for every α × resolution (MobileNets Tables 6 and 7).
    Example: mobcost sweep v1 --alpha 0.25:1.0:0.25 --res 128:224:32"""
    from mobcost.views.network import totals_table
    from mobcost.sizing import alphas_of, published_accuracy, resolutions_of
    from mobcost.language import MobcostError, load_model
    from mobcost.trace import plan_work, summed, sweep as sweep_grid

    if not alpha and not res:
        raise MobcostError("sweep needs --alpha, --res or both, e.g. --alpha 1,0.75,0.5,0.25 --res 224,192,160,128")
    network, ref = load_model(model)
    alphas = alphas_of(alpha) or [ref.alpha or 1.0]
    resolutions = resolutions_of(res) or [ref.resolution]
    if convention is not PAPER:  # each variant traced in full, to count its rows as the convention does
        plan_work(network, len(alphas) * len(resolutions), f"sweep --convention {convention.value}")
    grid = (sweep_grid(network, alphas, resolutions) if convention is PAPER  # the fast path counts as the paper
            else (summed(_counted(network, convention, alpha=a, resolution=r)) for a in alphas for r in resolutions))
    totals = list(_progress(grid, len(alphas) * len(resolutions), fmt))
    source, published = published_accuracy(network, ref.variant, accuracy)
    accuracy = [(published[t.exact_alpha, t.resolution], source) if (t.exact_alpha, t.resolution) in published
                else None for t in totals]
    _emit(_with_latency(totals_table(f"{network.title}: width multiplier × resolution", totals, accuracy,
                                     _counting(convention, params), flops), totals, device), fmt)


def _with_latency(report, scaled: list, device: str | None):
    """A totals table with each model's estimated latency on `device`, if one was asked for."""
    if device is None:
        return report
    from mobcost.latency.device import device as known_device
    from mobcost.views.latency import totals_with_latency

    return totals_with_latency(report, scaled, known_device(device))


_LONG_SWEEP = 5000  # variants: half a second of work or more, long enough to show progress


def _progress(items, total: int, fmt: Format):
    """Items with a progress bar on stderr, only when stdout is a terminal, the output is not JSON and it is long."""
    if total < _LONG_SWEEP or fmt is Format.json or not sys.stdout.isatty():
        return items
    from rich.console import Console
    from rich.progress import track

    return track(items, total=total, description="Sweeping", console=Console(stderr=True), transient=True)


@_command
def fit(model: Model,
        max_macs: MaxMacs = None, max_params: MaxParams = None, max_memory: MaxMemory = None,
        dtype: DtypeOption = Dtype.fp16,
        alpha: Annotated[str, typer.Option("--alpha", "-a", help="Width multipliers to try (list or range).")]
        = "0.25:1.4",
        res: Annotated[str, typer.Option("--res", "-r", help="Resolutions to try (list or range).")] = "96:320",
        top: Annotated[Optional[int], typer.Option(min=1, help="Show only the best N.")] = None,
        max_latency: Annotated[Optional[str], typer.Option(
            help="Most estimated latency on --device, e.g. 20ms (an estimate: see `mobcost devices`).")] = None,
        device: DeviceOpt = None, accuracy: Accuracy = None, fmt: Fmt = Format.rich) -> None:
    """Every α × resolution within a budget, best first, with estimated accuracy and the Pareto front.
    Example: mobcost fit v1 --max-macs 150M --max-params 2M"""
    from mobcost.views.fit import fit_table
    from mobcost.sizing import Limits, alphas_of, fit as fit_variants, resolutions_of
    from mobcost.language import load_model

    network, ref = load_model(model)
    limits = Limits.of(network.budget, max_macs, max_params, max_memory, dtype.value, max_latency, device)
    candidates, grid = fit_variants(network, alphas_of(alpha), resolutions_of(res), limits, ref.variant, accuracy)
    _emit(fit_table(network.title, candidates, grid, limits, top), fmt)


@_command
def plot(model: Model,
         out: Annotated[Path, typer.Option("--out", "-o", help="The figure file: .png or .svg.")],
         against: Annotated[str, typer.Option(help="The x axis: macs (Figure 4, log scale) or params (Figure 5).")]
         = "macs", force: Force = False) -> None:
    """Published accuracy against computed Mult-Adds or parameters (MobileNets Figures 4 and 5); needs the plot extra.
    Example: mobcost plot v1 --against macs --out figure4.png"""
    from mobcost.views.plot import accuracy_figure
    from mobcost.language import load_model

    reading = _inputs({"model": model})
    check_destination(out, force, reading, "--out")  # before any work
    network, ref = load_model(model)
    image, points = accuracy_figure(network, against, out, ref.variant)
    write_file(out, image, force, reading, "--out")
    typer.echo(printable(f"{out}: {points} published models, accuracy against computed {against}"))


@_command
def schema() -> None:
    """The JSON Schema of the YAML spec format, for editors. Example: mobcost schema > mobcost.schema.json"""
    import json

    from mobcost.language import spec_schema

    typer.echo(json.dumps(spec_schema(), indent=2, ensure_ascii=False))


@_command
def breakdown(model: Model, alpha: Alpha = None, res: Res = None, rho: Rho = None, depth: Depth = None,
              fmt: Fmt = Format.rich,
              params: ConventionParams = None, convention: Convention = PAPER, flops: Flops = False,
              by: Annotated[By, typer.Option("--by", help="Group by layer type or by part (backbone, extras, heads).")]
              = By.type) -> None:
    """Share of Mult-Adds and parameters per layer type (MobileNets Table 2) or per part.
    Example: mobcost breakdown v1 --by type"""
    from mobcost.views.network import breakdown_table

    analysis = _counted(model, convention, alpha=alpha, resolution=res, rho=rho, depth=depth)
    _emit(breakdown_table(analysis, _counting(convention, params), flops, by.value), fmt)


@_command
def compare(models: Annotated[list[str], typer.Argument(metavar="MODEL...", help="Models or variants, e.g. v1:conv v1.")],
            alpha: Alpha = None, res: Res = None, fmt: Fmt = Format.rich, params: ConventionParams = None,
            convention: Convention = PAPER, flops: Flops = False, device: DeviceOpt = None) -> None:
    """Totals side by side (MobileNets Tables 4 and 5). Example: mobcost compare v1:conv v1"""
    from mobcost.views.network import totals_table
    from mobcost.language import load_model

    analyses, accuracy = [], []
    for name in models:
        network, ref = load_model(name)
        analysis = _counted(network, convention, alpha=ref.alpha or alpha, resolution=ref.resolution or res)
        analyses.append(analysis)
        accuracy.append(network.accuracy(ref.variant, analysis.exact_alpha, analysis.resolution))
    _emit(_with_latency(totals_table("Comparison", analyses, accuracy, _counting(convention, params), flops),
                        analyses, device), fmt)


@_command
def conv(input: Annotated[str, typer.Option("--input", "-i", help="Input size H×W×C, e.g. 6x6x3.")],
         kernel: Annotated[int, typer.Option("--kernel", "-k", min=1, help="Kernel size D_K.")] = 3,
         out: Annotated[int, typer.Option("--out", "-o", min=1, help="Output channels N.")] = 1,
         stride: Annotated[int, typer.Option("--stride", "-s", min=1, help="Stride.")] = 1,
         padding: Annotated[str, typer.Option("--padding", "-p", help="same, valid, or a number of pixels.")] = "same",
         fmt: Fmt = Format.rich) -> None:
    """One layer: standard vs depthwise + pointwise, step by step. Example: mobcost conv --input 6x6x3 --kernel 3 --out 5 --padding valid"""
    from mobcost.layers import Shape
    from mobcost.views.network import conv_table
    from mobcost.language import MobcostError
    from mobcost.trace import separable_steps

    try:
        text = input.lower().replace("×", "x")
        if not (text.isascii() and padding.isascii()):  # int() would read other scripts' digits (٦)
            raise ValueError
        h, w, c = (int(part) for part in text.split("x"))
        pad = padding if padding in ("same", "valid") else int(padding)
    except ValueError:
        raise MobcostError(f"--input takes H×W×C such as 6x6x3 (found {input!r}) and --padding takes "
                           f"same, valid or a whole number (found {padding!r})") from None
    if min(h, w, c) < 1 or (isinstance(pad, int) and pad < 0):
        raise MobcostError(f"--input sizes must be positive and --padding not negative (found {input}, {padding})")
    _emit(conv_table(*separable_steps(Shape(h, w, c), kernel, out, stride, pad)), fmt)


class CheckFormat(str, Enum):
    rich = "rich"
    markdown = "markdown"
    csv = "csv"
    json = "json"
    github = "github"


@_command
def check(models: Annotated[Optional[list[str]], typer.Argument(
              metavar="[MODEL...]", help="Models or YAML specs (default: every built-in model).")] = None,
          fmt: Annotated[CheckFormat, typer.Option("--format", "-f", help=(
              "Output format; github prints GitHub Actions annotations (::error file=…,line=…::) at the spec line "
              "of each failed figure or limit."))] = CheckFormat.rich,
          params: Params = Counting.weights, max_macs: MaxMacs = None, max_params: MaxParams = None,
          max_memory: MaxMemory = None, dtype: DtypeOption = Dtype.fp16,
          allow_empty: Annotated[bool, typer.Option("--allow-empty", help=(
              "Pass a model that has no published figures and no budget (by default that fails: a gate that "
              "checks nothing must not pass)."))] = False) -> None:
    """Computed figures against the published ones, the config's budget and the limits given; exit 1 on a failure.
    Example: mobcost check my_net.yaml --max-macs 300M --format github

    A model with nothing to check (no published figures, no budget, no limit given) fails too, unless
    --allow-empty. A published figure that declares its counting (`counting: torch`) is checked that way; --params
    counts the others and the budget."""
    from mobcost.check import check as run_checks
    from mobcost.latency.check import check_latency
    from mobcost.views.check import check_table, github_annotations
    from mobcost.sizing import Limits
    from mobcost.language.zoo import ModelRef, builtin_models, load_target

    given = Limits.of(None, max_macs, max_params, max_memory, dtype.value)
    limits = {"max_macs": given.max_macs, "max_params": given.max_params, "max_memory": given.max_memory}
    names = models or sorted({path.stem for path in builtin_models().values()})
    shipped = {path.resolve() for path in builtin_models().values()}
    results, empty = [], []
    for name in names:
        ref = ModelRef.parse(name)  # the whole config is read; `v1:shallow` checks only that variant's figures
        network = load_target(ref)
        found = run_checks(network, params.value, ref, limits, dtype.value)
        # the published latencies belong to the shipped configs as published, not to a user's spec or a variant
        if ref == ModelRef(ref.target) and Path(network.file).resolve() in shipped:
            found += check_latency(network.name)
        results += found
        if not found:
            empty.append((network.file, f"{name}: nothing to check: no published figures (reference:), no "
                                        "budget (budget:) and no --max-macs, --max-params or --max-memory; "
                                        "--allow-empty accepts that"))
    if fmt is CheckFormat.github:
        typer.echo(github_annotations(results, [] if allow_empty else empty))
    else:
        _emit(check_table(results, [name for name, _ in empty]), Format(fmt.value))
    if not allow_empty:
        for _, message in empty:
            typer.echo(f"mobcost: {message}", err=True)
    if any(r.status == "fail" for r in results) or (empty and not allow_empty):
        raise typer.Exit(1)


@_command
def memory(model: Model, alpha: Alpha = None, res: Res = None, rho: Rho = None, depth: Depth = None,
           fmt: Fmt = Format.rich, dtype: DtypeOption = Dtype.fp16,
           layers: Annotated[bool, typer.Option("--layers", help="Every layer's input and output activations.")]
           = False, params: Params = Counting.torch) -> None:
    """Activation memory: the widest tensor at each resolution (MobileNetV2 Table 3), the peak live set (RAM), and
    the weights' size (flash), both at --dtype. Example: mobcost memory v2 --dtype int8"""
    from mobcost.views.memory import memory_layers_table, memory_table

    analysis = _analyze(model, alpha=alpha, resolution=res, rho=rho, depth=depth)
    if layers:
        _emit(memory_layers_table(analysis, dtype.value), fmt)
    else:
        _emit(memory_table(analysis, dtype.value, params.value), fmt)


@_command
def models(fmt: Fmt = Format.rich) -> None:
    """The built-in models, one line each. Example: mobcost models"""
    from mobcost.views.network import models_table
    from mobcost.language import builtin_models, load_spec

    entries = []
    for path in sorted(set(builtin_models().values())):
        network = load_spec(path)
        totals = analyze(network)
        entries.append({"name": network.name, "aliases": ", ".join(network.aliases), "title": network.title,
                        "resolution": network.input.resolution, "macs": totals.macs, "params": totals.params,
                        "variants": ", ".join(network.variants), "source": network.source or ""})
    _emit(models_table(entries), fmt)


@_command
def conventions(fmt: Fmt = Format.rich) -> None:
    """What each counting convention counts, per operation class. Example: mobcost conventions"""
    from mobcost.views.conventions import conventions_table

    _emit(conventions_table(), fmt)


@_command
def explain(models: Annotated[list[str], typer.Argument(metavar="MODEL...", help="Models, e.g. v1 v2@0.5_160.")],
            between: Annotated[Optional[tuple[ConventionName, ConventionName]], typer.Option(
                metavar="A B", help=f"Two conventions ({', '.join(CONVENTIONS)}): where and by how much they "
                                    "differ, per operation class and per layer.")] = None,
            alpha: Alpha = None, res: Res = None, flops: Flops = False, fmt: Fmt = Format.rich) -> None:
    """Why tools disagree: every convention's totals, or where two differ.

    Example: mobcost explain v1 --between paper ptflops"""
    from mobcost.views.conventions import conventions_totals, difference_table
    from mobcost.language import MobcostError

    analyses = [_analyze(name, alpha=alpha, resolution=res) for name in models]
    if between is None:
        _emit(conventions_totals(analyses, flops), fmt)
    elif len(analyses) != 1:
        raise MobcostError(f"--between compares two conventions on one model; {len(models)} models were given")
    else:
        _emit(difference_table(analyses[0], between[0].value, between[1].value, flops), fmt)


@_command(name="import")
def import_model(
        model: Annotated[Path, typer.Argument(metavar="MODEL.onnx", help="An ONNX model; its weights are never read.")],
        out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the spec to this file (default: "
                                                    "print it).")] = None,
        res: Annotated[Optional[int], typer.Option("--res", "-r", help="Input resolution where the model's is "
                                                   "dynamic (default: the model's declared input).")] = None,
        unknown: Annotated[Unknown, typer.Option(help="An operator mobcost has no rule for: error (exit 2, naming "
                                                 "every one) or zero (a marked row of 0 Mult-Adds).")]
        = Unknown.error) -> None:
    """Read an ONNX model into a YAML spec (needs the onnx extra). Example: mobcost import model.onnx -o model.yaml"""
    from mobcost.importers.onnx import import_onnx
    from mobcost.language import MobcostError

    text = import_onnx(model, res, unknown.value)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise MobcostError(f"--out: cannot write {str(out)!r}: {e.strerror}") from None
    typer.echo(f"{out}: the spec of {model.name}", err=True)


@_command
def latency(model: Model, device: Annotated[str, typer.Option("--device", help="The device (`mobcost devices`).")],
            alpha: Alpha = None, res: Res = None, rho: Rho = None,
            layers: Annotated[bool, typer.Option("--layers", help="Every operator: compute- or memory-bound, and "
                                                                  "its share of the time.")] = False,
            fmt: Fmt = Format.rich) -> None:
    """Estimated latency on a device, with its interval and the published figure where one exists.

    Example: mobcost latency v2 --device pixel1"""
    from mobcost.latency.device import device as known_device
    from mobcost.latency.estimate import estimate
    from mobcost.views.latency import latency_layers_table, latency_table
    from mobcost.language import ModelRef

    est = estimate(analyze(model, alpha=alpha, resolution=res, rho=rho), known_device(device),
                   ModelRef.parse(model).variant)
    _emit((latency_layers_table if layers else latency_table)(est), fmt)


@_command
def devices(name: Annotated[Optional[str], typer.Argument(help="A device: list the figures it was fitted to.")] = None,
            fmt: Fmt = Format.rich) -> None:
    """The latency devices and the published figures each was fitted to.

    Example: mobcost devices pixel1"""
    from mobcost.latency.device import device, devices as known
    from mobcost.views.latency import device_table, devices_table

    _emit(device_table(device(name)) if name else devices_table(known()), fmt)


@_command
def diff(before: Annotated[str, typer.Argument(metavar="A", help="The model before: a built-in model, a reference "
                                                                  "such as v1@0.75 or a YAML spec.")],
         after: Annotated[str, typer.Argument(metavar="B", help="The model after, named the same ways.")],
         fmt: Fmt = Format.rich, params: Params = Counting.weights,
         fail_over: Annotated[Optional[str], typer.Option(
             metavar="PERCENT", help="Exit 1 when Mult-Adds or parameters grow by more than this, e.g. 5%.")]
         = None) -> None:
    """What a change costs: layers added, removed and changed, with Mult-Add and parameter deltas, and the totals.
    Example: mobcost diff old.yaml net.yaml --fail-over 5%

    Rows are matched by layer name. `-` reads a spec from standard input
    (git show HEAD~1:net.yaml | mobcost diff - net.yaml); -f markdown prints a table for a pull-request comment."""
    from mobcost.delta import diff as compare_rows
    from mobcost.views.diff import diff_table
    from mobcost.language import MobcostError

    threshold = None
    if fail_over is not None:
        try:
            threshold = float(fail_over.strip().removesuffix("%")) / 100
        except ValueError:
            raise MobcostError(f"--fail-over takes a percentage such as 5% (found {fail_over!r})") from None
    d = compare_rows(analyze(before), analyze(after), params.value)
    _emit(diff_table(d), fmt)
    if threshold is not None and d.growth() > threshold:
        typer.echo(f"mobcost: {after} grows by {d.growth():.1%} over {before}, more than --fail-over {fail_over}",
                   err=True)
        raise typer.Exit(1)


@_command
def verify(model: Model, alpha: Alpha = None, res: Res = None, fmt: Fmt = Format.rich,
           against: Annotated[Optional[str], typer.Option(
               "--against", metavar="torchvision|MODULE:CALLABLE",
               help="Hold the spec to a real implementation instead of the module mobcost builds from it: "
                    "torchvision (the builder the config names, at the same α) or any importable function "
                    "returning an nn.Module. Compares every total with FlopCounterMode, Σ numel, fvcore, "
                    "ptflops and thop (those installed), and every conv and linear layer in order.")] = None) -> None:
    """Build the spec as a torch.nn.Module and hold every layer's shape and counts to PyTorch's, or (--against)
    hold the spec to torchvision's own model; exit 1 on a mismatch. Needs PyTorch and torchvision: pip install
    'mobcost[torch]' (for the CPU build, install torch and torchvision from PyTorch's CPU index first).

    Example: mobcost verify v3_large:torchvision --alpha 0.75 --against torchvision"""
    from mobcost.views.verify import reference_table, verify_table

    try:
        from mobcost.verify import reference, self as torch_check
    except ImportError:
        from mobcost.language import TORCH_CPU

        typer.echo(f"mobcost: verify needs PyTorch; {TORCH_CPU}", err=True)
        raise typer.Exit(2) from None
    analysis = _analyze(model, alpha=alpha, resolution=res)
    if against is None:
        checks = torch_check.verify(analysis)
        _emit(verify_table(analysis, checks, torch_check.torch.__version__), fmt)
        ok = all(c.ok for c in checks)
    else:
        built, how = reference.reference_model(analysis.network, analysis.alpha, against)
        comparison = reference.compare(analysis, built, how)
        _emit(reference_table(analysis, comparison), fmt)
        ok = comparison.ok
    if not ok:
        raise typer.Exit(1)


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
    try:  # the commands handle their own output's errors (in `_command`); this is for --help and usage messages
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


if __name__ == "__main__":
    sys.exit(main())
