"""Fast ring access for the flow group (same layout and arithmetic as :mod:`..ring`).

:mod:`quantumtrader.features.ring` maps a sequence number to a row with ``%`` (an
integer division, 40-90 cycles) on every access; a flow event touches the ring a dozen
times, so these inlined helpers wrap with a compare instead. They read and write the
:class:`~quantumtrader.features.state.StateBuilder` ring headers exactly as the shared
helpers do, and :func:`fr_expire` / :func:`fr_commit` add and subtract the window sums in
the same order as ``mw_expire`` / ``mw_commit``, so results are bit-identical to them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from quantumtrader.features.jit import fjit_inline
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

__all__ = ["fr_commit", "fr_expire", "fr_pop_below", "fr_push", "fr_row"]

Array = np.ndarray[Any, Any]


@fjit_inline
def fr_row(i: Array, h: int, seq: int) -> int:  # pragma: no cover - compiled
    """Physical row of sequence number ``seq`` (held) in the ring whose header is at ``h``."""
    row = i[h + RH_HEAD] + (seq - i[h + RH_SEQ])
    cap = i[h + RH_CAP]
    return int(row - cap if row >= cap else row)


@fjit_inline
def fr_push(i: Array, h: int, ts: int) -> int:  # pragma: no cover - compiled
    """Append an entry stamped ``ts`` (int column 0); return its physical row.

    The engine guarantees room (``ensure_room``); on overflow the oldest entry is
    dropped and its row reused, as :func:`~quantumtrader.features.ring.ring_push` does.
    """
    cap = i[h + RH_CAP]
    cnt = i[h + RH_COUNT]
    row = i[h + RH_HEAD] + cnt
    if row >= cap:
        row -= cap
    if cnt == cap:
        hd = i[h + RH_HEAD] + 1
        i[h + RH_HEAD] = 0 if hd == cap else hd
        i[h + RH_SEQ] += 1
    else:
        i[h + RH_COUNT] = cnt + 1
    i[i[h + RH_IOFF] + row * i[h + RH_NI]] = ts
    return int(row)


@fjit_inline
def fr_commit(
    f: Array, nv: int, n_w: int, sums: int, fo: int
) -> None:  # pragma: no cover - compiled
    """Add the entry at ``f[fo : fo + nv]`` to every window's sums (as ``mw_commit``)."""
    for w in range(n_w):
        base = sums + w * nv
        for c in range(nv):
            f[base + c] += f[fo + c]


@fjit_inline
def fr_pop_below(i: Array, h: int, lo: int) -> None:  # pragma: no cover - compiled
    """Drop every entry with sequence number below ``lo``."""
    n = min(lo - i[h + RH_SEQ], i[h + RH_COUNT])
    if n > 0:
        hd = i[h + RH_HEAD] + n
        cap = i[h + RH_CAP]
        i[h + RH_HEAD] = hd - cap if hd >= cap else hd
        i[h + RH_COUNT] -= n
        i[h + RH_SEQ] += n


@fjit_inline
def fr_expire(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, r: int, nv: int, n_w: int, sums: int, tails: int, wins: int, t: int
) -> None:  # pragma: no cover - compiled
    """``mw_expire`` (same arguments, same results) without integer divisions."""
    h = 1 + RING_HDR * r
    seq0 = i[h + RH_SEQ]
    end = seq0 + i[h + RH_COUNT]
    cap = i[h + RH_CAP]
    foff, ioff = i[h + RH_FOFF], i[h + RH_IOFF]
    nf, ni = i[h + RH_NF], i[h + RH_NI]
    lo = end
    for w in range(n_w):
        s = max(i[tails + w], seq0)
        cut = t - i[wins + w]
        base = sums + w * nv
        if s < end:
            row = fr_row(i, h, s)
            while i[ioff + row * ni] <= cut:
                fo = foff + row * nf
                for c in range(nv):
                    f[base + c] -= f[fo + c]
                s += 1
                if s == end:
                    break
                row += 1
                if row == cap:
                    row = 0
        if s == end:
            for c in range(nv):
                f[base + c] = 0.0
        i[tails + w] = s
        lo = min(lo, s)
    fr_pop_below(i, h, lo)
