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
    from mobcost.spec import MobcostError, Network, SpecError, load_model, load_spec, parse_spec
    from mobcost.trace import Analysis, Row, trace

__version__ = "0.1.0"
__all__ = ["Analysis", "MobcostError", "Network", "Row", "SpecError", "analyze", "load_model", "load_spec",
           "parse_spec", "trace"]
_HOME = {"MobcostError": "spec", "Network": "spec", "SpecError": "spec", "load_model": "spec", "load_spec": "spec",
         "parse_spec": "spec", "Analysis": "trace", "Row": "trace", "trace": "trace"}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'mobcost' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"mobcost.{_HOME[name]}"), name)


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value) -> None:
        """`mobcost.trace` names the function, as when this package imported it eagerly: importing the submodule
        of the same name (which the import system then sets here) must not replace it."""
        if not (name == "trace" and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def analyze(model: str | Network, alpha: float | None = None, resolution: int | None = None,
            rho: float | None = None) -> Analysis:
    """Trace a model (a built-in name, a `name:variant@alpha_res` reference, a YAML path or a Network)."""
    from mobcost.spec import Network, load_model
    from mobcost.trace import resolution_of, trace

    if isinstance(model, Network):
        network, ref_alpha, ref_res = model, None, None
    else:
        network, ref = load_model(model)
        ref_alpha, ref_res = ref.alpha, ref.resolution
    alpha = alpha if alpha is not None else ref_alpha if ref_alpha is not None else 1.0
    return trace(network, alpha, resolution_of(network, resolution if resolution is not None else ref_res, rho))
