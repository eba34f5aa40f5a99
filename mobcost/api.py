"""The Python API: what `import mobcost` offers (mobcost/__init__ forwards these names), over the library's rooms.

    >>> import mobcost
    >>> result = mobcost.analyze("v1", alpha=0.5, resolution=160)

The layer that knows both results and views: it loads the views into the display registry (mobcost.display), so
that a result shows itself in a notebook or a terminal without importing a view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from mobcost import display

if TYPE_CHECKING:
    from mobcost.delta import Diff
    from mobcost.space.explore import SpaceResult
    from mobcost.language import Network
    from mobcost.sizing import Fit, Sweep
    from mobcost.trace import Analysis


def load_views() -> None:
    """Fill the display registry: each view registers the results it shows as it is imported."""
    from mobcost.table import Format, html, render
    from mobcost.views import diff, fit, network  # noqa: F401

    try:
        from mobcost.views import space  # noqa: F401  (needs numpy, the space extra)
    except ImportError:
        pass

    display.renderers(rich=lambda report: render(report, Format.rich), html=html)


def _model(model, resolution: int | None = None) -> tuple:
    """A model argument as (network, its reference's α, its reference's resolution); `resolution` sizes an ONNX
    model's dynamic input."""
    from mobcost.language import Network, load_model

    if isinstance(model, Network):
        return model, None, None
    network, ref = load_model(model, resolution)
    return network, ref.alpha, ref.resolution


def analyze(model: str | Network, alpha: float | None = None, resolution: int | tuple[int, int] | None = None,
            rho: float | None = None, depth: float | None = None, classes: int | None = None) -> Analysis:
    """Trace a model: a name, `name:variant@alpha_res`, a YAML path or a Network (`classes`: its classifier's)."""
    # classes=1001 counts TF-slim's checkpoints, which classify a background class too
    from mobcost.trace import resolution_of, trace, with_classes

    network, ref_alpha, ref_res = _model(model, resolution)
    network = with_classes(network, classes)
    alpha = alpha if alpha is not None else ref_alpha if ref_alpha is not None else 1.0
    return trace(network, alpha, resolution_of(network, resolution if resolution is not None else ref_res, rho), depth)


def sweep(model: str | Network, alphas: Iterable[float] | str = (), resolutions: Iterable[int] | str = ()
          ) -> Sweep:
    """Totals at every α × resolution (lists, or ranges such as "0.25:1.0:0.25"), shown as `mobcost sweep` shows them."""
    from mobcost.sizing import Sweep, alphas_of, published_accuracy, resolutions_of
    from mobcost.trace import sweep as sweep_grid

    network, ref_alpha, ref_res = _model(model)
    alphas = alphas_of(alphas) if isinstance(alphas, str) else list(alphas)
    resolutions = resolutions_of(resolutions) if isinstance(resolutions, str) else list(resolutions)
    totals = tuple(sweep_grid(network, alphas or [ref_alpha or 1.0], resolutions or [ref_res]))
    from mobcost.language import ModelRef

    variant = ModelRef.parse(model).variant if isinstance(model, str) else None
    source, published = published_accuracy(network, variant)
    accuracy = tuple((published[t.exact_alpha, t.resolution], source) if (t.exact_alpha, t.resolution) in published
                     else None for t in totals)
    return Sweep(f"{network.title}: width multiplier × resolution", totals, accuracy)


def fit(model: str | Network, max_macs: int | str | None = None, max_params: int | str | None = None,
        max_memory: int | str | None = None, dtype: str = "fp16", alphas: Iterable[float] | str = "0.25:1.4",
        resolutions: Iterable[int] | str = "96:320") -> Fit:
    """Every α × resolution within a budget (`150M`, `2e6`, `1MB` or numbers), best first, as `mobcost fit`."""
    from mobcost.sizing import Fit, Limits, alphas_of, fit as fit_variants, resolutions_of
    from mobcost.language import load_model

    network, ref = load_model(model) if isinstance(model, str) else (model, None)
    limits = Limits.of(network.budget, max_macs, max_params, max_memory, dtype)
    alphas = alphas_of(alphas) if isinstance(alphas, str) else list(alphas)
    resolutions = resolutions_of(resolutions) if isinstance(resolutions, str) else list(resolutions)
    candidates, grid = fit_variants(network, alphas, resolutions, limits, ref.variant if ref else None)
    return Fit(network.title, tuple(candidates), grid, limits)


def diff(before: str | Network | Analysis, after: str | Network | Analysis, counting: str = "weights") -> Diff:
    """The layers added, removed and changed from one model to another, with Mult-Add and parameter deltas."""
    from mobcost.delta import diff as compare_rows
    from mobcost.trace import Analysis

    return compare_rows(*(m if isinstance(m, Analysis) else analyze(m) for m in (before, after)), counting)


def space(space: str, samples: int | None = None, seed: int = 0, exhaustive: bool | None = None,
          device: str | None = None, max_macs: int | str | None = None, max_params: int | str | None = None,
          max_memory: int | str | None = None, max_latency: float | str | None = None, dtype: str = "fp32",
          fix: dict[str, list] | None = None, pareto: str | None = None, keep: bool = False,
          client=None, sink=None) -> SpaceResult:
    """A design space (a shipped one, `ofa_mobilenet_v3`, or a space file) explored as `mobcost space` does: its
    size, the exact distribution of Mult-Adds, parameters, peak memory and (with a device) latency as arrays, the
    share within budget and the Pareto members; `keep=True` also returns every member's choices and costs
    (`result.members`, a dict of arrays), for a search loop; `client` a dask.distributed Client to run on;
    `sink(space, members, costs)` sees every chunk of members as it is evaluated."""
    from mobcost.space.explore import explore, numpy_needed
    from mobcost.space.run import Budget
    from mobcost.space.spec import fix as fixed, load_space
    from mobcost.sizing import Limits

    numpy_needed()
    found = load_space(space)
    for field, values in (fix or {}).items():
        found = fixed(found, field, [str(v) for v in (values if isinstance(values, (list, tuple)) else [values])])
    limits = Limits.of(None, *(None if v is None else str(v) for v in (max_macs, max_params, max_memory)), dtype,
                       None if max_latency is None else str(max_latency), device)
    budget = Budget(limits.max_macs, limits.max_params, limits.max_memory, limits.max_latency)
    return explore(found, samples, seed, exhaustive, device, budget, pareto, dtype, client, sink, keep)


def models() -> list[dict]:
    """The built-in models, one entry each (name, aliases, title, resolution, Mult-Adds, parameters, variants,
    source), as `mobcost models` lists them: from the shipped index when it was made from these configs."""
    from mobcost.language.shipped import read_index

    return read_index() or models_computed()


def models_computed() -> list[dict]:
    """The `mobcost models` entries, each config parsed and traced."""
    from mobcost.language import builtin_models, load_spec

    entries = []
    for path in sorted(set(builtin_models().values())):
        network = load_spec(path)
        totals = analyze(network)
        entries.append({"name": network.name, "aliases": ", ".join(network.aliases), "title": network.title,
                        "resolution": network.input.resolution, "macs": totals.macs, "params": totals.params,
                        "variants": ", ".join(network.variants), "source": network.source or ""})
    return entries


def write_models_index() -> None:
    """Write the index `mobcost models` reads (configs/models.json; tests/test_models_index.py keeps it current)."""
    import json

    from mobcost.language.shipped import INDEX, builtin_dir, configs_digest

    index = {"digest": configs_digest(), "models": models_computed()}
    (builtin_dir() / INDEX).write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
