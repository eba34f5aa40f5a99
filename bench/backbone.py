"""Time reading every head config with its backbone included, paired in the same run with its baseline: reading
the head without the include and the shipped backbone on its own (what the include must not cost much more than).

    python bench/backbone.py [runs]
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's mobcost, installed or not

from mobcost.language import builtin_models, load_spec, parse_spec  # noqa: E402
from mobcost.language.yaml import read_spec_file  # noqa: E402


def seconds(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(runs: int = 20) -> None:
    heads = sorted({path for path in builtin_models().values()
                    if parse_spec(read_spec_file(path), includes=False).backbone})
    print(f"{'config':34} {'included (ms)':>14} {'head + backbone apart (ms)':>27}")
    for path in heads:
        head = parse_spec(read_spec_file(path), includes=False)
        backbone = builtin_models()[head.backbone.model.partition(":")[0]]
        included = seconds(lambda path=path: load_spec(path), runs)
        apart = seconds(lambda path=path, backbone=backbone: (parse_spec(read_spec_file(path), includes=False),
                                                              load_spec(backbone)), runs)
        print(f"{path.stem:34} {included * 1000:14.1f} {apart * 1000:27.1f}")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:2]))
