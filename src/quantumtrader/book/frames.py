"""Top-of-book frames: the first ``K`` levels per side after each venue message (numba).

Feature kernels do not hold a book; they read *frames*: float64 ``(4, K)`` arrays of
bid prices, bid sizes, ask prices and ask sizes, best first, with NaN prices and zero
sizes past the last level. :func:`apply_frames` applies a batch of level updates and
writes one frame after every update flagged :data:`~quantumtrader.model.book.F_LAST`
(the book is consistent only at message ends). Prices are written as ticks here; the
caller multiplies by the tick size.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from quantumtrader.book import ladder as lad

__all__ = ["apply_frames", "write_frame"]

Array = np.ndarray[Any, Any]
_F_LAST = 1


@njit(cache=True)
def write_frame(levels: Array, meta: Array, out: Array, tk: Array) -> None:  # pragma: no cover
    """Write the window's first ``K = out.shape[1]`` levels per side into ``out (4, K)``.

    Rows 0 and 2 receive ticks as floats (NaN past the last level), rows 1 and 3 sizes.
    ``tk`` is int64 scratch of length ``K``.
    """
    k_max = out.shape[1]
    for r, side in ((0, 1), (2, -1)):
        sz = out[r + 1]
        n = lad.depth_side(levels, meta, side, tk, sz)
        for j in range(n):
            out[r, j] = float(tk[j])
        for j in range(n, k_max):
            out[r, j] = np.nan
            sz[j] = 0.0


@njit(cache=True)
def apply_frames(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    levels: Array,
    meta: Array,
    side: Array,
    action: Array,
    tick: Array,
    size: Array,
    flags: Array,
    out: Array,
    out_row: Array,
    m0: int,
) -> tuple[int, int, int]:  # pragma: no cover - compiled
    """Apply updates in order; after each ``F_LAST`` one write a frame at ``out[m]``.

    Parameters
    ----------
    levels, meta
        The ladder (:mod:`quantumtrader.book.ladder`).
    side, action, tick, size, flags
        Shape ``(n,)`` level updates.
    out
        float64 ``(M, 4, K)`` frames; ``m0`` is the next free frame.
    out_row
        int64 ``(n,)``: receives the frame index of each ``F_LAST`` update, -1 otherwise.

    Returns
    -------
    (n_applied, m, status)
        Updates applied, next free frame, and :data:`~quantumtrader.book.ladder.OK` or
        the status of the update at ``n_applied`` (``NEED_GROW`` or an error code).
    """
    n = side.shape[0]
    tk = np.zeros(out.shape[2], dtype=np.int64)
    m = m0
    for e in range(n):
        st = lad.apply_level(levels, meta, side[e], action[e], tick[e], size[e])
        if st == lad.NEED_GROW or st < 0:
            return e, m, st
        if flags[e] & _F_LAST:
            write_frame(levels, meta, out[m], tk)
            out_row[e] = m
            m += 1
        else:
            out_row[e] = -1
    return n, m, lad.OK
