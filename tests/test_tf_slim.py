"""The TF-slim V1 checkpoint table (published-figures.md §4a): each erratum's explanation, by hand arithmetic."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from test_trace import V1_BODY, v1_by_hand

PARAMS = {1.0: "4.24", 0.75: "2.59", 0.5: "1.34", 0.25: "0.47"}  # Million Parameters, every resolution
MACS_075 = {224: "317", 192: "233", 160: "162", 128: "104"}  # Million MACs of the 0.75 rows


def rounded(n: int, printed: str) -> str:
    places = Decimal(printed).as_tuple().exponent
    return str((Decimal(n) / 10**6).quantize(Decimal(1).scaleb(places), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize("alpha", PARAMS, ids=[f"TF-slim {a} params {p}" for a, p in PARAMS.items()])
def test_params_are_the_checkpoints_count(alpha):
    channels = [int(Fraction(str(alpha)) * c) for c, _ in V1_BODY]
    weights = v1_by_hand(alpha, 224)[1]
    bn = channels[0] + sum(m + n for m, n in zip(channels, channels[1:]))  # after the conv, every dw and every pw
    assert rounded(weights, PARAMS[alpha]) != PARAMS[alpha]
    # the 1001st (background) class's FC weights, 1,001 logits biases, beta + moving mean + moving variance
    assert rounded(weights + channels[-1] + 1001 + 3 * bn, PARAMS[alpha]) == PARAMS[alpha]


@pytest.mark.parametrize("res", MACS_075, ids=[f"TF-slim 0.75_{r} MACs {m}" for r, m in MACS_075.items()])
def test_the_075_rows_leave_out_the_first_conv(res):
    macs = v1_by_hand(0.75, res)[0]
    first = 3 * 3 * 3 * 24 * (res // 2) ** 2
    assert rounded(macs, MACS_075[res]) != MACS_075[res]
    assert rounded(macs - first, MACS_075[res]) == MACS_075[res]


def test_050_224_prints_150_by_double_rounding():
    macs = v1_by_hand(0.5, 224)[0]
    assert macs == 149_497_088 and rounded(macs, "149") == "149"
    assert Decimal(rounded(macs, "149.50")).quantize(Decimal(1), rounding=ROUND_HALF_UP) == 150


def test_025_192_is_30_not_34():
    macs = v1_by_hand(0.25, 192)[0]
    assert rounded(macs, "34") == "30" and rounded(macs + 256, "34") == "30"  # 1001 classes change nothing
