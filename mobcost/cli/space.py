"""The design-space command: space."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from mobcost.cli.app import (DeviceOpt, Dtype, DtypeOption, Fmt, Force, MaxMacs, MaxMemory, MaxParams, _export, command,
                             emit, read_paths)
from mobcost.output import check_destination, printable, write_file
from mobcost.table import Format

Space = Annotated[str, typer.Argument(metavar="SPACE", help="A shipped space (ofa_mobilenet_v3, ofa_mobilenet_v3_w12, "
                                                            "proxylessnas, mnasnet, mcunet_tinynas) or a space file "
                                                            "(.yaml; - reads standard input).")]


@command
def space(space: Space,
          samples: Annotated[int, typer.Option(help="Members to draw uniformly; a space with at most this many "
                                                    "members is enumerated whole.")] = 100_000,
          seed: Annotated[int, typer.Option(help="The draw's seed: the same seed, the same members.")] = 0,
          exhaustive: Annotated[bool, typer.Option("--exhaustive", help="Enumerate every member, however many "
                                                                        "(with --dask beyond a billion).")] = False,
          device: DeviceOpt = None, max_macs: MaxMacs = None, max_params: MaxParams = None,
          max_memory: MaxMemory = None,
          max_latency: Annotated[Optional[str], typer.Option(
              help="Most estimated latency on --device, e.g. 30ms (an estimate: see `mobcost devices`).")] = None,
          dtype: DtypeOption = Dtype.fp32,
          fix: Annotated[Optional[list[str]], typer.Option(
              "--fix", metavar="CHOICE=VALUES", help="Keep some values of a global choice: --fix resolution=144,160 "
                                                     "--fix width=0.5 (TinyNAS's (w, r) spaces).")] = None,
          pareto: Annotated[Optional[str], typer.Option(
              help="The Pareto members' cost, against Mult-Adds: latency (default with --device), memory (default "
                   "with --max-memory) or params.")] = None,
          plot: Annotated[Optional[Path], typer.Option(
              "--plot", help="Also draw the cumulative distribution of Mult-Adds (TinyNAS's figure), .png or .svg; "
                             "needs the plot extra.")] = None,
          by: Annotated[Optional[str], typer.Option(
              help="With --plot: one curve per value of this global choice (resolution or width).")] = None,
          spec_of: Annotated[Optional[int], typer.Option(
              "--spec-of", metavar="MEMBER", help="Print member MEMBER (a number from the CSV or the Pareto table, "
                                                  "with the same --samples and --seed) as a plain spec, for `mobcost "
                                                  "table`.")] = None,
          dask: Annotated[Optional[str], typer.Option(
              "--dask", metavar="ADDRESS", help="Run the chunks on a Dask cluster: a scheduler's address, or local "
                                                "(needs the distributed extra).")] = None,
          force: Force = False, fmt: Fmt = Format.rich) -> None:
    """A design space's size and the exact distribution of its members' Mult-Adds, parameters, peak memory and
    (with --device) latency; with a budget, the share within it and the Pareto members. -f csv: every member
    evaluated, with its choices. Needs numpy (the space extra).

    Example: mobcost space ofa_mobilenet_v3 --max-macs 300M"""
    from mobcost.language import MobcostError
    from mobcost.space.explore import numpy_needed

    numpy_needed()
    from mobcost.api import space as explore_space
    from mobcost.views.space import member_header, member_lines, pareto_table, space_table

    if plot is not None:
        check_destination(plot, force, (Path(space), *read_paths({})), "--plot")  # never the space file read
        if plot.suffix.lower() not in (".png", ".svg"):
            raise MobcostError(f"--plot saves a figure as .png or .svg (found {str(plot)!r})")
    if spec_of is not None:
        from mobcost.space.explore import member
        from mobcost.space.spec import load_space

        found = load_space(space)
        exhaustive = exhaustive or found.size <= samples
        typer.echo(printable(member(found, spec_of, samples, None if exhaustive else seed), lines=True), nl=False)
        return
    fixes: dict[str, list[str]] = {}
    for item in fix or []:
        name, _, values = item.partition("=")
        if not values:
            raise MobcostError(f"--fix takes CHOICE=VALUES, e.g. resolution=144,160 (found {item!r})")
        fixes.setdefault(name.strip(), []).extend(values.split(","))
    client = None
    if dask is not None:
        from mobcost.space.distributed import client as dask_client

        client = dask_client(dask)
    options = dict(samples=samples, seed=seed, exhaustive=exhaustive or None, device=device, max_macs=max_macs,
                   max_params=max_params, max_memory=max_memory, max_latency=max_latency, dtype=dtype.value,
                   pareto=pareto, client=client)
    sink = None
    if fmt == Format.csv:
        header = []

        def sink(found, members, values):
            if not header:
                header.append(printable(member_header(found, tuple(values))))
                sys.stdout.write(header[0] + "\n")
            sys.stdout.write(member_lines(found, members, values, tuple(values)))
    try:
        result = explore_space(space, fix=fixes, sink=sink, **options)
        if fmt != Format.csv:
            emit(space_table(result), fmt)
            if result.budget.given() and fmt in (Format.rich, Format.markdown) and result.front:
                typer.echo("")
                token = _export.set(None)  # --export saves the distribution's table, written above
                try:
                    emit(pareto_table(result), fmt)
                finally:
                    _export.reset(token)
        if plot is not None:
            _plot(explore_space, space, result, fixes, options, by, plot, force, fmt)
    finally:
        if client is not None:
            client.close()


def _plot(explore_space, space, result, fixes, options, by, plot, force, fmt) -> None:
    """The cumulative distribution of Mult-Adds, one curve per value of `by` (each its own draw)."""
    from mobcost.language import MobcostError
    from mobcost.views.plot import space_figure

    curves = [("", result)]
    if by is not None:
        values = [c for c in result.space.globals if c.field == by]
        if not values:
            raise MobcostError(f"--by names a global choice of {result.space.name}: "
                               f"{', '.join(c.field for c in result.space.globals) or 'it has none'}")
        curves = [(f"{by} {value}", explore_space(space, fix={**fixes, by: [str(value)]}, **options))
                  for value in values[0].values]
    write_file(plot, space_figure(curves, plot), force, (Path(space), *read_paths({})), "--plot")
    typer.echo(printable(f"{plot}: the cumulative distribution of Mult-Adds, {len(curves)} curve(s)"),
               err=fmt == Format.csv)
