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
                      WithJsonSchema, model_validator)

from mobcost.limits import MAX_CHANNELS, ChannelCount, PadPixels, PixelPair, Pixels, decimal_of

Padding = Union[Literal["same", "valid"], PadPixels]
Channels = Union[ChannelCount, Literal["classes"]]
Activation = Literal["relu", "relu6", "hswish", "hardswish", "hsigmoid", "hardsigmoid", "sigmoid", "silu", "swish",
                     "gelu", "leaky_relu"]
"""hardswish = hswish, hardsigmoid = hsigmoid and swish = silu (x·σ(x)): each pair is one function, two names."""
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

    def repeats(self, n: int) -> int:
        """ceil(n · depth), as EfficientNet's `int(math.ceil(num_layers * depth_mult))`."""
        return math.ceil(n * self.depth)

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
    bn: bool = False  # followed by batch norm: no Mult-Adds and no weights by the paper's convention
    act: Activation | None = None  # followed by this activation: no Mult-Adds by the paper's convention


class _Spatial(_Kind):
    kernel: Pixels = 3
    stride: Pixels = 1
    padding: Padding = "same"
    dilation: Pixels = 1  # atrous (DeepLab): taps `dilation` pixels apart, spanning dilation·(k − 1) + 1 pixels

    def spatial(self, x: Shape) -> tuple[int, int]:
        span = self.dilation * (self.kernel - 1) + 1
        return (out_size(x.h, span, self.stride, self.padding), out_size(x.w, span, self.stride, self.padding))

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


class Join(_Free):
    """A layer that reads several tensors, named in `from:`, and combines them into one."""

    from_: list[Name] | None = Field(None, alias="from", min_length=2, max_length=64)

    def combine(self, inputs: Inputs) -> Shape:
        """The shape this layer works on, from its named inputs; a ShapeError names the two that do not fit."""
        raise NotImplementedError

    def apply(self, inputs: Inputs) -> tuple[Shape, Shape]:
        x = self.combine(inputs)
        return x, self.output_shape(x)


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
    """Squeeze-and-excite gating (`from: [gate, x]`): a 1×1×c gate times the h×w×c tensor x, channel by channel."""

    kind: Literal["scale"] = "scale"
    from_: list[Name] | None = Field(None, alias="from", min_length=2, max_length=2)
    paper_type: ClassVar[str] = "Scale"

    def combine(self, inputs: Inputs) -> Shape:
        (gate, g), (name, x) = inputs
        if (g.h, g.w, g.c) != (1, 1, x.c):
            raise ShapeError("from", f"cannot scale {name!r} ({x}) by {gate!r} ({g}): the gate must be 1×1×{x.c}")
        return x

    def elementwise(self, x: Shape) -> int:
        return x.size

    def filter_shape(self, x: Shape) -> str:
        return f"{x} × gate"


class _Excite(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    reduction: PositiveInt = 4  # squeeze width = base channels / reduction
    divisor: PositiveInt | None = 8  # rounding of the squeeze width: make_divisible, or None for max(1, c // reduction)
    act: Activation = "relu"
    gate: Activation = "hsigmoid"

    def squeeze(self, c: int) -> int:
        """make_divisible(c / reduction, divisor) as TF-slim's `squeeze_excite` (MobileNetV3), or max(1, c // reduction) as
        torchvision's EfficientNet (`max(1, input_channels // 4)`)."""
        if self.divisor is None:
            return max(1, c // self.reduction)
        return make_divisible(Fraction(c, self.reduction), self.divisor)

    def excite(self, x: Shape, base: int, source: str = "input", prefix: str = "") -> tuple[_Kind, ...]:
        """Global pool, 1×1 reduce to squeeze(base) channels, act, 1×1 expand back to x.c, gate, scale `source`."""
        return (AvgPool(name=f"{prefix}pool"),
                Pointwise(name=f"{prefix}reduce", out=self.squeeze(base), width="fixed", bias=True, act=self.act),
                Pointwise(name=f"{prefix}expand", out=x.c, width="fixed", bias=True, act=self.gate),
                Scale(name=f"{prefix}scale", from_=[f"{prefix}expand", source]))


class Excite(_Excite):
    """A bottleneck's squeeze-and-excite: squeezed from the expanded width (V3) or from the block's input (EfficientNet)."""

    squeeze_from: Literal["expanded", "input"] = "expanded"


class SqueezeExcite(_Excite, _Kind):
    """Squeeze-and-excite (Hu et al. 2018; MobileNetV3 §5.3, Fig. 4): global pool, 1×1 reduce, act, 1×1 expand, gate,
    scale. Both 1×1 convs carry biases and no batch norm, as TF-slim and torchvision build them. The squeeze width is
    computed from the channels of `squeeze_from` (an earlier tensor's name), by default from the SE's own input.
    """

    kind: Literal["se"] = "se"
    stride: Literal[1] = 1
    squeeze_from: Name | None = None

    def parts(self, x: Shape, base: int | None = None) -> tuple[_Kind, ...]:
        return self.excite(x, x.c if base is None else base)


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
    dilation: Pixels = 1  # of the depthwise conv (atrous, as torchvision's `dilated=True` and DeepLab's output stride)
    se: bool | Excite = False  # true: MobileNetV3's (squeeze from the expanded width ÷ 4, rounded to 8, hsigmoid)
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
        return self.model_copy(update={"out": scaling.channels(self.out, self.width), "n": scaling.repeats(self.n),
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
        """The block's layers in order; `from:` names a part of the same block, or `input`, the block's input."""
        layers: list[_Kind] = []
        common = {"bn": self.bn, "act": self.act, "functional": self.functional}
        excite = Excite() if self.se is True else self.se or None
        source = "input"
        for k in range(1, self.n + 1):
            prefix = f"{k}/" if self.n > 1 else ""
            e = self.expansion_width(x.c)
            block: list[_Kind] = []
            if (e != x.c) if self.expansion == "exp" else (self.t != 1):  # torchvision: expanded != input
                block.append(Pointwise(name=f"{prefix}expand", out=e, width="fixed", **common))
            dw = DepthwiseConv(name=f"{prefix}dw", kernel=self.kernel, stride=self.stride if k == 1 else 1,
                               dilation=self.dilation, **common)
            block.append(dw)
            h, w = dw.spatial(x)
            if excite:
                base = x.c if excite.squeeze_from == "input" else e
                block += excite.excite(Shape(h, w, e), base, f"{prefix}dw", f"{prefix}se/")
            block.append(Pointwise(name=f"{prefix}project", out=self.out, width="fixed", bn=self.bn))
            if self.residual and dw.stride == 1 and x.c == self.out:
                block.append(Add(name=f"{prefix}add", from_=[f"{prefix}project", source]))
            layers += block
            source = block[-1].name
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


class Split(_Free):
    """Channel split (ShuffleNetV2 §3, Fig. 3c): the input's channels in `sections` equal parts, keeping part
    `take` (0-based), as `x.chunk(sections, dim=1)[take]`; no Mult-Adds, no weights."""

    kind: Literal["split"] = "split"
    sections: Annotated[int, Field(ge=2, le=MAX_CHANNELS)] = 2
    take: Annotated[int, Field(ge=0, lt=MAX_CHANNELS)] = 0
    paper_type: ClassVar[str] = "Split"

    def output_shape(self, x: Shape) -> Shape:
        if x.c % self.sections:
            raise ShapeError("sections", f"{self.sections} sections must divide the input's {x.c} channels")
        if self.take >= self.sections:
            raise ShapeError("take", f"part {self.take} of {self.sections} does not exist (parts count from 0)")
        return Shape(x.h, x.w, x.c // self.sections)

    def filter_shape(self, x: Shape) -> str:
        return f"part {self.take} of {self.sections}"


class Shuffle(_Free):
    """Channel shuffle (ShuffleNet §3.1, Fig. 1): c channels as `groups` × c/groups, transposed; a permutation, no
    Mult-Adds, no weights."""

    kind: Literal["shuffle"] = "shuffle"
    groups: Annotated[int, Field(ge=2, le=MAX_CHANNELS)] = 2
    paper_type: ClassVar[str] = "Shuffle"

    def output_shape(self, x: Shape) -> Shape:
        if x.c % self.groups:
            raise ShapeError("groups", f"{self.groups} groups must divide the input's {x.c} channels")
        return x

    def filter_shape(self, x: Shape) -> str:
        return f"{self.groups} groups"


class ShuffleUnit(_Widening, _Kind):
    """ShuffleNetV2's building block (Ma et al. 2018, Fig. 3c and 3d; Table 5's rows), repeated n times, the first
    with the stride. Stride 1: split the channels in two, keep one half, and run the other through 1×1 conv, 3×3
    depthwise, 1×1 conv; concatenate and shuffle. Stride 2 (spatial down sampling): both halves read the whole
    input, one through 3×3 depthwise and 1×1 conv, the other through 1×1, depthwise, 1×1; each gives out/2 channels.
    Every conv has batch norm; the 1×1 convs have `act` (ReLU), the depthwise convs none."""

    kind: Literal["shuffle_unit"] = "shuffle_unit"
    n: PositiveInt = 1
    stride: Pixels = 1
    kernel: Pixels = 3
    act: Activation = "relu"
    down: Literal["half", "input"] = "half"
    """The down-sampling unit's widths: out/2 from each branch (torchvision), or the input's c channels from the
    depthwise branch and out − c from the other (the authors' implementation, megvii-model/ShuffleNet-Series)."""

    def resolve(self, scaling: Scaling) -> ShuffleUnit:
        return self.model_copy(update={"out": scaling.channels(self.out, self.width), "n": scaling.repeats(self.n)})

    def parts(self, x: Shape) -> tuple[_Kind, ...]:
        if self.out % 2:
            raise ShapeError("out", f"a shuffle unit's {self.out} output channels must split in two halves")
        half, layers, source = self.out // 2, [], "input"
        for k in range(1, self.n + 1):
            p = f"{k}/" if self.n > 1 else ""
            down = k == 1 and self.stride > 1
            dw = {"kernel": self.kernel, "stride": self.stride if down else 1, "bn": True}
            right = half
            if down:
                left_out = x.c if self.down == "input" else half
                right = self.out - left_out
                layers += [DepthwiseConv(name=f"{p}b1/dw", from_=source, **dw),
                           Pointwise(name=f"{p}b1/pw", out=left_out, width="fixed", bn=True, act=self.act)]
                left = f"{p}b1/pw"
            else:
                layers.append(Split(name=f"{p}left", from_=source, sections=2, take=0))
                left = f"{p}left"
                layers.append(Split(name=f"{p}right", from_=source, sections=2, take=1))
            layers += [Pointwise(name=f"{p}b2/pw1", from_=None if not down else source, out=half, width="fixed",
                                 bn=True, act=self.act),
                       DepthwiseConv(name=f"{p}b2/dw", **dw),
                       Pointwise(name=f"{p}b2/pw2", out=right, width="fixed", bn=True, act=self.act),
                       Concat(name=f"{p}concat", from_=[left, f"{p}b2/pw2"]),
                       Shuffle(name=f"{p}shuffle", groups=2)]
            source = f"{p}shuffle"
        return tuple(layers)


class Repeat(_Kind):
    """A group of layers repeated `repeat` times, as the paper's "5×" rows."""

    kind: Literal["repeat"] = "repeat"
    repeat: PositiveInt
    layers: list[Layer] = Field(min_length=1)


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
               Softmax, LocalResponseNorm, Dropout, Flatten, Unknown, Concat, Add, Scale, Upsample, Split, Shuffle, ShuffleUnit,
               Residual, Repeat)
Layer = Annotated[
    Union[tuple(Annotated[k, Tag(k.model_fields["kind"].default)] for k in LAYER_KINDS)],
    Discriminator(kind_of, custom_error_type="layer_kind",
                  custom_error_message="unknown layer kind; expected one of "
                                       + ", ".join(k.model_fields["kind"].default for k in LAYER_KINDS)),
]
Leaf = Union[Conv, DepthwiseConv, Pointwise, AvgPool, MaxPool, FullyConnected, Softmax, LocalResponseNorm, Dropout,
             Flatten, Concat, Add, Scale, Upsample, Split, Shuffle, Unknown]
Repeat.model_rebuild()
Concat.model_rebuild()
Residual.model_rebuild()
