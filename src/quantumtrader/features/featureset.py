"""FeatureSet: all registered features from trades, for the replay engine (stream + batch).

:class:`FeatureSet` updates cumulative delta, the OFI windows and the one-minute
candles on every trade, and the candle indicators whenever a candle closes;
:func:`compute_batch` is its batch twin, one row per trade holding exactly what
:meth:`FeatureSet.snapshot` returns after that trade. Both run the kernel of
:mod:`quantumtrader.features.fs_kernel`. ``snapshot()`` also carries the context
values ``last_price`` (points, last trade) and ``candle_close`` (points, close of the
last closed candle).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np
import polars as pl

from quantumtrader.core import DataError
from quantumtrader.features.candles import (
    N_BI,
    N_CF,
    N_CI,
    Candle,
    candles_frame,
)
from quantumtrader.features.fs_kernel import (
    CLOSED,
    N_CONTEXT,
    N_IND,
    fs_chunk,
    fs_flush,
    fs_init_state,
    fs_loop,
    fs_outputs_offset,
    fs_step,
)
from quantumtrader.features.ofi import DEFAULT_OFI_WINDOWS, NEED_GROW, ofi_grow, windows_ns
from quantumtrader.features.registry import FeatureInfo, registry
from quantumtrader.features.ta_kernels import check_period

__all__ = ["CONTEXT_COLUMNS", "FeatureBatch", "FeatureSet", "compute_batch", "compute_batch_full"]

Array = np.ndarray[Any, Any]
CONTEXT_COLUMNS: tuple[str, ...] = ("last_price", "candle_close")


class _Params:
    def __init__(
        self,
        ofi_windows: Sequence[int],
        ema_periods: tuple[int, int],
        rsi_period: int,
        atr_period: int,
        adx_period: int,
    ) -> None:
        self.W = windows_ns(ofi_windows)
        self.k = int(self.W.shape[0])
        periods = [*ema_periods, rsi_period, atr_period, adx_period]
        self.params = np.asarray([check_period(p) for p in periods], dtype=np.int64)
        self.infos = registry(
            tuple(int(w) for w in ofi_windows),
            (int(ema_periods[0]), int(ema_periods[1])),
            rsi_period,
            atr_period,
            adx_period,
        )
        self.names = tuple(i.name for i in self.infos)
        self.columns = self.names + CONTEXT_COLUMNS
        self.indicator_names = self.names[1 + 3 * self.k :]


class FeatureBatch(msgspec.Struct, frozen=True, kw_only=True):
    """Result of :func:`compute_batch_full`.

    Attributes
    ----------
    features
        One row per trade: ``ts`` then every feature and context column (null = None).
    candles
        One row per closed one-minute candle (the last one flushed), candle columns
        plus the indicator values right after that candle closed.
    """

    features: pl.DataFrame
    candles: pl.DataFrame


class FeatureSet:
    """Every registered feature, updated per trade (one numba call per trade).

    Parameters
    ----------
    ofi_windows
        OFI windows in minutes.
    ema_periods, rsi_period, atr_period, adx_period
        Candle indicator periods (in one-minute candles).
    max_candles
        How many closed candles :meth:`candles` keeps (bounded history).

    Raises
    ------
    ValueError
        If a window or period is invalid.
    """

    def __init__(
        self,
        ofi_windows: Sequence[int] = DEFAULT_OFI_WINDOWS,
        *,
        ema_periods: tuple[int, int] = (9, 21),
        rsi_period: int = 14,
        atr_period: int = 14,
        adx_period: int = 14,
        max_candles: int = 5000,
    ) -> None:
        self._p = _Params(ofi_windows, ema_periods, rsi_period, atr_period, adx_period)
        self._max_candles = max_candles
        self.reset()

    @property
    def names(self) -> tuple[str, ...]:
        """Feature names, in registry order (without the context columns)."""
        return self._p.names

    @property
    def infos(self) -> tuple[FeatureInfo, ...]:
        """Registry entries of the features of this set."""
        return self._p.infos

    def reset(self) -> None:
        """Forget everything (as freshly constructed)."""
        p = self._p
        self._fs, self._is, self._rb_ts, self._rb_buy, self._rb_sell = fs_init_state(p.k, 4096)
        self._bf = np.zeros(N_CF)
        self._bi = np.zeros(N_BI, dtype=np.int64)
        self._out = np.full(1 + 3 * p.k + N_IND + N_CONTEXT, np.nan)
        self._candles: deque[tuple[list[float], list[int], list[float]]] = deque(
            maxlen=self._max_candles
        )

    def update_trade(self, ts: int, price: float, qty: float, side: int) -> bool:
        """Feed one trade; return True when it closed a candle.

        Parameters
        ----------
        ts
            Event time, int ns UTC, non-decreasing.
        price, qty, side
            Points, contracts, aggressor (+1 buy, -1 sell, 0 none).

        Raises
        ------
        DataError
            If ``ts`` is earlier than the previous trade's.
        """
        p = self._p
        while True:
            r = fs_step(
                ts, price, qty, side, p.W, p.params, self._fs, self._is,
                self._rb_ts, self._rb_buy, self._rb_sell, self._bf, self._bi, self._out,
            )  # fmt: skip
            if r != NEED_GROW:
                break
            self._rb_ts, self._rb_buy, self._rb_sell = ofi_grow(
                self._is[N_CI:], p.k, self._rb_ts, self._rb_buy, self._rb_sell
            )
        if r < 0:
            raise DataError(f"trade at {ts} ns is earlier than the previous trade")
        if r == CLOSED:
            self._keep_candle()
            return True
        return False

    def update_trades(self, ts: Array, price: Array, qty: Array, side: Array) -> int:
        """Feed a chunk of trades in one compiled loop; same state as :meth:`update_trade` each.

        Parameters
        ----------
        ts, price, qty, side
            Shape ``(n,)``: int64 ns UTC (non-decreasing), float64 points, float64
            contracts, int8 aggressor (+1 buy, -1 sell, 0 none).

        Returns
        -------
        int
            Candles closed by the chunk.

        Raises
        ------
        DataError
            If a trade is earlier than the one before it.
        """
        p = self._p
        n = int(ts.shape[0])
        if n == 0:
            return 0
        ts = np.ascontiguousarray(ts, dtype=np.int64)
        price = np.ascontiguousarray(price, dtype=np.float64)
        qty = np.ascontiguousarray(qty, dtype=np.float64)
        side = np.ascontiguousarray(side, dtype=np.int8)
        cf = np.empty((n, N_CF))
        ci = np.empty((n, N_BI), dtype=np.int64)
        cind = np.empty((n, N_IND))
        start = 0
        closed = 0
        while True:
            start, m, r = fs_chunk(
                ts, price, qty, side, start, p.W, p.params, self._fs, self._is,
                self._rb_ts, self._rb_buy, self._rb_sell, self._bf, self._bi, self._out,
                cf, ci, cind,
            )  # fmt: skip
            for j in range(m):
                self._candles.append((cf[j].tolist(), ci[j].tolist(), cind[j].tolist()))
            closed += m
            if r == NEED_GROW:
                self._rb_ts, self._rb_buy, self._rb_sell = ofi_grow(
                    self._is[N_CI:], p.k, self._rb_ts, self._rb_buy, self._rb_sell
                )
                continue
            if r != 0:
                raise DataError(f"trade at {int(ts[start])} ns is earlier than the previous trade")
            return closed

    def _keep_candle(self) -> None:
        io = fs_outputs_offset(self._p.k)
        self._candles.append(
            (self._bf.tolist(), self._bi.tolist(), self._fs[io : io + N_IND].tolist())
        )

    def flush(self) -> bool:
        """Close the open candle at the end of data and update the indicators with it."""
        r = int(fs_flush(self._p.k, self._p.params, self._fs, self._is, self._bf, self._bi))
        if r:
            self._keep_candle()
            dst = 1 + 3 * self._p.k
            src = fs_outputs_offset(self._p.k)
            self._out[dst : dst + N_IND + N_CONTEXT] = self._fs[src : src + N_IND + N_CONTEXT]
        return r == 1

    def snapshot(self) -> dict[str, float | None]:
        """Every feature and context value by name (None = not warm yet)."""
        return {
            k: (None if math.isnan(v) else v)
            for k, v in zip(self._p.columns, self._out.tolist(), strict=True)
        }

    @property
    def last_candle(self) -> Candle | None:
        """The last closed candle, or None."""
        if not self._candles:
            return None
        f, i, _ = self._candles[-1]
        return Candle(
            ts_start=i[0], open=f[0], high=f[1], low=f[2], close=f[3], volume=f[4],
            buy_volume=f[5], sell_volume=f[6], trades=i[1], buy_trades=i[2], sell_trades=i[3],
        )  # fmt: skip

    def candle_rows(self) -> list[tuple[int, float, float, float, float, float]]:
        """Kept closed candles as ``(ts_start, open, high, low, close, volume)`` tuples."""
        return [(i[0], f[0], f[1], f[2], f[3], f[4]) for f, i, _ in self._candles]

    def candles(self) -> pl.DataFrame:
        """Kept closed candles with the indicators after each (same columns as batch)."""
        m = len(self._candles)
        bf = np.array([c[0] for c in self._candles], dtype=np.float64).reshape(m, N_CF)
        bi = np.array([c[1] for c in self._candles], dtype=np.int64).reshape(m, N_BI)
        ind = np.array([c[2] for c in self._candles], dtype=np.float64).reshape(m, N_IND)
        return _candles_with_indicators(bf, bi, ind, self._p.indicator_names)


def _candles_with_indicators(
    bf: Array, bi: Array, ind: Array, names: Sequence[str]
) -> pl.DataFrame:
    frame = candles_frame(bf, bi)
    cols = [pl.Series(n, ind[:, j], nan_to_null=True) for j, n in enumerate(names)]
    return frame.with_columns(cols)


def compute_batch_full(
    ts: Array,
    price: Array,
    qty: Array,
    side: Array,
    *,
    feature_set: FeatureSet | None = None,
) -> FeatureBatch:
    """Features after every trade and the day's candles (batch twin of :class:`FeatureSet`).

    Parameters
    ----------
    ts, price, qty, side
        Shape ``(n,)``: int64 ns UTC (non-decreasing), float64 points, float64
        contracts, int8 aggressor (+1 buy, -1 sell, 0 none).
    feature_set
        Supplies the parameters (windows, periods); default ``FeatureSet()``. Its
        state is not used or changed.

    Returns
    -------
    FeatureBatch
        Per-trade features and per-candle bars with indicators (last candle flushed).

    Raises
    ------
    ValueError
        If the arrays differ in length.
    DataError
        If ``ts`` decreases.
    """
    p = (feature_set or FeatureSet())._p
    n = ts.shape[0]
    if price.shape[0] != n or qty.shape[0] != n or side.shape[0] != n:
        raise ValueError("ts, price, qty and side must have the same length")
    fs, is_, rb_ts, rb_buy, rb_sell = fs_init_state(p.k, n + 1)
    out = np.empty((n, len(p.columns)))
    cf = np.zeros((n + 1, N_CF))
    ci = np.zeros((n + 1, N_BI), dtype=np.int64)
    cind = np.zeros((n + 1, N_IND))
    ts64 = np.ascontiguousarray(ts, dtype=np.int64)
    args = (
        ts64,
        np.ascontiguousarray(price, dtype=np.float64),
        np.ascontiguousarray(qty, dtype=np.float64),
        np.ascontiguousarray(side, dtype=np.int64),
        p.W,
        p.params,
        fs,
        is_,
        rb_ts,
        rb_buy,
        rb_sell,
        out,
        cf,
        ci,
        cind,
    )
    m = int(fs_loop(*args))
    if m < 0:
        raise DataError(f"trade {-1 - m} is earlier than its predecessor (trades out of order)")
    cols = [pl.Series("ts", ts64)]
    cols += [pl.Series(name, out[:, j], nan_to_null=True) for j, name in enumerate(p.columns)]
    candles = _candles_with_indicators(cf[:m], ci[:m], cind[:m], p.indicator_names)
    return FeatureBatch(features=pl.DataFrame(cols), candles=candles)


def compute_batch(
    ts: Array, price: Array, qty: Array, side: Array, *, feature_set: FeatureSet | None = None
) -> pl.DataFrame:
    """One row per trade with the values ``FeatureSet.snapshot()`` gives after it.

    Columns: ``ts`` (int64 ns UTC), every registered feature, ``last_price`` and
    ``candle_close``; null where the stream gives None. See :func:`compute_batch_full`
    for parameters and ``Raises``; it also returns the candles.
    """
    return compute_batch_full(ts, price, qty, side, feature_set=feature_set).features
