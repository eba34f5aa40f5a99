"""The configs that ship with mobcost, by name or alias: what `mobcost models` lists and a `backbone:` may name."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Iterator

import yaml

from mobcost.language.yaml import Loader


def builtin_dir() -> Path:
    """The shipped configs: inside the installed package, or beside it in a source checkout."""
    packaged = Path(__file__).parent.parent / "configs"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "configs"


def _heads() -> Iterator[tuple[Path, str]]:
    """Each config file with its head, the text before `layers:` (name, title, aliases)."""
    for path in sorted(builtin_dir().glob("*.yaml")):
        yield path, path.read_text(encoding="utf-8").split("\nlayers:", 1)[0]


def _names(head: str) -> list[str]:
    data = yaml.load(head, Loader=Loader)
    return [data["name"], *data.get("aliases", [])]


@cache
def builtin_models() -> dict[str, Path]:
    """Every built-in name and alias → its config file, read from each file's head (what precedes `layers:`) so that
    naming a model does not parse the whole zoo."""
    return {name: path for path, head in _heads() for name in _names(head)}


def builtin(target: str) -> Path | None:
    """The config naming `target`, parsing only the heads that contain it (most runs name one model)."""
    return next((path for path, head in _heads() if target in head and target in _names(head)), None)


INDEX = "models.json"  # beside the configs: what `mobcost models` lists, with the digest of the configs it was made from


def configs_digest() -> str:
    """The SHA-256 of every shipped config (names and bytes): what the index was made from. (mobcost's own code is
    held to the index by tests/test_models_index.py, which a release passes.)"""
    digest = hashlib.sha256()
    for path in sorted(builtin_dir().glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_index() -> list[dict] | None:
    """The `mobcost models` entries from the shipped index, or None when it is missing or was made from other
    configs (then they are computed again): reading 30 small files is faster than parsing and tracing them."""
    try:
        index = json.loads((builtin_dir() / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return index["models"] if index.get("digest") == configs_digest() else None
