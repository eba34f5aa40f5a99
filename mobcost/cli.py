"""The typer app: parse arguments, call the library, print, map errors to exit codes.

Exit codes: 0 success, 1 a check failed, 2 bad input (a spec, a model name or an option).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from mobcost import analyze
from mobcost.conventions import CONVENTIONS
from mobcost.report import Format

EXIT_CODES = "Exit codes: 0 success, 1 a check failed, 2 bad input (a spec, a model name or an option)."


class Counting(str, Enum):
    weights = "weights"
    torch = "torch"
    keras = "keras"


class By(str, Enum):
    type = "type"
    part = "part"


class Dtype(str, Enum):
    fp32 = "fp32"
    fp16 = "fp16"
    int8 = "int8"


app = typer.Typer(
    name="mobcost",
    help=f"Exact Mult-Adds and parameters of MobileNet-style networks, from a YAML spec. {EXIT_CODES}",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)

Model = Annotated[str, typer.Argument(metavar="MODEL", help="A built-in model (see `mobcost models`) or a YAML spec; "
                                           "`v1:shallow` names a variant, `v1@0.75_160` an α and resolution.")]
Alpha = Annotated[Optional[float], typer.Option("--alpha", "-a", help="Width multiplier α (default 1).")]
Res = Annotated[Optional[str], typer.Option("--res", "-r", help="Input resolution in pixels, 224, or height × width, "
                                          "240x320 (default: the spec's).")]
Rho = Annotated[Optional[float], typer.Option("--rho", help="Resolution multiplier ρ: each side = round(ρ × the spec's).")]
Depth = Annotated[Optional[float], typer.Option("--depth", help="Depth multiplier d (EfficientNet's compound scaling): "
                                               "each block's repeats become ceil(n · d), times the spec's own.")]
Fmt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
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
Export = Annotated[Optional[Path], typer.Option(
    "--export", help="Also save the table as SVG or HTML (by the file's suffix), e.g. --export table.svg.")]
_export: contextvars.ContextVar[Path | None] = contextvars.ContextVar("export", default=None)


def _command(func):
    """Register a command whose bad-input errors print as one paragraph and exit 2.

    A command that renders a table (it takes `fmt`) also gets `--export FILE.svg|.html`, which `_emit` honours.
    """
    signature = inspect.signature(func, eval_str=True)
    tabular = "fmt" in signature.parameters

    @functools.wraps(func)
    def run(*args, export: Path | None = None, **kwargs):
        from mobcost.spec import MobcostError

        token = _export.set(export)
        try:
            if export is not None and export.suffix.lower() not in (".svg", ".html", ".htm"):
                raise MobcostError(f"--export saves a table as .svg or .html (found {str(export)!r})")
            return func(*args, **kwargs)
        except MobcostError as e:
            typer.echo(f"mobcost: {e}", err=True)
            raise typer.Exit(2) from None
        finally:
            _export.reset(token)

    if tabular:
        extra = inspect.Parameter("export", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Export)
        run.__signature__ = signature.replace(parameters=[*signature.parameters.values(), extra])
    return app.command(epilog=EXIT_CODES)(run)


def _emit(report, fmt: Format) -> None:
    from mobcost.report import render

    out = render(report, fmt)
    if isinstance(out, str):
        typer.echo(out)
    else:
        from rich.console import Console

        console = Console()
        if not console.is_terminal:
            console = Console(width=200)  # a pipe or file: no wrapping, the table takes the width it needs
        console.print(out)
    if (path := _export.get()) is not None:
        _save(render(report, Format.rich), report.title, path)


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


def _save(renderable, title: str, path: Path) -> None:
    """The rich table as SVG or HTML, by rich's own export (Console(record=True))."""
    import io

    from rich.console import Console

    from mobcost.spec import MobcostError

    console = Console(record=True, file=io.StringIO(), width=200)
    console.print(renderable)
    try:
        if path.suffix.lower() == ".svg":
            console.save_svg(str(path), title=title)
        else:
            console.save_html(str(path))
    except OSError as e:
        raise MobcostError(f"--export: cannot write {str(path)!r}: {e.strerror}") from None


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
    from mobcost.report import block_table, has_blocks, layer_table

    analysis = _counted(model, convention, alpha=alpha, resolution=res, rho=rho, depth=depth)
    by_layer = layers if layers is not None else not has_blocks(analysis)
    report = (layer_table if by_layer else block_table)(analysis, _counting(convention, params), flops)
    if device is not None:
        from mobcost.latency.device import device as known_device
        from mobcost.latency.report import layers_with_latency

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
          flops: Flops = False, device: DeviceOpt = None) -> None:
    """Totals for every α × resolution (MobileNets Tables 6 and 7).
    Example: mobcost sweep v1 --alpha 0.25:1.0:0.25 --res 128:224:32"""
    from mobcost.report import totals_table
    from mobcost.sizing import alphas_of, resolutions_of
    from mobcost.spec import MobcostError, load_model
    from mobcost.trace import sweep as sweep_grid

    if not alpha and not res:
        raise MobcostError("sweep needs --alpha, --res or both, e.g. --alpha 1,0.75,0.5,0.25 --res 224,192,160,128")
    network, ref = load_model(model)
    alphas = alphas_of(alpha) or [ref.alpha or 1.0]
    resolutions = resolutions_of(res) or [ref.resolution]
    grid = (sweep_grid(network, alphas, resolutions) if convention is PAPER  # the fast path counts as the paper
            else (_counted(network, convention, alpha=a, resolution=r) for a in alphas for r in resolutions))
    totals = list(_progress(grid, len(alphas) * len(resolutions), fmt))
    accuracy = [network.accuracy(ref.variant, t.alpha, t.resolution) for t in totals]
    _emit(_with_latency(totals_table(f"{network.title}: width multiplier × resolution", totals, accuracy,
                                     _counting(convention, params), flops), totals, device), fmt)


def _with_latency(report, scaled: list, device: str | None):
    """A totals table with each model's estimated latency on `device`, if one was asked for."""
    if device is None:
        return report
    from mobcost.latency.device import device as known_device
    from mobcost.latency.report import totals_with_latency

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
        max_macs: Annotated[Optional[str], typer.Option(help="Most Mult-Adds, e.g. 150M, 1.5G, 2.5e6, 300k.")] = None,
        max_params: Annotated[Optional[str], typer.Option(help="Most parameters, e.g. 2M, 300k.")] = None,
        max_memory: Annotated[Optional[str], typer.Option(
            help="Most bytes of activations alive at once (the peak of `mobcost memory`), e.g. 1MB.")] = None,
        dtype: Annotated[Dtype, typer.Option("--dtype", help="Bytes per activation: fp32 4, fp16 2, int8 1.")]
        = Dtype.fp16,
        alpha: Annotated[str, typer.Option("--alpha", "-a", help="Width multipliers to try (list or range).")]
        = "0.25:1.4",
        res: Annotated[str, typer.Option("--res", "-r", help="Resolutions to try (list or range).")] = "96:320",
        top: Annotated[Optional[int], typer.Option(min=1, help="Show only the best N.")] = None,
        max_latency: Annotated[Optional[str], typer.Option(
            help="Most estimated latency on --device, e.g. 20ms (an estimate: see `mobcost devices`).")] = None,
        device: DeviceOpt = None, fmt: Fmt = Format.rich) -> None:
    """Every α × resolution within a budget, best first, with estimated accuracy and the Pareto front.
    Example: mobcost fit v1 --max-macs 150M --max-params 2M"""
    from mobcost.report import fit_table
    from mobcost.sizing import Limits, alphas_of, fit as fit_variants, resolutions_of
    from mobcost.spec import load_model

    network, ref = load_model(model)
    limits = Limits.of(network.budget, max_macs, max_params, max_memory, dtype.value, max_latency, device)
    candidates, grid = fit_variants(network, alphas_of(alpha), resolutions_of(res), limits, ref.variant)
    _emit(fit_table(network.title, candidates, grid, limits, top), fmt)


@_command
def plot(model: Model,
         out: Annotated[Path, typer.Option("--out", "-o", help="The figure file: .png or .svg.")],
         against: Annotated[str, typer.Option(help="The x axis: macs (Figure 4, log scale) or params (Figure 5).")]
         = "macs") -> None:
    """Published accuracy against computed Mult-Adds or parameters (MobileNets Figures 4 and 5); needs the plot extra.
    Example: mobcost plot v1 --against macs --out figure4.png"""
    from mobcost.plot import accuracy_figure
    from mobcost.spec import load_model

    network, ref = load_model(model)
    points = accuracy_figure(network, against, out, ref.variant)
    typer.echo(f"{out}: {points} published models, accuracy against computed {against}")


@_command
def schema() -> None:
    """The JSON Schema of the YAML spec format, for editors. Example: mobcost schema > mobcost.schema.json"""
    import json

    from mobcost.spec import spec_schema

    typer.echo(json.dumps(spec_schema(), indent=2, ensure_ascii=False))


@_command
def breakdown(model: Model, alpha: Alpha = None, res: Res = None, rho: Rho = None, depth: Depth = None,
              fmt: Fmt = Format.rich,
              params: ConventionParams = None, convention: Convention = PAPER, flops: Flops = False,
              by: Annotated[By, typer.Option("--by", help="Group by layer type or by part (backbone, extras, heads).")]
              = By.type) -> None:
    """Share of Mult-Adds and parameters per layer type (MobileNets Table 2) or per part.
    Example: mobcost breakdown v1 --by type"""
    from mobcost.report import breakdown_table

    analysis = _counted(model, convention, alpha=alpha, resolution=res, rho=rho, depth=depth)
    _emit(breakdown_table(analysis, _counting(convention, params), flops, by.value), fmt)


@_command
def compare(models: Annotated[list[str], typer.Argument(metavar="MODEL...", help="Models or variants, e.g. v1:conv v1.")],
            alpha: Alpha = None, res: Res = None, fmt: Fmt = Format.rich, params: ConventionParams = None,
            convention: Convention = PAPER, flops: Flops = False, device: DeviceOpt = None) -> None:
    """Totals side by side (MobileNets Tables 4 and 5). Example: mobcost compare v1:conv v1"""
    from mobcost.report import totals_table
    from mobcost.spec import load_model

    analyses, accuracy = [], []
    for name in models:
        network, ref = load_model(name)
        analysis = _counted(network, convention, alpha=ref.alpha or alpha, resolution=ref.resolution or res)
        analyses.append(analysis)
        accuracy.append(network.accuracy(ref.variant, analysis.alpha, analysis.resolution))
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
    from mobcost.report import conv_table
    from mobcost.spec import MobcostError
    from mobcost.trace import separable_steps

    try:
        h, w, c = (int(part) for part in input.lower().replace("×", "x").split("x"))
        pad = padding if padding in ("same", "valid") else int(padding)
    except ValueError:
        raise MobcostError(f"--input takes H×W×C such as 6x6x3 (found {input!r}) and --padding takes "
                           f"same, valid or a whole number (found {padding!r})") from None
    if min(h, w, c) < 1 or (isinstance(pad, int) and pad < 0):
        raise MobcostError(f"--input sizes must be positive and --padding not negative (found {input}, {padding})")
    _emit(conv_table(*separable_steps(Shape(h, w, c), kernel, out, stride, pad)), fmt)


@_command
def check(models: Annotated[Optional[list[str]], typer.Argument(
              metavar="[MODEL...]", help="Models or YAML specs (default: every built-in model).")] = None,
          fmt: Fmt = Format.rich, params: Params = Counting.weights) -> None:
    """Computed figures against the published ones and the budget in each config; exit 1 if any fails.
    A published figure that declares its counting (`counting: torch`) is checked that way; --params counts the
    others and the budget. Example: mobcost check v1"""
    from mobcost.check import check as run_checks
    from mobcost.latency.check import check_latency
    from mobcost.report import check_table
    from mobcost.spec import ModelRef, builtin_models, load_model, locate

    names = models or sorted({path.stem for path in builtin_models().values()})
    shipped = {path.resolve() for path in builtin_models().values()}
    results = []
    for name in names:
        network = load_model(name)[0]
        # the published latencies belong to the shipped configs, not to a user's spec of the same name
        builtin = locate(ModelRef.parse(name).target).resolve() in shipped
        results += run_checks(network, params.value) + (check_latency(network.name) if builtin else [])
    _emit(check_table(results), fmt)
    if any(r.status == "FAIL" for r in results):
        raise typer.Exit(1)


@_command
def memory(model: Model, alpha: Alpha = None, res: Res = None, rho: Rho = None, depth: Depth = None,
           fmt: Fmt = Format.rich,
           dtype: Annotated[Dtype, typer.Option("--dtype", help="Bytes per activation: fp32 4, fp16 2, int8 1.")]
           = Dtype.fp16,
           layers: Annotated[bool, typer.Option("--layers", help="Every layer's input and output activations.")]
           = False, params: Params = Counting.torch) -> None:
    """Activation memory: the widest tensor at each resolution (MobileNetV2 Table 3), the peak live set (RAM), and
    the weights' size (flash), both at --dtype. Example: mobcost memory v2 --dtype int8"""
    from mobcost.report import memory_layers_table, memory_table

    analysis = _analyze(model, alpha=alpha, resolution=res, rho=rho, depth=depth)
    if layers:
        _emit(memory_layers_table(analysis, dtype.value), fmt)
    else:
        _emit(memory_table(analysis, dtype.value, params.value), fmt)


@_command
def models(fmt: Fmt = Format.rich) -> None:
    """The built-in models, one line each. Example: mobcost models"""
    from mobcost.report import models_table
    from mobcost.spec import builtin_models, load_spec

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
    from mobcost.report import conventions_table

    _emit(conventions_table(), fmt)


@_command
def explain(models: Annotated[list[str], typer.Argument(metavar="MODEL...", help="Models, e.g. v1 v2@0.5_160.")],
            between: Annotated[Optional[tuple[ConventionName, ConventionName]], typer.Option(
                metavar="A B", help=f"Two conventions ({', '.join(CONVENTIONS)}): where and by how much they "
                                    "differ, per operation class and per layer.")] = None,
            alpha: Alpha = None, res: Res = None, flops: Flops = False, fmt: Fmt = Format.rich) -> None:
    """Why tools disagree: every convention's totals, or where two differ.

    Example: mobcost explain v1 --between paper ptflops"""
    from mobcost.report import conventions_totals, difference_table
    from mobcost.spec import MobcostError

    analyses = [_analyze(name, alpha=alpha, resolution=res) for name in models]
    if between is None:
        _emit(conventions_totals(analyses, flops), fmt)
    elif len(analyses) != 1:
        raise MobcostError(f"--between compares two conventions on one model; {len(models)} models were given")
    else:
        _emit(difference_table(analyses[0], between[0].value, between[1].value, flops), fmt)


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
    from mobcost.latency.report import latency_layers_table, latency_table
    from mobcost.spec import ModelRef

    est = estimate(analyze(model, alpha=alpha, resolution=res, rho=rho), known_device(device),
                   ModelRef.parse(model).variant)
    _emit((latency_layers_table if layers else latency_table)(est), fmt)


@_command
def devices(name: Annotated[Optional[str], typer.Argument(help="A device: list the figures it was fitted to.")] = None,
            fmt: Fmt = Format.rich) -> None:
    """The latency devices and the published figures each was fitted to.

    Example: mobcost devices pixel1"""
    from mobcost.latency.device import device, devices as known
    from mobcost.latency.report import device_table, devices_table

    _emit(device_table(device(name)) if name else devices_table(known()), fmt)


@_command
def verify(model: Model, alpha: Alpha = None, res: Res = None, fmt: Fmt = Format.rich) -> None:
    """Build the spec as a torch.nn.Module and hold every layer's shape and counts to PyTorch's; exit 1 on a
    mismatch. Needs: pip install 'mobcost[torch]'.

    Example: mobcost verify v1 --alpha 0.5 --res 160"""
    from mobcost.report import verify_table

    try:
        from mobcost import verify as torch_check
    except ImportError:
        typer.echo("mobcost: verify needs PyTorch; install the extra with: pip install 'mobcost[torch]' "
                   "(for the CPU build: pip install torch==2.13.0)", err=True)
        raise typer.Exit(2) from None
    analysis = _analyze(model, alpha=alpha, resolution=res)
    checks = torch_check.verify(analysis)
    _emit(verify_table(analysis, checks, torch_check.torch.__version__), fmt)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def main() -> None:
    app(prog_name="mobcost")


if __name__ == "__main__":
    sys.exit(main())
