"""`backbone:`: a network that includes a shipped network's layers, cut at a name and edited, instead of copying them.

Hand arithmetic on a small spec; every head config's backbone rows against the shipped backbone's own rows (the
config `check` holds to the papers) and against MobileNets eq. 7 by hand; the limits counting the included layers;
errors located in the including spec (the hostile files in tests/hostile/backbone-*.yaml hold the rest).
"""

import json
from fractions import Fraction

import pytest

import mobcost
from mobcost.language import (MobcostError, SpecError, builtin_models, load_model, load_spec, parse_spec,
                          spec_schema)
from test_trace import v1_by_hand

TINY = """name: tiny
title: Tiny
input: {resolution: 32}
backbone:
  model: mobilenet_v1
  through: 14x14x512
  drop: [14x14x512]                 # conv1 and the first six separable blocks
layers:
  - {kind: conv, name: logits, kernel: 1, out: 10, bias: true, part: head}
"""


def tiny_by_hand() -> tuple[int, int]:
    """TINY's Mult-Adds and parameters, MobileNets eq. 7 row by row at 32×32."""
    macs = (3 * 3 * 3 * 32 * 16 * 16                               # conv1, stride 2: 32 → 16
            + 3 * 3 * 32 * 16 * 16 + 32 * 64 * 16 * 16              # sep1
            + 3 * 3 * 64 * 8 * 8 + 64 * 128 * 8 * 8                 # sep2, stride 2
            + 3 * 3 * 128 * 8 * 8 + 128 * 128 * 8 * 8               # sep3
            + 3 * 3 * 128 * 4 * 4 + 128 * 256 * 4 * 4               # sep4, stride 2
            + 3 * 3 * 256 * 4 * 4 + 256 * 256 * 4 * 4               # sep5
            + 3 * 3 * 256 * 2 * 2 + 256 * 512 * 2 * 2               # sep6, stride 2
            + 512 * 10 * 2 * 2)                                     # the head's own 1×1 conv
    params = (3 * 3 * 3 * 32 + 3 * 3 * 32 + 32 * 64 + 3 * 3 * 64 + 64 * 128 + 3 * 3 * 128 + 128 * 128
              + 3 * 3 * 128 + 128 * 256 + 3 * 3 * 256 + 256 * 256 + 3 * 3 * 256 + 256 * 512
              + 512 * 10 + 10)
    return macs, params


def test_a_small_spec_on_a_backbone_by_hand():
    a = mobcost.analyze(parse_spec(TINY))
    assert [row.name for row in a.rows][:3] == ["conv1", "sep1/dw", "sep1/pw"]  # the table's names, as in v1
    assert (a.macs, a.params) == tiny_by_hand()
    assert a.parts == ["backbone", "head"]  # included rows are the backbone's unless they say otherwise


def test_alpha_and_rounding_are_the_backbones():
    """At α = 0.5 the included layers round as v1 does, int(α·c); the head's 1×1 conv to 10 is scaled too."""
    a = mobcost.analyze(parse_spec(TINY), alpha=0.5)
    assert a.rows[0].output.c == 16 and a.rows[-2].output.c == 256 and a.rows[-1].params == 256 * 5 + 5


@pytest.mark.parametrize("alpha, resolution", [(1.0, 300), (0.75, 320), (0.5, 160)])
@pytest.mark.parametrize("head", ["ssd300_mobilenet_v1", "ssdlite_mobilenet_v1"])
def test_v1_heads_backbone_is_eq_7_by_hand(head, alpha, resolution):
    """MobileNets eq. 7 through Conv2d_13: the whole of v1 by hand without its classifier (int(1024·α) · 1000)."""
    a = mobcost.analyze(head, alpha=alpha, resolution=resolution)
    backbone = [row for row in a.rows if row.part == "backbone"]
    fc = int(1024 * Fraction(str(alpha))) * 1000
    macs, params = v1_by_hand(alpha, resolution)
    assert (sum(r.macs for r in backbone), sum(r.params for r in backbone)) == (macs - fc, params - fc)


def _numbers(rows):
    return [(r.kind, r.macs, r.params, r.bn, r.input, r.output) for r in rows]


# Each head: its backbone, the last included row's name in the backbone's own trace, and the first row the head
# edits (None: it edits none). Rows before the edit are the backbone's own, at the head's α and resolution.
HEADS = [("ssd300_mobilenet_v1", "v1", "sep13/pw", None), ("ssdlite_mobilenet_v1", "v1", "sep13/pw", None),
         ("faster_rcnn_mobilenet_v1", "v1", "sep11/pw", None),
         ("ssdlite_mobilenet_v2", "v2", "last", "last"),  # layer_19 is scaled at α < 1, as TF's SSD builds it
         ("deeplabv3_mobilenet_v2", "v2", "c5/project", "c4/1/expand"),
         ("ssdlite320_mobilenet_v3_large", "v3_large", "last", "c4/project"),
         ("ssdlite_mobilenet_v3_small", "v3_small", "last", "c4/project"),  # V3_SMALL_DETECTION: C4 and C5 halved
         ("ssdlite_mnasnet_a1", "mnasnet_a1", "head", "head"),  # the 1280-wide head scaled at α < 1, as TF's SSD
         ("lraspp_mobilenet_v3_large", "v3_large", "last", "c4/dw"),
         ("deeplabv3_mobilenet_v3_large", "v3_large", "last", "c4/dw"),
         ("raspp_mobilenet_v2", "v2", "c5/project", "c4/1/dw"),  # output stride 16: the 160-wide stage at stride 1
         ("lraspp_mobilenet_v2", "v2", "c5/project", "c4/1/dw"),
         ("raspp_mobilenet_v3_large", "v3_large", "last", "c4/dw"),
         ("lraspp_mobilenet_v3_large_seg", "v3_large", "last", "c4/expand"),  # RF2: exp 336
         ("lraspp_mobilenet_v3_small_seg", "v3_small", "last", "c4/expand")]  # RF2: exp 144


@pytest.mark.parametrize("alpha", [1.0, 0.5])
@pytest.mark.parametrize("head, backbone, last, edited", HEADS, ids=[h[0] for h in HEADS])
def test_every_head_includes_its_shipped_backbones_rows(head, backbone, last, edited, alpha):
    a = mobcost.analyze(head, alpha=alpha)
    b = mobcost.analyze(backbone, alpha=alpha, resolution=a.resolution)
    names = [row.name for row in b.rows]
    own = b.rows[:names.index(last) + 1]
    # an edit changes widths, strides and dilations, never which layers run: the same rows but for residual adds
    # (V3-Small's 96-wide block, set to 48 wide at stride 1, adds its input as TF's does: c4/add)
    included = [row for row in a.rows if row.part == "backbone"]
    assert list(a.rows[:len(included)]) == included and a.rows[len(included)].part != "backbone"
    assert [row.kind for row in included if row.kind != "add"] == [row.kind for row in own if row.kind != "add"]
    cut = names.index(edited) if edited else len(own)
    assert _numbers(included[:cut]) == _numbers(own[:cut])
    if not edited:
        assert _numbers(included) == _numbers(own)
    else:
        assert len(included) == len(own) + (head == "lraspp_mobilenet_v3_small_seg")  # c4/add


def test_dilated_tail_keeps_its_cost_at_stride_1():
    """LR-ASPP's C4 (stride 1, dilation 2): its depthwise conv costs 5·5·672 per output pixel, at 1/16, not 1/32."""
    a = {row.name: row for row in mobcost.analyze("lraspp_mobilenet_v3_large").rows}
    assert a["c4/dw"].layer.dilation == 2 and a["c4/dw"].output.h == 520 // 16 + 1  # 33: same padding from 65
    assert a["c4/dw"].macs == 5 * 5 * 672 * 33 * 33
    assert a["high"].output.c == 960  # the backbone's `last`, named as the head reads it


def test_reduced_tail_sets_the_backbone_widths():
    """torchvision's reduced tail (SSDLite320): C4 to 80 channels, its expansions 480, the last conv 6 × 80."""
    rows = {row.name: row for row in mobcost.analyze("ssdlite320_mobilenet_v3_large").rows}
    assert [rows[n].output.c for n in ("c4/project", "c4_2/expand", "c4_3/project", "c5")] == [80, 480, 80, 480]
    tv = {row.name: row for row in mobcost.analyze("ssdlite320_mobilenet_v3_large:paper").rows}
    assert tv["c5"].output.c == 960  # a head variant's `set:` edits an included layer by its name here


def test_a_backbone_variant_is_included_as_that_variant_builds_it():
    """`v3_large:torchvision` expands from the table's exp size (make_divisible(α·exp, 8)), TF-slim from c_in·t."""
    spec = TINY.replace("mobilenet_v1", "v3_large:torchvision").replace("through: 14x14x512", "through: c2") \
        .replace("  drop: [14x14x512]                 # conv1 and the first six separable blocks\n", "") \
        .replace("resolution: 32", "resolution: 224").replace("\nlayers:", "\nwidth_rounding: {divisor: 8}\nlayers:")
    rows = {row.name: row for row in mobcost.analyze(parse_spec(spec), alpha=0.75).rows}
    assert rows["c2/expand"].output.c == 56  # make_divisible(0.75 · 72 = 54, 8) = 56; TF-slim's rule gives 72
    tf_slim = {row.name: row for row in mobcost.analyze(parse_spec(spec.replace(":torchvision", "")), alpha=0.75).rows}
    assert tf_slim["c2/expand"].output.c == 72  # its input make_divisible(0.75 · 24 = 18, 8) = 24, times t = 3


def test_compound_scaling_is_the_backbones():
    """EfficientNet-B2 (width 1.1, depth 1.2) as a whole backbone: its rows, not B0's; the input is the network's
    own (260 here, as B2's variant sets it)."""
    net = parse_spec("name: t\ntitle: T\ninput: {resolution: 260}\nbackbone: {model: 'efficientnet_b0:b2'}\n"
                     "layers: [{kind: pw, out: 8, width: fixed}]\n")
    assert (net.width, net.depth) == (Fraction(11, 10), Fraction(6, 5))
    a, b2 = mobcost.analyze(net), mobcost.analyze("efficientnet_b0:b2")
    assert _numbers(a.rows[:-1]) == _numbers(b2.rows) and a.rows[-1].params == 1000 * 8  # after its classifier


def test_each_and_set_rename_as_a_variant_edits():
    backbone = [row for row in mobcost.analyze("ssd300_mobilenet_v1").rows if row.part == "backbone"]
    assert {row.layer.act for row in backbone} == {"relu6"}  # `each`: v1 itself has ReLU
    rows = {row.name: row for row in mobcost.analyze("ssd300_mobilenet_v1").rows}
    assert rows["box1"].reads == ("sep11/pw",)  # `set: {14x14x512: {name: conv11}}`: the repeat's output, renamed
    assert backbone[-1].name == "sep13/pw" and "pool1" not in rows  # `drop: [pool1, fc1, softmax1]`


def test_the_head_states_its_own_input_classes_and_outputs():
    net, _ = load_model("ssdlite_mobilenet_v2")
    assert (net.input.resolution, net.classes, net.width_rounding.divisor) == (320, 81, 8)
    assert "pool" not in {layer.name for layer in net.layers}  # cut through `last`: no pool, no classifier


def test_standard_input_may_include_a_shipped_backbone():
    from typer.testing import CliRunner

    from mobcost.cli import app
    result = CliRunner().invoke(app, ["table", "-", "-f", "json"], input=TINY)
    assert result.exit_code == 0, result.stderr
    totals = json.loads(result.stdout)["totals"]
    assert (totals["macs"], totals["params"]) == tiny_by_hand()


def test_every_shipped_head_includes_its_backbone():
    """A config with parts besides its backbone (extra layers, heads) includes the backbone instead of copying its
    rows: a new head config says `backbone:` (README, "Backbones: `backbone:`")."""
    for path in sorted(set(builtin_models().values())):
        net = load_spec(path)
        parts = {layer.part for layer in net.layers} - {None, "backbone"}
        assert not parts or net.included, f"{path.name} has parts {sorted(parts)} but no `backbone:`"


def test_a_network_built_in_python_is_not_traced_without_its_backbone():
    net = parse_spec(TINY, includes=False)
    assert net.backbone.model == "mobilenet_v1" and net.included is None
    with pytest.raises(MobcostError, match="its backbone mobilenet_v1 is not included"):
        mobcost.analyze(net)
    assert parse_spec(TINY).included == "mobilenet_v1"


def test_schema_describes_the_backbone():
    schema = spec_schema()
    backbone = schema["$defs"]["Backbone"]
    assert set(backbone["properties"]) == {"model", "through", "drop", "set", "each"}
    assert "backbone" in schema["properties"]


# ---- limits count the included layers ------------------------------------------------------------------------

def test_yaml_values_count_the_backbones(monkeypatch):
    from mobcost.language import schema

    values = len(load_model("v1")[0]._positions) + len(parse_spec(TINY, includes=False)._positions)
    monkeypatch.setattr(schema, "MAX_NODES", values)
    parse_spec(TINY)
    monkeypatch.setattr(schema, "MAX_NODES", values - 1)
    with pytest.raises(SpecError) as e:
        parse_spec(TINY, "tiny.yaml")
    assert str(e.value).startswith(f"tiny.yaml, line 5, column 3: field 'backbone': expected at most {values - 1:,} "
                                   "YAML values with the backbone's included")


def test_rows_count_the_backbones():
    """Counted before expanding, a block as one row (as for any spec): 7 included, 9,993 here and the conv."""
    spec = TINY.replace("  - {kind: conv", "  - repeat: 9993\n    layers: [{kind: pw, out: 8}]\n  - {kind: conv")
    parse_spec(spec, includes=False)  # 9,994 rows of its own
    with pytest.raises(SpecError) as e:
        parse_spec(spec, "tiny.yaml")
    assert "layer layers[0] (repeat)" in str(e.value) and "expected at most 10,000 layers" in str(e.value)


# ---- errors: one located paragraph ----------------------------------------------------------------------------

@pytest.mark.parametrize("edit, where", [
    ("through: 14x14x512", "through: nope"),
    ("drop: [14x14x512] ", "drop: [nope]      "),
    ("drop: [14x14x512] ", "set: {pool1: {}}  "),  # cut through 14x14x512: pool1 is not included
], ids=["through", "drop", "set past the cut"])
def test_an_unknown_name_is_located(edit, where):
    with pytest.raises(SpecError) as e:
        parse_spec(TINY.replace(edit, where), "tiny.yaml")
    (problem,) = e.value.problems
    assert problem.file == "tiny.yaml" and problem.line in (6, 7) and problem.column
    assert problem.field.startswith("backbone.")


def test_a_bad_edit_is_located_at_its_field():
    with pytest.raises(SpecError) as e:
        parse_spec(TINY.replace("drop: [14x14x512] ", "set: {14x14x512: {repeat: 0}}"), "tiny.yaml")
    assert str(e.value).startswith("tiny.yaml, line 7, column 20: field 'set': 14x14x512.repeat: expected")


def test_a_shape_error_in_an_included_layer_names_the_backbone_layer():
    spec = TINY.replace("drop: [14x14x512] ", "set: {14x14x512: {layers: [{kind: conv, kernel: 9, padding: valid, "
                                              "out: 8}]}}")
    with pytest.raises(SpecError) as e:
        mobcost.analyze(parse_spec(spec, "tiny.yaml"))
    assert str(e.value).startswith("tiny.yaml, line 7, column 20: layer layers[7] ('14x14x512') of the backbone "
                                   "mobilenet_v1")
