"""The house (docs/development.md, "Layout"): the floors in pyproject's import-linter contract hold, name every room, and no
module of mobcost takes part in an import cycle, lazy imports (inside functions) included."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mobcost"
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every mobcost module a file imports, anywhere in it (a lazy import is an import), but for `if TYPE_CHECKING:`
    blocks, which never run (the layer kinds name the `Layer` union there; the union resolves them at run time)."""
    found, here = set(), _module(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        found |= {name for name in names if name in modules and name != here}
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(files)) for name, path in files.items()}


def test_no_module_takes_part_in_an_import_cycle():
    graph, index, low, stack, on, cycles = _graph(), {}, {}, [], set(), []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_floors_name_every_room():
    """A room missing from the layers contract would be unchecked: removing a line of the contract fails here."""
    floors = next(c for c in CONTRACTS if c["type"] == "layers")["layers"]
    named = {room.strip() for floor in floors for room in floor.split("|")}
    rooms = {f"mobcost.{p.stem if p.is_file() else p.name}" for p in PACKAGE.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    assert rooms == named


lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))


@pytest.mark.skipif(not Path(lint_imports).exists(), reason="import-linter is not installed (the test extra)")
def test_the_contracts_hold_and_catch_a_lazy_import_of_a_view(tmp_path):
    kept = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True)
    assert kept.returncode == 0, kept.stdout
    copy = tmp_path / "house"
    shutil.copytree(PACKAGE, copy / "mobcost", ignore=shutil.ignore_patterns("__pycache__", "configs"))
    shutil.copy(ROOT / "pyproject.toml", copy)
    with open(copy / "mobcost" / "trace.py", "a", encoding="utf-8") as f:
        f.write("\n\ndef _shown(report):\n    from mobcost.table import render\n\n    return render(report)\n")
    broken = subprocess.run([lint_imports], cwd=copy, capture_output=True, text=True)
    assert broken.returncode == 1
    assert "mobcost.trace -> mobcost.table" in broken.stdout
