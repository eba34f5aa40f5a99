"""Counting conventions: each rule by hand arithmetic, the manual's tables (docs/conventions.md), and the --convention/--flops options."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner
from zoo import leaf_kinds

import mobcost
from mobcost.cli import app
from mobcost.conventions import CONVENTIONS, KIND_CLASS, OPERATION_CLASSES, counted, difference, operations, totals
from mobcost.table import Format, render
from mobcost.views.conventions import conventions_table, conventions_totals

README = (Path(__file__).parent.parent / "docs" / "conventions.md").read_text()  # the manual's page

def network(resolution: int, channels: int, classes: int, layers: str) -> mobcost.Network:
    return mobcost.parse_spec(f"name: test\ntitle: Test\ninput: {{resolution: {resolution}, channels: {channels}}}\n"
                              f"classes: {classes}\nlayers:\n{layers}")


# 4×4×2 input: a 3×3 conv to 3 channels with bias, batch norm and ReLU; global pool; FC to 5 classes; softmax
TINY = network(4, 2, 5, """
  - {kind: conv, kernel: 3, out: 3, bias: true, bn: true, act: relu}
  - {kind: avgpool}
  - {kind: fc}
  - {kind: softmax}
""")
CONV_MACS = 3 * 3 * 2 * 3 * 4 * 4
FC_MACS = 3 * 5
CONV_OUT = 4 * 4 * 3  # the conv's output elements: its bias adds, batch norm and ReLU act on each
PAPER_PARAMS = 3 * 3 * 2 * 3 + 3 + 3 * 5 + 5


@pytest.fixture(scope="module")
def tiny():
    return mobcost.analyze(TINY)


@pytest.mark.parametrize("name, macs, params", [
    ("paper", CONV_MACS + FC_MACS, PAPER_PARAMS),
    ("torch", CONV_MACS + FC_MACS, PAPER_PARAMS + 2 * 3),
    ("keras", CONV_MACS + FC_MACS, PAPER_PARAMS + 4 * 3),
    # batch norm 2 per element; global pool 1 per input element
    ("fvcore", CONV_MACS + FC_MACS + 2 * CONV_OUT + CONV_OUT, PAPER_PARAMS + 2 * 3),
    # bias adds of conv and FC; batch norm 2; ReLU 1, counted twice; pool 1 per input element, twice; softmax 1
    ("ptflops", CONV_MACS + FC_MACS + CONV_OUT + 5 + 2 * CONV_OUT + 2 * CONV_OUT + 2 * CONV_OUT + 5,
     PAPER_PARAMS + 2 * 3),
    # batch norm 4 per element; global pool (4·4 + 1) per output element; softmax 3·5 − 1 at its one position
    ("thop", CONV_MACS + FC_MACS + 4 * CONV_OUT + (4 * 4 + 1) * 3 + (3 * 5 - 1), PAPER_PARAMS + 2 * 3),
])
def test_each_convention_by_hand(tiny, name, macs, params):
    assert totals(tiny, name) == (macs, params)
    assert counted(tiny, name).convention == name


# 6×6×4 input: a residual block (3×3 conv with batch norm and ReLU, identity shortcut), a fire-like pair of branches
# (1×1 conv; 3×3 max pool), LRN, a squeeze-and-excite, flatten, dropout
BLOCKS = network(6, 4, 3, """
  - kind: residual
    layers: [{kind: conv, kernel: 3, out: 4, bn: true, act: relu}]
  - kind: concat
    branches:
      - [{kind: pw, out: 2}]
      - [{kind: maxpool, kernel: 3, stride: 1, padding: 1, ceil_mode: false}]
  - {kind: lrn, size: 3}
  - {kind: se}
  - {kind: flatten}
  - {kind: dropout}
""")
X = 6 * 6 * 4  # elements of the input, and of the residual block's output
Y = 6 * 6 * 6  # after the concat: 2 + 4 channels
SE_SQUEEZE = 8  # make_divisible(6 / 4, 8)
BLOCK_MACS = 3 * 3 * 4 * 4 * 6 * 6 + 4 * 2 * 6 * 6 + 6 * SE_SQUEEZE + SE_SQUEEZE * 6


@pytest.mark.parametrize("name, extra", [
    ("paper", 0),
    ("fvcore", 2 * X + Y),  # batch norm; the SE's global pool reads its input
    # batch norm 2, ReLU twice, max pool twice its input, LRN 3·Y + (6 + 3 − 1)·6·6, SE: pool twice its input,
    # the biases of its two 1×1 convs, ReLU twice on the squeeze; add, scale, concat, flatten, dropout 0
    ("ptflops", 2 * X + 2 * X + 2 * X + 3 * Y + (6 + 3 - 1) * 6 * 6 + 2 * Y + SE_SQUEEZE + 6 + 2 * SE_SQUEEZE),
    # batch norm 4, max pool 0, LRN 0, the SE's global pool (6·6 + 1) per output element, its biases 0
    ("thop", 4 * X + (6 * 6 + 1) * 6),
])
def test_blocks_by_hand(name, extra):
    blocks = mobcost.analyze(BLOCKS)
    assert blocks.macs == BLOCK_MACS
    assert totals(blocks, name)[0] == BLOCK_MACS + extra


def test_every_convention_has_a_rule_for_every_operation_class():
    for c in CONVENTIONS.values():
        assert set(c.rules) == set(OPERATION_CLASSES), c.name


def test_every_leaf_kind_has_an_operation_class():
    assert leaf_kinds() == set(KIND_CLASS)


def test_counting_twice_is_refused(tiny):
    with pytest.raises(ValueError, match="already counted as thop"):
        counted(counted(tiny, "thop"), "ptflops")


def test_row_operations_come_from_its_fields(tiny):
    assert [operations(row) for row in tiny.rows] == [["conv", "bias", "bn", "act"], ["global pool"], ["fc", "bias"],
                                                      ["softmax"]]


# MobileNet V1 at 224: every layer but the FC has batch norm and ReLU on its output (Table 1's output sizes)
V1_BN_ELEMENTS = (112 * 112 * 32                           # conv1
                  + 112 * 112 * 32 + 112 * 112 * 64        # sep1 dw, pw
                  + 56 * 56 * 64 + 56 * 56 * 128           # sep2
                  + 56 * 56 * 128 + 56 * 56 * 128          # sep3
                  + 28 * 28 * 128 + 28 * 28 * 256          # sep4
                  + 28 * 28 * 256 + 28 * 28 * 256          # sep5
                  + 14 * 14 * 256 + 14 * 14 * 512          # sep6
                  + 5 * (14 * 14 * 512 + 14 * 14 * 512)    # the 5× rows
                  + 7 * 7 * 512 + 7 * 7 * 1024             # sep12
                  + 7 * 7 * 1024 + 7 * 7 * 1024)           # sep13
V1_BN_CHANNELS = 32 + (32 + 64) + (64 + 128) + 2 * 128 + (128 + 256) + 2 * 256 + (256 + 512) + 10 * 512 + (512 + 1024) + 2 * 1024


def test_v1_differences_are_batch_norm_activations_and_pooling():
    v1 = mobcost.analyze("v1")
    paper = v1.macs
    assert counted(v1, "fvcore").macs - paper == 2 * V1_BN_ELEMENTS + 7 * 7 * 1024
    assert counted(v1, "ptflops").macs - paper == 2 * V1_BN_ELEMENTS + 2 * V1_BN_ELEMENTS + 2 * 7 * 7 * 1024 + 1000
    assert counted(v1, "thop").macs - paper == 4 * V1_BN_ELEMENTS + (7 * 7 + 1) * 1024 + 3 * 1000 - 1
    assert totals(v1, "torch")[1] - v1.params == 2 * V1_BN_CHANNELS
    assert totals(v1, "keras")[1] - v1.params == 4 * V1_BN_CHANNELS


def test_readme_prose_numbers():
    assert f"its {V1_BN_ELEMENTS:,} normalized elements" in README and f"over {V1_BN_CHANNELS:,} channels" in README
    assert "the Keras count is 4,253,864, the figure keras.io prints" in README
    v2 = mobcost.analyze("v2")
    diff = difference(v2, "paper", "fvcore")
    assert f"MobileNetV2's {v2.macs / 10**6:.1f}M Mult-Adds are {diff.macs[1] / 10**6:.1f}M by fvcore" in README
    assert f"batch\nnorms at 2 per element ({diff.by_class['bn'][1]:,}) and its global pool ({diff.by_class['global pool'][1]:,})" in README
    expansion = 112 * 112 * 32 * 32  # MobileNetV2 Table 2's first bottleneck, expanded as if t were not 1
    assert f"32 = {expansion:,} Mult-Adds, {(v2.macs + expansion) / 10**6:.1f}M in all)" in README


def test_readme_api_example():
    macs, params = totals(mobcost.analyze("v1", alpha=0.5, resolution=160), "fvcore")
    api = (Path(__file__).parent.parent / "docs" / "api.md").read_text()
    assert f'totals(result, "fvcore")               # ({macs}, {params})' in api


def test_keras_count_matches_keras_io_with_the_classifier_bias():
    """keras.io lists MobileNet at 4,253,864 parameters; Keras' classifier is a 1×1 conv with 1000 biases."""
    v1 = mobcost.parse_spec(Path(mobcost.language.locate("v1")).read_text().replace("bias: false", "bias: true"))
    assert totals(mobcost.analyze(v1), "keras")[1] == 4_253_864


def test_difference_by_class_and_row():
    v1 = mobcost.analyze("v1")
    diff = difference(v1, "paper", "ptflops")
    assert diff.by_class == {"bn": (0, 2 * V1_BN_ELEMENTS), "act": (0, 2 * V1_BN_ELEMENTS),
                             "global pool": (0, 2 * 7 * 7 * 1024), "softmax": (0, 1000)}
    assert diff.bugs == {"act": (0, V1_BN_ELEMENTS), "global pool": (0, 7 * 7 * 1024)}
    assert diff.macs == (v1.macs, counted(v1, "ptflops").macs)
    conv1 = diff.by_row[0]
    assert (conv1.row.name, conv1.classes) == ("conv1", ["bn", "act"])
    assert conv1.macs[1] - conv1.macs[0] == 2 * 112 * 112 * 32 + 2 * 112 * 112 * 32
    assert conv1.params[1] - conv1.params[0] == 2 * 32
    same = difference(v1, "paper", "torch")
    assert not same.by_class and all(not d.classes for d in same.by_row)


def _markdown_table(report) -> str:
    """The table lines of a report rendered as Markdown (without its title and notes)."""
    return "\n".join(line for line in render(report, Format.markdown).splitlines() if line.startswith("|"))


def test_readme_shows_the_conventions_table():
    assert _markdown_table(conventions_table()) in README


def test_readme_why_tools_disagree_is_mobcosts_output():
    """The README names the command that produced its table; the table is that command's output."""
    models = re.search(r"`mobcost explain ([^`]+) --format markdown`", README)[1].split()
    assert _markdown_table(conventions_totals([mobcost.analyze(m) for m in models])) in README


runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("command", [["table", "v1"], ["breakdown", "v1"], ["compare", "v1"],
                                     ["sweep", "v1", "--alpha", "1"]])
def test_convention_and_flops_options(command):
    paper = json.loads(run(*command, "-f", "json").stdout)
    thop = json.loads(run(*command, "-f", "json", "--convention", "thop", "--flops").stdout)
    text = run(*command, "-f", "markdown", "--convention", "thop", "--flops").stdout
    assert "FLOPs (thop)" in text and "FLOPs = 2 × Mult-Adds" in text and "Mult-Adds (" not in text
    assert '"convention": "paper", "params": "weights", "shown_as": "Mult-Adds"' in json.dumps(paper)
    assert '"convention": "thop", "params": "torch", "shown_as": "FLOPs"' in json.dumps(thop, ensure_ascii=False)
    v1 = mobcost.analyze("v1")
    exact = f"{2 * counted(v1, 'thop').macs:,}"
    rounded = f"{2 * counted(v1, 'thop').macs / 10**6:,.1f}"
    assert exact in text or rounded in text


def test_flops_are_twice_the_macs_in_csv():
    macs = run("table", "v1", "-f", "csv").stdout.splitlines()
    flops = run("table", "v1", "-f", "csv", "--flops").stdout.splitlines()
    assert macs[0].split(",")[4] == "macs" and flops[0].split(",")[4] == "flops"
    assert [2 * int(line.split(",")[4]) for line in macs[1:]] == [int(line.split(",")[4]) for line in flops[1:]]


def test_unknown_convention_is_bad_input():
    result = run("table", "v1", "--convention", "tensorflow")
    assert result.exit_code == 2 and "tensorflow" in result.output


def test_conventions_command_lists_every_convention():
    text = run("conventions", "-f", "markdown").stdout
    assert all(f"| {name} " in text.splitlines()[2] + " " for name in CONVENTIONS)


def test_explain_between():
    text = run("explain", "v1", "--between", "paper", "ptflops", "-f", "markdown").stdout
    assert f"| all layers | bn: {OPERATION_CLASSES['bn']} | 0 | {2 * V1_BN_ELEMENTS:,} | +{2 * V1_BN_ELEMENTS:,} |" in text
    assert "| ptflops Mult-Adds | Mult-Adds ptflops − paper | Parameters ptflops − paper |" in text
    assert f"ptflops: {V1_BN_ELEMENTS:,} of its act count is a bug (relu, gelu counted twice)." in text
    paper = mobcost.analyze("v1").macs
    ptflops = paper + 2 * V1_BN_ELEMENTS + 2 * V1_BN_ELEMENTS + 2 * 7 * 7 * 1024 + 1000
    assert f"| **Total** |  | **{paper:,}** | **{ptflops:,}** |" in text


def test_explain_between_at_80_columns_names_what_differs():
    """At 80 columns `explain v2 --between paper fvcore` hid "What differs": its two "all layers" rows (batch norm
    and the global pool) read as the same label with different numbers. The per-layer parameter column gives way
    first (the note totals it)."""
    text = CliRunner().invoke(app, ["explain", "v2", "--between", "paper", "fvcore"], env={"COLUMNS": "80"}).stdout
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "│ bn: batch norm," in text and "│ global pool:" in text
    assert "1 column hidden (Parameters fvcore − paper)" in text

def test_explain_between_takes_one_model():
    result = run("explain", "v1", "v1@0.5", "--between", "paper", "thop")
    assert result.exit_code == 2 and "one model" in result.output


def test_explain_between_in_flops():
    text = run("explain", "v1", "--between", "paper", "fvcore", "--flops", "-f", "markdown").stdout
    assert f"| all layers | bn: {OPERATION_CLASSES['bn']} | 0 | {4 * V1_BN_ELEMENTS:,} | +{4 * V1_BN_ELEMENTS:,} |" in text
    assert "| paper FLOPs | fvcore FLOPs | FLOPs fvcore − paper |" in text and "Mult-Adds" not in text.split("\n\n")[1]


def test_params_follow_the_convention_unless_given():
    v1 = mobcost.analyze("v1")
    keras = json.loads(run("compare", "v1", "--convention", "keras", "-f", "json").stdout)[0]
    weights = json.loads(run("compare", "v1", "--convention", "keras", "--params", "weights", "-f", "json").stdout)[0]
    assert keras["params"] == v1.params + 4 * V1_BN_CHANNELS and weights["params"] == v1.params


def test_readme_counters_on_torchvision_table_is_mobcosts_count():
    """The README's table of each torchvision-backed config under every counter: each figure is mobcost's count
    (tests/test_reference.py holds the same counts to the tools run on torchvision's models)."""
    rows = re.findall(r"^\| `(\w+:torchvision)`(?: \(\d+\))?" + r" \| ([\d,]+)" * 5 + r" \|$", README, re.MULTILINE)
    assert len(rows) >= 15
    for model, *printed in rows:
        a = mobcost.analyze(model)
        counts = [totals(a, tool)[0] for tool in ("paper", "fvcore", "ptflops", "thop")] + [a.params_counted("torch")]
        assert [int(n.replace(",", "")) for n in printed] == counts, model
