"""How wrong the latency model is on figures it never saw: leave one family out, per device.

For each shipped device and each network family on it (MobileNetV1, MobileNetV2, MobileNetV3, MnasNet), fit the
device without that family's figures, predict them, and report the mean absolute percentage error (MAPE) and the
share within ±10% (nn-Meter's measure), for the layer model and for the baseline "latency ∝ Mult-Adds" fitted the
same way (least squares on relative errors). Needs numpy and scipy (`pip install 'mobcost[fit]'`).

    python bench/latency_accuracy.py [--format markdown|csv|json|rich]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's mobcost, installed or not

from mobcost.latency.device import devices  # noqa: E402
from mobcost.latency.fit import FEW, held_out, scores  # noqa: E402
from mobcost.latency.model import TERMS  # noqa: E402
from mobcost.table import Column, Report  # noqa: E402

from _report import show  # noqa: E402  (bench/, the script's folder)


def accuracy_report() -> Report:
    rows = []
    for name, device in devices().items():
        predictions = held_out(device)
        groups = [(family, preds) for family, preds in predictions.items()]
        groups.append(("all held out", [p for preds in predictions.values() for p in preds]))
        for family, preds in groups:
            model = scores([(p.model_ms, p.figure.ms) for p in preds])
            base = scores([(p.baseline_ms, p.figure.ms) for p in preds])
            rows.append({"device": name, "family": family, "points": len(preds),
                         "train": len(device.figures) - len(preds) if family != "all held out" else None,
                         "model_mape": model[0], "model_10": model[1], "base_mape": base[0], "base_10": base[1],
                         "better": "yes" if model[0] < base[0] else "no"})
    pct = "{:.1f}".format
    columns = (Column("device", "Device"), Column("family", "Held out"), Column("points", "Points", str, True),
               Column("train", "Fitted to", lambda v: "" if v is None else str(v), True),
               Column("model_mape", "Model MAPE %", pct, True), Column("model_10", "Model ±10% share %", pct, True),
               Column("base_mape", "∝ Mult-Adds MAPE %", pct, True),
               Column("base_10", "∝ Mult-Adds ±10% share %", pct, True), Column("better", "Model better"))
    notes = ("Each family's published latencies predicted by a fit to the device's other families only; "
             "MAPE = mean |estimate / published − 1|. Baseline: latency = k × Mult-Adds, k fitted the same way. "
             f"Where fewer than {FEW} figures are left to fit (the model's {len(TERMS)} coefficients twice), the "
             "family is predicted as `mobcost devices fit` predicts a user's device: on the shape of a shipped device "
             "never fitted to that family, scaled, with its own per-operator overhead.",)
    return Report("Latency model, leave one family out", columns, rows, rows, notes=notes)


def main(argv: list[str]) -> None:
    show(accuracy_report(), argv)


if __name__ == "__main__":
    main(sys.argv[1:])
