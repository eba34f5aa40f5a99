"""Convolutions and the fully connected layer: the kinds that cost Mult-Adds (MobileNets eq. 1–5)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import PositiveInt

from mobcost.layers.base import Channels, Padding, Ratio, Shape, ShapeError, _Kind, _Normed, _Spatial, _Widening
from mobcost.limits import Pixels


class Conv(_Widening, _Spatial):
    """Standard k×k convolution (MobileNets eq. 2), optionally grouped: each of g groups maps M/g input channels
    to N/g output channels (AlexNet's two towers, Krizhevsky et al. 2012 Fig. 2)."""

    kind: Literal["conv"] = "conv"
    groups: PositiveInt = 1
    paper_type: ClassVar[str] = "Conv"

    def output_shape(self, x: Shape) -> Shape:
        if x.c % self.groups or self.out % self.groups:
            raise ShapeError("groups", f"{self.groups} groups must divide both the input channels ({x.c}) and "
                                       f"the output channels ({self.out})")
        return Shape(*self.spatial(x), self.out)

    def macs(self, x: Shape) -> int:
        y = self.output_shape(x)
        return self.taps * (x.c // self.groups) * y.c * y.h * y.w  # D_K·D_K·(M/g)·N·D_F·D_F

    def params(self, x: Shape) -> int:
        return self.taps * (x.c // self.groups) * self.out + (self.out if self.bias else 0)

    def filter_shape(self, x: Shape) -> str:
        grouped = f" in {self.groups} groups" if self.groups > 1 else ""
        return f"{self.kernel_text}×{x.c // self.groups}×{self.out}{grouped}"

    def category(self, x: Shape) -> str:
        return f"Conv {self.kernel_text}"


class DepthwiseConv(_Normed, _Spatial):
    """Per-channel k×k convolution (MobileNets eq. 3, 4)."""

    kind: Literal["dw"] = "dw"
    bias: bool = False
    paper_type: ClassVar[str] = "Conv dw"

    def output_shape(self, x: Shape) -> Shape:
        return Shape(*self.spatial(x), x.c)

    def macs(self, x: Shape) -> int:
        y = self.output_shape(x)
        return self.taps * x.c * y.h * y.w  # D_K·D_K·M·D_F·D_F

    def params(self, x: Shape) -> int:
        return self.taps * x.c + (x.c if self.bias else 0)

    def filter_shape(self, x: Shape) -> str:
        return f"{self.kernel_text}×{x.c} dw"

    def category(self, x: Shape) -> str:
        return f"Conv DW {self.kernel_text}"


class Pointwise(_Widening, _Kind):
    """1×1 convolution mixing channels (MobileNets eq. 5, second term)."""

    kind: Literal["pw"] = "pw"
    stride: Literal[1] = 1
    # output = expand × input channels, in place of `out`: torchvision's and Keras' MobileNetV3 last conv is 6 × the
    # last block's width, where TF-slim's is make_divisible(960·α)
    expand: Ratio | None = None
    paper_type: ClassVar[str] = "Conv"

    def fitted(self, x: Shape) -> Pointwise:
        if self.expand is None:
            return self
        return self.model_copy(update={"out": int(self.expand * x.c), "expand": None})

    def output_shape(self, x: Shape) -> Shape:
        return Shape(x.h, x.w, self.out)

    def macs(self, x: Shape) -> int:
        return x.c * self.out * x.h * x.w  # M·N·D_F·D_F

    standard_macs = macs

    def params(self, x: Shape) -> int:
        return x.c * self.out + (self.out if self.bias else 0)

    def filter_shape(self, x: Shape) -> str:
        return f"1×1×{x.c}×{self.out}"

    def category(self, x: Shape) -> str:
        return "Conv 1×1"


class FullyConnected(_Widening, _Kind):
    """Fully connected layer over the flattened input: in × out Mult-Adds."""

    kind: Literal["fc"] = "fc"
    out: Channels = "classes"
    bias: bool = True
    stride: Literal[1] = 1
    paper_type: ClassVar[str] = "FC"

    def output_shape(self, x: Shape) -> Shape:
        return Shape(1, 1, self.out)

    def macs(self, x: Shape) -> int:
        return x.size * self.out

    def params(self, x: Shape) -> int:
        return x.size * self.out + (self.out if self.bias else 0)

    def filter_shape(self, x: Shape) -> str:
        return f"{x.size}×{self.out}"

    def category(self, x: Shape) -> str:
        return "Fully Connected"


class Linear(Pointwise):
    """A linear layer applied to every position's channels (a transformer's token-wise nn.Linear, ONNX MatMul by a
    c_in × c_out weight on a token tensor): a 1×1 convolution's Mult-Adds and weights, c_in·c_out per position,
    c_in·c_out·h·w in all."""

    kind: Literal["linear"] = "linear"
    paper_type: ClassVar[str] = "Linear"

    def filter_shape(self, x: Shape) -> str:
        return f"{x.c}×{self.out} per position"

    def category(self, x: Shape) -> str:
        return "Linear"
