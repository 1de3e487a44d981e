"""Trade OFI: hand cases (window boundary), brute-force oracle, stream == batch, growth."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from quantumtrader.core import DataError
from quantumtrader.features import (
    DEFAULT_OFI_WINDOWS,
    OrderFlowImbalance,
    TradeFeature,
    TradeOFI,
    ofi_batch,
    ofi_names,
)

S = 1_000_000_000
M = 60 * S
T0 = 1_541_415_600 * S
Arr = np.ndarray[Any, Any]


def ofi_reference(ts: Arr, qty: Arr, side: Arr, w_minutes: int) -> Arr:
    """Independent oracle: prefix sums + searchsorted, grid from second boundaries."""
    ts = ts.astype(np.int64)
    buy = np.where(side > 0, qty, 0.0)
    sell = np.where(side < 0, qty, 0.0)
    cb = np.concatenate([[0.0], np.cumsum(buy)])
    cs = np.concatenate([[0.0], np.cumsum(sell)])
    lo = np.searchsorted(ts, ts - w_minutes * M, side="right")  # first trade inside
    idx = np.arange(ts.shape[0])
    b = cb[idx + 1] - cb[lo]
    s = cs[idx + 1] - cs[lo]
    tot = b + s
    val = np.where(tot > 0, (b - s) / np.where(tot > 0, tot, 1.0), 0.0)
    sec = ts // S
    prev_end = np.searchsorted(sec, sec, side="left") - 1  # last trade of the previous second
    vel = np.where(prev_end >= 0, val - val[np.maximum(prev_end, 0)], np.nan)
    acc = np.where(prev_end >= 0, vel - vel[np.maximum(prev_end, 0)], np.nan)
    return np.stack([val, vel, acc], axis=1)


def _feed(o: TradeOFI, trades: list[tuple[int, float, int]]) -> list[dict[str, float | None]]:
    res = []
    for ts, q, s in trades:
        o.update(ts, 100.0, q, s)
        res.append(o.values())
    return res


def test_hand_case_window_boundary_and_grid() -> None:
    trades = [
        (T0, 10.0, 1),
        (T0 + 30 * S, 5.0, -1),
        (T0 + 60 * S, 1.0, 1),  # the first trade is exactly 1 min old: out
        (T0 + 60 * S, 1.0, -1),  # same second
        (T0 + 90 * S, 7.0, 0),  # no aggressor: moves t only; T0+30s is now out
        (T0 + 200 * S, 3.0, 0),  # window empty: 0
    ]
    v = _feed(TradeOFI((1,)), trades)
    ofi = [r["ofi_1m"] for r in v]
    assert ofi == pytest.approx([1.0, 1 / 3, -2 / 3, -5 / 7, 0.0, 0.0])
    vel = [r["ofi_1m_velocity"] for r in v]
    assert vel[0] is None
    assert vel[1:] == pytest.approx([1 / 3 - 1, -2 / 3 - 1 / 3, -5 / 7 - 1 / 3, 0 + 5 / 7, 0.0])
    acc = [r["ofi_1m_acceleration"] for r in v]
    assert acc[:2] == [None, None]
    assert acc[2:] == pytest.approx(
        [-1 + 2 / 3, -5 / 7 - 1 / 3 + 2 / 3, 5 / 7 + 5 / 7 + 1 / 3, -5 / 7]
    )


def test_no_aggressive_volume_is_zero() -> None:
    o = OrderFlowImbalance(5)
    assert o.get() is None
    assert not o.ready
    o.update(T0, 1.0, 10.0, 0)
    assert o.get() == 0.0
    assert o.ready


def test_names_and_protocol() -> None:
    assert ofi_names(5) == ("ofi_5m", "ofi_5m_velocity", "ofi_5m_acceleration")
    f = OrderFlowImbalance(15, "acceleration")
    assert f.name == "ofi_15m_acceleration"
    assert isinstance(f, TradeFeature)
    assert list(TradeOFI().values()) == [n for w in DEFAULT_OFI_WINDOWS for n in ofi_names(w)]
    with pytest.raises(ValueError, match="output"):
        OrderFlowImbalance(5, "jerk")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        TradeOFI((0,))
    with pytest.raises(ValueError, match="at least one"):
        ofi_batch(np.zeros(1, np.int64), np.ones(1), np.ones(1, np.int8), ())


def test_out_of_order_raises() -> None:
    o = TradeOFI()
    o.update(T0 + S, 1.0, 1.0, 1)
    with pytest.raises(DataError):
        o.update(T0, 1.0, 1.0, 1)
    with pytest.raises(DataError):
        ofi_batch(np.array([T0 + S, T0], np.int64), np.ones(2), np.ones(2, np.int8))


def test_batch_matches_oracle_real_day(dol_day: dict[str, Arr]) -> None:
    ts, qty, side = dol_day["ts"], dol_day["qty"], dol_day["side"]
    got = ofi_batch(ts, qty, side)
    for j, w in enumerate(DEFAULT_OFI_WINDOWS):
        ref = ofi_reference(ts, qty, side, w)
        # Integer volumes: running sums are exact, so the values are bit-identical.
        assert np.array_equal(got[:, 3 * j : 3 * j + 3], ref, equal_nan=True), w
    assert np.nanmax(np.abs(got[:, 0::3])) <= 1.0


def test_stream_equals_batch_real_day_with_growth(dol_day: dict[str, Arr]) -> None:
    batch = ofi_batch(dol_day["ts"], dol_day["qty"], dol_day["side"])
    o = TradeOFI(capacity=1)  # forces many doublings
    single = OrderFlowImbalance(30, "velocity")
    stream = np.empty_like(batch)
    one = np.empty(batch.shape[0])
    for i, (ts, p, q, s) in enumerate(
        zip(
            dol_day["ts"].tolist(), dol_day["price"].tolist(), dol_day["qty"].tolist(),
            dol_day["side"].tolist(), strict=True,
        )
    ):  # fmt: skip
        o.update(ts, p, q, s)
        single.update(ts, p, q, s)
        stream[i] = o.raw()
        g = single.get()
        one[i] = math.nan if g is None else g
    assert o.capacity > 1
    assert np.array_equal(stream, batch, equal_nan=True)
    assert np.array_equal(one, batch[:, 3 * 3 + 1], equal_nan=True)


def test_reset_equals_fresh(dol_day: dict[str, Arr]) -> None:
    n = 3000
    trades = list(
        zip(
            dol_day["ts"][:n].tolist(),
            dol_day["qty"][:n].tolist(),
            dol_day["side"][:n].tolist(),
            strict=True,
        )
    )
    used = TradeOFI(capacity=2)
    _feed(used, trades)
    used.reset()
    assert _feed(used, trades[:500]) == _feed(TradeOFI(), trades[:500])
