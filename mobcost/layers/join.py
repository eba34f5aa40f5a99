"""Kinds that read several tensors, named in `from:`, and combine them into one: add, scale (SE gating), concat."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, PositiveInt, model_validator

from mobcost.layers.base import Activation, Inputs, Name, Shape, ShapeError, _Free

if TYPE_CHECKING:
    from mobcost.layers import Layer


class Join(_Free):
    """A layer that reads several tensors, named in `from:`, and combines them into one."""

    from_: list[Name] | None = Field(None, alias="from", min_length=2, max_length=64)
    reads_list: ClassVar[bool] = True  # `from:` lists the tensors it reads, two or more

    def combine(self, inputs: Inputs) -> Shape:
        """The shape this layer works on, from its named inputs; a ShapeError names the two that do not fit."""
        raise NotImplementedError

    def apply(self, inputs: Inputs) -> tuple[Shape, Shape]:
        x = self.combine(inputs)
        return x, self.output_shape(x)

    def joined(self, inputs: Inputs) -> Join:
        """This layer with what its inputs tell it kept (a concat's widths), after `apply`."""
        return self


class Add(Join):
    """Element-wise add of same-shaped tensors (a residual add, MobileNetV2 Fig. 3; He et al. 2015 eq. 1): 0 Mult-Adds
    and no weights by the paper's convention; (inputs − 1)·h·w·c element-wise adds; `act` after the add (ResNet)."""

    kind: Literal["add"] = "add"
    act: Activation | None = None  # after the add (ResNet's ReLU on the sum)
    paper_type: ClassVar[str] = "Add"

    def combine(self, inputs: Inputs) -> Shape:
        (first, x), *rest = inputs
        for name, y in rest:
            if y != x:
                raise ShapeError("from", f"cannot add {first!r} ({x}) and {name!r} ({y}): an add needs equal shapes")
        return x

    def elementwise(self, x: Shape) -> int:
        return (len(self.from_ or (0, 0)) - 1) * x.size

    def filter_shape(self, x: Shape) -> str:
        return "add"


class Scale(Join):
    """Squeeze-and-excite gating (`from: [gate, x]`): a 1×1×c gate times the h×w×c tensor x, channel by channel; or
    a gate of x's own shape times x element by element (LR-ASPP's pooled gate, upsampled to x's size in TF's DeepLab)."""

    kind: Literal["scale"] = "scale"
    from_: list[Name] | None = Field(None, alias="from", min_length=2, max_length=2)
    paper_type: ClassVar[str] = "Scale"

    def combine(self, inputs: Inputs) -> Shape:
        (gate, g), (name, x) = inputs
        if g.c != x.c or (g.h, g.w) not in ((1, 1), (x.h, x.w)):
            raise ShapeError("from", f"cannot scale {name!r} ({x}) by {gate!r} ({g}): the gate must be 1×1×{x.c} "
                                     f"or {x}")
        return x

    def elementwise(self, x: Shape) -> int:
        return x.size

    def filter_shape(self, x: Shape) -> str:
        return f"{x} × gate"


class Concat(Join):
    """Tensors stacked along channels: `from:` a list of earlier tensors, or `branches:` from this layer's input
    (GoogLeNet's Inception module, SqueezeNet's fire module; an empty branch passes its input through). Spatial sizes
    must match; no Mult-Adds, no weights."""

    kind: Literal["concat"] = "concat"
    branches: list[list[Layer]] | None = Field(None, min_length=2)
    widths: tuple[PositiveInt, ...] = ()  # each input's channels, filled in by the trace
    paper_type: ClassVar[str] = "Concat"

    @model_validator(mode="after")
    def _one_source(self):
        if self.branches is not None and self.from_ is not None:
            raise ValueError("a concat reads either `from:` (a list of tensors) or `branches:`, not both")
        return self

    def combine(self, inputs: Inputs) -> Shape:
        (first, x), *rest = inputs
        for name, y in rest:
            if (y.h, y.w) != (x.h, x.w):
                raise ShapeError("from", f"cannot concatenate {first!r} ({x}) and {name!r} ({y}): their heights and "
                                         "widths differ")
        return Shape(x.h, x.w, sum(y.c for _, y in inputs))

    def joined(self, inputs: Inputs) -> Concat:
        return self.model_copy(update={"widths": tuple(y.c for _, y in inputs)})

    def filter_shape(self, x: Shape) -> str:
        return " + ".join(map(str, self.widths))
