"""Hold a spec to the implementation it names, not to a module mobcost built from its own belief: torchvision's
builder (the one the config's `torchvision` variant names), or any `MODULE:CALLABLE` that returns an nn.Module.

The implementation's model runs once under hooks and FlopCounterMode, then under each counter installed (fvcore,
ptflops, thop, each called as its README says). What runs is the network's own forward on one zero tensor at the
spec's input size: a classifier or a segmentation model (which returns a dict) as it is; a detection model's backbone
and head only (`runnable`), since its forward takes a list of images, resizes them in its transform and ends in box
decoding and NMS, none of which a spec counts. Every total is compared with mobcost's: the paper's Mult-Adds with
FlopCounterMode's FLOPs ÷ 2, `--params torch` with Σ numel, each convention with its tool; and, layer by layer in
the order the model runs them, the output shape and the parameters of every convolution and linear layer.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mobcost.conventions import counted
from mobcost.importers.pytorch import load_callable
from mobcost.language import TORCH_CPU, MobcostError, Network
from mobcost.trace import Analysis, Row, hw
from mobcost.verify.self import one_thread

COUNTED_KINDS = ("conv", "dw", "pw", "fc", "linear")  # the rows that are a Conv2d or a Linear in any implementation
TOOLS = ("fvcore", "ptflops", "ptflops-aten", "thop")
MODULE = {"ptflops-aten": "ptflops"}  # a tool's module, where its name is a convention's (ptflops' aten backend)


@dataclass(frozen=True)
class Layer:
    """One convolution or linear layer as the implementation ran it."""

    name: str  # its module path, e.g. features.2.conv.0.0
    shape: tuple[int, int, int]  # output channels, height, width (a linear layer's output is c × 1 × 1)
    params: int


@dataclass(frozen=True)
class LayerPair:
    """A mobcost row beside the implementation's layer at the same place in the order; either may be missing."""

    row: Row | None
    layer: Layer | None

    @property
    def shape(self) -> tuple[int, int, int] | None:
        if self.row is None:
            return None
        y = self.row.output  # a token-wise linear layer's tokens are not a feature map's: its channels only
        return (y.c, 1, 1) if self.row.kind == "linear" else (y.c, y.h, y.w)

    @property
    def ok(self) -> bool:
        return (self.row is not None and self.layer is not None and self.shape == self.layer.shape
                and self.row.params == self.layer.params)


@dataclass(frozen=True)
class Total:
    """One total, mobcost's beside the implementation's as a tool measured it."""

    what: str
    mobcost: int
    reference: int

    @property
    def ok(self) -> bool:
        return self.mobcost == self.reference


@dataclass(frozen=True)
class Comparison:
    """The spec against one implementation: every total, and every convolution and linear layer in order."""

    against: str  # what was built, e.g. torchvision.models:mobilenet_v3_large(width_mult=0.75)
    versions: dict[str, str]  # library → version, of torch and of every tool that ran
    totals: list[Total]
    layers: list[LayerPair]
    runs: str = ""  # what was run, on what: "the model on a 1×3×224×224 tensor"
    failed: dict[str, str] = field(default_factory=dict)  # counter installed → why it could not run the model

    @property
    def first_difference(self) -> LayerPair | None:
        return next((pair for pair in self.layers if not pair.ok), None)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.totals) and self.first_difference is None


LIBRARIES = ("torchvision", "timm")  # `--against LIBRARY`: the builder the config names for it


def reference_model(network: Network, alpha: float, against: str) -> tuple[nn.Module, str]:
    """The implementation's model and how it was built: the torchvision or timm builder that the config names, with
    α passed as the builder's width keyword, or any MODULE:CALLABLE called without arguments."""
    if against not in LIBRARIES:
        return _built(load_callable(against), {}, against), f"{against}()"
    found = network.builder(against)
    if found is None:
        raise MobcostError(f"{network.name} names no {against} builder (a variant with `follows: [{against}]` "
                           f"and a `builder`); pass --against MODULE:CALLABLE to compare with your own model")
    builder = found[1]
    kwargs = dict(builder.args)
    if builder.alpha is not None:
        kwargs[builder.alpha] = alpha
    elif alpha != 1:
        raise MobcostError(f"{builder.call} takes no width multiplier; verify it at α = 1")
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    with _unfused_attention(against == "timm"):
        return _built(load_callable(builder.call), kwargs, builder.call), f"{builder.call}({shown})"


@contextmanager
def _unfused_attention(timm: bool):
    """timm's attention as two matrix products FlopCounterMode counts, not the fused scaled_dot_product_attention:
    on the CPU that runs as aten._scaled_dot_product_flash_attention_for_cpu, which torch's flop counter has no
    formula for, so Q·Kᵀ and A·V would count 0. timm's own switch (set_fused_attn), for the models built here."""
    if not timm:
        yield
        return
    from timm.layers import config

    fused = config._USE_FUSED_ATTN
    config.set_fused_attn(False)
    try:
        yield
    finally:
        config._USE_FUSED_ATTN = fused


def _built(make: Callable[..., nn.Module], kwargs: dict, call: str) -> nn.Module:
    model = make(**kwargs)
    if not isinstance(model, nn.Module):
        raise MobcostError(f"--against {call}: expected a torch.nn.Module, got {type(model).__name__}")
    return model.eval()


class _BackboneAndHead(nn.Module):
    """A torchvision detector's network: its backbone, then its head on every feature map, as the detector's own
    forward calls them (SSD, RetinaNet and FCOS: `features = backbone(images.tensors)`, `head(list(features))`),
    without the transform before (normalize, resize) or the anchors, box decoding and NMS after. The submodules
    keep their names (backbone.features.0.0, head.regression_head...)."""

    def __init__(self, detector: nn.Module):
        super().__init__()
        self.backbone, self.head = detector.backbone, detector.head

    def forward(self, x: torch.Tensor):
        features = self.backbone(x)
        return self.head(list(features.values()) if isinstance(features, dict) else [features])


def runnable(model: nn.Module, against: str) -> tuple[nn.Module, str]:
    """What runs on the input tensor, and its description: the model, or a detector's backbone and head."""
    if not hasattr(model, "transform") or not hasattr(model, "backbone"):
        return model, "the model"
    if not hasattr(model, "head"):  # two-stage detectors (Faster R-CNN): proposals depend on the image
        raise MobcostError(f"--against {against}: a detector without a single `head` (such as Faster R-CNN's region "
                           f"proposals and RoI heads) has no forward mobcost can run on one tensor; pass a "
                           f"MODULE:CALLABLE that returns the part to compare")
    return _BackboneAndHead(model).eval(), ("the detector's backbone and head (its transform, which normalizes and "
                                            "resizes images, and its box decoding and NMS are not run)")


def run_layers(model: nn.Module, x: torch.Tensor) -> tuple[list[Layer], int]:
    """Every Conv2d and Linear in the order the forward pass calls them, and FlopCounterMode's FLOPs."""
    names = {module: name for name, module in model.named_modules()}
    ran: list[Layer] = []

    def hook(module, args, out):
        shape = tuple(out.shape[1:]) if out.dim() == 4 else (out.shape[-1], 1, 1)
        ran.append(Layer(names[module], shape, sum(p.numel() for p in module.parameters(recurse=False))))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as mode:
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return ran, mode.get_total_flops()


def tools_of(text: str | None) -> tuple[str, ...]:
    """The counters `--tools` names (`fvcore,thop`; `all`, the default: every one installed; `none`)."""
    if text is None or text.strip() == "all":
        return TOOLS
    names = tuple(name.strip() for name in text.split(",") if name.strip() and name.strip() != "none")
    if unknown := [name for name in names if name not in TOOLS]:
        raise MobcostError(f"--tools takes a list of {', '.join(TOOLS)}, or all or none (found {unknown[0]!r})")
    return names


def tool_counts(model: nn.Module, x: torch.Tensor, tools: tuple[str, ...] = TOOLS
                ) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """Mult-Adds and parameters by each counter asked for and installed, run on the model as its README says; and
    each such counter that could not run the model, with its error (reported, never skipped silently)."""
    found: dict[str, tuple[int, int]] = {}
    failed: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            for tool in tools:
                if importlib.util.find_spec(MODULE.get(tool, tool)) is not None:
                    try:
                        found[tool] = COUNT[tool](model, x)
                    except Exception as e:  # a tool that cannot trace or hook this model: said in the output
                        failed[tool] = f"{type(e).__name__}: {e}".splitlines()[0][:200]
        finally:
            logging.disable(logging.NOTSET)
    return found, failed


def _fvcore(model, x) -> tuple[int, int]:
    from fvcore.nn import FlopCountAnalysis, parameter_count

    flops = FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return flops.total(), parameter_count(model)[""]


def _ptflops(model, x, backend: str = "pytorch", **config) -> tuple[int, int]:
    from ptflops import get_model_complexity_info

    with contextlib.redirect_stdout(io.StringIO()):  # the aten backend prints its failures and returns None
        macs, params = get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False, backend=backend,
                                                 print_per_layer_stat=False, ost=io.StringIO(),
                                                 backend_specific_config=config)
    if macs is None:
        raise RuntimeError(f"ptflops' {backend} backend could not run the model")
    return int(macs), int(params)


def _thop(model, x) -> tuple[int, int]:
    from thop import profile

    macs, params = profile(model, inputs=(x,), verbose=False)  # float64 sums of whole numbers
    return int(macs), int(params)


COUNT: dict[str, Callable[[nn.Module, torch.Tensor], tuple[int, int]]] = {
    "fvcore": _fvcore, "ptflops": _ptflops, "ptflops-aten": lambda model, x: _ptflops(model, x, "aten"),
    "thop": _thop}


def _version(library: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(library)
    except PackageNotFoundError:
        return "?"


def compare(analysis: Analysis, model: nn.Module, against: str, tools: tuple[str, ...] = TOOLS) -> Comparison:
    """The traced spec against the implementation's model, at the spec's input size, by FlopCounterMode, Σ numel
    and the counters asked for (those installed)."""
    x = torch.zeros(1, analysis.network.input.channels, *hw(analysis.resolution))
    model, what = runnable(model, against)
    with one_thread():
        ran, flops = run_layers(model, x)
        tools, failed = tool_counts(model, x, tools)
    params = analysis.params_counted("torch")
    totals = [Total("Mult-Adds (paper) vs FlopCounterMode ÷ 2", analysis.macs, flops // 2),
              Total("Parameters (--params torch) vs Σ numel", params, sum(p.numel() for p in model.parameters()))]
    for tool, (macs, tool_params) in tools.items():
        totals += [Total(f"Mult-Adds (--convention {tool}) vs {tool}", counted(analysis, tool).macs, macs),
                   Total(f"Parameters vs {tool}", params, tool_params)]
    rows = [row for row in analysis.rows if row.kind in COUNTED_KINDS]
    versions = {name: _version(MODULE.get(name, name)) for name in ("torch", "torchvision", *tools, *failed)}
    return Comparison(against, versions, totals, [LayerPair(r, m) for r, m in zip_longest(rows, ran)],
                      f"{what} on a {'×'.join(map(str, x.shape))} tensor of zeros", failed)
