"""Shape propagation, α and ρ, variants: the whole of MobileNet V1 against the paper's arithmetic."""

import math
from fractions import Fraction

import pytest

import mobcost
from mobcost.language import MobcostError, load_model
from mobcost.trace import resolution_of, trace

# MobileNets Table 1: (output channels, stride) of the first conv and the 13 depthwise-separable blocks.
V1_BODY = [(32, 2), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
           (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
V1_BLOCKS = V1_BODY[1:]


def v1_by_hand(alpha: float, resolution: int) -> tuple[int, int]:
    """MobileNets eq. 7 layer by layer: D_K·D_K·αM·ρD_F·ρD_F + αM·αN·ρD_F·ρD_F, with int(α·c) channels (α exact, as
    written), `same` padding, and the FC's weights to 1000 classes; pooling and softmax cost nothing."""
    channels = [int(Fraction(str(alpha)) * c) for c, _ in V1_BODY]
    size = -(-resolution // 2)
    macs = 3 * 3 * 3 * channels[0] * size * size
    params = 3 * 3 * 3 * channels[0]
    for (m, n), (_, stride) in zip(zip(channels, channels[1:]), V1_BLOCKS):
        size = -(-size // stride)
        macs += 3 * 3 * m * size * size + m * n * size * size
        params += 3 * 3 * m + m * n
    return macs + channels[-1] * 1000, params + channels[-1] * 1000


def test_v1_total_is_the_sum_of_table_1():
    a = mobcost.analyze("v1")
    assert a.rows[0].macs == 3 * 3 * 3 * 32 * 112 * 112
    assert a.macs == sum(row.macs for row in a.rows) == 568_740_352
    assert (a.macs, a.params) == v1_by_hand(1.0, 224)
    assert len([r for r in a.rows if r.kind in ("conv", "dw", "pw", "fc")]) == 28  # "MobileNet has 28 layers"


@pytest.mark.parametrize("alpha", [1.0, 0.75, 0.5, 0.25])
@pytest.mark.parametrize("res", [224, 192, 160, 128])
def test_all_sixteen_variants_exactly(alpha, res):
    a = mobcost.analyze("v1", alpha=alpha, resolution=res)
    assert (a.macs, a.params) == v1_by_hand(alpha, res)


def test_table_1_shapes():
    rows = mobcost.analyze("v1").rows
    assert [str(r.input) for r in rows[:5]] == ["224×224×3", "112×112×32", "112×112×32", "112×112×64", "56×56×64"]
    assert [r.filter for r in rows[:3]] == ["3×3×3×32", "3×3×32 dw", "1×1×32×64"]
    assert [r.type for r in rows[-3:]] == ["Avg Pool / s1", "FC / s1", "Softmax / s1"]
    assert rows[-3].filter == "Pool 7×7" and rows[-2].filter == "1024×1000"


def test_alpha_scales_every_layer_but_the_image_and_the_classifier():
    rows = mobcost.analyze("v1", alpha=0.5).rows
    assert rows[0].input.c == 3 and rows[0].output.c == 16
    assert rows[-2].filter == "512×1000"


def test_rho_sets_the_resolution():
    net, _ = load_model("v1")
    assert resolution_of(net, rho=0.714) == 160  # round(0.714 · 224) = round(159.9)
    assert mobcost.analyze("v1", rho=0.714).macs == v1_by_hand(1.0, 160)[0]


def test_model_reference_carries_alpha_and_resolution():
    assert mobcost.analyze("v1@0.5_160").macs == v1_by_hand(0.5, 160)[0]


def test_res_and_rho_together_is_an_error():
    net, _ = load_model("v1")
    with pytest.raises(MobcostError, match="either as --res or as --rho"):
        resolution_of(net, 160, 0.714)


@pytest.mark.parametrize("alpha", [0, -0.5])
def test_alpha_must_be_positive(alpha):
    with pytest.raises(MobcostError, match="α must be positive"):
        trace(load_model("v1")[0], alpha)


def test_conv_mobilenet_replaces_each_block_by_a_full_conv():
    a = mobcost.analyze("v1:conv")
    f, m, expected = 112, 32, 3 * 3 * 3 * 32 * 112 * 112
    for n, s in V1_BLOCKS:
        f = math.ceil(f / s)
        expected += 3 * 3 * m * n * f * f
        m = n
    assert a.macs == expected + 1024 * 1000


def test_shallow_mobilenet_drops_the_five_14x14_blocks():
    full, shallow = mobcost.analyze("v1"), mobcost.analyze("v1:shallow")
    assert full.macs - shallow.macs == 5 * (3 * 3 * 512 * 14 * 14 + 512 * 512 * 14 * 14)
    assert full.params - shallow.params == 5 * (3 * 3 * 512 + 512 * 512)


def test_breakdown_sums_to_the_totals():
    a = mobcost.analyze("v1")
    parts = a.breakdown()
    assert list(parts) == ["Conv 3×3", "Conv DW 3×3", "Conv 1×1", "Fully Connected"]
    assert sum(m for m, _ in parts.values()) == a.macs and sum(p for _, p in parts.values()) == a.params
    assert parts["Conv 3×3"] == (3 * 3 * 3 * 32 * 112 * 112, 3 * 3 * 3 * 32)


def test_parameter_counting_adds_batch_norm_terms():
    """Every V1 layer but the FC has batch norm: γ, β for PyTorch, plus mean and variance for Keras."""
    a = mobcost.analyze("v1")
    bn_channels = 32 + sum(m + n for m, n in zip([32] + [n for n, _ in V1_BLOCKS], [n for n, _ in V1_BLOCKS]))
    assert a.params_counted("torch") == a.params + 2 * bn_channels
    assert a.params_counted("keras") == a.params + 4 * bn_channels
    # Keras' MobileNet (published-figures §7): 4,253,864 in all, 21,888 of them moving statistics; its FC has
    # a bias (1000) that the paper's count leaves out.
    assert a.params_counted("keras") + 1000 == 4_253_864 and 2 * bn_channels == 21_888


def test_to_dict_has_exact_integers():
    data = mobcost.analyze("v1", alpha=0.5, resolution=160).to_dict()
    assert data["totals"] == {"macs": v1_by_hand(0.5, 160)[0], "params": v1_by_hand(0.5, 160)[1]}
    assert data["layers"][0] == {"name": "conv1", "kind": "conv", "stride": 2, "filter": "3×3×3×16",
                                 "input": [160, 160, 3], "output": [80, 80, 16], "macs": 3 * 3 * 3 * 16 * 80 * 80,
                                 "params": 3 * 3 * 3 * 16, "reads": ["input"], "part": "backbone",
                                 "batch": 1}
