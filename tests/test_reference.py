"""Every torchvision-backed config and variant held to torchvision's own model and to fvcore, ptflops and thop run
on that model (not on a module mobcost builds): totals to the integer, and every conv and linear layer in order.

Needs torch and torchvision (CI installs torch==2.14.1 torchvision==0.29.1) and the counters ('.[counters]');
skipped without them. The README's test command runs without torch.
"""

import pytest
from typer.testing import CliRunner

import mobcost
from mobcost.cli import app
from mobcost.language import builtin_models, load_spec

pytest.importorskip("torchvision")
reference = pytest.importorskip("mobcost.verify.reference")

# α and resolution per network: 224 and two or three others (odd ones too), and, where the builder takes a width
# multiplier, α below and above 1.
MOBILENETS = [(1.0, 224), (0.75, 160), (0.5, 97), (1.3, 128)]
CLASSIC = [(1.0, 224), (1.0, 160), (1.0, 97)]
CASES = ([("mobilenet_v2:torchvision", a, r) for a, r in MOBILENETS]
         + [("mobilenet_v3_large:torchvision", a, r) for a, r in [*MOBILENETS, (0.75, 224)]]
         + [("mobilenet_v3_small:torchvision", a, r) for a, r in [*MOBILENETS, (0.6, 192)]]
         + [(f"{name}:torchvision", a, r) for name in ("googlenet", "resnet50", "squeezenet", "alexnet")
            for a, r in CLASSIC]
         + [("vgg16:torchvision", 1.0, r) for r in (224, 97, 64)]
         + [("resnet18:torchvision", 1.0, r) for r in (224, 161)] + [("efficientnet_b0:torchvision", 1.0, 224)]
         + [(f"efficientnet_b0:b{i}", 1.0, r) for i, r in ((1, 240), (2, 260), (3, 300))]  # their own sizes
         # detection at its own 320 (backbone and head run: `reference.runnable`); segmentation at the 520 torchvision
         # documents and one other size, non-square for LR-ASPP
         + [("ssdlite320_mobilenet_v3_large:torchvision", 1.0, 320)]
         + [("lraspp_mobilenet_v3_large:torchvision", 1.0, r) for r in (520, (240, 320))]
         + [("deeplabv3_mobilenet_v3_large:torchvision", 1.0, r) for r in (520, 257)]
         # torchvision's published widths (mnasnet0_5 … 1_3: MNASNet(alpha); shufflenet_v2_x0_5 … x2_0: one
         # builder each), both pooling with the tensor method x.mean([2, 3])
         + [("mnasnet:torchvision", a, 224) for a in (1.0, 0.5, 0.75, 1.3)] + [("mnasnet:torchvision", 1.0, 161)]
         + [(f"shufflenet_v2_x1_0:{v}", 1.0, 224) for v in ("torchvision", "x0_5", "x1_5", "x2_0")]
         + [("shufflenet_v2_x1_0:torchvision", 1.0, 161)])


def _torchvision_configs() -> set[str]:
    """Every shipped config with a variant that follows torchvision and names its builder."""
    return {network.name for network in map(load_spec, set(builtin_models().values())) if network.builder()}


def test_every_torchvision_config_is_checked():
    assert _torchvision_configs() == {model.split(":")[0] for model, _, _ in CASES}
    assert _torchvision_configs() == {"mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "googlenet",
                                      "resnet50", "squeezenet", "alexnet", "vgg16", "resnet18", "efficientnet_b0",
                                      "ssdlite320_mobilenet_v3_large", "lraspp_mobilenet_v3_large",
                                      "deeplabv3_mobilenet_v3_large", "mnasnet", "shufflenet_v2_x1_0"}


@pytest.mark.parametrize(("alpha", "builder"), [(0.5, "mnasnet0_5"), (0.75, "mnasnet0_75"), (1.0, "mnasnet1_0"),
                                                (1.3, "mnasnet1_3")])
def test_mnasnet_at_alpha_is_torchvisions_named_builder(alpha, builder):
    """`mnasnet:torchvision` builds MNASNet(alpha); torchvision's published widths are exactly those models."""
    torchvision = pytest.importorskip("torchvision")
    built, how = reference.reference_model(mobcost.analyze("mnasnet:torchvision").network, alpha, "torchvision")
    assert how == f"torchvision.models:MNASNet(alpha={alpha!r})"
    assert repr(built) == repr(getattr(torchvision.models, builder)().eval())


def test_a_variant_that_names_its_builder_is_built_by_it():
    """ShuffleNetV2's widths are not α-scalings: each variant names torchvision's builder for it."""
    calls = {v: reference.reference_model(mobcost.analyze(f"shufflenet_v2_x1_0:{v}").network, 1.0, "torchvision")[1]
             for v in ("torchvision", "x0_5", "x2_0", "paper")}
    assert calls == {"torchvision": "torchvision.models:shufflenet_v2_x1_0()",
                     "x0_5": "torchvision.models:shufflenet_v2_x0_5()",
                     "x2_0": "torchvision.models:shufflenet_v2_x2_0()",
                     "paper": "torchvision.models:shufflenet_v2_x1_0()"}  # the authors' unit: held to 1×, and differs


def _size(res) -> str:
    return "x".join(map(str, res)) if isinstance(res, tuple) else str(res)


@pytest.mark.parametrize(("model", "alpha", "res"), CASES, ids=[f"{m}@{a}_{_size(r)}" for m, a, r in CASES])
def test_matches_torchvision_and_the_counters_on_it(model, alpha, res):
    analysis = mobcost.analyze(model, alpha=alpha, resolution=res)
    built, how = reference.reference_model(analysis.network, alpha, "torchvision")
    comparison = reference.compare(analysis, built, how)
    assert set(comparison.versions) >= {"torch", "torchvision", *reference.TOOLS}
    assert comparison.failed == {}  # every counter ran the model
    assert [t.what for t in comparison.totals if not t.ok] == []
    assert comparison.first_difference is None


def test_acceptance_figures_from_the_issue():
    """torchvision 0.29.1 mobilenet_v3_large(width_mult=0.75): 3,377,576 parameters, 140,033,816 Mult-Adds."""
    a = mobcost.analyze("v3_large:torchvision@0.75")
    assert (a.macs, a.params_counted("torch")) == (140_033_816, 3_377_576)


def test_the_tf_slim_network_differs_from_torchvision_at_the_first_expansion():
    """At α = 0.75 the default (TF-slim's) expands bneck2 to make_divisible(16 · 4) = 64 channels, torchvision to
    make_divisible(0.75 · 64) = 48."""
    analysis = mobcost.analyze("v3_large", alpha=0.75)
    comparison = reference.compare(analysis, *reference.reference_model(analysis.network, 0.75, "torchvision"))
    first = comparison.first_difference
    assert (first.row.name, first.shape[0], first.layer.name, first.layer.shape[0]) == (
        "bneck2/expand", 64, "features.2.block.0.0", 48)
    assert not comparison.ok


runner = CliRunner()


def test_verify_against_torchvision_command():
    ok = runner.invoke(app, ["verify", "v3_small:torchvision", "--alpha", "0.75", "--against", "torchvision",
                             "-f", "markdown"])
    assert ok.exit_code == 0, ok.output
    differs = runner.invoke(app, ["verify", "v3_small", "--alpha", "0.6", "--against", "torchvision", "-f", "markdown"])
    assert differs.exit_code == 1
    assert "First difference: mobcost's " in differs.stdout and "DIFFERS" in differs.stdout


def test_verify_against_any_callable():
    """MODULE:CALLABLE: the team's own builder, called without arguments."""
    result = runner.invoke(app, ["verify", "squeezenet", "--against", "torchvision.models:squeezenet1_0",
                                 "-f", "json"])
    assert result.exit_code == 0, result.output
    assert '"against": "torchvision.models:squeezenet1_0()"' in result.stdout


@pytest.mark.parametrize("against", ["torchvision.models:no_such_model", "no_such_module:f", "resnet50"])
def test_verify_against_a_bad_callable_is_bad_input(against):
    result = runner.invoke(app, ["verify", "resnet50", "--against", against])
    assert result.exit_code == 2 and "--against" in result.output and "Traceback" not in result.output


def test_a_builder_without_alpha_refuses_one():
    result = runner.invoke(app, ["verify", "resnet50:torchvision", "--alpha", "0.5", "--against", "torchvision"])
    assert result.exit_code == 2 and "takes no width multiplier" in result.output


# ---- what runs: a detector's network, not its pre- and post-processing ----------------------------------------

def test_a_builder_passes_none_so_nothing_is_downloaded():
    """`weights_backbone: null` in a builder's args reaches torchvision as None (its default downloads ImageNet
    weights), and a detector runs as its backbone and head on one tensor at the spec's size."""
    analysis = mobcost.analyze("ssdlite320_mobilenet_v3_large:torchvision")
    built, how = reference.reference_model(analysis.network, 1.0, "torchvision")
    assert how == ("torchvision.models.detection:ssdlite320_mobilenet_v3_large(weights_backbone=None, "
                   "num_classes=91, width_mult=1.0)")
    model, what = reference.runnable(built, how)
    assert "backbone and head" in what and [name for name, _ in model.named_children()] == ["backbone", "head"]
    torch = pytest.importorskip("torch")
    out = model(torch.zeros(1, 3, 320, 320))  # 3,234 anchors: (20² + 10² + 5² + 3² + 2² + 1) · 6
    assert tuple(out["bbox_regression"].shape) == (1, 3234, 4) and tuple(out["cls_logits"].shape) == (1, 3234, 91)


def test_a_two_stage_detector_is_refused_not_run():
    torch = pytest.importorskip("torch")

    class TwoStage(torch.nn.Module):  # what Faster R-CNN has: a transform and a backbone, but no single head
        def __init__(self):
            super().__init__()
            self.transform, self.backbone = torch.nn.Identity(), torch.nn.Conv2d(3, 4, 1)

    with pytest.raises(mobcost.MobcostError, match="no forward mobcost can run on one tensor"):
        reference.runnable(TwoStage(), "m:f")


def test_a_counter_that_cannot_run_the_model_is_said_so(monkeypatch):
    def fails(model, x):
        raise RuntimeError("cannot trace this\nsecond line")

    monkeypatch.setitem(reference.COUNT, "thop", fails)
    result = runner.invoke(app, ["verify", "squeezenet:torchvision", "--against", "torchvision", "-f", "markdown"])
    assert result.exit_code == 0, result.output
    assert "thop could not run this model (RuntimeError: cannot trace this); its convention is not compared." in (
        result.stdout)
    assert "vs thop" not in result.stdout
