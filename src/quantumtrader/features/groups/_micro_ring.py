"""Modulo-free ring access for the microstructure group's hot loops.

Same rings, headers and semantics as :mod:`quantumtrader.features.ring` (rings laid
out by :class:`~quantumtrader.features.state.StateBuilder`, grown by
:func:`~quantumtrader.features.state.ensure_room`), but a logical position is turned
into a physical row with one compare-and-subtract instead of an integer ``%``: the
offset of a held entry from the head is below the capacity, so one wrap suffices. A
64-bit division costs tens of cycles on the x86 cores this runs on, and the group
walks several rings per trade. Everything is ``inline="always"`` so numba folds the
header loads into the kernels.
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

__all__ = ["mwx_commit", "mwx_expire", "mwx_push", "rcount", "rend", "rfo", "rio", "rpop",
           "rpush", "rstart"]  # fmt: skip

Array = np.ndarray[Any, Any]


@njit(cache=True, inline="always")
def rcount(i: Array, r: int) -> int:  # pragma: no cover - compiled
    """Entries held by ring ``r``."""
    return int(i[1 + RING_HDR * r + RH_COUNT])


@njit(cache=True, inline="always")
def rstart(i: Array, r: int) -> int:  # pragma: no cover - compiled
    """Sequence number of the oldest held entry."""
    return int(i[1 + RING_HDR * r + RH_SEQ])


@njit(cache=True, inline="always")
def rend(i: Array, r: int) -> int:  # pragma: no cover - compiled
    """Sequence number the next pushed entry gets."""
    h = 1 + RING_HDR * r
    return int(i[h + RH_SEQ] + i[h + RH_COUNT])


@njit(cache=True, inline="always")
def _row(i: Array, h: int, seq: int) -> int:  # pragma: no cover - compiled
    k = i[h + RH_HEAD] + (seq - i[h + RH_SEQ])
    cap = i[h + RH_CAP]
    return int(k - cap if k >= cap else k)


@njit(cache=True, inline="always")
def rfo(i: Array, r: int, seq: int) -> int:  # pragma: no cover - compiled
    """Offset in ``f`` of the float columns of held entry ``seq``."""
    h = 1 + RING_HDR * r
    return int(i[h + RH_FOFF] + _row(i, h, seq) * i[h + RH_NF])


@njit(cache=True, inline="always")
def rio(i: Array, r: int, seq: int) -> int:  # pragma: no cover - compiled
    """Offset in ``i`` of the int columns of held entry ``seq``."""
    h = 1 + RING_HDR * r
    return int(i[h + RH_IOFF] + _row(i, h, seq) * i[h + RH_NI])


@njit(cache=True, inline="always")
def rpush(i: Array, r: int) -> int:  # pragma: no cover - compiled
    """Append an entry to ring ``r``; return its sequence number.

    The ring must have room (``ensure_room``); if it has not, the oldest entry is
    dropped to make room, so memory stays in bounds.
    """
    h = 1 + RING_HDR * r
    if i[h + RH_COUNT] == i[h + RH_CAP]:
        rpop(i, r)
    seq = i[h + RH_SEQ] + i[h + RH_COUNT]
    i[h + RH_COUNT] += 1
    return int(seq)


@njit(cache=True, inline="always")
def rpop(i: Array, r: int) -> None:  # pragma: no cover - compiled
    """Drop the oldest entry of ring ``r`` (no-op when empty)."""
    h = 1 + RING_HDR * r
    if i[h + RH_COUNT] > 0:
        head = i[h + RH_HEAD] + 1
        i[h + RH_HEAD] = 0 if head == i[h + RH_CAP] else head
        i[h + RH_COUNT] -= 1
        i[h + RH_SEQ] += 1


@njit(cache=True, inline="always")
def mwx_expire(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, r: int, nv: int, n_w: int, sums: int, tails: int, wins: int, t: int
) -> None:  # pragma: no cover - compiled
    """:func:`~quantumtrader.features.ring.mw_expire` without ``%`` (same results)."""
    end = rend(i, r)
    lo = end
    for w in range(n_w):
        s = i[tails + w]
        cut = t - i[wins + w]
        base = sums + w * nv
        while s < end:
            if i[rio(i, r, s)] > cut:
                break
            fo = rfo(i, r, s)
            for c in range(nv):
                f[base + c] -= f[fo + c]
            s += 1
        if s == end:
            for c in range(nv):
                f[base + c] = 0.0
        i[tails + w] = s
        lo = min(lo, s)
    while rcount(i, r) > 0 and rstart(i, r) < lo:
        rpop(i, r)


@njit(cache=True, inline="always")
def mwx_push(i: Array, r: int, ts: int) -> int:  # pragma: no cover - compiled
    """Append an entry stamped ``ts``; return the offset in ``f`` of its values."""
    seq = rpush(i, r)
    i[rio(i, r, seq)] = ts
    return rfo(i, r, seq)


@njit(cache=True, inline="always")
def mwx_commit(
    f: Array, nv: int, n_w: int, sums: int, fo: int
) -> None:  # pragma: no cover - compiled
    """Add the entry whose values start at ``f[fo]`` to every window's sums."""
    for w in range(n_w):
        base = sums + w * nv
        for c in range(nv):
            f[base + c] += f[fo + c]
