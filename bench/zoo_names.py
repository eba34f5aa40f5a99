"""Time naming the built-in models (`spec.builtin_models`, on every command's path) against parsing every config
whole, interleaved in one run: the zoo grows with each network, its heads stay a few lines.

    python bench/zoo_names.py [runs]
"""

import statistics
import sys
import time

import yaml

from mobcost.language import builtin_dir, builtin_models
from mobcost.language.yaml import Loader as _Loader


def whole_files() -> None:
    for path in sorted(builtin_dir().glob("*.yaml")):
        yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


def main(runs: int = 30) -> None:
    steps = {"parse every config whole (baseline)": whole_files,
             "builtin_models(), heads only": builtin_models.__wrapped__}
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(runs):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["parse every config whole (baseline)"])
    print(f"{len(list(builtin_dir().glob('*.yaml')))} configs")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:40} median {median * 1000:6.2f} ms  ({median / base:.2f} × the baseline)")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
