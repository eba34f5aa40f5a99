"""docs/import.md's operator table is the importer's: every operator with a rule is listed, and no operator is
listed that has none."""

import re
from pathlib import Path

import pytest

pytest.importorskip("onnx")

from mobcost.importers import onnx as importer  # noqa: E402

DOC = Path(__file__).parent.parent / "docs" / "import.md"


def table_operators() -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("<!-- operator table"):]
    ops = set()
    for line in table.splitlines()[3:]:
        if not line.startswith("|"):
            break
        ops.update(re.findall(r"\b([A-Z][A-Za-z]+)\b", line.split("|")[1]))
    return ops


def test_the_operator_table_lists_every_rule_and_only_rules():
    handled = {name[3:] for name in dir(importer._Reader) if name.startswith("op_")}
    handled |= importer._PASS | importer._TOKEN_MOVES | {"Transpose", "Shape", "Constant"}
    listed = table_operators() - {"Imported"}
    assert handled - listed == set(), "rules the table does not list"
    assert listed - handled == set(), "operators the table lists with no rule"
