"""mobcost: exact Mult-Adds and parameters of MobileNet-style networks, from a declarative YAML spec.

    >>> import mobcost
    >>> result = mobcost.analyze("v1", alpha=0.5, resolution=160)
    >>> result.macs, result.params
    (76524800, 1319648)
"""

from __future__ import annotations

from mobcost.spec import MobcostError, Network, SpecError, load_model, load_spec, parse_spec
from mobcost.trace import Analysis, Row, resolution_of, trace

__version__ = "0.1.0"
__all__ = ["Analysis", "MobcostError", "Network", "Row", "SpecError", "analyze", "load_model", "load_spec",
           "parse_spec", "trace"]


def analyze(model: str | Network, alpha: float | None = None, resolution: int | tuple[int, int] | None = None,
            rho: float | None = None, depth: float | None = None) -> Analysis:
    """Trace a model (a built-in name, a `name:variant@alpha_res` reference, a YAML path or a Network)."""
    if isinstance(model, Network):
        network, ref_alpha, ref_res = model, None, None
    else:
        network, ref = load_model(model)
        ref_alpha, ref_res = ref.alpha, ref.resolution
    alpha = alpha if alpha is not None else ref_alpha or 1.0
    return trace(network, alpha, resolution_of(network, resolution if resolution is not None else ref_res, rho), depth)
