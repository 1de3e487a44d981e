"""The independent replay behind :func:`quantumtrader.book.validate.match_lobster` (numba).

A dense tick-indexed book of its own (two float64 rows, bids and asks, over the tick range
of the whole file) replays LOBSTER's deltas (the messages' ``CHANGE`` rows and, for the
reader's synced stream, its ``SET``/``DELETE`` corrections) and compares the first levels
with the reference row after every message, optionally applying the window re-entry sync
described in :class:`~quantumtrader.book.validate.LobsterMatch`. It is deliberately
separate from :class:`~quantumtrader.book.orderbook.OrderBook`, which the caller
cross-checks against it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["final_depth", "lobster_replay", "run_replay"]

Array = npt.NDArray[Any]


@njit(cache=True)
def _best(sizes: Array, side: int, start: int) -> int:  # pragma: no cover - compiled
    """Best non-empty index of a side scanning inwards from ``start`` (-1 if none)."""
    n = sizes.shape[0]
    i = start
    step = -1 if side == 0 else 1
    while 0 <= i < n:
        if sizes[i] > 0.0:
            return i
        i += step
    return -1


@njit(cache=True)
def _depth(sizes: Array, side: int, best: int, out: Array, limit: int) -> int:  # pragma: no cover
    """Indices of the first non-empty levels from ``best`` (inclusive) into ``out``."""
    k = 0
    if best < 0:
        return 0
    i = best
    step = -1 if side == 0 else 1
    n = sizes.shape[0]
    while k < out.shape[0] and 0 <= i < n and (limit < 0 or k < limit):
        if sizes[i] > 0.0:
            out[k] = i
            k += 1
        i += step
    return k


@njit(cache=True)
def _set(book: Array, best: Array, s: int, i: int, value: float) -> None:  # pragma: no cover
    """Write one level (index ``i`` of side ``s``) and keep the side's best index."""
    book[s, i] = value
    b = best[s]
    if value > 0.0:
        if b < 0 or (i > b if s == 0 else i < b):
            best[s] = i
    elif i == b:
        best[s] = _best(book[s], s, b)


@njit(cache=True)
def _shown(ticks: Array, sizes: Array, t: int) -> bool:  # pragma: no cover - compiled
    """True when a non-empty level of ``(ticks, sizes)`` sits at index ``t``."""
    found = False
    for j in range(ticks.shape[0]):
        if sizes[j] > 0.0 and ticks[j] == t:
            found = True
            break
    return found


@njit(cache=True)
def lobster_replay(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    book: Array,
    d_row: Array,
    d_side: Array,
    d_idx: Array,
    d_size: Array,
    d_action: Array,
    ref_idx: Array,
    ref_size: Array,
    prev0_idx: Array,
    prev0_size: Array,
    n_cmp: int,
    sync: bool,
    level_ok: Array,
    classes: Array,
    counters: Array,
    row_ok: Array,
    out_best: Array,
    ops: Array,
) -> int:  # pragma: no cover - compiled
    """Replay deltas over ``book`` (2, n_ticks) and compare with the reference rows.

    Sides are 0 = bid, 1 = ask; ``d_action`` holds BookAction codes (0 SET, 1 CHANGE,
    2 DELETE); ``ref_idx``/``ref_size`` have shape (n, 2, L).
    ``level_ok`` (n_cmp,) counts rows whose level matches on both sides, ``classes`` the
    mismatch classes, ``counters`` [clamped, syncs, phantoms]; ``ops`` (max_ops, 4)
    receives the sync writes (row, side, index, size). Returns the number of writes.
    """
    n, _, L = ref_idx.shape
    best = np.array([_best(book[0], 0, book.shape[1] - 1), _best(book[1], 1, 0)])
    buf = np.empty(L + 64, dtype=np.int64)
    ours = np.empty(L, dtype=np.int64)
    n_ops = 0
    k_delta = 0
    n_delta = d_row.shape[0]
    lvl = np.empty(n_cmp, dtype=np.bool_)
    for r in range(n):
        lvl[:] = True
        while k_delta < n_delta and d_row[k_delta] == r:
            s, i = d_side[k_delta], d_idx[k_delta]
            a = d_action[k_delta]
            new = d_size[k_delta] if a == 0 else 0.0
            if a == 1:
                new = book[s, i] + d_size[k_delta]
                if new < 0.0:
                    counters[0] += 1
                    new = 0.0
            _set(book, best, s, i, new)
            k_delta += 1
        for s in range(2):
            ti = ref_idx[r, s]
            ts = ref_size[r, s]
            if sync:
                pi = ref_idx[r - 1, s] if r > 0 else prev0_idx[s]
                ps = ref_size[r - 1, s] if r > 0 else prev0_size[s]
                m = 0
                for j in range(L):
                    if ts[j] > 0.0:
                        m += 1
                for j in range(L):
                    if ts[j] > 0.0 and not _shown(pi, ps, ti[j]) and book[s, ti[j]] != ts[j]:
                        _set(book, best, s, ti[j], ts[j])
                        counters[1] += 1
                        if n_ops < ops.shape[0]:
                            ops[n_ops, 0], ops[n_ops, 1] = r, s
                            ops[n_ops, 2], ops[n_ops, 3] = ti[j], ts[j]
                        n_ops += 1
                # Our levels inside the reference window that neither row shows.
                worst = ti[L - 1] if m == L else (-1 if s == 0 else book.shape[1])
                again = True
                while again:
                    again = False
                    k = _depth(book[s], s, best[s], buf, -1)
                    for j in range(k):
                        i = buf[j]
                        if (s == 0 and i < worst) or (s == 1 and i > worst):
                            break
                        if not _shown(ti, ts, i) and not _shown(pi, ps, i):
                            _set(book, best, s, i, 0.0)
                            counters[2] += 1
                            if n_ops < ops.shape[0]:
                                ops[n_ops, 0], ops[n_ops, 1] = r, s
                                ops[n_ops, 2], ops[n_ops, 3] = i, 0.0
                            n_ops += 1
                            again = True
                            break
            k = _depth(book[s], s, best[s], ours, n_cmp)
            for j in range(n_cmp):
                have = j < k
                want = ts[j] > 0.0
                if have and want and ours[j] == ti[j] and book[s, ours[j]] == ts[j]:
                    continue
                if not have and not want:
                    continue
                row_ok[r] = False
                lvl[j] = False
                if have and want and ours[j] == ti[j]:
                    classes[0] += 1
                elif not have or (want and (ti[j] > ours[j] if s == 0 else ti[j] < ours[j])):
                    classes[1] += 1
                else:
                    classes[2] += 1
        for j in range(n_cmp):
            if lvl[j]:
                level_ok[j] += 1
        out_best[r, 0] = best[0]
        out_best[r, 1] = best[1]
    return n_ops


def run_replay(
    start: tuple[Array, Array, Array, Array, int],
    deltas: tuple[Array, Array, Array, Array, Array],
    ref: tuple[Array, Array, Array, Array],
    n_cmp: int,
    *,
    sync: bool,
) -> tuple[Array, Array, Array, Array, Array, Array, Array]:
    """Run :func:`lobster_replay` on a fresh dense book.

    ``start`` is the seed (bid indices, sizes, ask indices, sizes, book width),
    ``deltas`` (row, side, index, size, action), ``ref`` (reference indices and sizes,
    the seed as previous row: indices and sizes). Returns ``row_ok``, ``level_ok``,
    ``classes``, ``counters``, the best indices per row, the sync writes and the final
    book.
    """
    bt, bs, at, az, width = start
    ref_idx, ref_size, prev0_idx, prev0_size = ref
    n = ref_idx.shape[0]
    ops_cap = n // 4 + 1024
    while True:
        book = np.zeros((2, width))
        book[0, bt], book[1, at] = bs, az
        level_ok = np.zeros(n_cmp, dtype=np.int64)
        classes = np.zeros(3, dtype=np.int64)
        counters = np.zeros(3, dtype=np.int64)
        row_ok = np.ones(n, dtype=bool)
        out_best = np.zeros((n, 2), dtype=np.int64)
        ops = np.zeros((ops_cap, 4))
        n_ops = lobster_replay(
            book, *deltas, ref_idx, ref_size, prev0_idx, prev0_size, n_cmp, sync,
            level_ok, classes, counters, row_ok, out_best, ops,
        )  # fmt: skip
        if n_ops <= ops_cap:
            return row_ok, level_ok, classes, counters, out_best, ops[:n_ops], book
        ops_cap = n_ops  # rare: run again with room for every sync write


def final_depth(book: Array, lo: int, L: int) -> Array:
    """Final depth of the oracle as (bid tick, bid size, ask tick, ask size) x L, nan-padded."""
    out = np.full((4, L), np.nan)
    out[1] = 0.0
    out[3] = 0.0
    for s, row in ((0, 0), (1, 2)):
        nz = np.flatnonzero(book[s] > 0.0)
        nz = nz[::-1][:L] if s == 0 else nz[:L]
        out[row, : len(nz)] = nz + lo
        out[row + 1, : len(nz)] = book[s, nz]
    return out
