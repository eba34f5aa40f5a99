"""Devices as data: one YAML per (phone, runtime) with the latencies it was fitted to, their sources, and the fitted
coefficients with their held-out error. The shipped ones are mobcost/latency/devices/*.yaml; a user's own (written by
`mobcost devices fit` or `mobcost devices calibrate`) is named by its path, `--device ./phone.yaml`, and read as
untrusted input, as a spec is: the spec's safe YAML reader, every value bounded, every error located."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from typing import Annotated

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, PositiveInt, PrivateAttr,
                      ValidationError, model_validator)

from mobcost.latency.model import CLASSES, Coefficients, Op, ops, seconds
from mobcost.errors import MobcostError, listed, shown

FAMILIES = {"mobilenet_v1": "MobileNetV1", "mobilenet_v2": "MobileNetV2", "mobilenet_v3_large": "MobileNetV3",
            "mobilenet_v3_small": "MobileNetV3", "mnasnet_a1": "MnasNet", "mnasnet": "MnasNet",
            "lraspp_mobilenet_v3_large_seg": "LR-ASPP V3-Large", "lraspp_mobilenet_v3_small_seg": "LR-ASPP V3-Small"}
"""The network families held out one at a time (bench/latency_accuracy.py)."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _printable(text: str) -> str:
    if any(not ch.isprintable() for ch in text):
        raise ValueError("expected text without control characters (no terminal escape, no newline)")
    return text


Text = Annotated[str, Field(max_length=1000), AfterValidator(_printable)]
"""Free text shown in tables: bounded, and no control character (no terminal escape) where a user's file gives it."""
ModelName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,100}(:[A-Za-z0-9_-]{1,100})?$")]
"""A built-in model, with its variant: never a path (a device file cannot make mobcost read another file)."""
MAX_FIGURES = 1000
Side = Annotated[int, Field(gt=0, le=2**16)]


class Figure(_Strict):
    """One published end-to-end latency: the network as mobcost names it, and where the figure was printed."""

    model: ModelName  # a built-in model, with its variant where the source measured one (mobilenet_v3_small:paper_head)
    alpha: Annotated[float, Field(gt=0, le=16)] = 1.0
    resolution: Side | tuple[Side, Side] = 224  # pixels, or [height, width]
    ms: Annotated[float, Field(gt=0, le=1e9)]
    source: Text
    label: Text  # the row as the source names it
    note: Text = ""  # why the model cannot reach this figure, where the record itself is the likelier culprit

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
    """The model's error on figures it was not fitted to: each family predicted by a fit without it (shipped
    devices), each measurement by a fit to the others (`devices fit`), or networks never timed (`devices calibrate`,
    its interval widened by the timing noise it measured)."""

    points: PositiveInt
    mape: Annotated[float, Field(ge=0, le=1e6)]  # mean absolute percentage error, %
    within_10: Annotated[float, Field(ge=0, le=100)]  # share of points within ±10%, %
    max_error: Annotated[float, Field(ge=0, lt=1)]  # the largest |published / estimated − 1|: the stated error
    method: Text = "leave one family out"

    def interval(self, ms: float) -> tuple[float, float]:
        """Where the latency lies, if the estimate errs no more than it did on any held-out figure."""
        return ms * (1 - self.max_error), ms * (1 + self.max_error)


class Fitted(_Strict):
    """The coefficients (non-negative least squares on the figures) and their held-out error."""

    ns_per_mac: dict[str, Annotated[float, Field(ge=0, le=1e9)]]  # per class; elementwise: ns per element
    ns_per_byte: Annotated[float, Field(ge=0, le=1e9)]
    us_per_op: Annotated[float, Field(ge=0, le=1e9)]
    fit_mape: Annotated[float, Field(ge=0, le=1e6)]  # on the figures fitted to, %
    held_out: HeldOut | None = None

    @model_validator(mode="after")
    def _classes(self):
        if set(self.ns_per_mac) != set(CLASSES):
            raise ValueError(f"ns_per_mac gives one rate per operation class: expected the keys {', '.join(CLASSES)}")
        return self

    def coefficients(self) -> Coefficients:
        return Coefficients({c: self.ns_per_mac[c] * 1e-9 for c in CLASSES}, self.ns_per_byte * 1e-9,
                            self.us_per_op * 1e-6)


class Device(_Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    title: Text
    phone: Text
    runtime: Text
    bytes_per_value: Annotated[int, Field(ge=1, le=8)] = 4  # 1: int8 weights and activations
    note: Text = ""
    figures: list[Figure] = Field(min_length=1, max_length=MAX_FIGURES)
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
    """A shipped device by name, or a user's device file by its path (anything ending in .yaml or .yml)."""
    known = devices()
    if name in known:
        return known[name]
    if name.lower().endswith((".yaml", ".yml")):
        return read_device(Path(name))
    raise MobcostError(f"unknown device {shown(name)}: the devices are {listed(known)}, or a device file "
                       f"PATH.yaml (`mobcost devices fit` writes one from your own measurements)")


def read_device(path: Path) -> Device:
    """A user's device file, validated as a spec is: size and YAML limits first, then every field, each error with
    its line; a device without fitted coefficients is refused here, before any work."""
    from mobcost.errors import Problem, SpecError
    from mobcost.language.locate import error_problem, problem_at
    from mobcost.language.yaml import compose, read_spec_file

    file = str(path)
    data, positions, repeated = compose(read_spec_file(path), file)
    if not isinstance(data, dict):
        raise SpecError([Problem(file, "expected a device: a mapping with name, title, phone, runtime, figures and "
                                       "fitted (`mobcost devices fit` writes one)", *positions.get((), (None, None)))])
    problems = [problem_at(file, data, positions, key, None, "repeats a key: expected each key once in a mapping")
                for key in repeated]
    try:
        found = Device.model_validate(data)
    except ValidationError as e:
        problems += [error_problem(file, data, positions, err, Device) for err in e.errors(include_url=False)[:20]]
        raise SpecError(problems) from None
    if problems:
        raise SpecError(problems)
    if found.fitted is None:
        raise SpecError([Problem(file, "has no `fitted:` coefficients: write the file with `mobcost devices fit` or "
                                       "`mobcost devices calibrate`")])
    found._file, found._positions = file, positions
    return found


@cache
def figure_ops(figure: Figure, bytes_per_value: int) -> tuple[Op, ...]:
    """The operators of the network a figure measured."""
    from mobcost.language import load_model
    from mobcost.trace import resolution_of, trace

    network, _ = load_model(figure.model)
    return tuple(ops(trace(network, figure.alpha, resolution_of(network, figure.resolution)), bytes_per_value))


def estimate_ms(figure: Figure, dev: Device) -> float:
    return 1000 * seconds(list(figure_ops(figure, dev.bytes_per_value)), dev.coefficients())
