"""`mobcost devices fit` held to a campaign it never saw: every 4 of its figures in turn (or a sample of them) as a
user's CSV, the campaign's other figures predicted. Reports the mean error on the others and how often it stays
within the error the fit states (the largest leave-one-out error × 5/3 for 4 figures). Needs numpy and scipy.

    python bench/devices_fit_accuracy.py [CAMPAIGN.csv] [--format markdown|csv|json|rich]
"""

import itertools
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's mobcost, installed or not

from mobcost.latency.device import devices, figure_ops  # noqa: E402
from mobcost.latency.fit import best_base, fit_user  # noqa: E402
from mobcost.latency.measurements import read_measurements  # noqa: E402
from mobcost.latency.model import seconds  # noqa: E402
from mobcost.table import Column, Report  # noqa: E402

from _report import show  # noqa: E402  (bench/, the script's folder)

CAMPAIGN = Path(__file__).resolve().parent / "campaigns" / "tflite-hosted-pixel3-float.csv"
SUBSETS = 200


def accuracy_report(path: Path) -> Report:
    figures = read_measurements(path)
    subsets = list(itertools.combinations(range(len(figures)), 4))
    subsets = random.Random(0).sample(subsets, min(SUBSETS, len(subsets)))
    shipped = [d for d in devices().values() if d.bytes_per_value == 4]
    rows = []
    for label, choose in [("best base (default)", None)] + [(f"--base {d.name}", d) for d in shipped]:
        means, met = [], 0
        for picks in subsets:
            train = [figures[i] for i in picks]
            test = [f for i, f in enumerate(figures) if i not in picks]
            result = fit_user(train, choose) if choose else best_base(train, shipped)
            stated = max(abs(f.ms / e - 1) for f, e in zip(train, result.loo_ms)) * 5 / 3
            errors = [abs(f.ms / (1000 * seconds(list(figure_ops(f, 4)), result.coefficients)) - 1) for f in test]
            means.append(sum(errors) / len(errors))
            met += means[-1] <= stated
        rows.append({"base": label, "subsets": len(subsets), "median": 100 * statistics.median(means),
                     "p90": 100 * sorted(means)[int(0.9 * len(means))], "worst": 100 * max(means),
                     "met": 100 * met / len(subsets)})
    pct = "{:.1f}".format
    columns = (Column("base", "Fit"), Column("subsets", "4-figure CSVs", str, True),
               Column("median", "Mean error, median (%)", pct, True), Column("p90", "90th pct (%)", pct, True),
               Column("worst", "Worst (%)", pct, True), Column("met", "Within stated (%)", pct, True))
    notes = (f"{path.name}: {len(figures)} figures; each CSV of 4 predicts the other {len(figures) - 4}.",)
    return Report("devices fit on a campaign it never saw", columns, rows, rows, notes=notes)


def main(argv: list[str]) -> None:
    paths = [Path(a) for a in argv if a.endswith(".csv")]
    show(accuracy_report(paths[0] if paths else CAMPAIGN), argv)


if __name__ == "__main__":
    main(sys.argv[1:])
