"""The level-2 order book: a Python façade over the dense ladder kernels of :mod:`.ladder`.

:class:`OrderBook` keeps one instrument's aggregated book on integer ticks and applies
:class:`~quantumtrader.model.book.BookDelta` events one by one or a columnar batch per
numba call. The window recentres or doubles by itself up to ``max_capacity_ticks``;
levels farther out (stale crypto orders at a tenth or ten times the price) go to a small
sparse map, so any price works. Locked or crossed books are kept as the feed reports
them (:meth:`OrderBook.is_crossed`); the book never uncrosses itself.

Example
-------
>>> from quantumtrader.model.book import BookSide
>>> book = OrderBook("WDOU25", 0.5)
>>> book.set_level(BookSide.BID, 5471.0, 404)
>>> book.set_level(BookSide.ASK, 5471.5, 86)
>>> book.mid(), book.spread(), book.walk(BookSide.ASK, 100)
(5471.25, 0.5, [(5471.5, 86.0)])
"""

from __future__ import annotations

import logging
import math
from typing import Any, NamedTuple

import numpy as np

from quantumtrader.book import ladder as lad
from quantumtrader.book.far_levels import FarLevels
from quantumtrader.book.frames import apply_frames, write_frame
from quantumtrader.core import ConfigError, DataError
from quantumtrader.model.book import F_LAST, BookAction, BookDelta, BookSide, BookSnapshot

__all__ = ["LadderArrays", "OrderBook"]

log = logging.getLogger(__name__)

Array = np.ndarray[Any, Any]
_EMPTY_I64 = np.zeros(0, dtype=np.int64)
# Kernels get plain ints: an IntEnum argument costs numba ~50 us of typing per call.
_SET, _CLEAR = int(BookAction.SET), int(BookAction.CLEAR)


class LadderArrays(NamedTuple):
    """The book's window state for numba code; layout in :mod:`quantumtrader.book.ladder`.

    ``levels`` is float64 ``(2, capacity)`` (row 0 bids, row 1 asks, column ``i`` = tick
    ``meta[M_BASE] + i``) and ``meta`` int64 ``(META_LEN,)``. Far levels (outside the
    window; ``meta[M_N_FAR_BID]``/``meta[M_N_FAR_ASK]`` count them) are not in these
    arrays. The arrays are replaced (not resized) when the window moves or grows, so
    fetch them again from :attr:`OrderBook.arrays` after any update made through the book.
    """

    levels: Array
    meta: Array

    @property
    def bid(self) -> Array:
        """Bid sizes per tick of the window, float64 ``(capacity,)`` (a view)."""
        return self.levels[lad.BID_ROW]  # type: ignore[no-any-return]

    @property
    def ask(self) -> Array:
        """Ask sizes per tick of the window, float64 ``(capacity,)`` (a view)."""
        return self.levels[lad.ASK_ROW]  # type: ignore[no-any-return]


def _decimals(tick_size: float) -> int:
    """Fewest decimals that represent every multiple of ``tick_size`` (at most 12)."""
    for d in range(13):
        if abs(round(tick_size, d) - tick_size) <= 1e-12 * max(1.0, tick_size):
            return d
    return 12


def _row(side: int) -> int:
    return lad.BID_ROW if side == BookSide.BID else lad.ASK_ROW


class OrderBook:
    """Aggregated (price-level) book of one instrument on integer ticks.

    Parameters
    ----------
    symbol
        Instrument; deltas and snapshots of another symbol are refused.
    tick_size
        Price increment, points (0.01 Binance BTCUSDT spot and NASDAQ, 0.5 B3 WDO).
    capacity_ticks
        Initial window width in ticks; it moves and doubles as needed.
    max_capacity_ticks
        Widest window (default 2**20 ticks: 16 MiB of levels). A level that would need
        a wider one is kept as a far level in a sparse map instead.

    Raises
    ------
    ConfigError
        If ``tick_size`` is not a positive finite number or a capacity is below 2.

    Notes
    -----
    An empty side has best tick :data:`~quantumtrader.book.ladder.NO_BID` (smallest int64)
    or :data:`~quantumtrader.book.ladder.NO_ASK` (largest int64), price nan, size 0.0.
    """

    def __init__(
        self,
        symbol: str,
        tick_size: float,
        *,
        capacity_ticks: int = 4096,
        max_capacity_ticks: int = 1 << 20,
    ) -> None:
        if not (math.isfinite(tick_size) and tick_size > 0.0):
            raise ConfigError(f"tick_size must be a positive number, got {tick_size!r}")
        if capacity_ticks < 2 or max_capacity_ticks < capacity_ticks:
            raise ConfigError(
                f"need 2 <= capacity_ticks <= max_capacity_ticks, got "
                f"{capacity_ticks} and {max_capacity_ticks}"
            )
        self.symbol = symbol
        self.tick_size = float(tick_size)
        self.max_capacity_ticks = int(max_capacity_ticks)
        self._decimals = _decimals(self.tick_size)
        self._levels, self._meta = lad.new_ladder(int(capacity_ticks), -capacity_ticks // 2)
        self._far = FarLevels()

    # ----------------------------------------------------------------- conversions
    def to_tick(self, price: float) -> int:
        """Nearest tick of ``price`` (points): ``round(price / tick_size)``, ties to even."""
        return round(price / self.tick_size)

    def to_price(self, tick: int) -> float:
        """Price (points) of ``tick``, rounded to the tick size's decimals."""
        return round(tick * self.tick_size, self._decimals)

    def _prices(self, ticks: Array) -> Array:
        return np.round(ticks * self.tick_size, self._decimals)

    def _checked_tick(self, price: float) -> int:
        q = price / self.tick_size
        if not math.isfinite(q) or abs(q) > lad.MAX_ABS_TICK:
            raise DataError(f"{self.symbol}: price {price!r} is not usable", field="price")
        t = round(q)
        if abs(q - t) > lad.GRID_TOL:
            raise DataError(
                f"{self.symbol}: price {price!r} is off the {self.tick_size} tick grid",
                field="price",
            )
        return t

    # ----------------------------------------------------------------- window and far levels
    def _host(self, side: int, action: int, tick: int, size: float) -> bool:
        """Act on a row the kernel returned NEED_GROW for; True if the row is consumed."""
        if action == BookAction.CLEAR:
            for row, s in ((lad.BID_ROW, BookSide.BID), (lad.ASK_ROW, BookSide.ASK)):
                if side in (BookSide.BOTH, s):
                    self._far.clear(self._meta, row)
            return False  # the kernel now clears the window
        row = _row(side)
        threshold = 0.0 if action == BookAction.SET else lad.SIZE_EPS
        if tick not in self._far.levels[row] and action != BookAction.DELETE and size > threshold:
            plan = lad.plan_window(self._levels, self._meta, tick, self.max_capacity_ticks)
            if plan is not None:
                self._move_window(*plan)
                return False  # the kernel now finds the tick inside the window
            log.debug("%s: level at tick %d kept outside the window", self.symbol, tick)
        self._far.apply(self._meta, row, action, tick, size)
        return True

    def _move_window(self, base: int, capacity: int) -> None:
        if capacity != self.capacity:
            log.debug("%s: book window grows to %d ticks", self.symbol, capacity)
        self._levels, self._meta = lad.move_window(self._levels, self._meta, base, capacity)
        for row, side in ((lad.BID_ROW, 1), (lad.ASK_ROW, -1)):
            for t, size in self._far.pop_inside(self._meta, row, base, base + capacity):
                lad.apply_level(self._levels, self._meta, side, _SET, t, size)

    # ----------------------------------------------------------------- updates
    def _apply_one(self, side: int, action: int, tick: int, size: float) -> None:
        for _ in range(3):
            st = lad.apply_level(self._levels, self._meta, side, action, tick, size)
            if st != lad.NEED_GROW or self._host(side, action, tick, size):
                break
        if st < 0:
            field = {lad.BAD_SIZE: "size", lad.BAD_SIDE: "side"}.get(st, "action")
            raise DataError(
                f"{self.symbol}: invalid level update side={side} action={action} size={size!r}",
                field=field,
            )

    def apply(self, delta: BookDelta) -> None:
        """Apply one delta (``CLEAR`` with side ``BOTH`` clears everything).

        Raises
        ------
        DataError
            If the delta is for another symbol, its price is off the tick grid or not
            finite, or its side/action/size is invalid; the book is unchanged.
        """
        if delta.symbol != self.symbol:
            raise DataError(
                f"delta for {delta.symbol!r} applied to the {self.symbol!r} book", field="symbol"
            )
        action = int(delta.action)
        tick = 0 if action == BookAction.CLEAR else self._checked_tick(delta.price)
        self._apply_one(int(delta.side), action, tick, float(delta.size))

    def set_level(self, side: BookSide | int, price: float, size: float) -> None:
        """Set the size of one level (``size == 0`` removes it)."""
        self._apply_one(int(side), _SET, self._checked_tick(price), float(size))

    def clear(self, side: BookSide | int = BookSide.BOTH) -> None:
        """Remove every level of ``side`` (both sides by default)."""
        self._apply_one(int(side), _CLEAR, 0, 0.0)

    def _validate_batch(
        self, side: Array, action: Array, price: Array, size: Array
    ) -> tuple[Array, Array, Array, Array]:
        n = side.shape[0]
        if side.ndim != 1 or any(a.shape != (n,) for a in (action, price, size)):
            raise ValueError("side, action, price and size must be 1-d arrays of one length")
        for name, a in (("side", side), ("action", action)):
            if a.dtype.kind not in "iu":
                raise DataError(f"{self.symbol}: {name} must be integer, got {a.dtype}", field=name)
        side, action = (np.ascontiguousarray(a, dtype=np.int64) for a in (side, action))
        price, size = (np.ascontiguousarray(a, dtype=np.float64) for a in (price, size))
        ticks = np.empty(n, dtype=np.int64)
        bad, code = lad.ticks_checked(side, action, price, size, self.tick_size, ticks)
        if bad >= 0:
            raise DataError(
                f"{self.symbol}: batch row {bad}: invalid {lad.BAD_FIELDS[code]} (side="
                f"{side[bad]}, action={action[bad]}, price={price[bad]!r}, size={size[bad]!r})",
                field=lad.BAD_FIELDS[code],
            )
        return side, action, ticks, size

    def apply_arrays(
        self,
        side: Array,
        action: Array,
        price: Array,
        size: Array,
        *,
        out_best_bid: Array | None = None,
        out_best_ask: Array | None = None,
    ) -> int:
        """Apply one batch of level updates in order (one kernel call per window move).

        Parameters
        ----------
        side, action, price, size
            Shape ``(n,)``: integer :class:`BookSide` / :class:`BookAction` codes, prices
            (points) and sizes (size units), as in :class:`BookDelta`.
        out_best_bid, out_best_ask
            Optional int64 ``(n,)`` arrays that receive the best ticks after each update
            (:data:`~quantumtrader.book.ladder.NO_BID` / ``NO_ASK`` when empty).

        Returns
        -------
        int
            Number of ``CHANGE`` updates that drove a level below zero (clamped at 0);
            :attr:`n_clamped` accumulates them.

        Raises
        ------
        DataError
            If any row is invalid (unknown side or action, non-finite or off-grid price,
            non-finite size, negative SET size); checked before anything is applied.
        """
        side_a, action_a, ticks, size_a = self._validate_batch(
            np.asarray(side), np.asarray(action), np.asarray(price), np.asarray(size)
        )
        n = side_a.shape[0]
        record = out_best_bid is not None or out_best_ask is not None
        ob = _EMPTY_I64 if out_best_bid is None else out_best_bid
        oa = _EMPTY_I64 if out_best_ask is None else out_best_ask
        if record and not (
            ob.shape == oa.shape == (n,) and ob.dtype == oa.dtype == np.dtype(np.int64)
        ):
            raise ValueError(f"out_best_bid and out_best_ask must both be int64 of shape ({n},)")
        clamped0 = self.n_clamped
        i = 0
        while i < n:
            rows = (side_a[i:], action_a[i:], ticks[i:], size_a[i:])
            outs = (ob[i:], oa[i:]) if record else (ob, oa)
            k, st = lad.apply_batch(self._levels, self._meta, *rows, *outs)
            if record and k and self._far:  # far levels are fixed during one kernel call
                np.maximum(ob[i : i + k], self._far.best[0], out=ob[i : i + k])
                np.minimum(oa[i : i + k], self._far.best[1], out=oa[i : i + k])
            i += k
            if st == lad.OK:
                break
            if st != lad.NEED_GROW:  # pragma: no cover - rows were validated above
                raise DataError(f"{self.symbol}: batch row {i}: kernel status {st}")
            j = i
            if self._host(int(side_a[j]), int(action_a[j]), int(ticks[j]), float(size_a[j])):
                i += 1
                if record:
                    ob[j], oa[j] = self.best_bid_tick(), self.best_ask_tick()
        return self.n_clamped - clamped0

    def apply_frames(  # noqa: PLR0917 - the columns of a delta table
        self, side: Array, action: Array, price: Array, size: Array, flags: Array, k: int = 10
    ) -> tuple[Array, Array]:
        """Apply a batch of updates and record the top ``k`` levels after each message.

        Parameters
        ----------
        side, action, price, size, flags
            Shape ``(n,)`` columns of :class:`BookDelta` rows in application order.
        k
            Levels per side in each frame.

        Returns
        -------
        out_row, frames
            int64 ``(n,)``: the frame index written after each update flagged ``F_LAST``,
            -1 for the others; float64 ``(m, 4, k)``: bid prices, bid sizes, ask prices,
            ask sizes (points and size units, best first, NaN / 0 past the last level).

        Raises
        ------
        DataError
            As :meth:`apply_arrays`.

        Notes
        -----
        Frames list the levels inside the book's price window; far levels (kept outside
        it, thousands of ticks from the touch) are not in frames.
        """
        side_a, action_a, ticks, size_a = self._validate_batch(
            np.asarray(side), np.asarray(action), np.asarray(price), np.asarray(size)
        )
        flags_a = np.ascontiguousarray(flags, dtype=np.int64)
        n = side_a.shape[0]
        m_max = int(np.count_nonzero(flags_a & F_LAST))
        out = np.empty((m_max, 4, k))
        out_row = np.full(n, -1, dtype=np.int64)
        tk = np.zeros(k, dtype=np.int64)
        i = m = 0
        while i < n:
            j, m, st = apply_frames(
                self._levels, self._meta, side_a[i:], action_a[i:], ticks[i:], size_a[i:],
                flags_a[i:], out, out_row[i:], m,
            )  # fmt: skip
            i += j
            if st == lad.OK:
                break
            if st != lad.NEED_GROW:  # pragma: no cover - rows were validated above
                raise DataError(f"{self.symbol}: batch row {i}: kernel status {st}")
            if self._host(int(side_a[i]), int(action_a[i]), int(ticks[i]), float(size_a[i])):
                if flags_a[i] & F_LAST:
                    write_frame(self._levels, self._meta, out[m], tk)
                    out_row[i] = m
                    m += 1
                i += 1
        px = out[:m, 0::2]
        out[:m, 0::2] = np.round(px * self.tick_size, self._decimals)
        return out_row, out[:m]

    # ----------------------------------------------------------------- queries
    @property
    def arrays(self) -> LadderArrays:
        """Window state ``(levels, meta)`` for numba code (layout: :mod:`.ladder`)."""
        return LadderArrays(self._levels, self._meta)

    @property
    def n_clamped(self) -> int:
        """Total ``CHANGE`` updates clamped at size 0 since the book was created."""
        return int(self._meta[lad.M_N_CLAMPED])

    @property
    def capacity(self) -> int:
        """Current window width, ticks."""
        return int(self._levels.shape[1])

    def best_bid_tick(self) -> int:
        """Best bid tick, or :data:`~quantumtrader.book.ladder.NO_BID` when no bid rests."""
        return max(int(self._meta[lad.M_BEST_BID]), self._far.best[0])

    def best_ask_tick(self) -> int:
        """Best ask tick, or :data:`~quantumtrader.book.ladder.NO_ASK` when no ask rests."""
        return min(int(self._meta[lad.M_BEST_ASK]), self._far.best[1])

    def best_bid(self) -> float:
        """Best bid price, points; ``nan`` when the bid side is empty."""
        t = self.best_bid_tick()
        return math.nan if t == lad.NO_BID else self.to_price(t)

    def best_ask(self) -> float:
        """Best ask price, points; ``nan`` when the ask side is empty."""
        t = self.best_ask_tick()
        return math.nan if t == lad.NO_ASK else self.to_price(t)

    def best_bid_size(self) -> float:
        """Size at the best bid (0.0 when empty)."""
        return self.size_at_tick(BookSide.BID, self.best_bid_tick())

    def best_ask_size(self) -> float:
        """Size at the best ask (0.0 when empty)."""
        return self.size_at_tick(BookSide.ASK, self.best_ask_tick())

    def mid(self) -> float:
        """``(best bid + best ask) / 2``, points; ``nan`` unless both sides rest."""
        return (self.best_bid() + self.best_ask()) / 2.0

    def spread(self) -> float:
        """``best ask - best bid``, points (0 locked, < 0 crossed); ``nan`` if a side is empty."""
        b, a = self.best_bid_tick(), self.best_ask_tick()
        if b == lad.NO_BID or a == lad.NO_ASK:
            return math.nan
        return self.to_price(a - b)

    def is_crossed(self) -> bool:
        """True when both sides rest and best bid >= best ask (locked or crossed)."""
        return self.best_bid_tick() >= self.best_ask_tick()

    def size_at_tick(self, side: BookSide | int, tick: int) -> float:
        """Size resting at ``tick`` on ``side`` (0.0 when empty)."""
        s = int(side)
        if s not in (BookSide.BID, BookSide.ASK) or tick in (lad.NO_BID, lad.NO_ASK):
            return 0.0
        v = float(lad.size_at_tick(self._levels, self._meta, s, int(tick)))
        return v if v > 0.0 else self._far.levels[_row(s)].get(int(tick), 0.0)

    def size_at(self, side: BookSide | int, price: float) -> float:
        """Size resting at ``price`` (points, rounded to the nearest tick) on ``side``."""
        return self.size_at_tick(side, self.to_tick(price))

    def n_levels(self, side: BookSide | int = BookSide.BOTH) -> int:
        """Number of non-empty levels of ``side`` (both sides summed for ``BOTH``)."""
        s = int(side)
        nb = int(self._meta[lad.M_N_BID] + self._meta[lad.M_N_FAR_BID])
        na = int(self._meta[lad.M_N_ASK] + self._meta[lad.M_N_FAR_ASK])
        return nb if s == BookSide.BID else na if s == BookSide.ASK else nb + na

    def _side_levels(self, side: int, n: int | None) -> tuple[Array, Array]:
        """Ticks and sizes of the first ``n`` (all if None) levels of ``side``, best first."""
        row = _row(side)
        n_win = int(self._meta[lad.M_N_BID if row == lad.BID_ROW else lad.M_N_ASK])
        k = n_win if n is None else max(0, min(n, n_win))
        ticks = np.zeros(k, dtype=np.int64)
        sizes = np.zeros(k)
        lad.depth_side(self._levels, self._meta, int(side), ticks, sizes)
        return self._far.merge(row, ticks, sizes, n)

    def depth(self, n: int = 10) -> tuple[Array, Array, Array, Array]:
        """The first ``n`` non-empty levels per side, best first.

        Returns
        -------
        bid_px, bid_sz, ask_px, ask_sz
            float64 arrays of shape ``(n,)``: prices (points) padded with ``nan`` and
            sizes padded with ``0.0`` past the last resting level.

        Raises
        ------
        ValueError
            If ``n < 0``.
        """
        if n < 0:
            raise ValueError(f"depth needs n >= 0, got {n}")
        out: list[Array] = []
        for side in (BookSide.BID, BookSide.ASK):
            ticks, sizes = self._side_levels(side, n)
            px = np.full(n, np.nan)
            sz = np.zeros(n)
            px[: ticks.shape[0]] = self._prices(ticks)
            sz[: sizes.shape[0]] = sizes
            out += [px, sz]
        return out[0], out[1], out[2], out[3]

    def walk(self, side: BookSide | int, qty: float) -> list[tuple[float, float]]:
        """Levels that taking ``qty`` from the resting ``side`` would consume, book unchanged.

        Returns ``[(price, qty_taken), ...]`` best level first, summing to ``min(qty,
        resting size)``; empty for ``qty <= 0``. ``side`` is the side whose liquidity is
        taken (``ASK`` for a buy).

        Raises
        ------
        ValueError
            If ``side`` is not BID or ASK.
        """
        s = int(side)
        if s not in (BookSide.BID, BookSide.ASK):
            raise ValueError(f"walk needs side BID or ASK, got {side!r}")
        if self._far.levels[_row(s)]:
            ticks, sizes = self._side_levels(s, None)
            cum = np.cumsum(sizes)
            k = int(np.searchsorted(cum, qty)) + 1 if qty > 0.0 else 0
            taken = np.minimum(sizes[:k], qty - (cum[:k] - sizes[:k]))
        else:
            n = self.n_levels(s)
            ticks, taken = np.zeros(n, dtype=np.int64), np.zeros(n)
            k = lad.walk_side(self._levels, self._meta, s, float(qty), ticks, taken)
        return list(zip(self._prices(ticks[:k]).tolist(), taken[:k].tolist(), strict=True))

    # ----------------------------------------------------------------- snapshots
    def snapshot(
        self, ts_event: int, ts_init: int, seq: int, n_levels: int | None = None
    ) -> BookSnapshot:
        """The book as a :class:`BookSnapshot` (every level, or the first ``n_levels``)."""
        out: list[tuple[float, ...]] = []
        for side in (BookSide.BID, BookSide.ASK):
            ticks, sizes = self._side_levels(side, n_levels)
            out += [tuple(self._prices(ticks).tolist()), tuple(sizes.tolist())]
        return BookSnapshot(
            ts_event=ts_event,
            ts_init=ts_init,
            symbol=self.symbol,
            seq=seq,
            bid_prices=out[0],
            bid_sizes=out[1],
            ask_prices=out[2],
            ask_sizes=out[3],
        )

    def load_snapshot(self, snap: BookSnapshot) -> None:
        """Replace the whole book with ``snap`` (``n_clamped`` is kept).

        Raises
        ------
        DataError
            If the snapshot is for another symbol, its price and size tuples differ in
            length, or a level is invalid; the book is unchanged.
        """
        if snap.symbol != self.symbol:
            raise DataError(
                f"snapshot of {snap.symbol!r} loaded into the {self.symbol!r} book",
                field="symbol",
            )
        nb, na = len(snap.bid_prices), len(snap.ask_prices)
        if len(snap.bid_sizes) != nb or len(snap.ask_sizes) != na:
            raise DataError(f"{self.symbol}: snapshot prices and sizes differ in length")
        side = np.concatenate([[0], np.ones(nb), -np.ones(na)]).astype(np.int64)
        action = np.full(1 + nb + na, int(BookAction.SET), dtype=np.int64)
        action[0] = BookAction.CLEAR
        price = np.concatenate([[0.0], snap.bid_prices, snap.ask_prices]).astype(np.float64)
        size = np.concatenate([[0.0], snap.bid_sizes, snap.ask_sizes]).astype(np.float64)
        self.apply_arrays(side, action, price, size)

    def copy(self) -> OrderBook:
        """Independent deep copy (same symbol, tick size, window and counters)."""
        other = OrderBook.__new__(OrderBook)
        other.__dict__.update(self.__dict__)
        other._levels, other._meta = self._levels.copy(), self._meta.copy()
        other._far = self._far.copy()
        return other

    def __repr__(self) -> str:
        return (
            f"OrderBook({self.symbol!r}, bid={self.best_bid()} x {self.best_bid_size()}, "
            f"ask={self.best_ask()} x {self.best_ask_size()}, levels={self.n_levels()})"
        )
