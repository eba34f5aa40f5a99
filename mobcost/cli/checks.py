"""Commands that hold counts to something: check, conventions, explain, diff, verify."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from mobcost.api import analyze
from mobcost.cli.app import (fail, Alpha, ConventionName, Counting, Dtype, DtypeOption, Flops, Fmt, MaxMacs, MaxMemory,
                             MaxParams, Model, Params, Res, analyzed, command, complete_model, emit, warn)
from mobcost.conventions import CONVENTIONS
from mobcost.errors import MobcostError, one_line, shown
from mobcost.limits import MAX_PERCENT, number_of
from mobcost.table import Format


class CheckFormat(str, Enum):
    rich = "rich"
    markdown = "markdown"
    csv = "csv"
    json = "json"
    github = "github"


@command
def check(models: Annotated[Optional[list[str]], typer.Argument(
              metavar="[MODEL...]", autocompletion=complete_model,
              help="Models or YAML specs (default: every built-in model).")] = None,
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
    from mobcost.language.zoo import ModelRef, builtin_models, load_target
    from mobcost.latency.check import check_latency
    from mobcost.sizing import Limits
    from mobcost.views.check import check_table, github_annotations

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
            empty.append((network.file, f"{one_line(name)}: nothing to check: no published figures (reference:), no "
                                        "budget (budget:) and no --max-macs, --max-params or --max-memory; "
                                        "--allow-empty accepts that"))
    if fmt is CheckFormat.github:
        typer.echo(github_annotations(results, [] if allow_empty else empty))
    else:
        emit(check_table(results, [name for name, _ in empty]), Format(fmt.value))
    if not allow_empty:
        for _, message in empty:
            warn(message)
    if any(r.status == "fail" for r in results) or (empty and not allow_empty):
        raise typer.Exit(1)


@command
def conventions(fmt: Fmt = Format.rich) -> None:
    """What each counting convention counts, per operation class. Example: mobcost conventions"""
    from mobcost.views.conventions import conventions_table

    emit(conventions_table(), fmt)


@command
def explain(models: Annotated[list[str], typer.Argument(metavar="MODEL...", autocompletion=complete_model,
                                                        help="Models, e.g. v1 v2@0.5_160.")],
            between: Annotated[Optional[tuple[ConventionName, ConventionName]], typer.Option(
                metavar="A B", help=f"Two conventions ({', '.join(CONVENTIONS)}): where and by how much they "
                                    "differ, per operation class and per layer.")] = None,
            alpha: Alpha = None, res: Res = None, flops: Flops = False, fmt: Fmt = Format.rich) -> None:
    """Why tools disagree: every convention's totals, or where two differ.

    Example: mobcost explain v1 --between paper ptflops"""
    from mobcost.language import MobcostError
    from mobcost.views.conventions import conventions_totals, difference_table

    analyses = [analyzed(name, alpha=alpha, resolution=res) for name in models]
    if between is None:
        emit(conventions_totals(analyses, flops), fmt)
    elif len(analyses) != 1:
        raise MobcostError(f"--between compares two conventions on one model; {len(models)} models were given")
    else:
        emit(difference_table(analyses[0], between[0].value, between[1].value, flops), fmt)


@command
def diff(before: Annotated[str, typer.Argument(autocompletion=complete_model, metavar="A",
                                               help="The model before: a built-in model, a reference "
                                                                  "such as v1@0.75 or a YAML spec.")],
         after: Annotated[str, typer.Argument(autocompletion=complete_model, metavar="B",
                                              help="The model after, named the same ways.")],
         fmt: Fmt = Format.rich, params: Params = Counting.weights,
         fail_over: Annotated[Optional[str], typer.Option(
             metavar="PERCENT", help="Exit 1 when Mult-Adds or parameters grow by more than this, e.g. 5%.")]
         = None) -> None:
    """What a change costs: layers added, removed and changed, with Mult-Add and parameter deltas, and the totals.
    Example: mobcost diff old.yaml net.yaml --fail-over 5%

    Rows are matched by their place in the graph, then by name and kind (renames are named). `-` reads a spec
    from standard input (git show HEAD~1:net.yaml | mobcost diff - net.yaml); -f markdown prints a table for a
    pull-request comment."""
    from mobcost.delta import diff as compare_rows
    from mobcost.views.diff import diff_table

    threshold = None
    if fail_over is not None:  # -100% (every model fails but an empty one) up to MAX_PERCENT
        try:
            threshold = float(number_of(fail_over.strip().removesuffix("%"), "--fail-over", -100, MAX_PERCENT) / 100)
        except MobcostError:
            raise MobcostError(f"--fail-over takes a percentage such as 5%, from -100% up to {MAX_PERCENT:,}% in "
                               f"ASCII digits (found {shown(fail_over)!r})") from None
    d = compare_rows(analyze(before), analyze(after), params.value)
    emit(diff_table(d), fmt)
    if threshold is not None and d.growth() > threshold:
        warn(f"{shown(after, 200)} grows by {_growth(d.growth())} over {shown(before, 200)}, more than --fail-over "
             f"{shown(fail_over)}")
        raise typer.Exit(1)


def _growth(relative: float) -> str:
    return "an unbounded factor (from nothing)" if relative == float("inf") else f"{relative:.1%}"


@command
def verify(model: Model, alpha: Alpha = None, res: Res = None, fmt: Fmt = Format.rich,
           against: Annotated[Optional[str], typer.Option(
               "--against", metavar="LIBRARY|MODULE:CALLABLE",
               help="Hold the spec to a real implementation instead of the module mobcost builds from it: "
                    "torchvision or timm (the builder the config names, at the same α) or any importable function "
                    "returning an nn.Module. Compares every total with FlopCounterMode, Σ numel, fvcore, "
                    "ptflops and thop (those installed), and every conv and linear layer in order.")] = None,
           tools: Annotated[Optional[str], typer.Option(
               "--tools", metavar="LIST", help="With --against: the counters to run besides FlopCounterMode and "
                                               "Σ numel, e.g. fvcore,thop (of fvcore, ptflops, ptflops-aten, thop); "
                                               "none, or all (the default: those installed).")] = None) -> None:
    """Build the spec as a torch.nn.Module and hold every layer's shape and counts to PyTorch's, or (--against)
    hold the spec to torchvision's own model; exit 1 on a mismatch. Needs PyTorch and torchvision: pip install
    'mobcost[torch]' (for the CPU build, install torch and torchvision from PyTorch's CPU index first).

    Example: mobcost verify v3_large:torchvision --alpha 0.75 --against torchvision"""
    from mobcost.views.verify import reference_table, verify_table

    try:
        from mobcost.verify import reference
        from mobcost.verify import self as torch_check
    except ImportError:
        from mobcost.language import TORCH_CPU

        fail(f"verify needs PyTorch; {TORCH_CPU}")
    analysis = analyzed(model, alpha=alpha, resolution=res)
    if against is None:
        checks = torch_check.verify(analysis)
        emit(verify_table(analysis, checks, torch_check.torch.__version__), fmt)
        ok = all(c.ok for c in checks)
    else:
        asked = reference.tools_of(tools)
        built, how = reference.reference_model(analysis.network, analysis.alpha, against)
        comparison = reference.compare(analysis, built, how, asked)
        emit(reference_table(analysis, comparison), fmt)
        ok = comparison.ok
    if not ok:
        raise typer.Exit(1)
