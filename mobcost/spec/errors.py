"""Errors in specs and model names: what the CLI turns into one paragraph and exit code 2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

Path_ = tuple[Union[str, int], ...]
"""A place in a spec: the keys and indices from the document's root."""


class MobcostError(Exception):
    """Bad input: the CLI prints it as one paragraph and exits with code 2."""


@dataclass(frozen=True)
class Problem:
    """One mistake in a spec, located as precisely as the spec allows."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    layer: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line else "") + (f", column {self.column}" if self.column else "")
        what = "".join([f"{self.layer}, " if self.layer else "", f"field '{self.field}': " if self.field else ""])
        return f"{where}: {what}{self.message}"


class SpecError(MobcostError):
    """A spec that cannot be read, validated or traced."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


TORCH_CPU = ("install PyTorch's CPU build as PyTorch's own instructions do: pip install torch torchvision "
             "--index-url https://download.pytorch.org/whl/cpu (then pip install 'mobcost[torch]'; a plain "
             "`pip install torch` on Linux fetches the CUDA build)")
"""How to get torch and torchvision anywhere, for every message that needs them."""
