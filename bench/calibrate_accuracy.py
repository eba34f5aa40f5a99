"""This machine as a device, held to networks it never timed: `mobcost devices calibrate`, then each network of
CHECKED (neither in the calibration suite nor among its held-out networks) measured as `latency --measure` does,
beside its estimate and interval. Needs onnx, onnxruntime, numpy and scipy (`pip install 'mobcost[runtime]'`).

    python bench/calibrate_accuracy.py [--format markdown|csv|json|rich]

Measured times are the inference thread's CPU time on one thread (time.thread_time), medians of warm runs in two
rounds: a machine shared with other work delays a run without adding to its CPU time.
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's mobcost, installed or not

from mobcost.latency.calibrate import (HELD_OUT, SUITE, calibrate, calibrated_device_text, machine,  # noqa: E402
                                       measure, traced)
from mobcost.latency.device import read_device  # noqa: E402
from mobcost.latency.estimate import estimate  # noqa: E402
from mobcost.table import Column, Report  # noqa: E402

from _report import show  # noqa: E402  (bench/, the script's folder)

CHECKED = [("mobilenet_v1", None, None), ("mobilenet_v2", None, None), ("mobilenet_v3_large", None, None),
           ("mobilenet_v3_small", None, None), ("resnet18", None, None), ("resnet50", None, None),
           ("squeezenet", None, None), ("ssdlite_mobilenet_v2", None, None), ("ssdlite320_mobilenet_v3_large", None, None),
           ("deeplabv3_mobilenet_v2", None, 256)]
"""Shipped networks at their own α and resolution, which calibrate never times (SUITE holds other settings of
some of them; HELD_OUT none)."""


def accuracy_report() -> Report:
    start = time.perf_counter()
    cal = calibrate()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "thiscpu.yaml"
        path.write_text(calibrated_device_text(cal, "thiscpu", machine()), encoding="utf-8")
        device = read_device(path)
    timed = {(m, a, r) for m, a, r in SUITE}
    rows = []
    for model, alpha, res in CHECKED:
        analysis = traced(model, alpha, res)
        assert (model, analysis.alpha, analysis.resolution) not in timed and model not in HELD_OUT
        est, t = estimate(analysis, device), measure(analysis)
        low, high = est.interval
        ms = 1000 * t.median
        rows.append({"model": analysis.label, "estimate": est.ms, "interval": f"{low:.2f}–{high:.2f}", "measured": ms,
                     "off": 100 * (est.ms / ms - 1), "inside": "yes" if low <= ms <= high else "NO",
                     "noise": 100 * t.noise})
    errors = [abs(r["measured"] / r["estimate"] - 1) for r in rows]
    two = "{:.2f}".format
    columns = (Column("model", "Network (never timed)"), Column("estimate", "Estimate (ms)", two, True),
               Column("interval", "Interval (ms)"), Column("measured", "Measured (ms)", two, True),
               Column("off", "Off by (%)", "{:+.1f}".format, True), Column("inside", "Inside"),
               Column("noise", "Noise (%)", "{:.1f}".format, True))
    h = device.fitted.held_out
    notes = (f"{machine()}: calibrated in {cal.seconds:.0f} s ({len(cal.timed)} networks and layers timed), stated "
             f"error ±{100 * h.max_error:.1f}% ({h.method}). On the {len(rows)} networks above: mean error "
             f"{100 * sum(errors) / len(errors):.1f}%, {sum(r['inside'] == 'yes' for r in rows)} of {len(rows)} "
             f"inside the interval; whole run {time.perf_counter() - start:.0f} s.",)
    return Report("This machine as a device: networks it never timed", columns, rows, rows, notes=notes)


def main(argv: list[str]) -> None:
    show(accuracy_report(), argv)


if __name__ == "__main__":
    main(sys.argv[1:])
