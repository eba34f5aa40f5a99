"""Activation memory: the V2 paper's Table 3 view and the peak live set, against hand arithmetic."""

from decimal import Decimal

import pytest

import mobcost
from mobcost.memory import by_resolution, materialized, peak_memory, steps


def widest(model: str) -> dict[int, int]:
    return {h: c for (h, _), c, _ in by_resolution(mobcost.analyze(model))}


def kilobytes_as_printed(n_bytes: int) -> Decimal:
    """Two significant figures, as MobileNetV2 Table 3 prints its "max" row (1600K, 400K)."""
    return Decimal(f"{n_bytes / 1000:.2g}")


@pytest.mark.parametrize("size, channels", [(112, 64), (56, 128), (28, 256), (14, 512), (7, 1024), (1, 1024)])
def test_v1_widest_tensor_per_resolution_is_table_3(size, channels):
    assert widest("v1")[size] == channels  # MobileNetV2 Table 3, MobileNetV1 column


@pytest.mark.parametrize("model, printed, n_bytes", [
    ("v1", "1600", 64 * 112 * 112 * 2),
    ("v2", "400", 16 * 112 * 112 * 2),
], ids=["MobileNetV2 Table 3 max, MobileNetV1: 1600K", "MobileNetV2 Table 3 max, MobileNetV2: 400K"])
def test_largest_materialized_tensor_is_table_3_max(model, printed, n_bytes):
    (h, w), c, _ = max(by_resolution(mobcost.analyze(model)), key=lambda t: t[0][0] * t[0][1] * t[1])
    assert h * w * c * 2 == n_bytes
    assert kilobytes_as_printed(n_bytes) == Decimal(printed)


def test_v2_streams_the_expansions():
    # Table 3's MobileNetV2 column: 16 channels at 112×112 (the stem's 32 feed the first depthwise, slice by slice)
    # and 1280 at 1×1; V2 §5.1: the expanded tensors are never whole
    assert widest("v2")[112] == 16 and widest("v2")[1] == 1280
    a = mobcost.analyze("v2")
    assert not any(whole for row, whole in zip(a.rows, materialized(a)) if row.name.endswith("/expand"))


def test_v2_peak_is_the_input_image_and_the_first_block_output():
    assert peak_memory(mobcost.analyze("v2"), "fp16") == (224 * 224 * 3 + 112 * 112 * 16) * 2


def test_v1_peak_is_the_first_pointwise_input_and_output():
    assert peak_memory(mobcost.analyze("v1"), "fp16") == (112 * 112 * 32 + 112 * 112 * 64) * 2


@pytest.mark.parametrize("dtype, size", [("fp32", 4), ("fp16", 2), ("int8", 1)])
def test_dtype_sets_the_bytes_per_activation(dtype, size):
    assert peak_memory(mobcost.analyze("v1"), dtype) == (112 * 112 * 32 + 112 * 112 * 64) * size


def test_residual_add_keeps_the_block_input_and_writes_in_place():
    # MobileNetV3-Large bneck1 (t = 1, 16 → 16 at 112×112): its input is kept whole for the add
    a = mobcost.analyze("v3_large")
    add = next(step for step in steps(a) if step.rows[-1].name == "bneck1/add")
    assert (add.input, add.output, add.held) == (112 * 112 * 16, 0, 112 * 112 * 16)


def test_squeeze_excite_keeps_the_depthwise_output_until_its_scale():
    a = mobcost.analyze("v3_large")
    scale = next(step for step in steps(a) if step.rows[0].name == "bneck4/se/scale")
    assert scale.held == 28 * 28 * 72  # bneck4's 5×5 depthwise output, stride 2 from 56×56
    assert scale.input == 72 and scale.output == 28 * 28 * 40


def test_every_row_reports_its_activation_sizes():
    from mobcost.report import memory_layers_table

    report = memory_layers_table(mobcost.analyze("v2"), "fp16")
    assert len(report.rows) == len(mobcost.analyze("v2").rows)
    first = report.rows[0]
    assert (first["input_size"], first["output_size"]) == (224 * 224 * 3, 112 * 112 * 32)


def test_memory_command(mobcost):
    result = mobcost("memory", "v2", "--dtype", "fp16", "-f", "csv")
    assert result.exit_code == 0
    assert "112×112,16,401408,401408,bneck1/project" in result.stdout
    assert mobcost("memory", "v2", "--layers", "-f", "csv").stdout.count("sliced") > 0
    assert mobcost("memory", "v2", "--dtype", "fp8").exit_code == 2


def test_parallel_branches_are_refused_rather_than_undercounted(mobcost):
    result = mobcost("memory", "googlenet")
    assert result.exit_code == 2 and "joins parallel branches" in result.stderr and result.stdout == ""
