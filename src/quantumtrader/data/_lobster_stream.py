"""The book stream of the LOBSTER reader: seed book, reference ticks and the delta table.

:func:`seed_book` rebuilds the book before message 1, :func:`reference_ticks` turns the
orderbook file into ticks, :func:`message_sync` runs the sync replay of
:mod:`quantumtrader.data._lobster_sync` and :func:`book_table` merges message deltas and
sync corrections into one :data:`~quantumtrader.model.book_arrow.BOOK_SCHEMA` table.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from numba import njit

from quantumtrader.core.errors import DataError
from quantumtrader.data._lobster_sync import SyncOps, sync_corrections
from quantumtrader.model.arrow import TS_TYPE
from quantumtrader.model.book import F_EXEC, F_LAST, F_SYNC, BookAction, BookSnapshot
from quantumtrader.model.book_arrow import BOOK_SCHEMA

__all__ = [
    "DUMMY_PRICE",
    "LOBSTER_PRICE_SCALE",
    "Messages",
    "book_table",
    "message_sync",
    "reference_ticks",
    "seed_book",
]

Array = npt.NDArray[Any]
Levels = tuple[list[list[int]], list[list[int]]]

LOBSTER_PRICE_SCALE = 10_000
"""File price units per USD (5853300 = $585.33)."""
DUMMY_PRICE = 9_999_999_999
"""Absolute price LOBSTER writes in empty orderbook levels (with size 0)."""


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
    n, cols = ref.shape
    ticks = np.zeros((n, 2, cols // 4), dtype=np.int64)
    sizes = np.zeros((n, 2, cols // 4), dtype=np.float64)
    where = np.full(4, -1, dtype=np.int64)
    _ref_kernel(np.ascontiguousarray(ref, dtype=np.int64), tick_units, ticks, sizes, where)
    if where[0] >= 0:
        r, side, lvl, kind = (int(v) for v in where)
        what, reason = (("size", "negative size"), ("price", "price off the tick grid"))[kind]
        raise DataError(
            f"orderbook level {lvl + 1}: {reason}",
            path=label,
            line=r + 1,
            field=f"{'bid' if side == 0 else 'ask'}_{what}_{lvl + 1}",
        )
    return ticks, sizes


@njit(cache=True)
def _ref_kernel(
    ref: Array, tick_units: int, ticks: Array, sizes: Array, where: Array
) -> None:  # pragma: no cover - compiled
    """Fill ``ticks``/``sizes`` (n, 2, L) from ``ref`` (n, 4·L); the first bad level goes
    to ``where`` as (row, side, level, 0 negative size / 1 off-grid price)."""
    n, _, L = ticks.shape
    for r in range(n):
        for s in range(2):
            col = 2 if s == 0 else 0
            for j in range(L):
                px = ref[r, 4 * j + col]
                sz = ref[r, 4 * j + col + 1]
                if sz == 0 or abs(px) == DUMMY_PRICE:
                    continue
                if sz < 0 or px % tick_units != 0:
                    where[0], where[1], where[2] = r, s, j
                    where[3] = 0 if sz < 0 else 1
                    return
                ticks[r, s, j] = px // tick_units
                sizes[r, s, j] = sz


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
    msgs: Messages,
    ref: Array,
    seed_levels: Levels,
    *,
    tick_units: int,
    label: str,
    beyond: str = "keep",
) -> SyncOps:
    """Sync corrections of the message deltas ``msgs`` against the orderbook rows ``ref``.

    ``beyond`` is the policy for levels outside the visible range
    (:func:`~quantumtrader.data._lobster_sync.sync_corrections`).

    Raises
    ------
    DataError
        As :func:`reference_ticks` (``label`` names the orderbook file), or if the prices
        span more than :data:`~quantumtrader.data._lobster_sync.MAX_TICK_RANGE` ticks.
    """
    n = ref.shape[0]
    ref_t, ref_z = reference_ticks(ref, tick_units, label)
    side = np.full(n, -1, dtype=np.int64)
    tick = np.zeros(n, dtype=np.int64)
    change = np.zeros(n, dtype=np.float64)
    side[msgs.row] = np.where(msgs.direction == 1, 0, 1)
    tick[msgs.row] = msgs.price // tick_units
    change[msgs.row] = msgs.change
    try:
        return sync_corrections(
            _seed_arrays(seed_levels, tick_units),
            ref_t,
            ref_z,
            msg_side=side,
            msg_tick=tick,
            msg_change=change,
            beyond=beyond,
        )
    except ValueError as exc:
        raise DataError(f"cannot sync the book: {exc}", path=label) from exc


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
