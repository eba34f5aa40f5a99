"""Normalizations and per-channel affines that are not a conv's batch norm: layer norm, group norm, and a scale and
shift (a layer scale γ, tf2onnx's Mul/Add). Each keeps its input's shape, costs no Mult-Adds by the paper's
convention and holds its own γ and β as parameters."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from mobcost.layers.base import Activation, Shape, ShapeError, _Free
from mobcost.limits import MAX_CHANNELS


class _Norm(_Free):
    affine: bool = True  # a learned γ and β per channel: 2·c parameters
    eps: float = Field(1e-5, gt=0)  # the variance's guard: changes no count

    def params(self, x: Shape) -> int:
        return 2 * x.c if self.affine else 0


class LayerNorm(_Norm):
    """Layer norm over the channels at each position (a token's features: nn.LayerNorm on the channel axis, timm's
    LayerNorm2d, ONNX LayerNormalization over the last axis of a token tensor): a mean and a variance over c
    values, then γ and β per channel. 0 Mult-Adds (paper, FlopCounterMode); 2·c parameters."""

    kind: Literal["layernorm"] = "layernorm"
    paper_type: ClassVar[str] = "LayerNorm"

    def filter_shape(self, x: Shape) -> str:
        return f"over {x.c} channels"


class GroupNorm(_Norm):
    """Group norm (nn.GroupNorm): the channels in `groups` groups, each normalized over its c/groups channels and
    every position, then γ and β per channel. 0 Mult-Adds (paper, FlopCounterMode); 2·c parameters."""

    kind: Literal["groupnorm"] = "groupnorm"
    groups: Annotated[int, Field(ge=1, le=MAX_CHANNELS)]
    paper_type: ClassVar[str] = "GroupNorm"

    def output_shape(self, x: Shape) -> Shape:
        if x.c % self.groups:
            raise ShapeError("groups", f"{self.groups} groups must divide the input's {x.c} channels")
        return x

    def filter_shape(self, x: Shape) -> str:
        return f"{self.groups} groups of {x.c // self.groups}"


class Affine(_Free):
    """A per-channel scale and shift that is not a conv's batch norm: y = γ·x + β (timm's layer scale is `scale`
    only, γ; tf2onnx writes a depthwise conv's batch norm as a Mul and an Add). c parameters per term kept; 0
    Mult-Adds by the paper's convention and FlopCounterMode (an element-wise mul and add)."""

    kind: Literal["affine"] = "affine"
    scale: bool = True  # γ: one per channel
    shift: bool = True  # β: one per channel
    paper_type: ClassVar[str] = "Affine"

    @model_validator(mode="after")
    def _some_term(self):
        if not (self.scale or self.shift):
            raise ValueError("an affine has a scale, a shift or both (`scale: false, shift: false` is the identity)")
        return self

    def params(self, x: Shape) -> int:
        return (self.scale + self.shift) * x.c

    def elementwise(self, x: Shape) -> int:
        return (self.scale + self.shift) * x.size

    def filter_shape(self, x: Shape) -> str:
        return " + ".join(term for term, kept in (("γ·x", self.scale), ("β", self.shift)) if kept)


class BatchNorm(_Free):
    """A batch norm of its own, not right after a conv (a pre-activation BN-ReLU-conv, MobileNetV4's attention
    block normalizing its input): counted as any layer's `bn: true`, γ and β per channel and running statistics,
    0 Mult-Adds by the paper's convention; `act` after it."""

    kind: Literal["batchnorm"] = "batchnorm"
    act: Activation | None = None
    paper_type: ClassVar[str] = "BatchNorm"

    def bn_channels(self, x: Shape) -> int:
        return x.c

    def filter_shape(self, x: Shape) -> str:
        return f"{x.c} channels"
