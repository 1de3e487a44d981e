"""The book stream of the LOBSTER reader: seed book, sync corrections, delta table.

A level-L LOBSTER file only carries the messages that touched the first L levels
(SOURCE.md quirk 3), so replaying its messages alone loses track of the book: a level
pushed beyond depth L and cancelled out of sight stays as a phantom, and a level that
enters the window from beyond depth L has a size no message described. After every
message the reader therefore compares the book the stream has built with the reference
row and emits correction deltas (flag :data:`~quantumtrader.model.book.F_SYNC`,
``order_id`` 0) right after the message's own delta.

Levels beyond the window are dropped: the stream keeps exactly the L levels per side the
reference row shows, so the book before message ``r`` (``r >= 1``) is reference row
``r - 1``, and before message 0 it is the seed. The corrections of row ``r`` are then
the difference between (previous book + message ``r``'s delta) and row ``r``, computed
by :func:`sync_corrections` in one numba pass over int ticks.

Correction classes (:data:`SYNC_CLASSES`):

``set_enter``
    ``SET`` of a reference level our book does not have (a level entering the window
    from beyond depth L, or one no message described).
``set_size``
    ``SET`` of a reference level our book has with another size (the messages disagree
    with the reference; none in the 2012-06-21 samples).
``delete_inside``
    ``DELETE`` of a level of ours the row does not show although it lies at or inside
    the row's L-th price of that side (anywhere on a side showing fewer than L levels).
``delete_cross``
    ``DELETE`` of a level of ours the row does not show that would cross the row's best
    on the other side (bid at or above the best ask, ask at or below the best bid).
``delete_beyond``
    ``DELETE`` of a level that left the window (worse than the row's L-th price); its
    true size is unknown from then on.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from numba import njit

from quantumtrader.core.errors import DataError
from quantumtrader.model.arrow import TS_TYPE
from quantumtrader.model.book import F_EXEC, F_LAST, F_SYNC, BookAction, BookSnapshot
from quantumtrader.model.book_arrow import BOOK_SCHEMA

__all__ = [
    "DUMMY_PRICE",
    "LOBSTER_PRICE_SCALE",
    "SYNC_CLASSES",
    "Messages",
    "SyncOps",
    "book_table",
    "message_sync",
    "reference_ticks",
    "seed_book",
    "sync_corrections",
]

Array = npt.NDArray[Any]
Levels = tuple[list[list[int]], list[list[int]]]

LOBSTER_PRICE_SCALE = 10_000
"""File price units per USD (5853300 = $585.33)."""
DUMMY_PRICE = 9_999_999_999
"""Absolute price LOBSTER writes in empty orderbook levels (with size 0)."""

SYNC_CLASSES = ("set_enter", "set_size", "delete_inside", "delete_cross", "delete_beyond")
"""Correction classes, in the order of :attr:`SyncOps.cls` codes 0..4."""

_SET, _DELETE = 0, 2  # BookAction codes
_EPS = 1e-9  # the order book's SIZE_EPS: a CHANGE leaving at most this removes the level
_BAD_STATE = -1


class SyncOps(NamedTuple):
    """Correction deltas in emission order (row ascending; deletes before sets).

    Attributes
    ----------
    row
        Message row (0-based) after which the correction applies, int64 ``(k,)``.
    side
        :class:`~quantumtrader.model.book.BookSide` code (1 bid, -1 ask), int8 ``(k,)``.
    action
        ``SET`` (0) or ``DELETE`` (2), int8 ``(k,)``.
    tick
        Level price in ticks of the instrument, int64 ``(k,)``.
    size
        New size (0 for ``DELETE``), float64 ``(k,)``.
    cls
        Index into :data:`SYNC_CLASSES`, int8 ``(k,)``.
    clamped
        Message ``CHANGE`` deltas that would drive a level below zero (a missing level
        or one too small); the order book clamps them at 0 and a correction follows.
    """

    row: Array
    side: Array
    action: Array
    tick: Array
    size: Array
    cls: Array
    clamped: int

    def counts(self) -> dict[str, int]:
        """Corrections per class (every class of :data:`SYNC_CLASSES`, zeros included)."""
        per = np.bincount(self.cls.astype(np.int64), minlength=len(SYNC_CLASSES))
        return dict(zip(SYNC_CLASSES, (int(v) for v in per), strict=True))


@njit(cache=True)
def _find(ticks: Array, sizes: Array, n: int, t: int) -> int:  # pragma: no cover - compiled
    """Slot of tick ``t`` among the first ``n`` non-empty entries, -1 if absent."""
    for j in range(n):
        if ticks[j] == t and sizes[j] > 0.0:
            return j
    return -1


@njit(cache=True)
def _emit(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    out_i: Array, out_f: Array, k: int, r: int, s: int, action: int, t: int, z: float, c: int
) -> None:  # pragma: no cover - compiled
    if k < out_i.shape[0]:
        out_i[k, 0] = r
        out_i[k, 1] = s
        out_i[k, 2] = action
        out_i[k, 3] = t
        out_i[k, 4] = c
        out_f[k] = z


@njit(cache=True)
def _sync_kernel(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    seed_t: Array,
    seed_z: Array,
    ref_t: Array,
    ref_z: Array,
    m_side: Array,
    m_tick: Array,
    m_change: Array,
    out_i: Array,
    out_f: Array,
    clamped: Array,
) -> int:  # pragma: no cover - compiled
    """Corrections of every row; returns their count (-1: state overflow).

    ``seed_t``/``seed_z`` (2, S), ``ref_t``/``ref_z`` (n, 2, L) (side 0 bid, 1 ask;
    size 0 marks an empty slot); ``m_side`` (n,) is -1 for a row without a book delta.
    ``out_i`` (cap, 5) receives (row, side, action, tick, class), ``out_f`` (cap,) the
    size; writes past ``cap`` are counted but dropped.
    """
    n, _, L = ref_t.shape
    cap = max(L, seed_t.shape[1]) + 2
    cur_t = np.zeros((2, cap), dtype=np.int64)
    cur_z = np.zeros((2, cap), dtype=np.float64)
    cur_n = np.zeros(2, dtype=np.int64)
    for s in range(2):
        for j in range(seed_t.shape[1]):
            if seed_z[s, j] > 0.0:
                cur_t[s, cur_n[s]] = seed_t[s, j]
                cur_z[s, cur_n[s]] = seed_z[s, j]
                cur_n[s] += 1
    k = 0
    for r in range(n):
        s = m_side[r]
        if s >= 0:
            j = _find(cur_t[s], cur_z[s], cur_n[s], m_tick[r])
            if j >= 0:
                new = cur_z[s, j] + m_change[r]
                if new < -_EPS:
                    clamped[0] += 1
                cur_z[s, j] = new if new > _EPS else 0.0
            elif m_change[r] > _EPS:
                if cur_n[s] == cap:
                    return _BAD_STATE
                cur_t[s, cur_n[s]] = m_tick[r]
                cur_z[s, cur_n[s]] = m_change[r]
                cur_n[s] += 1
            elif m_change[r] < -_EPS:
                clamped[0] += 1
        has_bid = ref_z[r, 0, 0] > 0.0
        has_ask = ref_z[r, 1, 0] > 0.0
        for s in range(2):
            shown = 0
            worst = 0
            for j in range(L):
                if ref_z[r, s, j] > 0.0:
                    shown += 1
                    worst = ref_t[r, s, j]
            for j in range(cur_n[s]):
                t = cur_t[s, j]
                if cur_z[s, j] <= 0.0 or _find(ref_t[r, s], ref_z[r, s], L, t) >= 0:
                    continue
                cross_bid = s == 0 and has_ask and t >= ref_t[r, 1, 0]
                if cross_bid or (s == 1 and has_bid and t <= ref_t[r, 0, 0]):
                    c = 3
                elif shown < L or (t >= worst if s == 0 else t <= worst):
                    c = 2
                else:
                    c = 4
                _emit(out_i, out_f, k, r, s, _DELETE, t, 0.0, c)
                k += 1
        for s in range(2):
            for j in range(L):
                z = ref_z[r, s, j]
                if z <= 0.0:
                    continue
                mine = _find(cur_t[s], cur_z[s], cur_n[s], ref_t[r, s, j])
                if mine < 0:
                    _emit(out_i, out_f, k, r, s, _SET, ref_t[r, s, j], z, 0)
                    k += 1
                elif cur_z[s, mine] != z:
                    _emit(out_i, out_f, k, r, s, _SET, ref_t[r, s, j], z, 1)
                    k += 1
        # After the corrections the book is exactly the reference row.
        for s in range(2):
            cur_n[s] = 0
            for j in range(L):
                if ref_z[r, s, j] > 0.0:
                    cur_t[s, cur_n[s]] = ref_t[r, s, j]
                    cur_z[s, cur_n[s]] = ref_z[r, s, j]
                    cur_n[s] += 1
    return k


def sync_corrections(
    seed: tuple[Array, Array],
    ref_ticks: Array,
    ref_sizes: Array,
    *,
    msg_side: Array,
    msg_tick: Array,
    msg_change: Array,
) -> SyncOps:
    """Corrections that turn seed + message deltas into the reference after every row.

    Parameters
    ----------
    seed
        ``(ticks, sizes)`` of the book before row 0, each shape ``(2, S)`` (row 0 bids,
        row 1 asks; size 0 marks an unused slot).
    ref_ticks, ref_sizes
        Reference rows as ticks and sizes, shape ``(n, 2, L)``, best level first, size 0
        for an empty level (whose tick is ignored).
    msg_side
        Per row, shape ``(n,)``: 0 bid, 1 ask, -1 for a row without a book delta
        (hidden execution, halt, quarantined row).
    msg_tick, msg_change
        Per row, shape ``(n,)``: the delta's tick and signed size change (ignored where
        ``msg_side`` is -1).

    Returns
    -------
    SyncOps
        The correction deltas and the number of clamped message deltas.

    Raises
    ------
    ValueError
        If the arrays' shapes disagree or a side of the seed holds more than ``L + 1``
        levels.
    """
    n = ref_ticks.shape[0]
    if ref_ticks.shape != ref_sizes.shape or ref_ticks.ndim != 3 or ref_ticks.shape[1] != 2:
        raise ValueError("ref_ticks and ref_sizes must both have shape (n, 2, L)")
    if any(a.shape != (n,) for a in (msg_side, msg_tick, msg_change)):
        raise ValueError(f"message arrays must have shape ({n},)")
    seed_t = np.ascontiguousarray(seed[0], dtype=np.int64)
    seed_z = np.ascontiguousarray(seed[1], dtype=np.float64)
    if seed_t.shape != seed_z.shape or seed_t.ndim != 2 or seed_t.shape[0] != 2:
        raise ValueError("seed ticks and sizes must both have shape (2, S)")
    if int((seed_z > 0.0).sum(axis=1).max(initial=0)) > ref_ticks.shape[2] + 1:
        raise ValueError("the seed holds more than L + 1 levels on a side")
    args = (
        seed_t,
        seed_z,
        np.ascontiguousarray(ref_ticks, dtype=np.int64),
        np.ascontiguousarray(ref_sizes, dtype=np.float64),
        np.ascontiguousarray(msg_side, dtype=np.int64),
        np.ascontiguousarray(msg_tick, dtype=np.int64),
        np.ascontiguousarray(msg_change, dtype=np.float64),
    )
    cap = n // 4 + 64
    while True:
        out_i = np.zeros((cap, 5), dtype=np.int64)
        out_f = np.zeros(cap, dtype=np.float64)
        clamped = np.zeros(1, dtype=np.int64)
        k = _sync_kernel(*args, out_i, out_f, clamped)
        if k == _BAD_STATE:  # pragma: no cover - bounded by the checks above
            raise ValueError("sync state overflow")
        if k <= cap:
            break
        cap = k  # rare: run again with room for every correction
    out_i = out_i[:k]
    return SyncOps(
        row=out_i[:, 0].copy(),
        side=np.where(out_i[:, 1] == 0, 1, -1).astype(np.int8),
        action=out_i[:, 2].astype(np.int8),
        tick=out_i[:, 3].copy(),
        size=out_f[:k].copy(),
        cls=out_i[:, 4].astype(np.int8),
        clamped=int(clamped[0]),
    )


class Messages(NamedTuple):
    """The type 1–4 message rows (those with a book delta), each array shape ``(m,)``.

    ``row`` is the 0-based message row, ``kind`` the LOBSTER type, ``direction`` 1 bid /
    -1 ask, ``price`` in file units (USD × 10,000), ``size`` shares (unsigned).
    """

    row: Array
    kind: Array
    direction: Array
    price: Array
    size: Array
    order_id: Array

    @property
    def change(self) -> Array:
        """Signed size change: ``+size`` for an add (type 1), ``-size`` otherwise."""
        return np.where(self.kind == 1, 1.0, -1.0) * self.size


def _side_levels(row: Array, levels: int, col: int) -> list[list[int]]:
    """``[price, size]`` pairs of one side of one orderbook row (empty levels dropped)."""
    out = []
    for i in range(levels):
        px, sz = int(row[4 * i + col]), int(row[4 * i + col + 1])
        if sz > 0 and abs(px) != DUMMY_PRICE:
            out.append([px, sz])
    return out


def seed_book(
    first: dict[str, Any] | None, ref: Array, levels: int, ts: int, symbol: str
) -> tuple[BookSnapshot, str, Levels]:
    """The book before message 1: orderbook row 1 with message 1's effect undone.

    ``first`` is message 1 (keys ``type``, ``direction``, ``price``, ``size``) or None
    when it was quarantined. Returns the snapshot, a note and the ``[price, size]``
    levels (file units) of the bids and the asks, best first.
    """
    asks = _side_levels(ref[0], levels, 0)
    bids = _side_levels(ref[0], levels, 2)
    note = "seed: orderbook row 1 (message 1 had no displayed-book effect)"
    if first is not None and first["type"] in (1, 2, 3, 4):
        book = bids if first["direction"] == 1 else asks
        sign = -1 if first["type"] == 1 else 1
        px, change = int(first["price"]), sign * int(first["size"])
        hit = [lv for lv in book if lv[0] == px]
        if hit:
            hit[0][1] += change
            book[:] = [lv for lv in book if lv[1] > 0]
        elif change > 0:
            book.append([px, change])
            book.sort(key=lambda lv: -lv[0] if book is bids else lv[0])
        note = f"seed: orderbook row 1 with message 1 (type {first['type']}) undone"
    scale = float(LOBSTER_PRICE_SCALE)
    snap = BookSnapshot(
        ts_event=ts,
        ts_init=ts,
        symbol=symbol,
        seq=-1,
        bid_prices=tuple(p / scale for p, _ in bids),
        bid_sizes=tuple(float(s) for _, s in bids),
        ask_prices=tuple(p / scale for p, _ in asks),
        ask_sizes=tuple(float(s) for _, s in asks),
    )
    return snap, note, (bids, asks)


def reference_ticks(ref: Array, tick_units: int, label: str) -> tuple[Array, Array]:
    """Orderbook rows ``(n, 4·L)`` as ticks (int64) and sizes (float64), ``(n, 2, L)``.

    Side 0 is the bids, 1 the asks, best level first; an empty level gets tick 0 and
    size 0.

    Raises
    ------
    DataError
        If a shown level has a negative size or a price off the tick grid (``line`` is
        the orderbook line, ``field`` e.g. ``ask_price_3``).
    """
    px = np.stack([ref[:, 2::4], ref[:, 0::4]], axis=1)
    sz = np.stack([ref[:, 3::4], ref[:, 1::4]], axis=1)
    empty = (sz == 0) | (np.abs(px) == DUMMY_PRICE)
    checks = (
        (~empty & (sz < 0), "size", "negative size"),
        (~empty & (px % tick_units != 0), "price", "price off the tick grid"),
    )
    for bad, what, reason in checks:
        if bad.any():
            r, s, lvl = (int(v) for v in np.argwhere(bad)[0])
            raise DataError(
                f"orderbook level {lvl + 1}: {reason}",
                path=label,
                line=r + 1,
                field=f"{'bid' if s == 0 else 'ask'}_{what}_{lvl + 1}",
            )
    ticks = np.where(empty, 0, px // tick_units).astype(np.int64)
    return ticks, np.where(empty, 0.0, sz.astype(np.float64))


def _seed_arrays(levels: Levels, tick_units: int) -> tuple[Array, Array]:
    """Seed ``(ticks, sizes)``, shape ``(2, S)`` (row 0 bids, row 1 asks)."""
    width = max(len(levels[0]), len(levels[1]), 1)
    ticks = np.zeros((2, width), dtype=np.int64)
    sizes = np.zeros((2, width), dtype=np.float64)
    for s, side in enumerate(levels):
        for j, (px, sz) in enumerate(side):
            ticks[s, j], sizes[s, j] = px // tick_units, sz
    return ticks, sizes


def message_sync(
    msgs: Messages, ref: Array, seed_levels: Levels, *, tick_units: int, label: str
) -> SyncOps:
    """Sync corrections of the message deltas ``msgs`` against the orderbook rows ``ref``.

    Raises
    ------
    DataError
        As :func:`reference_ticks` (``label`` names the orderbook file).
    """
    n = ref.shape[0]
    ref_t, ref_z = reference_ticks(ref, tick_units, label)
    side = np.full(n, -1, dtype=np.int64)
    tick = np.zeros(n, dtype=np.int64)
    change = np.zeros(n, dtype=np.float64)
    side[msgs.row] = np.where(msgs.direction == 1, 0, 1)
    tick[msgs.row] = msgs.price // tick_units
    change[msgs.row] = msgs.change
    return sync_corrections(
        _seed_arrays(seed_levels, tick_units),
        ref_t,
        ref_z,
        msg_side=side,
        msg_tick=tick,
        msg_change=change,
    )


def book_table(
    msgs: Messages, ops: SyncOps | None, ts_row: Array, *, symbol: str, tick_units: int
) -> pa.Table:
    """Message deltas plus corrections with :data:`BOOK_SCHEMA`, in replay order.

    ``ts_row`` (shape ``(n,)``, ns UTC) stamps every delta with its row's time. A row's
    message delta has ``seq = 3·row + 1``, its corrections ``3·row + 2`` (in emission
    order) and its last delta ``F_LAST``.
    """
    k = 0 if ops is None else len(ops.row)
    rows = msgs.row
    # BookSide values equal LOBSTER's direction column (1 bid, -1 ask).
    side = msgs.direction.astype(np.int8)
    action = np.full(len(rows), int(BookAction.CHANGE), dtype=np.int8)
    price = msgs.price
    size = msgs.change
    flags = np.where(msgs.kind == 4, F_EXEC, 0).astype(np.int16)
    order_id = msgs.order_id
    if ops is not None:
        rows = np.concatenate([rows, ops.row])
        side = np.concatenate([side, ops.side])
        action = np.concatenate([action, ops.action])
        price = np.concatenate([price, ops.tick * tick_units])
        size = np.concatenate([size, ops.size])
        flags = np.concatenate([flags, np.full(k, F_SYNC, dtype=np.int16)])
        order_id = np.concatenate([order_id, np.zeros(k, dtype=order_id.dtype)])
    seq = 3 * rows + np.concatenate([np.ones(len(msgs.row), np.int64), np.full(k, 2, np.int64)])
    order = np.argsort(seq, kind="stable")
    rows, seq, flags = rows[order], seq[order], flags[order]
    if len(rows):
        flags[np.r_[rows[1:] != rows[:-1], True]] |= F_LAST
    ts = pa.array(ts_row[rows], type=pa.int64()).cast(TS_TYPE)
    m = len(rows)
    arrays = [
        ts,
        ts,
        pa.array([symbol] * m, type=pa.string()),
        pa.array(side[order]),
        pa.array(action[order]),
        pa.array(price[order] / LOBSTER_PRICE_SCALE),
        pa.array(size[order]),
        pa.array(order_id[order]),
        pa.array(seq),
        pa.array(np.zeros(m, dtype=np.int64)),
        pa.array(flags),
    ]
    return pa.Table.from_arrays(arrays, schema=BOOK_SCHEMA)
