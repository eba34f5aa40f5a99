"""Start-up of mobcost's commands against two baselines, interleaved in one run, with each process's peak memory.

- the import floor: `import typer, rich.console, rich.table, pydantic, yaml`, what any app on these libraries pays;
- the same-libraries app (bench/minimal_app.py): a typer command that loads one YAML file with the C loader,
  validates one pydantic model and prints a 30-row rich table, the work of `mobcost table v1` without mobcost.

Each round runs every command once, in turn, so that a busy machine slows all of them alike. Printed: the median
wall-clock time and the median CPU time (user + system, of the child alone: steadier than wall-clock time when other
work shares the machine), their ratios to both baselines, and the largest resident set size (ru_maxrss) of each.

    python bench/startup.py [runs]              # from the source tree, as `python -m mobcost`
    VENV/bin/python bench/startup.py --installed [runs]

`--installed` measures as a user runs mobcost: the `mobcost` command of the interpreter's environment (a
non-editable `pip install .` into a fresh venv), run from another folder (a temporary one, holding the app and
its YAML file), so that nothing of the source tree is on the path.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALLED = "--installed" in sys.argv
if INSTALLED:  # the environment's own `mobcost` script, from a folder outside the source tree
    sys.argv.remove("--installed")
    CWD = Path(tempfile.mkdtemp(prefix="mobcost-startup-"))
    shutil.copy(ROOT / "bench" / "minimal_app.py", CWD)
    shutil.copy(ROOT / "configs" / "mobilenet_v1.yaml", CWD)
    MOBCOST = [str(Path(sys.executable).parent / "mobcost")]
    APP_ARGS = [str(CWD / "minimal_app.py"), str(CWD / "mobilenet_v1.yaml")]
else:
    CWD = ROOT
    MOBCOST = [sys.executable, "-m", "mobcost"]
    APP_ARGS = [str(ROOT / "bench" / "minimal_app.py"), str(ROOT / "configs" / "mobilenet_v1.yaml")]
FLOOR = "import floor"
APP = "same-libraries app"
COMMANDS = {
    FLOOR: [sys.executable, "-c", "import typer, rich.console, rich.table, pydantic, yaml"],
    APP: [sys.executable, *APP_ARGS],
    "mobcost table v1": [*MOBCOST, "table", "v1"],
    "mobcost table v2": [*MOBCOST, "table", "v2"],
    "mobcost table v1 --format json": [*MOBCOST, "table", "v1", "--format", "json"],
    "mobcost models": [*MOBCOST, "models"],
    "mobcost --help": [*MOBCOST, "--help"],
}


# Bytecode as an installed package has it: the warm-up run writes __pycache__ even where the environment says not to.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run(argv: list[str]) -> tuple[float, float, int]:
    """Wall-clock seconds, CPU seconds and peak resident memory in bytes of one run."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=CWD, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{' '.join(argv)} exited {child.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024  # Linux reports KiB


def main(runs: int = 20) -> None:
    for argv in COMMANDS.values():
        run(argv)  # warm the file cache and the bytecode
    wall: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    peaks: dict[str, int] = {name: 0 for name in COMMANDS}
    for _ in range(runs):
        for name, argv in COMMANDS.items():
            seconds, cpu_seconds, peak = run(argv)
            wall[name].append(seconds)
            cpu[name].append(cpu_seconds)
            peaks[name] = max(peaks[name], peak)
    wall_ms = {name: statistics.median(samples) * 1000 for name, samples in wall.items()}
    cpu_ms = {name: statistics.median(samples) * 1000 for name, samples in cpu.items()}
    print(f"{'installed, run from ' + str(CWD) if INSTALLED else 'source tree'}: "
          f"{runs} interleaved runs; medians; × the import floor and × the same-libraries app; MiB = 2²⁰ bytes")
    print(f"{'command':32} {'wall ms':>8} {'× floor':>8} {'× app':>6} {'CPU ms':>8} {'× floor':>8} {'× app':>6} "
          f"{'peak MiB':>9}")
    for name in COMMANDS:
        print(f"{name:32} {wall_ms[name]:8.1f} {wall_ms[name] / wall_ms[FLOOR]:8.2f} "
              f"{wall_ms[name] / wall_ms[APP]:6.2f} "
              f"{cpu_ms[name]:8.1f} {cpu_ms[name] / cpu_ms[FLOOR]:8.2f} {cpu_ms[name] / cpu_ms[APP]:6.2f} "
              f"{peaks[name] / 2**20:9.1f}")

if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
