"""Sync corrections that keep a LOBSTER book stream equal to LOBSTER's orderbook file.

A level-L LOBSTER file only carries the messages that touched the first L levels
(SOURCE.md quirk 3), so replaying its messages alone loses track of the book: a level
pushed beyond depth L and cancelled out of sight stays as a phantom, and a level that
enters the window from beyond depth L has a size no message described.
:func:`sync_corrections` replays seed + message deltas over a dense tick-indexed book
(numba, int ticks) and, after every message, emits the corrections that make the book's
first L levels equal the reference row: the reader writes them as deltas flagged
:data:`~quantumtrader.model.book.F_SYNC` (``order_id`` 0) right after the message's own.

The *visible range* of a side is every price at or better than the row's L-th level of
that side (the whole side when the row shows fewer than L levels). Inside it the book is
made equal to the row. Outside it (``beyond="keep"``, the default) levels are kept as the
messages left them: their last known size, unverified, since an order there may be
cancelled or added out of sight. Such a level is corrected the moment it comes back
inside the visible range, so depth 1..L is exact after every message while deeper levels
are a best effort, and stale ones pile up far from the market when the price trends
(AAPL level 1 ends the day with 498 ask levels, only the first one verified). Keeping
them means a level that only dipped below depth L and came back unchanged needs no
correction, so queue positions at the window edge survive (on the 2012-06-21 samples
``drop`` needs 2.5 to 11 times more corrections). ``beyond="drop"`` deletes every level
outside the visible range (``delete_beyond``): the book is then exactly the reference row.

Correction classes (:data:`SYNC_CLASSES`):

``set_enter``
    ``SET`` of a reference level the book does not have: it entered the window from
    beyond depth L without ever being described, or after leaving the book.
``set_size``
    ``SET`` of a reference level the book has with another size: it re-entered the window
    after changing out of sight.
``delete_inside``
    ``DELETE`` of a level inside the visible range that the row does not show (it was
    cancelled or executed out of sight, a phantom).
``delete_cross``
    ``DELETE`` of a level the row does not show that would cross the row's best on the
    other side (bid at or above the best ask, ask at or below the best bid).
``delete_beyond``
    ``DELETE`` of a level outside the visible range (``beyond="drop"`` only).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["MAX_TICK_RANGE", "SYNC_CLASSES", "SyncOps", "sync_corrections"]

Array = npt.NDArray[Any]

SYNC_CLASSES = ("set_enter", "set_size", "delete_inside", "delete_cross", "delete_beyond")
"""Correction classes, in the order of :attr:`SyncOps.cls` codes 0..4."""
MAX_TICK_RANGE = 1 << 25
"""Widest tick range (lowest to highest price of a file) the dense replay accepts
(16 bytes per tick: 512 MiB)."""

_SET, _DELETE = 0, 2  # BookAction codes
_EPS = 1e-9  # the order book's SIZE_EPS: a CHANGE leaving at most this removes the level


class SyncOps(NamedTuple):
    """Correction deltas in emission order (row ascending; per row deletes, then sets).

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
        or one too small); the order book clamps them at 0.
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
def _best(sizes: Array, side: int, start: int) -> int:  # pragma: no cover - compiled
    """Best non-empty index of a side scanning inwards from ``start`` (-1 if none)."""
    i = start
    step = -1 if side == 0 else 1
    while 0 <= i < sizes.shape[0]:
        if sizes[i] > 0.0:
            return i
        i += step
    return -1


@njit(cache=True)
def _write(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    book: Array, best: Array, count: Array, s: int, i: int, value: float
) -> None:  # pragma: no cover - compiled
    """Write one level (index ``i`` of side ``s``, 0 bid / 1 ask); keep best and count."""
    old = book[s, i]
    book[s, i] = value
    if old > 0.0:
        count[s] -= 1
    if value > 0.0:
        count[s] += 1
        if best[s] < 0 or (i > best[s] if s == 0 else i < best[s]):
            best[s] = i
    elif i == best[s]:
        best[s] = _best(book[s], s, i)


@njit(cache=True)
def _shown(ticks: Array, sizes: Array, i: int) -> bool:  # pragma: no cover - compiled
    """True when a non-empty level of one reference side sits at index ``i``."""
    found = False
    for j in range(ticks.shape[0]):
        if sizes[j] > 0.0 and ticks[j] == i:
            found = True
            break
    return found


@njit(cache=True)
def _emit(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    out_i: Array, out_f: Array, k: int, r: int, s: int, action: int, i: int, z: float, c: int
) -> int:  # pragma: no cover - compiled
    """Record one correction at slot ``k`` (dropped past the capacity); returns ``k + 1``."""
    if k < out_i.shape[0]:
        out_i[k, 0] = r
        out_i[k, 1] = s
        out_i[k, 2] = action
        out_i[k, 3] = i
        out_i[k, 4] = c
        out_f[k] = z
    return k + 1


@njit(cache=True)
def _sync_kernel(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    book: Array,
    ref_i: Array,
    ref_z: Array,
    m_side: Array,
    m_idx: Array,
    m_change: Array,
    out_i: Array,
    out_f: Array,
    clamped: Array,
    drop: bool,
) -> int:  # pragma: no cover - compiled
    """Replay and correct every row over ``book`` (2, n_ticks); returns the corrections.

    ``ref_i``/``ref_z`` (n, 2, L): reference indices into ``book`` and sizes (side 0 bid,
    1 ask, best first, size 0 = empty); ``m_side`` (n,) is -1 for a row without a book
    delta. ``out_i`` (cap, 5) receives (row, side, action, index, class), ``out_f`` the
    size; corrections past ``cap`` are counted but not written. ``drop``: delete levels
    beyond the visible range too.
    """
    n, _, L = ref_i.shape
    width = book.shape[1]
    best = np.array([_best(book[0], 0, width - 1), _best(book[1], 1, 0)])
    count = np.array([np.count_nonzero(book[0] > 0.0), np.count_nonzero(book[1] > 0.0)])
    k = 0
    for r in range(n):
        s = m_side[r]
        if s >= 0:
            new = book[s, m_idx[r]] + m_change[r]
            if new < -_EPS:
                clamped[0] += 1
            _write(book, best, count, s, m_idx[r], new if new > _EPS else 0.0)
        for s in range(2):
            ti, tz = ref_i[r, s], ref_z[r, s]
            other = ref_i[r, 1 - s, 0] if ref_z[r, 1 - s, 0] > 0.0 else -1
            shown = 0
            for j in range(L):
                if tz[j] > 0.0:
                    shown += 1
            # Walk our levels from the best inwards while they are visible or crossing
            # (with ``drop``: all of them).
            step = -1 if s == 0 else 1
            i = best[s]
            seen = 0
            while i >= 0 and 0 <= i < width and seen < count[s]:
                if book[s, i] > 0.0:
                    cross = other >= 0 and (i >= other if s == 0 else i <= other)
                    inside = shown < L or (i >= ti[L - 1] if s == 0 else i <= ti[L - 1])
                    if not (cross or inside or drop):
                        break
                    if _shown(ti, tz, i):
                        seen += 1
                    else:
                        c = 3 if cross else (2 if inside else 4)
                        k = _emit(out_i, out_f, k, r, s, _DELETE, i, 0.0, c)
                        _write(book, best, count, s, i, 0.0)
                i += step
            for j in range(L):
                if tz[j] > 0.0 and book[s, ti[j]] != tz[j]:
                    c = 0 if book[s, ti[j]] <= 0.0 else 1
                    k = _emit(out_i, out_f, k, r, s, _SET, ti[j], tz[j], c)
                    _write(book, best, count, s, ti[j], tz[j])
    return k


def sync_corrections(
    seed: tuple[Array, Array],
    ref_ticks: Array,
    ref_sizes: Array,
    *,
    msg_side: Array,
    msg_tick: Array,
    msg_change: Array,
    beyond: str = "keep",
) -> SyncOps:
    """Corrections that make seed + message deltas equal the reference after every row.

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
    beyond
        ``"keep"``: levels outside the visible range keep their last known size;
        ``"drop"``: they are deleted (``delete_beyond``), so the book is exactly the
        reference row.

    Returns
    -------
    SyncOps
        The corrections (ticks, not book indices) and the number of clamped deltas.

    Raises
    ------
    ValueError
        If the arrays' shapes disagree, ``beyond`` is unknown or the prices span more
        than :data:`MAX_TICK_RANGE` ticks.
    """
    if beyond not in {"keep", "drop"}:
        raise ValueError(f"beyond must be 'keep' or 'drop', got {beyond!r}")
    n = ref_ticks.shape[0]
    if ref_ticks.shape != ref_sizes.shape or ref_ticks.ndim != 3 or ref_ticks.shape[1] != 2:
        raise ValueError("ref_ticks and ref_sizes must both have shape (n, 2, L)")
    if any(np.shape(a) != (n,) for a in (msg_side, msg_tick, msg_change)):
        raise ValueError(f"message arrays must have shape ({n},)")
    seed_t, seed_z = (np.asarray(a) for a in seed)
    if seed_t.shape != seed_z.shape or seed_t.ndim != 2 or seed_t.shape[0] != 2:
        raise ValueError("seed ticks and sizes must both have shape (2, S)")
    m_side = np.asarray(msg_side, dtype=np.int64)
    ref_z = np.ascontiguousarray(ref_sizes, dtype=np.float64)
    used = np.concatenate(
        [seed_t[seed_z > 0.0], np.asarray(msg_tick)[m_side >= 0], ref_ticks[ref_z > 0.0]]
    ).astype(np.int64)
    lo = int(used.min()) if len(used) else 0
    width = (int(used.max()) if len(used) else 0) - lo + 1
    if width > MAX_TICK_RANGE:
        raise ValueError(f"prices span {width} ticks (more than {MAX_TICK_RANGE})")
    book = np.zeros((2, width), dtype=np.float64)
    for s in range(2):
        live = seed_z[s] > 0.0
        book[s, seed_t[s][live] - lo] = seed_z[s][live]
    args = (
        np.ascontiguousarray(np.where(ref_z > 0.0, ref_ticks - lo, 0), dtype=np.int64),
        ref_z,
        m_side,
        np.where(m_side >= 0, np.asarray(msg_tick, dtype=np.int64) - lo, 0),
        np.ascontiguousarray(msg_change, dtype=np.float64),
    )
    cap = n // 8 + 64
    while True:
        out_i = np.zeros((cap, 5), dtype=np.int64)
        out_f = np.zeros(cap, dtype=np.float64)
        clamped = np.zeros(1, dtype=np.int64)
        k = _sync_kernel(book.copy(), *args, out_i, out_f, clamped, beyond == "drop")
        if k <= cap:
            break
        cap = k  # rare: run again with room for every correction
    out_i = out_i[:k]
    return SyncOps(
        row=out_i[:, 0].copy(),
        side=np.where(out_i[:, 1] == 0, 1, -1).astype(np.int8),
        action=out_i[:, 2].astype(np.int8),
        tick=out_i[:, 3] + lo,
        size=out_f[:k].copy(),
        cls=out_i[:, 4].astype(np.int8),
        clamped=int(clamped[0]),
    )
