"""The world's mobile models, exported by each exporter and imported: held to PyTorch on the same model.

Each model is built by torchvision or timm, its batch norms' statistics and every bias made non-zero (an exporter
drops a zero bias, and a folded batch norm of untrained statistics is one), and exported four ways: the TorchScript
exporter with batch norms kept (TrainingMode.PRESERVE, no constant folding) and folded (the default), the same with
dynamic batch, height and width (imported with --res), and the dynamo exporter. Each import is held to
FlopCounterMode ÷ 2 for Mult-Adds, and for parameters to Σ numel with PyTorch's counting (γ and β of each batch norm
left in the graph), less one value per channel of each batch norm the exporter folded (γ and β became one bias).
Nothing is imported as `unknown`.

CI runs a representative subset (about a minute); MOBCOST_FULL_MATRIX=1 runs every model. Needs torch, torchvision,
timm, onnx and onnxscript (the dynamo exporter); skipped without them.
"""

import os
import warnings

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
timm = pytest.importorskip("timm")
onnx = pytest.importorskip("onnx")

from mobcost import analyze  # noqa: E402
from mobcost.importers.onnx import import_onnx  # noqa: E402
from mobcost.language import parse_spec  # noqa: E402

SUBSET = ["torchvision:mobilenet_v3_small", "torchvision:shufflenet_v2_x0_5", "timm:ghostnet_050",
          "timm:tf_mobilenetv3_small_100", "timm:lcnet_050"]
FULL = SUBSET + ["torchvision:mobilenet_v2", "torchvision:mobilenet_v3_large", "torchvision:efficientnet_b0",
                 "torchvision:mnasnet1_0", "torchvision:regnet_x_400mf", "torchvision:regnet_y_400mf",
                 "torchvision:squeezenet1_0", "torchvision:googlenet", "torchvision:shufflenet_v2_x1_0",
                 "torchvision:densenet121", "torchvision:convnext_tiny", "torchvision:lraspp_mobilenet_v3_large",
                 "timm:ghostnet_100", "timm:tf_mobilenetv3_large_100", "timm:hardcorenas_a", "timm:tinynet_a",
                 "timm:lcnet_100", "timm:mobilenetv4_conv_small", "timm:efficientnet_b0",
                 "timm:mobilenetv4_hybrid_medium", "timm:mobilevit_xs"]
MODELS = FULL if os.environ.get("MOBCOST_FULL_MATRIX") == "1" else SUBSET
EXPORTS = ["kept", "folded", "dynamic", "dynamo"]
SIZE = 224
SIZES = {"timm:mobilevit_xs": 256}  # its own input: 224 would make timm interpolate to whole patches


class _Segmentation(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def build(name: str):
    library, model = name.split(":")
    torch.manual_seed(0)
    if library == "timm":
        fused = timm.layers.config._USE_FUSED_ATTN
        timm.layers.set_fused_attn(False)  # FlopCounterMode counts no fused CPU attention: timm's unfused products
        try:
            net = timm.create_model(model, pretrained=False)
        finally:
            timm.layers.config._USE_FUSED_ATTN = fused  # timm's switch is global: the next test builds as timm does
    elif model.startswith("lraspp"):
        net = _Segmentation(getattr(torchvision.models.segmentation, model)(weights=None, weights_backbone=None))
    else:
        net = getattr(torchvision.models, model)(**({"aux_logits": False, "init_weights": True}
                                                     if model == "googlenet" else {}))
    with torch.no_grad():  # nothing zero that an exporter would drop, nothing a folded batch norm would make zero
        for module in net.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
                module.bias.uniform_(-1, 1)
            elif getattr(module, "bias", None) is not None and isinstance(module.bias, torch.nn.Parameter):
                module.bias.uniform_(-1, 1)
    return net.eval()


def export(net, path, how: str, size: int):
    x = torch.randn(1, 3, size, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if how == "dynamo":
            pytest.importorskip("onnxscript")
            torch.onnx.export(net, (x,), dynamo=True, verbose=False).save(str(path))
            return path
        kwargs = {"training": torch.onnx.TrainingMode.PRESERVE, "do_constant_folding": False} if how == "kept" else {}
        if how == "dynamic":
            kwargs = {"input_names": ["x"], "dynamic_axes": {"x": {0: "n", 2: "h", 3: "w"}}}
        torch.onnx.export(net, x, str(path), dynamo=False, opset_version=17, **kwargs)
    return path


def batch_norm_channels_in(path, size: int) -> int:
    """Channels of the batch norms left in the exported graph, read from the file by ONNX shape inference."""
    model = onnx.load(str(path), load_external_data=False)
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4:
            for d, n in zip(dims, (1, 3, size, size)):
                d.dim_value = n
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {v.name: v.type.tensor_type.shape.dim for v in (*inferred.graph.value_info, *inferred.graph.input)}
    return sum(shapes[n.input[0]][1].dim_value for n in model.graph.node if n.op_type == "BatchNormalization")


@pytest.mark.parametrize("name", MODELS)
def test_every_export_imports_to_what_pytorch_counts(tmp_path, name):
    net, size = build(name), SIZES.get(name, SIZE)
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as mode:
        net(torch.randn(1, 3, size, size))
    numel = sum(p.numel() for p in net.parameters())
    bn = sum(m.num_features for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    for how in EXPORTS:
        path = export(net, tmp_path / f"{how}.onnx", how, size)
        result = analyze(parse_spec(import_onnx(path, resolution=size if how == "dynamic" else None)))
        kept = batch_norm_channels_in(path, size)
        assert (how, 2 * result.macs) == (how, mode.get_total_flops())
        assert (how, result.params_counted("torch")) == (how, numel - (bn - kept))
        assert not result.uncounted


def test_a_python_model_imports_without_a_file(mobcost):
    """`mobcost import MODULE:CALLABLE --arg ...`: timm's mobilenetv4_conv_small built by timm.create_model and exported
    in memory, held to FlopCounterMode ÷ 2 and Σ numel on the same timm model."""
    result = mobcost("import", "timm:create_model", "--arg", "mobilenetv4_conv_small")
    assert result.exit_code == 0, result.output
    analysis = analyze(parse_spec(result.stdout))
    net = timm.create_model("mobilenetv4_conv_small").eval()
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as mode:
        net(torch.randn(1, 3, SIZE, SIZE))
    assert 2 * analysis.macs == mode.get_total_flops()
    assert analysis.params_counted("torch") == sum(p.numel() for p in net.parameters())
