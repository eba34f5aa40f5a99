"""mobcost: exact Mult-Adds and parameters of MobileNet-style networks, from a declarative YAML spec.

    >>> import mobcost
    >>> result = mobcost.analyze("v1", alpha=0.5, resolution=160)
    >>> result.macs, result.params
    (76524800, 1319648)

Importing the package imports nothing heavy: the names below load their modules when first used, so that the
command line can take Ctrl-C (exit 130) before pydantic, typer and rich are imported.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mobcost.api import analyze, diff, fit, space, sweep
    from mobcost.language import MobcostError, Network, SpecError, load_model, load_spec, parse_spec
    from mobcost.trace import Analysis, Row, Totals, trace

__version__ = "0.1.0"
__all__ = ["Analysis", "MobcostError", "Network", "Row", "SpecError", "Totals", "analyze", "diff", "fit",
           "load_model", "load_spec", "parse_spec", "space", "sweep", "trace"]
_HOME = {"MobcostError": "language", "Network": "language", "SpecError": "language", "load_model": "language",
         "load_spec": "language", "parse_spec": "language", "Analysis": "trace", "Row": "trace", "Totals": "trace",
         "trace": "trace", "analyze": "api", "diff": "api", "fit": "api", "space": "api", "sweep": "api"}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'mobcost' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"mobcost.{_HOME[name]}"), name)


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value) -> None:
        """`mobcost.trace` and `mobcost.space` name the functions, as when this package imported them eagerly:
        importing the submodule of the same name (which the import system then sets here) must not replace it."""
        if not (name in ("trace", "space") and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def _load_views() -> None:
    from mobcost.api import load_views

    load_views()


from mobcost import display as _display  # noqa: E402  (the ground floor: nothing of pydantic, typer or rich)

_display.loader = _load_views  # a result shown in a notebook or a terminal finds its view through the API layer
