"""What the work limits of trace.plan_work cost: each limit's worst case, timed in-process (the work only, not the
start-up): MAX_VARIANTS and MAX_SWEPT_ROWS about a second each; MAX_TRACED_ROWS what fit's default grid on
MobileNetV2 costs traced in full, the slowest work a command accepts. Run on an idle machine; on a loaded one compare with `table v1`'s trace.

    python bench/work_plan.py

MAX_TRACED_ROWS: fit --device's and --max-memory's default grid (696 variants) on MobileNetV2 (21 rows) traced in
full, with the latency estimate or the peak memory of each; MAX_SWEPT_ROWS: the sweep that replays each α's trace
at every resolution, on a network of 86 plain rows; MAX_VARIANTS: that many variants of MobileNet v1 swept and
rendered as CSV (a network of one row: the rows are MAX_SWEPT_ROWS's).
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mobcost.language import expanded_rows, load_model, parse_spec  # noqa: E402
from mobcost.latency.device import device  # noqa: E402
from mobcost.latency.estimate import estimate  # noqa: E402
from mobcost.limits import MAX_SWEPT_ROWS, MAX_TRACED_ROWS, MAX_VARIANTS  # noqa: E402
from mobcost.memory import peak_memory  # noqa: E402
from mobcost.sizing import alphas_of, resolutions_of  # noqa: E402
from mobcost.table import Format, render  # noqa: E402
from mobcost.trace import sweep, trace  # noqa: E402
from mobcost.views.network import totals_table  # noqa: E402


def timed(work) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    v1, _ = load_model("v1")
    v2, _ = load_model("v2")
    alphas, resolutions = alphas_of("0.25:1.4"), resolutions_of("96:320")
    grid = [(a, r) for a in alphas for r in resolutions]
    pixel1 = device("pixel1")
    base = timed(lambda: trace(v1))
    print(f"baseline: one trace of MobileNet v1 ({expanded_rows(v1.layers)} rows): {base * 1000:.1f} ms")

    rows = len(grid) * expanded_rows(v2.layers)
    def traced(measure):  # as fit traces them: the layers α built shared by one α's resolutions, afresh each run
        memos: dict = {}
        return [measure(trace(v2, a, r, memo=memos.setdefault(a, {}))) for a, r in grid]

    full = timed(lambda: traced(lambda analysis: estimate(analysis, pixel1).ms))
    memory = timed(lambda: traced(lambda analysis: peak_memory(analysis, "fp16")))
    print(f"MAX_TRACED_ROWS {MAX_TRACED_ROWS:,}: {len(grid)} variants × {expanded_rows(v2.layers)} rows = {rows:,} "
          f"traced in full: latency {full:.2f} s, peak memory {memory:.2f} s ({full / rows * MAX_TRACED_ROWS:.2f} s "
          "at the limit)")

    plain = parse_spec("name: p\ntitle: P\ninput: {resolution: 224}\nlayers:\n  - repeat: 86\n"
                       "    layers: [{kind: pw, out: 32}]\n")
    rows = len(grid) * expanded_rows(plain.layers)
    swept = timed(lambda: list(sweep(plain, alphas, resolutions)))
    print(f"MAX_SWEPT_ROWS {MAX_SWEPT_ROWS:,}: {len(grid)} variants × {expanded_rows(plain.layers)} rows = {rows:,} "
          f"swept: {swept:.2f} s ({swept / rows * MAX_SWEPT_ROWS:.2f} s at the limit)")

    many = alphas_of("0.25:1.25:0.0078125")[:128], resolutions_of("96:344:8")[:32]  # 4,096
    count = len(many[0]) * len(many[1])

    tiny = parse_spec("name: t\ntitle: T\ninput: {resolution: 224}\nlayers: [{kind: conv, out: 32, stride: 2}]\n")

    def table() -> None:
        totals = list(sweep(tiny, *many))
        render(totals_table("v1", totals, [None] * len(totals), "weights", False), Format.csv)

    rendered = timed(table)
    print(f"MAX_VARIANTS {MAX_VARIANTS:,}: {count:,} variants of a one-layer network swept and rendered as CSV: {rendered:.2f} s "
          f"({rendered / count * MAX_VARIANTS:.2f} s at the limit)")


if __name__ == "__main__":
    main()
