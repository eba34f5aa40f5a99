"""The models the counting tests run on: every shipped config and variant, α and resolution variants, every kind."""

from functools import cache
from typing import get_args

import mobcost
from mobcost.layers import Leaf
from mobcost.language import builtin_models, load_spec

# Every leaf kind and block, every activation, biases, grouped conv, k×k, global and adaptive pooling with floor and
# ceil sizes, a ReLU after a residual add, functional calls, a mean as a tensor method, identity and projection
# shortcuts, an empty branch, squeeze-and-excite, an odd input, a numeric padding.
EVERY_KIND = """
name: every_kind
title: Every kind
input: {resolution: 17, channels: 3}
classes: 10
layers:
  - {kind: conv, kernel: 3, stride: 2, out: 8, bias: true, bn: true, act: relu6}       # 9×9×8
  - {kind: dw, kernel: 5, bias: true, act: hswish}
  - {kind: pw, out: 12, bn: true, act: swish}
  - {kind: conv, kernel: 3, out: 12, groups: 4, bn: true, act: relu, functional: [act]}   # F.relu
  - {kind: lrn, size: 5}
  - {kind: maxpool, kernel: 2, stride: 2, ceil_mode: true}                            # 5×5×12
  - kind: residual
    act: relu
    layers:
      - {kind: conv, kernel: 3, out: 12, bn: true, act: relu}
      - {kind: conv, kernel: 3, padding: 1, out: 12, bn: true}
  - kind: residual
    layers:
      - {kind: pw, out: 16, bn: true, act: relu}
      - {kind: dw, stride: 2, bn: true, act: relu}
      - {kind: pw, out: 16, bn: true}
    shortcut: [{kind: conv, kernel: 1, stride: 2, out: 16, bn: true}]                 # 3×3×16
  - kind: concat
    branches:
      - [{kind: pw, out: 8, act: relu}]
      - []
      - [{kind: maxpool, kernel: 3, padding: 1, ceil_mode: false}, {kind: pw, out: 4}]  # 3×3×28
  - {kind: bottleneck, t: 1, out: 28, se: true, act: hswish}
  - {kind: bottleneck, t: 6, kernel: 5, stride: 2, out: 24, se: true}                 # 2×2×24
  - {kind: bottleneck, t: 3, n: 2, out: 24}
  - {kind: separable, out: 16, bn: true, act: sigmoid}
  - {kind: avgpool, kernel: 3, padding: same}
  - {kind: pw, out: 16, bn: true, act: hsigmoid}
  - {kind: avgpool, output: [3, 3], functional: [op]}                                  # adaptive: 2×2 → 3×3
  - {kind: avgpool, kernel: 3, stride: 1}                                              # 1×1×16
  - {kind: se}
  - {kind: conv, kernel: 1, name: wide, out: 8, bn: true, act: gelu}
  - {kind: upsample, scale: 2, mode: nearest}                                         # 2×2×8
  - {kind: upsample, scale: 2, mode: bilinear}                                        # 4×4×8
  - {kind: conv, kernel: 3, dilation: 2, out: 8, bn: true, act: leaky_relu}
  - {kind: dw, kernel: 3, dilation: 2, bn: true, act: silu}
  - {kind: upsample, from: wide, size_of: dw2, mode: bilinear, align_corners: true}   # 4×4×8
  - {kind: add, name: sum, from: [upsample3, dw2], act: relu}
  - {kind: concat, name: cat, from: [sum, dw2, upsample3]}                            # 4×4×24
  - {kind: shuffle, groups: 3}
  - {kind: split, sections: 2, take: 1}                                               # 4×4×12
  - {kind: shuffle_unit, out: 12, n: 2}
  - {kind: shuffle_unit, out: 16, stride: 2}                                          # 2×2×16
  - {kind: bottleneck, t: 4, out: 16, se: {squeeze_from: input, divisor: null, act: silu, gate: sigmoid}, act: silu}
  - {kind: conv, name: gate_in, kernel: 2, padding: valid, out: 16}                   # 1×1×16
  - {kind: scale, from: [gate_in, bneck4]}
  - {kind: avgpool, functional: [method]}                                              # x.mean([2, 3]): 1×1×16
  - {kind: avgpool}
  - {kind: flatten}
  - {kind: dropout}
  - {kind: fc, bias: true}
  - {kind: softmax}
"""

# A batch of crops (Faster-RCNN's second stage) read by every kind a convention counts differently: each row after
# the crop runs 3 times, so every tool's count of it is the batch's. The first stage (`rpn`) runs once.
BATCHED = """
name: batched_crops
title: Batched crops
input: {resolution: 9, channels: 3}
classes: 10
outputs: [rpn, scores]
layers:
  - {kind: conv, name: map, kernel: 3, stride: 2, out: 8, bn: true, act: relu}          # 5×5×8
  - {kind: pw, name: rpn, out: 4, bias: true}
  - {kind: upsample, name: crop, from: map, size: [4, 4], mode: bilinear, batch: 3}   # 3 × 4×4×8
  - {kind: dw, kernel: 3, bias: true, bn: true, act: relu6}
  - {kind: pw, name: wide, out: 12, bias: true, bn: true, act: hswish}
  - {kind: conv, name: side, from: crop, kernel: 1, out: 12, act: relu, functional: [act]}
  - {kind: add, from: [wide, side], act: relu}
  - {kind: concat, from: [add1, side]}                                                 # 3 × 4×4×24
  - {kind: lrn, size: 3}
  - {kind: maxpool, kernel: 2, stride: 2, ceil_mode: false}                            # 3 × 2×2×24
  - {kind: upsample, scale: 2, mode: nearest}                                          # 3 × 4×4×24
  - {kind: bottleneck, t: 2, out: 24, se: true, act: hswish}
  - {kind: avgpool, kernel: 3, stride: 1}                                              # 3 × 2×2×24
  - {kind: avgpool, output: [1, 1]}
  - {kind: flatten}
  - {kind: dropout}
  - {kind: fc, bias: true}
  - {kind: softmax, name: scores}
"""
# The kinds of the modern mobile families (issue 19): layer and group norm with and without γ and β, a batch norm and
# an affine of their own, zero padding, token-wise linear layers, attention (multi-query with key/value downsampling;
# fused, per patch, with biases), a ghost module whose halves do not divide evenly, universal inverted bottlenecks
# (ExtraDW with layer scale, repeated; ConvNext; FFN; IB strided), SE inside a separable block, GELU.
MODERN = """
name: modern_kinds
title: Modern kinds
input: {resolution: 15, channels: 3}
classes: 10
layers:
  - {kind: conv, kernel: 3, stride: 2, out: 16, bn: true, act: gelu}                      # 8×8×16
  - {kind: layernorm}
  - {kind: layernorm, affine: false}
  - {kind: groupnorm, groups: 4}
  - {kind: groupnorm, groups: 2, affine: false}
  - {kind: batchnorm, act: relu}
  - {kind: affine}
  - {kind: affine, shift: false}
  - {kind: affine, scale: false}
  - {kind: pad, pads: [0, 1, 2, 1]}                                                     # 10×10×16
  - {kind: linear, out: 24, bias: true}
  - {kind: linear, out: 16}
  - {kind: attention, heads: 2, key_dim: 8, value_dim: 4, out: 16, multi_query: true, kv_stride: 2}
  - {kind: attention, heads: 2, key_dim: 8, out: 16, proj: linear, qkv: fused, patch: [2, 2], bias: true}
  - {kind: attention, heads: 4, key_dim: 4, out: 12, patch: [5, 2]}
  - {kind: ghost, out: 15, act: relu}
  - {kind: ghost, out: 16, ratio: 3, kernel: 3, stride: 2}                               # 5×5×16
  - {kind: uib, start_dw: 3, mid_dw: 5, t: 4, out: 16, layer_scale: true, n: 2}
  - {kind: uib, start_dw: 5, mid_dw: null, t: 2, out: 16}
  - {kind: uib, start_dw: null, mid_dw: null, t: 3, out: 16, act: gelu}
  - {kind: uib, start_dw: null, mid_dw: 3, t: 6, out: 24, stride: 2}                     # 3×3×24
  - {kind: uib, start_dw: 3, mid_dw: null, stride: 2, out: 24}                           # 2×2×24
  - {kind: separable, out: 24, se: true, bn: true, act: hswish}
  - {kind: slice, start: 4, stop: 20}
  - {kind: conv, kernel: [1, 3], stride: [2, 1], out: 8, bn: true, act: relu}            # 1×2×8
  - {kind: dw, kernel: [3, 1], bias: true}
  - {kind: avgpool}
  - {kind: fc}
"""
SPECS = {"every_kind": EVERY_KIND, "batched_crops": BATCHED, "modern_kinds": MODERN}


def _shipped() -> list[tuple[str, str | None]]:
    """Every shipped config with each of its variants."""
    models = []
    for path in sorted(set(builtin_models().values())):
        network = load_spec(path)
        models += [(network.name, None)] + [(network.name, key) for key in network.variants]
    return models


def _scales(name: str) -> tuple[str, ...]:
    """α and resolution variants: the MobileNets' published grid and an odd resolution; one for the others."""
    if name.startswith("mobilenetv4"):  # at 256 and 384: one smaller size keeps the suite's time
        return ("0.5_160",)
    if name == "mobilevit_xs":  # its 2×2 patches need a side divisible by 64
        return ("0.5_192",)
    return ("0.75_192", "0.5_160", "0.25_128", "1.0_97") if name.startswith("mobilenet") else ("0.5_160",)


def _timm(name: str) -> bool:
    """A config that follows timm: tests/test_timm.py holds it and its variants (timm's own widths) to timm's models at
    full size; here it runs at one smaller α and resolution (the suite's time: MobileNetV4-L is 6.4 G Mult-Adds)."""
    return "timm" in load_spec(builtin_models()[name]).follows


# every shipped model and variant at its own size, α and resolution variants of each config, and every kind
MODELS = ([f"{name}:{variant}" if variant else name for name, variant in _shipped() if not _timm(name)]
          + [f"{name}@{scale}" for name in sorted({n for n, _ in _shipped()}) for scale in _scales(name)]
          + list(SPECS))


@cache
def analysis(model: str):
    return mobcost.analyze(mobcost.parse_spec(SPECS[model]) if model in SPECS else model)



def leaf_kinds() -> set[str]:
    """Every layer kind that becomes a row (blocks, branches and repeats expand into these)."""
    return {k.model_fields["kind"].default for k in get_args(Leaf)}
