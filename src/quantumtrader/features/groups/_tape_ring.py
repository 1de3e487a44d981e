"""Trade ring of the tape group: multi-window size-bucket sums, specialised (numba).

Ring 0 (``R_TAPE``) holds one entry per trade, ``(ts, bucket k | qty)``. Each window
``w`` keeps ``NV_TAPE`` sums at ``sums + w * NV_TAPE``: the counts of the four size
buckets then their volumes. A trade adds 1 to count ``k`` and ``qty`` to volume ``k``
of every window and subtracts them again when it leaves the window. This is the
generic :func:`quantumtrader.features.ring.mw_expire` / :func:`~quantumtrader.features.
ring.mw_commit` pair with the seven zero columns of an entry skipped: adding or
subtracting ``0.0`` leaves a sum bit for bit unchanged (the sums are never ``-0.0``:
they start at ``+0.0``, are reset to ``+0.0`` and ``x - x`` is ``+0.0``), so the values
are identical, at a quarter of the work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from quantumtrader.features.groups._tape_layout import NV_TAPE, R_TAPE
from quantumtrader.features.jit import fjit_inline
from quantumtrader.features.state import (
    RH_CAP,
    RH_COUNT,
    RH_FOFF,
    RH_HEAD,
    RH_IOFF,
    RH_SEQ,
    ring_header,
)

__all__ = ["tape_ring_expire", "tape_ring_push"]

Array = np.ndarray[Any, Any]
_H = ring_header(R_TAPE)
_NI = 2  # int columns: ts, bucket (the float column is qty)


@fjit_inline
def tape_ring_expire(  # noqa: PLR0917 - flat kernel arguments
    f: Array, i: Array, n_w: int, sums: int, tails: int, wins: int, t: int
) -> None:  # pragma: no cover - compiled
    """Drop from every window the trades with ``ts <= t - W_w``; pop what none holds."""
    cap = i[_H + RH_CAP]
    head = i[_H + RH_HEAD]
    seq0 = i[_H + RH_SEQ]
    end = seq0 + i[_H + RH_COUNT]
    foff = i[_H + RH_FOFF]
    ioff = i[_H + RH_IOFF]
    lo = end
    for w in range(n_w):
        s = i[tails + w]
        if s < end:
            cut = t - i[wins + w]
            row = head + (s - seq0)
            if row >= cap:
                row -= cap
            if i[ioff + row * _NI] <= cut:
                base = sums + w * NV_TAPE
                while True:
                    k = i[ioff + row * _NI + 1]
                    f[base + k] -= 1.0
                    f[base + 4 + k] -= f[foff + row]
                    s += 1
                    row += 1
                    if row == cap:
                        row = 0
                    if s == end or i[ioff + row * _NI] > cut:
                        break
                if s == end:
                    for c in range(NV_TAPE):
                        f[base + c] = 0.0
                i[tails + w] = s
        lo = min(lo, s)
    if lo > seq0:
        k = lo - seq0
        head += k
        if head >= cap:
            head -= cap
        i[_H + RH_HEAD] = head
        i[_H + RH_COUNT] -= k
        i[_H + RH_SEQ] = lo


@fjit_inline
def tape_ring_push(  # noqa: PLR0917 - flat kernel arguments
    f: Array, i: Array, n_w: int, sums: int, ts: int, k: int, qty: float
) -> None:  # pragma: no cover - compiled
    """Append one trade (bucket ``k``) and add it to every window's sums.

    Call :func:`tape_ring_expire` with ``ts`` first. The ring must have room (see
    :func:`quantumtrader.features.ring.ring_push`: the oldest entry is dropped if not).
    """
    cap = i[_H + RH_CAP]
    count = i[_H + RH_COUNT]
    head = i[_H + RH_HEAD]
    row = head + count
    if row >= cap:
        row -= cap
    if count == cap:
        head += 1
        i[_H + RH_HEAD] = 0 if head == cap else head
        i[_H + RH_SEQ] += 1
    else:
        i[_H + RH_COUNT] = count + 1
    io = i[_H + RH_IOFF] + row * _NI
    i[io] = ts
    i[io + 1] = k
    f[i[_H + RH_FOFF] + row] = qty
    for w in range(n_w):
        base = sums + w * NV_TAPE
        f[base + k] += 1.0
        f[base + 4 + k] += qty
