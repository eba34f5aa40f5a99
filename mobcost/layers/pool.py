"""Pooling and resizing: kinds that change the height and width, with no weights and no Mult-Adds by the paper's
convention."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import model_validator

from mobcost.layers.base import Inputs, Name, Padding, Shape, _Kind, out_size
from mobcost.limits import PixelPair, Pixels


class _Pool(_Kind):
    stride: Pixels = 1
    padding: Padding = "valid"
    ceil_mode: bool = False  # round the output size up, as PyTorch's ceil_mode and Caffe's pooling

    def output_shape(self, x: Shape) -> Shape:
        if self.kernel == "global":
            return Shape(1, 1, x.c)
        return Shape(out_size(x.h, self.kernel, self.stride, self.padding, self.ceil_mode),
                     out_size(x.w, self.kernel, self.stride, self.padding, self.ceil_mode), x.c)

    def macs(self, x: Shape) -> int:
        return 0

    def params(self, x: Shape) -> int:
        return 0

    def filter_shape(self, x: Shape) -> str:
        return f"Pool {x.h}×{x.w}" if self.kernel == "global" else f"Pool {self.kernel}×{self.kernel}"


class AvgPool(_Pool):
    """Average pooling, global, k×k, or adaptive to a fixed output size (torchvision's `AdaptiveAvgPool2d((7, 7))`
    in VGG, which keeps the classifier's input at 7×7 whatever the resolution): no Mult-Adds by the paper's
    convention, no parameters."""

    kind: Literal["avgpool"] = "avgpool"
    kernel: Pixels | Literal["global"] = "global"
    output: PixelPair | None = None  # [h, w]: adaptive pooling to this size (with kernel global)
    paper_type: ClassVar[str] = "Avg Pool"

    @model_validator(mode="after")
    def _one_size(self):
        if self.output is not None and (self.kernel != "global" or self.stride != 1 or self.padding != "valid"):
            raise ValueError("an avgpool takes either `output: [h, w]` (adaptive pooling to that size) or a kernel, "
                             "stride and padding, not both")
        return self

    @property
    def adaptive(self) -> tuple[int, int] | None:
        """The fixed output size of an adaptive pool: (1, 1) for a global pool, None for a k×k pool."""
        return self.output or ((1, 1) if self.kernel == "global" else None)

    def output_shape(self, x: Shape) -> Shape:
        return Shape(*self.output, x.c) if self.output else super().output_shape(x)

    def filter_shape(self, x: Shape) -> str:
        return f"Pool {x.h}×{x.w} → {self.output[0]}×{self.output[1]}" if self.output else super().filter_shape(x)


class MaxPool(_Pool):
    """k×k max pooling: no Mult-Adds by the paper's convention, no parameters. Floor or ceil output size must
    be declared: the two differ whenever (n + 2p − k) is not a multiple of the stride (GoogLeNet's 112 → 56)."""

    kind: Literal["maxpool"] = "maxpool"
    kernel: Pixels
    ceil_mode: bool
    paper_type: ClassVar[str] = "Max Pool"


class Upsample(_Kind):
    """Upsampling (resize) by an integer `scale`, to the height and width of the tensor `size_of` names, or to a fixed
    `size: [h, w]` (a crop resized for a box classifier, TF's crop_and_resize), by nearest-neighbour or bilinear
    interpolation (F.interpolate; DeepLabv3's and LR-ASPP's heads): no Mult-Adds by the paper's convention, no weights."""

    kind: Literal["upsample"] = "upsample"
    stride: Literal[1] = 1
    scale: Pixels | None = None
    size_of: Name | None = None  # read for its height and width only
    size: PixelPair | None = None  # [height, width]
    mode: Literal["nearest", "bilinear"] = "nearest"
    align_corners: bool = False  # bilinear only, as F.interpolate's
    paper_type: ClassVar[str] = "Upsample"

    @model_validator(mode="after")
    def _one_size(self):
        if [self.scale, self.size_of, self.size].count(None) != 2:
            raise ValueError("an upsample takes one of `scale: 2`, `size_of: <tensor>` or `size: [h, w]`")
        return self

    def output_shape(self, x: Shape) -> Shape:
        return Shape(*self.size, x.c) if self.size else Shape(x.h * self.scale, x.w * self.scale, x.c)

    def apply(self, inputs: Inputs) -> tuple[Shape, Shape]:
        (_, x), *like = inputs
        return (x, Shape(like[0][1].h, like[0][1].w, x.c)) if like else (x, self.output_shape(x))

    def macs(self, x: Shape) -> int:
        return 0

    def params(self, x: Shape) -> int:
        return 0

    def filter_shape(self, x: Shape) -> str:
        if self.size:
            return f"{self.mode} to {self.size[0]}×{self.size[1]}"
        return f"{self.mode} ×{self.scale}" if self.scale else f"{self.mode} to {self.size_of}"
