"""What every layer kind shares: shapes, the width multiplier's rounding, output sizes, the field types, and the
base classes whose fields several kinds take (kernel and stride, batch norm and activation, output channels)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, Literal, Union

from pydantic import (BaseModel, ConfigDict, Discriminator, Field, PlainSerializer, PlainValidator, Tag, WithJsonSchema,
                      model_validator)

from mobcost.limits import ChannelCount, PadPixels, PixelPair, Pixels, decimal_of

Padding = Union[Literal["same", "valid"], PadPixels]
Channels = Union[ChannelCount, Literal["classes"]]
Activation = Literal["relu", "relu6", "hswish", "hardswish", "hsigmoid", "hardsigmoid", "sigmoid", "silu", "swish",
                     "gelu", "leaky_relu"]
"""hardswish = hswish, hardsigmoid = hsigmoid and swish = silu (x·σ(x)): each pair is one function, two names."""


class MakeDivisible(BaseModel):
    """make_divisible(α·c, divisor): the nearest multiple of `divisor`, never below 90% of α·c (TF-slim, Keras,
    torchvision)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, defer_build=True)
    divisor: ChannelCount = 8
    truncate: bool = False  # int(α·c) first: Keras MobileNetV2's `_make_divisible(int(filters * alpha), 8)`


def _word_or_mapping(value) -> str:
    return "mapping" if isinstance(value, (dict, BaseModel)) else "word"


Rounding = Annotated[Union[Annotated[Literal["int"], Tag("word")], Annotated[MakeDivisible, Tag("mapping")]],
                     Discriminator(_word_or_mapping)]
"""How α·c becomes a whole channel count: `int` truncates (MobileNet V1's int(α·c)), `{divisor: 8}` rounds to a
multiple of 8 (make_divisible)."""
Arithmetic = Literal["exact", "float"]
"""How α·c (and an expansion c·t) is computed before it is rounded: exactly, as the papers' arithmetic, or as the
implementation computes it, a Python float product (torchvision's `_make_divisible(c * width_mult, 8)`, Keras'
`_depth(v * alpha)` and `int(filters * alpha)`, TF-slim's `_make_divisible(d * multiplier, 8)`): where α·c is 8k + 4
or a whole number and the float product lands just below, the two round apart (V3-Large at α = 0.58: 8·… + 4)."""


class WidthRule(BaseModel):
    """α on a layer's output channels with a rounding of its own and a floor: `{rounding: int, min: 16}` is the TF
    object detection API's depth for its extra feature layers, max(int(α·c), 16) (feature_map_generators.py
    `get_depth_fn` with the configs' `min_depth: 16`); with a divisor it is TF-slim's
    `_make_divisible(α·c, divisor, min_value)`."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, defer_build=True)
    rounding: Rounding | None = None  # default: the network's width_rounding
    min: ChannelCount | None = None  # the floor; default: 1 for `int`, the divisor for make_divisible


Width = Annotated[Union[Annotated[Literal["scaled", "fixed", "grow"], Tag("word")],
                        Annotated[WidthRule, Tag("mapping")]], Discriminator(_word_or_mapping)]
"""How α reaches a layer's output channels: always, never, only when α > 1 (MobileNetV2's last conv), or always
with the layer's own rounding and floor (a `WidthRule`)."""
Called = Literal["op", "act", "method"]
"""A part of a layer an implementation calls as a function (F.relu, F.adaptive_avg_pool2d) rather than as a module:
`op` the layer's own operation, `act` its activation; or `method`: the layer's own operation is a tensor method
(torchvision's `x.mean([2, 3])` global pool, in MnasNet and ShuffleNetV2), on the kinds that take one
(`takes_method`). Costs are the same; counters see them differently (a functional call: ptflops once, thop not at
all; a tensor method: fvcore, ptflops and thop not at all)."""


def _ratio(value) -> Fraction:
    ratio = None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        ratio = Fraction(value) if isinstance(value, int) else Fraction(str(value))
    elif isinstance(value, str):
        parts = [decimal_of(part) for part in value.split("/")] if value.count("/") <= 1 else [None]
        if None not in parts and parts[-1]:
            ratio = Fraction(parts[0]) / Fraction(parts[-1]) if len(parts) == 2 else Fraction(parts[0])
    if ratio is None or ratio <= 0:
        raise ValueError("expected a positive ratio such as 6, 2.5 or 184/80 (ASCII digits, an exponent of at most ±100)")
    return ratio


Ratio = Annotated[Fraction, PlainValidator(_ratio), PlainSerializer(str), WithJsonSchema(
    {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": r"^\s*\d+(\.\d+)?(/\d+)?\s*$"}],
     "description": "An exact positive ratio: 6, 2.5 or \"184/80\"."})]
"""An exact positive ratio written as 6, 2.5 or "184/80" (TF-slim writes MobileNetV3's expansions as ef=184/80.)."""


Inputs = list[tuple[str, "Shape"]]
"""The tensors a layer reads, in order: (name, shape)."""


class ShapeError(ValueError):
    """A layer cannot be applied to its input; `field` names the field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Shape:
    """One image's feature map: height, width, channels (no batch dimension)."""

    h: int
    w: int
    c: int

    def __str__(self) -> str:
        return f"{self.h}×{self.w}×{self.c}"

    @property
    def size(self) -> int:
        return self.h * self.w * self.c


@dataclass(frozen=True)
class Scaling:
    """The width multiplier α and the network's rule for rounding α·c to a whole channel count."""

    alpha: Fraction
    classes: int
    divisor: int | None = None  # None: int(α·c), as MobileNet V1; else make_divisible(α·c, divisor)
    depth: Fraction = Fraction(1)  # compound scaling's depth coefficient: repeats become ceil(n · depth)
    arithmetic: Arithmetic = "exact"

    def times(self, c: int, factor: Fraction) -> Fraction | float:
        """c · factor, exactly or as the implementation's float product `c * float(factor)`."""
        return c * float(factor) if self.arithmetic == "float" else c * factor

    def repeats(self, n: int) -> int:
        """ceil(n · depth), as EfficientNet's `int(math.ceil(num_layers * depth_mult))`."""
        return math.ceil(n * self.depth)

    def channels(self, out: Channels, width: Width) -> int:
        if out == "classes":
            return self.classes
        if width == "fixed" or (width == "grow" and self.alpha <= 1):
            return out
        scaled = self.times(out, self.alpha)
        divisor, floor = self.divisor, None
        if isinstance(width, WidthRule):
            floor = width.min
            if width.rounding is not None:
                divisor = None if width.rounding == "int" else width.rounding.divisor
                if isinstance(width.rounding, MakeDivisible) and width.rounding.truncate:
                    scaled = type(scaled)(int(scaled))  # an int, in the arithmetic the rest uses
        if divisor is None:
            return max(floor or 1, int(scaled))
        return make_divisible(scaled, divisor, floor)


def make_divisible(v: Fraction | float, divisor: int, min_value: int | None = None) -> int:
    """The TF-slim/torchvision rounding: nearest multiple of `divisor`, at least `min_value` (default `divisor`),
    never below 90% of v; for a float v, in float arithmetic as the implementations compute it
    (`int(v + divisor / 2)`, `new_v < 0.9 * v`)."""
    half, most = (divisor / 2, 0.9) if isinstance(v, float) else (Fraction(divisor, 2), Fraction(9, 10))
    new_v = max(divisor if min_value is None else min_value, int(v + half) // divisor * divisor)
    return new_v + divisor if new_v < most * v else new_v


def out_size(n: int, kernel: int, stride: int, padding: Padding, ceil_mode: bool = False) -> int:
    """Output length along one axis: `same` is ceil(n / stride) as in TensorFlow, else ⌊(n + 2p − k) / s⌋ + 1,
    or ⌈(n + 2p − k) / s⌉ + 1 in ceil mode, less one if that last window would start in the right padding
    (PyTorch's `ceil_mode`, as Caffe's pooling)."""
    if padding == "same":
        return -(-n // stride)
    pad = 0 if padding == "valid" else padding
    span = n + 2 * pad - kernel
    if span < 0:
        raise ShapeError("kernel", f"a {kernel}×{kernel} kernel with stride {stride} and padding {padding!r} "
                                   f"leaves nothing of a {n}-pixel feature map")
    if not ceil_mode:
        return span // stride + 1
    size = -(-span // stride) + 1
    return size - 1 if (size - 1) * stride >= n + pad else size


Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Kind(BaseModel):
    # defer_build: a kind's validator is built when first used (a spec's Network builds them all at once), not at
    # import, and the forward references to `Layer` in Repeat, Branches and Residual resolve then (bench/startup.py)
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False, defer_build=True,
                              populate_by_name=True)
    name: Name | None = None  # names this layer's output tensor (a block's: its last part's)
    note: str | None = None  # shown under the table, e.g. a typo in the paper's version of this row
    functional: list[Called] = []  # what the implementation calls as a function, not a module (see Called)
    from_: Name | None = Field(None, alias="from")  # the tensor this layer reads; default: the previous layer's
    part: Name | None = None  # groups rows in tables (backbone, extras, heads); default: the previous layer's

    @property
    def takes_method(self) -> bool:
        """Whether an implementation may compute this layer's operation as a tensor method (`functional: [method]`):
        only where what each counter makes of that method was measured (a global average pool, `x.mean([2, 3])`)."""
        return False

    @model_validator(mode="after")
    def _method(self):
        if "method" in self.functional and ("op" in self.functional or not self.takes_method):
            raise ValueError("`functional: [method]` (the operation as a tensor method) is for a global avgpool "
                             "computed as x.mean([2, 3]), and excludes `op`")
        return self

    def resolve(self, scaling: Scaling) -> _Kind:
        """This layer with α applied to its declared channel counts."""
        return self

    def fitted(self, x: Shape) -> _Kind:
        """This layer with any width that depends on its input fixed (after `resolve`)."""
        return self

    def apply(self, inputs: Inputs) -> tuple[Shape, Shape]:
        """The shape this layer works on and its output, from the tensors it reads (by name, in order)."""
        x = inputs[0][1]
        return x, self.output_shape(x)

    def standard_macs(self, x: Shape) -> int | None:
        """Mult-Adds of a standard convolution with this layer's kernel, input and output shapes."""
        return None

    def category(self, x: Shape) -> str:
        """The layer type as MobileNets Table 2 groups it."""
        return self.paper_type

    def elementwise(self, x: Shape) -> int:
        """Element-wise multiplies or adds (residual add, SE scale): 0 Mult-Adds by the paper's convention."""
        return 0

    def bn_channels(self, x: Shape) -> int:
        """Channels normalized by a batch norm after this layer (each has γ, β and a running mean and variance)."""
        return self.output_shape(x).c if getattr(self, "bn", False) else 0


class _Normed(BaseModel):
    model_config = ConfigDict(defer_build=True)  # a mixin: no validator of its own at import (bench/startup.py)

    bn: bool = False  # followed by batch norm: no Mult-Adds and no weights by the paper's convention
    act: Activation | None = None  # followed by this activation: no Mult-Adds by the paper's convention


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    """(height, width) of a kernel or stride written as one number (square) or as [h, w]."""
    return (value, value) if isinstance(value, int) else tuple(value)


def _one_or_pair(value) -> str:
    return "pair" if isinstance(value, (list, tuple)) else "one"


PixelsOrPair = Annotated[Union[Annotated[Pixels, Tag("one")], Annotated[PixelPair, Tag("pair")]],
                         Discriminator(_one_or_pair)]
"""k, or [h, w]: a number is held to the pixels' rules alone, a list to the pair's (one error, not both)."""


class _Spatial(_Kind):
    kernel: PixelsOrPair = 3  # k, or [kh, kw] (a 1×7 conv: [1, 7])
    stride: PixelsOrPair = 1  # s, or [sh, sw]
    padding: Padding = "same"
    dilation: Pixels = 1  # atrous (DeepLab): taps `dilation` pixels apart, spanning dilation·(k − 1) + 1 pixels

    @property
    def taps(self) -> int:
        """kh·kw: the kernel's positions (D_K·D_K when square)."""
        kh, kw = pair(self.kernel)
        return kh * kw

    @property
    def kernel_text(self) -> str:
        return "×".join(map(str, pair(self.kernel)))

    def spatial(self, x: Shape) -> tuple[int, int]:
        (kh, kw), (sh, sw) = pair(self.kernel), pair(self.stride)
        span_h, span_w = (self.dilation * (k - 1) + 1 for k in (kh, kw))
        return (out_size(x.h, span_h, sh, self.padding), out_size(x.w, span_w, sw, self.padding))

    def standard_macs(self, x: Shape) -> int:
        y = self.output_shape(x)
        return self.taps * x.c * y.c * y.h * y.w


class _Widening(_Normed):
    out: Channels
    width: Width = "scaled"
    bias: bool = False

    def resolve(self, scaling: Scaling):
        out = scaling.channels(self.out, self.width)
        return self if out == self.out else self.model_copy(update={"out": out})


class _Free(_Kind):
    """A layer with no Mult-Adds and no parameters by the paper's convention, which keeps its input's shape."""

    stride: Literal[1] = 1

    def output_shape(self, x: Shape) -> Shape:
        return x

    def macs(self, x: Shape) -> int:
        return 0

    def params(self, x: Shape) -> int:
        return 0


    def filter_shape(self, x: Shape) -> str:
        return ""
