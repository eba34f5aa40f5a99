"""Every shipped published latency as a figure of `mobcost check`: the estimate must come within the device's
stated error (its largest held-out error), which is the model's own claim about itself, not a tolerance tuned here."""

from __future__ import annotations

from mobcost.check import CheckResult
from mobcost.latency.device import devices, estimate_ms


def check_latency(network: str) -> list[CheckResult]:
    """The published latencies of a network (by its config name) on every device, against their estimates."""
    results = []
    for device in devices().values():
        held_out = device.fitted.held_out if device.fitted else None
        if held_out is None:
            continue
        for f in device.figures:
            if f.network != network:
                continue
            est = estimate_ms(f, device)
            error = f.ms / est - 1  # as the interval reads: published = estimate × (1 ± stated error)
            within = abs(error) <= held_out.max_error
            if within and f.note:
                status, note = "FAIL", f"recorded as an outlier, but the estimate is within the stated error: {f.note}"
            elif within:
                status, note = "ok", ""
            elif f.note:
                status, note = "erratum", f.note
            else:
                status, note = "FAIL", (f"the published figure is {100 * error:+.1f}% from the estimate, beyond {device.name}'s stated "
                                        f"error of ±{100 * held_out.max_error:.1f}%")
            results.append(CheckResult(f"{f.label} on {device.name}", "Latency (ms), estimated", f.source,
                                       f"{f.ms:g}", f"{est:.1f} (±{100 * held_out.max_error:.1f}%)", status, note))
    return results
