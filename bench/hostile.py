"""Time and peak memory of every hostile input (tests/hostile/, generated giants, and draws of every class of
tests/hostile_cases.py), each in a fresh process, paired with `mobcost table v1` as the baseline in the same run.
Each must end with its expected exit code within 2 s and 200 MB.

    python bench/hostile.py [runs] [draws per class] [class ...]      e.g. 1 20 'ONNX graphs' 'number options' 
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HOSTILE = Path(__file__).resolve().parent.parent / "tests" / "hostile"
sys.path[:0] = [str(HOSTILE.parent.parent), str(HOSTILE.parent)]  # the checkout first, as `python -m mobcost` sees it
from hostile_cases import CLASSES  # noqa: E402


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
    with tempfile.NamedTemporaryFile("r") as peak:
        # through /usr/bin/time, a small process: Linux counts in a child's peak the memory of the process it was
        # forked from, and this one holds every generated input (ONNX floods of 300,000 nodes) by now
        timed = ["/usr/bin/time", "-f", "%M", "-o", peak.name] if os.path.exists("/usr/bin/time") else []
        child = subprocess.Popen([*timed, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        kilobytes = int(peak.read().split()[-1]) if timed else usage.ru_maxrss
    return seconds, kilobytes // 1024, os.waitstatus_to_exitcode(status)


def drawn(folder: Path, draws: int, classes=None) -> dict[str, list[tuple[list[str], tuple[int, ...]]]]:
    """`draws` inputs of each generated class, as (argv, allowed exit codes) to run, each input (and destination)
    prepared in a folder of its own."""
    from hypothesis.errors import NonInteractiveExampleWarning

    cases: dict[str, list] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        for name, strategy in CLASSES.items():
            if classes and name not in classes:
                continue
            for i in range(draws):
                case = strategy.example()
                where = folder / f"{name.replace(' ', '-')}-{i}"
                where.mkdir()
                cases.setdefault(name, []).append((case.prepare(where), case.allowed()))
    return cases


def main(runs: int = 3, draws: int = 20, classes=None) -> None:
    mobcost = [sys.executable, "-m", "mobcost"]
    with tempfile.TemporaryDirectory() as tmp:
        inputs = {path.stem: path for path in sorted(HOSTILE.glob("*.yaml"))} | generated(Path(tmp))
        cases = {"baseline: table v1": "v1"} | {name: str(path) for name, path in inputs.items()}
        samples: dict[str, list] = {name: [] for name in cases}
        for _ in range(runs):  # interleaved, so that load on the machine hits every case alike
            for name, target in cases.items():
                samples[name].append(run([*mobcost, "table", target]))
        base = statistics.median(s[0] for s in samples["baseline: table v1"])
        for name, runs_ in samples.items():
            seconds = statistics.median(s[0] for s in runs_)
            print(f"{name:34} exit {runs_[0][2]}  median {seconds * 1000:6.0f} ms  ({(seconds - base) * 1000:+5.0f} ms "
                  f"vs baseline)  peak {max(s[1] for s in runs_):4d} MB")

        print(f"\ngenerated classes, {draws} draws each, one run each (baseline median {base * 1000:.0f} ms):")
        worst_time = worst_memory = (0.0, 0, "")
        for name, draws_ in drawn(Path(tmp), draws, classes).items():
            results = [(run([*mobcost, *argv]), argv, expected) for argv, expected in draws_]
            wrong = [argv for (_, _, code), argv, allowed in results if code not in allowed]
            slow = max(results, key=lambda r: r[0][0])
            big = max(results, key=lambda r: r[0][1])
            worst_time = max(worst_time, (slow[0][0], slow[0][1], f"{name}: {' '.join(slow[1])[:100]}"))
            worst_memory = max(worst_memory, (big[0][1], big[0][0], f"{name}: {' '.join(big[1])[:100]}"),
                               key=lambda w: w[0])
            print(f"{name:20} {len(results):3d} inputs  slowest {slow[0][0] * 1000:6.0f} ms  largest {big[0][1]:4d} MB"
                  f"  unexpected exit codes: {len(wrong)}" + (f" (first: {' '.join(wrong[0])[:120]})" if wrong else ""))
        print(f"slowest input: {worst_time[0] * 1000:.0f} ms, {worst_time[1]} MB ({worst_time[2]})")
        print(f"largest input: {worst_memory[0]} MB, {worst_memory[1] * 1000:.0f} ms ({worst_memory[2]})")


if __name__ == "__main__":
    numbers = [int(arg) for arg in sys.argv[1:] if arg.isdigit()]
    main(*numbers, classes=[arg for arg in sys.argv[1:] if not arg.isdigit()] or None)
