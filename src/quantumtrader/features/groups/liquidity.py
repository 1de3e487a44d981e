"""Liquidity group: displayed depth, weighted mid, book slope and liquidity dynamics.

Features (defaults: depth at 1, 5, 10 levels, ``W`` = 10 s, top 5 levels for the
replenishment rate and the score, ``K`` = ``ctx.levels`` = 10; 20 features):

* ``liq_depth_{bid,ask}_N``: displayed size of the best ``N`` levels of a side;
  ``liq_depth_imb_N``: ``(bid - ask) / (bid + ask)`` of those depths.
* ``liq_wmid``: size-weighted mid of level 1, ``(Pb qa + Pa qb) / (qa + qb)``;
  ``liq_microprice_dist_ticks``: ``(wmid - mid) / tick``.
* ``liq_slope_{bid,ask}_K``: least-squares slope of cumulative depth against the tick
  distance of the ``K`` visible levels (Næs & Skjeltorp 2006).
* ``liq_score_S``: depth of the best ``S`` levels, both sides, per tick of spread.
* ``liq_taken_Ws``: traded volume; ``liq_touch_added_Ws``: size added at the best
  level of either side; ``liq_consumption_ratio_Ws``: ``taken / (taken + added)``;
  ``liq_hidden_Ws``: volume executed beyond the displayed size at its price;
  ``liq_replenish_rate_{bid,ask}_S_Ws``: size added in the best ``S`` levels per second.

Book-to-book accounting (``liquidity_book``, ``liquidity_trade``). The group keeps the
last frame and, per visible level of it, the volume executed at that price since (trades
hitting the side: sells hit bids, buys lift asks). For a price ``p`` shown with size
``q1`` in a new frame and ``q0`` in the previous one (0 when ``p`` was not shown but lies
inside the previous frame's range), the size added is
``max(0, q1 - q0 + min(x, q0))`` with ``x`` the volume executed at ``p`` in between: the
displayed size that trades removed is added back, so trades are not mistaken for
cancellations and refills are seen although the net size did not grow. A trade adds
``max(0, x_after - q0) - max(0, x_before - q0)`` to hidden volume: the part of the
cumulated execution at ``p`` beyond what was displayed. Prices beyond the last visible
level of a full ``K``-level side carry no information and count as neither added nor
hidden.

Output order: per depth level ``N`` bid, ask, imbalance; then wmid, microprice distance,
slope bid, slope ask, score, taken, touch added, consumption ratio, hidden, replenishment
rate bid, ask. Book features come from the last frame (O(K) per emit); the flows are
running sums over one event-time window, updated in O(1) amortized per trade and O(K)
per frame.

Layout (``i``): ring 0 ``(ts | taken, hidden, touch added, bid added, ask added)``, then
``I_K`` levels, ``I_KW`` width of the last frame, ``I_R`` top levels (replenishment rate,
score), ``I_WIN`` window ns, ``I_NFR`` frames seen, ``I_BANK`` current bank, ``I_NB`` /
``I_NA`` shown levels of the last frame, ``I_ND`` depth level count, then the depth
levels. (``f``): tick, 1 / tick, window seconds, best
bid and ask prices of the last frame, the five window sums, the executed volume per
shown level ``(2, K)``, then two banks (last frame, previous frame: a new frame is merged
against the current bank while written to the other) of level keys ``(2, K)`` (``+ticks``
on bids, ``-ticks`` on asks, so larger is better on both sides) and sizes ``(2, K)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from quantumtrader.features.group import FeatureDoc, Group, GroupContext
from quantumtrader.features.groups._liquidity_docs import liquidity_docs
from quantumtrader.features.jit import fjit, fjit_inline
from quantumtrader.features.state import (
    RH_CAP,
    RH_COUNT,
    RH_FOFF,
    RH_HEAD,
    RH_IOFF,
    RH_SEQ,
    State,
    StateBuilder,
    ring_header,
)

__all__ = ["LiquidityGroup"]

Array = np.ndarray[Any, Any]
NS_SEC = 1_000_000_000
NV = 5  # values per ring entry: taken, hidden, touch added, bid added, ask added
_R = 0  # the window ring
_H = ring_header(_R)
I_K = ring_header(1)
I_KW, I_R, I_WIN, I_NFR = I_K + 1, I_K + 2, I_K + 3, I_K + 4
I_BANK, I_NB, I_NA, I_ND = I_K + 5, I_K + 6, I_K + 7, I_K + 8
I_DL = I_K + 9
N_IFIX = 9
F_TICK, F_INV, F_WSEC, F_PB, F_PA, F_SUMS = 0, 1, 2, 3, 4, 5
F_EX = F_SUMS + NV


@fjit_inline
def _bank(i: Array) -> tuple[int, int]:  # pragma: no cover - compiled
    """``K`` and the offset of the current bank: keys ``(2, K)`` then sizes ``(2, K)``."""
    k = i[I_K]
    return k, F_EX + 2 * k + 4 * k * i[I_BANK]


@fjit_inline
def _key(price: float, inv_tick: float, dirn: float) -> float:  # pragma: no cover - compiled
    return dirn * float(np.floor(price * inv_tick + 0.5))


@fjit_inline
def _expire(f: Array, i: Array, ts: int) -> None:  # pragma: no cover - compiled
    """Drop ring entries with ``ts_entry <= ts - W`` from the window sums (exact 0 if empty).

    One window, so the ring holds exactly the window's entries (oldest first); this is
    :func:`~quantumtrader.features.ring.mw_expire` for ``n_w = 1`` without the
    per-entry modulo and calls, which cost more than the rest of the group.
    """
    cnt = i[_H + RH_COUNT]
    if cnt == 0:
        return
    head = i[_H + RH_HEAD]
    ioff = i[_H + RH_IOFF]
    cut = ts - i[I_WIN]
    if i[ioff + head] > cut:
        return
    cap = i[_H + RH_CAP]
    foff = i[_H + RH_FOFF]
    gone = 0
    while cnt > 0 and i[ioff + head] <= cut:
        fo = foff + head * NV
        for c in range(NV):
            f[F_SUMS + c] -= f[fo + c]
        head += 1
        if head == cap:
            head = 0
        cnt -= 1
        gone += 1
    if cnt == 0:
        for c in range(NV):
            f[F_SUMS + c] = 0.0
    i[_H + RH_HEAD] = head
    i[_H + RH_COUNT] = cnt
    i[_H + RH_SEQ] += gone


@fjit_inline
def _push(  # noqa: PLR0917 - one ring entry
    f: Array, i: Array, ts: int, v0: float, v1: float, v2: float, v3: float, v4: float
) -> None:  # pragma: no cover - compiled
    """Append ``(ts | v0..v4)`` to the ring and add it to the window sums."""
    cap = i[_H + RH_CAP]
    cnt = i[_H + RH_COUNT]
    head = i[_H + RH_HEAD]
    if cnt == cap:  # never with ensure_room; keep the sums exact anyway
        fo = i[_H + RH_FOFF] + head * NV
        for c in range(NV):
            f[F_SUMS + c] -= f[fo + c]
        head = head + 1 if head + 1 < cap else 0
        cnt -= 1
        i[_H + RH_HEAD] = head
        i[_H + RH_SEQ] += 1
    row = head + cnt
    if row >= cap:
        row -= cap
    i[_H + RH_COUNT] = cnt + 1
    i[i[_H + RH_IOFF] + row] = ts
    fo = i[_H + RH_FOFF] + row * NV
    f[fo] = v0
    f[fo + 1] = v1
    f[fo + 2] = v2
    f[fo + 3] = v3
    f[fo + 4] = v4
    f[F_SUMS] += v0
    f[F_SUMS + 1] += v1
    f[F_SUMS + 2] += v2
    f[F_SUMS + 3] += v3
    f[F_SUMS + 4] += v4


@fjit
def liquidity_trade(  # noqa: PLR0917 - the group kernel signature
    f: Array, i: Array, ts: int, price: float, qty: float, side: int, buyer: int, seller: int
) -> None:  # pragma: no cover - compiled
    """One trade: taken volume, and hidden volume against the last frame."""
    hidden = 0.0
    if i[I_NFR] > 0 and side != 0:
        k, bk = _bank(i)
        s = 1 if side > 0 else 0  # buys lift asks, sells hit bids
        nold = i[I_NB + s]
        okey = bk + s * k
        key = _key(price, f[F_INV], -1.0 if side > 0 else 1.0)
        m = 0
        while m < nold and f[okey + m] > key:
            m += 1
        if m < nold and f[okey + m] == key:
            q0 = f[okey + 2 * k + m]
            ex = F_EX + s * k + m
            before = f[ex]
            after = before + qty
            f[ex] = after
            hidden = max(0.0, after - q0) - max(0.0, before - q0)
        elif m < nold or nold < i[I_KW]:
            hidden = qty  # no displayed size at that price
    _expire(f, i, ts)
    _push(f, i, ts, qty, hidden, 0.0, 0.0, 0.0)


@fjit
def liquidity_book(f: Array, i: Array, ts: int, lv: Array) -> None:  # pragma: no cover - compiled
    """One book frame: size added against the previous frame, then it becomes the last."""
    k, ob = _bank(i)
    cur = i[I_BANK]
    nb = F_EX + 2 * k + 4 * k * (1 - cur)  # the other bank receives the new frame
    inv = f[F_INV]
    have = i[I_NFR] > 0
    kw = min(k, lv.shape[1])
    okw = i[I_KW]
    r = i[I_R]
    touch = 0.0
    add_b = 0.0
    add_a = 0.0
    for s in range(2):
        row = 2 * s
        dirn = 1.0 - 2.0 * s
        nold = i[I_NB + s]
        okey = ob + s * k
        oex = F_EX + s * k
        nkey = nb + s * k
        n = 0
        m = 0
        tot = 0.0
        for j in range(kw):
            p = lv[row, j]
            q = lv[row + 1, j]
            if not q > 0.0 or np.isnan(p):
                break
            key = _key(p, inv, dirn)
            f[nkey + j] = key
            f[nkey + 2 * k + j] = q
            n += 1
            if have and j < r:
                while m < nold and f[okey + m] > key:
                    m += 1
                if m < nold and f[okey + m] == key:
                    q0 = f[okey + 2 * k + m]
                    add = q - q0 + min(f[oex + m], q0)
                elif m < nold or nold < okw:
                    add = q  # a new price inside the previous frame's range
                else:
                    add = 0.0  # beyond the previous frame's last level: unknown
                if add > 0.0:
                    tot += add
                    if j == 0:
                        touch += add
        i[I_NB + s] = n
        if s == 0:
            add_b = tot
        else:
            add_a = tot
    for j in range(2 * k):
        f[F_EX + j] = 0.0
    f[F_PB] = lv[0, 0] if i[I_NB] > 0 else np.nan
    f[F_PA] = lv[2, 0] if i[I_NA] > 0 else np.nan
    i[I_BANK] = 1 - cur
    i[I_KW] = kw
    i[I_NFR] += 1
    if add_b + add_a > 0.0:
        _expire(f, i, ts)
        _push(f, i, ts, 0.0, 0.0, touch, add_b, add_a)


@fjit_inline
def _slope(f: Array, okey: int, osz: int, n: int) -> float:  # pragma: no cover - compiled
    """OLS slope of cumulative size on tick distance from the best level (nan if n < 2)."""
    if n < 2:
        return np.nan
    xm = 0.0
    ym = 0.0
    cum = 0.0
    for j in range(n):
        cum += f[osz + j]
        xm += f[okey] - f[okey + j]
        ym += cum
    xm /= n
    ym /= n
    sxy = 0.0
    sxx = 0.0
    cum = 0.0
    for j in range(n):
        cum += f[osz + j]
        dx = f[okey] - f[okey + j] - xm
        sxy += dx * (cum - ym)
        sxx += dx * dx
    return sxy / sxx if sxx > 0.0 else np.nan


@fjit_inline
def _depth(f: Array, osz: int, n: int) -> float:  # pragma: no cover - compiled
    tot = 0.0
    for j in range(n):
        tot += f[osz + j]
    return tot


@fjit
def liquidity_emit(f: Array, i: Array, ts: int, out: Array) -> None:  # pragma: no cover - compiled
    """Write the features as of ``ts`` (see the module docstring for the order)."""
    _expire(f, i, ts)
    k, bk = _bank(i)
    nfr, nb, na, nd = i[I_NFR], i[I_NB], i[I_NA], i[I_ND]
    osb, osa = bk + 2 * k, bk + 3 * k
    book = nfr > 0 and nb + na > 0
    for d in range(nd):
        n = i[I_DL + d]
        if book:
            b = _depth(f, osb, min(n, nb))
            a = _depth(f, osa, min(n, na))
            out[3 * d] = b
            out[3 * d + 1] = a
            out[3 * d + 2] = (b - a) / (b + a)  # b + a > 0: a shown level has size > 0
        else:
            out[3 * d] = np.nan
            out[3 * d + 1] = np.nan
            out[3 * d + 2] = np.nan
    o = 3 * nd
    if nfr > 0 and nb > 0 and na > 0:
        qb, qa = f[osb], f[osa]
        spread = -f[bk + k] - f[bk]  # ask tick - bid tick
        tot = qa + qb
        out[o] = f[F_PB] + (f[F_PA] - f[F_PB]) * qb / tot
        out[o + 1] = spread * (qb - qa) / (2.0 * tot)
        s = i[I_R]
        out[o + 4] = (_depth(f, osb, min(s, nb)) + _depth(f, osa, min(s, na))) / max(spread, 1.0)
    else:
        out[o] = np.nan
        out[o + 1] = np.nan
        out[o + 4] = np.nan
    out[o + 2] = _slope(f, bk, osb, nb) if nfr > 0 else np.nan
    out[o + 3] = _slope(f, bk + k, osa, na) if nfr > 0 else np.nan
    taken, hidden, added = f[F_SUMS], f[F_SUMS + 1], f[F_SUMS + 2]
    out[o + 5] = taken
    out[o + 8] = hidden if nfr > 0 else np.nan
    if nfr > 1:
        wsec = f[F_WSEC]
        out[o + 6] = added
        out[o + 7] = taken / (taken + added) if taken + added > 0.0 else np.nan
        out[o + 9] = f[F_SUMS + 3] / wsec
        out[o + 10] = f[F_SUMS + 4] / wsec
    else:
        out[o + 6] = np.nan
        out[o + 7] = np.nan
        out[o + 9] = np.nan
        out[o + 10] = np.nan


@fjit
def liquidity_run(  # noqa: PLR0917 - the group batch signature
    f: Array,
    i: Array,
    kind: Array,
    ts: Array,
    price: Array,
    qty: Array,
    side: Array,
    buyer: Array,
    seller: Array,
    brow: Array,
    lv: Array,
    spos: Array,
    sts: Array,
    out: Array,
) -> None:  # pragma: no cover - compiled
    """Batch loop (see :mod:`quantumtrader.features.group`)."""
    j = 0
    ns = spos.shape[0]
    for e in range(ts.shape[0]):
        while j < ns and spos[j] == e:
            liquidity_emit(f, i, sts[j], out[j])
            j += 1
        if kind[e] == 0:
            liquidity_trade(f, i, ts[e], price[e], qty[e], side[e], buyer[e], seller[e])
        else:
            liquidity_book(f, i, ts[e], lv[brow[e]])
    while j < ns:
        liquidity_emit(f, i, sts[j], out[j])
        j += 1


def _whole(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


class LiquidityGroup(Group):
    """Order-book liquidity: depth, imbalance, weighted mid, slope, consumption, hidden size.

    Parameters
    ----------
    ctx
        Instrument context: ``tick_size`` (points) and ``levels`` (``K``, book levels per
        side in each frame).
    depth_levels
        Strictly increasing level counts for the depth and imbalance features, each in
        ``1..ctx.levels``.
    window_s
        Trailing event-time window of the flow features, whole seconds (> 0).
    top_levels
        Levels per side counted by the replenishment rate and the liquidity score,
        ``1..ctx.levels``.

    Raises
    ------
    ValueError
        If a parameter is out of range (the message names it).

    References
    ----------
    Gould, Porter, Williams, McDonald, Fenn & Howison, "Limit order books", Quantitative
    Finance 13(11) (2013) 1709-1742; Stoikov, "The micro-price: a high-frequency estimator
    of future prices", Quantitative Finance 18(12) (2018) 1959-1966; Næs & Skjeltorp,
    "Order book characteristics and the volume-volatility relation", J. Financial Markets
    9(4) (2006) 408-432.
    """

    name: ClassVar[str] = "liquidity"
    uses_book: ClassVar[bool] = True
    trade = staticmethod(liquidity_trade)
    book = staticmethod(liquidity_book)
    emit = staticmethod(liquidity_emit)
    run = staticmethod(liquidity_run)

    def __init__(
        self,
        ctx: GroupContext,
        *,
        depth_levels: Sequence[int] = (1, 5, 10),
        window_s: int = 10,
        top_levels: int = 5,
    ) -> None:
        super().__init__(ctx)
        k = ctx.levels
        dl = tuple(depth_levels)
        if (
            not dl
            or any(not _whole(n) or not 1 <= n <= k for n in dl)
            or any(b <= a for a, b in itertools.pairwise(dl))
        ):
            raise ValueError(
                f"depth_levels must be strictly increasing whole numbers in 1..{k}, got {dl!r}"
            )
        if not _whole(window_s) or window_s <= 0:
            raise ValueError(
                f"window_s must be a positive whole number of seconds, got {window_s!r}"
            )
        if not _whole(top_levels) or not 1 <= top_levels <= k:
            raise ValueError(f"top_levels must be a whole number in 1..{k}, got {top_levels!r}")
        self.depth_levels = tuple(int(n) for n in dl)
        self.window_s = int(window_s)
        self.top_levels = int(top_levels)

    def params(self) -> dict[str, Any]:
        return {
            "depth_levels": self.depth_levels,
            "window_s": self.window_s,
            "top_levels": self.top_levels,
        }

    def new_state(self) -> State:
        k, nd = self.ctx.levels, len(self.depth_levels)
        b = StateBuilder(n_rings=1)
        b.ring(_R, nf=NV, ni=1, cap=256)
        if b.i(N_IFIX) != I_K or b.f(F_EX) != 0:  # pragma: no cover - layout invariant
            raise RuntimeError("liquidity group layout drifted")
        b.i(nd)  # depth levels
        b.f(2 * k + 8 * k)  # executed volume, two banks of (keys, sizes)
        f, i = b.build()
        f[F_TICK] = self.ctx.tick_size
        f[F_INV] = 1.0 / self.ctx.tick_size
        f[F_WSEC] = float(self.window_s)
        f[F_PB] = f[F_PA] = np.nan
        i[I_K] = i[I_KW] = k
        i[I_R] = self.top_levels
        i[I_WIN] = self.window_s * NS_SEC
        i[I_ND] = nd
        i[I_DL : I_DL + nd] = self.depth_levels
        return f, i

    def docs(self) -> tuple[FeatureDoc, ...]:
        return liquidity_docs(
            self.name, self.depth_levels, self.window_s, self.top_levels, self.ctx.levels
        )
