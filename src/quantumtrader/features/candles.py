"""One-minute candles built from trades, stream and batch.

A bar covers one UTC-aligned minute: a trade at ``ts`` (ns) belongs to bucket
``floor(ts / 60e9)``. Minutes without trades produce no bar. The bar of a minute closes
when the first trade of a later minute arrives (or on :meth:`CandleBuilder.flush`), so
a stream never publishes a bar that could still change.

State layout (flat arrays, shared by the stream class and the batch loop):

* ``sf`` float64[7]: open, high, low, close, volume, buy_volume, sell_volume of the
  open bar;
* ``si`` int64[5]: has_open, bucket, trades, buy_trades, sell_trades of the open bar;
* ``bf`` float64[7] / ``bi`` int64[4]: the last closed bar (same floats; ts_start,
  trades, buy_trades, sell_trades).
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import polars as pl
from numba import njit

from quantumtrader.core import DataError

__all__ = ["CANDLE_COLUMNS", "Candle", "CandleBuilder", "candles_batch"]

NS_PER_MINUTE = 60_000_000_000
N_CF = 7  # float fields of a bar
N_CI = 5  # int fields of the open-bar state
N_BI = 4  # int fields of a closed bar

CANDLE_COLUMNS: tuple[str, ...] = (
    "ts_start",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "buy_volume",
    "sell_volume",
    "trades",
    "buy_trades",
    "sell_trades",
)

Array = np.ndarray[Any, Any]


class Candle(msgspec.Struct, frozen=True, kw_only=True):
    """A closed one-minute bar.

    ``ts_start`` is the start of the minute (ns since the epoch, UTC); prices are in
    points; volumes are contracts (aggressor-classified volumes exclude trades with no
    aggressor); counts are trades.
    """

    ts_start: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    buy_volume: float
    sell_volume: float
    trades: int
    buy_trades: int
    sell_trades: int


@njit(cache=True)
def _close_bar(sf: Array, si: Array, bf: Array, bi: Array) -> None:  # pragma: no cover
    for j in range(N_CF):
        bf[j] = sf[j]
    bi[0] = si[1] * NS_PER_MINUTE
    bi[1] = si[2]
    bi[2] = si[3]
    bi[3] = si[4]


@njit(cache=True)
def candle_step(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    ts: int, price: float, qty: float, side: int, sf: Array, si: Array, bf: Array, bi: Array
) -> int:  # pragma: no cover - compiled
    """Feed one trade. Return 1 if a bar closed (written to ``bf``/``bi``), 0 if not,
    -1 if the trade belongs to an earlier minute than the open bar (state untouched)."""
    bucket = ts // NS_PER_MINUTE
    closed = 0
    if si[0] == 1:
        if bucket < si[1]:
            return -1
        if bucket > si[1]:
            _close_bar(sf, si, bf, bi)
            closed = 1
            si[0] = 0
    if si[0] == 0:
        si[0] = 1
        si[1] = bucket
        sf[0] = price
        sf[1] = price
        sf[2] = price
        for j in range(4, N_CF):
            sf[j] = 0.0
        for j in range(2, N_CI):
            si[j] = 0
    sf[1] = max(sf[1], price)
    sf[2] = min(sf[2], price)
    sf[3] = price
    sf[4] += qty
    si[2] += 1
    if side > 0:
        sf[5] += qty
        si[3] += 1
    elif side < 0:
        sf[6] += qty
        si[4] += 1
    return closed


@njit(cache=True)
def candle_flush(sf: Array, si: Array, bf: Array, bi: Array) -> int:  # pragma: no cover
    """Close the open bar if there is one; return 1 if a bar was closed."""
    if si[0] == 0:
        return 0
    _close_bar(sf, si, bf, bi)
    si[0] = 0
    return 1


@njit(cache=True)
def _candles_loop(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    ts: Array, price: Array, qty: Array, side: Array, out_f: Array, out_i: Array
) -> int:  # pragma: no cover - compiled
    sf = np.zeros(N_CF)
    si = np.zeros(N_CI, dtype=np.int64)
    m = 0
    for i in range(ts.shape[0]):
        r = candle_step(ts[i], price[i], qty[i], side[i], sf, si, out_f[m], out_i[m])
        if r < 0:
            return -1 - i
        m += r
    m += candle_flush(sf, si, out_f[m], out_i[m])
    return m


def _check_columns(ts: Array, price: Array, qty: Array, side: Array) -> None:
    n = ts.shape[0]
    if price.shape[0] != n or qty.shape[0] != n or side.shape[0] != n:
        raise ValueError("ts, price, qty and side must have the same length")


def candles_frame(bf: Array, bi: Array) -> pl.DataFrame:
    """Polars frame with :data:`CANDLE_COLUMNS` from closed-bar arrays ``(m, 7)``/``(m, 4)``."""
    cols: dict[str, Any] = {"ts_start": bi[:, 0].astype(np.int64)}
    for j, name in enumerate(CANDLE_COLUMNS[1:8]):
        cols[name] = bf[:, j].astype(np.float64)
    for j, name in enumerate(CANDLE_COLUMNS[8:]):
        cols[name] = bi[:, j + 1].astype(np.int64)
    return pl.DataFrame(cols)


def candles_batch(ts: Array, price: Array, qty: Array, side: Array) -> pl.DataFrame:
    """One-minute candles of a day of trades (the batch twin of :class:`CandleBuilder`).

    Parameters
    ----------
    ts, price, qty, side
        Shape ``(n,)``: int64 ns UTC (non-decreasing), float64 points, float64
        contracts, int8 aggressor (+1 buy, -1 sell, 0 none).

    Returns
    -------
    polars.DataFrame
        One row per non-empty minute with :data:`CANDLE_COLUMNS`; the last minute is
        flushed (closed) at the end.

    Raises
    ------
    ValueError
        If the columns differ in length.
    DataError
        If a trade falls in an earlier minute than its predecessor.
    """
    _check_columns(ts, price, qty, side)
    n = ts.shape[0]
    out_f = np.zeros((n + 1, N_CF))
    out_i = np.zeros((n + 1, N_BI), dtype=np.int64)
    m = int(
        _candles_loop(
            np.ascontiguousarray(ts, dtype=np.int64),
            np.ascontiguousarray(price, dtype=np.float64),
            np.ascontiguousarray(qty, dtype=np.float64),
            np.ascontiguousarray(side, dtype=np.int64),
            out_f,
            out_i,
        )
    )
    if m < 0:
        raise DataError(f"trade {-1 - m} is earlier than the open bar (trades out of order)")
    return candles_frame(out_f[:m], out_i[:m])


class CandleBuilder:
    """Incremental one-minute candles (O(1) per trade).

    Examples
    --------
    >>> b = CandleBuilder()
    >>> b.update(0, 10.0, 5.0, 1)
    False
    >>> b.update(60_000_000_000, 11.0, 5.0, -1)
    True
    >>> b.last.close, b.last.buy_volume
    (10.0, 5.0)
    """

    __slots__ = ("_bf", "_bi", "_last", "_sf", "_si")

    def __init__(self) -> None:
        self._sf = np.zeros(N_CF)
        self._si = np.zeros(N_CI, dtype=np.int64)
        self._bf = np.zeros(N_CF)
        self._bi = np.zeros(N_BI, dtype=np.int64)
        self._last: Candle | None = None

    def update(self, ts: int, price: float, qty: float, side: int) -> bool:
        """Feed one trade; return True when it closed the previous bar (see :attr:`last`).

        Raises
        ------
        DataError
            If the trade belongs to a minute earlier than the open bar.
        """
        r = int(candle_step(ts, price, qty, side, self._sf, self._si, self._bf, self._bi))
        if r < 0:
            raise DataError(f"trade at {ts} ns is earlier than the open bar")
        if r:
            self._last = self._make()
        return r == 1

    def flush(self) -> bool:
        """Close the open bar (end of data); return True if there was one."""
        r = int(candle_flush(self._sf, self._si, self._bf, self._bi))
        if r:
            self._last = self._make()
        return r == 1

    def _make(self) -> Candle:
        f = self._bf.tolist()
        i = self._bi.tolist()
        return Candle(
            ts_start=i[0],
            open=f[0],
            high=f[1],
            low=f[2],
            close=f[3],
            volume=f[4],
            buy_volume=f[5],
            sell_volume=f[6],
            trades=i[1],
            buy_trades=i[2],
            sell_trades=i[3],
        )

    @property
    def last(self) -> Candle | None:
        """The last closed bar, or None before the first bar closes."""
        return self._last

    def reset(self) -> None:
        """Forget everything (as freshly constructed)."""
        self._sf[:] = 0.0
        self._si[:] = 0
        self._bf[:] = 0.0
        self._bi[:] = 0
        self._last = None
