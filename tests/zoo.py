"""The models the counting tests run on: every shipped config and variant, α and resolution variants, every kind."""

from functools import cache

import mobcost
from mobcost.layers import LAYER_KINDS, Repeat
from mobcost.spec import builtin_models, load_spec

# Every leaf kind, every activation, biases, k×k and global pooling, an odd input and a numeric padding.
EVERY_KIND = """
name: every_kind
title: Every kind
input: {resolution: 9, channels: 3}
classes: 10
layers:
  - {kind: conv, kernel: 3, stride: 2, out: 8, bias: true, bn: true, act: relu6}
  - {kind: dw, kernel: 5, bias: true, act: hswish}
  - {kind: pw, out: 12, bn: true, act: swish}
  - {kind: separable, stride: 2, out: 16, bn: true, act: sigmoid}
  - {kind: avgpool, kernel: 3, stride: 1, padding: same}
  - {kind: pw, out: 16, bn: true, act: hsigmoid}
  - {kind: conv, kernel: 3, padding: 1, out: 8, bn: true, act: relu}
  - {kind: avgpool, kernel: 2, stride: 1}
  - {kind: avgpool}
  - {kind: fc, bias: true}
  - {kind: softmax}
"""


def _shipped() -> list[tuple[str, str | None]]:
    """Every shipped config with each of its variants."""
    models = []
    for path in sorted(set(builtin_models().values())):
        network = load_spec(path)
        models += [(network.name, None)] + [(network.name, key) for key in network.variants]
    return models


# every shipped model and variant at its own size, then α and resolution variants of each shipped config
MODELS = ([f"{name}:{variant}" if variant else name for name, variant in _shipped()]
          + [f"{name}@{scale}" for name in sorted({n for n, _ in _shipped()})
             for scale in ("0.75_192", "0.5_160", "0.25_128", "1.0_97")]
          + ["every_kind"])


@cache
def analysis(model: str):
    return mobcost.analyze(mobcost.parse_spec(EVERY_KIND) if model == "every_kind" else model)



def leaf_kinds() -> set[str]:
    """Every layer kind that becomes a row: blocks (with parts) and repeats expand into leaves."""
    return {k.model_fields["kind"].default for k in LAYER_KINDS if not hasattr(k, "parts") and k is not Repeat}
