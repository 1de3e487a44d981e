"""FeatureSet: snapshot after every trade == compute_batch row on the real day; registry."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
import pytest

from quantumtrader.core import DataError
from quantumtrader.features import (
    CANDLE_COLUMNS,
    CONTEXT_COLUMNS,
    FeatureSet,
    candles_batch,
    compute_batch,
    compute_batch_full,
    registry,
)

Arr = np.ndarray[Any, Any]
EXPECTED_NAMES = [
    "cum_delta",
    *[f"ofi_{w}m{s}" for w in (1, 5, 15, 30, 60) for s in ("", "_velocity", "_acceleration")],
    "ema_9", "ema_21", "rsi_14", "atr_14", "adx_14", "plus_di_14", "minus_di_14",
]  # fmt: skip


def _nan(v: float | None) -> float:
    return math.nan if v is None else v


def test_registry_complete() -> None:
    infos = registry()
    assert [i.name for i in infos] == EXPECTED_NAMES
    for i in infos:
        assert i.units.strip(), i.name
        assert i.reference.strip(), i.name
        assert i.description.strip() and i.window.strip(), i.name
        assert i.inputs in ("trades", "candles")
    assert FeatureSet().names == tuple(EXPECTED_NAMES)


def test_snapshot_before_any_trade() -> None:
    fs = FeatureSet()
    snap = fs.snapshot()
    assert list(snap) == [*EXPECTED_NAMES, *CONTEXT_COLUMNS]
    assert all(v is None for v in snap.values())
    assert fs.last_candle is None
    assert fs.candles().height == 0


def test_stream_equals_batch_every_trade_real_day(dol_day: dict[str, Arr]) -> None:
    d = dol_day
    res = compute_batch_full(d["ts"], d["price"], d["qty"], d["side"])
    df = res.features
    assert df.columns == ["ts", *EXPECTED_NAMES, *CONTEXT_COLUMNS]
    assert df.height == d["ts"].shape[0]
    batch = df.drop("ts").fill_null(math.nan).to_numpy()
    fs = FeatureSet()
    stream = np.empty_like(batch)
    closes = 0
    for i, (ts, p, q, s) in enumerate(
        zip(
            d["ts"].tolist(),
            d["price"].tolist(),
            d["qty"].tolist(),
            d["side"].tolist(),
            strict=True,
        )
    ):
        closes += fs.update_trade(ts, p, q, s)
        stream[i] = [_nan(v) for v in fs.snapshot().values()]
    assert np.array_equal(stream, batch, equal_nan=True)
    assert compute_batch(d["ts"], d["price"], d["qty"], d["side"]).equals(df)
    # After the last trade every feature is warm.
    assert not np.isnan(batch[-1]).any()
    # Candles: stream (after flush) == batch == candles_batch, indicators included.
    assert fs.flush()
    assert closes + 1 == res.candles.height
    assert fs.candles().equals(res.candles)
    plain = candles_batch(d["ts"], d["price"], d["qty"], d["side"])
    assert res.candles.select(CANDLE_COLUMNS).equals(plain)
    rows = fs.candle_rows()
    assert rows[-1] == tuple(plain.select(CANDLE_COLUMNS[:6]).row(-1))
    last = fs.last_candle
    assert last is not None and last.ts_start == plain["ts_start"][-1]
    snap = fs.snapshot()
    assert snap["candle_close"] == plain["close"][-1]
    assert snap["ema_9"] == res.candles["ema_9"][-1]


def test_batch_candle_indicators_vs_talib(dol_day: dict[str, Arr]) -> None:
    talib = pytest.importorskip("talib")
    d = dol_day
    c = compute_batch_full(d["ts"], d["price"], d["qty"], d["side"]).candles
    h, lo, cl = (c[x].to_numpy() for x in ("high", "low", "close"))
    refs = {
        "ema_9": talib.EMA(cl, 9), "ema_21": talib.EMA(cl, 21), "rsi_14": talib.RSI(cl, 14),
        "atr_14": talib.ATR(h, lo, cl, 14), "adx_14": talib.ADX(h, lo, cl, 14),
        "plus_di_14": talib.PLUS_DI(h, lo, cl, 14), "minus_di_14": talib.MINUS_DI(h, lo, cl, 14),
    }  # fmt: skip
    for name, ref in refs.items():
        ours = c[name].fill_null(math.nan).to_numpy()
        assert np.array_equal(np.isnan(ours), np.isnan(ref)), name
        np.testing.assert_allclose(ours[~np.isnan(ref)], ref[~np.isnan(ref)], atol=1e-9)


def test_reset_equals_fresh(dol_day: dict[str, Arr]) -> None:
    d = dol_day
    n = 4000
    cols = [d[k][:n].tolist() for k in ("ts", "price", "qty", "side")]
    used = FeatureSet()
    for t in zip(*cols, strict=True):
        used.update_trade(*t)
    used.reset()
    fresh = FeatureSet()
    for t in zip(*(c[:1500] for c in cols), strict=True):
        assert used.update_trade(*t) == fresh.update_trade(*t)
        assert used.snapshot() == fresh.snapshot()
    assert used.candles().equals(fresh.candles())


def test_parameters_and_errors() -> None:
    fs = FeatureSet((2, 10), ema_periods=(5, 8), rsi_period=7, atr_period=10, adx_period=6)
    assert fs.names[:4] == ("cum_delta", "ofi_2m", "ofi_2m_velocity", "ofi_2m_acceleration")
    assert fs.names[-7:] == (
        "ema_5", "ema_8", "rsi_7", "atr_10", "adx_6", "plus_di_6", "minus_di_6",
    )  # fmt: skip
    ts = np.array([2, 1], dtype=np.int64) * 10**9
    with pytest.raises(DataError):
        compute_batch(ts, np.ones(2), np.ones(2), np.ones(2, np.int8))
    fs.update_trade(int(ts[0]), 1.0, 1.0, 1)
    with pytest.raises(DataError):
        fs.update_trade(int(ts[1]), 1.0, 1.0, 1)
    with pytest.raises(ValueError, match="same length"):
        compute_batch(ts, np.ones(1), np.ones(2), np.ones(2, np.int8))
    with pytest.raises(ValueError, match="period"):
        FeatureSet(rsi_period=1)
    assert isinstance(
        compute_batch(ts[:0], np.ones(0), np.ones(0), np.ones(0, np.int8)), pl.DataFrame
    )
