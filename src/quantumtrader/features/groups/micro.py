"""Microstructure group: spreads, price impact, liquidity, toxicity, trade signing, ticks.

Features (``W`` each of ``windows_s``, default 1 and 5 min; ``D`` the realized-spread
horizon, default 5 s; the full catalogue is :meth:`MicroGroup.docs`):

* quoted spread ``spread_ticks``, ``spread_points``, ``spread_bps`` (top of book);
* per window: ``spread_effective_bps_W`` = mean ``2 q (p - m) / m``,
  ``spread_realized_bps_W_D`` = mean ``2 q (p - m_{t+D}) / m`` and
  ``impact_bps_W_D`` = mean ``2 q (m_{t+D} - m) / m`` over trades matured (``t + D`` passed),
  tick-rule and Lee-Ready signed volume and their agreement with the reported
  aggressor, trades, mean inter-trade time, realized variance, bipower variation and
  the relative jump measure;
* Kyle's lambda (and R^2) and Amihud's ratio over time buckets, Roll's spread over
  the last ``N`` trades, volume-bucket toxicity (exact signs and bulk volume
  classification), tick runs, time since the last trade.

Trade sign ``q``: the reported aggressor when there is one, else Lee-Ready (the quote
rule against the current mid, the tick rule at the mid or without a book). Prices go
to ticks (``round(p / tick)``) for tick changes; log returns use the float prices.
Session-scoped chains (previous trade, tick direction, runs, returns, the Kyle bucket
close) restart when ``(ts + session_offset_ns) // 1 day`` changes.

State layout and the numba helpers are in :mod:`._micro_kernels`, the catalogue in
:mod:`._micro_docs`.

Performance: every helper and the ``trade`` / ``book`` / ``emit`` kernels are
``inline="always"``, so :func:`micro_run` is one function, and the kernels are compiled
with ``_nrt=False``: they never allocate, so they need no reference counting, and the
atomic NRT increfs/decrefs of the array arguments and views (``out[j]``, ``lv[row]``)
at every call cost about as much as the features themselves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from quantumtrader.features.group import FeatureDoc, Group, GroupContext
from quantumtrader.features.groups._micro_docs import micro_docs
from quantumtrader.features.groups._micro_kernels import (
    BPS,
    C_BP,
    C_EFF,
    C_EFFN,
    C_GAP,
    C_GAPN,
    C_LRAG,
    C_LRCMP,
    C_LRSV,
    C_N,
    C_NZ,
    C_R2,
    C_TRAG,
    C_TRCMP,
    C_TRSV,
    F_ASK,
    F_BID,
    F_KCLOSEP,
    F_KSUM,
    F_KVOL,
    F_KX,
    F_LASTABSR,
    F_LASTP,
    F_MID,
    F_TICK,
    F_WSUMS,
    F_XV,
    HALF_PI,
    I_BOOK,
    I_DAYEND,
    I_DNRUN,
    I_HASDP,
    I_HASPREV,
    I_HASR,
    I_HOR,
    I_KB,
    I_KCLOSE,
    I_KEND,
    I_KHASPREV,
    I_KOPEN,
    I_KTAIL,
    I_KWIN,
    I_LASTDIR,
    I_LASTTS,
    I_MAT,
    I_NTR,
    I_NW,
    I_OFFS,
    I_PREVTICK,
    I_ROLLN,
    I_UPRUN,
    I_WINS,
    I_XN,
    N_IFIX,
    N_OUT_WINDOW,
    N_RINGS,
    NS_DAY,
    NV,
    NVK,
    R_KYLE,
    R_REAL,
    R_ROLL,
    R_TOX,
    R_TRADE,
    kyle_close,
    kyle_emit,
    layout,
    realized_expire,
    realized_mature,
    realized_push,
    roll_add,
    roll_emit,
    tox_add,
    tox_emit,
)
from quantumtrader.features.jit import fjit, fjit_inline
from quantumtrader.features.ring import (
    mw_commit,
    mw_expire,
    mw_push,
    ring_count,
    ring_end_seq,
    ring_seq_io,
)
from quantumtrader.features.state import State, StateBuilder

__all__ = ["MicroGroup"]

Array = np.ndarray[Any, Any]
_NAN = np.nan
_NS_MS = 1e6
_N_HEAD = 3  # quoted spreads before the per-window blocks
_N_TAIL = 11  # Kyle (2), Amihud, Roll (2), toxicity (3), runs (2), since-last


@fjit_inline
def micro_trade(  # noqa: PLR0917 - the group kernel signature
    f: Array, i: Array, ts: int, price: float, qty: float, side: int, buyer: int, seller: int
) -> None:  # pragma: no cover - compiled
    """One trade (see :mod:`quantumtrader.features.group` for the signature)."""
    nw, wins, tails, rtails, wsums, rsums = layout(i)
    tick = f[F_TICK]
    pt = int(np.rint(price / tick))
    newday = ts >= i[I_DAYEND]  # ts never decreases: one compare, no division
    if newday:
        i[I_DAYEND] = ((ts + i[I_OFFS]) // NS_DAY + 1) * NS_DAY - i[I_OFFS]
        i[I_HASPREV] = 0
        i[I_LASTDIR] = 0
        i[I_UPRUN] = 0
        i[I_DNRUN] = 0
        i[I_HASDP] = 0
        i[I_HASR] = 0
    if ring_count(i, R_REAL) > 0:  # trades-only data never queue a trade here
        m = i[I_MAT]
        if m < ring_end_seq(i, R_REAL) and i[ring_seq_io(i, R_REAL, m)] + i[I_HOR] < ts:
            realized_mature(f, i, ts, nw, rsums)
        realized_expire(f, i, ts, nw, wins, rtails, rsums)
    # tick rule, runs, Roll pairs, log returns, inter-trade gap
    r2 = 0.0
    bp = 0.0
    nz = 0.0
    gap = 0.0
    gapn = 0.0
    if i[I_HASPREV]:
        d = pt - i[I_PREVTICK]
        if d > 0:
            i[I_LASTDIR] = 1
            i[I_UPRUN] += 1
            i[I_DNRUN] = 0
        elif d < 0:
            i[I_LASTDIR] = -1
            i[I_DNRUN] += 1
            i[I_UPRUN] = 0
        roll_add(f, i, d)
        lastp = f[F_LASTP]
        if price > 0.0 and lastp > 0.0:
            r = 0.0 if price == lastp else math.log(price / lastp)
            a = abs(r)
            r2 = r * r
            if i[I_HASR]:
                bp = a * f[F_LASTABSR]
            f[F_LASTABSR] = a
            i[I_HASR] = 1
            nz = 1.0 if r != 0.0 else 0.0
        else:
            i[I_HASR] = 0
        gap = float(ts - i[I_LASTTS])
        gapn = 1.0
    tsign = i[I_LASTDIR]
    mid = f[F_MID]
    lsign = tsign
    if mid > 0.0:
        tol = 1e-6 * tick
        if price > mid + tol:
            lsign = 1
        elif price < mid - tol:
            lsign = -1
    q = 1 if side > 0 else (-1 if side < 0 else lsign)
    eff = 0.0
    effn = 0.0
    if mid > 0.0 and q != 0:
        eff = 2.0 * q * (price - mid) / mid * BPS
        effn = 1.0
        realized_push(f, i, ts, price, q, mid)
    # Kyle / Amihud time buckets
    if i[I_KOPEN] and (newday or ts >= i[I_KEND]):
        kyle_close(f, i, ts)
    if newday:
        i[I_KHASPREV] = 0
    if not i[I_KOPEN]:
        i[I_KOPEN] = 1
        i[I_KEND] = (ts // i[I_KB] + 1) * i[I_KB]
        f[F_KX] = 0.0
        f[F_KVOL] = 0.0
    f[F_KX] += qty * q
    f[F_KVOL] += qty
    i[I_KCLOSE] = pt
    f[F_KCLOSEP] = price
    # windowed sums
    mw_expire(f, i, R_TRADE, NV, nw, wsums, tails, wins, ts)
    fo = mw_push(i, R_TRADE, ts)
    sgn = 1 if side > 0 else (-1 if side < 0 else 0)
    f[fo + C_EFF] = eff
    f[fo + C_EFFN] = effn
    f[fo + C_TRSV] = qty * tsign
    cmp = 1.0 if sgn != 0 and tsign != 0 else 0.0
    f[fo + C_TRAG] = cmp if tsign == sgn else 0.0
    f[fo + C_TRCMP] = cmp
    f[fo + C_LRSV] = qty * lsign
    cmp = 1.0 if sgn != 0 and lsign != 0 else 0.0
    f[fo + C_LRAG] = cmp if lsign == sgn else 0.0
    f[fo + C_LRCMP] = cmp
    f[fo + C_N] = 1.0
    f[fo + C_GAP] = gap
    f[fo + C_GAPN] = gapn
    f[fo + C_R2] = r2
    f[fo + C_BP] = bp
    f[fo + C_NZ] = nz
    mw_commit(f, NV, nw, wsums, fo)
    tox_add(f, i, pt, qty, sgn)
    i[I_PREVTICK] = pt
    f[F_LASTP] = price
    i[I_LASTTS] = ts
    i[I_HASPREV] = 1
    i[I_NTR] += 1


@fjit_inline
def micro_book(f: Array, i: Array, ts: int, lv: Array) -> None:  # pragma: no cover - compiled
    """One book frame: mature pending realized spreads with the old mid, then update."""
    nw, _, _, _, _, rsums = layout(i)
    realized_mature(f, i, ts, nw, rsums)
    bid = lv[0, 0]
    ask = lv[2, 0]
    f[F_BID] = bid
    f[F_ASK] = ask
    mid = 0.5 * (bid + ask)
    if np.isfinite(mid) and mid > 0.0:
        f[F_MID] = mid
        i[I_BOOK] += 1
    else:
        f[F_MID] = _NAN


@fjit_inline
def micro_emit(f: Array, i: Array, ts: int, out: Array) -> None:  # pragma: no cover - compiled
    """Write every output as of ``ts`` (see :meth:`MicroGroup.docs` for the order)."""
    nw, wins, tails, rtails, wsums, rsums = layout(i)
    realized_mature(f, i, ts, nw, rsums)
    realized_expire(f, i, ts, nw, wins, rtails, rsums)
    mw_expire(f, i, R_TRADE, NV, nw, wsums, tails, wins, ts)
    mw_expire(f, i, R_KYLE, NVK, 1, F_KSUM, I_KTAIL, I_KWIN, ts)
    bid = f[F_BID]
    ask = f[F_ASK]
    mid = 0.5 * (bid + ask)
    if np.isfinite(mid) and mid > 0.0:
        tick = f[F_TICK]
        sp = np.rint(ask / tick) - np.rint(bid / tick)  # whole ticks, no float residue
        out[0] = sp
        out[1] = sp * tick
        out[2] = sp * tick / mid * BPS
    else:
        out[0] = _NAN
        out[1] = _NAN
        out[2] = _NAN
    book = i[I_BOOK] > 0
    for w in range(nw):
        s = wsums + NV * w
        r = rsums + 3 * w
        o = _N_HEAD + N_OUT_WINDOW * w
        n = f[s + C_EFFN]
        out[o] = f[s + C_EFF] / n if n > 0.0 else _NAN
        n = f[r + 2]
        out[o + 1] = f[r] / n if n > 0.0 else _NAN
        out[o + 2] = f[r + 1] / n if n > 0.0 else _NAN
        out[o + 3] = f[s + C_TRSV]
        n = f[s + C_TRCMP]
        out[o + 4] = f[s + C_TRAG] / n if n > 0.0 else _NAN
        out[o + 5] = f[s + C_LRSV] if book else _NAN
        n = f[s + C_LRCMP]
        out[o + 6] = f[s + C_LRAG] / n if book and n > 0.0 else _NAN
        out[o + 7] = f[s + C_N]
        n = f[s + C_GAPN]
        out[o + 8] = f[s + C_GAP] / n / _NS_MS if n > 0.0 else _NAN
        if f[s + C_NZ] > 0.0:
            rv = max(f[s + C_R2], 0.0)  # running sums: clip rounding residue
            bpv = max(HALF_PI * f[s + C_BP], 0.0)
            out[o + 9] = rv
            out[o + 10] = bpv
            out[o + 11] = (rv - bpv) / rv if rv > 0.0 else 0.0
        else:
            out[o + 9] = 0.0
            out[o + 10] = 0.0
            out[o + 11] = 0.0
    o = _N_HEAD + N_OUT_WINDOW * nw
    kyle_emit(f, i, ts, out, o)
    roll_emit(f, i, out, o + 3)
    tox_emit(f, i, out, o + 5)
    out[o + 8] = float(i[I_UPRUN])
    out[o + 9] = float(i[I_DNRUN])
    out[o + 10] = (ts - i[I_LASTTS]) / _NS_MS if i[I_NTR] > 0 else _NAN


@fjit
def micro_run(  # noqa: PLR0917 - the group batch signature
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
            micro_emit(f, i, sts[j], out[j])
            j += 1
        if kind[e] == 0:
            micro_trade(f, i, ts[e], price[e], qty[e], side[e], buyer[e], seller[e])
        else:
            micro_book(f, i, ts[e], lv[brow[e]])
    while j < ns:
        micro_emit(f, i, sts[j], out[j])
        j += 1


def _positive_int(name: str, v: Any, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}")
    return int(v)


class MicroGroup(Group):
    """Microstructure features from trades and the top of the book.

    Book-based features (quoted, effective and realized spreads, impact, Lee-Ready)
    are NaN on trades-only data such as the B3 day; the catalogue says when.

    Parameters
    ----------
    ctx
        Instrument context: tick size, session cut, and ``size_buckets[2]`` (the
        "large" trade threshold) as the default toxicity bucket volume.
    windows_s
        Trailing event-time windows, whole seconds (spreads, signing, tick statistics).
    horizon_s
        Realized-spread horizon ``D``, whole seconds.
    kyle_bucket_s, kyle_window_s
        Time-bucket length and window (whole seconds) of Kyle's lambda and Amihud's ratio;
        the window must hold at least two buckets.
    roll_trades
        Number of consecutive price-change pairs in Roll's estimator (>= 2).
    toxicity_volume
        Volume-bucket size ``V`` in quantity units; None for ``ctx.size_buckets[2]``.
    toxicity_buckets
        Number of buckets ``n`` averaged.

    Raises
    ------
    ValueError
        If a parameter is out of range (the message names it).

    References
    ----------
    See the ``reference`` of each :class:`~quantumtrader.features.group.FeatureDoc`:
    Roll (1984), Kyle (1985), Lee & Ready (1991), Huang & Stoll (1996), Amihud (2002),
    Bessembinder (2003), Barndorff-Nielsen & Shephard (2004), Huang & Tauchen (2005),
    Easley, López de Prado & O'Hara (2012).
    """

    name: ClassVar[str] = "micro"
    uses_book: ClassVar[bool] = True
    trade = staticmethod(micro_trade)
    book = staticmethod(micro_book)
    emit = staticmethod(micro_emit)
    run = staticmethod(micro_run)

    def __init__(
        self,
        ctx: GroupContext,
        *,
        windows_s: Sequence[int] = (60, 300),
        horizon_s: int = 5,
        kyle_bucket_s: int = 1,
        kyle_window_s: int = 300,
        roll_trades: int = 200,
        toxicity_volume: float | None = None,
        toxicity_buckets: int = 50,
    ) -> None:
        super().__init__(ctx)
        if isinstance(windows_s, str | bytes) or not len(windows_s):
            raise ValueError(f"windows_s must be a non-empty sequence, got {windows_s!r}")
        self.windows_s = tuple(_positive_int("windows_s", w) for w in windows_s)
        if len(set(self.windows_s)) != len(self.windows_s):
            raise ValueError(f"windows_s must be distinct, got {windows_s!r}")
        self.horizon_s = _positive_int("horizon_s", horizon_s)
        self.kyle_bucket_s = _positive_int("kyle_bucket_s", kyle_bucket_s)
        self.kyle_window_s = _positive_int("kyle_window_s", kyle_window_s)
        if self.kyle_window_s < 2 * self.kyle_bucket_s:
            raise ValueError(
                f"kyle_window_s must hold at least two buckets of kyle_bucket_s="
                f"{self.kyle_bucket_s}, got {kyle_window_s!r}"
            )
        self.roll_trades = _positive_int("roll_trades", roll_trades, 2)
        vol = ctx.size_buckets[2] if toxicity_volume is None else toxicity_volume
        if isinstance(vol, bool) or not isinstance(vol, int | float) or not 0 < vol < math.inf:
            raise ValueError(f"toxicity_volume must be a finite number > 0, got {vol!r}")
        self.toxicity_volume = float(vol)
        self.toxicity_buckets = _positive_int("toxicity_buckets", toxicity_buckets)

    def params(self) -> dict[str, Any]:
        return {
            "windows_s": self.windows_s,
            "horizon_s": self.horizon_s,
            "kyle_bucket_s": self.kyle_bucket_s,
            "kyle_window_s": self.kyle_window_s,
            "roll_trades": self.roll_trades,
            "toxicity_volume": self.toxicity_volume,
            "toxicity_buckets": self.toxicity_buckets,
        }

    def new_state(self) -> State:
        nw = len(self.windows_s)
        b = StateBuilder(n_rings=N_RINGS)
        b.ring(R_TRADE, nf=NV, ni=1, cap=256)
        b.ring(R_REAL, nf=5, ni=2, cap=64)
        b.ring(R_KYLE, nf=NVK, ni=1, cap=64)
        b.ring(R_ROLL, nf=2, ni=0, cap=self.roll_trades + 2)
        b.ring(R_TOX, nf=6, ni=2, cap=64)
        if b.i(N_IFIX) != I_NW or b.f(F_WSUMS) != 0:  # pragma: no cover - layout invariant
            raise RuntimeError("micro group layout drifted")
        wins = b.i(nw)
        b.i(2 * nw)  # trade-window tails, realized tails
        b.f(NV * nw + 3 * nw)
        f, i = b.build()
        f[F_TICK] = self.ctx.tick_size
        f[[F_BID, F_ASK, F_MID]] = np.nan
        f[F_XV] = self.toxicity_volume
        i[I_NW] = nw
        i[I_OFFS] = self.ctx.session_offset_ns
        i[I_DAYEND] = np.iinfo(np.int64).min
        i[I_ROLLN] = self.roll_trades
        i[I_HOR] = self.horizon_s * 1_000_000_000
        i[I_KB] = self.kyle_bucket_s * 1_000_000_000
        i[I_KWIN] = self.kyle_window_s * 1_000_000_000
        i[I_XN] = self.toxicity_buckets
        i[wins : wins + nw] = [w * 1_000_000_000 for w in self.windows_s]
        if wins != I_WINS:  # pragma: no cover - layout invariant
            raise RuntimeError("micro group layout drifted")
        return f, i

    def docs(self) -> tuple[FeatureDoc, ...]:
        out = micro_docs(
            self.name, windows_s=self.windows_s, horizon_s=self.horizon_s,
            kyle_bucket_s=self.kyle_bucket_s, kyle_window_s=self.kyle_window_s,
            roll_trades=self.roll_trades, toxicity_volume=self.toxicity_volume,
            toxicity_buckets=self.toxicity_buckets,
        )  # fmt: skip
        if len(out) != _N_HEAD + N_OUT_WINDOW * len(self.windows_s) + _N_TAIL:
            raise RuntimeError("micro catalogue and kernel outputs disagree")  # pragma: no cover
        return out
