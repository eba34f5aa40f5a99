"""Activation memory: which tensors are materialized, the largest at each spatial resolution, and the peak.

The rule (MobileNetV2 §5.1, "Memory efficient inference"): a tensor is materialized in full unless an inverted
residual bottleneck can compute it in slices. Inside a bottleneck the expanded tensor is only ever read channel by
channel, by the depthwise conv, and the projection sums over the slices, so the tensor the depthwise reads (the
expansion's output, or with t = 1 the block's input) and the depthwise output on its way to the projection need not
exist whole. Two exceptions keep a tensor whole: a residual add needs the block's input at the end of the block, and
squeeze-and-excite needs the whole depthwise output pooled before it can scale it.

Residual connections: the block's input stays alive until the add, and the add writes into the projection's output
buffer (in place). SE likewise keeps the depthwise output alive until its scale. The live set of a step (the layers
from one materialized tensor to the next) is its input, its output and every tensor held for a later add or scale;
the peak is the largest live set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mobcost.layers import Bottleneck
from mobcost.spec import MobcostError
from mobcost.trace import Analysis, Row

Dtype = Literal["fp32", "fp16", "int8"]
BYTES: dict[str, int] = {"fp32": 4, "fp16": 2, "int8": 1}
RULE = ("Materialized: every tensor but those a bottleneck computes in slices (its expansion and depthwise outputs, "
        "MobileNetV2 §5.1); a residual add keeps the block's input alive until the add, which is done in place, and "
        "SE keeps the depthwise output alive until its scale. Live set = a step's input + output + held tensors.")


@dataclass(frozen=True)
class Step:
    """Rows from one materialized tensor to the next, computed without materializing what lies between."""

    rows: tuple[Row, ...]
    input: int  # elements of the tensor the step reads
    output: int  # elements it writes (0 when it writes in place)
    held: int  # elements kept alive for a later residual add or SE scale

    @property
    def live(self) -> int:
        return self.input + self.output + self.held


def _role(row: Row) -> str:
    return (row.layer.name or row.kind).rsplit("/", 1)[-1]


def _streamed(row: Row, consumer: Row | None) -> bool:
    """Whether `row`'s output is computed slice by slice by the bottleneck `consumer` belongs to (never whole)."""
    if consumer is None or not isinstance(consumer.unit, Bottleneck) or _role(consumer) not in ("dw", "project"):
        return False
    unit = consumer.unit
    reads_block_input = _role(consumer) == "dw" and unit.t == 1
    keeps_for_add = unit.residual and consumer.stride == 1 and consumer.input.c == unit.out
    return not (reads_block_input and keeps_for_add)


def materialized(analysis: Analysis) -> list[bool]:
    """For each row, whether its output tensor exists whole."""
    rows = analysis.rows
    return [not _streamed(row, rows[i + 1] if i + 1 < len(rows) else None) for i, row in enumerate(rows)]


def steps(analysis: Analysis) -> list[Step]:
    """The network as steps between materialized tensors, each with its live set."""
    rows, whole = analysis.rows, materialized(analysis)
    if fork := next((row for row in rows if row.kind == "concat" or "/shortcut/" in row.name), None):
        raise MobcostError(f"{analysis.network.name}: the live-set rule covers a chain of layers with residual adds "
                           f"(the MobileNets, ResNet's identity blocks); {fork.name} joins parallel branches, whose "
                           "outputs it would have to hold at once, and mobcost does not model that yet")
    holds = [(i - row.layer.skip, i) for i, row in enumerate(rows) if row.kind in ("add", "scale")]
    result, start = [], 0
    for end, row in enumerate(rows):
        if not whole[end]:
            continue
        held = sum(rows[j].input.size for j, i in holds if j < start <= i)
        output = 0 if row.kind == "add" else row.output.size  # the add writes into the projection's output
        result.append(Step(rows[start:end + 1], rows[start].input.size, output, held))
        start = end + 1
    return result


def peak_memory(analysis: Analysis, dtype: Dtype = "fp32") -> int:
    """Bytes of the largest live set of activations during inference (one image), by the rule above."""
    return max(step.live for step in steps(analysis)) * BYTES[dtype]


def by_resolution(analysis: Analysis) -> list[tuple[tuple[int, int], int, str]]:
    """The widest materialized tensor at each spatial size, largest size first (MobileNetV2 Table 3): ((h, w),
    channels, the row that writes it); the network's input counts as written by "input"."""
    tensors = [("input", analysis.rows[0].input)]
    tensors += [(row.name, row.output) for row, whole in zip(analysis.rows, materialized(analysis)) if whole]
    widest: dict[tuple[int, int], tuple[int, str]] = {}
    for name, shape in tensors:
        if shape.c > widest.get((shape.h, shape.w), (0, ""))[0]:
            widest[(shape.h, shape.w)] = (shape.c, name)
    return [(size, c, name) for size, (c, name) in sorted(widest.items(), key=lambda item: -item[0][0] * item[0][1])]
