"""Candle indicators vs TA-Lib on the real day's candles; stream == batch; reset."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest

from quantumtrader.features import (
    ADX,
    ATR,
    EMA,
    RSI,
    CandleFeature,
    MinusDI,
    PlusDI,
    atr_batch,
    dmi_batch,
    ema_batch,
    rsi_batch,
)
from quantumtrader.features.candles import Candle

Arr = np.ndarray[Any, Any]
talib = pytest.importorskip("talib")


def assert_matches_talib(ours: Arr, ref: Arr) -> None:
    """Same warm-up (NaN positions), then equal within 1e-9."""
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    ok = ~np.isnan(ref)
    assert ok.any()
    np.testing.assert_allclose(ours[ok], ref[ok], rtol=0, atol=1e-9)


def _hlc(c: pl.DataFrame) -> tuple[Arr, Arr, Arr]:
    return c["high"].to_numpy(), c["low"].to_numpy(), c["close"].to_numpy()


@pytest.mark.parametrize("period", [9, 21])
def test_ema_vs_talib(dol_candles: pl.DataFrame, period: int) -> None:
    close = dol_candles["close"].to_numpy()
    assert_matches_talib(ema_batch(close, period), talib.EMA(close, period))


def test_rsi_atr_dmi_vs_talib(dol_candles: pl.DataFrame) -> None:
    h, lo, c = _hlc(dol_candles)
    assert_matches_talib(rsi_batch(c, 14), talib.RSI(c, 14))
    assert_matches_talib(atr_batch(h, lo, c, 14), talib.ATR(h, lo, c, 14))
    dmi = dmi_batch(h, lo, c, 14)
    assert_matches_talib(dmi[:, 0], talib.PLUS_DI(h, lo, c, 14))
    assert_matches_talib(dmi[:, 1], talib.MINUS_DI(h, lo, c, 14))
    assert_matches_talib(dmi[:, 2], talib.ADX(h, lo, c, 14))


@pytest.mark.parametrize("period", [2, 5, 30])
def test_other_periods_vs_talib(dol_candles: pl.DataFrame, period: int) -> None:
    h, lo, c = _hlc(dol_candles)
    assert_matches_talib(ema_batch(c, period), talib.EMA(c, period))
    assert_matches_talib(rsi_batch(c, period), talib.RSI(c, period))
    assert_matches_talib(atr_batch(h, lo, c, period), talib.ATR(h, lo, c, period))
    assert_matches_talib(dmi_batch(h, lo, c, period)[:, 2], talib.ADX(h, lo, c, period))


def _batch_of(f: CandleFeature, h: Arr, lo: Arr, c: Arr) -> Arr:
    p = int(f.name.rsplit("_", 1)[1])
    if isinstance(f, EMA):
        return ema_batch(c, p)
    if isinstance(f, RSI):
        return rsi_batch(c, p)
    if isinstance(f, ATR):
        return atr_batch(h, lo, c, p)
    col = 0 if isinstance(f, PlusDI) else 1 if isinstance(f, MinusDI) else 2
    return dmi_batch(h, lo, c, p)[:, col]


FACTORIES: list[Callable[[], CandleFeature]] = [
    lambda: EMA(9), lambda: EMA(21), lambda: RSI(14), lambda: ATR(14),
    lambda: ADX(14), lambda: PlusDI(14), lambda: MinusDI(14),
]  # fmt: skip


def _bars(c: pl.DataFrame) -> list[Candle]:
    return [Candle(**r) for r in c.iter_rows(named=True)]


@pytest.mark.parametrize("factory", FACTORIES)
def test_stream_equals_batch_and_reset(dol_candles: pl.DataFrame, factory: Any) -> None:
    f = factory()
    assert isinstance(f, CandleFeature)
    h, lo, c = _hlc(dol_candles)
    batch = _batch_of(f, h, lo, c)
    bars = _bars(dol_candles)
    stream = []
    for b in bars:
        f.update_bar(b)
        v = f.get()
        assert f.ready == (v is not None)
        stream.append(math.nan if v is None else v)
    assert np.array_equal(np.asarray(stream), batch, equal_nan=True)
    f.reset()
    fresh = factory()
    for b in bars[:60]:
        f.update_bar(b)
        fresh.update_bar(b)
        assert f.get() == fresh.get()


def test_names_and_validation() -> None:
    assert [fac().name for fac in FACTORIES] == [
        "ema_9", "ema_21", "rsi_14", "atr_14", "adx_14", "plus_di_14", "minus_di_14",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="period"):
        EMA(1)
    with pytest.raises(ValueError, match="same length"):
        atr_batch(np.ones(3), np.ones(2), np.ones(3), 14)


def test_flat_market_zero_guards() -> None:
    """Constant prices: RSI and DI take TA-Lib's zero branches (0, no NaN)."""
    c = np.full(60, 100.0)
    assert_matches_talib(rsi_batch(c, 14), talib.RSI(c, 14))
    assert_matches_talib(dmi_batch(c, c, c, 14)[:, 0], talib.PLUS_DI(c, c, c, 14))
    assert_matches_talib(dmi_batch(c, c, c, 14)[:, 2], talib.ADX(c, c, c, 14))
