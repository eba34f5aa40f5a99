"""Time and peak memory of every hostile input (tests/hostile/ plus generated giants), each in a fresh process,
paired with `mobcost table v1` as the baseline in the same run. Each must fail within a second of the baseline.

    python bench/hostile.py [runs]
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOSTILE = Path(__file__).resolve().parent.parent / "tests" / "hostile"


def generated(folder: Path) -> dict[str, Path]:
    """The inputs too big to commit."""
    huge = folder / "50-megabytes.yaml"
    with huge.open("wb") as f:
        f.truncate(50 * 2**20)
    deep = folder / "100000-brackets.yaml"
    deep.write_text("layers: " + "[" * 100_000 + "]" * 100_000 + "\n")
    wide = folder / "one-megabyte-list.yaml"
    wide.write_text("name: [" + "1, " * 330_000 + "1]\n")
    return {path.stem: path for path in (huge, deep, wide)}


def run(argv: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak resident memory in MB, exit code."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status)


def main(runs: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inputs = {path.stem: path for path in sorted(HOSTILE.glob("*.yaml"))} | generated(Path(tmp))
        cases = {"baseline: table v1": "v1"} | {name: str(path) for name, path in inputs.items()}
        samples: dict[str, list] = {name: [] for name in cases}
        for _ in range(runs):  # interleaved, so that load on the machine hits every case alike
            for name, target in cases.items():
                samples[name].append(run([sys.executable, "-m", "mobcost", "table", target]))
        base = statistics.median(s[0] for s in samples["baseline: table v1"])
        for name, runs_ in samples.items():
            seconds = statistics.median(s[0] for s in runs_)
            print(f"{name:34} exit {runs_[0][2]}  median {seconds * 1000:6.0f} ms  ({(seconds - base) * 1000:+5.0f} ms "
                  f"vs baseline)  peak {max(s[1] for s in runs_):4d} MB")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
