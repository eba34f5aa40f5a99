"""Activation memory: the V2 paper's Table 3 view and the peak live set, against hand arithmetic."""

from decimal import Decimal

import pytest

import mobcost
from mobcost.memory import by_resolution, materialized, peak_memory, steps
from mobcost.language import parse_spec

SMALL = "name: s\ntitle: S\ninput: {resolution: 8, channels: 3}\nlayers:\n"


def widest(model: str) -> dict[int, int]:
    return {h: c for (h, _), c, _, _ in by_resolution(mobcost.analyze(model))}


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
    (h, w), c, _, _ = max(by_resolution(mobcost.analyze(model)), key=lambda t: t[0][0] * t[0][1] * t[1])
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
    # it reads the block's input and the projection's output, and writes the sum over the projection's output
    assert (add.input, add.output, add.held) == (112 * 112 * 16 + 112 * 112 * 16, 0, 0)
    body = next(step for step in steps(a) if step.rows[-1].name == "bneck1/project")
    assert [row.name for row in body.rows] == ["bneck1/dw", "bneck1/project"]  # the depthwise output is sliced
    assert (body.input, body.output, body.held) == (112 * 112 * 16, 112 * 112 * 16, 0)


def test_squeeze_excite_keeps_the_depthwise_output_until_its_scale():
    a = mobcost.analyze("v3_large")
    scale = next(step for step in steps(a) if step.rows[0].name == "c2/se/scale")
    # the gate and c2's 5×5 depthwise output (stride 2 from 56×56), read by the scale, whose output the
    # projection consumes slice by slice
    assert scale.input == 72 + 28 * 28 * 72 and scale.output == 28 * 28 * 40 and scale.held == 0
    pool = next(step for step in steps(a) if step.rows[0].name == "c2/se/reduce")
    assert (pool.input, pool.output, pool.held) == (72, 24, 28 * 28 * 72)  # the depthwise output waits for the scale


def test_every_row_reports_its_activation_sizes():
    from mobcost.views.memory import memory_layers_table

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


def test_branches_hold_the_block_input_and_every_finished_branch():
    # two branches from x (8×8×4): a 1×1 conv to 2 channels, and a 1×1 conv to 3 then a 3×3 conv to 5; then concat
    a = mobcost.trace(parse_spec(SMALL + """\
  - {kind: conv, kernel: 1, out: 4}
  - name: cat
    kind: concat
    branches:
      - [{kind: conv, kernel: 1, out: 2}]
      - [{kind: conv, kernel: 1, out: 3}, {kind: conv, kernel: 3, out: 5}]
"""))
    live = {step.rows[-1].name: step.live for step in steps(a)}
    image, x = 8 * 8 * 3, 8 * 8 * 4
    assert live["conv1"] == image + x
    assert live["cat/b1/conv1"] == x + 8 * 8 * 2  # x stays for the second branch
    assert live["cat/b2/conv1"] == x + 8 * 8 * 3 + 8 * 8 * 2  # x freed after its last reader, b1's output held
    assert live["cat/b2/conv2"] == 8 * 8 * 3 + 8 * 8 * 5 + 8 * 8 * 2
    assert live["cat/concat"] == 8 * 8 * 2 + 8 * 8 * 5 + 8 * 8 * 7
    assert peak_memory(a, "int8") == 8 * 8 * (2 + 5 + 7)  # the concat: both branch outputs and their stack


def test_named_outputs_stay_alive_to_the_end():
    # a head reads `a` early; `a` is an output, so it is still alive when the last layer runs
    a = mobcost.trace(parse_spec(SMALL.replace("layers", "outputs: [a, c]\nlayers") + """\
  - {kind: conv, kernel: 1, name: a, out: 4}
  - {kind: conv, kernel: 1, name: b, out: 6}
  - {kind: conv, kernel: 1, name: c, out: 2}
"""))
    live = {step.rows[-1].name: step.live for step in steps(a)}
    assert live["c"] == 8 * 8 * 6 + 8 * 8 * 2 + 8 * 8 * 4  # b's output read, c's written, a held


def test_memory_works_on_every_shipped_config(mobcost):
    from mobcost.language import builtin_models

    for path in sorted(set(builtin_models().values())):
        assert mobcost("memory", str(path), "-f", "json").exit_code == 0, path
