"""Results in a notebook: a one-line repr, the same table as rich and as HTML, records, and α as a float."""

import io
from fractions import Fraction
from html import escape

import pytest
from rich.console import Console

import mobcost
from test_trace import v1_by_hand

RESULTS = {
    "analysis": lambda: mobcost.analyze("v1", alpha=0.75),
    "blocks": lambda: mobcost.analyze("v2"),
    "totals": lambda: mobcost.sweep("v1", [0.75], [224])[0],
    "sweep": lambda: mobcost.sweep("v1", [1, 0.5], [224, 160]),
    "fit": lambda: mobcost.fit("v1", max_macs="150M", alphas=[0.5, 0.75], resolutions=[160, 224]),
    "diff": lambda: mobcost.diff("v1", "v1@0.75"),
}


@pytest.mark.parametrize("make", RESULTS.values(), ids=RESULTS.keys())
def test_one_line_repr_and_the_same_table_in_rich_and_html(make):
    result = make()
    assert "\n" not in repr(result) and len(repr(result)) < 200
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(result)
    text, html, report = console.export_text(), result._repr_html_(), result.report()
    assert html.startswith("<table>")
    for cell in [report.title, *report.cells(report.rows[0])]:
        assert cell in text and escape(cell) in html


def test_repr_states_the_totals():
    macs, params = v1_by_hand(0.75, 224)
    assert repr(mobcost.analyze("v1@0.75")) == (f"Analysis(0.75 MobileNet-224: {macs:,} Mult-Adds, {params:,} "
                                                f"parameters, 30 rows)")


def test_alpha_is_a_float_and_the_fraction_stays_exact():
    analysis = mobcost.analyze("v1", alpha=0.7)
    assert analysis.alpha == 0.7 and type(analysis.alpha) is float
    assert analysis.exact_alpha == Fraction(7, 10)


def test_records():
    records = mobcost.analyze("v1").to_records()
    assert records[0] == {"name": "conv1", "kind": "conv", "stride": 2, "filter": "3×3×3×32", "input": [224, 224, 3],
                          "output": [112, 112, 32], "macs": 3 * 3 * 3 * 32 * 112 * 112, "params": 3 * 3 * 3 * 32,
                          "reads": ["input"], "part": "backbone", "batch": 1}
    assert sum(r["macs"] for r in records) == v1_by_hand(1.0, 224)[0]
    fit = mobcost.fit("v1", max_macs="150M", alphas=[0.5], resolutions=[224]).to_records()
    assert [(r["alpha"], r["resolution"], r["macs"]) for r in fit] == [(0.5, 224, v1_by_hand(0.5, 224)[0])]


def test_dataframe_when_pandas_is_installed():
    pandas = pytest.importorskip("pandas")
    frame = mobcost.analyze("v1").to_dataframe()
    assert isinstance(frame, pandas.DataFrame) and int(frame["macs"].sum()) == v1_by_hand(1.0, 224)[0]


def test_dataframe_without_pandas_says_so(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(mobcost.MobcostError, match="needs pandas"):
        mobcost.analyze("v1").to_dataframe()


def test_top_level_api_has_one_line_docstrings():
    for name in ("analyze", "sweep", "fit", "diff"):
        doc = getattr(mobcost, name).__doc__
        assert doc and "\n" not in doc.strip(), name


def test_a_sweep_is_its_totals_and_shows_the_sweep_table():
    sweep = mobcost.sweep("v1", "0.5,0.75", "160,224")
    assert [(t.alpha, t.resolution, t.macs) for t in sweep] == [
        (a, r, v1_by_hand(a, r)[0]) for a in (0.5, 0.75) for r in (160, 224)]
    assert len(sweep) == 4 and sweep[-1].macs == v1_by_hand(0.75, 224)[0]
    records = sweep.to_records()  # with the TF-slim checkpoints' published Top-1 (0.5_160: 59.1, the V1 README)
    assert [r["model"] for r in records][0] == "0.5 MobileNet-160" and records[0]["accuracy"] is not None
