"""FeatureSet.update_trades (one compiled loop per chunk) equals update_trade per trade."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from quantumtrader.core import DataError
from quantumtrader.features import FeatureSet

Arr = np.ndarray[Any, Any]


def test_chunks_equal_single_trades_real_day(dol_day: dict[str, Arr]) -> None:
    ts, price, qty, side = dol_day["ts"], dol_day["price"], dol_day["qty"], dol_day["side"]
    one, many = FeatureSet(), FeatureSet()
    rng = np.random.default_rng(7)
    cuts = np.sort(rng.choice(np.arange(1, len(ts)), size=300, replace=False))
    bounds = [0, *cuts.tolist(), len(ts)]
    closed_one = closed_many = 0
    for a, b in itertools.pairwise(bounds):
        for i in range(a, b):
            closed_one += one.update_trade(int(ts[i]), float(price[i]), float(qty[i]), int(side[i]))
        closed_many += many.update_trades(ts[a:b], price[a:b], qty[a:b], side[a:b])
        assert many.snapshot() == one.snapshot()
    assert closed_many == closed_one > 500
    assert many.candle_rows() == one.candle_rows()
    one.flush()
    many.flush()
    assert many.candles().equals(one.candles())


def test_chunk_grows_the_ring_and_rejects_time_going_back() -> None:
    fs, ref = FeatureSet(), FeatureSet()
    n = 20_000  # more trades inside the 60-minute window than the initial ring holds
    ts = np.arange(n, dtype=np.int64) * 1_000_000 + 1_700_000_000_000_000_000
    price = 100.0 + (np.arange(n) % 7) * 0.5
    qty = np.ones(n)
    side = np.where(np.arange(n) % 3 == 0, -1, 1).astype(np.int8)
    fs.update_trades(ts, price, qty, side)
    for i in range(n):
        ref.update_trade(int(ts[i]), float(price[i]), 1.0, int(side[i]))
    assert fs.snapshot() == ref.snapshot()
    with pytest.raises(DataError, match="earlier"):
        fs.update_trades(ts[:2] - 10**12, price[:2], qty[:2], side[:2])
