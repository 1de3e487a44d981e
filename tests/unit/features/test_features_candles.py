"""One-minute candles: hand cases, stream == batch on the real day, reset."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest

from quantumtrader.core import DataError
from quantumtrader.features import CANDLE_COLUMNS, Candle, CandleBuilder, candles_batch

M = 60_000_000_000
S = 1_000_000_000
T0 = 1_541_415_600 * S  # 2018-11-05 11:00 UTC, a minute boundary


def _trades() -> list[tuple[int, float, float, int]]:
    return [
        (T0 + 5 * S, 10.0, 5.0, 1),
        (T0 + 30 * S, 12.0, 10.0, -1),
        (T0 + 59 * S, 9.0, 1.0, 0),
        (T0 + M, 11.0, 2.0, -1),  # opens minute 1, closes minute 0
        (T0 + 3 * M + 1, 11.5, 3.0, 1),  # minute 2 empty, skipped
    ]


def test_hand_case_bars_and_closing() -> None:
    b = CandleBuilder()
    closed = [b.update(*t) for t in _trades()]
    assert closed == [False, False, False, True, True]
    assert b.last == Candle(
        ts_start=T0 + M, open=11.0, high=11.0, low=11.0, close=11.0, volume=2.0,
        buy_volume=0.0, sell_volume=2.0, trades=1, buy_trades=0, sell_trades=1,
    )  # fmt: skip
    assert b.flush() is True
    assert b.last is not None
    assert b.last.ts_start == T0 + 3 * M
    assert b.flush() is False


def test_hand_case_batch() -> None:
    ts, price, qty, side = (np.array(c) for c in zip(*_trades(), strict=True))
    df = candles_batch(ts.astype(np.int64), price, qty, side.astype(np.int8))
    assert df.columns == list(CANDLE_COLUMNS)
    assert df["ts_start"].to_list() == [T0, T0 + M, T0 + 3 * M]
    first = df.row(0, named=True)
    assert first == {
        "ts_start": T0, "open": 10.0, "high": 12.0, "low": 9.0, "close": 9.0, "volume": 16.0,
        "buy_volume": 5.0, "sell_volume": 10.0, "trades": 3, "buy_trades": 1, "sell_trades": 1,
    }  # fmt: skip


def test_out_of_order_raises() -> None:
    b = CandleBuilder()
    b.update(T0 + M, 1.0, 1.0, 1)
    with pytest.raises(DataError):
        b.update(T0, 1.0, 1.0, 1)
    with pytest.raises(DataError):
        candles_batch(
            np.array([T0 + M, T0], dtype=np.int64), np.ones(2), np.ones(2), np.ones(2, np.int8)
        )
    with pytest.raises(ValueError, match="same length"):
        candles_batch(np.array([T0], dtype=np.int64), np.ones(2), np.ones(2), np.ones(2, np.int8))


def test_stream_equals_batch_real_day(
    dol_day: dict[str, np.ndarray[Any, Any]], dol_candles: pl.DataFrame
) -> None:
    rows = dol_candles.rows()
    assert len(rows) == 554  # 09:00 .. 18:14 local with no empty minute
    assert dol_candles["volume"].sum() == 289_620
    assert dol_candles["trades"].sum() == 31_259
    b = CandleBuilder()
    m = 0
    ts, price = dol_day["ts"].tolist(), dol_day["price"].tolist()
    qty, side = dol_day["qty"].tolist(), dol_day["side"].tolist()
    for i in range(len(ts)):
        if b.update(ts[i], price[i], qty[i], side[i]):
            assert b.last is not None
            assert tuple(getattr(b.last, c) for c in CANDLE_COLUMNS) == rows[m]
            m += 1
    assert b.flush()
    assert b.last is not None
    assert tuple(getattr(b.last, c) for c in CANDLE_COLUMNS) == rows[m]
    assert m + 1 == len(rows)


def test_reset_equals_fresh() -> None:
    b = CandleBuilder()
    for t in _trades():
        b.update(*t)
    b.reset()
    fresh = CandleBuilder()
    assert b.last is None
    for t in _trades()[:4]:
        assert b.update(*t) == fresh.update(*t)
    assert b.last == fresh.last
