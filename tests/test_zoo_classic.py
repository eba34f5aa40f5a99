"""The networks MobileNets V1 Tables 8 and 9 compare against, and ResNet-50: torchvision's parameter counts as exact
integers, the published figures at their printed precision, and the arithmetic behind each recorded erratum."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest

import mobcost
from mobcost import parse_spec, trace
from mobcost.check import at_precision, check
from mobcost.layers import Concat, Shape
from mobcost.language import load_model

CLASSIC = ["alexnet", "alexnet_2012", "googlenet", "resnet50", "squeezenet", "vgg16"]

# torchvision weights `meta["num_params"]`: learnable parameters, batch-norm γ and β included.
TORCHVISION_PARAMS = {
    "torchvision googlenet num_params": ("googlenet", 6_624_904),
    "torchvision vgg16 num_params": ("vgg16", 138_357_544),
    "torchvision squeezenet1_0 num_params": ("squeezenet", 1_248_424),
    "torchvision alexnet num_params": ("alexnet", 61_100_840),
    "torchvision resnet50 num_params": ("resnet50", 25_557_032),
}

# torchvision weights `meta["_ops"]`, labelled GFLOPS: each agrees with the Mult-Adds, so they count MACs.
TORCHVISION_OPS = {
    "torchvision googlenet _ops": ("googlenet", "1.498"),
    "torchvision vgg16 _ops": ("vgg16", "15.47"),
    "torchvision squeezenet1_0 _ops": ("squeezenet", "0.819"),
    "torchvision alexnet _ops": ("alexnet", "0.714"),
    "torchvision resnet50 _ops": ("resnet50", "4.089"),
}

# Published figures the arithmetic reproduces: (model, figure, printed in millions).
REPRODUCED = {
    "MobileNets V1 Table 8 VGG 16 params": ("vgg16", "params", "138"),
    "MobileNets V1 Table 9 Squeezenet params": ("squeezenet", "params", "1.25"),
}

# Published figures it does not: each config records the erratum and why.
ERRATA = {
    "MobileNets V1 Table 8 GoogleNet macs": ("googlenet", "macs", "1550"),
    "MobileNets V1 Table 8 GoogleNet params": ("googlenet", "params", "6.8"),
    "MobileNets V1 Table 8 VGG 16 macs": ("vgg16", "macs", "15300"),
    "MobileNets V1 Table 9 Squeezenet macs": ("squeezenet", "macs", "1700"),
    "MobileNets V1 Table 9 AlexNet macs": ("alexnet_2012", "macs", "720"),
    "MobileNets V1 Table 9 AlexNet params": ("alexnet_2012", "params", "60"),
    "TF-slim MobileNet README ResNet-50 macs": ("resnet50", "macs", "3500"),
}


def significant(n: int | Fraction, digits: int) -> int:
    """n rounded half up to `digits` significant figures."""
    exact = Decimal(n.numerator) / Decimal(n.denominator) if isinstance(n, Fraction) else Decimal(n)
    return int(exact.quantize(Decimal(1).scaleb(exact.adjusted() + 1 - digits), ROUND_HALF_UP))


@pytest.mark.parametrize("model, count", TORCHVISION_PARAMS.values(), ids=TORCHVISION_PARAMS.keys())
def test_torchvision_parameter_counts_exactly(model, count):
    assert mobcost.analyze(model).params_counted("torch") == count


@pytest.mark.parametrize("model, printed", TORCHVISION_OPS.values(), ids=TORCHVISION_OPS.keys())
def test_torchvision_ops_are_mult_adds(model, printed):
    macs = mobcost.analyze(model).macs
    assert at_precision(Fraction(macs, 10**9), printed, "nearest") == Decimal(printed)


@pytest.mark.parametrize("model, figure, printed", REPRODUCED.values(), ids=REPRODUCED.keys())
def test_published_figures_at_printed_precision(model, figure, printed):
    value = getattr(mobcost.analyze(model), figure)
    assert at_precision(Fraction(value, 10**6), printed, "nearest") == Decimal(printed)


@pytest.mark.parametrize("model, figure, printed", ERRATA.values(), ids=ERRATA.keys())
def test_errata_are_recorded_where_the_arithmetic_disagrees(model, figure, printed):
    value = getattr(mobcost.analyze(model), figure)
    assert at_precision(Fraction(value, 10**6), printed, "nearest") != Decimal(printed)
    results = [r for r in check(load_model(model)[0]) if r.published == Decimal(printed)]
    assert [r.status for r in results] == ["erratum"]


@pytest.mark.parametrize("model", CLASSIC)
def test_check_passes(model):
    assert {r.status for r in check(load_model(model)[0])} <= {"ok", "erratum"}


# ---- the arithmetic behind each erratum -----------------------------------------------------------------------

def test_vgg16_15300_is_the_convolutions_only():
    convs = [(3, 64, 224), (64, 64, 224), (64, 128, 112), (128, 128, 112), (128, 256, 56), (256, 256, 56),
             (256, 256, 56), (256, 512, 28), (512, 512, 28), (512, 512, 28), (512, 512, 14), (512, 512, 14),
             (512, 512, 14)]
    conv_macs = sum(3 * 3 * m * n * hw * hw for m, n, hw in convs)
    fc_macs = 7 * 7 * 512 * 4096 + 4096 * 4096 + 4096 * 1000
    analysis = mobcost.analyze("vgg16")
    assert analysis.macs == conv_macs + fc_macs
    assert sum(row.macs for row in analysis.rows if row.kind == "conv") == conv_macs
    assert significant(Fraction(conv_macs, 10**6), 3) == 15300  # the convolutions: 15,346.6M
    assert significant(Fraction(analysis.macs, 10**6), 3) == 15500  # with the FC layers: 15,470.3M


def test_squeezenet_1700_is_flops_at_227():
    assert significant(Fraction(2 * mobcost.analyze("squeezenet", resolution=227).macs, 10**6), 2) == 1700
    assert significant(Fraction(2 * mobcost.analyze("squeezenet").macs, 10**6), 2) == 1600  # not at 224


def test_alexnet_2012_two_towers_by_hand():
    def macs(conv1: int) -> int:  # conv1's output size: 54 from the paper's 224, 55 from Caffe's 227
        return (11 * 11 * 3 * 96 * conv1 * conv1 + 5 * 5 * (96 // 2) * 256 * 27 * 27 + 3 * 3 * 256 * 384 * 13 * 13
                + 3 * 3 * (384 // 2) * 384 * 13 * 13 + 3 * 3 * (384 // 2) * 256 * 13 * 13
                + 6 * 6 * 256 * 4096 + 4096 * 4096 + 4096 * 1000)

    params = (11 * 11 * 3 * 96 + 96 + 5 * 5 * 48 * 256 + 256 + 3 * 3 * 256 * 384 + 384 + 3 * 3 * 192 * 384 + 384
              + 3 * 3 * 192 * 256 + 256 + 9216 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000)
    at_224, at_227 = mobcost.analyze("alexnet_2012"), mobcost.analyze("alexnet_2012", resolution=227)
    assert (at_224.macs, at_227.macs) == (macs(54), macs(55))
    assert at_224.params == at_227.params == params  # 60,965,224: "60 million parameters"
    assert significant(at_224.macs, 2) == significant(at_227.macs, 2) == 720 * 10**6


def test_torchvision_alexnet_is_the_single_tower_network():
    rows = [row for row in mobcost.analyze("alexnet").rows if row.kind == "conv"]
    assert [row.output.c for row in rows] == [64, 192, 384, 256, 256]
    assert all(row.layer.groups == 1 for row in rows)


# GoogLeNet's "#5×5 reduce" and "#5×5" widths per Inception module, and the module's feature-map size (Table 1).
FIVE_BY_FIVE = {"inception3a": (16, 32, 28), "inception3b": (32, 96, 28), "inception4a": (16, 48, 14),
                "inception4b": (24, 64, 14), "inception4c": (24, 64, 14), "inception4d": (32, 64, 14),
                "inception4e": (32, 128, 14), "inception5a": (32, 128, 7), "inception5b": (48, 128, 7)}


def paper_googlenet():
    """The shipped config with the paper's 5×5 convs in each third branch, where torchvision has 3×3."""
    network = load_model("googlenet")[0]

    def five(layer):
        if not isinstance(layer, Concat) or not layer.branches:
            return layer
        reduce, conv = layer.branches[2]
        branches = [*layer.branches[:2], [reduce, conv.model_copy(update={"kernel": 5, "padding": 2})],
                    layer.branches[3]]
        return layer.model_copy(update={"branches": branches})

    return network.model_copy(update={"layers": [five(layer) for layer in network.layers]})


def test_googlenet_third_branch_is_torchvision_3x3():
    rows = {row.name: row for row in mobcost.analyze("googlenet").rows}
    assert all(rows[f"{module}/b3/conv2"].layer.kernel == 3 for module in FIVE_BY_FIVE)
    assert rows["inception5b/concat"].output == mobcost.analyze("googlenet").rows[-5].input  # avgpool, flatten, dropout, fc after it


def test_googlenet_with_the_papers_5x5_branches():
    torchvision, paper = mobcost.analyze("googlenet"), trace(paper_googlenet())
    assert paper.macs - torchvision.macs == sum((25 - 9) * r * n * hw * hw for r, n, hw in FIVE_BY_FIVE.values())
    assert paper.params - torchvision.params == sum((25 - 9) * r * n for r, n, _ in FIVE_BY_FIVE.values())
    # the figures the erratum quotes: 1,582.7M and 1,498.4M Mult-Adds; 6,991,272 and 6,610,344 weights
    assert (f"{paper.macs / 10**6:,.1f}", f"{torchvision.macs / 10**6:,.1f}") == ("1,582.7", "1,498.4")
    assert (paper.params, torchvision.params) == (6_991_272, 6_610_344)
    conv_biases = sum(row.output.c for row in paper.rows if row.kind == "conv")
    assert paper.params + conv_biases == 6_998_552  # Caffe's bvlc_googlenet without its auxiliary heads


def resnet50_spec(layout: str) -> str:
    """ResNet-50 with the stride of each downsampling stage where a layout puts it: torchvision's V1.5 (on the first
    unit's 3×3), the paper's (on the first unit's first 1×1), or TF-slim's resnet_v1_50 (on the previous stage's
    last unit's 3×3, its identity shortcut subsampled by a 1×1 max pool)."""
    bn, lines = "bn: true, act: relu", []
    channels = 64
    for stage, (width, units) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
        for unit in range(units):
            stride = {"torchvision": 2 if stage and unit == 0 else 1, "paper": 2 if stage and unit == 0 else 1,
                      "slim": 2 if stage < 3 and unit == units - 1 else 1}[layout]
            s1, s3 = (stride, 1) if layout == "paper" else (1, stride)
            lines += ["  - kind: residual", "    layers:",
                      f"      - {{kind: conv, kernel: 1, stride: {s1}, out: {width}, {bn}}}",
                      f"      - {{kind: conv, kernel: 3, stride: {s3}, padding: 1, out: {width}, {bn}}}",
                      f"      - {{kind: conv, kernel: 1, out: {4 * width}, bn: true}}"]
            if channels != 4 * width:
                lines += ["    shortcut:",
                          f"      - {{kind: conv, kernel: 1, stride: {stride}, out: {4 * width}, bn: true}}"]
            elif stride > 1:
                lines += ["    shortcut:", f"      - {{kind: maxpool, kernel: 1, stride: {stride}, ceil_mode: false}}"]
            channels = 4 * width
    return "\n".join(["name: r", "title: R", "input: {resolution: 224}", "layers:",
                      "  - {kind: conv, kernel: 7, stride: 2, padding: 3, out: 64, bn: true, act: relu}",
                      "  - {kind: maxpool, kernel: 3, stride: 2, padding: 1, ceil_mode: false}", *lines,
                      "  - {kind: avgpool}", "  - {kind: fc, bias: true}"])


def test_resnet50_config_matches_an_independent_build():
    shipped, built = mobcost.analyze("resnet50"), trace(parse_spec(resnet50_spec("torchvision")))
    assert (built.macs, built.params_counted("torch")) == (shipped.macs, shipped.params_counted("torch"))
    assert len([row for row in shipped.rows if row.kind == "add"]) == 3 + 4 + 6 + 3


def test_resnet50_3500_is_tf_slims_stride_layout():
    slim, paper = trace(parse_spec(resnet50_spec("slim"))), trace(parse_spec(resnet50_spec("paper")))
    # the figures the erratum quotes
    assert (f"{slim.macs / 10**6:,.1f}", f"{paper.macs / 10**6:,.1f}") == ("3,482.3", "3,858.0")
    assert significant(slim.macs, 2) == 3500 * 10**6
    assert slim.params_counted("torch") == paper.params_counted("torch") == 25_557_032  # same weights, moved strides


def test_resnet50_rows_are_named_as_torchvision_modules():
    names = [row.name for row in mobcost.analyze("resnet50").rows]
    for name in ("layer1.0/conv1", "layer1.0/shortcut/conv1", "layer1.0/add", "layer2.3/conv3", "layer4.2/add"):
        assert name in names


def test_cli_checks_and_tables_the_classic_networks(mobcost):
    assert mobcost("check", *CLASSIC).exit_code == 0
    result = mobcost("table", "googlenet", "--format", "csv")
    assert result.exit_code == 0
    assert "inception3a/concat,Concat / s1,64 + 128 + 32 + 32,28×28×256,0,0" in result.stdout


@pytest.mark.parametrize("model", [model for model, _ in TORCHVISION_PARAMS.values()])
def test_docs_comparison_table(model):
    readme = (Path(__file__).parent.parent / "docs" / "models.md").read_text()
    a = mobcost.analyze(model)
    assert f"| `{model}` |" in readme and f"| {a.params_counted('torch'):,} | {a.macs:,} |" in readme


def test_keras_applications_counts():
    # keras.io Applications table (keras-io templates/api/applications/index.md, commit 01b6d6c4): VGG16 has no
    # batch norm, so every counting agrees; Keras' ResNet50 gives each conv a bias (Conv2D's use_bias default)
    # ahead of its batch norm, and count_params() includes the running mean and variance.
    vgg16, resnet50 = mobcost.analyze("vgg16"), mobcost.analyze("resnet50")
    assert vgg16.params_counted("keras") == vgg16.params == 138_357_544
    conv_biases = sum(row.output.c for row in resnet50.rows if row.kind == "conv")
    assert resnet50.params_counted("keras") + conv_biases == 25_636_712


def test_docs_spec_example_traces_as_its_comments_say():
    readme = (Path(__file__).parent.parent / "docs" / "models.md").read_text()
    section = readme.split("## The comparison networks")[1]
    layers = section.split("```yaml\n")[1].split("```")[0]
    rows = trace(parse_spec(f"name: e\ntitle: E\ninput: {{resolution: 111, channels: 96}}\nlayers:\n{layers}")).rows
    names = [row.name for row in rows]
    assert names[1:4] == ["fire2/b1/expand1x1", "fire2/b2/expand3x3", "fire2/concat"]
    assert names[4] == "layer2.0/conv1" and names[-2:] == ["layer2.0/shortcut/conv1", "layer2.0/add"]
    assert rows[-1].output == Shape(28, 28, 512)  # 111 → 55 (ceil mode) → 28
