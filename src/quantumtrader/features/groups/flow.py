"""Order-flow group: delta, trade and book order-flow imbalance, aggression, VWAP, VAP.

Default parameters give 40 features (names follow the parameters): ``cum_delta`` and
``ofi_Wm`` with ``_velocity`` / ``_acceleration`` (the numbers of
:class:`~quantumtrader.features.FeatureSet` after every trade); ``book_ofi_event``,
``book_ofi_Ws``, ``book_ofi_norm_Ws`` (the level-1 ``e_n`` of Cont, Kukanov & Stoikov per
book frame, summed over windows, and over the mean level-1 depth); ``mlofi_m_Ws``,
``mlofi_sum_Ws`` (the same rule per level, Xu, Gould & Howison); ``delta_Wm``,
``delta_momentum_Wm``, ``delta_divergence_Wm``; ``aggr_buy/sell/ratio_Ws``;
``vwap_dist_ticks``, ``vwap_Wm_dist_ticks``; ``vap_{poc,vah,val}_dist_{Wm,session}``,
``vap_skew_session`` (:mod:`._flow_vap`). :meth:`FlowGroup.docs` holds every definition.

Layout: ring 0 holds trades (``ts, tick | buy, sell, qty, price*qty, price``, the first
four summed per window), ring 1 book frames (``ts | e_1..e_M, depth, 1``). The ``I_*``
int slots after the ring headers hold counters and the offsets of the parameter-sized
arrays (window lengths and tails, output-to-window maps, histogram headers) laid out by
:meth:`FlowGroup.new_state`; ``f`` holds the ``F_*`` scalars, window sums, OFI velocity
state, book sums, previous book sizes, the session histogram, one histogram per VAP
window and a scratch histogram.

References
----------
R. Cont, A. Kukanov & S. Stoikov, "The price impact of order book events", *Journal of
Financial Econometrics* 12(1) (2014) 47-88, section 2 (``e_n``, eq. 2; depth, eq. 6).
K. Xu, M. D. Gould & S. D. Howison, "Multi-level order-flow imbalance in a limit order
book", *Market Microstructure and Liquidity* 4 (2018) 1950011.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from quantumtrader.features.group import FeatureDoc, Group, GroupContext
from quantumtrader.features.groups._flow_docs import flow_docs, flow_spec
from quantumtrader.features.groups._flow_ring import (
    fr_pop_below,
    fr_push,
    fr_row,
)
from quantumtrader.features.groups._flow_vap import VH_INTS, vh_add, vh_clear, vh_stats, vh_sub
from quantumtrader.features.jit import fjit, fjit_inline
from quantumtrader.features.ring import mw_commit, mw_expire
from quantumtrader.features.state import (
    RH_CAP,
    RH_COUNT,
    RH_FOFF,
    RH_IOFF,
    RH_NF,
    RH_SEQ,
    State,
    StateBuilder,
    ring_header,
)

__all__ = ["FlowGroup"]

Array = np.ndarray[Any, Any]
NS_SEC = 1_000_000_000
NS_MIN = 60 * NS_SEC
NS_DAY = 86_400 * NS_SEC
R_T, R_B = 0, 1  # trade ring, book ring
NV_T = 4  # summed trade columns: buy, sell, qty, price * qty (column 4: price, not summed)
NF_T, NI_T = 5, 2  # trade ring columns: floats above; ints ts, price in ticks
EMPTY_BID = -(1 << 62)  # tick of an empty bid level (below every price)
EMPTY_ASK = 1 << 62  # tick of an empty ask level
_H_T, _H_B = ring_header(R_T), ring_header(R_B)
_I0 = ring_header(2)
(I_NW, I_NOFI, I_SEC, I_NSEC, I_DAY, I_OFFS, I_TWINS, I_TTAILS,
 I_ND, I_DIDX, I_D2IDX, I_DREF, I_DHREF, I_NA, I_AIDX, I_NVW, I_VIDX,
 I_NP, I_PIDX, I_PHDR, I_H, I_SHDR,
 I_NBW, I_BWINS, I_BTAILS, I_NBO, I_BOIDX, I_NBN, I_BNIDX, I_NBM, I_BMIDX, I_BMFL,
 I_NL, I_NFR, I_PREVT, I_NTR, I_TS0, I_LASTT,
 I_FTS, I_FOV, I_FBS, I_FPQ, I_FHS, I_FHW, I_FSCR, I_WDQ, I_WPQ) = range(_I0, _I0 + 47)  # fmt: skip
N_ISLOTS = 47
F_CD, F_TICK, F_VA, F_LASTPX, F_SQ, F_SPQ, F_EV = range(7)
N_FSLOTS = 7


@fjit_inline
def _ratio(b: float, s: float) -> float:  # pragma: no cover - compiled
    tot = b + s
    return (b - s) / tot if tot > 0.0 else 0.0


@fjit_inline
def _tick(p: float, tick: float) -> int:  # pragma: no cover - compiled
    return int(np.floor(p / tick + 0.5))


@fjit_inline
def _expire_trades(f: Array, i: Array, t: int) -> None:  # pragma: no cover - compiled
    """Expire the trade windows up to ``t`` (as ``mw_expire``), in the same pass noting the
    price at ``t - W`` of each delta window and draining each VAP window's histogram."""
    h = _H_T
    seq0 = i[h + RH_SEQ]
    end = seq0 + i[h + RH_COUNT]
    cap = i[h + RH_CAP]
    foff, ioff = i[h + RH_FOFF], i[h + RH_IOFF]
    tw, tt, sums = i[I_TWINS], i[I_TTAILS], i[I_FTS]
    wdq, wpq = i[I_WDQ], i[I_WPQ]
    hb = i[I_H]
    lo = end
    for w in range(i[I_NW]):
        s = max(i[tt + w], seq0)
        cut = t - i[tw + w]
        base = sums + w * NV_T
        if s < end:
            dq, pq = i[wdq + w], i[wpq + w]
            row = fr_row(i, h, s)
            while i[ioff + row * NI_T] <= cut:
                fo = foff + row * NF_T
                for c in range(NV_T):
                    f[base + c] -= f[fo + c]
                x = i[ioff + row * NI_T + 1]
                if dq >= 0:  # the last trade leaving the delta window: the price at t - W
                    i[i[I_DREF] + dq] = x
                    i[i[I_DHREF] + dq] = 1
                if pq >= 0:
                    vh_sub(f, i, i[I_FHW] + pq * hb, i[I_PHDR] + pq * VH_INTS, hb, x, f[fo + 2])
                s += 1
                if s == end:
                    break
                row += 1
                if row == cap:
                    row = 0
        if s == end:
            for c in range(NV_T):
                f[base + c] = 0.0
        i[tt + w] = s
        lo = min(lo, s)
    fr_pop_below(i, h, lo)


@fjit
def flow_trade(  # noqa: PLR0917 - the group kernel signature
    f: Array, i: Array, ts: int, price: float, qty: float, side: int, buyer: int, seller: int
) -> None:  # pragma: no cover - compiled
    """One trade (see :mod:`quantumtrader.features.group` for the signature)."""
    if not (np.isfinite(price) and np.isfinite(qty)):
        raise ValueError("flow group: trade price and qty must be finite")
    nofi = i[I_NOFI]
    fts = i[I_FTS]
    lv = i[I_FOV]
    lvel, pv, pvel = lv + nofi, lv + 2 * nofi, lv + 3 * nofi
    h = i[I_H]
    day = (ts + i[I_OFFS]) // NS_DAY
    if day != i[I_DAY]:
        i[I_DAY] = day
        f[F_CD] = 0.0
        f[F_SQ] = 0.0
        f[F_SPQ] = 0.0
        vh_clear(f, i, i[I_FHS], i[I_SHDR])
    f[F_CD] += qty * side
    sec = ts // NS_SEC
    if i[I_NSEC] == 0 or sec != i[I_SEC]:
        for k in range(nofi):
            f[pv + k] = f[lv + k]
            f[pvel + k] = f[lvel + k]
        i[I_SEC] = sec
        i[I_NSEC] += 1
    x = _tick(price, f[F_TICK])
    _expire_trades(f, i, ts)
    row = fr_push(i, _H_T, ts)
    i[i[_H_T + RH_IOFF] + row * NI_T + 1] = x
    fo = i[_H_T + RH_FOFF] + row * NF_T
    pq = price * qty
    f[fo] = qty if side > 0 else 0.0
    f[fo + 1] = qty if side < 0 else 0.0
    f[fo + 2] = qty
    f[fo + 3] = pq
    f[fo + 4] = price
    mw_commit(f, NV_T, i[I_NW], fts, fo)
    for k in range(nofi):
        v = _ratio(f[fts + NV_T * k], f[fts + NV_T * k + 1])
        f[lv + k] = v
        f[lvel + k] = v - f[pv + k]  # NaN until a previous active second exists
    f[F_SQ] += qty
    f[F_SPQ] += pq
    vh_add(f, i, i[I_FHS], i[I_SHDR], h, i[I_FSCR], x, qty)
    for q in range(i[I_NP]):
        vh_add(f, i, i[I_FHW] + q * h, i[I_PHDR] + q * VH_INTS, h, i[I_FSCR], x, qty)
    f[F_LASTPX] = price
    i[I_LASTT] = x
    if i[I_NTR] == 0:
        i[I_TS0] = ts
    i[I_NTR] += 1


@fjit
def flow_book(f: Array, i: Array, ts: int, lv: Array) -> None:  # pragma: no cover - compiled
    """One book frame: ``e_n`` per level against the previous frame (CKS 2014, eq. 2)."""
    L = i[I_NL]
    nvb = L + 2
    K = lv.shape[1]
    tick = f[F_TICK]
    pt = i[I_PREVT]
    pq = i[I_FPQ]
    have = i[I_NFR] > 0
    fo = 0
    if have:
        mw_expire(f, i, R_B, nvb, i[I_NBW], i[I_FBS], i[I_BTAILS], i[I_BWINS], ts)
        row = fr_push(i, _H_B, ts)
        fo = i[_H_B + RH_FOFF] + row * i[_H_B + RH_NF]
    d1 = 0.0
    for m in range(L):
        bt, bq, at, aq = EMPTY_BID, 0.0, EMPTY_ASK, 0.0
        if m < K:
            if np.isfinite(lv[0, m]):
                bt = _tick(lv[0, m], tick)
                bq = lv[1, m] if np.isfinite(lv[1, m]) else 0.0
            if np.isfinite(lv[2, m]):
                at = _tick(lv[2, m], tick)
                aq = lv[3, m] if np.isfinite(lv[3, m]) else 0.0
        if have:
            pbt, pat = i[pt + m], i[pt + L + m]
            e = 0.0
            if bt >= pbt:
                e += bq
            if bt <= pbt:
                e -= f[pq + m]
            if at <= pat:
                e -= aq
            if at >= pat:
                e += f[pq + L + m]
            f[fo + m] = e
        if m == 0:
            d1 = 0.5 * (bq + aq)
        i[pt + m] = bt
        i[pt + L + m] = at
        f[pq + m] = bq
        f[pq + L + m] = aq
    if have:
        f[fo + L] = d1
        f[fo + L + 1] = 1.0
        f[F_EV] = f[fo]
        mw_commit(f, nvb, i[I_NBW], i[I_FBS], fo)
    i[I_NFR] += 1


@fjit_inline
def _emit_book(f: Array, i: Array, out: Array, o: int) -> int:  # pragma: no cover - compiled
    L = i[I_NL]
    nvb = L + 2
    fbs = i[I_FBS]
    ok = i[I_NFR] >= 2
    nan = np.nan
    out[o] = f[F_EV] if ok else nan
    o += 1
    for q in range(i[I_NBO]):
        out[o] = f[fbs + i[i[I_BOIDX] + q] * nvb] if ok else nan
        o += 1
    for q in range(i[I_NBN]):
        base = fbs + i[i[I_BNIDX] + q] * nvb
        dep, cnt = f[base + L], f[base + L + 1]
        v = f[base] / (dep / cnt) if cnt > 0.0 and dep > 0.0 else 0.0
        out[o] = v if ok else nan
        o += 1
    for q in range(i[I_NBM]):
        base = fbs + i[i[I_BMIDX] + q] * nvb
        tot = 0.0
        for m in range(L):
            tot += f[base + m]
            if m >= i[i[I_BMFL] + q]:
                out[o] = f[base + m] if ok else nan
                o += 1
        out[o] = tot if ok else nan
        o += 1
    return o


@fjit
def flow_emit(f: Array, i: Array, ts: int, out: Array) -> None:  # pragma: no cover - compiled
    """Write every output as of ``ts`` (order of :meth:`FlowGroup.docs`)."""
    _expire_trades(f, i, ts)
    L = i[I_NL]
    mw_expire(f, i, R_B, L + 2, i[I_NBW], i[I_FBS], i[I_BTAILS], i[I_BWINS], ts)
    nofi = i[I_NOFI]
    fts = i[I_FTS]
    tw = i[I_TWINS]
    pv, pvel = i[I_FOV] + 2 * nofi, i[I_FOV] + 3 * nofi
    nan = np.nan
    same_day = (ts + i[I_OFFS]) // NS_DAY == i[I_DAY]
    out[0] = f[F_CD] if same_day else 0.0
    for k in range(nofi):
        v = _ratio(f[fts + NV_T * k], f[fts + NV_T * k + 1])
        vel = v - f[pv + k]
        out[1 + 3 * k] = v
        out[2 + 3 * k] = vel
        out[3 + 3 * k] = vel - f[pvel + k]
    o = _emit_book(f, i, out, 1 + 3 * nofi)
    ntr = i[I_NTR]
    last_t = i[I_LASTT]
    for q in range(i[I_ND]):
        w, w2 = i[i[I_DIDX] + q], i[i[I_D2IDX] + q]
        d = f[fts + NV_T * w] - f[fts + NV_T * w + 1]
        d2 = f[fts + NV_T * w2] - f[fts + NV_T * w2 + 1]
        out[o] = d
        out[o + 1] = d - (d2 - d) if ntr > 0 and ts - i[I_TS0] >= i[tw + w2] else nan
        if i[i[I_DHREF] + q] == 0:
            out[o + 2] = nan
        else:
            dp = last_t - i[i[I_DREF] + q]
            out[o + 2] = 1.0 if dp > 0 and d < 0.0 else (-1.0 if dp < 0 and d > 0.0 else 0.0)
        o += 3
    for q in range(i[I_NA]):
        w = i[i[I_AIDX] + q]
        b, s = f[fts + NV_T * w], f[fts + NV_T * w + 1]
        out[o] = b
        out[o + 1] = s
        out[o + 2] = b / (b + s) if b + s > 0.0 else nan
        o += 3
    last = f[F_LASTPX]
    tick = f[F_TICK]
    out[o] = (last - f[F_SPQ] / f[F_SQ]) / tick if same_day and f[F_SQ] > 0.0 else nan
    o += 1
    for q in range(i[I_NVW]):
        w = i[i[I_VIDX] + q]
        sq, spq = f[fts + NV_T * w + 2], f[fts + NV_T * w + 3]
        out[o] = (last - spq / sq) / tick if sq > 0.0 else nan
        o += 1
    h = i[I_H]
    va = f[F_VA]
    for q in range(i[I_NP]):
        vh_stats(f, i, i[I_FHW] + q * h, i[I_PHDR] + q * VH_INTS, last_t, va, out, o, 3)
        o += 3
    if same_day:
        vh_stats(f, i, i[I_FHS], i[I_SHDR], last_t, va, out, o, 4)
    else:
        for c in range(4):
            out[o + c] = nan


@fjit
def flow_run(  # noqa: PLR0917 - the group batch signature
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
            flow_emit(f, i, sts[j], out[j])
            j += 1
        if kind[e] == 0:
            flow_trade(f, i, ts[e], price[e], qty[e], side[e], buyer[e], seller[e])
        else:
            flow_book(f, i, ts[e], lv[brow[e]])
    while j < ns:
        flow_emit(f, i, sts[j], out[j])
        j += 1


class FlowGroup(Group):
    """Order flow: delta, trade and book OFI, multi-level OFI, aggression, VWAP, VAP.

    Parameters
    ----------
    ctx
        Instrument context (tick size for ticks and histogram bins, session cut).
    ofi_windows
        Trade OFI windows, minutes.
    book_ofi_windows, book_ofi_norm_windows
        Windows of the summed and of the depth-normalised book OFI, seconds.
    mlofi_levels
        Book levels ``M`` of the multi-level OFI (``1..ctx.levels``).
    mlofi_windows
        Multi-level OFI windows, seconds.
    delta_windows
        Delta windows ``W``, minutes (each also gives momentum and divergence).
    aggr_windows
        Aggression windows, seconds.
    vwap_windows, vap_windows
        Windowed VWAP and volume-at-price windows, minutes (the session is always in).
    value_area
        Fraction of the volume in the value area, in ``(0, 1]``.
    vap_bins
        Bins per volume-at-price histogram (one tick each until a refit merges them).

    Raises
    ------
    ValueError
        If a window is not a distinct positive whole number, ``mlofi_levels`` is outside
        ``1..ctx.levels``, ``value_area`` outside ``(0, 1]`` or ``vap_bins`` < 64.
    """

    name: ClassVar[str] = "flow"
    uses_book: ClassVar[bool] = True
    trade = staticmethod(flow_trade)
    book = staticmethod(flow_book)
    emit = staticmethod(flow_emit)
    run = staticmethod(flow_run)

    def __init__(
        self,
        ctx: GroupContext,
        *,
        ofi_windows: Sequence[int] = (1, 5, 15, 30, 60),
        book_ofi_windows: Sequence[int] = (10, 60),
        book_ofi_norm_windows: Sequence[int] = (10,),
        mlofi_levels: int = 5,
        mlofi_windows: Sequence[int] = (10,),
        delta_windows: Sequence[int] = (5,),
        aggr_windows: Sequence[int] = (30,),
        vwap_windows: Sequence[int] = (30,),
        vap_windows: Sequence[int] = (30,),
        value_area: float = 0.70,
        vap_bins: int = 4096,
    ) -> None:
        super().__init__(ctx)
        self.spec = flow_spec(
            ctx.levels, ofi_windows=ofi_windows, book_ofi_windows=book_ofi_windows,
            book_ofi_norm_windows=book_ofi_norm_windows, mlofi_levels=mlofi_levels,
            mlofi_windows=mlofi_windows, delta_windows=delta_windows, aggr_windows=aggr_windows,
            vwap_windows=vwap_windows, vap_windows=vap_windows, value_area=value_area,
            vap_bins=vap_bins,
        )  # fmt: skip

    def params(self) -> dict[str, Any]:
        s = self.spec
        return {k: getattr(s, k) for k in s.__struct_fields__}

    def docs(self) -> tuple[FeatureDoc, ...]:
        return flow_docs(self.name, self.spec)

    def new_state(self) -> State:
        s = self.spec
        twins = [w * NS_MIN for w in s.ofi_windows]

        def widx(ns: int) -> int:
            if ns not in twins:
                twins.append(ns)
            return twins.index(ns)

        didx = [widx(w * NS_MIN) for w in s.delta_windows]
        d2idx = [widx(2 * w * NS_MIN) for w in s.delta_windows]
        aidx = [widx(w * NS_SEC) for w in s.aggr_windows]
        vidx = [widx(w * NS_MIN) for w in s.vwap_windows]
        pidx = [widx(w * NS_MIN) for w in s.vap_windows]
        bw = sorted({*s.book_ofi_windows, *s.book_ofi_norm_windows, *s.mlofi_windows})
        L, h, nw, nbw, n_p = s.mlofi_levels, s.vap_bins, len(twins), len(bw), len(pidx)
        nofi = len(s.ofi_windows)
        b = StateBuilder(n_rings=2)
        b.ring(R_T, nf=NF_T, ni=NI_T, cap=256)
        b.ring(R_B, nf=L + 2, ni=1, cap=256)
        if b.i(N_ISLOTS) != _I0 or b.f(N_FSLOTS) != 0:  # pragma: no cover - layout invariant
            raise RuntimeError("flow group layout drifted")
        ints: dict[int, list[int]] = {
            I_TWINS: twins, I_TTAILS: [0] * nw, I_DIDX: didx, I_D2IDX: d2idx,
            I_DREF: [0] * len(didx), I_DHREF: [0] * len(didx), I_AIDX: aidx, I_VIDX: vidx,
            I_PIDX: pidx, I_PHDR: [0, 0, 1, 0, 0] * n_p, I_SHDR: [0, 0, 1, 0, 0],
            I_BWINS: [w * NS_SEC for w in bw], I_BTAILS: [0] * nbw,
            I_BOIDX: [bw.index(w) for w in s.book_ofi_windows],
            I_BNIDX: [bw.index(w) for w in s.book_ofi_norm_windows],
            I_BMIDX: [bw.index(w) for w in s.mlofi_windows],
            I_BMFL: [int(w in s.book_ofi_windows) for w in s.mlofi_windows],
            I_PREVT: [0] * (2 * L),
            I_WDQ: [didx.index(w) if w in didx else -1 for w in range(nw)],
            I_WPQ: [pidx.index(w) if w in pidx else -1 for w in range(nw)],
        }  # fmt: skip
        offs = {slot: b.i(len(vals)) for slot, vals in ints.items()}
        fslots = {I_FTS: (nw * NV_T, 0.0), I_FOV: (4 * nofi, np.nan), I_FBS: (nbw * (L + 2), 0.0),
                  I_FPQ: (2 * L, 0.0), I_FHS: (h, 0.0), I_FHW: (n_p * h, 0.0),
                  I_FSCR: (h, 0.0)}  # fmt: skip
        foffs = {slot: b.f(n, fill) for slot, (n, fill) in fslots.items()}
        f, i = b.build()
        for slot, vals in ints.items():
            i[slot] = offs[slot]
            i[offs[slot] : offs[slot] + len(vals)] = vals
        for slot, off in foffs.items():
            i[slot] = off
        counts = {I_NW: nw, I_NOFI: nofi, I_ND: len(didx), I_NA: len(aidx), I_NVW: len(vidx),
                  I_NP: n_p, I_H: h, I_NBW: nbw, I_NBO: len(s.book_ofi_windows),
                  I_NBN: len(s.book_ofi_norm_windows), I_NBM: len(s.mlofi_windows), I_NL: L,
                  I_OFFS: self.ctx.session_offset_ns}  # fmt: skip
        for slot, v in counts.items():
            i[slot] = v
        i[I_DAY] = np.iinfo(np.int64).min
        f[F_TICK] = self.ctx.tick_size
        f[F_VA] = s.value_area
        f[F_LASTPX] = np.nan
        f[F_EV] = np.nan
        return f, i
