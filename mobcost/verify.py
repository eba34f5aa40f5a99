"""Build a real torch.nn.Module from a traced spec and hold mobcost's counts to PyTorch's own, layer by layer.

Needs the `torch` extra (pip install 'mobcost[torch]'); only the `verify` command imports this module.
Parameters are PyTorch's `sum(p.numel())`; Mult-Adds are torch.utils.flop_counter.FlopCounterMode's FLOPs ÷ 2
(it counts 2 FLOPs per multiply-add of convolutions and matrix products, and nothing else).

Padding: TensorFlow's `same` pads asymmetrically when it must (stride 2 on an even input pads one pixel, at the
bottom and right); PyTorch pads k // 2 on every side. For odd kernels both give ceil(n / s) outputs and the same
costs, though the windows sit one pixel apart; even kernels with `same` padding are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mobcost.conventions import counted
from mobcost.layers import Shape
from mobcost.spec import MobcostError
from mobcost.trace import Analysis, Row


def _padding(row: Row) -> int:
    """PyTorch's padding for a layer's `padding` field: k // 2 for `same` (odd kernels), 0 for `valid`."""
    padding, kernel = row.layer.padding, row.layer.kernel
    if padding == "valid":
        return 0
    if padding != "same":
        return padding
    if kernel % 2 == 0:
        raise MobcostError(f"{row.name}: verify builds `same` padding as PyTorch's symmetric k // 2, which keeps "
                           f"TensorFlow's output size only for odd kernels; this layer's kernel is {kernel}")
    return kernel // 2


# One PyTorch module per leaf kind, for the layer's own operation; batch norm and activation follow from the row.
TORCH_MODULE: dict[str, Callable[[Row], nn.Module]] = {
    "conv": lambda row: nn.Conv2d(row.input.c, row.output.c, row.layer.kernel, row.layer.stride, _padding(row),
                                  bias=row.layer.bias),
    "dw": lambda row: nn.Conv2d(row.input.c, row.output.c, row.layer.kernel, row.layer.stride, _padding(row),
                                groups=row.input.c, bias=row.layer.bias),
    "pw": lambda row: nn.Conv2d(row.input.c, row.output.c, 1, bias=row.layer.bias),
    "avgpool": lambda row: (nn.AdaptiveAvgPool2d(1) if row.layer.kernel == "global"
                            else nn.AvgPool2d(row.layer.kernel, row.layer.stride, _padding(row))),
    # over the flattened input, as the spec's FC; the output keeps the N×C×1×1 shape every row has
    "fc": lambda row: nn.Sequential(nn.Flatten(), nn.Linear(row.input.size, row.output.c, bias=row.layer.bias),
                                    nn.Unflatten(1, (row.output.c, 1, 1))),
    "softmax": lambda row: nn.Softmax(dim=1),
}

ACTIVATION: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "hswish": nn.Hardswish, "hsigmoid": nn.Hardsigmoid,
    "sigmoid": nn.Sigmoid, "swish": nn.SiLU,
}


def row_module(row: Row) -> nn.Sequential:
    """One row as PyTorch runs it: its operation, then batch norm and activation where the spec asks for them."""
    parts = [TORCH_MODULE[row.kind](row)]
    if row.bn:
        parts.append(nn.BatchNorm2d(row.bn))
    if act := getattr(row.layer, "act", None):
        parts.append(ACTIVATION[act]())
    return nn.Sequential(*parts)


def build(analysis: Analysis) -> nn.Sequential:
    """The traced network as a torch.nn.Module in eval mode, one child per row."""
    return nn.Sequential(*(row_module(row) for row in analysis.rows)).eval()


def input_tensor(analysis: Analysis) -> torch.Tensor:
    x = analysis.rows[0].input
    return torch.zeros(1, x.c, x.h, x.w)


@dataclass(frozen=True)
class LayerCheck:
    """One row: mobcost's output shape, parameters and Mult-Adds beside PyTorch's."""

    name: str
    shape: Shape
    torch_shape: tuple[int, ...]
    params: int
    torch_params: int
    macs: int
    torch_flops: int

    @property
    def torch_macs(self) -> int:
        return self.torch_flops // 2

    @property
    def ok(self) -> bool:
        return (self.torch_shape == (1, self.shape.c, self.shape.h, self.shape.w) and self.params == self.torch_params
                and 2 * self.macs == self.torch_flops)


def verify(analysis: Analysis) -> list[LayerCheck]:
    """Build, run once on a zero tensor of the input shape, and compare every row with PyTorch's counts."""
    model = build(analysis)
    shapes: dict[int, tuple[int, ...]] = {}
    for i, child in enumerate(model):
        child.register_forward_hook(lambda module, args, out, i=i: shapes.__setitem__(i, tuple(out.shape)))
    with torch.no_grad(), FlopCounterMode(display=False) as mode:
        model(input_tensor(analysis))
    flops = mode.get_flop_counts()  # by module path: the root's class name, then child names
    root = type(model).__name__
    expected = counted(analysis, "torch").rows
    return [LayerCheck(row.name, row.output, shapes[i], row.params, sum(p.numel() for p in child.parameters()),
                       row.macs, sum(flops.get(f"{root}.{i}", {}).values()))
            for i, (row, child) in enumerate(zip(expected, model))]
