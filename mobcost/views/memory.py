"""Activation memory: the widest tensor at each resolution and the peak live set (MobileNetV2 Table 3), per layer."""

from __future__ import annotations

from mobcost.language import ParamCounting
from mobcost.memory import BYTES, RULE, by_resolution, peak_memory, steps
from mobcost.table import Column, Report, batched, exact
from mobcost.trace import Analysis


def memory_table(analysis: Analysis, dtype: str = "fp16", counting: ParamCounting = "torch") -> Report:
    """The widest materialized tensor at each spatial resolution, the peak live set (MobileNetV2 Table 3), and the
    weights' size at the same dtype: RAM and flash."""
    size = BYTES[dtype]
    rows = [{"resolution": f"{h}×{w}", "channels": c, "batch": batch, "bytes": batch * h * w * c * size,
             "kb": batch * h * w * c * size, "tensor": name} for (h, w), c, name, batch in by_resolution(analysis)]
    peak = peak_memory(analysis, dtype)
    where = max(steps(analysis), key=lambda step: step.live).rows
    weights = analysis.params_counted(counting)
    several = any(row["batch"] > 1 for row in rows)
    columns = (Column("resolution", "Size"), Column("channels", "Max channels" if not several else "Channels",
                                                    numeric=True),
               *([Column("batch", "Batch", exact, True)] if several else []),
               Column("kb", "Memory (kB)", lambda n: f"{n / 1000:,.1f}", True),
               Column("bytes", "Memory (bytes)", exact, True), Column("tensor", "Written by", hide=1))
    notes = (f"Peak live activations: {peak:,} bytes ({peak / 1000:,.1f} kB, {dtype}, one image), "
             f"during {where[0].name}" + (f" … {where[-1].name}" if len(where) > 1 else "") + ".",
             f"Weights: {weights:,} parameters × {size} bytes = {weights * size:,} bytes ({weights * size / 10**6:,.2f}"
             f" MB, {dtype}; parameters counted as {'PyTorch' if counting == 'torch' else counting}).",
             f"{RULE} kB = 10³ bytes, MB = 10⁶ bytes.")
    data = {"model": analysis.network.name, "alpha": analysis.alpha, "resolution": analysis.resolution,
            "dtype": dtype, "bytes_per_activation": size, "peak_bytes": peak, "weights": weights,
            "weights_bytes": weights * size,
            "resolutions": [{k: row[k] for k in ("resolution", "channels", "batch", "bytes", "tensor")}
                            for row in rows]}
    return Report(f"Activation memory: {analysis.label} ({dtype})", columns, rows, data, notes=notes)


def memory_layers_table(analysis: Analysis, dtype: str = "fp16") -> Report:
    """Every row's input and output activations, whether its output is materialized, and its step's live set."""
    size = BYTES[dtype]
    rows = []
    for step in steps(analysis):
        for row in step.rows:
            rows.append({"name": row.name, "input": batched(row.input, row.input_batch),
                         "output": batched(row.output, row.batch),
                         "input_size": row.input_batch * row.input.size,
                         "output_size": row.batch * row.output.size,
                         "whole": "yes" if row is step.rows[-1] else "sliced", "live": step.live * size})
    columns = (Column("name", "Layer"), Column("input", "Input", hide=2), Column("output", "Output", hide=1),
               Column("input_size", "Input activations", exact, True),
               Column("output_size", "Output activations", exact, True),
               Column("whole", "Output materialized", hide=3),
               Column("live", f"Live set (bytes, {dtype})", exact, True))
    return Report(f"Activations per layer: {analysis.label}", columns, rows, {"model": analysis.network.name,
                  "dtype": dtype, "layers": rows}, notes=(f"{RULE} Activations are counted in elements.",))
