"""A user's own PyTorch model → a spec, with no file: `MODULE:CALLABLE` (the form `verify --against` takes) is
called with the given arguments, exported in memory by torch.onnx.export (the TorchScript exporter, opset 17, batch
norms kept: TrainingMode.PRESERVE, no constant folding) and imported as any ONNX file. torch is imported only here,
only when such a model is asked for."""

from __future__ import annotations

import importlib
import io
import warnings
from pathlib import Path
from typing import Callable

from mobcost.errors import TORCH_CPU, MobcostError
from mobcost.limits import MAX_PIXELS


def load_callable(call: str, option: str = "--against") -> Callable:
    """The function `MODULE:CALLABLE` names."""
    module, _, name = call.partition(":")
    if not module or not name:
        raise MobcostError(f"{option} takes MODULE:CALLABLE, such as torchvision.models:resnet50 (found {call!r})")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as e:
        advice = f"; {TORCH_CPU}" if e.name in ("torch", "torchvision") else ""
        raise MobcostError(f"{option} {call}: cannot import {module!r} ({e}){advice}") from None
    except AttributeError:
        raise MobcostError(f"{option} {call}: {module!r} has no {name!r}") from None


def _argument(text: str):
    """An --arg as Python reads a literal (0.75, True, 'x'), else as the word it is (mobilenetv4_conv_small)."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def exported(call: str, args: list[str], resolution: int | None) -> bytes:
    """The ONNX bytes of the model `MODULE:CALLABLE(*args)` builds, exported in memory at `resolution` (default 224;
    a timm model's own default input size where it declares one)."""
    try:
        import torch
    except ImportError:
        raise MobcostError(f"mobcost import {call} builds the model with PyTorch; {TORCH_CPU}") from None
    model = load_callable(call, "mobcost import")(*[_argument(a) for a in args])
    if not isinstance(model, torch.nn.Module):
        raise MobcostError(f"mobcost import {call}: expected a torch.nn.Module, got {type(model).__name__}")
    size = resolution or getattr(model, "default_cfg", {}).get("input_size", (3, 224, 224))[-1]
    if not 0 < size <= MAX_PIXELS:
        raise MobcostError(f"--res {size}: expected 1 to {MAX_PIXELS:,} pixels")
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), torch.randn(1, 3, size, size), buffer, dynamo=False, opset_version=17,
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    return buffer.getvalue()


def import_torch(call: str, args: list[str] | None = None, resolution: int | None = None,
                 unknown: str = "error") -> str:
    """A spec (YAML text) for the model `MODULE:CALLABLE(*args)` builds, exported in memory and imported."""
    import tempfile

    from mobcost.importers.onnx import import_onnx

    data = exported(call, list(args or []), resolution)
    stem = "_".join([call.rpartition(":")[2], *(args or [])])[:64]
    with tempfile.TemporaryDirectory() as folder:  # the ONNX reader maps a file: the bytes go to a private one
        path = Path(folder) / f"{stem}.onnx"
        path.write_bytes(data)
        return import_onnx(path, None, unknown).replace(f"ONNX file {path.name}",
                                                        f"{call}({', '.join(args or [])}), exported by torch.onnx")
