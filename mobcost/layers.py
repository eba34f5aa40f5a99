"""Layer kinds: each owns its fields, its shape rule and its Mult-Add and parameter formulas.

Counting convention (the MobileNets paper's, used throughout): a Mult-Add (MAC) is one fused multiply and
add; convolutions and fully connected layers cost Mult-Adds; pooling, softmax, local response normalization,
dropout, flatten, concatenation and residual adds cost none (each is still recorded as a row). Parameters are
the weights, plus one bias per output channel where the spec declares `bias: true`. Every figure is an exact
integer; rounding happens only when a number is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, ClassVar, Literal, Union

from pydantic import (BaseModel, ConfigDict, Discriminator, Field, PlainSerializer, PlainValidator, PositiveInt, Tag,
                      model_validator)

from mobcost.limits import ChannelCount, PadPixels, Pixels, decimal_of

Padding = Union[Literal["same", "valid"], PadPixels]
Channels = Union[ChannelCount, Literal["classes"]]
Activation = Literal["relu", "relu6", "hswish", "hsigmoid", "sigmoid", "swish"]
Width = Literal["scaled", "fixed", "grow"]
"""How α reaches a layer's output channels: always, never, or only when α > 1 (MobileNetV2's last conv)."""
Called = Literal["op", "act"]
"""A part of a layer an implementation calls as a function (F.relu, F.adaptive_avg_pool2d) rather than as a module:
`op` the layer's own operation, `act` its activation. Costs are the same; counters that hook modules see it
differently (ptflops counts a functional call once, thop not at all)."""


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


Ratio = Annotated[Fraction, PlainValidator(_ratio), PlainSerializer(str)]
"""An exact positive ratio written as 6, 2.5 or "184/80" (TF-slim writes MobileNetV3's expansions as ef=184/80.)."""


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

    def channels(self, out: Channels, width: Width) -> int:
        if out == "classes":
            return self.classes
        if width == "fixed" or (width == "grow" and self.alpha <= 1):
            return out
        scaled = self.alpha * out
        if self.divisor is None:
            return max(1, int(scaled))
        return make_divisible(scaled, self.divisor)


def make_divisible(v: Fraction, divisor: int) -> int:
    """The TF-slim/torchvision rounding: nearest multiple of `divisor`, at least `divisor`, never below 90% of v."""
    new_v = max(divisor, int(v + Fraction(divisor, 2)) // divisor * divisor)
    return new_v + divisor if new_v < Fraction(9, 10) * v else new_v


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


class _Kind(BaseModel):
    # defer_build: a kind's validator is built when first used (a spec's Network builds them all at once), not at
    # import, and the forward references to `Layer` in Repeat, Branches and Residual resolve then (bench/startup.py)
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)
    name: str | None = None
    note: str | None = None  # shown under the table, e.g. a typo in the paper's version of this row
    functional: list[Called] = []  # what the implementation calls as a function, not a module (see Called)

    def resolve(self, scaling: Scaling) -> _Kind:
        """This layer with α applied to its declared channel counts."""
        return self

    def fitted(self, x: Shape) -> _Kind:
        """This layer with any width that depends on its input fixed (after `resolve`)."""
        return self

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
    bn: bool = False  # followed by batch norm: no Mult-Adds and no weights by the paper's convention
    act: Activation | None = None  # followed by this activation: no Mult-Adds by the paper's convention


class _Spatial(_Kind):
    kernel: Pixels = 3
    stride: Pixels = 1
    padding: Padding = "same"

    def spatial(self, x: Shape) -> tuple[int, int]:
        return (out_size(x.h, self.kernel, self.stride, self.padding),
                out_size(x.w, self.kernel, self.stride, self.padding))

    def standard_macs(self, x: Shape) -> int:
        y = self.output_shape(x)
        return self.kernel**2 * x.c * y.c * y.h * y.w


class _Widening(_Normed):
    out: Channels
    width: Width = "scaled"
    bias: bool = False

    def resolve(self, scaling: Scaling):
        out = scaling.channels(self.out, self.width)
        return self if out == self.out else self.model_copy(update={"out": out})


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
        return self.kernel * self.kernel * (x.c // self.groups) * y.c * y.h * y.w  # D_K·D_K·(M/g)·N·D_F·D_F

    def params(self, x: Shape) -> int:
        return self.kernel * self.kernel * (x.c // self.groups) * self.out + (self.out if self.bias else 0)

    def filter_shape(self, x: Shape) -> str:
        grouped = f" in {self.groups} groups" if self.groups > 1 else ""
        return f"{self.kernel}×{self.kernel}×{x.c // self.groups}×{self.out}{grouped}"

    def category(self, x: Shape) -> str:
        return f"Conv {self.kernel}×{self.kernel}"


class DepthwiseConv(_Normed, _Spatial):
    """Per-channel k×k convolution (MobileNets eq. 3, 4)."""

    kind: Literal["dw"] = "dw"
    bias: bool = False
    paper_type: ClassVar[str] = "Conv dw"

    def output_shape(self, x: Shape) -> Shape:
        return Shape(*self.spatial(x), x.c)

    def macs(self, x: Shape) -> int:
        y = self.output_shape(x)
        return self.kernel * self.kernel * x.c * y.h * y.w  # D_K·D_K·M·D_F·D_F

    def params(self, x: Shape) -> int:
        return self.kernel * self.kernel * x.c + (x.c if self.bias else 0)

    def filter_shape(self, x: Shape) -> str:
        return f"{self.kernel}×{self.kernel}×{x.c} dw"

    def category(self, x: Shape) -> str:
        return f"Conv DW {self.kernel}×{self.kernel}"


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


class Separable(_Widening, _Kind):
    """Depthwise-separable block: a k×k depthwise conv then a 1×1 pointwise conv (MobileNets eq. 5)."""

    kind: Literal["separable"] = "separable"
    kernel: Pixels = 3
    stride: Pixels = 1
    padding: Padding = "same"

    def parts(self, x: Shape | None = None) -> tuple[DepthwiseConv, Pointwise]:
        """The block's layers, in order, as the trace expands them from the resolved block (α already applied)."""
        common = {"bias": self.bias, "bn": self.bn, "act": self.act, "functional": self.functional}
        return (DepthwiseConv(name="dw", kernel=self.kernel, stride=self.stride, padding=self.padding, **common),
                Pointwise(name="pw", out=self.out, width="fixed", **common))

    def as_conv(self) -> Conv:
        """The full k×k convolution this block replaces (MobileNets Table 4, "Conv MobileNet")."""
        return Conv(name=self.name, note=self.note, kernel=self.kernel, stride=self.stride, padding=self.padding,
                    out=self.out, width=self.width, bias=self.bias, bn=self.bn, act=self.act)


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
    output: Annotated[tuple[Pixels, Pixels], Field(strict=False)] | None = None  # [h, w]: adaptive pooling to this size (with kernel global)
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


class Softmax(_Free):
    """Softmax classifier."""

    kind: Literal["softmax"] = "softmax"
    paper_type: ClassVar[str] = "Softmax"

    def filter_shape(self, x: Shape) -> str:
        return "Classifier"


class Add(_Free):
    """Residual add of a block's input to its output (MobileNetV2 Fig. 3): element-wise, 0 Mult-Adds, no weights."""

    kind: Literal["add"] = "add"
    skip: PositiveInt  # the other operand is the input of the row `skip` rows earlier (the block's input)
    act: Activation | None = None  # after the add (ResNet's ReLU on the sum)
    paper_type: ClassVar[str] = "Add"

    def elementwise(self, x: Shape) -> int:
        return x.size

    def filter_shape(self, x: Shape) -> str:
        return "residual add"


class Scale(_Free):
    """Squeeze-and-excite gating: a 1×1×c gate times the h×w×c tensor it was pooled from, channel by channel."""

    kind: Literal["scale"] = "scale"
    h: PositiveInt
    w: PositiveInt
    skip: PositiveInt  # the scaled tensor is the input of the row `skip` rows earlier (the SE's global pool)
    paper_type: ClassVar[str] = "Scale"

    def output_shape(self, x: Shape) -> Shape:
        return Shape(self.h, self.w, x.c)

    def elementwise(self, x: Shape) -> int:
        return self.h * self.w * x.c

    def filter_shape(self, x: Shape) -> str:
        return f"{self.h}×{self.w}×{x.c} × gate"


class SqueezeExcite(_Kind):
    """Squeeze-and-excite (MobileNetV3 §5.3, Fig. 4): global pool, 1×1 reduce, act, 1×1 expand, gate, scale.

    Squeeze width: make_divisible(c / reduction, divisor) as TF-slim's `squeeze_excite` (squeeze_factor=4,
    divisible_by=8); torchvision's `_make_divisible(c // 4, 8)` agrees whenever c is a multiple of 4, as every
    expansion width rounded to 8 is. Both 1×1 convs carry biases and no batch norm, as in both implementations.
    """

    kind: Literal["se"] = "se"
    stride: Literal[1] = 1
    reduction: PositiveInt = 4
    divisor: PositiveInt = 8
    act: Activation = "relu"
    gate: Activation = "hsigmoid"

    def squeeze(self, c: int) -> int:
        return make_divisible(Fraction(c, self.reduction), self.divisor)

    def parts(self, x: Shape) -> tuple[AvgPool, Pointwise, Pointwise, Scale]:
        return (AvgPool(name="pool"),
                Pointwise(name="reduce", out=self.squeeze(x.c), width="fixed", bias=True, act=self.act),
                Pointwise(name="expand", out=x.c, width="fixed", bias=True, act=self.gate),
                Scale(name="scale", h=x.h, w=x.w, skip=3))


class Bottleneck(_Widening, _Kind):
    """Inverted residual with linear bottleneck, repeated n times (MobileNetV2 Table 1 and 2; MobileNetV3 "bneck").

    1×1 expansion to t·c channels (left out when t = 1), k×k depthwise with the stride (first repeat only), optional
    squeeze-and-excite, linear 1×1 projection, and a residual add when input and output shapes match.
    Mult-Adds per repeat (V2 §5.1): h·w·d'·t·(d' + k² + d'') with the depthwise at the output resolution.
    """

    kind: Literal["bottleneck"] = "bottleneck"
    t: Ratio = Fraction(6)  # expansion factor
    n: PositiveInt = 1  # repeats, as the V2 paper's Table 2 column n
    kernel: Pixels = 3
    stride: Pixels = 1
    se: bool | SqueezeExcite = False  # true: MobileNetV3's; or its settings, e.g. MnasNet's {reduction: 24, ...}
    residual: bool = True
    bn: bool = True
    act: Activation = "relu6"  # of the expansion and the depthwise; the projection is linear (V2 §3.2)
    divisor: PositiveInt | None = None  # the expansion's rounding; default: the network's width_rounding divisor
    exp: ChannelCount | None = None  # the expansion width at α = 1: the V3 tables' "exp size" (c_in·t there)
    expansion: Literal["input", "exp"] = "input"
    """How α reaches the expansion: from the block's input, make_divisible(c_in·t) (TF-slim's expand_input_by_factor,
    Keras), or from the table, make_divisible(α·exp) (torchvision's `adjust_channels(expanded_channels)`)."""

    @model_validator(mode="after")
    def _exp_given(self):
        if self.expansion == "exp" and self.exp is None:
            raise ValueError("`expansion: exp` scales the expansion width `exp` (the table's exp size); give `exp`")
        return self

    def resolve(self, scaling: Scaling) -> Bottleneck:
        exp = scaling.channels(self.exp, "scaled") if self.expansion == "exp" else self.exp
        return self.model_copy(update={"out": scaling.channels(self.out, self.width),
                                       "divisor": self.divisor or scaling.divisor, "exp": exp})

    def expansion_width(self, c: int) -> int:
        """Expanded channels: the scaled table width (`expansion: exp`), else make_divisible(c·t) as TF-slim's
        expand_input_by_factor, else round(c·t) as torchvision's V2 `int(round(inp * expand_ratio))`; the last two
        agree whenever c·t is a multiple of the divisor."""
        if self.expansion == "exp":
            return self.exp
        if self.t == 1:
            return c
        return make_divisible(c * self.t, self.divisor) if self.divisor else round(c * self.t)

    def parts(self, x: Shape) -> tuple[_Kind, ...]:
        layers: list[_Kind] = []
        common = {"bn": self.bn, "act": self.act, "functional": self.functional}
        for k in range(1, self.n + 1):
            prefix = f"{k}/" if self.n > 1 else ""
            e = self.expansion_width(x.c)
            block: list[_Kind] = []
            if (e != x.c) if self.expansion == "exp" else (self.t != 1):  # torchvision: expanded != input
                block.append(Pointwise(name=f"{prefix}expand", out=e, width="fixed", **common))
            dw = DepthwiseConv(name=f"{prefix}dw", kernel=self.kernel, stride=self.stride if k == 1 else 1, **common)
            block.append(dw)
            h, w = dw.spatial(x)
            if self.se:
                se = self.se if isinstance(self.se, SqueezeExcite) else SqueezeExcite()
                block += [part.model_copy(update={"name": f"{prefix}se/{part.name}"})
                          for part in se.parts(Shape(h, w, e))]
            block.append(Pointwise(name=f"{prefix}project", out=self.out, width="fixed", bn=self.bn))
            if self.residual and dw.stride == 1 and x.c == self.out:
                block.append(Add(name=f"{prefix}add", skip=len(block)))
            layers += block
            x = Shape(h, w, self.out)
        return tuple(layers)


class LocalResponseNorm(_Free):
    """Local response normalization across `size` neighbouring channels (AlexNet §3.3, GoogLeNet); PyTorch's
    fields: b = a / (k + α/size · Σ a²)^β."""

    kind: Literal["lrn"] = "lrn"
    size: ChannelCount = 5  # channels summed over, at most every channel
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0
    paper_type: ClassVar[str] = "LRN"

    def filter_shape(self, x: Shape) -> str:
        return f"size {self.size}"


class Dropout(_Free):
    """Dropout: the identity at inference."""

    kind: Literal["dropout"] = "dropout"
    p: float = Field(0.5, ge=0, lt=1)
    paper_type: ClassVar[str] = "Dropout"

    def filter_shape(self, x: Shape) -> str:
        return f"p = {self.p:g}"


class Flatten(_Free):
    """H×W×C → 1×1×(H·W·C), before a fully connected layer."""

    kind: Literal["flatten"] = "flatten"
    paper_type: ClassVar[str] = "Flatten"

    def output_shape(self, x: Shape) -> Shape:
        return Shape(1, 1, x.size)


class Concat(_Free):
    """Where parallel branches meet, made by the trace (not written in specs): its input is the branch outputs
    stacked along channels, which is also its output."""

    kind: Literal["concat"] = "concat"
    widths: tuple[PositiveInt, ...] = ()  # each branch's output channels
    paper_type: ClassVar[str] = "Concat"

    def filter_shape(self, x: Shape) -> str:
        return " + ".join(map(str, self.widths))


class Unknown(_Free):
    """An operator of an imported model that mobcost has no rule for, kept as a marked row of 0 Mult-Adds and 0
    parameters (`mobcost import --unknown zero`), assumed to keep its input's shape: never a silent zero."""

    kind: Literal["unknown"] = "unknown"
    op: str = Field(pattern=r"^[A-Za-z0-9_.:]{1,64}$")  # the ONNX operator, e.g. GridSample
    paper_type: ClassVar[str] = "Unknown"

    def filter_shape(self, x: Shape) -> str:
        return f"{self.op}: not counted"


class Repeat(_Kind):
    """A group of layers repeated `repeat` times, as the paper's "5×" rows."""

    kind: Literal["repeat"] = "repeat"
    repeat: PositiveInt
    layers: list[Layer] = Field(min_length=1)


class Branches(_Kind):
    """Parallel branches from one input, concatenated along channels (GoogLeNet's Inception module, SqueezeNet's
    fire module); an empty branch passes its input through."""

    kind: Literal["concat"] = "concat"
    branches: list[list[Layer]] = Field(min_length=2)


class Residual(_Kind):
    """A body and a shortcut added element-wise (ResNet, He et al. 2015 eq. 1 and 2): the shortcut is the identity
    unless it lists its own layers (a projection, eq. 2)."""

    kind: Literal["residual"] = "residual"
    layers: list[Layer] = Field(min_length=1)
    shortcut: list[Layer] = []
    act: Activation | None = None  # after the add: torchvision's ResNet applies ReLU to the sum (He et al. eq. 1)


def kind_of(value) -> str | None:
    """The union tag of a layer given as data: its `kind`, or `repeat` for a repeated group."""
    if isinstance(value, dict):
        return value.get("kind", "repeat" if "repeat" in value else None)
    return getattr(value, "kind", None)


LAYER_KINDS = (Conv, DepthwiseConv, Pointwise, Separable, Bottleneck, SqueezeExcite, AvgPool, MaxPool, FullyConnected,
               Softmax, LocalResponseNorm, Dropout, Flatten, Unknown, Branches, Residual, Repeat)
Layer = Annotated[
    Union[tuple(Annotated[k, Tag(k.model_fields["kind"].default)] for k in LAYER_KINDS)],
    Discriminator(kind_of, custom_error_type="layer_kind",
                  custom_error_message="unknown layer kind; expected one of "
                                       + ", ".join(k.model_fields["kind"].default for k in LAYER_KINDS)),
]
Leaf = Union[Conv, DepthwiseConv, Pointwise, AvgPool, MaxPool, FullyConnected, Softmax, LocalResponseNorm, Dropout,
             Flatten, Concat, Add, Scale, Unknown]
Repeat.model_rebuild()
Branches.model_rebuild()
Residual.model_rebuild()
