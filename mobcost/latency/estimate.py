"""A network's latency on a device: the estimate, its interval from the held-out error, and the published figures
for the same network on the same device (standard library only)."""

from __future__ import annotations

from dataclasses import dataclass

from mobcost.latency.device import Device, Figure
from mobcost.latency.model import OpTime, op_times, ops
from mobcost.errors import MobcostError, shown
from mobcost.limits import MAX_LATENCY_MS, number_of
from mobcost.trace import Analysis


@dataclass(frozen=True)
class LatencyEstimate:
    analysis: Analysis
    device: Device
    times: tuple[OpTime, ...]
    published: tuple[Figure, ...]

    @property
    def ms(self) -> float:
        return 1000 * sum(t.seconds for t in self.times)

    @property
    def interval(self) -> tuple[float, float] | None:
        held_out = self.device.fitted.held_out
        return held_out.interval(self.ms) if held_out else None

    def by_row(self) -> dict[str, float]:
        """Milliseconds per mobcost row (an unfused activation counts with its convolution)."""
        result: dict[str, float] = {}
        for t in self.times:
            result[t.op.row] = result.get(t.op.row, 0.0) + 1000 * t.seconds
        return result


def estimate(analysis: Analysis, device: Device, variant: str | None = None) -> LatencyEstimate:
    """The latency of a traced network on a device; `variant` as the model was named, to find published figures."""
    times = op_times(ops(analysis, device.bytes_per_value), device.coefficients())
    published = device.published(analysis.network.name, variant, analysis.alpha, analysis.resolution)
    return LatencyEstimate(analysis, device, tuple(times), tuple(published))


def describe(device: Device) -> str:
    """What every latency shown rests on, in one paragraph."""
    fitted = device.fitted
    sources = ", ".join(f"{source} ({n})" for source, n in device.sources().items())
    text = (f"Latency is an ESTIMATE, not a measurement: device {device.name} ({device.title}), coefficients fitted "
            f"by non-negative least squares to {len(device.figures)} figures: {sources}; "
            f"{fitted.fit_mape:.1f}% mean error on them." + (f" Note: {device.note}." if device.note else ""))
    if fitted.held_out:
        h = fitted.held_out
        text += (f" Interval: ±{100 * h.max_error:.1f}%, the largest error on figures left out of the fit "
                 f"({h.method}: {h.mape:.1f}% mean error, {h.within_10:.0f}% of {h.points} figures within ±10%).")
    return text


def parse_ms(text: str) -> float:
    """A latency budget: `20ms`, `20`, `0.02s`, read by limits.number_of: positive, finite, at most a day."""
    value = text.strip().lower().replace(" ", "")
    scale = 1
    if value.endswith("ms"):
        value = value[:-2]
    elif value.endswith("s"):
        value, scale = value[:-1], 1000
    try:
        return float(number_of(value, "--max-latency", 0, MAX_LATENCY_MS / scale, above=True) * scale)
    except MobcostError:
        raise MobcostError(f"--max-latency takes a positive time up to a day, such as 20ms or 0.02s (found "
                           f"{shown(text)!r})") from None
