"""V1 paper Tables 2, 4, 5, 6, 7 at their printed precision, and the check's verdicts on them."""

import json
from decimal import Decimal
from fractions import Fraction

import pytest

import mobcost
from mobcost.check import at_precision, check, check_budget
from mobcost.language import load_model, parse_spec

# (model reference, published million Mult-Adds, published million parameters), as printed.
TOTALS = {
    "Table 4 MobileNet": ("v1", "569", "4.2"),
    "Table 4 Conv MobileNet (params)": ("v1:conv", None, "29.3"),
    "Table 5 0.75 MobileNet": ("v1@0.75", "325", "2.6"),
    "Table 5 Shallow MobileNet": ("v1:shallow", "307", "2.9"),
    "Table 6 1.0 MobileNet-224": ("v1@1.0_224", "569", "4.2"),
    "Table 6 0.75 MobileNet-224": ("v1@0.75_224", "325", "2.6"),
    "Table 6 0.5 MobileNet-224": ("v1@0.5_224", "149", "1.3"),
    "Table 6 0.25 MobileNet-224": ("v1@0.25_224", "41", "0.5"),
    "Table 7 1.0 MobileNet-192": ("v1@1.0_192", "418", "4.2"),
    "Table 7 1.0 MobileNet-160 (params)": ("v1@1.0_160", None, "4.2"),
    "Table 7 1.0 MobileNet-128": ("v1@1.0_128", "186", "4.2"),
}


def millions(n: int) -> Fraction:
    return Fraction(n, 10**6)


@pytest.mark.parametrize("ref, macs, params", TOTALS.values(), ids=TOTALS.keys())
def test_published_totals_at_printed_precision(ref, macs, params):
    a = mobcost.analyze(ref)
    if macs:
        assert at_precision(millions(a.macs), macs, "nearest") == Decimal(macs)
    assert at_precision(millions(a.params), params, "nearest") == Decimal(params)


TABLE_2 = {  # MobileNets V1 Table 2: % Mult-Adds, % Parameters
    "Conv 1×1": ("94.86", "74.59"),
    "Conv DW 3×3": ("3.06", "1.06"),
    "Conv 3×3 (params)": (None, "0.02"),
    "Fully Connected": ("0.18", "24.33"),
}


@pytest.mark.parametrize("kind, macs, params", [(k, *v) for k, v in TABLE_2.items()], ids=[f"Table 2 {k}" for k in TABLE_2])
def test_table_2_shares(kind, macs, params):
    a = mobcost.analyze("v1")
    kind_macs, kind_params = a.breakdown()[kind.removesuffix(" (params)")]
    if macs:
        assert at_precision(Fraction(100 * kind_macs, a.macs), macs, "nearest") == Decimal(macs)
    assert at_precision(Fraction(100 * kind_params, a.params), params, "nearest") == Decimal(params)


# The three places where the paper disagrees with its own arithmetic (published-figures.md §1).
def test_table_2_prints_1_19_where_the_arithmetic_gives_1_91():
    a = mobcost.analyze("v1")
    assert at_precision(Fraction(100 * 3 * 3 * 3 * 32 * 112 * 112, a.macs), "1.19", "nearest") == Decimal("1.91")


def test_table_4_4866_leaves_out_the_fc_layer():
    a = mobcost.analyze("v1:conv")
    assert round(millions(a.macs)) == 4867 and round(millions(a.macs - 1024 * 1000)) == 4866


def test_table_7_290_is_290_7_rounded_down():
    a = mobcost.analyze("v1@1.0_160")
    assert a.macs == 290_675_200 and at_precision(millions(a.macs), "290", "down") == 290


TF = "TF-slim mobilenet_v1.md (2018-02-22 checkpoints)"
TF_SLIM_ERRATA = ({(TF, f"MobileNet_v1_{a}_{r}", "Million Parameters")
                   for a in ("1.0", "0.75", "0.50", "0.25") for r in (224, 192, 160, 128)}
                  | {(TF, f"MobileNet_v1_0.75_{r}", "Million Mult-Adds") for r in (224, 192, 160, 128)}
                  | {(TF, "MobileNet_v1_0.50_224", "Million Mult-Adds"), (TF, "MobileNet_v1_0.25_192", "Million Mult-Adds")})

T12, T14 = "MobileNets V1 Table 12", "MobileNets V1 Table 14"
FACE_ERRATA = ({(T12, label, "Million Mult-Adds") for label in ("0.25 MobileNet-224", "0.5 MobileNet-128",
                                                                  "0.25 MobileNet-128")}
               | {(T14, label, "Million Parameters") for label in ("1.0 MobileNet-160", "1.0 MobileNet-128",
                                                                    "0.75 MobileNet-128 (first; the 0.75 MobileNet-160)",
                                                                    "0.75 MobileNet-128")}
               | {(T14, "1.0 MobileNet-160", "Million Mult-Adds"), (T14, "0.75 MobileNet-128", "Million Mult-Adds")})


def test_check_v1_marks_exactly_the_known_errata():
    results = check(load_model("v1")[0])
    errata = {(r.source, r.model, r.figure) for r in results if r.status == "erratum"}
    assert errata == {
        ("MobileNets V1 Table 2", "1.0 MobileNet-224, resource per layer type", "% Mult-Adds, Conv 3×3"),
        ("MobileNets V1 Table 4", "Conv MobileNet", "Million Mult-Adds"),
        ("MobileNets V1 Table 7", "1.0 MobileNet-160", "Million Mult-Adds"),
        ("MobileNets V1 Table 9", "0.50 MobileNet-160", "Million Mult-Adds"),
    } | TF_SLIM_ERRATA | FACE_ERRATA  # explained in test_tf_slim.py and test_heads.py
    assert all(r.status == "ok" for r in results if (r.source, r.model, r.figure) not in errata)


def test_rounding_rules():
    assert at_precision(Fraction(5687, 10), "569", "nearest") == 569
    assert at_precision(Fraction(5687, 10), "569", "down") == 568
    assert at_precision(Fraction(5681, 10), "569", "up") == 569
    assert at_precision(Fraction(4209088, 10**6), "4.24", "nearest") == Decimal("4.21")


SPEC = """\
name: tiny
title: Tiny
input: {resolution: 8}
classes: 10
layers:
  - {kind: conv, kernel: 3, out: 4}
  - {kind: avgpool}
  - {kind: fc}
"""
TINY_MACS = 3 * 3 * 3 * 4 * 8 * 8 + 4 * 10  # 6952
TINY_PARAMS = 3 * 3 * 3 * 4 + 4 * 10 + 10  # 158


def test_a_wrong_figure_fails_and_a_right_one_passes():
    net = parse_spec(SPEC + 'reference:\n  - {source: s, label: l, macs: "0.007", params: "0.00016"}\n'
                            '  - {source: s, label: l, macs: "0.006"}\n')
    assert [r.status for r in check(net)] == ["ok", "ok", "fail"]


def test_a_figure_in_billions_is_judged_at_its_printed_precision():
    net = parse_spec(SPEC + 'reference:\n  - {source: s, label: l, macs: "0.000007", macs_unit: billion}\n'
                            '  - {source: s, label: l, macs: "0.0000069", macs_unit: billion}\n')
    assert [(r.figure, r.status) for r in check(net)] == [("Billion Mult-Adds", "ok"), ("Billion Mult-Adds", "fail")]


def test_an_erratum_that_the_arithmetic_agrees_with_fails():
    net = parse_spec(SPEC + 'reference:\n  - {source: s, label: l, macs: "0.007", errata: {macs: "not really"}}\n')
    [result] = check(net)
    assert result.status == "fail" and "arithmetic agrees" in result.note


def test_an_erratum_key_must_name_a_figure():
    net = parse_spec(SPEC + 'reference:\n  - {source: s, label: l, macs: "0.007", errata: {flops: "?"}}\n')
    with pytest.raises(mobcost.SpecError, match="'flops' names no figure"):
        check(net)


@pytest.mark.parametrize("max_macs, status", [(TINY_MACS, "ok"), (TINY_MACS - 1, "fail")])
def test_budget(max_macs, status):
    net = parse_spec(SPEC + f"budget: {{max_macs: {max_macs}, max_params: {TINY_PARAMS}}}\n")
    assert [r.status for r in check_budget(net)] == [status, "ok"]


# ---- the CI gate ----------------------------------------------------------------------------------------------

@pytest.fixture
def tiny(tmp_path):
    """A spec with no published figures and no budget; budget lines can be appended."""
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC)
    return path


def test_nothing_to_check_fails_unless_allowed(mobcost, tiny):
    result = mobcost("check", str(tiny))
    assert result.exit_code == 1 and "nothing to check" in result.stderr and str(tiny) in result.stderr
    assert mobcost("check", str(tiny), "--allow-empty").exit_code == 0


@pytest.mark.parametrize("option, limit, status", [("--max-macs", str(TINY_MACS), "ok"),
                                                   ("--max-macs", str(TINY_MACS - 1), "fail"),
                                                   ("--max-params", "158", "ok"), ("--max-params", "157", "fail"),
                                                   ("--max-memory", "1kB", "ok")])
def test_limits_on_the_command_line(mobcost, tiny, option, limit, status):
    result = mobcost("check", str(tiny), option, limit, "-f", "json")
    [row] = json.loads(result.stdout)["results"]
    assert row["status"] == status and result.exit_code == (status == "fail")
    assert row["source"] == option and row["line"] is None


def test_memory_limit_is_the_peak_of_mobcost_memory(mobcost, tiny):
    # the image 8·8·3 and the conv's output 8·8·4 are alive at once: 448 values, 2 bytes each at fp16
    [row] = json.loads(mobcost("check", str(tiny), "--max-memory", "896", "-f", "json").stdout)["results"]
    assert (row["computed"], row["status"]) == (8 * 8 * (3 + 4) * 2, "ok")
    [row] = json.loads(mobcost("check", str(tiny), "--max-memory", "895", "-f", "json").stdout)["results"]
    assert row["status"] == "fail"


def test_json_has_numbers_and_one_status_vocabulary(mobcost):
    data = json.loads(mobcost("check", "v1", "-f", "json").stdout)
    table9 = next(r for r in data["results"] if r["source"] == "MobileNets V1 Table 9" and r["key"] == "macs"
                  and r["model"] == "0.50 MobileNet-160")
    assert table9["published"] == 76 and table9["decimals"] == 0 and table9["status"] == "erratum"
    assert table9["computed"] == 76_524_800 / 10**6 and table9["rounded"] == 77
    assert {r["status"] for r in data["results"]} <= {"ok", "erratum", "fail"}
    assert set(data["summary"]) == {"ok", "erratum", "fail", "empty"}
    assert all(isinstance(r["published"], (int, float)) and isinstance(r["line"], int) for r in data["results"])


def test_github_annotations_point_at_the_spec_line(mobcost, tiny):
    tiny.write_text(SPEC + f"budget:\n  max_params: 1M\n  max_macs: {TINY_MACS - 1}\n")
    result = mobcost("check", str(tiny), "--format", "github")
    line = SPEC.count("\n") + 3  # the max_macs line
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"::error file={tiny},line={line},title=mobcost check%3A fail::1.0 Tiny-8, Mult-Adds budget (budget): "
        f"published ≤ {TINY_MACS - 1:,}, computed {TINY_MACS:,}: over by 1")
