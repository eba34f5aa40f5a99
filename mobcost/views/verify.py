"""mobcost beside PyTorch per layer, and beside an implementation (torchvision, Keras, any MODULE:CALLABLE)."""

from __future__ import annotations

from mobcost.table import Column, Report, batched, exact, optional
from mobcost.trace import Analysis


def verify_table(analysis: Analysis, checks: list, torch_version: str) -> Report:
    """mobcost beside PyTorch, per layer: output shape, parameters, Mult-Adds (FlopCounterMode FLOPs ÷ 2)."""
    columns = (Column("name", "Layer"), Column("shape", "Output", hide=2),
               Column("torch_shape", "PyTorch output (N×C×H×W)", hide=1),
               Column("params", "Parameters (torch)", exact, True),
               Column("torch_params", "PyTorch parameters", exact, True),
               Column("macs", "Mult-Adds", exact, True), Column("torch_macs", "PyTorch Mult-Adds", exact, True),
               Column("status", "Status"))
    rows = [{"name": c.name, "shape": batched(c.shape, c.batch), "torch_shape": "×".join(map(str, c.torch_shape)),
             "params": c.params, "torch_params": c.torch_params, "macs": c.macs, "torch_macs": c.torch_macs,
             "status": "ok" if c.ok else "MISMATCH"} for c in checks]
    bad = sum(not c.ok for c in checks)
    total = {"name": "Total", "params": sum(c.params for c in checks), "torch_params": sum(c.torch_params for c in checks),
             "macs": sum(c.macs for c in checks), "torch_macs": sum(c.torch_macs for c in checks)}
    total["status"] = "MISMATCH" if bad else "ok"
    notes = (f"{len(checks) - bad} of {len(checks)} layers agree with PyTorch {torch_version}. Parameters as "
             "sum(p.numel()) (weights, biases, batch-norm γ and β); Mult-Adds = torch.utils.flop_counter."
             "FlopCounterMode FLOPs ÷ 2. PyTorch pads `same` symmetrically by k // 2, TensorFlow asymmetrically; "
             "for odd kernels both give ceil(n / stride) outputs and the same costs.",)
    return Report(f"{analysis.label}: mobcost vs PyTorch", columns, rows, {"layers": rows, "total": total},
                  total=total, notes=notes, style=lambda row: None if row["status"] == "ok" else "bold red")


def reference_table(analysis: Analysis, comparison) -> Report:
    """The spec beside an implementation (mobcost.verify.reference.Comparison): every convolution and linear layer
    in the order the model runs them, and every total in the notes."""
    def shape(s) -> str:
        return "–" if s is None else "×".join(map(str, s))

    columns = (Column("name", "Layer (mobcost)"), Column("shape", "Output (C×H×W)"),
               Column("params", "Parameters", optional(exact), True), Column("module", "Implementation's layer"),
               Column("module_shape", "Its output"), Column("module_params", "Its parameters", optional(exact), True),
               Column("status", "Status"))
    rows = [{"name": p.row.name if p.row else "–", "shape": shape(p.shape), "params": p.row and p.row.params,
             "module": p.layer.name if p.layer else "–", "module_shape": shape(p.layer and p.layer.shape),
             "module_params": p.layer and p.layer.params, "status": "ok" if p.ok else "DIFFERS"}
            for p in comparison.layers]
    first = comparison.first_difference
    notes = [f"Ran {comparison.runs}."]
    notes += [f"{t.what}: {t.mobcost:,} and {t.reference:,}, {'equal' if t.ok else 'DIFFERENT'}."
              for t in comparison.totals]
    notes += [f"{tool} could not run this model ({why}); its convention is not compared."
              for tool, why in comparison.failed.items()]
    if first is not None:
        notes.append(f"First difference: mobcost's {first.row.name if first.row else '(no layer)'} and the "
                     f"implementation's {first.layer.name if first.layer else '(no layer)'}.")
    notes.append(f"Layers compared: {sum(p.ok for p in comparison.layers)} of {len(comparison.layers)} convolutions "
                 f"and linear layers agree in output shape and parameters (weights and biases). Built: "
                 f"{comparison.against}; " + ", ".join(f"{k} {v}" for k, v in comparison.versions.items()) + ".")
    data = {"model": analysis.network.name, "alpha": analysis.alpha, "resolution": analysis.resolution,
            "against": comparison.against, "runs": comparison.runs, "versions": comparison.versions,
            "not_run": comparison.failed, "ok": comparison.ok,
            "totals": [{"what": t.what, "mobcost": t.mobcost, "reference": t.reference, "ok": t.ok}
                       for t in comparison.totals],
            "first_difference": None if first is None else rows[comparison.layers.index(first)], "layers": rows}
    return Report(f"{analysis.label}: mobcost vs {comparison.against}", columns, rows, data, notes=tuple(notes),
                  style=lambda row: None if row["status"] == "ok" else "bold red")
