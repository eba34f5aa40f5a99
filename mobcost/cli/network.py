"""Commands on one network's costs: table, sweep, fit, plot, schema, breakdown, compare, conv, memory, view, models,
import."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from mobcost.api import analyze
from mobcost.cli.app import (PAPER, Accuracy, Alpha, By, Classes, Convention, ConventionParams, Counting, Depth, DeviceOpt,
                             Dtype, DtypeOption, Flops, Fmt, Force, MaxMacs, MaxMemory, MaxParams, Model, Params, Res,
                             Rho, Unknown, analyzed, command, complete_model, counted_as, counting_of, emit,
                             read_paths, read_resolution, say)
from mobcost.errors import one_line
from mobcost.limits import MAX_VARIANTS, number_of
from mobcost.output import check_destination, json_text, write_file
from mobcost.table import Format

TERMINAL_TOP = 20  # `fit` in a terminal: the best 20, and how many more

@command
def table(model: Model, alpha: Alpha = None, res: Res = None, rho: Rho = None, depth: Depth = None,
          classes: Classes = None, fmt: Fmt = Format.rich,
          layers: Annotated[Optional[bool], typer.Option(
              "--layers/--blocks", help="Every layer, or one row per block (default: blocks for networks built "
                                        "of bottlenecks, as the V2/V3 papers list them).")] = None,
          params: ConventionParams = None, convention: Convention = PAPER, flops: Flops = False,
          device: DeviceOpt = None) -> None:
    """Mult-Adds and parameters per layer (MobileNets Table 1) or per block (MobileNetV2 Table 2, V3 Tables 1–2).
    Example: mobcost table v2 --layers --params torch"""
    from mobcost.views.network import block_table, has_blocks, layer_table

    analysis = counted_as(model, convention, alpha=alpha, resolution=res, rho=rho, depth=depth, classes=classes)
    by_layer = layers if layers is not None else not has_blocks(analysis)
    report = (layer_table if by_layer else block_table)(analysis, counting_of(convention, params), flops)
    if device is not None:
        from mobcost.latency.device import device as known_device
        from mobcost.views.latency import layers_with_latency

        report = layers_with_latency(report, analysis, known_device(device), by_layer)
    emit(report, fmt)


@command
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
    from mobcost.language import MobcostError, load_model
    from mobcost.sizing import alphas_of, published_accuracy, resolutions_of
    from mobcost.trace import plan_work, summed
    from mobcost.trace import sweep as sweep_grid
    from mobcost.views.network import totals_table

    if not alpha and not res:
        raise MobcostError("sweep needs --alpha, --res or both, e.g. --alpha 1,0.75,0.5,0.25 --res 224,192,160,128")
    network, ref = load_model(model)
    alphas = alphas_of(alpha) or [ref.alpha or 1.0]
    resolutions = resolutions_of(res) or [ref.resolution]
    if convention is not PAPER or device is not None:  # each variant traced in full: its rows counted as the
        what = f"sweep --convention {convention.value}" if convention is not PAPER else "sweep --device"  # convention
        plan_work(network, len(alphas) * len(resolutions), what)  # does, or their latency estimated
    grid = (sweep_grid(network, alphas, resolutions) if convention is PAPER  # the fast path counts as the paper
            else (summed(counted_as(network, convention, alpha=a, resolution=r)) for a in alphas for r in resolutions))
    totals = list(_progress(grid, len(alphas) * len(resolutions), fmt))
    source, published = published_accuracy(network, ref.variant, accuracy)
    accuracy = [(published[t.exact_alpha, t.resolution], source) if (t.exact_alpha, t.resolution) in published
                else None for t in totals]
    emit(_with_latency(totals_table(f"{network.title}: width multiplier × resolution", totals, accuracy,
                                     counting_of(convention, params), flops), totals, device), fmt)


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


@command
def fit(model: Model,
        max_macs: MaxMacs = None, max_params: MaxParams = None, max_memory: MaxMemory = None,
        dtype: DtypeOption = Dtype.fp16,
        alpha: Annotated[str, typer.Option("--alpha", "-a", help="Width multipliers to try (list or range).")]
        = "0.25:1.4",
        res: Annotated[str, typer.Option("--res", "-r", help="Resolutions to try (list or range).")] = "96:320",
        top: Annotated[Optional[str], typer.Option(metavar="N", help="Show only the best N.")] = None,
        max_latency: Annotated[Optional[str], typer.Option(
            help="Most estimated latency on --device, e.g. 20ms (an estimate: see `mobcost devices`).")] = None,
        device: DeviceOpt = None, accuracy: Accuracy = None, fmt: Fmt = Format.rich) -> None:
    """Every α × resolution within a budget, best first, with estimated accuracy and the Pareto front; exit 1 when
    none fits. In a terminal, the best 20 (--top N for another number, -f csv for all).
    Example: mobcost fit v1 --max-macs 150M --max-params 2M"""
    from mobcost.language import load_model
    from mobcost.sizing import Limits, alphas_of, resolutions_of
    from mobcost.sizing import fit as fit_variants
    from mobcost.views.fit import fit_table

    top = None if top is None else int(number_of(top, "--top", 1, MAX_VARIANTS, whole=True))
    network, ref = load_model(model)
    limits = Limits.of(network.budget, max_macs, max_params, max_memory, dtype.value, max_latency, device)
    candidates, grid = fit_variants(network, alphas_of(alpha), resolutions_of(res), limits, ref.variant, accuracy)
    if top is None and fmt is Format.rich and sys.stdout.isatty():
        top = TERMINAL_TOP  # a terminal shows the best; the note says how many more, and how to see them
    emit(fit_table(network.title, candidates, grid, limits, top), fmt)
    if not candidates:  # as grep: nothing found is exit 1, so a script can tell
        raise typer.Exit(1)


@command
def plot(model: Model,
         out: Annotated[Path, typer.Option("--out", "-o", help="The figure file: .png or .svg.")],
         against: Annotated[str, typer.Option(help="The x axis: macs (Figure 4, log scale) or params (Figure 5).")]
         = "macs", force: Force = False) -> None:
    """Published accuracy against computed Mult-Adds or parameters (MobileNets Figures 4 and 5); needs the plot extra.
    Example: mobcost plot v1 --against macs --out figure4.png"""
    from mobcost.language import load_model
    from mobcost.views.plot import accuracy_figure

    reading = read_paths({"model": model})
    check_destination(out, force, reading, "--out")  # before any work
    network, ref = load_model(model)
    image, points = accuracy_figure(network, against, out, ref.variant)
    write_file(out, image, force, reading, "--out")
    say(f"{out}: {points} published models, accuracy against computed {against}")


@command
def schema() -> None:
    """The JSON Schema of the YAML spec format, for editors. Example: mobcost schema > mobcost.schema.json"""
    from mobcost.language import spec_schema

    typer.echo(json_text(spec_schema()))


@command
def breakdown(model: Model, alpha: Alpha = None, res: Res = None, rho: Rho = None, depth: Depth = None,
              fmt: Fmt = Format.rich,
              params: ConventionParams = None, convention: Convention = PAPER, flops: Flops = False,
              by: Annotated[By, typer.Option("--by", help="Group by layer type or by part (backbone, extras, heads).")]
              = By.type) -> None:
    """Share of Mult-Adds and parameters per layer type (MobileNets Table 2) or per part.
    Example: mobcost breakdown v1 --by type"""
    from mobcost.views.network import breakdown_table

    analysis = counted_as(model, convention, alpha=alpha, resolution=res, rho=rho, depth=depth)
    emit(breakdown_table(analysis, counting_of(convention, params), flops, by.value), fmt)


@command
def compare(models: Annotated[list[str], typer.Argument(autocompletion=complete_model, metavar="MODEL...",
                                                        help="Models or variants, e.g. v1:conv v1.")],
            alpha: Alpha = None, res: Res = None, fmt: Fmt = Format.rich, params: ConventionParams = None,
            convention: Convention = PAPER, flops: Flops = False, device: DeviceOpt = None) -> None:
    """Totals side by side (MobileNets Tables 4 and 5). Example: mobcost compare v1:conv v1"""
    from mobcost.language import load_model
    from mobcost.views.network import totals_table

    analyses, accuracy = [], []
    for name in models:
        network, ref = load_model(name)
        analysis = counted_as(network, convention, alpha=ref.alpha or alpha, resolution=ref.resolution or res)
        analyses.append(analysis)
        accuracy.append(network.accuracy(ref.variant, analysis.exact_alpha, analysis.resolution))
    emit(_with_latency(totals_table("Comparison", analyses, accuracy, counting_of(convention, params), flops),
                        analyses, device), fmt)


@command
def conv(input: Annotated[str, typer.Option("--input", "-i", help="Input size H×W×C, e.g. 6x6x3.")],
         kernel: Annotated[int, typer.Option("--kernel", "-k", min=1, help="Kernel size D_K.")] = 3,
         out: Annotated[int, typer.Option("--out", "-o", min=1, help="Output channels N.")] = 1,
         stride: Annotated[int, typer.Option("--stride", "-s", min=1, help="Stride.")] = 1,
         padding: Annotated[str, typer.Option("--padding", "-p", help="same, valid, or a number of pixels.")] = "same",
         fmt: Fmt = Format.rich) -> None:
    """One layer: standard vs depthwise + pointwise, step by step. Example: mobcost conv --input 6x6x3 --kernel 3 --out 5 --padding valid"""
    from mobcost.language import MobcostError
    from mobcost.layers import Shape
    from mobcost.trace import separable_steps
    from mobcost.views.network import conv_table

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
    emit(conv_table(*separable_steps(Shape(h, w, c), kernel, out, stride, pad)), fmt)


@command
def memory(model: Model, alpha: Alpha = None, res: Res = None, rho: Rho = None, depth: Depth = None,
           fmt: Fmt = Format.rich, dtype: DtypeOption = Dtype.fp16,
           layers: Annotated[bool, typer.Option("--layers", help="Every layer's input and output activations.")]
           = False, params: Params = Counting.torch) -> None:
    """Activation memory: the widest tensor at each resolution (MobileNetV2 Table 3), the peak live set (RAM), and
    the weights' size (flash), both at --dtype. Example: mobcost memory v2 --dtype int8"""
    from mobcost.views.memory import memory_layers_table, memory_table

    analysis = analyzed(model, alpha=alpha, resolution=res, rho=rho, depth=depth)
    if layers:
        emit(memory_layers_table(analysis, dtype.value), fmt)
    else:
        emit(memory_table(analysis, dtype.value, params.value), fmt)


@command
def view(model: Model,
         out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")],
         alpha: Alpha = None, res: Res = None, rho: Rho = None, depth: Depth = None,
         params: ConventionParams = None, convention: Convention = PAPER, device: DeviceOpt = None,
         dtype: DtypeOption = Dtype.fp16,
         diff: Annotated[Optional[str], typer.Option(
             "--diff", metavar="B", help="Show B, the model after a change, with what it adds, removes and changes "
                                         "from MODEL marked (as `mobcost diff MODEL B`).")] = None,
         force: Force = False) -> None:
    """The network's graph and costs as one self-contained HTML page: parts, blocks, each layer coloured by its
    share of Mult-Adds (or parameters, activation bytes, latency on --device), its row on hover, the totals, the
    peak live set of activations. The page loads nothing from the network.
    Example: mobcost view ssdlite320_mobilenet_v3_large -o ssdlite.html"""
    from mobcost.views.html_graph import page

    reading = read_paths({"models": [model] + ([diff] if diff else [])})
    check_destination(out, force, reading, "--out")  # before any work
    counting = counting_of(convention, params)
    scale = dict(alpha=alpha, resolution=res, rho=rho, depth=depth)
    analysis = counted_as(model, convention, **scale)
    changes = None
    if diff is not None:
        from mobcost.delta import diff as compare_rows

        before, analysis = analysis, counted_as(diff, convention, **scale)
        changes = compare_rows(before, analysis, counting)
    known = None
    if device is not None:
        from mobcost.latency.device import device as known_device

        known = known_device(device)
    write_file(out, page(analysis, counting, dtype.value, known, changes).encode("utf-8"), force, reading, "--out")
    say(f"{out}: {len(analysis.rows):,} layers of {analysis.label}")


@command
def models(fmt: Fmt = Format.rich) -> None:
    """The built-in models, one line each. Example: mobcost models"""
    from mobcost.api import models as builtin
    from mobcost.views.network import models_table

    emit(models_table(builtin()), fmt)


@command(name="import")
def import_model(
        model: Annotated[str, typer.Argument(metavar="MODEL.onnx|MODULE:CALLABLE", help="An ONNX model (its weights "
                                             "are never read), or a Python callable that builds a torch.nn.Module "
                                             "(exported in memory; needs torch).")],
        out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the spec to this file (default: "
                                                    "print it); an existing file is replaced only with --force.")]
        = None,
        res: Annotated[Optional[str], typer.Option("--res", "-r", help="Input resolution where the model's is "
                                                   "dynamic, or to export at, 224 or 240x320 (default: the model's "
                                                   "declared input; 224).")] = None,
        arg: Annotated[Optional[list[str]], typer.Option("--arg", help="An argument to MODULE:CALLABLE, in order "
                                                         "(repeat it): a Python literal or a word.")] = None,
        unknown: Annotated[Unknown, typer.Option(help="An operator mobcost has no rule for: error (exit 2, naming "
                                                 "each root cause) or zero (a marked row of 0 Mult-Adds, with its "
                                                 "real output shape).")]
        = Unknown.error, force: Force = False) -> None:
    """Read an ONNX model, or a PyTorch model built by MODULE:CALLABLE, into a YAML spec.

    Example: mobcost import model.onnx -o model.yaml; mobcost import timm:create_model --arg mobilenetv4_conv_small"""
    from mobcost.importers.onnx import import_onnx
    from mobcost.language import MobcostError, parse_spec

    reading = (Path(model), *read_paths({}))
    res = None if res is None else read_resolution(res)
    if out is not None:
        check_destination(out, force, reading, "--out")  # before any work: a pipe is never opened
    if ":" in model and not Path(model).exists():
        from mobcost.importers.pytorch import import_torch

        if isinstance(res, tuple):
            raise MobcostError("--res for MODULE:CALLABLE is one side, e.g. 224")
        text = import_torch(model, arg, res, unknown.value)
    else:
        if arg:
            raise MobcostError("--arg passes arguments to MODULE:CALLABLE; an ONNX file takes none")
        text = import_onnx(model, res, unknown.value)
    analyze(parse_spec(text, f"{model} (as imported)"))  # the limits every spec is held to, before it is written
    if out is None:
        typer.echo(text, nl=False)
        return
    write_file(out, text.encode("utf-8"), force, reading, "--out")
    say(f"{one_line(str(out))}: the spec of {one_line(Path(model).name)}", err=True)


@command
def export(model: Model,
           out: Annotated[Path, typer.Option("--out", "-o", help="The ONNX file to write, e.g. model.onnx.")],
           alpha: Alpha = None, res: Res = None, rho: Rho = None, depth: Depth = None,
           seed: Annotated[int, typer.Option(help="Seed of the random weights.")] = 0,
           force: Force = False) -> None:
    """Write the network as a runnable ONNX graph with random weights (needs the onnx extra): time it on your own
    device, or read it back with `mobcost import`.

    Example: mobcost export v2 -o v2.onnx"""
    from mobcost.export import export_onnx

    check_destination(out, force, read_paths({"model": model}))  # before any work
    analysis = analyzed(model, alpha=alpha, resolution=res, rho=rho, depth=depth)
    write_file(out, export_onnx(analysis, seed), force, read_paths({"model": model}))
    say(f"{out}: {analysis.label}, {len(analysis.rows)} rows, random weights (seed {seed})", err=True)
