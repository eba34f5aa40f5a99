"""The model zoo and model references: `v1`, `v1:shallow`, `v1@0.5_160`, or a path to a YAML spec or ONNX model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from mobcost.spec.errors import MobcostError
from mobcost.spec.locate import nearest
from mobcost.spec.schema import Network, load_spec, parse_spec
from mobcost.spec.yaml import Loader


def builtin_dir() -> Path:
    """The shipped configs: inside the installed package, or beside it in a source checkout."""
    packaged = Path(__file__).parent.parent / "configs"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "configs"


@cache
def builtin_models() -> dict[str, Path]:
    """Every built-in name and alias → its config file, read from each file's head (what precedes `layers:`) so that
    naming a model does not parse the whole zoo."""
    names: dict[str, Path] = {}
    for path in sorted(builtin_dir().glob("*.yaml")):
        head = yaml.load(path.read_text(encoding="utf-8").split("\nlayers:", 1)[0], Loader=Loader)
        for name in [head["name"], *head.get("aliases", [])]:
            names[name] = path
    return names


@dataclass(frozen=True)
class ModelRef:
    """A model as the CLI names it: `v1`, `v1:shallow`, `v1@0.75`, `v1@0.5_160`, or a path to a YAML file."""

    target: str
    variant: str | None = None
    alpha: float | None = None
    resolution: int | None = None

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        match = re.fullmatch(r"(?P<target>.+?)(?::(?P<variant>[A-Za-z_][\w-]*))?"
                             r"(?:@(?P<alpha>\d*\.?\d+)(?:_(?P<res>\d+))?)?", text)
        if not match or (Path(text).suffix in (".yaml", ".yml", ".onnx") and Path(text).exists()):
            return cls(text)
        alpha, res = match["alpha"], match["res"]
        return cls(match["target"], match["variant"], float(alpha) if alpha else None, int(res) if res else None)


def locate(target: str) -> Path:
    """The config file for a built-in name, or the path itself."""
    models = builtin_models()
    if target in models:
        return models[target]
    path = Path(target)
    if path.suffix in (".yaml", ".yml", ".onnx") or path.exists() or "/" in target:
        return path
    close = nearest(target, models, cutoff=0.5)  # model names are short: v1 for v7
    hint = f" Did you mean {close!r}?" if close else ""
    raise MobcostError(f"unknown model {target!r}: not a built-in model ({', '.join(models)}) "
                       f"and not a path to a YAML spec or an ONNX model.{hint} `mobcost models` lists the built-in ones.")


def load_model(ref: str | ModelRef, resolution: int | None = None) -> tuple[Network, ModelRef]:
    """The network a model reference names, with its variant applied, and the parsed reference. An ONNX file is
    imported on the fly (`resolution` sizes a dynamic input)."""
    ref = ref if isinstance(ref, ModelRef) else ModelRef.parse(ref)
    path = locate(ref.target)
    if path.suffix.lower() == ".onnx":
        from mobcost.importers.onnx import import_onnx

        network = parse_spec(import_onnx(path, resolution or ref.resolution), f"{path} (as imported)")
    else:
        network = load_spec(path)
    return network.variant(ref.variant), ref
