"""mobcost diff: rows matched by structure (place in the graph, then name and kind), deltas that add up to the totals' delta, and the --fail-over gate."""

import json

import pytest

import mobcost
from test_trace import v1_by_hand

BLOCK_14 = 3 * 3 * 512 * 14 * 14 + 512 * 512 * 14 * 14, 3 * 3 * 512 + 512 * 512  # one 14×14×512 separable block


def test_v1_to_075_deltas_sum_to_the_totals_delta(mobcost):
    data = json.loads(mobcost("diff", "v1", "v1@0.75", "-f", "json").stdout)
    (macs_a, params_a), (macs_b, params_b) = v1_by_hand(1.0, 224), v1_by_hand(0.75, 224)
    assert data["totals"]["macs"] == {"before": macs_a, "after": macs_b, "delta": macs_b - macs_a,
                                      "relative": (macs_b - macs_a) / macs_a}
    assert data["totals"]["params"]["delta"] == params_b - params_a
    assert sum(row["macs_delta"] for row in data["rows"]) == macs_b - macs_a
    assert sum(row["params_delta"] for row in data["rows"]) == params_b - params_a
    # every conv, dw and pw layer narrows, and so do the pool's input (at no cost) and the FC's; softmax is the same
    assert {row["change"] for row in data["rows"]} == {"changed"} and len(data["rows"]) == 1 + 26 + 1 + 1


def test_shallow_removes_the_five_14x14_blocks_and_renames_the_rest(mobcost):
    data = json.loads(mobcost("diff", "v1", "v1:shallow", "-f", "json").stdout)
    removed = [row["name"] for row in data["rows"] if row["change"] == "removed"]
    # matched by place in the graph: the five 14×14×512 blocks (sep7 … sep11) go; sep12 and sep13 are the same
    # layers under the names their new position gives them
    assert removed == [f"sep{i}/{part}" for i in range(7, 12) for part in ("dw", "pw")] and len(data["rows"]) == 10
    assert data["renamed"] == [[f"sep{a}/{part}", f"sep{b}/{part}"] for a, b in ((12, 7), (13, 8))
                               for part in ("dw", "pw")]
    assert data["totals"]["macs"]["delta"] == -5 * BLOCK_14[0]
    assert data["totals"]["params"]["delta"] == -5 * BLOCK_14[1]
    back = json.loads(mobcost("diff", "v1:shallow", "v1", "-f", "json").stdout)
    assert [row["name"] for row in back["rows"] if row["change"] == "added"] == removed


def test_a_renamed_layer_whose_cost_changes_shows_both_names(mobcost, tmp_path):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(SPEC.format(layers="  - {name: stem, kind: conv, out: 4}\n"))
    new.write_text(SPEC.format(layers="  - {name: first, kind: conv, out: 8}\n"))
    data = json.loads(mobcost("diff", str(old), str(new), "-f", "json").stdout)
    rows = {row["name"]: row for row in data["rows"]}
    assert rows["first"]["renamed_from"] == "stem" and rows["first"]["macs_delta"] == 3 * 3 * 3 * (8 - 4) * 8 * 8
    assert "| stem → first | changed |" in mobcost("diff", str(old), str(new), "-f", "markdown").stdout


def test_the_same_model_has_no_rows(mobcost):
    data = json.loads(mobcost("diff", "v1", "mobilenet_v1", "-f", "json").stdout)
    assert data["rows"] == [] and data["unchanged"] == 1 + 26 + 3 and data["totals"]["macs"]["delta"] == 0


SPEC = "name: tiny\ntitle: Tiny\ninput: {{resolution: 8}}\nclasses: 10\nlayers:\n{layers}  - {{kind: avgpool}}\n" \
       "  - {{kind: fc}}\n"


def test_two_spec_files(mobcost, tmp_path):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(SPEC.format(layers="  - {name: stem, kind: conv, out: 4}\n"))
    new.write_text(SPEC.format(layers="  - {name: stem, kind: conv, out: 8}\n  - {name: extra, kind: pw, out: 8}\n"))
    data = json.loads(mobcost("diff", str(old), str(new), "-f", "json").stdout)
    rows = {row["name"]: row for row in data["rows"]}
    assert rows["stem"]["macs_delta"] == 3 * 3 * 3 * (8 - 4) * 8 * 8
    assert rows["extra"]["change"] == "added" and rows["extra"]["macs_delta"] == 8 * 8 * 8 * 8
    assert rows["fc1"]["params_delta"] == (8 - 4) * 10
    markdown = mobcost("diff", str(old), str(new), "-f", "markdown").stdout
    assert "| extra | added |" in markdown and "**Total**" in markdown


@pytest.mark.parametrize("threshold, code", [("5%", 1), ("74.8%", 0), ("74.7", 1)])
def test_fail_over(mobcost, threshold, code):
    # 0.75 → 1.0: Mult-Adds grow by 568,740,352 / 325,400,448 − 1 = 74.78%
    result = mobcost("diff", "v1@0.75", "v1", "--fail-over", threshold)
    assert result.exit_code == code and ("more than --fail-over" in result.stderr) == bool(code)


def test_fail_over_needs_a_percentage(mobcost):
    result = mobcost("diff", "v1", "v1", "--fail-over", "lots")
    assert result.exit_code == 2 and "--fail-over takes a percentage" in result.stderr


def test_library_diff():
    d = mobcost.diff("v1", "v1@0.5")
    assert d.macs == (v1_by_hand(1.0, 224)[0], v1_by_hand(0.5, 224)[0]) and d.growth() < 0


def test_an_export_of_a_detector_against_its_config_changes_nothing(mobcost, tmp_path):
    """ONNX lists SSD's heads in another order than the config (box1 … box5 after the class heads): diff paired
    the rows it could align and called the five box heads removed and added again. Moved rows with the same
    kind, shapes and counts pair too: every row unchanged, the same 1,237,129,408 Mult-Adds on both sides."""
    from mobcost import analyze

    pytest.importorskip("onnx")
    out = tmp_path / "ssd.onnx"
    assert mobcost("export", "ssd300_mobilenet_v1", "-o", str(out)).exit_code == 0
    data = json.loads(mobcost("diff", str(out), "ssd300_mobilenet_v1", "-f", "json").stdout)
    assert data["rows"] == [] and data["unchanged"] == len(analyze("ssd300_mobilenet_v1").rows)
