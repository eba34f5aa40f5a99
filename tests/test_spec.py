"""Loading specs, model references, sizes, and the errors a person gets for bad input."""

import pytest

from mobcost.language import MobcostError, ModelRef, SpecError, load_model, load_spec, parse_size, parse_spec

GOOD = """\
name: tiny
title: Tiny
input: {resolution: 32, channels: 3}
classes: 10
layers:
  - {kind: conv, kernel: 3, stride: 2, out: 8}
  - {kind: separable, out: 16}
  - {kind: avgpool}
  - {kind: fc}
"""


def spec_error(text: str) -> str:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "tiny.yaml")
    return str(info.value)


def test_a_good_spec_parses():
    net = parse_spec(GOOD, "tiny.yaml")
    assert [layer.kind for layer in net.layers] == ["conv", "separable", "avgpool", "fc"]
    assert net.input.resolution == 32 and net.classes == 10


def test_unknown_layer_kind_names_file_line_layer_and_the_kinds():
    message = spec_error(GOOD.replace("kind: separable", "kind: seperable"))
    assert message.startswith("tiny.yaml, line 7")
    assert "layer layers[1]" in message and "unknown layer kind" in message and "separable" in message


def test_missing_field_names_layer_and_field():
    message = spec_error(GOOD.replace("{kind: conv, kernel: 3, stride: 2, out: 8}", "{kind: conv, kernel: 3}"))
    assert "line 6" in message and "layer layers[0] (conv)" in message and "field 'out'" in message
    assert "missing" in message


def test_mistyped_field_says_what_was_found():
    message = spec_error(GOOD.replace("stride: 2", "stride: two"))
    assert "line 6" in message and "field 'stride'" in message and "'two'" in message


def test_misspelled_field_is_rejected():
    message = spec_error(GOOD.replace("stride: 2", "strid: 2"))
    assert "field 'strid'" in message and "not a field" in message


@pytest.mark.parametrize("field, value", [("kernel", 0), ("stride", -1), ("out", 0)])
def test_zero_or_negative_sizes(field, value):
    text = GOOD.replace("{kind: conv, kernel: 3, stride: 2, out: 8}", "{kind: conv, kernel: 3, stride: 2, out: 8, "
                        f"{field}: {value}}}".replace(f"{field}: 3, " if field == "kernel" else f"{field}: 2, "
                        if field == "stride" else f"{field}: 8, ", "", 1))
    message = spec_error(text)
    assert f"field '{field}'" in message and "greater than 0" in message


def test_negative_resolution():
    assert "field 'input.resolution'" in spec_error(GOOD.replace("resolution: 32", "resolution: -32"))


def test_a_kernel_that_empties_the_feature_map_names_the_layer():
    from mobcost.trace import trace

    net = parse_spec(GOOD.replace("- {kind: avgpool}", "- {kind: avgpool, kernel: 17}"), "tiny.yaml")
    with pytest.raises(SpecError) as info:
        trace(net)
    message = str(info.value)
    assert "tiny.yaml, line 8" in message and "layer layers[2] (avgpool)" in message and "field 'kernel'" in message
    assert "16×16×16" in message  # the input it was applied to


def test_malformed_yaml_gives_the_line():
    message = spec_error(GOOD + "  - {kind: conv\n")
    assert "not valid YAML" in message and "line" in message


@pytest.mark.parametrize("text, found", [("", "an empty file"), ("- 1\n- 2\n", "a YAML list"), ("7\n", "a YAML int")])
def test_the_top_level_must_be_a_mapping(text, found):
    assert found in spec_error(text)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "nope.yaml")
    with pytest.raises(SpecError, match="is a folder"):
        load_spec(tmp_path)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD.replace("Tiny", "Tiny \xe9").encode("latin-1"))
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(path)


def test_unknown_model_suggests_the_closest():
    with pytest.raises(MobcostError, match="Did you mean 'mobilenet_v1'"):
        load_model("mobilnet_v1")


def test_unknown_variant_lists_the_variants():
    with pytest.raises(MobcostError, match="conv, shallow"):
        load_model("v1:deep")


@pytest.mark.parametrize("text, expected", [
    ("v1", ModelRef("v1")),
    ("v1:shallow", ModelRef("v1", "shallow")),
    ("v1@0.75", ModelRef("v1", None, 0.75)),
    ("v1@0.5_160", ModelRef("v1", None, 0.5, 160)),
    ("mobilenet_v1:conv@1.0_224", ModelRef("mobilenet_v1", "conv", 1.0, 224)),
])
def test_model_references(text, expected):
    assert ModelRef.parse(text) == expected


def test_a_spec_path_is_a_model(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD)
    net, ref = load_model(str(path))
    assert net.name == "tiny" and ref.variant is None


@pytest.mark.parametrize("text, expected", [
    ("150M", 150 * 10**6), ("1.5G", 1_500_000_000), ("2.5e6", 2_500_000), ("300k", 300_000), (4200000, 4_200_000),
    ("4.3M", 4_300_000),
])
def test_sizes(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["lots", "1.5", "-3M", "1e-3"])
def test_bad_sizes(text):
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_budget_accepts_size_notation():
    net = parse_spec(GOOD + "budget: {max_macs: 1.5M, max_params: 300k}\n", "tiny.yaml")
    assert (net.budget.max_macs, net.budget.max_params) == (1_500_000, 300_000)


def test_a_drop_that_names_no_layer_is_an_error():
    with pytest.raises(SpecError, match="no top-level layer is named 'nothing'"):  # on loading, with other errors
        parse_spec(GOOD + "variants: {thin: {title: Thin, drop: [nothing]}}\n", "tiny.yaml")


def test_errors_inside_a_repeat_name_the_nested_layer():
    text = open("configs/mobilenet_v1.yaml").read().replace(
        "      - {kind: separable, stride: 1, out: 512, bn: true, act: relu}",
        "      - {kind: separable, stride: 0, out: 512, bn: true, act: relux}")
    message = spec_error(text)
    assert "layer layers[7].layers[0] (separable), field 'stride'" in message
    assert "layer layers[7].layers[0] (separable), field 'act'" in message and "'relux'" in message
    # both problems reported, each at its value: "      - {kind: separable, stride: " is 34 characters
    line = text.splitlines().index("      - {kind: separable, stride: 0, out: 512, bn: true, act: relux}") + 1
    assert f"line {line}, column 35: layer layers[7].layers[0] (separable), field 'stride'" in message
