"""Latency commands: latency, devices."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mobcost.api import analyze
from mobcost.cli.app import Alpha, Fmt, Model, Res, Rho, command, complete_device, emit
from mobcost.table import Format


@command
def latency(model: Model, device: Annotated[str, typer.Option("--device", autocompletion=complete_device,
                                                              help="The device (`mobcost devices`).")],
            alpha: Alpha = None, res: Res = None, rho: Rho = None,
            layers: Annotated[bool, typer.Option("--layers", help="Every operator: compute- or memory-bound, and "
                                                                  "its share of the time.")] = False,
            fmt: Fmt = Format.rich) -> None:
    """Estimated latency on a device, with its interval and the published figure where one exists.

    Example: mobcost latency v2 --device pixel1"""
    from mobcost.language import ModelRef
    from mobcost.latency.device import device as known_device
    from mobcost.latency.estimate import estimate
    from mobcost.views.latency import latency_layers_table, latency_table

    est = estimate(analyze(model, alpha=alpha, resolution=res, rho=rho), known_device(device),
                   ModelRef.parse(model).variant)
    emit((latency_layers_table if layers else latency_table)(est), fmt)


@command
def devices(name: Annotated[Optional[str], typer.Argument(
                autocompletion=complete_device, help="A device: list the figures it was fitted to.")] = None,
            fmt: Fmt = Format.rich) -> None:
    """The latency devices and the published figures each was fitted to.

    Example: mobcost devices pixel1"""
    from mobcost.latency.device import device
    from mobcost.latency.device import devices as known
    from mobcost.views.latency import device_table, devices_table

    emit(device_table(device(name)) if name else devices_table(known()), fmt)
