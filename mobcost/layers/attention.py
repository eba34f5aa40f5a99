"""Self-attention on a feature map seen as h·w tokens: the attention product (`attend`, Q·Kᵀ, softmax, A·V) and
the multi-head attention block (`attention`: query, key and value projections, the product, the output
projection), with MobileNetV4's Mobile MQA key/value downsampling and MobileViT's per-patch token groups."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, PositiveInt

from mobcost.layers.base import Channels, Inputs, Name, Shape, ShapeError, Width, _Kind
from mobcost.layers.conv import DepthwiseConv, Linear, Pointwise
from mobcost.layers.join import Join
from mobcost.layers.tensor import Slice
from mobcost.limits import ChannelCount, PixelPair, Pixels


class Attend(Join):
    """Scaled dot-product attention of `from: [query, key, value]`: per head, softmax(Q·Kᵀ/√d)·V over tokens.

    The query holds heads·key_dim channels at each of its h·w positions (tokens); the key and the value hold
    key_dim and value_dim channels (one head shared by every query head: multi-query attention, MobileNetV4's MQA)
    or heads × that, at their own positions (fewer, when downsampled). With `patch: [ph, pw]` (MobileViT) a token
    attends only to the tokens at the same offset in their ph×pw patch: ph·pw independent sequences.
    Mult-Adds: groups·heads·Lq·Lk·(key_dim + value_dim), Lq and Lk the query's and key's tokens per group (Q·Kᵀ
    then A·V, as FlopCounterMode counts the two matrix products); the softmax and the 1/√d scale are element-wise
    (0 by the paper's convention). No weights: the projections are their own layers."""

    kind: Literal["attend"] = "attend"
    from_: list[Name] | None = Field(None, alias="from", min_length=3, max_length=3)
    heads: PositiveInt
    key_dim: ChannelCount
    value_dim: ChannelCount
    patch: PixelPair | None = None  # [ph, pw]: attention within each offset of a ph×pw patch (MobileViT)
    keys: int = 0  # the key's positions (h·w), filled in by the trace
    paper_type: ClassVar[str] = "Attention"

    @property
    def groups(self) -> int:
        return self.patch[0] * self.patch[1] if self.patch else 1

    def combine(self, inputs: Inputs) -> Shape:
        (qn, q), (kn, k), (vn, v) = inputs
        if q.c != self.heads * self.key_dim:
            raise ShapeError("from", f"the query {qn!r} ({q}) must have heads·key_dim = {self.heads}·{self.key_dim} "
                                     "channels")
        if k.c not in (self.key_dim, self.heads * self.key_dim):
            raise ShapeError("from", f"the key {kn!r} ({k}) must have key_dim = {self.key_dim} channels (one head "
                                     f"shared) or heads·key_dim = {self.heads * self.key_dim}")
        if v.c not in (self.value_dim, self.heads * self.value_dim) or (v.h, v.w) != (k.h, k.w):
            raise ShapeError("from", f"the value {vn!r} ({v}) must have value_dim = {self.value_dim} or "
                                     f"heads·value_dim = {self.heads * self.value_dim} channels at the key's "
                                     f"{k.h}×{k.w} positions")
        if self.patch and any(side % p for side, p in zip((q.h, q.w, k.h, k.w), self.patch * 2)):
            raise ShapeError("patch", f"a {self.patch[0]}×{self.patch[1]} patch must divide the query's {q.h}×{q.w} "
                                      f"and the key's {k.h}×{k.w} positions")
        return q

    def joined(self, inputs: Inputs) -> Attend:
        k = inputs[1][1]
        return self.model_copy(update={"keys": k.h * k.w})

    def output_shape(self, x: Shape) -> Shape:
        return Shape(x.h, x.w, self.heads * self.value_dim)

    def macs(self, x: Shape) -> int:
        queries, keys = x.h * x.w // self.groups, self.keys // self.groups
        return self.groups * self.heads * queries * keys * (self.key_dim + self.value_dim)

    def scores(self, x: Shape) -> int:
        """The attention matrix's elements, softmax's input: groups·heads·Lq·Lk."""
        return self.heads * x.h * x.w * (self.keys // self.groups)

    def filter_shape(self, x: Shape) -> str:
        patch = f", {self.patch[0]}×{self.patch[1]} patches" if self.patch else ""
        return f"{self.heads} heads, {x.h * x.w}×{self.keys} tokens{patch}"


class Attention(_Kind):
    """Multi-head self-attention on an h×w×c feature map (Vaswani et al. 2017; MobileNetV4 §3.3's Mobile MQA;
    MobileViT's transformer): query, key and value projections, `attend`, an output projection to `out` channels.

    The projections are 1×1 convolutions (`proj: conv`, timm's MultiQueryAttention2d) or token-wise linear layers
    (`proj: linear`; `qkv: fused` makes them one linear layer of 3·heads·key_dim outputs, sliced, as timm's and
    PyTorch's Attention). `multi_query`: one key and one value head shared by all query heads (MQA). `kv_stride`:
    keys and values from a k×k depthwise conv with that stride and a batch norm each (MobileNetV4's "KV
    downsampling"), so attention costs (h·w)·(h·w/s²) products instead of (h·w)²."""

    kind: Literal["attention"] = "attention"
    heads: PositiveInt
    key_dim: ChannelCount
    value_dim: ChannelCount | None = None  # default: key_dim
    out: Channels
    width: Width = "scaled"
    multi_query: bool = False
    kv_stride: Pixels = 1
    kernel: Pixels = 3  # the key/value downsampling's depthwise kernel (with kv_stride > 1)
    proj: Literal["conv", "linear"] = "conv"
    qkv: Literal["separate", "fused"] = "separate"
    bias: bool = False  # on every projection
    patch: PixelPair | None = None
    stride: Literal[1] = 1

    def resolve(self, scaling):
        out = scaling.channels(self.out, self.width)
        return self if out == self.out else self.model_copy(update={"out": out})

    def parts(self, x: Shape) -> tuple[_Kind, ...]:
        if self.qkv == "fused" and (self.proj != "linear" or self.multi_query or self.kv_stride > 1):
            raise ShapeError("qkv", "a fused query-key-value projection is one linear layer (`proj: linear`) of "
                                    "full heads, without multi_query or kv_stride")
        value_dim = self.value_dim or self.key_dim
        kv_heads = 1 if self.multi_query else self.heads
        proj = Linear if self.proj == "linear" else Pointwise
        common = {"width": "fixed", "bias": self.bias}
        layers: list[_Kind] = []
        if self.qkv == "fused":
            q = self.heads * self.key_dim
            layers += [proj(name="qkv", out=2 * q + self.heads * value_dim, **common),
                       Slice(name="query", from_="qkv", stop=q), Slice(name="key", from_="qkv", start=q, stop=2 * q),
                       Slice(name="value", from_="qkv", start=2 * q)]
        else:
            layers.append(proj(name="query", from_="input", out=self.heads * self.key_dim, **common))
            for name, dim in (("key", self.key_dim), ("value", value_dim)):
                source = "input"
                if self.kv_stride > 1:
                    layers.append(DepthwiseConv(name=f"{name}_down", from_="input", kernel=self.kernel,
                                                stride=self.kv_stride, bn=True))
                    source = f"{name}_down"
                layers.append(proj(name=name, from_=source, out=kv_heads * dim, **common))
        layers += [Attend(name="attend", from_=["query", "key", "value"], heads=self.heads, key_dim=self.key_dim,
                          value_dim=value_dim, patch=self.patch),
                   proj(name="output", out=self.out, **common)]
        return tuple(layers)
