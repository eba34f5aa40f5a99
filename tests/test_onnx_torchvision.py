"""torchvision's own models, exported with torch.onnx.export and imported: held to PyTorch on the same model.

Mult-Adds are FlopCounterMode's FLOPs ÷ 2 on the torchvision model; parameters are its Σ numel. Each model is
exported twice by the legacy (TorchScript) exporter: with its batch norms kept (TrainingMode.PRESERVE, no constant
folding), where the import's `bn: true` counted as PyTorch does gives Σ numel exactly; and as exported by default,
with each batch norm folded into its conv's bias, where Σ numel less one value per batch-normalized channel (γ and
β become one bias) is what the import counts. Needs torch, torchvision and onnx; skipped without them.
"""

import json
import warnings

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytest.importorskip("onnx")

from mobcost import analyze  # noqa: E402
from mobcost.importers.onnx import import_onnx  # noqa: E402
from mobcost.language import parse_spec  # noqa: E402

MODELS = ["mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "resnet50"]
CONFIG = {"mobilenet_v2": "v2", "mobilenet_v3_large": "v3_large", "resnet50": "resnet50"}  # shipped configs


def export(model, path, bn: bool, size=224):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kwargs = {"training": torch.onnx.TrainingMode.PRESERVE, "do_constant_folding": False} if bn else {}
        torch.onnx.export(model, torch.randn(1, 3, size, size), str(path), dynamo=False, opset_version=17, **kwargs)
    return path


V2_TABLE_2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def torch_counts(model, size=224):
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as mode:
        model(torch.randn(1, 3, size, size))
    return mode.get_total_flops(), sum(p.numel() for p in model.parameters())


def bn_channels(model) -> int:
    return sum(m.num_features for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))


def costed(analysis):
    return [(row.macs, row.params_counted("torch")) for row in analysis.rows if row.macs or row.params]


@pytest.mark.parametrize("name", MODELS)
def test_torchvision_exports_import_to_what_pytorch_counts(tmp_path, mobcost, name):
    """Each model exported once with its batch norms and once folded (one test, so each is exported once a run):
    FlopCounterMode ÷ 2 and Σ numel on the torchvision model; row by row against the shipped config where one is.
    Every operator has a rule: nothing is imported as `unknown` (ResNet's ReLU after each add is the residual's `act`)."""
    model = getattr(torchvision.models, name)().eval()
    flops, numel = torch_counts(model)
    kept = analyze(parse_spec(import_onnx(export(model, tmp_path / "bn.onnx", True))))
    folded = analyze(parse_spec(import_onnx(export(model, tmp_path / "folded.onnx", False))))
    assert 2 * kept.macs == flops and 2 * folded.macs == flops
    assert kept.params_counted("torch") == numel  # batch norms kept: γ and β counted as PyTorch does
    assert folded.params == numel - bn_channels(model)  # folded: γ and β became one bias per channel
    if name in CONFIG:  # every layer with a cost, in order, against the config of the same network
        assert costed(kept) == costed(analyze(CONFIG[name]))
    if name == "mobilenet_v2":
        # The acceptance: 3,504,872 parameters (torch counting) and 300,774,272 Mult-Adds; exported with
        # batch norm folded, 3,487,816 (the weights and one bias per batch-normalized channel).
        assert (kept.macs, kept.params_counted("torch"), folded.params) == (300_774_272, 3_504_872, 3_487_816)
        table = mobcost("table", str(tmp_path / "bn.onnx"), "--params", "torch", "-f", "csv")
        assert table.exit_code == 0 and "300774272,3504872" in table.stdout.replace('"', "")
        blocks = [(int(b.t), b.out, b.n, b.stride) for b in kept.network.layers if b.kind == "bottleneck"]
        assert blocks == V2_TABLE_2  # the V2 paper's Table 2 rows (t, c, n, s) come back as bottleneck blocks
        # diff pairs the export's layers with the shipped config's by structure, not by name: no count changes,
        # every renamed layer named (issue 23: matched by name, "129 layers differ, 0 unchanged")
        diff = mobcost("diff", str(tmp_path / "bn.onnx"), "v2:torchvision", "--params", "torch", "-f", "json")
        data = json.loads(diff.stdout)
        assert all(row["macs_delta"] == 0 and row["params_delta"] == 0 for row in data["rows"])
        assert [row["change"] for row in data["rows"]] == ["removed", "changed"]  # the flatten; the FC as a 1×1 conv
        assert data["unchanged"] == len(kept.rows) - 2 and len(data["renamed"]) == data["unchanged"]


class SSDLiteNetwork(torch.nn.Module):
    """torchvision's ssdlite320_mobilenet_v3_large without its box decoding and NMS (not a network: a post-process):
    backbone, extra layers and both heads, returning the concatenated box regressions and class logits."""

    def __init__(self):
        super().__init__()
        model = torchvision.models.detection.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)
        self.backbone, self.head = model.backbone, model.head

    def forward(self, x):
        out = self.head(list(self.backbone(x).values()))
        return out["bbox_regression"], out["cls_logits"]


def test_ssdlite_imports_with_its_heads_as_outputs(tmp_path):
    model = SSDLiteNetwork().eval()
    flops, numel = torch_counts(model, 320)
    result = analyze(parse_spec(import_onnx(export(model, tmp_path / "ssdlite.onnx", True, 320))))
    assert 2 * result.macs == flops and result.params_counted("torch") == numel
    assert len(result.network.outputs) == 12  # 6 feature maps × (boxes, classes)
