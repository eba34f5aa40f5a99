"""MobileNetV2 and V3 configs against the published figures and the frameworks' exact parameter counts."""

from fractions import Fraction

import pytest

import mobcost
from mobcost.check import check_reference
from mobcost.layers import make_divisible
from mobcost.views.network import block_table
from mobcost.language import load_model

MODELS = ("mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")
REFERENCES = [(name, ref) for name in MODELS for ref in load_model(name)[0].reference]


@pytest.mark.parametrize("name, ref", REFERENCES, ids=[f"{ref.source}: {ref.label}" for _, ref in REFERENCES])
def test_published_figure_at_its_printed_precision(name, ref):
    for result in check_reference(load_model(name)[0], ref):
        assert result.status != "fail", result.note
        assert (result.status == "erratum") == (result.figure.split()[-1].lower().replace("mult-adds", "macs")
                                                 .replace("parameters", "params") in ref.errata)


ERRATA = [("mobilenet_v2", "MobileNetV2 (1.4)", "macs"), ("mobilenet_v2", "MobileNetV2 (1.4)", "params"),
          ("mobilenet_v3_large", "V3-Large 1.0", "macs"), ("mobilenet_v3_large", "V3-Large 1.0", "params"),
          ("mobilenet_v3_small", "V3-Small 1.0 (paper's head)", "macs")]


@pytest.mark.parametrize("name, label, key", ERRATA, ids=[f"{label} {key}" for _, label, key in ERRATA])
def test_paper_figures_the_architecture_does_not_give_are_errata(name, label, key):
    assert key in next(ref for ref in load_model(name)[0].reference if ref.label == label).errata


def _v2_by_hand(alpha: Fraction, resolution: int, classes: int = 1000) -> tuple[int, int]:
    """MobileNetV2 Table 2 written out: make_divisible(α·c, 8) widths, the last conv kept at 1280 for α ≤ 1."""
    h = -(-resolution // 2)
    c = make_divisible(32 * alpha, 8)
    macs, params = 3 * 3 * 3 * c * h * h, 3 * 3 * 3 * c
    for t, out, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                         (6, 160, 3, 2), (6, 320, 1, 1)]:
        out = make_divisible(out * alpha, 8)
        for i in range(n):
            e = c * t
            h_out = -(-h // (s if i == 0 else 1))
            macs += (c * e * h * h if t > 1 else 0) + 3 * 3 * e * h_out * h_out + e * out * h_out * h_out
            params += (c * e if t > 1 else 0) + 3 * 3 * e + e * out
            h, c = h_out, out
    last = 1280 if alpha <= 1 else make_divisible(1280 * alpha, 8)
    macs += c * last * h * h + last * classes
    params += c * last + last * classes + classes
    return macs, params


@pytest.mark.parametrize("alpha, resolution", [("1", 224), ("1.4", 224), ("0.75", 192), ("0.35", 96)])
def test_v2_totals_by_hand(alpha, resolution):
    a = mobcost.analyze("v2", alpha=float(alpha), resolution=resolution)
    assert (a.macs, a.params) == _v2_by_hand(Fraction(alpha), resolution)


def test_v2_at_one_is_300_million_mult_adds():
    # 224: conv 10,838,016 + the 17 bottlenecks + 1×1 conv 20,070,400 + classifier 1,280,000
    assert mobcost.analyze("v2").macs == 300_774_272


FRAMEWORKS = [("v2", "torch", 3_504_872, "torchvision mobilenet_v2 num_params"),
              ("v2", "keras", 3_538_984, "Keras MobileNetV2 count_params"),
              ("v3_large", "torch", 5_483_032, "torchvision mobilenet_v3_large num_params"),
              ("v3_large", "keras", 5_507_432, "Keras MobileNetV3Large count_params"),
              ("v3_small", "torch", 2_542_856, "torchvision mobilenet_v3_small num_params"),
              ("v3_small", "keras", 2_554_968, "Keras MobileNetV3Small count_params")]


@pytest.mark.parametrize("model, counting, expected", [f[:3] for f in FRAMEWORKS], ids=[f[3] for f in FRAMEWORKS])
def test_framework_parameter_counts_exactly(model, counting, expected):
    assert mobcost.analyze(model).params_counted(counting) == expected


def test_keras_adds_the_running_statistics_to_torch():
    # published-figures §8.11: Keras total = torchvision + BN moving mean and variance (34,112 for V2)
    a = mobcost.analyze("v2")
    assert a.params_counted("keras") - a.params_counted("torch") == 34_112


def _blocks(model: str) -> list[dict]:
    return [row for row in block_table(mobcost.analyze(model)).rows if row["operator"].startswith("bottleneck")]


def test_v2_block_table_is_the_papers_table_2():
    # MobileNetV2 Table 2: t, c, n, s of the seven bottleneck rows
    rows = _blocks("v2")
    assert [(r["t"], r["out"], r["n"], r["stride"]) for r in rows] == [
        ("1", 16, 1, 1), ("6", 24, 2, 2), ("6", 32, 3, 2), ("6", 64, 4, 2), ("6", 96, 3, 1), ("6", 160, 3, 2),
        ("6", 320, 1, 1)]


def test_v3_large_block_table_is_the_papers_table_1():
    # MobileNetV3 Table 1: kernel, exp size, #out, SE, NL, s of the fifteen bneck rows
    table_1 = [(3, 16, 16, "–", "RE", 1), (3, 64, 24, "–", "RE", 2), (3, 72, 24, "–", "RE", 1),
               (5, 72, 40, "✓", "RE", 2), (5, 120, 40, "✓", "RE", 1), (5, 120, 40, "✓", "RE", 1),
               (3, 240, 80, "–", "HS", 2), (3, 200, 80, "–", "HS", 1), (3, 184, 80, "–", "HS", 1),
               (3, 184, 80, "–", "HS", 1), (3, 480, 112, "✓", "HS", 1), (3, 672, 112, "✓", "HS", 1),
               (5, 672, 160, "✓", "HS", 2), (5, 960, 160, "✓", "HS", 1), (5, 960, 160, "✓", "HS", 1)]
    rows = _blocks("v3_large")
    assert [(int(r["operator"][-1]), r["exp"], r["out"], r["se"], r["act"], r["stride"]) for r in rows] == table_1


def test_v3_small_block_table_is_the_papers_table_2():
    table_2 = [(3, 16, 16, "✓", "RE", 2), (3, 72, 24, "–", "RE", 2), (3, 88, 24, "–", "RE", 1),
               (5, 96, 40, "✓", "HS", 2), (5, 240, 40, "✓", "HS", 1), (5, 240, 40, "✓", "HS", 1),
               (5, 120, 48, "✓", "HS", 1), (5, 144, 48, "✓", "HS", 1), (5, 288, 96, "✓", "HS", 2),
               (5, 576, 96, "✓", "HS", 1), (5, 576, 96, "✓", "HS", 1)]
    rows = _blocks("v3_small")
    assert [(int(r["operator"][-1]), r["exp"], r["out"], r["se"], r["act"], r["stride"]) for r in rows] == table_2


@pytest.mark.parametrize("model", ["v2", "v3_large", "v3_small"])
def test_block_table_columns_sum_to_the_total(model):
    report = block_table(mobcost.analyze(model))
    assert sum(r["macs"] for r in report.rows) == report.total["macs"]
    assert sum(r["params"] for r in report.rows) == report.total["params"]


def test_table_defaults_to_blocks_for_v2_and_layers_for_v1(mobcost):
    assert "bottleneck 3×3" in mobcost("table", "v2", "-f", "csv").stdout
    assert "bneck2/1/expand" in mobcost("table", "v2", "--layers", "-f", "csv").stdout
    assert "sep1/dw" in mobcost("table", "v1", "-f", "csv").stdout


def test_params_option_counts_as_the_framework(mobcost):
    assert "Total,,,,,,,,300774272,3504872" in mobcost("table", "v2", "--params", "torch", "-f", "csv").stdout
    assert mobcost("table", "v2", "--params", "tf").exit_code == 2


def test_check_passes_on_the_v2_v3_configs(mobcost):
    result = mobcost("check", *MODELS)
    assert result.exit_code == 0, result.stdout


def test_reference_classes_and_counting_change_what_is_checked():
    network = load_model("v2")[0]
    tf_slim = next(ref for ref in network.reference if ref.label == "mobilenet_v2_1.0_224")
    params = next(r for r in check_reference(network, tf_slim) if r.figure == "Million Parameters")
    assert params.computed == Fraction(3_470_760 + 1280 + 1, 10**6)  # + weights and a bias of the background class
    torch = next(ref for ref in network.reference if ref.counting == "torch")
    assert check_reference(network, torch)[0].computed == Fraction(3_504_872, 10**6)


def test_params_option_reaches_the_budget(mobcost):
    # V2's budget allows 3.5M parameters: Keras' count, 3,538,984, is over it
    assert mobcost("check", "v2", "--params", "keras").exit_code == 1
