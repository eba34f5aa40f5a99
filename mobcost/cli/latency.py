"""Latency commands: latency, devices (and devices fit, devices calibrate)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from mobcost.cli.app import Alpha, Fmt, Force, Model, Res, Rho, analyzed, command, complete_device, emit
from mobcost.output import check_destination, printable, write_file
from mobcost.table import Format

DeviceName = Annotated[str, typer.Option("--device", autocompletion=complete_device, help="The device: a name (`mobcost devices`) or your own "
                                                          "device file, ./phone.yaml (`mobcost devices fit`).")]


@command
def latency(model: Model, device: DeviceName, alpha: Alpha = None, res: Res = None, rho: Rho = None,
            layers: Annotated[bool, typer.Option("--layers", help="Every operator: compute- or memory-bound, and "
                                                                  "its share of the time.")] = False,
            measure: Annotated[bool, typer.Option("--measure", help="Also run the network on this machine "
                                                                    "(onnxruntime, one thread) and show the "
                                                                    "measured median beside the estimate; for a "
                                                                    "device from `devices calibrate`.")] = False,
            fmt: Fmt = Format.rich) -> None:
    """Estimated latency on a device, with its interval and the published figure where one exists.

    Example: mobcost latency v2 --device pixel1"""
    from mobcost.language import ModelRef
    from mobcost.latency.device import device as known_device
    from mobcost.latency.estimate import estimate
    from mobcost.views.latency import latency_layers_table, latency_table

    est = estimate(analyzed(model, alpha=alpha, resolution=res, rho=rho), known_device(device),
                   ModelRef.parse(model).variant)
    measured = None
    if measure:
        from mobcost.latency.calibrate import measure as run

        measured = run(est.analysis)
    emit(latency_layers_table(est) if layers else latency_table(est, measured), fmt)


@command
def devices(name: Annotated[Optional[str], typer.Argument(
                autocompletion=complete_device,
                help="A device (a name or a device file): list the figures it was fitted to. Or `fit`: fit a device "
                     "to your measurements (CSV: the header model,alpha,resolution,latency_ms, a row per network); or "
                     "`calibrate`: time this machine and fit it as a device.")] = None,
            source: Annotated[Optional[Path], typer.Argument(metavar="CSV",
                                                             help="For `fit`: your measurements.")] = None,
            out: Annotated[Optional[Path], typer.Option("--out", "-o", help="For fit and calibrate: the device file "
                                                                            "to write, e.g. phone.yaml.")] = None,
            base: Annotated[Optional[str], typer.Option(help="For fit: the device whose shape yours scales "
                                                             "(default: the shipped device that predicts your "
                                                             "measurements best, each from the others).")] = None,
            force: Force = False, fmt: Fmt = Format.rich) -> None:
    """The latency devices and the figures each was fitted to; `devices fit` and `devices calibrate` make your own
    (`mobcost devices pixel1` lists one; `mobcost devices calibrate -o thiscpu.yaml` times this machine).

    Example: mobcost devices fit phone.csv -o phone.yaml"""
    from mobcost.errors import MobcostError
    from mobcost.latency.device import device
    from mobcost.latency.device import devices as known
    from mobcost.views.latency import device_table, devices_table

    if name in ("fit", "calibrate"):
        if out is None:
            raise MobcostError(f"devices {name} writes a device file: name it with -o, e.g. -o phone.yaml")
        if not out.name.lower().endswith((".yaml", ".yml")):
            raise MobcostError(f"-o: a device file ends in .yaml, so that --device tells it from a device name "
                               f"(found {str(out)!r})")
        reading = (source,) if source is not None else ()
        check_destination(out, force, reading, "-o")  # before any work
        if name == "fit":
            if source is None:
                raise MobcostError("devices fit reads your measurements: mobcost devices fit MEASUREMENTS.csv -o "
                                   "phone.yaml")
            text, report = _fit(source, out, base)
        else:
            text, report = _calibrate(out)
        write_file(out, text.encode("utf-8"), force, reading, "-o")
        emit(report, fmt)
        typer.echo(f"{printable(str(out))}: written; use it as --device {printable(str(out))}", err=True)
        return
    if source is not None:
        raise MobcostError("only `devices fit` takes a second argument (the measurements' CSV)")
    emit(device_table(device(name)) if name else devices_table(known()), fmt)


def _device_name(out: Path) -> str:
    stem = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_.-") else "-" for ch in out.stem)[:64]
    return stem or "device"


def _fit(source: Path, out: Path, base: str | None):
    from mobcost.latency.device import device, devices as known
    from mobcost.latency.measurements import read_measurements
    from mobcost.views.latency import user_fit_table

    figures = read_measurements(source)  # before numpy and scipy are imported: bad input fails fast
    from mobcost.latency.fit import best_base, fit_user, user_device_text

    candidates = [d for d in known().values() if d.fitted is not None]
    result = fit_user(figures, device(base)) if base else best_base(figures, candidates)
    text = user_device_text(_device_name(out), figures, result, source.name)
    return text, user_fit_table(figures, result, str(out))


def _calibrate(out: Path):
    import sys

    from mobcost.latency.calibrate import calibrate, calibrated_device_text, machine
    from mobcost.views.latency import calibration_table

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\rtiming {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    cal = calibrate(progress)
    return calibrated_device_text(cal, _device_name(out), machine()), calibration_table(cal, str(out))
