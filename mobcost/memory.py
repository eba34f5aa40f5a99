"""Activation memory: which tensors are materialized, the largest at each spatial resolution, the peak live set, and
the weights' size.

Execution order: the rows in the order the trace lists them (the spec's order; a block's branches, body and
shortcut one after another). A tensor is allocated when the row that writes it runs and freed after its last reader
runs; the network's input stays until its last reader, its outputs until the end.

Slicing (MobileNetV2 §5.1, "Memory efficient inference"): a tensor whose only reader is the next row, a bottleneck's
depthwise conv or its projection, is computed slice by slice and never exists whole: the expansion's output (or,
with t = 1, the block's input) feeds the depthwise channel by channel, and the depthwise output feeds the projection,
which sums over the slices. A tensor with any other reader (a residual add, squeeze-and-excite's scale, a `from:`)
is whole.

A step is the rows from one whole tensor to the next. Its live set is every whole tensor written before it and
read by it or later (held), plus the tensor it writes, except that an add writes in place into an operand it reads
last. The peak is the largest live set.

A batch of crops (Upsample.batch) is a tensor of batch × h × w × c elements, held whole like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mobcost.layers import Bottleneck
from mobcost.trace import Analysis, Row

Dtype = Literal["fp32", "fp16", "int8"]
BYTES: dict[str, int] = {"fp32": 4, "fp16": 2, "int8": 1}
RULE = ("Rows run in the order listed; a tensor lives from the row that writes it until its last reader (the outputs "
        "until the end). A tensor read only by the next row, a bottleneck's depthwise or projection, is computed in "
        "slices and never whole (MobileNetV2 §5.1). Live set = the whole tensors a step reads or holds for later "
        "readers + the tensor it writes (an add writes in place into an operand it reads last).")


@dataclass(frozen=True)
class Step:
    """Rows from one whole tensor to the next, computed without materializing what lies between."""

    rows: tuple[Row, ...]
    input: int  # elements of the whole tensors the step reads
    output: int  # elements it writes (0 when it writes in place)
    held: int  # elements of the other whole tensors alive, kept for later readers
    tensors: tuple[int, ...] = ()  # the live set's tensors by value (0: the input, j + 1: row j's output)

    @property
    def live(self) -> int:
        return self.input + self.output + self.held


def _role(row: Row) -> str:
    return (row.layer.name or row.kind).rsplit("/", 1)[-1]


def _readers(analysis: Analysis) -> list[list[int]]:
    """For each value (0: the input, j + 1: row j's output), the rows that read it."""
    readers: list[list[int]] = [[] for _ in range(len(analysis.rows) + 1)]
    for i, reads in enumerate(analysis.sources()):
        for j in reads:
            readers[j].append(i)
    return readers


def materialized(analysis: Analysis) -> list[bool]:
    """For each row, whether its output tensor exists whole."""
    rows, readers, returned = analysis.rows, _readers(analysis), set(analysis.returned)

    def sliced(i: int) -> bool:
        return rows[i].name not in returned and _slices(readers[i + 1], rows, i + 1)

    return [not sliced(i) for i in range(len(rows))]


def _slices(readers: list[int], rows: tuple[Row, ...], index: int) -> bool:
    """Whether a tensor whose readers are `readers` is computed in slices: read by row `index` alone, a bottleneck's
    depthwise or projection."""
    reader = rows[index] if index < len(rows) else None
    return readers == [index] and isinstance(reader.unit, Bottleneck) and _role(reader) in ("dw", "project")


def input_sliced(analysis: Analysis) -> bool:
    """Whether the tensor the first row reads would be computed in slices if an earlier row wrote it (a network's
    part traced on its own, as mobcost.space's tables trace each block)."""
    return _slices(_readers(analysis)[0], analysis.rows, 0)


def steps(analysis: Analysis) -> list[Step]:
    """The network as steps between whole tensors, each with its live set."""
    rows, whole, sources = analysis.rows, materialized(analysis), analysis.sources()
    readers = _readers(analysis)
    index = {row.name: j + 1 for j, row in enumerate(rows)}
    last = [max(r, default=-1) for r in readers]
    for name in analysis.returned:
        last[index.get(name, 0)] = len(rows)
    size = [rows[0].input.size] + [row.batch * row.output.size for row in rows]
    result, start, alive = [], 0, {0: size[0]}  # alive: whole values written before the step, still to be read
    for end, row in enumerate(rows):
        if not whole[end]:
            continue
        read = {j for i in range(start, end + 1) for j in sources[i] if j <= start}
        in_place = row.kind == "add" and any(last[j] == end and j <= start for j in sources[end])
        held = {j for j in alive if j not in read}
        written = set() if in_place else {end + 1}
        result.append(Step(rows[start:end + 1], sum(size[j] for j in read), 0 if in_place else size[end + 1],
                           sum(alive[j] for j in held), tuple(sorted(read | held | written))))
        alive = {j: n for j, n in alive.items() if last[j] > end}
        if last[end + 1] > end:
            alive[end + 1] = size[end + 1]
        start = end + 1
    return result


def peak_step(analysis: Analysis) -> Step:
    """The step with the largest live set (the first such, in execution order)."""
    return max(steps(analysis), key=lambda step: step.live)


def peak_memory(analysis: Analysis, dtype: Dtype = "fp32") -> int:
    """Bytes of the largest live set of activations during inference (one image), by the rule above."""
    return peak_step(analysis).live * BYTES[dtype]


def by_resolution(analysis: Analysis) -> list[tuple[tuple[int, int], int, str, int]]:
    """The largest whole tensor at each spatial size, largest size first (MobileNetV2 Table 3): ((h, w), channels,
    the row that writes it, its batch); the network's input counts as written by "input". Largest: the most
    elements, channels × batch (a batch of crops, Upsample.batch, is one tensor of them all)."""
    tensors = [("input", analysis.rows[0].input, 1)]
    tensors += [(row.name, row.output, row.batch) for row, whole in zip(analysis.rows, materialized(analysis)) if whole]
    widest: dict[tuple[int, int], tuple[int, int, str, int]] = {}
    for name, shape, batch in tensors:
        if batch * shape.c > widest.get((shape.h, shape.w), (0,))[0]:
            widest[(shape.h, shape.w)] = (batch * shape.c, shape.c, name, batch)
    return [(size, c, name, batch) for size, (_, c, name, batch) in
            sorted(widest.items(), key=lambda item: -item[0][0] * item[0][1])]
