"""Numba helpers for rings and multi-window sums inside a group's flat ``(f, i)`` state.

Rings are laid out by :class:`~quantumtrader.features.state.StateBuilder`; their
headers live in ``i`` (``RH_*`` offsets). A ring entry has an absolute sequence
number (pushes so far), so several windows can share one ring, each remembering the
sequence number of its own oldest entry.

Multi-window sums (``mw_*``): ``nW`` event-time windows ``(t - W_w, t]`` over one ring
whose int column 0 is the entry's ``ts_event`` (ns) and whose ``nv`` float columns are
the values summed. The group reserves ``nW * nv`` float slots for the sums
(``sums[w * nv + c]``), ``nW`` int slots for each window's oldest sequence number and
``nW`` int slots for the window lengths in ns. Pushing and expiring are O(1) amortized:
each entry is added once and subtracted once per window. When a window empties its
sums are reset to exactly 0, so rounding cannot accumulate across quiet periods.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from quantumtrader.features.state import (
    RH_CAP,
    RH_COUNT,
    RH_FOFF,
    RH_HEAD,
    RH_IOFF,
    RH_NF,
    RH_NI,
    RH_SEQ,
    RING_HDR,
)

__all__ = [
    "mw_commit",
    "mw_expire",
    "mw_push",
    "ring_count",
    "ring_end_seq",
    "ring_fo",
    "ring_io",
    "ring_pop",
    "ring_push",
    "ring_push_seq",
    "ring_seq_fo",
    "ring_seq_io",
    "ring_start_seq",
]

Array = np.ndarray[Any, Any]


@njit(cache=True, inline="always")
def _h(r: int) -> int:  # pragma: no cover - compiled
    return 1 + RING_HDR * r


@njit(cache=True, inline="always")
def ring_count(i: Array, r: int) -> int:  # pragma: no cover - compiled
    """Entries held by ring ``r``."""
    return int(i[_h(r) + RH_COUNT])


@njit(cache=True, inline="always")
def ring_start_seq(i: Array, r: int) -> int:  # pragma: no cover - compiled
    """Sequence number of the oldest held entry of ring ``r``."""
    return int(i[_h(r) + RH_SEQ])


@njit(cache=True, inline="always")
def ring_end_seq(i: Array, r: int) -> int:  # pragma: no cover - compiled
    """Sequence number the next pushed entry gets (oldest seq + count)."""
    h = _h(r)
    return int(i[h + RH_SEQ] + i[h + RH_COUNT])


@njit(cache=True, inline="always")
def ring_push(i: Array, r: int) -> int:  # pragma: no cover - compiled
    """Append an entry to ring ``r``; return its physical row.

    The caller writes the row's columns at :func:`ring_fo` / :func:`ring_io`. The ring
    must have room (:func:`~quantumtrader.features.state.ensure_room`); if it has not,
    the oldest entry is dropped to make room (never a write outside the ring), which a
    correct caller never sees.
    """
    h = 1 + RING_HDR * r
    cap = i[h + RH_CAP]
    count = i[h + RH_COUNT]
    head = i[h + RH_HEAD]
    row = head + count
    if row >= cap:
        row -= cap
    if count == cap:
        head += 1
        i[h + RH_HEAD] = 0 if head == cap else head
        i[h + RH_SEQ] += 1
    else:
        i[h + RH_COUNT] = count + 1
    return int(row)


@njit(cache=True, inline="always")
def ring_push_seq(i: Array, r: int) -> int:  # pragma: no cover - compiled
    """:func:`ring_push`, returning the new entry's sequence number instead of its row."""
    seq = ring_end_seq(i, r)
    ring_push(i, r)
    return seq


@njit(cache=True, inline="always")
def ring_pop(i: Array, r: int) -> None:  # pragma: no cover - compiled
    """Drop the oldest entry of ring ``r`` (no-op when empty)."""
    h = 1 + RING_HDR * r
    if i[h + RH_COUNT] > 0:
        head = i[h + RH_HEAD] + 1
        i[h + RH_HEAD] = 0 if head == i[h + RH_CAP] else head
        i[h + RH_COUNT] -= 1
        i[h + RH_SEQ] += 1


@njit(cache=True, inline="always")
def ring_fo(i: Array, r: int, row: int) -> int:  # pragma: no cover - compiled
    """Offset in ``f`` of physical ``row``'s first float column."""
    h = _h(r)
    return int(i[h + RH_FOFF] + row * i[h + RH_NF])


@njit(cache=True, inline="always")
def ring_io(i: Array, r: int, row: int) -> int:  # pragma: no cover - compiled
    """Offset in ``i`` of physical ``row``'s first int column."""
    h = _h(r)
    return int(i[h + RH_IOFF] + row * i[h + RH_NI])


@njit(cache=True, inline="always")
def _seq_row(i: Array, r: int, seq: int) -> int:  # pragma: no cover - compiled
    h = 1 + RING_HDR * r
    row = i[h + RH_HEAD] + (seq - i[h + RH_SEQ])
    cap = i[h + RH_CAP]
    return int(row - cap if row >= cap else row)


@njit(cache=True, inline="always")
def ring_seq_fo(i: Array, r: int, seq: int) -> int:  # pragma: no cover - compiled
    """Offset in ``f`` of the entry with sequence number ``seq`` (must be held)."""
    return ring_fo(i, r, _seq_row(i, r, seq))


@njit(cache=True, inline="always")
def ring_seq_io(i: Array, r: int, seq: int) -> int:  # pragma: no cover - compiled
    """Offset in ``i`` of the entry with sequence number ``seq`` (must be held)."""
    return ring_io(i, r, _seq_row(i, r, seq))


@njit(cache=True, inline="always")
def mw_expire(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, r: int, nv: int, n_w: int, sums: int, tails: int, wins: int, t: int
) -> None:  # pragma: no cover - compiled
    """Drop from every window the entries with ``ts <= t - W_w``; pop what none holds.

    Parameters
    ----------
    f, i
        Group state. Ring ``r``: int column 0 is ``ts`` (ns), float columns ``0..nv-1``
        the values.
    nv, n_w
        Values per entry, number of windows.
    sums, tails, wins
        Offsets of the ``n_w * nv`` float sums, the ``n_w`` int oldest-seq slots and
        the ``n_w`` int window lengths (ns).
    t
        Current event time, ns.
    """
    h = 1 + RING_HDR * r
    cap = i[h + RH_CAP]
    head = i[h + RH_HEAD]
    seq0 = i[h + RH_SEQ]
    end = seq0 + i[h + RH_COUNT]
    foff = i[h + RH_FOFF]
    ioff = i[h + RH_IOFF]
    nf = i[h + RH_NF]
    ni = i[h + RH_NI]
    lo = end
    for w in range(n_w):
        s = i[tails + w]
        if s < end:
            cut = t - i[wins + w]
            base = sums + w * nv
            row = head + (s - seq0)
            if row >= cap:
                row -= cap
            while s < end and i[ioff + row * ni] <= cut:
                fo = foff + row * nf
                for c in range(nv):
                    f[base + c] -= f[fo + c]
                s += 1
                row += 1
                if row == cap:
                    row = 0
            if s == end:
                for c in range(nv):
                    f[base + c] = 0.0
            i[tails + w] = s
        lo = min(lo, s)
    if lo > seq0:
        k = lo - seq0
        head += k
        if head >= cap:
            head -= cap
        i[h + RH_HEAD] = head
        i[h + RH_COUNT] -= k
        i[h + RH_SEQ] = lo


@njit(cache=True, inline="always")
def mw_push(i: Array, r: int, ts: int) -> int:  # pragma: no cover - compiled
    """Append an entry stamped ``ts``; return the offset in ``f`` of its values.

    Call :func:`mw_expire` with ``ts`` first, write the ``nv`` values at the returned
    offset, then :func:`mw_commit`.
    """
    row = ring_push(i, r)
    i[ring_io(i, r, row)] = ts
    return ring_fo(i, r, row)


@njit(cache=True, inline="always")
def mw_commit(
    f: Array, nv: int, n_w: int, sums: int, fo: int
) -> None:  # pragma: no cover - compiled
    """Add the entry whose values start at ``f[fo]`` to every window's sums."""
    for w in range(n_w):
        base = sums + w * nv
        for c in range(nv):
            f[base + c] += f[fo + c]
