"""The same-libraries baseline of bench/startup.py: what `mobcost table v1` does, with the same libraries and
nothing of mobcost's own: a typer command reads one YAML file with PyYAML's C loader, validates one pydantic model
and prints a 30-row rich table.

    python bench/minimal_app.py configs/mobilenet_v1.yaml
"""

import typer
import yaml
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table


class Spec(BaseModel):
    name: str
    title: str
    layers: list[dict]


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        spec = Spec.model_validate(yaml.load(f, Loader=yaml.CSafeLoader))
    table = Table(title=spec.title)
    for header in ("Layer", "Type / Stride", "Filter Shape", "Input Size", "Mult-Adds", "Parameters"):
        table.add_column(header, justify="right" if header in ("Mult-Adds", "Parameters") else "left")
    for i in range(30):
        table.add_row(f"layer{i}", "Conv / s1", f"1×1×{i}×{i}", f"{i}×{i}×{i}", f"{i**6:,}", f"{i**4:,}")
    Console().print(table)


if __name__ == "__main__":
    typer.run(main)
