"""Latency tables: the estimate beside the published figures, per operator, the devices, and a latency column for
the other commands' tables. Builds mobcost.table.Report values; never prints."""

from __future__ import annotations

from dataclasses import replace

from mobcost.latency.device import FAMILIES, Device, estimate_ms
from mobcost.latency.estimate import LatencyEstimate, describe
from mobcost.table import Column, Report, optional
from mobcost.trace import size_text

_ms = optional("{:,.1f}".format)
_us = "{:,.1f}".format
_pct = optional("{:+.1f}%".format)
MS_PRECISION = "CSV gives milliseconds to 0.001 ms (1 µs): an estimate has no more digits than that (JSON keeps them all)."


def in_ms(value: float | None) -> float | None:
    """A latency in milliseconds as CSV gives it: to 0.001 ms (see MS_PRECISION)."""
    return None if value is None else round(value, 3)


def _in_pct(value: float) -> float:
    """A difference in percent as CSV gives it: to 0.01%, as the estimates it compares are precise (MS_PRECISION)."""
    return round(value, 2)


def _in_us(value: float) -> float:
    """Microseconds as CSV gives them: to 0.001 µs."""
    return round(value, 3)


def latency_table(est: LatencyEstimate, measured=None) -> Report:
    """The estimate with its interval, and each published figure for the same network on the device; with
    `measured` (a calibrate.Timing), the median measured on this machine beside it."""
    interval = est.interval
    base = {"model": est.analysis.label, "estimate": est.ms, "low": interval[0] if interval else None,
            "high": interval[1] if interval else None}
    rows = [{**base, "published": f.ms, "source": f"{f.source}: {f.label}", "off": 100 * (est.ms / f.ms - 1)}
            for f in est.published] or [{**base, "published": None, "source": "none on record", "off": None}]
    columns = (Column("estimate", "Estimate (ms)", _ms, True, csv=in_ms), Column("interval", "Interval (ms)"),
               Column("low", "Low (ms)", machine=True, csv=in_ms), Column("high", "High (ms)", machine=True, csv=in_ms),
               Column("published", "Published (ms)", _ms, True), Column("off", "Off by", _pct, True, csv=_in_pct),
               Column("source", "Published in", wrap=True))
    for row in rows:
        row["interval"] = f"{row['low']:,.1f}–{row['high']:,.1f}" if interval else "–"
    data = {"model": est.analysis.network.name, "label": est.analysis.label, "alpha": est.analysis.alpha,
            "resolution": est.analysis.resolution, "device": est.device.name, "estimate_ms": est.ms,
            "interval_ms": list(interval) if interval else None,
            "published": [{"ms": f.ms, "source": f.source, "label": f.label} for f in est.published]}
    notes = [describe(est.device)]
    if measured is not None:
        ms = 1000 * measured.median
        inside = interval is not None and interval[0] <= ms <= interval[1]
        for row in rows:
            row["measured"], row["m_off"] = ms, 100 * (est.ms / ms - 1)
        columns = (*columns[:4], Column("measured", "Measured here (ms)", _ms, True, csv=in_ms),
                   Column("m_off", "Estimate off by", _pct, True, csv=_in_pct), *columns[4:])
        data["measured_ms"] = ms
        data["measured"] = {"runs": len(measured.samples), "round_medians_ms": [1000 * r for r in measured.rounds],
                            "noise": measured.noise, "within_interval": inside}
        notes.append(f"Measured: the median of {len(measured.samples)} runs on this machine (onnxruntime, one "
                     f"thread, the inference thread's CPU time, in two rounds {100 * measured.noise:.1f}% apart), "
                     f"{'inside' if inside else 'OUTSIDE'} the interval. It measures this machine, not "
                     f"{est.device.name}, unless the device was calibrated here (`mobcost devices calibrate`).")
    if FAMILIES.get(est.analysis.network.name) not in {f.family for f in est.device.figures}:
        notes.append(f"No network of this family is among {est.device.name}'s figures: the estimate extrapolates "
                     f"from {', '.join(sorted({f.family for f in est.device.figures}))}, and its error may exceed "
                     f"the stated one.")
    return Report(f"Latency estimate on {est.device.name}: {est.analysis.label}", columns, rows, data,
                  notes=tuple(notes))


def latency_layers_table(est: LatencyEstimate) -> Report:
    """Every operator: its class, whether compute or memory binds, and its share of the estimate."""
    total = sum(t.seconds for t in est.times)
    rows = [{"name": t.op.name, "class": t.op.cls, "bound": t.bound, "compute": 1e6 * t.compute,
             "memory": 1e6 * t.memory, "time": 1e6 * t.seconds, "share": 100 * t.seconds / total if total else 0.0}
            for t in est.times]
    columns = (Column("name", "Operator"), Column("class", "Class"), Column("bound", "Bound"),
               Column("compute", "Compute (µs)", _us, True, csv=_in_us),
               Column("memory", "Memory (µs)", _us, True, csv=_in_us), Column("time", "Time (µs)", _us, True, csv=_in_us),
               Column("share", "Share (%)", "{:.1f}".format, True, csv=_in_pct))
    total_row = {"name": "Total", "time": 1e6 * total, "share": 100.0}
    c = est.device.coefficients()
    notes = (f"Time = max(compute, memory) + {1e6 * c.per_op:.1f} µs per operator. " + describe(est.device),)
    data = {"model": est.analysis.network.name, "device": est.device.name, "estimate_ms": est.ms,
            "operators": [{k: row[k] for k in ("name", "class", "bound", "compute", "memory", "time")}
                          for row in rows]}
    return Report(f"Latency estimate per operator on {est.device.name}: {est.analysis.label}", columns, rows, data,
                  total=total_row, notes=notes)


def devices_table(devices: dict[str, Device]) -> Report:
    columns = (Column("name", "Device"), Column("title", "Phone and runtime", wrap=True),
               Column("figures", "Figures", str, True),
               Column("mape", "Held out (%)", optional("{:.1f}".format), True),
               Column("within", "±10% (%)", optional("{:.0f}".format), True),
               Column("error", "Stated (±%)", optional("{:.1f}".format), True))
    rows = []
    for d in devices.values():
        h = d.fitted.held_out if d.fitted else None
        rows.append({"name": d.name, "title": d.title, "figures": len(d.figures), "mape": h.mape if h else None,
                     "within": h.within_10 if h else None, "error": 100 * h.max_error if h else None,
                     "sources": "; ".join(f"{s} ({n})" for s, n in d.sources().items())})
    notes = ("Held out: the mean error on each network family's figures predicted by a fit without that family "
             "(bench/latency_accuracy.py); ±10%: the share of them within ±10%. Stated: the largest such error; "
             "every latency interval uses it. "
             "`mobcost devices NAME` lists a device's figures.",
             *(f"{row['name']}: {row['sources']}." for row in rows))
    return Report("Latency devices (estimates, fitted to published figures)", columns, rows, rows, notes=notes)


def device_table(device: Device) -> Report:
    """A device's figures: each published latency, its source, and the fitted estimate for it."""
    rows = []
    for f in device.figures:
        est = estimate_ms(f, device)
        rows.append({"label": f.label, "model": f"{f.model}@{f.alpha:g}_{size_text(f.resolution, 'x')}", "published": f.ms,
                     "estimate": est, "off": 100 * (est / f.ms - 1), "source": f.source})
    columns = (Column("label", "Published as"), Column("model", "mobcost model", hide=1),
               Column("published", "Published (ms)", _ms, True),
               Column("estimate", "Estimate (ms)", _ms, True, csv=in_ms), Column("off", "Off by", _pct, True, csv=_in_pct),
               Column("source", "Source", wrap=True))
    data = {"device": device.name, "title": device.title, "phone": device.phone, "runtime": device.runtime,
            "fitted": device.fitted.model_dump() if device.fitted else None, "figures": rows}
    return Report(f"{device.name}: {device.title}, the figures it was fitted to", columns, rows, data,
                  notes=(describe(device),))


def with_latency(report: Report, values: list[float | None], device: Device, data=None) -> Report:
    """The report with a latency column (one value per row, milliseconds), its note, and `data` as its JSON."""
    column = Column("latency_ms", f"Latency (ms, est. {device.name})", _ms, True)
    rows = [{**row, "latency_ms": in_ms(v)} for row, v in zip(report.rows, values)]
    total = report.total
    if total is not None and all(v is not None for v in values):
        total = {**total, "latency_ms": in_ms(sum(values))}
    return replace(report, columns=(*report.columns, column), rows=rows, total=total,
                   data=report.data if data is None else data,
                   notes=(*report.notes, f"{describe(device)} {MS_PRECISION}"))


def _as_paper(scaled):
    """The network traced with the paper's Mult-Adds, which the latency model's work is (whatever a table shows)."""
    from mobcost.trace import Analysis, trace

    if isinstance(scaled, Analysis) and scaled.convention == "paper":
        return scaled
    return trace(scaled.network, scaled.alpha, scaled.resolution)


def layers_with_latency(report: Report, analysis, device: Device, by_layer: bool) -> Report:
    """`mobcost table --device`: each layer's (or block's) estimated milliseconds."""
    from mobcost.latency.estimate import estimate
    from mobcost.views.network import blocks

    per_row = estimate(_as_paper(analysis), device).by_row()
    groups = [[row] for row in analysis.rows] if by_layer else blocks(analysis.rows)
    values = [sum(per_row.get(row.name, 0.0) for row in group) for group in groups]
    data = {**report.data, "device": device.name,
            "latency_ms": {"estimate": sum(values), "per_row": per_row}} if isinstance(report.data, dict) else None
    return with_latency(report, values, device, data)


def totals_with_latency(report: Report, scaled: list, device: Device) -> Report:
    """`mobcost sweep|compare --device`: each model's estimated milliseconds."""
    from mobcost.latency.estimate import estimate

    values = [estimate(_as_paper(s), device).ms for s in scaled]
    data = [{**item, "latency_ms": v, "device": device.name} for item, v in zip(report.data, values)]
    return with_latency(replace(report, total=None), values, device, data)



def user_fit_table(figures, result, out: str) -> Report:
    """`devices fit`: each measurement, the fit to all of them, and its prediction from the others."""
    rows = [{"label": f.label, "measured": f.ms, "fitted": fitted, "loo": loo, "off": 100 * (loo / f.ms - 1)}
            for f, fitted, loo in zip(figures, result.fitted_ms, result.loo_ms)]
    columns = (Column("label", "Measurement"), Column("measured", "Measured (ms)", _ms, True),
               Column("fitted", "Fit (ms)", _ms, True, csv=in_ms),
               Column("loo", "From the others (ms)", _ms, True, csv=in_ms),
               Column("off", "Off by", _pct, True, csv=_in_pct))
    errors = [100 * abs(f.ms / loo - 1) for f, loo in zip(figures, result.loo_ms)]  # as the interval reads
    c, n = result.coefficients, len(figures)
    data = {"device_file": out, "base": result.base.name, "us_per_op": 1e6 * c.per_op,
            "loo_mape": sum(abs(r["off"]) for r in rows) / n,
            "stated_error": min(max(errors) * (n + 1) / (n - 1), 99.0), "measurements": rows}
    notes = (f"Fitted to the shape of {result.base.name}: its rates scaled by one factor, its per-operator overhead "
             f"refitted ({1e6 * c.per_op:.1f} µs), pulled toward the base's with the weight of one measurement. "
             f"Leave one out (the last two columns): {data['loo_mape']:.1f}% mean error; stated error "
             f"±{data['stated_error']:.1f}% ({max(errors):.1f}%, the largest as measured / estimated − 1, × (n + 1) / "
             f"(n − 1) for {n} measurements), which {out} "
             f"states for every estimate.",)
    return Report(f"Device fitted to {len(figures)} measurements: {out}", columns, rows, data, notes=notes)


def calibration_table(cal, out: str) -> Report:
    """`devices calibrate`: the networks never timed by the suite, estimated and measured."""
    rows = [{"model": name, "measured": 1000 * t.median, "estimate": 1000 * est, "off": 100 * (est / t.median - 1),
             "noise": 100 * t.noise} for name, _, t, est in cal.held_out]
    columns = (Column("model", "Network (never timed by the fit)"),
               Column("measured", "Measured (ms)", _ms, True, csv=in_ms),
               Column("estimate", "Estimate (ms)", _ms, True, csv=in_ms), Column("off", "Off by", _pct, True, csv=_in_pct),
               Column("noise", "Noise (%)", "{:.1f}".format, True, csv=_in_pct))
    errors = [abs(r["off"]) for r in rows]
    worst = max(abs(t.median / est - 1) for _, _, t, est in cal.held_out)
    data = {"device_file": out, "seconds": cal.seconds, "timed": len(cal.timed), "noise": cal.noise,
            "held_out_mape": sum(errors) / len(errors), "stated_error": 100 * min(worst + cal.noise, 0.99),
            "held_out": rows}
    notes = (f"Timed {len(cal.timed)} networks and single layers in {cal.seconds:.0f} s (medians of warm runs, the "
             f"inference thread's CPU time, one thread). Held out: {data['held_out_mape']:.1f}% mean error; stated "
             f"error ±{data['stated_error']:.1f}%: the largest held-out error widened by the noise measured between "
             f"two rounds (±{100 * cal.noise:.1f}%).",)
    return Report(f"This machine as a device: {out}", columns, rows, data, notes=notes)
