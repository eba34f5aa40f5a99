"""mobcost: exact Mult-Adds and parameters of MobileNet-style networks, from a declarative YAML spec.

    >>> import mobcost
    >>> result = mobcost.analyze("v1", alpha=0.5, resolution=160)
    >>> result.macs, result.params
    (76524800, 1319648)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from mobcost.spec import MobcostError, Network, SpecError, load_model, load_spec, parse_spec
from mobcost.trace import Analysis, Row, Totals, resolution_of, trace

if TYPE_CHECKING:
    from mobcost.delta import Diff
    from mobcost.sizing import Fit

__version__ = "0.1.0"
__all__ = ["Analysis", "MobcostError", "Network", "Row", "SpecError", "Totals", "analyze", "diff", "fit",
           "load_model", "load_spec", "parse_spec", "sweep", "trace"]


def _model(model: str | Network) -> tuple[Network, float | None, int | None]:
    if isinstance(model, Network):
        return model, None, None
    network, ref = load_model(model)
    return network, ref.alpha, ref.resolution


def analyze(model: str | Network, alpha: float | None = None, resolution: int | None = None,
            rho: float | None = None) -> Analysis:
    """Trace a model (a built-in name, a `name:variant@alpha_res` reference, a YAML path or a Network)."""
    network, ref_alpha, ref_res = _model(model)
    alpha = alpha if alpha is not None else ref_alpha or 1.0
    return trace(network, alpha, resolution_of(network, resolution if resolution is not None else ref_res, rho))


def sweep(model: str | Network, alphas: Iterable[float] | str = (), resolutions: Iterable[int] | str = ()
          ) -> list[Totals]:
    """Totals at every α × resolution (lists, or ranges as `mobcost sweep` takes them: "0.25:1.0:0.25")."""
    from mobcost.sizing import alphas_of, resolutions_of
    from mobcost.trace import sweep as sweep_grid

    network, ref_alpha, ref_res = _model(model)
    alphas = alphas_of(alphas) if isinstance(alphas, str) else list(alphas)
    resolutions = resolutions_of(resolutions) if isinstance(resolutions, str) else list(resolutions)
    return list(sweep_grid(network, alphas or [ref_alpha or 1.0], resolutions or [ref_res]))


def fit(model: str | Network, max_macs: int | str | None = None, max_params: int | str | None = None,
        max_memory: int | str | None = None, dtype: str = "fp16", alphas: Iterable[float] | str = "0.25:1.4",
        resolutions: Iterable[int] | str = "96:320") -> Fit:
    """Every α × resolution within a budget (`150M`, `2e6`, `1MB` or numbers), best first, as `mobcost fit`."""
    from mobcost.sizing import Fit, Limits, alphas_of, fit as fit_variants, resolutions_of

    network, ref = load_model(model) if isinstance(model, str) else (model, None)
    limits = Limits.of(network.budget, max_macs, max_params, max_memory, dtype)
    alphas = alphas_of(alphas) if isinstance(alphas, str) else list(alphas)
    resolutions = resolutions_of(resolutions) if isinstance(resolutions, str) else list(resolutions)
    candidates, grid = fit_variants(network, alphas, resolutions, limits, ref.variant if ref else None)
    return Fit(network.title, tuple(candidates), grid, limits)


def diff(before: str | Network | Analysis, after: str | Network | Analysis, counting: str = "weights") -> Diff:
    """The layers added, removed and changed from one model to another, with Mult-Add and parameter deltas."""
    from mobcost.delta import diff as compare_rows

    return compare_rows(*(m if isinstance(m, Analysis) else analyze(m) for m in (before, after)), counting)
