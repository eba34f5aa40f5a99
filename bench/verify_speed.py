"""`mobcost verify v2 --against torchvision`: where its time goes, and the command now against the previous way, in
one run.

- the import floor: `import torch, torchvision` (torchvision imports every model, its ops and torch._dynamo), which
  any check of a torchvision model pays;
- the previous way: the same comparison with PyTorch's default threads and every counter (what `verify --against`
  did before it ran the model on one thread and took --tools);
- the command now: all counters (the default), `--tools fvcore,thop`, and `--tools none`.

Each round runs every command once, in turn, so that a busy machine slows all of them alike. Printed: the median
wall-clock and CPU time (user + system of the child alone), then one in-process run split by stage (each import,
the build, FlopCounterMode with the hooks, each counter), with the previous way's stages beside.

    python bench/verify_speed.py [runs] [model]
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = sys.argv[2] if len(sys.argv) > 2 else "v2"

PREVIOUS = f"""
import torch, mobcost
from mobcost.verify import reference
from mobcost.verify.self import one_thread
import contextlib
reference.one_thread = contextlib.nullcontext  # PyTorch's default threads, as before
a = mobcost.analyze({MODEL!r})
built, how = reference.reference_model(a.network, a.alpha, "torchvision")
assert reference.compare(a, built, how, reference.TOOLS).totals
"""
MOBCOST = [sys.executable, "-m", "mobcost", "verify", MODEL, "--against", "torchvision"]
COMMANDS = {
    "import torch, torchvision": [sys.executable, "-c", "import torch, torchvision"],
    "previous way (default threads, every counter)": [sys.executable, "-c", PREVIOUS],
    f"mobcost verify {MODEL} --against torchvision": MOBCOST,
    "  --tools fvcore,thop": [*MOBCOST, "--tools", "fvcore,thop"],
    "  --tools none": [*MOBCOST, "--tools", "none"],
}

STAGES = f"""
import time, sys, importlib, warnings, logging, contextlib
clock = time.perf_counter
t = clock(); import torch; print("import torch", clock() - t)
t = clock(); import torchvision; print("import torchvision", clock() - t)
t = clock(); import mobcost; from mobcost.verify import reference; print("import mobcost.verify", clock() - t)
t = clock(); a = mobcost.analyze({MODEL!r}); model, how = reference.reference_model(a.network, a.alpha, "torchvision")
model, _ = reference.runnable(model, how); x = torch.zeros(1, 3, *reference.hw(a.resolution)); print("trace and build", clock() - t)
threads = reference.one_thread if sys.argv[1] == "now" else contextlib.nullcontext
warnings.simplefilter("ignore"); logging.disable(logging.WARNING)
with threads():
    t = clock(); reference.run_layers(model, x); print("hooks and FlopCounterMode", clock() - t)
    for tool in reference.TOOLS:
        t = clock(); importlib.import_module(reference.MODULE.get(tool, tool)); reference.COUNT[tool](model, x)
        print(tool, clock() - t)
"""


def run(argv: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    before = os.times()
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return time.perf_counter() - start, cpu


def stages(how: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", STAGES, how], cwd=ROOT, capture_output=True, text=True, check=True)
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in out.stdout.splitlines()}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    run(MOBCOST)  # warm-up: bytecode and the page cache
    times = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, argv in COMMANDS.items():
            times[name].append(run(argv))
    print(f"{runs} runs each, interleaved; median wall-clock and CPU seconds (load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for name, found in times.items():
        wall, cpu = statistics.median(t for t, _ in found), statistics.median(c for _, c in found)
        print(f"  {name:<48} {wall:6.2f} s wall  {cpu:6.2f} s CPU")
    now, before = stages("now"), stages("previous")
    print("one run by stage, wall-clock seconds:      now   previous way")
    for stage in now:
        print(f"  {stage:<38} {now[stage]:6.2f}   {before[stage]:6.2f}")


if __name__ == "__main__":
    main()
