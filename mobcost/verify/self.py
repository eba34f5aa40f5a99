"""The self-check: build a torch.nn.Module from a traced spec and hold mobcost's counts to PyTorch's own, layer by
layer. It proves the arithmetic, not the network: `reference.py` holds the spec to the implementation it names.

Needs the `torch` extra (pip install 'mobcost[torch]'); only the `verify` command imports this room.
Parameters are PyTorch's `sum(p.numel())`; Mult-Adds are torch.utils.flop_counter.FlopCounterMode's FLOPs ÷ 2
(it counts 2 FLOPs per multiply-add of convolutions and matrix products, and nothing else).

A batch of crops (`batch: n` on an upsample) is a real batch dimension here: the crop row expands its one input to
n copies before resizing (the same shapes and costs as n different crops), and every later module runs on all n.

Padding: TensorFlow's `same` pads asymmetrically when it must (stride 2 on an even input pads one pixel, at the
bottom and right); PyTorch pads k // 2 on every side. For odd kernels both give ceil(n / s) outputs and the same
costs, though the windows sit one pixel apart; even kernels with `same` padding are refused.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mobcost.layers import Shape
from mobcost.language import MobcostError
from mobcost.trace import Analysis, Row


@contextlib.contextmanager
def one_thread():
    """Run the model on one thread: its forward passes on one zero tensor are too small to gain from more, and on a
    busy machine PyTorch's threads wait for each other (bench/verify_speed.py: 11 s for V2's where one thread takes
    0.4 s); the count is the same."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _padding(row: Row) -> int | tuple[int, int]:
    """PyTorch's padding for a layer's `padding` field: dilation · (k // 2) for `same` (odd kernels), per axis for a
    [kh, kw] kernel, 0 for `valid`."""
    padding, kernel = row.layer.padding, row.layer.kernel
    if padding == "valid":
        return 0
    if padding != "same":
        return padding
    kernels = (kernel,) if isinstance(kernel, int) else tuple(kernel)
    if any(k % 2 == 0 for k in kernels):
        raise MobcostError(f"{row.name}: verify builds `same` padding as PyTorch's symmetric k // 2, which keeps "
                           f"TensorFlow's output size only for odd kernels; this layer's kernel is {kernel}")
    pads = tuple(getattr(row.layer, "dilation", 1) * (k // 2) for k in kernels)
    return pads[0] if len(pads) == 1 else pads


class Add(nn.Module):
    """Residual add, written `x + y` as torchvision writes it."""

    def forward(self, x, *others):
        for y in others:
            x = x + y
        return x


class Scale(nn.Module):
    """Squeeze-and-excite gating, written `gate * x` as torchvision writes it."""

    def forward(self, gate, x):
        return gate * x


class Concat(nn.Module):
    def forward(self, *branches):
        return torch.cat(branches, dim=1)


class Upsample(nn.Module):
    """nn.Upsample to the row's output size; a second input (the tensor `size_of` names) is read for nothing more.
    A batch of crops: the one input, expanded to the batch (a view, no copy, no count), then resized."""

    def __init__(self, row: Row):
        super().__init__()
        bilinear = row.layer.mode == "bilinear"
        self.up = nn.Upsample((row.output.h, row.output.w), mode=row.layer.mode,
                              align_corners=row.layer.align_corners if bilinear else None)
        self.batch = row.layer.batch

    def forward(self, x, *like):
        return self.up(x.expand(self.batch, -1, -1, -1) if self.batch else x)


class Split(nn.Module):
    """Channel split, written `x.chunk(sections, dim=1)[take]` as torchvision's ShuffleNetV2 does."""

    def __init__(self, sections: int, take: int):
        super().__init__()
        self.sections, self.take = sections, take

    def forward(self, x):
        return x.chunk(self.sections, dim=1)[self.take]


class Shuffle(nn.Module):
    """Channel shuffle, torchvision's `channel_shuffle`: view, transpose, flatten back."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c, h, w = x.shape
        return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


class Tokens(nn.Module):
    """A token-wise module (nn.LayerNorm, nn.Linear) on every position's channels: N×C×H×W as N×H×W×C and back."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x):  # tokens held contiguous, as a transformer's (N, L, C) are: nn.Linear folds them into addmm
        return self.module(x.permute(0, 2, 3, 1).contiguous()).permute(0, 3, 1, 2)


class Affine(nn.Module):
    """A per-channel scale and shift, `x * γ + β`, as timm's LayerScale2d (`x * gamma`) writes it."""

    def __init__(self, row: Row):
        super().__init__()
        c = row.input.c
        self.gamma = nn.Parameter(torch.ones(c, 1, 1)) if row.layer.scale else None
        self.beta = nn.Parameter(torch.zeros(c, 1, 1)) if row.layer.shift else None

    def forward(self, x):
        x = x * self.gamma if self.gamma is not None else x
        return x + self.beta if self.beta is not None else x


class Slice(nn.Module):
    """A channel range, `x[:, start:stop]`, as timm's GhostModule writes it."""

    def __init__(self, start: int, stop: int | None):
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x):
        return x[:, self.start:self.stop]


class Attend(nn.Module):
    """softmax(Q·Kᵀ/√d)·V per head, written as timm's attention without the fused kernel: two `@` products (which
    FlopCounterMode counts as bmm; the CPU's fused scaled_dot_product_attention it does not count at all) and the
    softmax as a tensor method. A key or value of one head is shared by every query head (broadcast). With
    patches, each offset in a ph×pw patch is a sequence of its own (MobileViT's unfolding)."""

    def __init__(self, row: Row):
        super().__init__()
        self.key_dim, self.value_dim = row.layer.key_dim, row.layer.value_dim
        self.patch = row.layer.patch or (1, 1)

    def _tokens(self, t, dim):  # N×(h·dim)×H×W → (N·ph·pw)×h×L×dim
        n, c, h, w = t.shape
        ph, pw = self.patch
        t = t.reshape(n, c, h // ph, ph, w // pw, pw).permute(0, 3, 5, 1, 2, 4)
        return t.reshape(n * ph * pw, c // dim, dim, -1).transpose(-1, -2)

    def forward(self, q, k, v):
        n, _, h, w = q.shape
        ph, pw = self.patch
        q, k, v = self._tokens(q, self.key_dim), self._tokens(k, self.key_dim), self._tokens(v, self.value_dim)
        attn = (q * self.key_dim ** -0.5 @ k.transpose(-1, -2)).softmax(dim=-1)
        o = (attn @ v).transpose(-1, -2)  # (N·ph·pw)×heads×value_dim×L
        o = o.reshape(n, ph, pw, -1, h // ph, w // pw).permute(0, 3, 4, 1, 5, 2)
        return o.reshape(n, -1, h, w)


def _flat(row: Row) -> list[nn.Module]:
    """Flatten, keeping the N×C×1×1 shape every row has (mobcost's 1×1×(h·w·c))."""
    return [nn.Flatten(), nn.Unflatten(1, (row.input.size, 1, 1))]


# One PyTorch module per leaf kind, for the layer's own operation; batch norm and activation follow from the row.
TORCH_MODULE: dict[str, Callable[[Row], nn.Module]] = {
    "conv": lambda row: nn.Conv2d(row.input.c, row.output.c, row.layer.kernel, row.layer.stride, _padding(row),
                                  row.layer.dilation, groups=row.layer.groups, bias=row.layer.bias),
    "dw": lambda row: nn.Conv2d(row.input.c, row.output.c, row.layer.kernel, row.layer.stride, _padding(row),
                                row.layer.dilation, groups=row.input.c, bias=row.layer.bias),
    "pw": lambda row: nn.Conv2d(row.input.c, row.output.c, 1, bias=row.layer.bias),
    "avgpool": lambda row: (nn.AdaptiveAvgPool2d(row.layer.adaptive) if row.layer.adaptive else
                            nn.AvgPool2d(row.layer.kernel, row.layer.stride, _padding(row), row.layer.ceil_mode)),
    "maxpool": lambda row: nn.MaxPool2d(row.layer.kernel, row.layer.stride, _padding(row),
                                        ceil_mode=row.layer.ceil_mode),
    # over the flattened input, as the spec's FC
    "fc": lambda row: nn.Sequential(nn.Flatten(), nn.Linear(row.input.size, row.output.c, bias=row.layer.bias),
                                    nn.Unflatten(1, (row.output.c, 1, 1))),
    "softmax": lambda row: nn.Softmax(dim=1),
    "lrn": lambda row: nn.LocalResponseNorm(row.layer.size, row.layer.alpha, row.layer.beta, row.layer.k),
    "dropout": lambda row: nn.Dropout(row.layer.p),
    "flatten": lambda row: nn.Sequential(*_flat(row)),
    "add": lambda row: Add(),
    "scale": lambda row: Scale(),
    "concat": lambda row: Concat(),
    "unknown": lambda row: nn.Identity(),  # an imported operator without a rule: counted as 0 here too
    "upsample": lambda row: Upsample(row),
    "split": lambda row: Split(row.layer.sections, row.layer.take),
    "shuffle": lambda row: Shuffle(row.layer.groups),
    "layernorm": lambda row: Tokens(nn.LayerNorm(row.input.c, row.layer.eps, elementwise_affine=row.layer.affine)),
    "groupnorm": lambda row: nn.GroupNorm(row.layer.groups, row.input.c, row.layer.eps, affine=row.layer.affine),
    "batchnorm": lambda row: nn.Identity(),  # the row's batch norm follows, as after any layer
    "affine": Affine,
    "pad": lambda row: nn.ZeroPad2d((row.layer.pads[1], row.layer.pads[3], row.layer.pads[0], row.layer.pads[2])),
    "slice": lambda row: Slice(row.layer.start, row.layer.stop),
    "linear": lambda row: Tokens(nn.Linear(row.input.c, row.output.c, bias=row.layer.bias)),
    "attend": Attend,
}

ACTIVATION: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "hswish": nn.Hardswish, "hsigmoid": nn.Hardsigmoid,
    "sigmoid": nn.Sigmoid, "swish": nn.SiLU, "silu": nn.SiLU, "hardswish": nn.Hardswish,
    "hardsigmoid": nn.Hardsigmoid, "gelu": nn.GELU, "leaky_relu": nn.LeakyReLU,
}


class Functional(nn.Module):
    """A parameter-free module called as a function: the module is kept out of the module tree, so that a counter's
    module hooks never see it and only what its forward calls (F.relu, F.adaptive_avg_pool2d) runs."""

    def __init__(self, module: nn.Module, row: Row):
        super().__init__()
        if any(True for _ in module.parameters()):
            raise MobcostError(f"{row.name}: `functional` is for operations without weights (activations, pooling); "
                               f"this layer's {row.kind} has weights")
        self.call = [module]  # a list hides it from nn.Module's registration

    def forward(self, *inputs):
        return self.call[0](*inputs)


class Mean(nn.Module):
    """A global average pool as torchvision's MnasNet and ShuffleNetV2 take it, a tensor method (`functional:
    [method]`): no pooling module or function for a counter to see."""

    def forward(self, x):
        return x.mean([2, 3], keepdim=True)


class RowModule(nn.Module):
    """One row as PyTorch runs it: its operation, then batch norm and activation where the spec asks for them, each
    a module or, where the spec says `functional`, a function call."""

    def __init__(self, row: Row):
        super().__init__()
        called = row.layer.functional
        self.op = TORCH_MODULE[row.kind](row)
        if "op" in called:
            self.op = Functional(self.op, row)
        elif "method" in called:
            self.op = Mean()
        after = [nn.BatchNorm2d(row.bn)] if row.bn else []
        if act := getattr(row.layer, "act", None):
            after.append(Functional(ACTIVATION[act](), row) if "act" in called else ACTIVATION[act]())
        self.after = nn.Sequential(*after)

    def forward(self, *inputs):
        return self.after(self.op(*inputs))


class SpecNet(nn.Module):
    """The traced network: one RowModule per row, each fed the tensors its row reads; returns the network's outputs
    (one tensor, or a tuple of several)."""

    def __init__(self, analysis: Analysis):
        super().__init__()
        self.rows = nn.ModuleList(RowModule(row) for row in analysis.rows)
        self.reads = analysis.sources()
        index = {row.name: j + 1 for j, row in enumerate(analysis.rows)}
        self.outputs = [index.get(name, 0) for name in analysis.returned]

    def forward(self, x):
        values = [x]
        for module, read in zip(self.rows, self.reads):
            values.append(module(*(values[j] for j in read)))
        outputs = tuple(values[j] for j in self.outputs)
        return outputs[0] if len(outputs) == 1 else outputs


def build(analysis: Analysis) -> SpecNet:
    """The traced network as a torch.nn.Module in eval mode."""
    return SpecNet(analysis).eval()


def input_tensor(analysis: Analysis) -> torch.Tensor:
    x = analysis.rows[0].input
    return torch.zeros(1, x.c, x.h, x.w)


@dataclass(frozen=True)
class LayerCheck:
    """One row: mobcost's output shape, parameters and Mult-Adds beside PyTorch's."""

    name: str
    shape: Shape
    batch: int
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
        return (self.torch_shape == (self.batch, self.shape.c, self.shape.h, self.shape.w)
                and self.params == self.torch_params and 2 * self.macs == self.torch_flops)


def verify(analysis: Analysis) -> list[LayerCheck]:
    """Build, run once on a zero tensor of the input shape, and compare every row with PyTorch's counts."""
    model = build(analysis)
    shapes: dict[int, tuple[int, ...]] = {}
    for i, child in enumerate(model.rows):
        child.register_forward_hook(lambda module, args, out, i=i: shapes.__setitem__(i, tuple(out.shape)))
    with one_thread(), torch.no_grad(), FlopCounterMode(display=False) as mode:
        model(input_tensor(analysis))
    flops = mode.get_flop_counts()  # by module path: the root's class name, then attribute names
    return [LayerCheck(row.name, row.output, row.batch, shapes[i], row.params_counted("torch"),
                       sum(p.numel() for p in child.parameters()), row.macs,
                       sum(flops.get(f"{type(model).__name__}.rows.{i}", {}).values()))
            for i, (row, child) in enumerate(zip(analysis.rows, model.rows))]
