"""Devices as shipped data: one YAML per (phone, runtime) with the published latencies it was fitted to, their
sources, and the fitted coefficients with their held-out error (mobcost/latency/devices/*.yaml)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, PositiveInt, PrivateAttr

from mobcost.latency.model import CLASSES, Coefficients, Op, ops, seconds
from mobcost.language import MobcostError
from mobcost.errors import listed

FAMILIES = {"mobilenet_v1": "MobileNetV1", "mobilenet_v2": "MobileNetV2", "mobilenet_v3_large": "MobileNetV3",
            "mobilenet_v3_small": "MobileNetV3", "mnasnet_a1": "MnasNet", "mnasnet": "MnasNet"}
"""The network families held out one at a time (bench/latency_accuracy.py)."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Figure(_Strict):
    """One published end-to-end latency: the network as mobcost names it, and where the figure was printed."""

    model: str  # a built-in model, with its variant where the source measured one (mobilenet_v3_small:paper_head)
    alpha: PositiveFloat = 1.0
    resolution: PositiveInt = 224
    ms: PositiveFloat
    source: str
    label: str  # the row as the source names it
    note: str = ""  # why the model cannot reach this figure, where the record itself is the likelier culprit

    @property
    def network(self) -> str:
        return self.model.split(":")[0]

    @property
    def family(self) -> str:
        return FAMILIES.get(self.network, self.network)

    def matches(self, network: str, variant: str | None, alpha: float, resolution: int) -> bool:
        return (self.model == (f"{network}:{variant}" if variant else network)
                and abs(self.alpha - alpha) < 1e-9 and self.resolution == resolution)


class HeldOut(_Strict):
    """The model's error on figures it was not fitted to: each family predicted by a fit without it."""

    points: int
    mape: float  # mean absolute percentage error, %
    within_10: float  # share of points within ±10%, %
    max_error: NonNegativeFloat  # the largest |published / estimated − 1|: the model's stated error

    def interval(self, ms: float) -> tuple[float, float]:
        """Where the latency lies, if the estimate errs no more than it did on any held-out figure."""
        return ms * (1 - self.max_error), ms * (1 + self.max_error)


class Fitted(_Strict):
    """The coefficients (non-negative least squares on the figures) and their held-out error."""

    ns_per_mac: dict[str, NonNegativeFloat]  # per class; elementwise: ns per element
    ns_per_byte: NonNegativeFloat
    us_per_op: NonNegativeFloat
    fit_mape: float  # on the figures fitted to, %
    held_out: HeldOut | None = None

    def coefficients(self) -> Coefficients:
        return Coefficients({c: self.ns_per_mac[c] * 1e-9 for c in CLASSES}, self.ns_per_byte * 1e-9,
                            self.us_per_op * 1e-6)


class Device(_Strict):
    name: str
    title: str
    phone: str
    runtime: str
    bytes_per_value: PositiveInt = 4
    note: str = ""
    figures: list[Figure] = Field(min_length=1)
    fitted: Fitted | None = None

    _file: str = PrivateAttr("<device>")
    _positions: dict = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> str:
        """The device's YAML file, where its figures are written."""
        return self._file

    def line(self, figure: int) -> int | None:
        """The line of the `figure`th published latency in the device's file."""
        return self._positions.get(("figures", figure), (None,))[0]

    def coefficients(self) -> Coefficients:
        if self.fitted is None:
            raise MobcostError(f"device {self.name!r} has no fitted coefficients: run python -m mobcost.latency.fit")
        return self.fitted.coefficients()

    def sources(self) -> dict[str, int]:
        """Each source and how many of the figures it gives."""
        counts: dict[str, int] = {}
        for f in self.figures:
            counts[f.source] = counts.get(f.source, 0) + 1
        return counts

    def published(self, network: str, variant: str | None, alpha: float, resolution: int) -> list[Figure]:
        return [f for f in self.figures if f.matches(network, variant, alpha, resolution)]


def devices_dir() -> Path:
    return Path(__file__).with_name("devices")


@cache
def devices() -> dict[str, Device]:
    """The shipped devices by name: the package's own data (never a user's file), read by the spec's YAML reader."""
    from mobcost.language.yaml import compose

    found = {}
    for path in sorted(devices_dir().glob("*.yaml")):
        data, positions, repeated = compose(path.read_text(encoding="utf-8"), str(path))
        if repeated:
            raise MobcostError(f"{path}: repeats a key at {'.'.join(map(str, repeated[0]))}")
        device = Device.model_validate(data)
        device._file, device._positions = str(path), positions
        found[device.name] = device
    return found


def device(name: str) -> Device:
    known = devices()
    if name not in known:
        raise MobcostError(f"unknown device {name!r}: the devices are {listed(known)} (`mobcost devices` lists "
                           f"them with their data)")
    return known[name]


@cache
def figure_ops(figure: Figure, bytes_per_value: int) -> tuple[Op, ...]:
    """The operators of the network a figure measured."""
    from mobcost.language import load_model
    from mobcost.trace import resolution_of, trace

    network, _ = load_model(figure.model)
    return tuple(ops(trace(network, figure.alpha, resolution_of(network, figure.resolution)), bytes_per_value))


def estimate_ms(figure: Figure, dev: Device) -> float:
    return 1000 * seconds(list(figure_ops(figure, dev.bytes_per_value)), dev.coefficients())
