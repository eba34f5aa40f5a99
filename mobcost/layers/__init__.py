"""Layer kinds: each owns its fields, its shape rule and its Mult-Add and parameter formulas.

Counting convention (the MobileNets paper's, used throughout): a Mult-Add (MAC) is one fused multiply and
add; convolutions and fully connected layers cost Mult-Adds; pooling, softmax, local response normalization,
dropout, flatten, concatenation and residual adds cost none (each is still recorded as a row). Parameters are
the weights, plus one bias per output channel where the spec declares `bias: true`. Every figure is an exact
integer; rounding happens only when a number is shown.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Discriminator, Tag

from mobcost.errors import listed

# Every kind and type is re-exported here: `from mobcost.layers import Conv` is the public path.
from mobcost.layers.base import (Activation, Arithmetic, Called, Channels, Inputs, MakeDivisible, Name, Padding, Ratio, Rounding,
                                 Scaling, Shape, ShapeError, Width, WidthRule, _Kind, make_divisible, out_size)
from mobcost.layers.attention import Attend, Attention
from mobcost.layers.blocks import (Bottleneck, Excite, Ghost, Repeat, Residual, Separable, ShuffleUnit, SqueezeExcite,
                                   UniversalInvertedBottleneck)
from mobcost.layers.conv import Conv, DepthwiseConv, FullyConnected, Linear, Pointwise
from mobcost.layers.join import Add, Concat, Join, Scale
from mobcost.layers.norm import Affine, BatchNorm, GroupNorm, LayerNorm
from mobcost.layers.pool import AvgPool, MaxPool, Upsample
from mobcost.layers.tensor import Dropout, Flatten, LocalResponseNorm, Pad, Shuffle, Slice, Softmax, Split, Unknown


def kind_of(value) -> str | None:
    """The union tag of a layer given as data: its `kind`, or `repeat` for a repeated group."""
    if isinstance(value, dict):
        return value.get("kind", "repeat" if "repeat" in value else None)
    return getattr(value, "kind", None)


LAYER_KINDS = (Conv, DepthwiseConv, Pointwise, Separable, Bottleneck, SqueezeExcite, AvgPool, MaxPool, FullyConnected,
               Softmax, LocalResponseNorm, Dropout, Flatten, Unknown, Concat, Add, Scale, Upsample, Split, Shuffle, ShuffleUnit,
               Residual, Repeat, LayerNorm, GroupNorm, BatchNorm, Affine, Pad, Slice, Linear, Attend, Attention,
               UniversalInvertedBottleneck, Ghost)
Layer = Annotated[
    Union[tuple(Annotated[k, Tag(k.model_fields["kind"].default)] for k in LAYER_KINDS)],
    Discriminator(kind_of, custom_error_type="layer_kind",
                  custom_error_message="unknown layer kind; expected one of "
                                       + listed(k.model_fields["kind"].default for k in LAYER_KINDS)),
]
Leaf = Union[Conv, DepthwiseConv, Pointwise, AvgPool, MaxPool, FullyConnected, Softmax, LocalResponseNorm, Dropout,
             Flatten, Concat, Add, Scale, Upsample, Split, Shuffle, Unknown, LayerNorm, GroupNorm, BatchNorm, Affine, Pad,
             Slice, Linear, Attend]

# Repeat, Concat and Residual hold layers: their modules name `Layer` once it exists, so that their validators, built
# when a spec is first validated (defer_build), resolve it then; no validator is built at import (bench/startup.py)
from mobcost.layers import blocks as _blocks, join as _join  # noqa: E402

_blocks.Layer = _join.Layer = Layer
