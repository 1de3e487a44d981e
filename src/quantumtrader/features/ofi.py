"""Trade-based order-flow imbalance over trailing event-time windows.

Definition (for a window ``W`` and the time ``t`` of the current trade)::

    ofi_W(t) = (B - S) / (B + S),   B, S = buyer-/seller-initiated contracts of the
                                    trades with ts in (t - W, t]

and ``ofi_W = 0`` when ``B + S = 0``. Trades without an aggressor (auction, direct)
add nothing to ``B`` or ``S`` but still move ``t``. A trade exactly ``W`` old is out.
Units: dimensionless, in [-1, 1]. The windows are exact (no bucketing).

Velocity and acceleration live on a one-second market-time grid. An *active second*
is a second (``floor(ts / 1e9)``) holding at least one trade. When a trade opens a new
active second, the values at the end of the previous active second (after its last
trade) are remembered as ``ofi_prev`` and ``vel_prev``; then, after every trade::

    ofi_W_velocity     = ofi_W(now) - ofi_prev        (OFI units per active second)
    ofi_W_acceleration = velocity(now) - vel_prev     (OFI units per active second²)

Velocity is undefined (None) during the first active second, acceleration during the
first two. Gaps between active seconds are not divided out: this is a difference per
market-activity step, not per wall-clock second.

Implementation: one ring buffer of ``(ts, buy qty, sell qty)`` entries (trades of the
same timestamp are merged) shared by all windows, one tail pointer and running sums
per window; amortized O(1) per trade. The stream side doubles the buffer when full;
the batch side preallocates ``n``.

References
----------
T. Chordia and A. Subrahmanyam, "Order imbalance and individual stock returns",
*Journal of Financial Economics* 72 (2004) 485-518 (trade-based imbalance).
R. Cont, A. Kukanov and S. Stoikov, "The price impact of order book events",
*Journal of Financial Econometrics* 12(1) (2014) 47-88 (the OFI concept; theirs is
book-based, ours is the trade-based variant).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import njit

from quantumtrader.core import DataError

__all__ = ["DEFAULT_OFI_WINDOWS", "OFI_OUTPUTS", "ofi_batch", "ofi_names"]

Array = np.ndarray[Any, Any]
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
DEFAULT_OFI_WINDOWS: tuple[int, ...] = (1, 5, 15, 30, 60)
OFI_OUTPUTS: tuple[str, ...] = ("value", "velocity", "acceleration")
# int state: 0 head (absolute write index), 1 current second, 2 last ts, 3 trades seen,
# then tails[K] and entry counts[K]. float state: buy[K], sell[K], last_val[K],
# last_vel[K], prev_val[K], prev_vel[K].
SI_FIXED = 4
OK, NEED_GROW, OUT_OF_ORDER = 0, 1, -1


def ofi_names(window_minutes: int) -> tuple[str, str, str]:
    """Feature names of one window: ``ofi_5m``, ``ofi_5m_velocity``, ``ofi_5m_acceleration``."""
    base = f"ofi_{window_minutes}m"
    return base, f"{base}_velocity", f"{base}_acceleration"


def ofi_init_state(k: int, capacity: int) -> tuple[Array, Array, Array, Array, Array]:
    """Fresh state for ``k`` windows: ``si, sf, rb_ts, rb_buy, rb_sell``."""
    si = np.zeros(SI_FIXED + 2 * k, dtype=np.int64)
    sf = np.zeros(6 * k)
    sf[2 * k :] = np.nan
    cap = max(int(capacity), 1)
    return si, sf, np.zeros(cap, dtype=np.int64), np.zeros(cap), np.zeros(cap)


def windows_ns(window_minutes: Sequence[int]) -> Array:
    """Window lengths in ns as int64 ``(k,)``.

    Raises
    ------
    ValueError
        If no window is given or one is not a positive integer number of minutes.
    """
    if len(window_minutes) == 0:
        raise ValueError("at least one OFI window is required")
    for w in window_minutes:
        if int(w) != w or w <= 0:
            raise ValueError(f"OFI window must be a positive integer of minutes, got {w!r}")
    return np.asarray([int(w) * NS_PER_MINUTE for w in window_minutes], dtype=np.int64)


@njit(cache=True)
def ofi_step(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    ts: int,
    qty: float,
    side: int,
    W: Array,
    si: Array,
    sf: Array,
    rb_ts: Array,
    rb_buy: Array,
    rb_sell: Array,
    out: Array,
) -> int:  # pragma: no cover - compiled
    """Feed one trade; write ``out[3k + (0, 1, 2)]`` = value, velocity, acceleration.

    Returns OK (0), NEED_GROW (1: buffer full, nothing pushed; grow and call again with
    the same trade) or OUT_OF_ORDER (-1: ``ts`` earlier than the last trade, state
    untouched).
    """
    K = W.shape[0]
    cap = rb_ts.shape[0]
    if si[3] > 0 and ts < si[2]:
        return OUT_OF_ORDER
    head = si[0]
    tail_min = head
    for k in range(K):
        thr = ts - W[k]
        t = si[SI_FIXED + k]
        c = si[SI_FIXED + K + k]
        while t < head and rb_ts[t % cap] <= thr:
            j = t % cap
            sf[k] -= rb_buy[j]
            sf[K + k] -= rb_sell[j]
            c -= 1
            t += 1
        if c == 0:
            sf[k] = 0.0
            sf[K + k] = 0.0
        si[SI_FIXED + k] = t
        si[SI_FIXED + K + k] = c
        tail_min = min(tail_min, t)
    if side != 0:
        b = qty if side > 0 else 0.0
        s = qty if side < 0 else 0.0
        if head > tail_min and rb_ts[(head - 1) % cap] == ts:
            j = (head - 1) % cap
            rb_buy[j] += b
            rb_sell[j] += s
        else:
            if head - tail_min >= cap:
                return NEED_GROW
            j = head % cap
            rb_ts[j] = ts
            rb_buy[j] = b
            rb_sell[j] = s
            si[0] = head + 1
            for k in range(K):
                si[SI_FIXED + K + k] += 1
        for k in range(K):
            sf[k] += b
            sf[K + k] += s
    sec = ts // NS_PER_SECOND
    if si[3] == 0 or sec != si[1]:
        si[1] = sec
        for k in range(K):
            sf[4 * K + k] = sf[2 * K + k]
            sf[5 * K + k] = sf[3 * K + k]
    for k in range(K):
        tot = sf[k] + sf[K + k]
        v = (sf[k] - sf[K + k]) / tot if tot > 0.0 else 0.0
        vel = v - sf[4 * K + k]
        sf[2 * K + k] = v
        sf[3 * K + k] = vel
        out[3 * k] = v
        out[3 * k + 1] = vel
        out[3 * k + 2] = vel - sf[5 * K + k]
    si[2] = ts
    si[3] += 1
    return OK


def ofi_grow(si: Array, k: int, rb_ts: Array, rb_buy: Array, rb_sell: Array) -> tuple[Array, ...]:
    """Return ring arrays of twice the capacity holding the same live entries."""
    cap = rb_ts.shape[0]
    new_cap = 2 * cap
    head = int(si[0])
    tail_min = int(si[SI_FIXED : SI_FIXED + k].min())
    idx = np.arange(tail_min, head, dtype=np.int64)
    out = []
    for arr in (rb_ts, rb_buy, rb_sell):
        new = np.zeros(new_cap, dtype=arr.dtype)
        new[idx % new_cap] = arr[idx % cap]
        out.append(new)
    return tuple(out)


@njit(cache=True)
def _ofi_loop(ts: Array, qty: Array, side: Array, W: Array, out: Array) -> int:  # pragma: no cover
    K = W.shape[0]
    n = ts.shape[0]
    si = np.zeros(SI_FIXED + 2 * K, dtype=np.int64)
    sf = np.zeros(6 * K)
    sf[2 * K :] = np.nan
    cap = n + 1
    rb_ts = np.zeros(cap, dtype=np.int64)
    rb_buy = np.zeros(cap)
    rb_sell = np.zeros(cap)
    for i in range(n):
        if ofi_step(ts[i], qty[i], side[i], W, si, sf, rb_ts, rb_buy, rb_sell, out[i]) != OK:
            return i
    return -1


def ofi_batch(
    ts: Array, qty: Array, side: Array, window_minutes: Sequence[int] = DEFAULT_OFI_WINDOWS
) -> Array:
    """OFI, velocity and acceleration after each trade (batch twin of the stream classes).

    Parameters
    ----------
    ts, qty, side
        Shape ``(n,)``: int64 ns UTC (non-decreasing), float64 contracts, aggressor.
    window_minutes
        Window lengths in minutes, ``k`` of them.

    Returns
    -------
    numpy.ndarray
        float64 ``(n, 3k)``; columns ``3j, 3j+1, 3j+2`` are value, velocity and
        acceleration of window ``j``; NaN where undefined (warm-up).

    Raises
    ------
    ValueError
        If the arrays differ in length or a window is invalid.
    DataError
        If ``ts`` decreases.
    """
    W = windows_ns(window_minutes)
    n = ts.shape[0]
    if qty.shape[0] != n or side.shape[0] != n:
        raise ValueError("ts, qty and side must have the same length")
    out = np.full((n, 3 * W.shape[0]), np.nan)
    bad = int(
        _ofi_loop(
            np.ascontiguousarray(ts, dtype=np.int64),
            np.ascontiguousarray(qty, dtype=np.float64),
            np.ascontiguousarray(side, dtype=np.int64),
            W,
            out,
        )
    )
    if bad >= 0:
        raise DataError(f"trade {bad} is earlier than its predecessor (trades out of order)")
    return out
