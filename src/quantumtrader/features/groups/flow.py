"""Order-flow group: cumulative delta and trade-based OFI windows (template group).

Features (``W`` in minutes, default 1, 5, 15, 30, 60):

* ``cum_delta``: sum of ``qty × side`` over the session (contracts).
* ``ofi_Wm``: ``(B - S) / (B + S)`` of aggressor volume with ``ts`` in ``(t - W, t]``,
  0 when ``B + S = 0``.
* ``ofi_Wm_velocity`` / ``ofi_Wm_acceleration``: difference to the value (velocity) at
  the end of the previous active second, as in :mod:`quantumtrader.features.ofi`
  (same numbers as :class:`~quantumtrader.features.FeatureSet` after every trade).

Layout (``i``): ring 0 ``(ts | buy, sell)``; ``I_NW`` window count, then window
lengths (ns) and tails; ``I_SEC`` current active second, ``I_NSEC`` active seconds
seen, ``I_DAY`` session day. (``f``): ``F_CD`` cum delta, then sums ``2 nW``, last value,
last velocity, previous value, previous velocity (``nW`` each).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numba import njit

from quantumtrader.features.group import FeatureDoc, Group, GroupContext
from quantumtrader.features.ring import mw_commit, mw_expire, mw_push
from quantumtrader.features.state import State, StateBuilder, ring_header

__all__ = ["FlowGroup"]

Array = np.ndarray[Any, Any]
NS_MIN = 60_000_000_000
NS_SEC = 1_000_000_000
NS_DAY = 86_400 * NS_SEC
OFI_REF = (
    "Chordia & Subrahmanyam, J. Financial Economics 72 (2004) 485-518 (trade imbalance); "
    "Cont, Kukanov & Stoikov, J. Financial Econometrics 12(1) (2014) 47-88 (OFI)"
)
_R = 0  # the trade ring
I_NW = ring_header(1)  # first int slot after one ring header
I_SEC, I_NSEC, I_DAY, I_OFFS = I_NW + 1, I_NW + 2, I_NW + 3, I_NW + 4
I_WINS = I_NW + 5
F_CD = 0
F_SUMS = 1


@njit(cache=True, inline="always")
def _offs(i: Array) -> tuple[int, int, int, int, int, int, int]:  # pragma: no cover
    nw = i[I_NW]
    tails = I_WINS + nw
    last_v = F_SUMS + 2 * nw
    return nw, I_WINS, tails, last_v, last_v + nw, last_v + 2 * nw, last_v + 3 * nw


@njit(cache=True, inline="always")
def _ratio(b: float, s: float) -> float:  # pragma: no cover - compiled
    tot = b + s
    return (b - s) / tot if tot > 0.0 else 0.0


@njit(cache=True)
def flow_trade(  # noqa: PLR0917 - the group kernel signature
    f: Array, i: Array, ts: int, price: float, qty: float, side: int, buyer: int, seller: int
) -> None:  # pragma: no cover - compiled
    """One trade (see :mod:`quantumtrader.features.group` for the signature)."""
    nw, wins, tails, lv, lvel, pv, pvel = _offs(i)
    day = (ts + i[I_OFFS]) // NS_DAY
    if day != i[I_DAY]:
        i[I_DAY] = day
        f[F_CD] = 0.0
    f[F_CD] += qty * side
    sec = ts // NS_SEC
    if i[I_NSEC] == 0 or sec != i[I_SEC]:
        for k in range(nw):
            f[pv + k] = f[lv + k]
            f[pvel + k] = f[lvel + k]
        i[I_SEC] = sec
        i[I_NSEC] += 1
    mw_expire(f, i, _R, 2, nw, F_SUMS, tails, wins, ts)
    fo = mw_push(i, _R, ts)
    f[fo] = qty if side > 0 else 0.0
    f[fo + 1] = qty if side < 0 else 0.0
    mw_commit(f, 2, nw, F_SUMS, fo)
    for k in range(nw):
        v = _ratio(f[F_SUMS + 2 * k], f[F_SUMS + 2 * k + 1])
        f[lv + k] = v
        f[lvel + k] = v - f[pv + k]  # NaN until a previous active second exists


@njit(cache=True)
def flow_book(f: Array, i: Array, ts: int, lv: Array) -> None:  # pragma: no cover - compiled
    """Book frames do not change this group."""


@njit(cache=True)
def flow_emit(f: Array, i: Array, ts: int, out: Array) -> None:  # pragma: no cover - compiled
    """Write ``cum_delta`` then value, velocity, acceleration per window as of ``ts``."""
    nw, wins, tails, _, _, pv, pvel = _offs(i)
    mw_expire(f, i, _R, 2, nw, F_SUMS, tails, wins, ts)
    day = (ts + i[I_OFFS]) // NS_DAY
    out[0] = f[F_CD] if day == i[I_DAY] else 0.0
    for k in range(nw):
        v = _ratio(f[F_SUMS + 2 * k], f[F_SUMS + 2 * k + 1])
        vel = v - f[pv + k]
        out[1 + 3 * k] = v
        out[2 + 3 * k] = vel
        out[3 + 3 * k] = vel - f[pvel + k]


@njit(cache=True)
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
    while j < ns:
        flow_emit(f, i, sts[j], out[j])
        j += 1


class FlowGroup(Group):
    """Cumulative delta and trade OFI windows.

    Parameters
    ----------
    ctx
        Instrument context (session cut for ``cum_delta``).
    ofi_windows
        Trailing windows in minutes (positive ints).

    Raises
    ------
    ValueError
        If a window is not a positive integer of minutes.
    """

    name: ClassVar[str] = "flow"
    trade = staticmethod(flow_trade)
    book = staticmethod(flow_book)
    emit = staticmethod(flow_emit)
    run = staticmethod(flow_run)

    def __init__(self, ctx: GroupContext, *, ofi_windows: Sequence[int] = (1, 5, 15, 30, 60)):
        super().__init__(ctx)
        if not ofi_windows or any(int(w) != w or w <= 0 for w in ofi_windows):
            raise ValueError(f"ofi_windows must be positive whole minutes, got {ofi_windows!r}")
        self.ofi_windows = tuple(int(w) for w in ofi_windows)

    def params(self) -> dict[str, Any]:
        return {"ofi_windows": self.ofi_windows}

    def new_state(self) -> State:
        nw = len(self.ofi_windows)
        b = StateBuilder(n_rings=1)
        b.ring(_R, nf=2, ni=1, cap=256)
        if b.i(5) != I_NW:  # pragma: no cover - layout invariant of this module
            raise RuntimeError("flow group layout drifted")
        wins = b.i(nw)
        b.i(nw)  # tails
        b.f(1 + 2 * nw)  # cum delta, sums
        b.f(4 * nw, np.nan)  # last value, last velocity, previous value, previous velocity
        f, i = b.build()
        i[I_NW] = nw
        i[I_OFFS] = self.ctx.session_offset_ns
        i[I_DAY] = np.iinfo(np.int64).min
        i[wins : wins + nw] = [w * NS_MIN for w in self.ofi_windows]
        return f, i

    def docs(self) -> tuple[FeatureDoc, ...]:
        out = [
            FeatureDoc(
                name="cum_delta", group=self.name,
                description="cumulative delta: net aggressor volume since the session start",
                formula="sum(qty * side), side = +1 buy / -1 sell / 0 none",
                units="quantity units (contracts)", window="session (local day)",
                inputs="trades", warmup="0 before the first trade of the session",
                reference="order-flow delta; trade sign as in Lee & Ready, J. Finance 46 (1991)",
            )
        ]  # fmt: skip
        for w in self.ofi_windows:
            base = f"ofi_{w}m"
            win = f"trailing {w} min of event time, (t - {w}m, t]"
            out += [
                FeatureDoc(
                    name=base, group=self.name,
                    description="trade order-flow imbalance of aggressor volume",
                    formula="(B - S) / (B + S); 0 when B + S = 0", units="dimensionless, [-1, 1]",
                    window=win, inputs="trades", warmup="0 before any aggressor trade",
                    reference=OFI_REF,
                ),
                FeatureDoc(
                    name=f"{base}_velocity", group=self.name,
                    description=f"{base} minus its value at the end of the previous active second",
                    formula=f"{base}(t) - {base}(end of previous active second)",
                    units="OFI units per active second", window=win, inputs="trades",
                    warmup="NaN during the first active second", reference=OFI_REF,
                ),
                FeatureDoc(
                    name=f"{base}_acceleration", group=self.name,
                    description=f"{base}_velocity minus its value at the end of the previous "
                    "active second",
                    formula=f"{base}_velocity(t) - {base}_velocity(end of previous active second)",
                    units="OFI units per active second squared", window=win, inputs="trades",
                    warmup="NaN during the first two active seconds", reference=OFI_REF,
                ),
            ]  # fmt: skip
        return tuple(out)
