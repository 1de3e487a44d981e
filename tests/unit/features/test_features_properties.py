"""Hypothesis: on random trade sequences every stream equals its batch twin."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_features_ofi import ofi_reference

from quantumtrader.features import (
    CANDLE_COLUMNS,
    CandleBuilder,
    FeatureSet,
    TradeOFI,
    candles_batch,
    compute_batch_full,
    ofi_batch,
)

S = 1_000_000_000
T0 = 1_541_415_600 * S
Arr = np.ndarray[Any, Any]

gaps = st.one_of(
    st.just(0),
    st.integers(1, S - 1),
    st.integers(1, 5).map(lambda k: k * S),  # whole seconds
    st.integers(30 * S, 3 * 60 * S),
    st.integers(10 * 60 * S, 70 * 60 * S),
)
trade = st.tuples(gaps, st.integers(3000, 3020), st.integers(1, 50), st.sampled_from([-1, 0, 1]))


def _columns(raw: list[tuple[int, int, int, int]]) -> tuple[Arr, Arr, Arr, Arr]:
    ts = T0 + np.cumsum(np.array([r[0] for r in raw], dtype=np.int64))
    price = np.array([r[1] * 0.5 for r in raw], dtype=np.float64)
    qty = np.array([r[2] for r in raw], dtype=np.float64)
    side = np.array([r[3] for r in raw], dtype=np.int8)
    return ts, price, qty, side


@settings(max_examples=60)
@given(st.lists(trade, min_size=1, max_size=120))
def test_featureset_stream_equals_batch(raw: list[tuple[int, int, int, int]]) -> None:
    ts, price, qty, side = _columns(raw)
    params: dict[str, Any] = {
        "ema_periods": (2, 3), "rsi_period": 2, "atr_period": 2, "adx_period": 2,
    }  # fmt: skip
    fs = FeatureSet((1, 5), **params)
    res = compute_batch_full(ts, price, qty, side, feature_set=FeatureSet((1, 5), **params))
    batch = res.features.drop("ts").fill_null(math.nan).to_numpy()
    for i in range(ts.shape[0]):
        fs.update_trade(int(ts[i]), float(price[i]), float(qty[i]), int(side[i]))
        row = np.array([math.nan if v is None else v for v in fs.snapshot().values()])
        assert np.array_equal(row, batch[i], equal_nan=True), i
    fs.flush()
    assert fs.candles().equals(res.candles)


@settings(max_examples=60)
@given(st.lists(trade, min_size=1, max_size=200), st.integers(1, 8))
def test_ofi_stream_equals_batch_and_oracle(raw: list[tuple[int, int, int, int]], cap: int) -> None:
    ts, _, qty, side = _columns(raw)
    windows = (1, 5, 60)
    batch = ofi_batch(ts, qty, side, windows)
    o = TradeOFI(windows, capacity=cap)
    for i in range(ts.shape[0]):
        o.update(int(ts[i]), 0.0, float(qty[i]), int(side[i]))
        assert np.array_equal(o.raw(), batch[i], equal_nan=True)
    for j, w in enumerate(windows):
        ref = ofi_reference(ts, qty, side, w)
        assert np.array_equal(batch[:, 3 * j : 3 * j + 3], ref, equal_nan=True)


@settings(max_examples=60)
@given(st.lists(trade, min_size=1, max_size=150))
def test_candles_stream_equals_batch(raw: list[tuple[int, int, int, int]]) -> None:
    ts, price, qty, side = _columns(raw)
    rows = candles_batch(ts, price, qty, side).rows()
    b = CandleBuilder()
    got = []
    for i in range(ts.shape[0]):
        if b.update(int(ts[i]), float(price[i]), float(qty[i]), int(side[i])):
            assert b.last is not None
            got.append(tuple(getattr(b.last, c) for c in CANDLE_COLUMNS))
    assert b.flush()
    assert b.last is not None
    got.append(tuple(getattr(b.last, c) for c in CANDLE_COLUMNS))
    assert got == rows
    assert sum(r[8] for r in rows) == ts.shape[0]
