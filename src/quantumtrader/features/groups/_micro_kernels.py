"""State layout and numba helpers of the microstructure group (:mod:`.micro`).

The group keeps five rings in its ``(f, i)`` state:

``R_TRADE``
    One entry per trade (int column 0 ``ts``), ``NV`` float columns summed over the
    ``nW`` event-time windows (multi-window sums as in :mod:`quantumtrader.features.ring`).
``R_REAL``
    Trades waiting for (then holding) their realized spread at horizon ``D``: floats
    ``p, q, m0, rs, impact``, ints ``ts, ok``. ``I_MAT`` is the sequence number of the
    first trade not yet matured; per-window tails (``rtails``) expire matured trades by
    their maturity time ``ts + D``.
``R_KYLE``
    One entry per completed time bucket (stamp: bucket end), ``NVK`` float columns:
    ``x, y, xx, xy, yy, 1, amihud, amihud_n`` summed over one window.
``R_ROLL``
    The last ``N`` pairs ``(dp_t, dp_{t-1})`` of tick price changes.
``R_TOX``
    Completed volume buckets, run-length encoded: one entry per trade that completes
    at least one bucket = the first completed bucket (floats ``|B - S|, B - S, bvc, dP``)
    followed by ``n_run`` buckets filled by that trade alone (floats ``|s| V, s V``);
    ints ``n_first`` (1 or 0 once trimmed), ``n_run``.

All offsets below are fixed; the per-window slots follow (:func:`layout`). Ring access
goes through :mod:`quantumtrader.features.ring` (no integer ``%`` in the hot loops).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from quantumtrader.features.ring import (
    mw_commit,
    mw_expire,
    mw_push,
    ring_count,
    ring_end_seq,
    ring_pop,
    ring_push_seq,
    ring_seq_fo,
    ring_seq_io,
    ring_start_seq,
)
from quantumtrader.features.state import ring_header

# The layout constants (R_*, C_*, I_*, F_*, ...) are imported by name from micro.py.
__all__ = [
    "kyle_close",
    "kyle_emit",
    "layout",
    "realized_expire",
    "realized_mature",
    "realized_push",
    "roll_add",
    "roll_emit",
    "tox_add",
    "tox_complete",
    "tox_emit",
    "tox_trim",
]

Array = np.ndarray[Any, Any]
NS_SEC = 1_000_000_000
NS_DAY = 86_400 * NS_SEC
BPS = 1e4
HALF_PI = math.pi / 2.0
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_NAN = np.nan

# rings
R_TRADE, R_REAL, R_KYLE, R_ROLL, R_TOX = 0, 1, 2, 3, 4
N_RINGS = 5

# R_TRADE float columns (summed per window)
C_EFF, C_EFFN = 0, 1  # effective spread (bps) and its count
C_TRSV, C_TRAG, C_TRCMP = 2, 3, 4  # tick rule: signed volume, agreements, comparable
C_LRSV, C_LRAG, C_LRCMP = 5, 6, 7  # Lee-Ready: same
C_N, C_GAP, C_GAPN = 8, 9, 10  # trades, inter-trade gaps (ns), gaps counted
C_R2, C_BP, C_NZ = 11, 12, 13  # r^2, |r_t||r_t-1|, non-zero returns
NV = 14
N_OUT_WINDOW = 12  # outputs per window

# R_REAL columns
RF_P, RF_Q, RF_M0, RF_RS, RF_IMP = 0, 1, 2, 3, 4
RI_TS, RI_OK = 0, 1

# R_KYLE columns (x signed volume, y tick change, 1 = count)
K_X, K_Y, K_XX, K_XY, K_YY, K_N, K_AMI, K_AMIN = 0, 1, 2, 3, 4, 5, 6, 7
NVK = 8

# R_TOX columns
X_EX, X_SG, X_BVC, X_DP, X_REX, X_RSG = 0, 1, 2, 3, 4, 5
XI_NF, XI_NR = 0, 1
# toxicity sums (offsets from F_XS)
S_EX, S_SG, S_BVC, S_DP, S_DP2 = 0, 1, 2, 3, 4

# fixed int slots
_I0 = ring_header(N_RINGS)
I_NW = _I0  # number of windows
I_OFFS = _I0 + 1  # session offset, ns
I_DAYEND = _I0 + 2  # end (exclusive, ns UTC) of the session of the last trade
I_HASPREV = _I0 + 3  # a previous trade exists in this session
I_PREVTICK = _I0 + 4  # its price, ticks
I_LASTDIR = _I0 + 5  # last non-zero tick direction (session)
I_UPRUN = _I0 + 6
I_DNRUN = _I0 + 7
I_HASDP = _I0 + 8  # a previous tick change exists (session)
I_PREVDP = _I0 + 9
I_HASR = _I0 + 10  # a previous log return exists (session)
I_NTR = _I0 + 11  # trades seen
I_LASTTS = _I0 + 12  # ts of the last trade
I_BOOK = _I0 + 13  # book frames with a two-sided top seen
I_ROLLN = _I0 + 14  # Roll window, pairs
I_HOR = _I0 + 15  # realized-spread horizon D, ns
I_MAT = _I0 + 16  # first not-yet-matured seq of R_REAL
I_KB = _I0 + 17  # Kyle bucket length, ns
I_KWIN = _I0 + 18  # Kyle window, ns (a one-window mw array)
I_KTAIL = _I0 + 19  # its tail
I_KOPEN = _I0 + 20  # a bucket is open
I_KEND = _I0 + 21  # end (exclusive, ns) of the open bucket
I_KHASPREV = _I0 + 22  # the previous bucket's close exists (session)
I_KPREV = _I0 + 23  # previous bucket close, ticks
I_KCLOSE = _I0 + 24  # open bucket close, ticks
I_XN = _I0 + 25  # toxicity buckets n
I_XC = _I0 + 26  # buckets held
I_XSTART = _I0 + 27  # first trade seen
I_XREF = _I0 + 28  # close of the previous volume bucket, ticks
N_IFIX = 29
I_WINS = _I0 + N_IFIX  # then wins (nW), tails (nW), rtails (nW)

# fixed float slots
F_TICK, F_BID, F_ASK, F_MID = 0, 1, 2, 3
F_LASTP, F_LASTABSR = 4, 5
F_KX, F_KVOL, F_KPREVP, F_KCLOSEP = 6, 7, 8, 9
F_KSUM = 10  # NVK sums
F_RSA, F_RSB, F_RSAB = 18, 19, 20  # Roll sums
F_XV, F_XFILL, F_XBUY, F_XSELL = 21, 22, 23, 24
F_XS = 25  # 5 toxicity sums
F_WSUMS = 30  # then NV * nW window sums, 3 * nW realized sums (rs, impact, count)


@njit(cache=True, inline="always")
def layout(i: Array) -> tuple[int, int, int, int, int, int]:  # pragma: no cover - compiled
    """``(nW, wins, tails, rtails, wsums, rsums)`` offsets of the per-window slots."""
    nw = i[I_NW]
    return nw, I_WINS, I_WINS + nw, I_WINS + 2 * nw, F_WSUMS, F_WSUMS + NV * nw


@njit(cache=True, inline="always")
def realized_mature(f: Array, i: Array, t: int, nw: int, rsums: int) -> None:  # pragma: no cover
    """Give every pending trade with ``ts + D < t`` its realized spread and impact.

    Called before the mid changes (book kernel) and at trades and samples: a pending
    trade with ``ts + D < t`` has had no book frame after ``ts + D`` yet, so the current
    mid is the mid as of ``ts + D`` whenever this runs. Trades matured while the book
    is one-sided get ``ok = 0`` and count nowhere.
    """
    end = ring_end_seq(i, R_REAL)
    m = i[I_MAT]
    if m >= end:
        return
    hor = i[I_HOR]
    mid = f[F_MID]
    ok = mid > 0.0
    while m < end:
        io = ring_seq_io(i, R_REAL, m)
        if i[io + RI_TS] + hor >= t:
            break
        if ok:
            fo = ring_seq_fo(i, R_REAL, m)
            q = f[fo + RF_Q]
            m0 = f[fo + RF_M0]
            rs = 2.0 * q * (f[fo + RF_P] - mid) / m0 * BPS
            imp = 2.0 * q * (mid - m0) / m0 * BPS
            f[fo + RF_RS] = rs
            f[fo + RF_IMP] = imp
            i[io + RI_OK] = 1
            for w in range(nw):
                f[rsums + 3 * w] += rs
                f[rsums + 3 * w + 1] += imp
                f[rsums + 3 * w + 2] += 1.0
        else:
            i[io + RI_OK] = 0
        m += 1
    i[I_MAT] = m


@njit(cache=True, inline="always")
def realized_expire(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, t: int, nw: int, wins: int, rtails: int, rsums: int
) -> None:  # pragma: no cover - compiled
    """Drop matured trades with ``ts + D <= t - W`` from each window; pop the unused."""
    m = i[I_MAT]
    hor = i[I_HOR]
    lo = m
    for w in range(nw):
        s = i[rtails + w]
        cut = t - i[wins + w]
        base = rsums + 3 * w
        while s < m:
            io = ring_seq_io(i, R_REAL, s)
            if i[io + RI_TS] + hor > cut:
                break
            if i[io + RI_OK]:
                fo = ring_seq_fo(i, R_REAL, s)
                f[base] -= f[fo + RF_RS]
                f[base + 1] -= f[fo + RF_IMP]
                f[base + 2] -= 1.0
            s += 1
        if s == m:
            f[base] = 0.0
            f[base + 1] = 0.0
            f[base + 2] = 0.0
        i[rtails + w] = s
        lo = min(lo, s)
    while ring_count(i, R_REAL) > 0 and ring_start_seq(i, R_REAL) < lo:
        ring_pop(i, R_REAL)


@njit(cache=True, inline="always")
def realized_push(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, ts: int, price: float, q: int, mid: float
) -> None:  # pragma: no cover
    """Queue one signed trade (with the mid at its time) for its realized spread."""
    seq = ring_push_seq(i, R_REAL)
    fo = ring_seq_fo(i, R_REAL, seq)
    io = ring_seq_io(i, R_REAL, seq)
    f[fo + RF_P] = price
    f[fo + RF_Q] = q
    f[fo + RF_M0] = mid
    f[fo + RF_RS] = 0.0
    f[fo + RF_IMP] = 0.0
    i[io + RI_TS] = ts
    i[io + RI_OK] = 0


@njit(cache=True, inline="always")
def roll_add(f: Array, i: Array, dp: int) -> None:  # pragma: no cover - compiled
    """Append the pair ``(dp, previous dp)`` (ticks) and keep the last ``N`` pairs."""
    if i[I_HASDP]:
        a = float(dp)
        b = float(i[I_PREVDP])
        fo = ring_seq_fo(i, R_ROLL, ring_push_seq(i, R_ROLL))
        f[fo] = a
        f[fo + 1] = b
        f[F_RSA] += a
        f[F_RSB] += b
        f[F_RSAB] += a * b
        if ring_count(i, R_ROLL) > i[I_ROLLN]:
            fo = ring_seq_fo(i, R_ROLL, ring_start_seq(i, R_ROLL))
            f[F_RSA] -= f[fo]
            f[F_RSB] -= f[fo + 1]
            f[F_RSAB] -= f[fo] * f[fo + 1]
            ring_pop(i, R_ROLL)
    i[I_PREVDP] = dp
    i[I_HASDP] = 1


@njit(cache=True, inline="always")
def kyle_point(f: Array, i: Array) -> tuple[float, float, float, float]:  # pragma: no cover
    """``(x, y, amihud, amihud_n)`` of the open bucket against the previous close."""
    x = f[F_KX]
    y = float(i[I_KCLOSE] - i[I_KPREV])
    vol = f[F_KVOL]
    p1 = f[F_KCLOSEP]
    p0 = f[F_KPREVP]
    if vol > 0.0 and p1 > 0.0 and p0 > 0.0:
        return x, y, abs(math.log(p1 / p0)) * BPS / vol, 1.0
    return x, y, 0.0, 0.0


@njit(cache=True, inline="always")
def kyle_close(f: Array, i: Array, ts: int) -> None:  # pragma: no cover - compiled
    """Close the open bucket: push its point if a previous close exists, keep its close."""
    if i[I_KHASPREV]:
        mw_expire(f, i, R_KYLE, NVK, 1, F_KSUM, I_KTAIL, I_KWIN, ts)
        stamp = min(i[I_KEND], ts)
        fo = mw_push(i, R_KYLE, stamp)
        x, y, ami, amin = kyle_point(f, i)
        f[fo + K_X] = x
        f[fo + K_Y] = y
        f[fo + K_XX] = x * x
        f[fo + K_XY] = x * y
        f[fo + K_YY] = y * y
        f[fo + K_N] = 1.0
        f[fo + K_AMI] = ami
        f[fo + K_AMIN] = amin
        mw_commit(f, NVK, 1, F_KSUM, fo)
    i[I_KPREV] = i[I_KCLOSE]
    f[F_KPREVP] = f[F_KCLOSEP]
    i[I_KHASPREV] = 1
    i[I_KOPEN] = 0


@njit(cache=True, inline="always")
def kyle_emit(f: Array, i: Array, ts: int, out: Array, o: int) -> None:  # pragma: no cover
    """Write Kyle's lambda, its R^2 and Amihud's ratio at ``out[o:o+3]``.

    Uses the completed buckets in the window plus the open bucket when it ended at or
    before ``ts`` (it is pushed unchanged when the next trade arrives).
    """
    s = F_KSUM
    n, sx, sy = f[s + K_N], f[s + K_X], f[s + K_Y]
    sxx, sxy, syy = f[s + K_XX], f[s + K_XY], f[s + K_YY]
    ami, amin = f[s + K_AMI], f[s + K_AMIN]
    if i[I_KOPEN] and i[I_KHASPREV]:
        end = i[I_KEND]
        if ts - i[I_KWIN] < end <= ts:
            x, y, a, an = kyle_point(f, i)
            n += 1.0
            sx += x
            sy += y
            sxx += x * x
            sxy += x * y
            syy += y * y
            ami += a
            amin += an
    den = n * sxx - sx * sx
    if n >= 2.0 and den > 1e-12 * n * sxx:
        num = n * sxy - sx * sy
        out[o] = num / den
        vy = n * syy - sy * sy
        out[o + 1] = min(num * num / (den * vy), 1.0) if vy > 1e-12 * n * syy else 0.0
    else:
        out[o] = _NAN
        out[o + 1] = _NAN
    out[o + 2] = ami / amin if amin > 0.0 else _NAN


@njit(cache=True, inline="always")
def tox_trim(f: Array, i: Array) -> None:  # pragma: no cover - compiled
    """Drop the oldest buckets until ``n`` are held (partial runs are shortened)."""
    n = i[I_XN]
    c = i[I_XC]
    while c > n:
        old = ring_start_seq(i, R_TOX)
        fo = ring_seq_fo(i, R_TOX, old)
        io = ring_seq_io(i, R_TOX, old)
        if i[io + XI_NF] > 0:
            f[F_XS + S_EX] -= f[fo + X_EX]
            f[F_XS + S_SG] -= f[fo + X_SG]
            f[F_XS + S_BVC] -= f[fo + X_BVC]
            f[F_XS + S_DP] -= f[fo + X_DP]
            f[F_XS + S_DP2] -= f[fo + X_DP] * f[fo + X_DP]
            i[io + XI_NF] = 0
            c -= 1
        else:
            k = min(i[io + XI_NR], c - n)
            f[F_XS + S_EX] -= k * f[fo + X_REX]
            f[F_XS + S_SG] -= k * f[fo + X_RSG]
            i[io + XI_NR] -= k
            c -= k
        if i[io + XI_NF] == 0 and i[io + XI_NR] == 0:
            ring_pop(i, R_TOX)
    i[I_XC] = c


@njit(cache=True, inline="always")
def _bvc_share(dp: float, s1: float, s2: float, c: int) -> float:  # pragma: no cover
    """Buy share ``Phi(dp / sigma)``; sigma = std of the ``c`` held bucket changes."""
    var = 0.0
    if c >= 2:
        m1 = s1 / c
        var = s2 / c - m1 * m1
    if var > 0.0:
        return 0.5 * math.erfc(-dp / math.sqrt(var) * _SQRT1_2)
    if dp > 0.0:
        return 1.0
    if dp < 0.0:
        return 0.0
    return 0.5


@njit(cache=True, inline="always")
def tox_add(f: Array, i: Array, pt: int, qty: float, side: int) -> None:  # pragma: no cover
    """Pour one trade into volume buckets of size ``V`` (split at bucket boundaries).

    Completing buckets pushes ONE ring entry: the first completed bucket (mixed with
    earlier trades) and the run of buckets this trade fills on its own (their price
    change is 0, so their BVC imbalance is 0 and their exact imbalance is ``|side|``).
    """
    if not qty > 0.0:
        return
    V = f[F_XV]
    eps = 1e-9 * V
    if i[I_XSTART] == 0:
        i[I_XSTART] = 1
        i[I_XREF] = pt
    sgn = 1 if side > 0 else (-1 if side < 0 else 0)
    space = V - f[F_XFILL]
    if qty < space - eps:
        f[F_XFILL] += qty
        if sgn > 0:
            f[F_XBUY] += qty
        elif sgn < 0:
            f[F_XSELL] += qty
        return
    tox_complete(f, i, pt, qty, sgn, space)


@njit(cache=True, inline="always")
def tox_complete(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, pt: int, qty: float, sgn: int, space: float
) -> None:  # pragma: no cover - compiled
    """The trade fills the open bucket (``space`` left in it): push, refill, trim."""
    V = f[F_XV]
    eps = 1e-9 * V
    b = f[F_XBUY] + (space if sgn > 0 else 0.0)
    s = f[F_XSELL] + (space if sgn < 0 else 0.0)
    rem = qty - space
    nrun = max(0, math.floor((rem + eps) / V))
    rem -= nrun * V
    if rem < eps:
        rem = 0.0
    dp = float(pt - i[I_XREF])
    c = i[I_XC]
    share = _bvc_share(dp, f[F_XS + S_DP], f[F_XS + S_DP2], c)
    bvc = abs(2.0 * share - 1.0)
    seq = ring_push_seq(i, R_TOX)
    fo = ring_seq_fo(i, R_TOX, seq)
    io = ring_seq_io(i, R_TOX, seq)
    f[fo + X_EX] = abs(b - s)
    f[fo + X_SG] = b - s
    f[fo + X_BVC] = bvc
    f[fo + X_DP] = dp
    f[fo + X_REX] = abs(sgn) * V
    f[fo + X_RSG] = sgn * V
    i[io + XI_NF] = 1
    i[io + XI_NR] = nrun
    f[F_XS + S_EX] += abs(b - s) + nrun * abs(sgn) * V
    f[F_XS + S_SG] += (b - s) + nrun * sgn * V
    f[F_XS + S_BVC] += bvc
    f[F_XS + S_DP] += dp
    f[F_XS + S_DP2] += dp * dp
    i[I_XC] = c + 1 + nrun
    f[F_XFILL] = rem
    f[F_XBUY] = rem if sgn > 0 else 0.0
    f[F_XSELL] = rem if sgn < 0 else 0.0
    i[I_XREF] = pt
    tox_trim(f, i)


@njit(cache=True, inline="always")
def tox_emit(f: Array, i: Array, out: Array, o: int) -> None:  # pragma: no cover - compiled
    """Write exact, exact signed and BVC toxicity at ``out[o:o+3]`` (NaN before n buckets)."""
    n = i[I_XN]
    if i[I_XC] < n:
        out[o] = _NAN
        out[o + 1] = _NAN
        out[o + 2] = _NAN
        return
    nv = n * f[F_XV]
    out[o] = f[F_XS + S_EX] / nv
    out[o + 1] = f[F_XS + S_SG] / nv
    out[o + 2] = min(max(f[F_XS + S_BVC] / n, 0.0), 1.0)  # clip rounding residue


@njit(cache=True, inline="always")
def roll_emit(f: Array, i: Array, out: Array, o: int) -> None:  # pragma: no cover - compiled
    """Write Roll's spread and the first-order autocovariance at ``out[o:o+2]``."""
    n = ring_count(i, R_ROLL)
    if n < i[I_ROLLN]:
        out[o] = _NAN
        out[o + 1] = _NAN
        return
    cov = f[F_RSAB] / n - (f[F_RSA] / n) * (f[F_RSB] / n)
    out[o] = 2.0 * math.sqrt(-cov) if cov < 0.0 else 0.0
    out[o + 1] = cov
