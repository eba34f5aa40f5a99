"""How long a 10,092-variant α × resolution sweep takes, and whether its memory stays flat (issue 5).

The grid is α 0.25–1.40 by 0.01 (116 values) × resolutions 96–182 (87 values) of MobileNet V1. Each timing is the
best of --repeat runs, paired in the same process with the baseline: one `mobcost table v1` (trace + layer table
rendered as CSV). Memory is the tracemalloc peak while the sweep runs, for grids of growing size.

    python bench/sweep_speed.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from decimal import Decimal

from mobcost.report import Format, layer_table, render
from mobcost.spec import load_model
from mobcost.trace import sweep, trace

ALPHAS = [float(Decimal("0.25") + i * Decimal("0.01")) for i in range(116)]


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
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
          f"best of {args.repeat} (the full trace: 1 run)")
    print(f"| run | seconds | per variant (µs) | × one table |")
    print(f"|---|---:|---:|---:|")
    print(f"| one `mobcost table v1` (baseline) | {table:.4f} | – | 1 |")
    print(f"| sweep(), totals per α (mobcost sweep/fit) | {fast:.3f} | {fast / variants * 1e6:.0f} | {fast / table:.0f} |")
    print(f"| trace() per variant, rows kept | {full:.3f} | {full / variants * 1e6:.0f} | {full / table:.0f} |")

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
