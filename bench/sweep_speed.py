"""How long a 10,092-variant α × resolution sweep takes, and whether its memory stays flat (issue 5).

The grid is α 0.25–1.40 by 0.01 (116 values) × resolutions 96–182 (87 values) of MobileNet V1. Each timing is the
best of --repeat runs, paired in the same process with the baseline: one `mobcost table v1` (trace + layer table
rendered as CSV). Times are CPU seconds of this process (one core; other work on the machine does not inflate
them), with wall-clock seconds beside. Memory is the tracemalloc peak while the sweep runs, for grids of growing
size.

    python bench/sweep_speed.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from decimal import Decimal

from mobcost.table import Format, render

from mobcost.views.network import layer_table
from mobcost.language import load_model
from mobcost.trace import sweep, trace

ALPHAS = [float(Decimal("0.25") + i * Decimal("0.01")) for i in range(116)]


def best_of(repeat: int, run) -> tuple[float, float]:
    """The fastest of `repeat` runs: (CPU seconds of this process on its one core, wall seconds)."""
    times = []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        run()
        times.append((time.process_time() - cpu, time.perf_counter() - wall))
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    network, _ = load_model("v1")
    resolutions = range(96, 183)
    variants = len(ALPHAS) * len(resolutions)

    table = best_of(args.repeat, lambda: render(layer_table(trace(network)), Format.csv))
    fast = best_of(args.repeat, lambda: sum(t.macs for t in sweep(network, ALPHAS, resolutions)))
    full = best_of(1, lambda: [trace(network, a, r).macs for a in ALPHAS for r in resolutions])

    print(f"MobileNet V1, {len(ALPHAS)} α × {len(resolutions)} resolutions = {variants:,} variants, "
          f"best of {args.repeat} (the full trace: 1 run); CPU seconds of this one process, wall seconds beside")
    print("| run | CPU s | wall s | per variant (µs CPU) | × one table (CPU) |")
    print("|---|---:|---:|---:|---:|")
    print(f"| one `mobcost table v1` (baseline) | {table[0]:.4f} | {table[1]:.4f} | – | 1 |")
    for name, (cpu, wall) in (("sweep(): layers built once per α, sums only (mobcost sweep/fit)", fast),
                              ("trace() per variant, rows kept", full)):
        print(f"| {name} | {cpu:.3f} | {wall:.3f} | {cpu / variants * 1e6:.0f} | {cpu / table[0]:.0f} |")
    print("\n| grid | variants | tracemalloc peak (KiB) |")
    print("|---|---:|---:|")
    for n_alphas, n_res in ((10, 10), (116, 87), (116, 348)):
        grid = (ALPHAS[:n_alphas], range(96, 96 + n_res))
        tracemalloc.start()
        count = sum(1 for _ in sweep(network, *grid))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"| {n_alphas} α × {n_res} resolutions | {count:,} | {peak / 1024:.0f} |")


if __name__ == "__main__":
    main()
