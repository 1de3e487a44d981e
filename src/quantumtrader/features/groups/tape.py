"""Tape-reading group: trade speed, size mix, sweeps, icebergs and broker-attributed flow.

Features (defaults; ``W`` suffixes follow the parameters, see :class:`TapeGroup`):

* speed: ``tape_trades_per_s_{1s,10s,1m}``, ``tape_contracts_per_s_{1s,10s,1m}``;
* size mix over 5 min: ``tape_vol_share_{small,medium,large,whale}_5m``,
  ``tape_count_share_{...}_5m``, ``tape_large_ratio_5m``;
* sweeps: ``tape_sweep_dir``, ``tape_sweep_run_levels``, ``tape_sweeps_{buy,sell}_5m``;
* icebergs: ``tape_iceberg_{bid,ask}_qty_5m``, ``tape_iceberg_count_5m``;
* brokers: ``tape_broker_hhi_{session,5m}``, ``tape_broker_top3_{buyers,sellers}_net_
  {session,5m}``, ``tape_broker_top5_vol_share_session``, ``tape_broker_top5_net_session``
  (or one ``tape_broker_cluster{c}_net_session`` per configured cluster).

The exact definitions are in the catalogue entries (:mod:`._tape_docs`), the detection
rules in :mod:`._tape_signals` and the broker attribution in :mod:`._tape_broker`; the
state layout is :mod:`._tape_layout`.

numba's on-disk cache (``cache=True``) is keyed on the file that defines a kernel, so an
edit to one of the ``_tape_*`` modules alone leaves the cached kernels of this module
stale: touch this file (or delete the ``tape.*`` / ``_tape_*`` cache files) after such
an edit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from quantumtrader.features.group import FeatureDoc, Group, GroupContext
from quantumtrader.features.groups._tape_broker import (
    broker_expire,
    broker_session_reset,
    broker_top_net,
    broker_top_volume,
    broker_trade,
)
from quantumtrader.features.groups._tape_docs import TapeNames, tape_docs
from quantumtrader.features.groups._tape_layout import (
    F_B0,
    F_C_SB,
    F_C_SS,
    F_C_TN,
    F_C_TV,
    F_C_WB,
    F_C_WS,
    F_SA,
    F_SS2,
    F_SUM1,
    F_SV,
    F_TICK,
    F_WA,
    F_WS2,
    I_DAY,
    I_DHI,
    I_DIRTY_SN,
    I_DIRTY_SV,
    I_DIRTY_WN,
    I_DLO,
    I_NCL,
    I_NW0,
    I_O_CLNET,
    I_O_SAB,
    I_O_SAS,
    I_O_SUM0,
    I_O_TAILS0,
    I_O_WAB,
    I_O_WAS,
    I_O_WINS0,
    I_OFFS,
    I_TAIL1,
    I_WIN1,
    NS_DAY,
    NS_SEC,
    NV_SIG,
    NV_TAPE,
    R_SIG,
    new_tape_state,
)
from quantumtrader.features.groups._tape_ring import tape_ring_expire, tape_ring_push
from quantumtrader.features.groups._tape_signals import (
    iceberg_book,
    iceberg_trade,
    sweep_emit,
    sweep_trade,
)
from quantumtrader.features.jit import fjit, fjit_inline
from quantumtrader.features.ring import mw_commit, mw_expire, mw_push, ring_count
from quantumtrader.features.state import State

__all__ = ["TapeGroup"]

Array = np.ndarray[Any, Any]
_NAN = np.nan


@fjit_inline
def _bucket(f: Array, q: float) -> int:  # pragma: no cover - compiled
    """0 small (q <= b0), 1 medium (<= b1), 2 large (< b3), 3 whale (>= b3)."""
    if q <= f[F_B0]:
        return 0
    if q <= f[F_B0 + 1]:
        return 1
    if q < f[F_B0 + 3]:
        return 2
    return 3


@fjit_inline
def _signal(  # noqa: PLR0917 - flat kernel arguments
    f: Array, i: Array, ts: int, sweep: int, qb: float, qa: float, n: float
) -> None:  # pragma: no cover - compiled
    """Expire the signal window; push one entry when something was detected."""
    if ring_count(i, R_SIG) > 0:  # an empty ring has zero sums already
        mw_expire(f, i, R_SIG, NV_SIG, 1, F_SUM1, I_TAIL1, I_WIN1, ts)
    if sweep == 0 and qb == 0.0 and qa == 0.0 and n == 0.0:
        return
    fo = mw_push(i, R_SIG, ts)
    f[fo] = 1.0 if sweep > 0 else 0.0
    f[fo + 1] = 1.0 if sweep < 0 else 0.0
    f[fo + 2] = qb
    f[fo + 3] = qa
    f[fo + 4] = n
    mw_commit(f, NV_SIG, 1, F_SUM1, fo)


@fjit_inline
def tape_trade(  # noqa: PLR0917 - the group kernel signature
    f: Array, i: Array, ts: int, price: float, qty: float, side: int, buyer: int, seller: int
) -> None:  # pragma: no cover - compiled
    """One trade (see :mod:`quantumtrader.features.group` for the signature)."""
    x = ts + i[I_OFFS]
    if x < i[I_DLO] or x >= i[I_DHI]:  # a new session (the same test as day != I_DAY)
        day = x // NS_DAY
        i[I_DAY] = day
        i[I_DLO] = day * NS_DAY
        i[I_DHI] = day * NS_DAY + NS_DAY
        broker_session_reset(f, i)
    nw = i[I_NW0]
    sums = i[I_O_SUM0]
    tape_ring_expire(f, i, nw, sums, i[I_O_TAILS0], i[I_O_WINS0], ts)
    tape_ring_push(f, i, nw, sums, ts, _bucket(f, qty), qty)
    p = round(price / f[F_TICK])
    sw = sweep_trade(i, ts, p, side)
    qb, qa, n = iceberg_trade(f, i, ts, p, qty, side)
    _signal(f, i, ts, sw, qb, qa, n)
    broker_trade(f, i, ts, qty, side, buyer, seller)


@fjit_inline
def tape_book(f: Array, i: Array, ts: int, lv: Array) -> None:  # pragma: no cover - compiled
    """One book frame: remember it, credit iceberg refills."""
    qb, qa, n = iceberg_book(f, i, lv)
    _signal(f, i, ts, 0, qb, qa, n)


@fjit_inline
def _ratio(a: float, b: float) -> float:  # pragma: no cover - compiled
    return a / b if b > 0.0 else _NAN


@fjit
def tape_emit(f: Array, i: Array, ts: int, out: Array) -> None:  # pragma: no cover - compiled
    """Write the features as of ``ts`` in catalogue order."""
    nw = i[I_NW0]
    wins = i[I_O_WINS0]
    sums = i[I_O_SUM0]
    tape_ring_expire(f, i, nw, sums, i[I_O_TAILS0], wins, ts)
    mw_expire(f, i, R_SIG, NV_SIG, 1, F_SUM1, I_TAIL1, I_WIN1, ts)
    broker_expire(f, i, ts)
    ns = nw - 1  # speed windows; the last ring-0 window is the size window
    for w in range(ns):
        base = sums + w * NV_TAPE
        secs = i[wins + w] / NS_SEC
        cnt = f[base] + f[base + 1] + f[base + 2] + f[base + 3]
        vol = f[base + 4] + f[base + 5] + f[base + 6] + f[base + 7]
        out[w] = cnt / secs
        out[ns + w] = vol / secs
    o = 2 * ns
    base = sums + ns * NV_TAPE
    cnt = f[base] + f[base + 1] + f[base + 2] + f[base + 3]
    vol = f[base + 4] + f[base + 5] + f[base + 6] + f[base + 7]
    for k in range(4):
        out[o + k] = _ratio(f[base + 4 + k], vol)
        out[o + 4 + k] = _ratio(f[base + k], cnt)
    out[o + 8] = _ratio(f[base + 6] + f[base + 7], vol)
    o += 9
    d, run = sweep_emit(i, ts)
    out[o] = d
    out[o + 1] = run
    out[o + 2] = f[F_SUM1]
    out[o + 3] = f[F_SUM1 + 1]
    out[o + 4] = f[F_SUM1 + 2]
    out[o + 5] = f[F_SUM1 + 3]
    out[o + 6] = f[F_SUM1 + 4]
    o += 7
    x = ts + i[I_OFFS]
    live = i[I_DLO] <= x < i[I_DHI]  # (ts + offset) // NS_DAY == i[I_DAY]
    sa = f[F_SA] if live else 0.0
    wa = f[F_WA]
    out[o] = f[F_SS2] / (sa * sa) if sa > 0.0 else _NAN
    out[o + 1] = f[F_WS2] / (wa * wa) if wa > 0.0 else _NAN
    sab, sas, wab, was = i[I_O_SAB], i[I_O_SAS], i[I_O_WAB], i[I_O_WAS]
    if sa > 0.0:
        if i[I_DIRTY_SN] != 0:
            f[F_C_SB], f[F_C_SS] = broker_top_net(f, i, sab, sas)
            i[I_DIRTY_SN] = 0
        out[o + 2] = f[F_C_SB]
        out[o + 3] = f[F_C_SS]
    else:
        out[o + 2] = _NAN
        out[o + 3] = _NAN
    if wa > 0.0:
        if i[I_DIRTY_WN] != 0:
            f[F_C_WB], f[F_C_WS] = broker_top_net(f, i, wab, was)
            i[I_DIRTY_WN] = 0
        out[o + 4] = f[F_C_WB]
        out[o + 5] = f[F_C_WS]
    else:
        out[o + 4] = _NAN
        out[o + 5] = _NAN
    o += 6
    sv = f[F_SV] if live else 0.0
    top_vol, top_net = 0.0, 0.0
    if sv > 0.0:
        if i[I_DIRTY_SV] != 0:
            f[F_C_TV], f[F_C_TN] = broker_top_volume(f, i)
            i[I_DIRTY_SV] = 0
        top_vol = f[F_C_TV]
        top_net = f[F_C_TN]
    out[o] = top_vol / sv if sv > 0.0 else _NAN
    ncl = i[I_NCL]
    if ncl == 0:
        out[o + 1] = top_net if sa > 0.0 else _NAN
    else:
        cl = i[I_O_CLNET]
        for c in range(ncl):
            out[o + 1 + c] = f[cl + c] if sa > 0.0 else _NAN


@fjit
def tape_run(  # noqa: PLR0917 - the group batch signature
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
            tape_emit(f, i, sts[j], out[j])
            j += 1
        if kind[e] == 0:
            tape_trade(f, i, ts[e], price[e], qty[e], side[e], buyer[e], seller[e])
        else:
            tape_book(f, i, ts[e], lv[brow[e]])
    while j < ns:
        tape_emit(f, i, sts[j], out[j])
        j += 1


def _pos_int(name: str, v: Any, *, zero: bool = False) -> int:
    ok = isinstance(v, int | np.integer) and not isinstance(v, bool)
    if not ok or v < (0 if zero else 1):
        raise ValueError(f"{name} must be an integer >= {0 if zero else 1}, got {v!r}")
    return int(v)


class TapeGroup(Group):
    """Tape reading: speed, size mix, sweeps, icebergs, broker-attributed flow.

    Parameters
    ----------
    ctx
        Instrument context: tick size (sweep levels, iceberg prices), size buckets,
        session cut (broker session features).
    speed_windows_s
        Trade-speed windows, whole seconds (distinct).
    size_window_s
        Window of the size-mix features, seconds.
    signal_window_s
        Window of the sweep and iceberg counts, seconds.
    broker_window_s
        Window of the windowed broker features, seconds.
    sweep_span_ms
        Largest time from a sweep run's first print to its last, ms (>= 0).
    sweep_min_levels
        Ticks a run must walk to be a sweep (>= 1).
    sweep_decay_ms
        ``tape_sweep_dir`` holds the last sweep's direction this long after its last
        print, ms (>= 0).
    iceberg_min_qty
        Hidden quantity (quantity units) that makes an episode an iceberg; None for twice the
        whale bucket ``ctx.size_buckets[3]``.
    iceberg_gap_s
        Largest gap between fills of one iceberg episode, seconds.
    max_broker_code
        Largest broker code with its own slot; larger codes share one "other" slot.
    broker_top_n
        N of the top-N net buyers / sellers.
    broker_share_n
        Brokers in the top volume share (and the default cluster).
    broker_clusters
        Broker code -> cluster id (non-negative ints); one output per cluster id.
        None: the default cluster "the ``broker_share_n`` brokers with most session
        volume".

    Raises
    ------
    ValueError
        If a parameter (or ``ctx.size_buckets``) is out of range; the message names it.
    """

    name: ClassVar[str] = "tape"
    uses_book: ClassVar[bool] = True
    trade = staticmethod(tape_trade)
    book = staticmethod(tape_book)
    emit = staticmethod(tape_emit)
    run = staticmethod(tape_run)

    def __init__(
        self,
        ctx: GroupContext,
        *,
        speed_windows_s: Sequence[int] = (1, 10, 60),
        size_window_s: int = 300,
        signal_window_s: int = 300,
        broker_window_s: int = 300,
        sweep_span_ms: int = 500,
        sweep_min_levels: int = 2,
        sweep_decay_ms: int = 5_000,
        iceberg_min_qty: float | None = None,
        iceberg_gap_s: int = 30,
        max_broker_code: int = 4096,
        broker_top_n: int = 3,
        broker_share_n: int = 5,
        broker_clusters: Mapping[int, int] | None = None,
    ) -> None:
        super().__init__(ctx)
        b = ctx.size_buckets
        if len(b) != 4 or not (0 < b[0] < b[1] <= b[2] <= b[3]):
            raise ValueError(f"size_buckets must satisfy 0 < b0 < b1 <= b2 <= b3, got {b!r}")
        if isinstance(speed_windows_s, str | bytes) or not speed_windows_s:
            raise ValueError(f"speed_windows_s must be whole seconds, got {speed_windows_s!r}")
        self.speed_windows_s = tuple(_pos_int("speed_windows_s", w) for w in speed_windows_s)
        if len(set(self.speed_windows_s)) != len(self.speed_windows_s):
            raise ValueError(f"speed_windows_s must be distinct, got {speed_windows_s!r}")
        self.size_window_s = _pos_int("size_window_s", size_window_s)
        self.signal_window_s = _pos_int("signal_window_s", signal_window_s)
        self.broker_window_s = _pos_int("broker_window_s", broker_window_s)
        self.sweep_span_ms = _pos_int("sweep_span_ms", sweep_span_ms, zero=True)
        self.sweep_min_levels = _pos_int("sweep_min_levels", sweep_min_levels)
        self.sweep_decay_ms = _pos_int("sweep_decay_ms", sweep_decay_ms, zero=True)
        ice = 2.0 * float(b[3]) if iceberg_min_qty is None else float(iceberg_min_qty)
        if not (np.isfinite(ice) and ice > 0):
            raise ValueError(f"iceberg_min_qty must be > 0, got {iceberg_min_qty!r}")
        self.iceberg_min_qty = ice
        self.iceberg_gap_s = _pos_int("iceberg_gap_s", iceberg_gap_s)
        self.max_broker_code = _pos_int("max_broker_code", max_broker_code, zero=True)
        if self.max_broker_code > 1_000_000:
            raise ValueError(f"max_broker_code must be <= 1,000,000, got {max_broker_code}")
        self.broker_top_n = _pos_int("broker_top_n", broker_top_n)
        self.broker_share_n = _pos_int("broker_share_n", broker_share_n)
        self.broker_clusters: dict[int, int] | None = None
        if broker_clusters is not None:
            if not broker_clusters:
                raise ValueError("broker_clusters must not be empty (None for the default)")
            cl = {
                _pos_int("broker_clusters code", k, zero=True): _pos_int(
                    "broker_clusters cluster id", v, zero=True
                )
                for k, v in broker_clusters.items()
            }
            big = [k for k in cl if k > self.max_broker_code]
            if big:
                raise ValueError(
                    f"broker_clusters codes must be <= max_broker_code "
                    f"({self.max_broker_code}), got {big[0]}"
                )
            self.broker_clusters = cl

    def params(self) -> dict[str, Any]:
        return {
            "speed_windows_s": self.speed_windows_s,
            "size_window_s": self.size_window_s,
            "signal_window_s": self.signal_window_s,
            "broker_window_s": self.broker_window_s,
            "sweep_span_ms": self.sweep_span_ms,
            "sweep_min_levels": self.sweep_min_levels,
            "sweep_decay_ms": self.sweep_decay_ms,
            "iceberg_min_qty": self.iceberg_min_qty,
            "iceberg_gap_s": self.iceberg_gap_s,
            "max_broker_code": self.max_broker_code,
            "broker_top_n": self.broker_top_n,
            "broker_share_n": self.broker_share_n,
            "broker_clusters": self.broker_clusters,
        }

    @property
    def cluster_ids(self) -> tuple[int, ...]:
        """Configured cluster ids in output order (empty for the default cluster)."""
        if self.broker_clusters is None:
            return ()
        return tuple(sorted(set(self.broker_clusters.values())))

    def new_state(self) -> State:
        ids = {c: k for k, c in enumerate(self.cluster_ids)}
        dense = None if self.broker_clusters is None else {
            code: ids[c] for code, c in self.broker_clusters.items()
        }  # fmt: skip
        return new_tape_state(
            tick_size=self.ctx.tick_size, buckets=self.ctx.size_buckets,
            session_offset_ns=self.ctx.session_offset_ns, levels=self.ctx.levels,
            windows_s=(*self.speed_windows_s, self.size_window_s),
            signal_window_s=self.signal_window_s, broker_window_s=self.broker_window_s,
            sweep_span_ms=self.sweep_span_ms, sweep_min_levels=self.sweep_min_levels,
            sweep_decay_ms=self.sweep_decay_ms, iceberg_min_qty=self.iceberg_min_qty,
            iceberg_gap_s=self.iceberg_gap_s, max_broker_code=self.max_broker_code,
            top_n=self.broker_top_n, share_n=self.broker_share_n, clusters=dense,
        )  # fmt: skip

    def docs(self) -> tuple[FeatureDoc, ...]:
        return tape_docs(
            TapeNames(
                group=self.name, speed_windows_s=self.speed_windows_s,
                size_window_s=self.size_window_s, signal_window_s=self.signal_window_s,
                broker_window_s=self.broker_window_s, sweep_span_ms=self.sweep_span_ms,
                sweep_min_levels=self.sweep_min_levels, sweep_decay_ms=self.sweep_decay_ms,
                iceberg_min_qty=self.iceberg_min_qty, iceberg_gap_s=self.iceberg_gap_s,
                max_broker_code=self.max_broker_code, top_n=self.broker_top_n,
                share_n=self.broker_share_n, cluster_ids=self.cluster_ids,
                buckets=tuple(self.ctx.size_buckets),
            )
        )  # fmt: skip
