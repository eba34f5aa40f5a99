"""The latency model: what one layer costs on a device, from its shapes alone (standard library only).

Each operator i of a traced network costs the larger of its compute time and its memory time, plus a fixed
overhead per operator; the network's latency is the sum:

    T = Σ_i max(W_i · c[class_i], B_i · c_mem) + N · c_op

W_i is the operator's work: its Mult-Adds for a convolution (k×k `conv`, depthwise `dw`, 1×1 `pw`) or a fully
connected layer (`fc`, also a 1×1 convolution on a 1×1 map, as a classifier or a squeeze-and-excite), its output
elements for a resize (`resize`: an upsampling, which a dense-prediction head runs at the image's full resolution,
interpolating every output element from several inputs), and its elements for an element-wise operator
(`elementwise`: pooling, residual add, SE scale, softmax, and an activation TFLite cannot fuse into the convolution
before it: h-swish, h-sigmoid, sigmoid, swish). B_i is the bytes it moves:
input, output and weights at the device's bytes per value. N counts the operators. The coefficients are the
device: seconds per Mult-Add (or element) per class, i.e. 1 / the effective rate, seconds per byte (1 / the
effective bandwidth) and seconds per operator, all non-negative (mobcost.latency.fit).
"""

from __future__ import annotations

from dataclasses import dataclass

from mobcost.trace import Analysis, Row

CLASSES = ("conv", "dw", "pw", "fc", "resize", "elementwise")
"""The operation classes, each with its own effective rate."""
TERMS = (*CLASSES, "memory", "overhead")
"""Every coefficient of a device, in the order of the fitting's design matrix."""
UNFUSED = ("hswish", "hsigmoid", "sigmoid", "swish")
"""Activations that run as an operator of their own in TFLite (ReLU and ReLU6 fuse into the convolution)."""
_FREE = ("dropout", "flatten")  # no operator at inference, or a reshape that moves nothing


@dataclass(frozen=True)
class Op:
    """One operator as the device runs it: its class, work (Mult-Adds or elements) and bytes moved."""

    name: str
    row: str  # the mobcost row it belongs to (an unfused activation belongs to its convolution's row)
    cls: str
    work: int
    bytes: int


def op_class(row: Row) -> str:
    if row.kind == "dw":
        return "dw"
    if row.kind in ("conv", "pw"):
        if row.output.h * row.output.w == 1 and row.input.h * row.input.w == 1:
            return "fc"
        return "pw" if getattr(row.layer, "kernel", 1) == 1 else "conv"
    if row.kind == "fc":
        return "fc"
    if row.kind in ("linear", "attend"):  # matrix products of tokens: the GEMM a 1×1 convolution runs as
        return "pw"
    if row.kind == "upsample":
        return "resize"
    return "elementwise"


def ops(analysis: Analysis, bytes_per_value: int) -> list[Op]:
    """The operators of a traced network, in order."""
    result = []
    for row in analysis.rows:
        if row.kind in _FREE:
            continue
        cls = op_class(row)
        inputs, outputs = row.input_batch * row.input.size, row.batch * row.output.size  # a batch of crops: all
        moved = inputs + outputs + row.params  # of it moves, its weights once
        work = {"resize": outputs, "elementwise": max(inputs, outputs)}.get(cls, row.macs)
        result.append(Op(row.name, row.name, cls, work, moved * bytes_per_value))
        if getattr(row.layer, "act", None) in UNFUSED:
            size = outputs
            result.append(Op(f"{row.name}/{row.layer.act}", row.name, "elementwise", size,
                             2 * size * bytes_per_value))
    return result


@dataclass(frozen=True)
class Coefficients:
    """A device: seconds per unit of work per class, seconds per byte, seconds per operator (all ≥ 0)."""

    per_work: dict[str, float]
    per_byte: float
    per_op: float

    @classmethod
    def of(cls, values) -> Coefficients:
        """From a vector in TERMS order."""
        values = [float(v) for v in values]
        return cls(dict(zip(CLASSES, values[:len(CLASSES)])), values[-2], values[-1])

    def vector(self) -> list[float]:
        return [*(self.per_work[c] for c in CLASSES), self.per_byte, self.per_op]


@dataclass(frozen=True)
class OpTime:
    """One operator's estimated time: compute, memory, the binding one and the overhead, in seconds."""

    op: Op
    compute: float
    memory: float
    overhead: float

    @property
    def bound(self) -> str:
        return "compute" if self.compute >= self.memory else "memory"

    @property
    def seconds(self) -> float:
        return max(self.compute, self.memory) + self.overhead


def op_times(operators: list[Op], c: Coefficients) -> list[OpTime]:
    return [OpTime(op, op.work * c.per_work[op.cls], op.bytes * c.per_byte, c.per_op) for op in operators]


def seconds(operators: list[Op], c: Coefficients) -> float:
    """T = Σ_i max(W_i · c[class_i], B_i · c_mem) + N · c_op."""
    return sum(max(op.work * c.per_work[op.cls], op.bytes * c.per_byte) for op in operators) + len(operators) * c.per_op
