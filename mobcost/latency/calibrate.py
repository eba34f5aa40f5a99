"""This machine as a device: time a small suite on the local CPU with onnxruntime, fit, check on networks never
timed (`mobcost devices calibrate`; `mobcost latency --measure`). Needs onnx, onnxruntime, numpy and scipy.

Every network is exported by mobcost.export (random weights), run on one thread with onnxruntime's full graph
optimizations (batch norm folded into its convolution, activations fused, as TFLite does): warm-up runs first,
then repeats, and its latency is the median. The suite is timed in two interleaved rounds; how far each network's
two medians differ is the machine's own noise, and the stated error is widened by twice its median over the suite:
on a shared machine the interval says so. Times are the inference thread's CPU time (time.thread_time): a machine
busy with other work delays a run without adding to it, where wall-clock time would measure the other work.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from mobcost.errors import MobcostError

SUITE = [("mobilenet_v1", a, r) for a, r in ((0.25, 128), (0.5, 160), (0.75, 192), (1.0, 160))] + \
        [("mobilenet_v2", a, r) for a, r in ((0.35, 128), (0.5, 160), (0.75, 192), (1.4, 224))] + \
        [("mobilenet_v3_large", a, r) for a, r in ((0.75, 160), (1.0, 192))] + \
        [("mobilenet_v3_small", a, r) for a, r in ((0.75, 160), (1.0, 192))] + \
        [("resnet18", 0.5, 160), ("squeezenet", 1.0, 160)]
"""The networks timed: the MobileNets at several widths and resolutions, and two plain convolutional networks, none
at a shipped network's own α and resolution (those are left for checking the fit)."""

LAYERS = [
    ("conv 3×3, 32→64 at 112²", "{kind: conv, kernel: 3, out: 64}", 112, 32),
    ("conv 3×3, 128→128 at 28²", "{kind: conv, kernel: 3, out: 128}", 28, 128),
    ("dw 3×3, 96 at 112²", "{kind: dw, kernel: 3}", 112, 96),
    ("dw 5×5, 240 at 28²", "{kind: dw, kernel: 5}", 28, 240),
    ("pw 64→256 at 56²", "{kind: pw, out: 256}", 56, 64),
    ("pw 320→1280 at 7²", "{kind: pw, out: 1280}", 7, 320),
    ("fc 1280→1000", "{kind: fc, out: 1000}", 1, 1280),
    ("hswish + add, 64 at 112²", "{kind: pw, out: 64, act: hswish}", 112, 64),
]
"""Single layers timed as one-layer networks: each operation class alone, at a large and a small size."""

HELD_OUT = ["mnasnet_a1", "efficientnet_b0", "mnasnet", "googlenet", "shufflenet_v2"]
"""Networks never timed by the suite: the fitted device predicts them, and its stated error is what it missed by."""


@dataclass(frozen=True)
class Timing:
    """One network's run times on this machine (seconds): every repeat, and the medians of the two rounds."""

    samples: tuple[float, ...]
    rounds: tuple[float, float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def noise(self) -> float:
        """How far the two rounds' medians differ, relative to their mean."""
        a, b = self.rounds
        return abs(a - b) / ((a + b) / 2)


def _onnxruntime():
    """onnxruntime, imported without its usage database: its import writes ~/.cache/Microsoft/DeveloperTools/
    .onnxruntime/onnxruntime.db (and a device id) unless ORT_DISABLE_TELEMETRY is set first; mobcost writes only
    where it is told to."""
    import os

    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    return onnxruntime


def session(model: bytes):
    """An onnxruntime session on one thread with every graph optimization, as a phone's TFLite runs one core."""
    try:
        ort = _onnxruntime()
    except ImportError:
        raise MobcostError("timing on this machine needs onnxruntime: pip install 'mobcost[runtime]'") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def run_times(sess, shape: tuple[int, ...], runs: int, warmup: int, budget_s: float) -> list[float]:
    """`warmup` runs unrecorded, then at least `runs` timed runs, more while the budget lasts (at most 4×)."""
    import numpy as np

    feed = {sess.get_inputs()[0].name: np.random.default_rng(0).standard_normal(shape, dtype=np.float32)}
    for _ in range(warmup):
        sess.run(None, feed)
    times, stop = [], time.perf_counter() + budget_s
    while len(times) < runs or (time.perf_counter() < stop and len(times) < 4 * runs):
        start = time.thread_time()
        sess.run(None, feed)
        times.append(time.thread_time() - start)
    return times


def time_analyses(analyses: list, rounds: int = 2, runs: int = 7, warmup: int = 3, budget_s: float = 0.5,
                  progress=None) -> list[Timing]:
    """Each traced network exported and timed, in `rounds` interleaved passes over the list."""
    from mobcost.export import export_onnx

    sessions = []
    for a in analyses:
        x = a.rows[0].input
        sessions.append((session(export_onnx(a)), (1, x.c, x.h, x.w)))
    samples: list[list[list[float]]] = [[] for _ in analyses]
    for r in range(rounds):
        for i, (sess, shape) in enumerate(sessions):
            samples[i].append(run_times(sess, shape, runs, warmup if r == 0 else 1, budget_s))
            if progress:
                progress(r * len(analyses) + i + 1, rounds * len(analyses))
    return [Timing(tuple(t for part in s for t in part),
                   (statistics.median(s[0]), statistics.median(s[-1]))) for s in samples]


def traced(model: str, alpha: float | None = None, resolution: int | None = None):
    """A built-in network traced at α and resolution (default: its own)."""
    from mobcost.language import load_model
    from mobcost.trace import resolution_of, trace

    network, ref = load_model(model)
    return trace(network, alpha or ref.alpha or 1.0, resolution_of(network, resolution or ref.resolution))


def layer_analyses() -> list:
    from mobcost.language import parse_spec
    from mobcost.trace import trace

    found = []
    for title, layer, res, channels in LAYERS:
        text = (f"name: layer\ntitle: {title}\ninput: {{resolution: {res}, channels: {channels}}}\nclasses: 1000\n"
                f"layers:\n  - {layer}\n")
        if "hswish" in layer:
            text += "  - {kind: add, from: [input, pw1]}\n"
        found.append(trace(parse_spec(text)))
    return found


@dataclass(frozen=True)
class Calibration:
    timed: list  # (label, analysis, Timing)
    held_out: list  # (name, analysis, Timing, estimate seconds)
    coefficients: object
    noise: float  # twice the median of the round-to-round noise over every network timed
    seconds: float


def calibrate(progress=None) -> Calibration:
    """Time the suite, fit a device to it, and predict the held-out networks (timed only to check the fit)."""
    from mobcost.latency.fit import fit
    from mobcost.latency.model import ops, seconds

    start = time.perf_counter()
    suite = [(f"{m} α={a:g} {r}", traced(m, a, r)) for m, a, r in SUITE]
    suite += [(title, a) for (title, *_), a in zip(LAYERS, layer_analyses())]
    held = [(name, traced(name)) for name in HELD_OUT]
    timings = time_analyses([a for _, a in suite] + [a for _, a in held], progress=progress)
    suite_t, held_t = timings[:len(suite)], timings[len(suite):]
    networks = [ops(a, 4) for _, a in suite]
    c = fit(networks, [t.median for t in suite_t])
    noise = 2 * statistics.median(t.noise for t in timings)
    return Calibration([(label, a, t) for (label, a), t in zip(suite, suite_t)],
                       [(name, a, t, seconds(ops(a, 4), c)) for (name, a), t in zip(held, held_t)],
                       c, noise, time.perf_counter() - start)


def calibrated_device_text(cal: Calibration, name: str, machine: str) -> str:
    from mobcost.latency.device import Figure
    from mobcost.latency.fit import device_text, held_out_of, scores
    from mobcost.latency.model import ops, seconds

    figures = [Figure(model=f"{SUITE[i][0]}", alpha=SUITE[i][1], resolution=SUITE[i][2], ms=1000 * t.median,
                      source="mobcost devices calibrate", label=label)
               for i, (label, _, t) in enumerate(cal.timed[:len(SUITE)])]
    fit_mape, _ = scores([(1000 * seconds(ops(a, 4), cal.coefficients), 1000 * t.median) for _, a, t in cal.timed])
    held = held_out_of([(1000 * est, 1000 * t.median) for _, _, t, est in cal.held_out],
                       f"networks never timed ({', '.join(HELD_OUT)}); widened by the timing noise measured, "
                       f"±{100 * cal.noise:.1f}%", widen=cal.noise)
    header = [f"Written by `mobcost devices calibrate` in {cal.seconds:.0f} s: this machine's CPU ({machine}), one "
              "thread, onnxruntime with every graph optimization,", f"timing {len(SUITE)} networks and "
              f"{len(LAYERS)} single layers (medians of warm runs in two interleaved rounds). Interval: the largest "
              "error on the", "networks never timed, widened by the noise measured between the rounds."]
    onnxruntime = _onnxruntime()
    fields = {"name": name, "title": f"{name}: this machine, onnxruntime CPU, 1 thread", "phone": machine,
              "runtime": f"onnxruntime {onnxruntime.__version__} CPU, 1 thread, float32", "bytes_per_value": 4,
              "note": f"also fitted to {len(LAYERS)} single layers timed the same way (conv, dw, pw, fc, element-wise), "
                      "which are not networks a figure can name"}
    return device_text(header, fields, figures, cal.coefficients, fit_mape, held)


def machine() -> str:
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return "".join(ch for ch in cpu if ch.isprintable())[:200] or "this machine"


def measure(analysis, runs: int = 15, warmup: int = 5, budget_s: float = 2.0) -> Timing:
    """One network timed on this machine as `devices calibrate` times it, for `latency --measure`."""
    return time_analyses([analysis], rounds=2, runs=runs, warmup=warmup, budget_s=budget_s)[0]
