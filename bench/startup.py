"""Time `mobcost table v1` against the import floor `import typer, rich, pydantic, yaml`, interleaved in one run.

`import pydantic` is lazy: it loads the model machinery only when a model is defined. The second baseline also
defines one model and renders one rich table, so that the difference to mobcost is mobcost's own work.

    python bench/startup.py [runs]
"""

import statistics
import subprocess
import sys
import time

FLOOR = [sys.executable, "-c", "import typer, rich, pydantic, yaml"]
LIBRARIES_IN_USE = [sys.executable, "-c", "import typer, rich, pydantic, yaml\n"
                    "class M(pydantic.BaseModel): x: int\n"
                    "import rich.console, rich.table\n"
                    "t = rich.table.Table('a'); t.add_row('1'); rich.console.Console().print(t)"]
COMMANDS = {
    "libraries in use (baseline 2)": LIBRARIES_IN_USE,
    "mobcost table v1": [sys.executable, "-m", "mobcost", "table", "v1"],
    "mobcost table v1 --format json": [sys.executable, "-m", "mobcost", "table", "v1", "--format", "json"],
    "mobcost check v1": [sys.executable, "-m", "mobcost", "check", "v1"],
}


def seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(runs: int = 20) -> None:
    for argv in [FLOOR, *COMMANDS.values()]:
        seconds(argv)  # warm the file cache and the bytecode
    times: dict[str, list[float]] = {"import floor": [], **{name: [] for name in COMMANDS}}
    for _ in range(runs):
        times["import floor"].append(seconds(FLOOR))
        for name, argv in COMMANDS.items():
            times[name].append(seconds(argv))
    floor = statistics.median(times["import floor"])
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:32} median {median * 1000:7.1f} ms  ({median / floor:.2f} × the import floor)")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
