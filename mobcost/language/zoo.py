"""The model zoo and model references: `v1`, `v1:shallow`, `v1@0.5_160`, or a path to a YAML spec or ONNX model."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from mobcost.limits import LIMIT, MAX_FILE_BYTES, MAX_NUMBER_CHARS, MAX_PIXELS
from mobcost.errors import MobcostError, Problem, SpecError, listed, shown
from mobcost.language.locate import nearest
from mobcost.language.schema import Network, load_spec, parse_spec
from mobcost.language.shipped import builtin, builtin_models
from mobcost.language.yaml import decode_spec


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
                             r"(?:@(?P<alpha>[0-9]*\.?[0-9]+)(?:_(?P<res>[0-9]+))?)?", text, re.ASCII)
        if not match or (Path(text).suffix in (".yaml", ".yml", ".onnx") and _exists(Path(text))):
            return cls(text)
        alpha, res = match["alpha"], match["res"]
        if alpha is not None and (len(alpha) > MAX_NUMBER_CHARS or not float(alpha) > 0):
            raise MobcostError(f"{shown(text)}: the width multiplier α must be a positive number such as "
                               f"0.75 (found {shown(alpha)})")
        if res is not None and (len(res) > len(str(MAX_PIXELS)) or not 1 <= int(res) <= MAX_PIXELS):
            raise MobcostError(f"{shown(text)}: the resolution must be a positive number of pixels up to "
                               f"{MAX_PIXELS:,} {LIMIT} (found {shown(res)})")
        return cls(match["target"], match["variant"], float(alpha) if alpha else None, int(res) if res else None)


def _exists(path: Path) -> bool:
    """Whether a path exists; a name too long or a folder that cannot be read is not an error here (reading it
    will say so)."""
    try:
        return path.exists()
    except OSError:
        return False


def locate(target: str) -> Path:
    """The config file for a built-in name, or the path itself."""
    path = Path(target)
    if path.suffix in (".yaml", ".yml", ".onnx") or "/" in target:
        return path
    if found := builtin(target):
        return found
    if _exists(path):
        return path
    models = builtin_models()
    close = nearest(target, models, cutoff=0.5)  # model names are short: v1 for v7
    hint = f" Did you mean {close!r}?" if close else ""
    raise MobcostError(f"unknown model {shown(target)!r}: not a built-in model ({listed(models)}) "
                       f"and not a path to a YAML spec or an ONNX model.{hint} `mobcost models` lists the built-in ones.")


STDIN = "-"  # a spec read from standard input: `cat net.yaml | mobcost table -`


def read_stdin() -> Network:
    """A spec from standard input, read up to the spec-size limit and no further."""
    return parse_spec(stdin_text(), "<stdin>")


def stdin_text() -> str:
    """Standard input as a spec's text (a network's or a space's), read up to the spec-size limit and no further."""
    raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError([Problem("<stdin>", f"is more than {MAX_FILE_BYTES:,} bytes; expected a YAML spec of at "
                                            f"most {MAX_FILE_BYTES:,} bytes {LIMIT}")])
    return decode_spec(raw, "<stdin>")


def load_target(ref: ModelRef, resolution: int | None = None) -> Network:
    """The whole network a model reference's target names, before any variant: `-` reads standard input, and an
    ONNX file is imported on the fly (`resolution` sizes a dynamic input)."""
    if ref.target == STDIN:
        return read_stdin()
    path = locate(ref.target)
    if path.suffix.lower() == ".onnx":
        from mobcost.importers.onnx import import_onnx

        return parse_spec(import_onnx(path, resolution or ref.resolution), f"{path} (as imported)")
    return load_spec(path)


def load_model(ref: str | ModelRef, resolution: int | None = None) -> tuple[Network, ModelRef]:
    """The network a model reference names (`-`: standard input; an ONNX file imported on the fly, `resolution`
    sizing a dynamic input), with its variant applied, and the parsed reference."""
    ref = ref if isinstance(ref, ModelRef) else ModelRef.parse(ref)
    return load_target(ref, resolution).variant(ref.variant), ref
