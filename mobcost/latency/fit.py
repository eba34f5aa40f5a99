"""Fitting a device: non-negative least squares on published end-to-end latencies (needs numpy and scipy).

The max() of the model (mobcost.latency.model) makes it piecewise linear in its coefficients: once each operator
is assigned to its binding term (compute or memory), the latency is linear in them. So the fit alternates: assign,
solve NNLS on the relative errors (rows divided by the published latency, so 4.5 ms and 143 ms weigh alike),
reassign each operator to the term that binds under the new coefficients, until the assignment no longer changes.
It starts from several assignments (all compute, all memory, and thresholds on arithmetic intensity W/B) and keeps
the coefficients with the least squared relative error under the model with max() itself.

`python -m mobcost.latency.fit` refits every shipped device, evaluates it family by family, and rewrites the
`fitted:` block at the end of each device file.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from mobcost.latency.device import Device, Figure, HeldOut, devices, devices_dir, figure_ops
from mobcost.errors import MobcostError
from mobcost.latency.model import CLASSES, TERMS, Coefficients, Op, seconds

_STARTS = 9  # intensity thresholds tried as starting assignments, besides all-compute and all-memory
_ROUNDS = 100


def _design(networks: list[list[Op]], compute: list[np.ndarray]) -> np.ndarray:
    """One row per network: Σ work per class over compute-bound operators, Σ bytes over memory-bound ones, N."""
    rows = np.zeros((len(networks), len(TERMS)))
    for i, (operators, bound) in enumerate(zip(networks, compute)):
        for op, by_compute in zip(operators, bound):
            if by_compute:
                rows[i, CLASSES.index(op.cls)] += op.work
            else:
                rows[i, len(CLASSES)] += op.bytes
        rows[i, -1] = len(operators)
    return rows


def _solve(a: np.ndarray, seconds_: np.ndarray) -> np.ndarray:
    """NNLS of the relative errors, columns scaled to unit size for conditioning; unused columns stay 0."""
    weighted = a / seconds_[:, None]
    scale = weighted.max(axis=0)
    scale[scale == 0] = 1
    x, _ = nnls(weighted / scale, np.ones(len(seconds_)), maxiter=50 * a.shape[1])
    return x / scale


def _binding(networks: list[list[Op]], c: Coefficients) -> list[np.ndarray]:
    return [np.array([op.work * c.per_work[op.cls] >= op.bytes * c.per_byte for op in ops]) for ops in networks]


def _error(networks: list[list[Op]], seconds_: np.ndarray, c: Coefficients) -> float:
    predicted = np.array([seconds(ops, c) for ops in networks])
    return float(np.sum((predicted / seconds_ - 1) ** 2))


def fit(networks: list[list[Op]], latency_s: list[float]) -> Coefficients:
    """The non-negative coefficients that best fit the latencies (seconds) of the networks' operators."""
    target = np.asarray(latency_s, dtype=float)
    intensity = np.array([op.work / op.bytes for ops in networks for op in ops if op.bytes])
    starts = [[np.ones(len(ops), bool) for ops in networks], [np.zeros(len(ops), bool) for ops in networks]]
    for q in np.quantile(intensity, np.linspace(0.1, 0.9, _STARTS)):
        starts.append([np.array([op.work >= q * op.bytes for op in ops]) for ops in networks])
    best, best_error = None, np.inf
    for bound in starts:
        seen = set()
        for _ in range(_ROUNDS):
            c = Coefficients.of(_solve(_design(networks, bound), target))
            error = _error(networks, target, c)
            if error < best_error:
                best, best_error = c, error
            bound = _binding(networks, c)
            key = b"".join(np.packbits(b).tobytes() for b in bound)
            if key in seen:
                break
            seen.add(key)
    return best


def fit_baseline(macs: list[int], latency_s: list[float]) -> float:
    """The baseline "latency ∝ Mult-Adds", fitted the same way: k minimizing Σ ((k·M_i − T_i) / T_i)²."""
    m = np.asarray(macs, float) / np.asarray(latency_s, float)
    return float(m.sum() / (m * m).sum())


# ---- a device's figures, whole and family by family -----------------------------------------------------------

def _ops(device: Device, figures: list[Figure]) -> list[list[Op]]:
    return [list(figure_ops(f, device.bytes_per_value)) for f in figures]


def fit_device(device: Device, figures: list[Figure] | None = None) -> Coefficients:
    figures = device.figures if figures is None else figures
    return fit(_ops(device, figures), [f.ms / 1000 for f in figures])


def _macs(ops: list[Op]) -> int:
    return sum(op.work for op in ops if op.cls not in ("elementwise", "resize"))


@dataclass(frozen=True)
class Prediction:
    """One published figure predicted by the model and by the baseline, each fitted without the figure's family."""

    figure: Figure
    model_ms: float
    baseline_ms: float


FEW = 2 * len(TERMS)
"""Fewer figures than this leave some of the model's coefficients undetermined: a family held out with fewer left
to fit is predicted as `devices fit` predicts a user's device, another device's shape scaled to what is left."""


def _bases(device: Device, family: str) -> list[Device]:
    """The shipped devices whose shape may predict `family` on `device`: those never fitted to a figure of it."""
    return [d for d in devices().values()
            if d.name != device.name and d.fitted is not None and d.bytes_per_value == device.bytes_per_value
            and all(f.family != family for f in d.figures)]


def held_out(device: Device) -> dict[str, list[Prediction]]:
    """Leave one family out: each family's figures predicted by fits to the other families' figures only (by the
    shape of a shipped device never fitted to the family, when fewer than FEW are left)."""
    result = {}
    for family in sorted({f.family for f in device.figures}):
        train = [f for f in device.figures if f.family != family]
        test = [f for f in device.figures if f.family == family]
        if not train:
            continue
        train_ops, test_ops = _ops(device, train), _ops(device, test)
        bases = _bases(device, family) if 3 <= len(train) < FEW else []
        c = best_base(train, bases).coefficients if bases else fit(train_ops, [f.ms / 1000 for f in train])
        k = fit_baseline([_macs(ops) for ops in train_ops], [f.ms / 1000 for f in train])
        result[family] = [Prediction(f, 1000 * seconds(ops, c), 1000 * k * _macs(ops))
                          for f, ops in zip(test, test_ops)]
    return result


def scores(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """(MAPE %, share within ±10% %) of (estimate, published) pairs."""
    errors = [abs(est / pub - 1) for est, pub in pairs]
    return 100 * sum(errors) / len(errors), 100 * sum(e <= 0.10 for e in errors) / len(errors)


# ---- rewriting the shipped files ------------------------------------------------------------------------------

MARK = "# ---- fitted by `python -m mobcost.latency.fit` (scipy NNLS); do not edit by hand"


def _own_fit(device: Device) -> str:
    c = fit_device(device)
    fitted = [(f.ms, 1000 * seconds(list(figure_ops(f, device.bytes_per_value)), c)) for f in device.figures]
    fit_mape, _ = scores([(est, pub) for pub, est in fitted])
    return "\n".join([MARK, "fitted:",
                      "  ns_per_mac: {" + ", ".join(f"{k}: {v * 1e9:.6g}" for k, v in c.per_work.items()) + "}",
                      f"  ns_per_byte: {c.per_byte * 1e9:.6g}", f"  us_per_op: {c.per_op * 1e6:.6g}",
                      f"  fit_mape: {fit_mape:.4g}"]) + "\n"


def fitted_block(device: Device) -> str:
    """The device's own fit, then its error family by family (other devices' shapes as their files give them)."""
    lines = [_own_fit(device).rstrip("\n")]
    predictions = [p for family in held_out(device).values() for p in family]
    if predictions:
        mape, within = scores([(p.model_ms, p.figure.ms) for p in predictions])
        worst = max(abs(p.figure.ms / p.model_ms - 1) for p in predictions)
        lines += ["  held_out:", f"    points: {len(predictions)}", f"    mape: {mape:.4g}",
                  f"    within_10: {within:.4g}", f"    max_error: {worst:.6g}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    paths = sorted(devices_dir().glob("*.yaml"))
    data = {path: path.read_text(encoding="utf-8").split(MARK)[0].rstrip("\n") + "\n" for path in paths}
    for path, text in data.items():  # the figures alone: what was fitted before plays no part
        path.write_text(text, encoding="utf-8")
    devices.cache_clear()
    for name, device in devices().items():  # first each device's own fit, which no other device's depends on
        path = devices_dir() / f"{name}.yaml"
        path.write_text(data[path] + _own_fit(device), encoding="utf-8")
    devices.cache_clear()
    blocks = {name: fitted_block(device) for name, device in devices().items()}  # then the held-out errors, which
    for name, block in blocks.items():  # may predict a family by another device's shape, as written in its file
        path = devices_dir() / f"{name}.yaml"
        path.write_text(data[path] + block, encoding="utf-8")
        print(f"{path}: fitted to {len(devices()[name].figures)} figures", file=sys.stderr)
    devices.cache_clear()


# ---- a user's device from a few whole-network latencies (`mobcost devices fit`) ---------------------------------

PRIOR = 1.0
"""How many measurements the base device's shape is worth: the per-operator overhead is pulled toward the base's
(relative to its compute) with the weight of one measurement, so 3 or 4 figures move it only as far as they agree."""


@dataclass(frozen=True)
class UserFit:
    """A device fitted to a user's figures: the base's shape scaled, its own per-operator overhead, and each figure
    predicted by a fit to the others (leave one out)."""

    base: Device
    coefficients: Coefficients
    fitted_ms: list[float]  # each figure, by the fit to all of them
    loo_ms: list[float]  # each figure, by the fit to the others

    def errors(self, figures: list[Figure]) -> list[float]:
        return [f.ms / est - 1 for f, est in zip(figures, self.loo_ms)]


def _classes(device: Device, figures: list[Figure]) -> set[str]:
    return {op.cls for f in figures for op in figure_ops(f, device.bytes_per_value) if op.work}


def _unpriced(base: Device, figures: list[Figure]) -> list[str]:
    """The operation classes the figures' networks use that none of the base device's own figures did (a resize,
    on a device fitted to classifiers only): fitted freely, since the base's shape says nothing of them."""
    used, seen = _classes(base, figures), _classes(base, base.figures)
    return [k for k in CLASSES if k in used and k not in seen]


def _features(base: Device, figures: list[Figure], free: list[str]) -> np.ndarray:
    """Per figure: the base device's time without its per-operator overhead (s), the number of operators, and the
    work of each class in `free`."""
    c = base.coefficients()
    rows = []
    for f in figures:
        operators = figure_ops(f, base.bytes_per_value)
        rows.append([sum(max(op.work * c.per_work[op.cls], op.bytes * c.per_byte) for op in operators),
                     len(operators), *(sum(op.work for op in operators if op.cls == k) for k in free)])
    return np.array(rows, float)


def _scale_and_overhead(features: np.ndarray, seconds_: np.ndarray, base_op: float) -> np.ndarray:
    """(s, t, rates of the free classes) ≥ 0 minimizing Σ ((s·A_i + t·N_i + Σ_k r_k·W_ik − T_i) / T_i)²
    + PRIOR · ((t − s·base_op) · N̄ / T̄)²."""
    a = features / seconds_[:, None]
    n_bar = features[:, 1].mean() / seconds_.mean()
    prior = np.zeros((1, features.shape[1]))
    prior[0, :2] = np.sqrt(PRIOR) * np.array([-base_op * n_bar, n_bar])
    scale = np.abs(a).max(axis=0)
    scale[scale == 0] = 1
    x, _ = nnls(np.vstack([a, prior]) / scale, np.append(np.ones(len(seconds_)), 0.0))
    return x / scale


def fit_user(figures: list[Figure], base: Device) -> UserFit:
    """The base device's shape, scaled to the figures, with its own per-operator overhead (and a rate of its own for
    each class the base never priced); leave one out."""
    if len(figures) < 3:
        raise MobcostError(f"fitting a device needs at least 3 measurements (found {len(figures)}): with fewer, "
                           "nothing is left to check the fit against")
    base_c = base.coefficients()
    free = _unpriced(base, figures)
    features, target = _features(base, figures, free), np.array([f.ms / 1000 for f in figures])

    def coefficients(rows: np.ndarray) -> Coefficients:
        s, t, *rates = _scale_and_overhead(features[rows], target[rows], base_c.per_op)
        per_work = {k: s * v for k, v in base_c.per_work.items()}
        per_work.update(zip(free, map(float, rates)))
        return Coefficients(per_work, s * base_c.per_byte, float(t))

    every = np.ones(len(figures), bool)
    c = coefficients(every)
    loo = []
    for i in range(len(figures)):
        others = every.copy()
        others[i] = False
        loo.append(1000 * seconds(list(figure_ops(figures[i], base.bytes_per_value)), coefficients(others)))
    fitted = [1000 * seconds(list(figure_ops(f, base.bytes_per_value)), c) for f in figures]
    return UserFit(base, c, fitted, loo)


def best_base(figures: list[Figure], candidates: list[Device]) -> UserFit:
    """The fit on the base whose shape predicts the figures best, each from the others."""
    fits = [fit_user(figures, base) for base in candidates]
    return min(fits, key=lambda u: float(np.mean(np.abs(u.errors(figures)))))


def device_text(header: list[str], fields: dict[str, object], figures: list[Figure], c: Coefficients,
                fit_mape: float, held_out: HeldOut) -> str:
    """A device file as `devices fit` and `devices calibrate` write it: comments, fields, figures, fitted block."""
    import json

    q = json.dumps  # a JSON string is a YAML string: any text is written safely quoted
    lines = [f"# {line}" for line in header]
    lines += [f"{key}: {q(value) if isinstance(value, str) else value}" for key, value in fields.items()]
    lines.append("figures:")
    for f in figures:
        lines.append(f"  - {{model: {q(f.model)}, alpha: {f.alpha:g}, resolution: {f.resolution}, ms: {f.ms:.6g}, "
                     f"source: {q(f.source)}, label: {q(f.label)}}}")
    lines += ["fitted:",
              "  ns_per_mac: {" + ", ".join(f"{k}: {v * 1e9:.6g}" for k, v in c.per_work.items()) + "}",
              f"  ns_per_byte: {c.per_byte * 1e9:.6g}", f"  us_per_op: {c.per_op * 1e6:.6g}",
              f"  fit_mape: {fit_mape:.4g}", "  held_out:", f"    points: {held_out.points}",
              f"    mape: {held_out.mape:.4g}", f"    within_10: {held_out.within_10:.4g}",
              f"    max_error: {held_out.max_error:.6g}", f"    method: {q(held_out.method)}"]
    return "\n".join(lines) + "\n"


def held_out_of(pairs: list[tuple[float, float]], method: str, widen: float = 0.0, factor: float = 1.0) -> HeldOut:
    """The error of (estimate, measured) pairs the fit did not see; the stated error, the largest, × `factor` +
    `widen`."""
    mape, within = scores(pairs)
    worst = max(abs(measured / est - 1) for est, measured in pairs) * factor + widen
    return HeldOut(points=len(pairs), mape=mape, within_10=within, max_error=min(worst, 0.99), method=method)


def user_device_text(name: str, figures: list[Figure], result: UserFit, source: str) -> str:
    """The device file `mobcost devices fit` writes: the figures, then the fitted block with its LOO error."""
    base = result.base
    fit_mape, _ = scores(list(zip(result.fitted_ms, [f.ms for f in figures])))
    n = len(figures)
    held = held_out_of([(est, f.ms) for est, f in zip(result.loo_ms, figures)],
                       f"leave one out on {n} measurements, the largest error widened by (n + 1) / (n − 1) = "
                       f"{(n + 1) / (n - 1):.2f} for the few it rests on", factor=(n + 1) / (n - 1))
    header = [f"Written by `mobcost devices fit {source}`: {n} whole-network latencies, fitted to the shape of the "
              f"device {base.name}", "(its rates scaled by one factor, its per-operator overhead refitted, pulled "
              "toward the base's). Interval: the largest", "error when each measurement is predicted from the others "
              "(leave one out), widened by (n + 1) / (n − 1) for the few measurements it rests on."]
    fields = {"name": name, "title": f"{name}, fitted to {len(figures)} measurements", "phone": "your device",
              "runtime": f"as measured in {source}; shape of {base.name} ({base.runtime})",
              "bytes_per_value": base.bytes_per_value}
    return device_text(header, fields, figures, result.coefficients, fit_mape, held)


if __name__ == "__main__":
    main()
