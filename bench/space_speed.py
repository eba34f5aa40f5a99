"""How many members of a design space a second mobcost costs from its tables, and whether memory stays flat in the
number of members (issue 25).

For each shipped space: the tables' build time (each distinct block traced once by mobcost), then members drawn in
chunks of 65,536 and their costs gathered: Mult-Adds and parameters alone (the ≥ 10⁶ members a second the issue
asks of one core), then with peak memory, then with latency on Pixel 1. Times are CPU seconds of this process (one
core; other work on the machine does not inflate them), best of --repeat, with wall-clock seconds beside; a rate
counts drawing the members and costing them. Then the whole command's work, `mobcost space ofa_mobilenet_v3
--samples 1000000` (two passes: exact quantiles), and the tracemalloc peak of explore() for growing samples.

    python bench/space_speed.py [--repeat 3] [--members 1048576]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from mobcost.space.explore import explore, tables_for
from mobcost.space.run import CHUNK, costs, draw
from mobcost.space.spec import load_space, spaces
from sweep_speed import best_of  # bench/: the script's own folder is on the path


def rate(tables, members: int, metrics, repeat: int) -> tuple[float, float]:
    space = tables.space

    def run():
        for i in range(members // CHUNK):
            costs(tables, draw(space, CHUNK, np.random.default_rng([0, i])), metrics)

    cpu, wall = best_of(repeat, run)
    return members / cpu, members / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--members", type=int, default=1 << 20)
    args = parser.parse_args()
    print(f"{'space':<22} {'tables (s)':>10} {'Mult-Adds+params /s':>20} {'+memory /s':>12} {'+latency /s':>12}")
    for name in spaces():
        space = load_space(name)
        cpu = time.process_time()
        tables = tables_for(space, "pixel1")
        built = time.process_time() - cpu
        counts = rate(tables, args.members, ("macs", "params"), args.repeat)[0]
        memory = rate(tables, args.members, ("macs", "params", "memory"), args.repeat)[0]
        timed = rate(tables, args.members, ("macs", "params", "memory", "latency"), args.repeat)[0]
        print(f"{name:<22} {built:>10.2f} {counts:>20,.0f} {memory:>12,.0f} {timed:>12,.0f}")
    space = load_space("ofa_mobilenet_v3")
    tables = tables_for(space)
    cpu, wall = best_of(args.repeat, lambda: explore(space, samples=1_000_000, tables=tables))
    print(f"\nmobcost space ofa_mobilenet_v3 --samples 1000000 (tables built): {cpu:.2f} s CPU, {wall:.2f} s wall")
    print("\nexplore() peak traced memory (tracemalloc), by samples:")
    for samples in (65_536, 262_144, 1_048_576, 4_194_304):
        tracemalloc.start()
        explore(space, samples=samples, tables=tables)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"  {samples:>10,} members: {peak / 10**6:7.1f} MB")


if __name__ == "__main__":
    main()
