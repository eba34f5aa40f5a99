"""MnasNet: B1 (configs/mnasnet.yaml) held to torchvision's mnasnet builders run for real, and A1
(configs/mnasnet_a1.yaml) to the tensorflow/tpu README and hand arithmetic for its squeeze-and-excite."""

import pytest

import mobcost
from mobcost.check import check
from mobcost.language import load_model

# torchvision builder → α; its weights meta num_params / _ops are in configs/mnasnet.yaml and `mobcost check`.
BUILDERS = {"mnasnet0_5": 0.5, "mnasnet0_75": 0.75, "mnasnet1_0": 1.0, "mnasnet1_3": 1.3}


@pytest.mark.parametrize("builder", BUILDERS)
def test_b1_against_torchvision_run(builder):
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from torch.utils.flop_counter import FlopCounterMode

    model = getattr(torchvision.models, builder)().eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    analysis = mobcost.analyze("mnasnet", alpha=BUILDERS[builder])
    assert analysis.params_counted("torch") == sum(p.numel() for p in model.parameters())
    assert analysis.macs == counter.get_total_flops() // 2


def test_b1_torchvision_figures():
    """Σnumel and FlopCounterMode/2 of torchvision.models.mnasnet1_0() at 224, as the issue states them."""
    analysis = mobcost.analyze("mnasnet")
    assert (analysis.params_counted("torch"), analysis.macs) == (4_383_312, 314_415_872)


@pytest.mark.parametrize("model", ["mnasnet", "mnasnet_a1"])
def test_published_figures(model):
    assert all(r.status != "fail" for r in check(load_model(model)[0]))


def test_a1_squeeze_is_a_quarter_of_the_block_input():
    """MnasNet's SE squeezes to int(input_filters × 0.25): the first SE block takes 24 channels, expands them ×3."""
    rows = {r.name: r for r in mobcost.analyze("mnasnet_a1").rows}
    reduce = next(r for name, r in rows.items() if name.endswith("se/reduce"))
    assert reduce.input.c == 3 * 24 and reduce.output.c == 24 // 4
    assert reduce.params == 72 * 6 + 6  # 1×1 conv with biases
