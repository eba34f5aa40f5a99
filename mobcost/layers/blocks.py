"""Blocks: kinds that expand into several layers (squeeze-and-excite, the inverted residual, ShuffleNetV2's unit, a
repeated group, a residual body with its shortcut)."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from mobcost.layers.base import (Activation, Arithmetic, Name, Padding, Ratio, Scaling, Shape, ShapeError, _Kind, _Widening,
                                 make_divisible)
from mobcost.layers.conv import Conv, DepthwiseConv, Pointwise
from mobcost.layers.join import Add, Concat, Scale
from mobcost.layers.pool import AvgPool
from mobcost.layers.norm import Affine
from mobcost.layers.tensor import Shuffle, Slice, Split
from mobcost.limits import ChannelCount, Pixels

if TYPE_CHECKING:
    from mobcost.layers import Layer


class _Excite(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
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
    arithmetic: Arithmetic | None = None  # how c_in·t is computed; default: the network's width_arithmetic
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
                                       "divisor": self.divisor or scaling.divisor, "exp": exp,
                                       "arithmetic": self.arithmetic or scaling.arithmetic})

    def expansion_width(self, c: int) -> int:
        """Expanded channels: the scaled table width (`expansion: exp`), else make_divisible(c·t) as TF-slim's
        expand_input_by_factor, else round(c·t) as torchvision's V2 `int(round(inp * expand_ratio))`; the last two
        agree whenever c·t is a multiple of the divisor."""
        if self.expansion == "exp":
            return self.exp
        if self.t == 1:
            return c
        scaled = c * float(self.t) if self.arithmetic == "float" else c * self.t
        return make_divisible(scaled, self.divisor) if self.divisor else round(scaled)

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


class Separable(_Widening, _Kind):
    """Depthwise-separable block: a k×k depthwise conv then a 1×1 pointwise conv (MobileNets eq. 5); with `se`, a
    squeeze-and-excite between them, squeezing the depthwise output (PP-LCNet's last blocks, timm's
    DepthwiseSeparableConv: squeeze c / 4, ReLU, h-sigmoid gate)."""

    kind: Literal["separable"] = "separable"
    kernel: Pixels = 3
    stride: Pixels = 1
    padding: Padding = "same"
    se: bool | Excite = False  # true: squeeze to c / 4 (no rounding), ReLU, h-sigmoid gate, as PP-LCNet

    def parts(self, x: Shape | None = None) -> tuple[_Kind, ...]:
        """The block's layers, in order, as the trace expands them from the resolved block (α already applied)."""
        common = {"bias": self.bias, "bn": self.bn, "act": self.act, "functional": self.functional}
        dw = DepthwiseConv(name="dw", kernel=self.kernel, stride=self.stride, padding=self.padding, **common)
        excite = Excite(divisor=None) if self.se is True else self.se or None
        se = excite.excite(Shape(*dw.spatial(x), x.c), x.c, "dw", "se/") if excite else ()
        return (dw, *se, Pointwise(name="pw", out=self.out, width="fixed", **common))

    def as_conv(self) -> Conv:
        """The full k×k convolution this block replaces (MobileNets Table 4, "Conv MobileNet")."""
        return Conv(name=self.name, note=self.note, kernel=self.kernel, stride=self.stride, padding=self.padding,
                    out=self.out, width=self.width, bias=self.bias, bn=self.bn, act=self.act)


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


class UniversalInvertedBottleneck(_Widening, _Kind):
    """MobileNetV4's universal inverted bottleneck (Qin et al. 2024, §3.2, Fig. 4; timm's
    UniversalInvertedResidual), repeated n times, the first with the stride: an optional k×k depthwise conv before
    the expansion (`start_dw`, batch norm, no activation), a 1×1 expansion to make_divisible(c·t, divisor) channels
    (batch norm, act), an optional k×k depthwise conv after it (`mid_dw`, batch norm, act), a linear 1×1 projection
    (batch norm), an optional layer scale γ (an `affine` of c scale parameters), and a residual add when input and
    output shapes match. Its four instances: ExtraDW (both dw), IB (`start_dw: null`, MobileNetV2's), ConvNext
    (`mid_dw: null`) and FFN (neither). The stride goes to the middle dw, else the start dw."""

    kind: Literal["uib"] = "uib"
    start_dw: Pixels | None = None
    mid_dw: Pixels | None = 3
    t: Ratio = Fraction(4)  # expansion ratio
    n: PositiveInt = 1
    stride: Pixels = 1
    bn: bool = True
    act: Activation = "relu"
    layer_scale: bool = False  # timm's LayerScale2d γ (MobileNetV4 hybrid)
    residual: bool = True
    divisor: PositiveInt = 8  # the expansion's rounding, make_divisible(c·t, divisor) as timm's

    @model_validator(mode="after")
    def _stride_has_a_dw(self):
        if self.stride > 1 and not (self.start_dw or self.mid_dw):
            raise ValueError("a strided uib needs a depthwise conv to carry the stride (`start_dw` or `mid_dw`)")
        return self

    def resolve(self, scaling: Scaling) -> UniversalInvertedBottleneck:
        return self.model_copy(update={"out": scaling.channels(self.out, self.width), "n": scaling.repeats(self.n)})

    def parts(self, x: Shape) -> tuple[_Kind, ...]:
        layers: list[_Kind] = []
        source = "input"
        for k in range(1, self.n + 1):
            p = f"{k}/" if self.n > 1 else ""
            stride = self.stride if k == 1 else 1
            block: list[_Kind] = []
            if self.start_dw:
                block.append(DepthwiseConv(name=f"{p}start_dw", kernel=self.start_dw,
                                           stride=1 if self.mid_dw else stride, bn=self.bn))
            e = make_divisible(x.c * self.t, self.divisor)
            block.append(Pointwise(name=f"{p}expand", out=e, width="fixed", bn=self.bn, act=self.act))
            if self.mid_dw:
                block.append(DepthwiseConv(name=f"{p}mid_dw", kernel=self.mid_dw, stride=stride, bn=self.bn,
                                           act=self.act))
            block.append(Pointwise(name=f"{p}project", out=self.out, width="fixed", bn=self.bn))
            if self.layer_scale:
                block.append(Affine(name=f"{p}layer_scale", shift=False))
            h, w = (-(-x.h // stride), -(-x.w // stride))
            if self.residual and stride == 1 and x.c == self.out:
                block.append(Add(name=f"{p}add", from_=[block[-1].name, source]))
            layers += block
            source = block[-1].name
            x = Shape(h, w, self.out)
        return tuple(layers)


class Ghost(_Widening, _Kind):
    """GhostNet's ghost module (Han et al. 2020, §3.1, Fig. 2; timm's GhostModule): a primary conv to
    init = ⌈out / ratio⌉ channels, a cheap depthwise conv making init·(ratio − 1) more from them, the two
    concatenated and sliced to `out` channels. Both convs have batch norm and `act` (none in a bottleneck's second
    module). `out` scales with α as any width does, and the halves follow it."""

    kind: Literal["ghost"] = "ghost"
    ratio: Annotated[int, Field(ge=2, le=64)] = 2
    kernel: Pixels = 1  # the primary conv's
    dw_kernel: Pixels = 3  # the cheap operation's
    stride: Pixels = 1
    bn: bool = True

    def parts(self, x: Shape) -> tuple[_Kind, ...]:
        init = -(-self.out // self.ratio)
        common = {"bn": self.bn, "act": self.act}
        primary = (Pointwise(name="primary", out=init, width="fixed", **common) if self.kernel == 1 == self.stride
                   else Conv(name="primary", kernel=self.kernel, stride=self.stride, out=init, width="fixed", **common))
        cheap = (DepthwiseConv(name="cheap", kernel=self.dw_kernel, **common) if self.ratio == 2 else
                 Conv(name="cheap", kernel=self.dw_kernel, groups=init, out=init * (self.ratio - 1), width="fixed",
                      **common))
        return (primary, cheap, Concat(name="concat", from_=["primary", "cheap"]), Slice(name="slice", stop=self.out))
