"""Published accuracy against computed cost (MobileNets Figures 4 and 5); matplotlib is imported only here."""

from __future__ import annotations

import io
from pathlib import Path

from mobcost.sizing import AccuracyGrid
from mobcost.language import MobcostError, Network
from mobcost.trace import trace

AXES = {"macs": ("Million Mult-Adds (log scale)", "log"), "params": ("Million Parameters", "linear")}


def accuracy_figure(network: Network, against: str, out: Path, variant: str | None = None) -> tuple[bytes, int]:
    """Plot every model of the published accuracy grid at its computed cost: the figure as the .png or .svg
    `out` names (the caller writes it), and the number of points."""
    if against not in AXES:
        raise MobcostError(f"--against takes macs or params (found {against!r})")
    if out.suffix.lower() not in (".png", ".svg"):
        raise MobcostError(f"--out saves a figure as .png or .svg (found {str(out)!r})")
    grid = AccuracyGrid.of(network, variant)
    if grid is None:
        raise MobcostError(f"{network.name} has no full grid of published accuracies (α × resolution from one "
                           f"source) in its config's `reference:` entries, so there is nothing to plot")
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MobcostError("plots need matplotlib: pip install 'mobcost[plot]'") from None

    figure = Figure(figsize=(7.2, 5.2), layout="constrained")
    axes = figure.add_subplot()
    for resolution in sorted(grid.resolutions, reverse=True):
        xs, ys = [], []
        for alpha in sorted(grid.alphas, reverse=True):
            xs.append(getattr(trace(network, alpha, resolution), against) / 10**6)
            ys.append(grid.accuracy[alpha, resolution])
        # gid names each series, so the SVG keeps one group of markers per resolution
        axes.plot(xs, ys, marker="o", linestyle="-", label=f"{resolution}×{resolution}", gid=f"points-{resolution}")
    label, scale = AXES[against]
    axes.set_xscale(scale)
    if scale == "log":
        from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

        axes.xaxis.set_major_locator(FixedLocator([10, 20, 50, 100, 200, 500, 1000, 2000, 5000]))
        axes.xaxis.set_major_formatter(ScalarFormatter())
        axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel(label)
    axes.set_ylabel("ImageNet Top-1 accuracy (%), published")
    cost = "Mult-Adds" if against == "macs" else "parameters"
    axes.set_title(f"{network.title}: published accuracy vs computed {cost}\n"
                   f"Top-1 as published in {grid.source}; {cost} computed by mobcost", fontsize="small",
                   parse_math=False)  # a `$` in a spec's title is text, not TeX
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(title="Resolution")
    image = io.BytesIO()
    figure.savefig(image, format=out.suffix.lower().lstrip("."))
    return image.getvalue(), len(grid.accuracy)


def space_figure(curves: list, out: Path) -> bytes:
    """The cumulative distribution of Mult-Adds of a space's members, one curve per (label, SpaceResult), as MCUNet's
    Figure 3 compares TinyNAS's spaces: with a budget, of the members within it (TinyNAS keeps those that fit the
    memory). The .png or .svg `out` names, as bytes (the caller writes it)."""
    import numpy as np

    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MobcostError("plots need matplotlib: pip install 'mobcost[plot]'") from None
    figure = Figure(figsize=(7.2, 5.2), layout="constrained")
    axes = figure.add_subplot()
    for label, result in curves:
        low, high, counts, within = result.hist["macs"]
        counts = within if result.budget.given() else counts
        total = int(counts.sum())
        if not total:
            continue
        edges = low + (np.arange(len(counts)) + 1) * ((float(high) - float(low) + 1) / len(counts))
        kept = counts > 0
        share = np.cumsum(counts)[kept] / total
        name = label or result.space.name
        axes.step(edges[kept] / 10**6, share, where="post", label=f"{name} ({total:,} members)", gid=f"cdf-{name}")
    fitting = "within budget, " if any(result.budget.given() for _, result in curves) else ""
    first = curves[0][1]
    axes.set_xlabel("Million Mult-Adds")
    axes.set_ylabel("Cumulative probability")
    how = "all members" if first.exhaustive else f"{first.evaluated:,} members drawn per curve"
    axes.set_title(f"{first.space.title}: Mult-Adds of its members ({fitting}{how})", fontsize="small",
                   parse_math=False)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small")
    image = io.BytesIO()
    figure.savefig(image, format=out.suffix.lower().lstrip("."))
    return image.getvalue()
