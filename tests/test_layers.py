"""Every formula against hand arithmetic (MobileNets eq. 2, 4, 5, 7)."""

from fractions import Fraction

import pytest

from mobcost.layers import (AvgPool, Conv, DepthwiseConv, FullyConnected, Pointwise, Scaling, Separable, Shape,
                            ShapeError, Softmax, make_divisible, out_size)


def test_standard_conv_macs_and_params():
    conv = Conv(kernel=3, stride=2, out=32)
    x = Shape(224, 224, 3)
    assert conv.output_shape(x) == Shape(112, 112, 32)
    assert conv.macs(x) == 3 * 3 * 3 * 32 * 112 * 112  # D_K·D_K·M·N·D_F·D_F
    assert conv.params(x) == 3 * 3 * 3 * 32
    assert conv.standard_macs(x) == conv.macs(x)


def test_conv_bias_adds_one_parameter_per_output_channel():
    assert Conv(kernel=3, out=8, bias=True).params(Shape(5, 5, 4)) == 3 * 3 * 4 * 8 + 8


def test_depthwise_macs_and_params():
    dw = DepthwiseConv(kernel=3, stride=1)
    x = Shape(112, 112, 32)
    assert dw.output_shape(x) == x
    assert dw.macs(x) == 3 * 3 * 32 * 112 * 112  # D_K·D_K·M·D_F·D_F
    assert dw.params(x) == 3 * 3 * 32
    assert dw.standard_macs(x) == 3 * 3 * 32 * 32 * 112 * 112


def test_depthwise_stride_two_costs_the_output_positions():
    x = Shape(112, 112, 64)
    assert DepthwiseConv(stride=2).macs(x) == 3 * 3 * 64 * 56 * 56


def test_pointwise_macs_and_params():
    pw = Pointwise(out=64)
    x = Shape(112, 112, 32)
    assert pw.macs(x) == 32 * 64 * 112 * 112  # M·N·D_F·D_F
    assert pw.params(x) == 32 * 64


def test_separable_ratio_is_one_over_n_plus_one_over_k_squared():
    """MobileNets eq. 5: (D_K²·M·D_F² + M·N·D_F²) / (D_K²·M·N·D_F²) = 1/N + 1/D_K²."""
    x = Shape(14, 14, 512)
    dw, pw = Separable(out=512).parts()
    separable = dw.macs(x) + pw.macs(dw.output_shape(x))
    standard = Separable(out=512).as_conv().macs(x)
    assert Fraction(separable, standard) == Fraction(1, 512) + Fraction(1, 9)


def test_paper_table3_rows():
    """MobileNets Table 3: D_K=3, M=N=512, D_F=14: 462M / 2.36M for the conv, 52.3M / 0.27M separable."""
    x = Shape(14, 14, 512)
    assert Conv(kernel=3, out=512).macs(x) == 3 * 3 * 512 * 512 * 14 * 14  # 462.4M
    assert Conv(kernel=3, out=512).params(x) == 3 * 3 * 512 * 512  # 2.36M
    dw, pw = Separable(out=512).parts()
    assert dw.macs(x) + pw.macs(x) == 3 * 3 * 512 * 14 * 14 + 512 * 512 * 14 * 14  # 52.3M


def test_global_avgpool_and_softmax_cost_nothing():
    x = Shape(7, 7, 1024)
    assert AvgPool().output_shape(x) == Shape(1, 1, 1024)
    assert AvgPool().macs(x) == AvgPool().params(x) == 0
    assert AvgPool().filter_shape(x) == "Pool 7×7"
    assert Softmax().macs(Shape(1, 1, 1000)) == Softmax().params(Shape(1, 1, 1000)) == 0


def test_kxk_avgpool_shape():
    assert AvgPool(kernel=2, stride=2).output_shape(Shape(8, 8, 4)) == Shape(4, 4, 4)


def test_fully_connected_is_in_times_out():
    fc = FullyConnected(out=1000, bias=False)
    assert fc.macs(Shape(1, 1, 1024)) == 1024 * 1000
    assert fc.params(Shape(1, 1, 1024)) == 1024 * 1000
    assert FullyConnected(out=10).params(Shape(2, 2, 3)) == 2 * 2 * 3 * 10 + 10


@pytest.mark.parametrize("n, k, s, padding, expected", [
    (224, 3, 2, "same", 112),   # ceil(224 / 2)
    (7, 3, 2, "same", 4),       # ceil(7 / 2)
    (6, 3, 1, "valid", 4),      # (6 - 3) // 1 + 1
    (224, 11, 4, 2, 55),        # (224 + 2·2 - 11) // 4 + 1, AlexNet's first conv
    (5, 5, 1, "valid", 1),
])
def test_out_size(n, k, s, padding, expected):
    assert out_size(n, k, s, padding) == expected


def test_a_kernel_larger_than_the_map_empties_it():
    with pytest.raises(ShapeError, match="leaves nothing"):
        Conv(kernel=7, padding="valid", out=8).output_shape(Shape(5, 5, 3))


@pytest.mark.parametrize("alpha, channels, expected", [
    ("0.75", 32, 24), ("0.5", 1024, 512), ("0.25", 32, 8), ("0.35", 100, 35), ("1.4", 3, 4),  # int(α·c)
])
def test_int_rounding(alpha, channels, expected):
    assert Scaling(Fraction(alpha), 1000).channels(channels, "scaled") == expected


def test_fixed_and_classes_channels_ignore_alpha():
    scaling = Scaling(Fraction("0.5"), 1000)
    assert scaling.channels("classes", "scaled") == 1000
    assert scaling.channels(1280, "fixed") == 1280
    assert scaling.channels(1280, "grow") == 1280  # only α > 1 grows it
    assert Scaling(Fraction("1.4"), 1000, divisor=8).channels(1280, "grow") == 1792  # 1.4 · 1280


@pytest.mark.parametrize("value, divisor, expected", [
    (Fraction(32) * Fraction("0.35"), 8, 16),   # 11.2 → 8 is below 90% of 11.2, so 16
    (Fraction(32) * Fraction("0.5"), 8, 16),
    (Fraction(24) * Fraction("0.75"), 8, 24),   # 18 → 16 is below 16.2, so 24
    (Fraction(3), 8, 8),                        # never below the divisor
    (Fraction(1280) * Fraction("1.4"), 8, 1792),
])
def test_make_divisible(value, divisor, expected):
    assert make_divisible(value, divisor) == expected


def test_separable_as_conv_keeps_its_geometry():
    block = Separable(kernel=3, stride=2, out=128, bn=True, act="relu")
    assert block.as_conv() == Conv(kernel=3, stride=2, out=128, bn=True, act="relu")
