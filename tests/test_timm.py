"""Every timm-backed config and width variant held to timm's own model at its default resolution (timm's
`default_cfg` input size): Mult-Adds to FlopCounterMode ÷ 2, parameters to Σ numel, and every conv and linear layer
in order, in output shape and parameters. timm's attention runs unfused (its own `set_fused_attn(False)`, which
`verify --against timm` sets): FlopCounterMode has no formula for the CPU's fused attention and would count it 0.

Needs torch and timm (CI pins timm in .ci/run); skipped without them. The counters' conventions on timm's models
(BatchNormAct2d, which thop and ptflops do not hook as a batch norm) are issue 19's item 5, not held here.
"""

import pytest
from typer.testing import CliRunner

import mobcost
from mobcost.cli import app
from mobcost.language import builtin_models, load_spec

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")
reference = pytest.importorskip("mobcost.verify.reference")

# config:variant → timm's model name, each at timm's default resolution (the config's own)
CASES = {"lcnet_100:x035": "lcnet_035", "lcnet_100:x050": "lcnet_050", "lcnet_100:x075": "lcnet_075",
         "lcnet_100:timm": "lcnet_100", "lcnet_100:x150": "lcnet_150",
         "ghostnet_100:x050": "ghostnet_050", "ghostnet_100:timm": "ghostnet_100", "ghostnet_100:x130": "ghostnet_130",
         "efficientnet_lite0:timm": "efficientnet_lite0",
         "mobilenetv4_conv_small:timm": "mobilenetv4_conv_small",
         "mobilenetv4_conv_medium:timm": "mobilenetv4_conv_medium",
         "mobilenetv4_conv_large:timm": "mobilenetv4_conv_large",
         "mobilenetv4_hybrid_medium:timm": "mobilenetv4_hybrid_medium", "mobilevit_xs:timm": "mobilevit_xs"}


def test_every_timm_config_and_variant_is_checked():
    found = set()
    for path in set(builtin_models().values()):
        network = load_spec(path)
        found |= {f"{network.name}:{key}" for key, v in network.variants.items() if v.builder and "timm" in v.follows}
    assert found == set(CASES)


@pytest.mark.parametrize("model", CASES)
def test_matches_timm(model):
    a = mobcost.analyze(model)
    built, how = reference.reference_model(a.network, 1.0, "timm")
    assert how == f"timm:create_model(model_name={CASES[model]!r}, pretrained=False)"
    assert tuple(built.pretrained_cfg["input_size"][1:]) == (a.resolution, a.resolution)
    x = torch.zeros(1, 3, a.resolution, a.resolution)
    ran, flops = reference.run_layers(built, x)
    assert a.macs == flops // 2 and flops % 2 == 0
    assert a.params_counted("torch") == sum(p.numel() for p in built.parameters())
    rows = [row for row in a.rows if row.kind in reference.COUNTED_KINDS]
    pairs = [reference.LayerPair(r, m) for r, m in zip(rows, ran)]
    assert len(rows) == len(ran) and [p.layer.name for p in pairs if not p.ok] == []


def test_fused_attention_is_invisible_to_flopcountermode(monkeypatch):
    """Why verify unfuses timm's attention: fused, FlopCounterMode misses exactly the attention's Q·Kᵀ and A·V."""
    monkeypatch.setattr(timm.layers.config, "_USE_FUSED_ATTN", 1)  # timm's default on PyTorch 2, whatever ran before
    a = mobcost.analyze("mobilenetv4_hybrid_medium")
    model = timm.create_model("mobilenetv4_hybrid_medium", pretrained=False).eval()
    _, fused = reference.run_layers(model, torch.zeros(1, 3, 256, 256))
    attention = sum(row.macs for row in a.rows if row.kind == "attend")
    # 4 heads of 64 in 8 blocks: 4 at 16×16 queries with their keys and values downsampled to 8×8, 4 at 8×8
    assert attention == 4 * 4 * (16 * 16) * (8 * 8) * (64 + 64) + 4 * 4 * (8 * 8) * (8 * 8) * (64 + 64)
    assert fused // 2 == a.macs - attention


def test_verify_against_timm_command():
    """The command holds the spec to timm's model (it exits 1 today: fvcore, ptflops and thop count timm's
    BatchNormAct2d otherwise than a batch norm, issue 19's item 5)."""
    result = CliRunner().invoke(app, ["verify", "lcnet_100:x035", "--against", "timm", "-f", "markdown"])
    assert "timm:create_model(model_name='lcnet_035', pretrained=False)" in result.stdout
    assert "Mult-Adds (paper) vs FlopCounterMode ÷ 2: 27,357,832 and 27,357,832, equal." in result.stdout
    assert "33 of 33 convolutions and linear layers agree" in result.stdout
