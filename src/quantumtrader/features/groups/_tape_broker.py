"""Broker-attributed tape kernels of the tape group (numba, state in ``(f, i)``).

B3 prints carry the buyer's and the seller's broker codes. Codes map to a *slot*: code
``c`` in ``0..max_broker_code`` -> slot ``c``; larger codes -> the single "other" slot
``M - 1`` (one pseudo-broker, counted in ``I_N_OTHER``, never dropped); code -1 (unknown)
-> no slot (counted in ``I_N_UNKNOWN`` and ignored).

Per slot ``b`` the state keeps, for the session, the aggressive buy and sell quantity
``AB_b``, ``AS_b`` (the aggressor's broker only: the buyer's broker of a buy-initiated
print, the seller's of a sell-initiated one; prints without aggressor add nothing) and
the traded quantity ``V_b`` (both sides of every print, aggressor or not), and for the
trailing window ``AB_b``, ``AS_b`` again (ring ``R_BRK`` holds one entry per aggressor
print, subtracted when it leaves the window). Totals ``A = sum(AB + AS)``, ``S2 =
sum((AB_b + AS_b)^2)`` are kept incrementally (exact for integral quantities), so the
Herfindahl index ``S2 / A^2`` costs O(1).

Top-N selections scan the list of slots seen so far (each slot enters once), so an emit
costs O(number of distinct brokers seen), at most ``M`` and about 70 on a B3 DOL day.
Each selection's result is cached in the state with a dirty flag (``I_DIRTY_*``) that
every change of its inputs sets, so an emit rescans only what changed since the last.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from quantumtrader.features.groups._tape_layout import (
    F_SA,
    F_SS2,
    F_SV,
    F_WA,
    F_WS2,
    I_BWIN,
    I_DIRTY_SN,
    I_DIRTY_SV,
    I_DIRTY_WN,
    I_M,
    I_N_OTHER,
    I_N_UNKNOWN,
    I_NCL,
    I_NSEEN,
    I_O_CL,
    I_O_CLNET,
    I_O_SAB,
    I_O_SAS,
    I_O_SCR,
    I_O_SEEN,
    I_O_SEENF,
    I_O_SV,
    I_O_WAB,
    I_O_WAS,
    I_SHN,
    I_TOPN,
    R_BRK,
)
from quantumtrader.features.jit import fjit, fjit_inline
from quantumtrader.features.ring import ring_count, ring_fo, ring_io, ring_pop, ring_push
from quantumtrader.features.state import RH_HEAD, ring_header

__all__ = [
    "broker_expire",
    "broker_session_reset",
    "broker_top_net",
    "broker_top_volume",
    "broker_trade",
]

Array = np.ndarray[Any, Any]
_H = ring_header(R_BRK)


@fjit_inline
def _slot(i: Array, code: int) -> int:  # pragma: no cover - compiled
    """Slot of a broker code (-1 for unknown), marking it seen."""
    if code < 0:
        i[I_N_UNKNOWN] += 1
        return -1
    m = i[I_M]
    b = code if code < m - 1 else m - 1
    if b == m - 1:
        i[I_N_OTHER] += 1
    if i[i[I_O_SEENF] + b] == 0:
        i[i[I_O_SEENF] + b] = 1
        i[i[I_O_SEEN] + i[I_NSEEN]] = b
        i[I_NSEEN] += 1
    return int(b)


@fjit_inline
def broker_session_reset(f: Array, i: Array) -> None:  # pragma: no cover - compiled
    """Zero the session arrays (O(brokers seen))."""
    seen = i[I_O_SEEN]
    sab, sas, sv = i[I_O_SAB], i[I_O_SAS], i[I_O_SV]
    for k in range(i[I_NSEEN]):
        b = i[seen + k]
        f[sab + b] = 0.0
        f[sas + b] = 0.0
        f[sv + b] = 0.0
    f[F_SA] = 0.0
    f[F_SS2] = 0.0
    f[F_SV] = 0.0
    i[I_DIRTY_SN] = 1
    i[I_DIRTY_SV] = 1
    o = i[I_O_CLNET]
    for c in range(i[I_NCL]):
        f[o + c] = 0.0


@fjit_inline
def broker_expire(f: Array, i: Array, t: int) -> None:  # pragma: no cover - compiled
    """Drop aggressor prints with ``ts <= t - W`` from the window arrays."""
    cut = t - i[I_BWIN]
    wab, was = i[I_O_WAB], i[I_O_WAS]
    popped = False
    while ring_count(i, R_BRK) > 0:
        row = i[_H + RH_HEAD]
        io = ring_io(i, R_BRK, row)
        if i[io] > cut:
            break
        b = i[io + 1]
        q = f[ring_fo(i, R_BRK, row)]
        aq = abs(q)
        a = f[wab + b] + f[was + b]
        if q > 0.0:
            f[wab + b] -= aq
        else:
            f[was + b] -= aq
        f[F_WS2] += aq * aq - 2.0 * a * aq
        f[F_WA] -= aq
        ring_pop(i, R_BRK)
        popped = True
    if popped:
        i[I_DIRTY_WN] = 1
    if popped and ring_count(i, R_BRK) == 0:  # window empty: exact zeros
        f[F_WA] = 0.0
        f[F_WS2] = 0.0
        seen = i[I_O_SEEN]
        for k in range(i[I_NSEEN]):
            b = i[seen + k]
            f[wab + b] = 0.0
            f[was + b] = 0.0


@fjit_inline
def broker_trade(  # noqa: PLR0917 - flat kernel arguments
    f: Array, i: Array, ts: int, qty: float, side: int, buyer: int, seller: int
) -> None:  # pragma: no cover - compiled
    """Attribute one print (expire the window first)."""
    broker_expire(f, i, ts)
    bb = _slot(i, buyer)
    bs = _slot(i, seller)
    sv = i[I_O_SV]
    if bb >= 0:
        f[sv + bb] += qty
        f[F_SV] += qty
    if bs >= 0:
        f[sv + bs] += qty
        f[F_SV] += qty
    if bb >= 0 or bs >= 0:
        i[I_DIRTY_SV] = 1
    agg = bb if side > 0 else (bs if side < 0 else -1)
    if agg < 0:
        return
    i[I_DIRTY_SN] = 1
    i[I_DIRTY_WN] = 1
    sab, sas = i[I_O_SAB], i[I_O_SAS]
    a = f[sab + agg] + f[sas + agg]
    f[F_SS2] += 2.0 * a * qty + qty * qty
    f[F_SA] += qty
    wab, was = i[I_O_WAB], i[I_O_WAS]
    aw = f[wab + agg] + f[was + agg]
    f[F_WS2] += 2.0 * aw * qty + qty * qty
    f[F_WA] += qty
    if side > 0:
        f[sab + agg] += qty
        f[wab + agg] += qty
    else:
        f[sas + agg] += qty
        f[was + agg] += qty
    if i[I_NCL] > 0:
        c = i[i[I_O_CL] + agg]
        if c >= 0:
            f[i[I_O_CLNET] + c] += side * qty
    row = ring_push(i, R_BRK)
    io = ring_io(i, R_BRK, row)
    i[io] = ts
    i[io + 1] = agg
    f[ring_fo(i, R_BRK, row)] = qty if side > 0 else -qty


@fjit
def _insert(f: Array, scr: int, n: int, filled: int, v: float) -> int:  # pragma: no cover
    """Insert ``v`` into the descending top-``n`` list at ``f[scr:scr+filled]``."""
    if filled < n:
        pos = filled
        filled += 1
    elif v > f[scr + n - 1]:
        pos = n - 1
    else:
        return filled
    while pos > 0 and f[scr + pos - 1] < v:
        f[scr + pos] = f[scr + pos - 1]
        pos -= 1
    f[scr + pos] = v
    return filled


@fjit
def broker_top_net(
    f: Array, i: Array, ab: int, as_: int
) -> tuple[float, float]:  # pragma: no cover
    """Top-``top_n`` net buyers and sellers in one scan of the brokers seen.

    Returns (sum of the ``top_n`` largest positive nets ``AB_b - AS_b``, sum of the
    ``top_n`` most negative nets); 0 for a side no broker is on.
    """
    n = i[I_TOPN]
    pos = i[I_O_SCR]
    neg = pos + n
    seen = i[I_O_SEEN]
    n_pos = 0
    n_neg = 0
    for k in range(i[I_NSEEN]):
        b = i[seen + k]
        v = f[ab + b] - f[as_ + b]
        if v > 0.0:
            n_pos = _insert(f, pos, n, n_pos, v)
        elif v < 0.0:
            n_neg = _insert(f, neg, n, n_neg, -v)
    buy = 0.0
    for k in range(n_pos):
        buy += f[pos + k]
    sell = 0.0
    for k in range(n_neg):
        sell -= f[neg + k]
    return buy, sell


@fjit
def broker_top_volume(f: Array, i: Array) -> tuple[float, float]:  # pragma: no cover
    """The ``share_n`` slots with most session volume (ties: lower slot first).

    Returns (their summed volume ``sum V_b``, their summed aggressive net ``sum AB_b -
    AS_b``).
    """
    n = i[I_SHN]
    sv, sab, sas = i[I_O_SV], i[I_O_SAB], i[I_O_SAS]
    sv_scr = i[I_O_SCR]
    sb_scr = sv_scr + n
    seen = i[I_O_SEEN]
    filled = 0
    for k in range(i[I_NSEEN]):
        b = i[seen + k]
        v = f[sv + b]
        if v <= 0.0:
            continue
        if filled < n:
            pos = filled
            filled += 1
        elif v > f[sv_scr + n - 1] or (v == f[sv_scr + n - 1] and b < f[sb_scr + n - 1]):
            pos = n - 1
        else:
            continue
        while pos > 0 and (
            f[sv_scr + pos - 1] < v or (f[sv_scr + pos - 1] == v and f[sb_scr + pos - 1] > b)
        ):
            f[sv_scr + pos] = f[sv_scr + pos - 1]
            f[sb_scr + pos] = f[sb_scr + pos - 1]
            pos -= 1
        f[sv_scr + pos] = v
        f[sb_scr + pos] = b
    vol = 0.0
    net = 0.0
    for k in range(filled):
        vol += f[sv_scr + k]
        b = int(f[sb_scr + k])
        net += f[sab + b] - f[sas + b]
    return vol, net
