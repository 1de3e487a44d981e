"""Sweep and iceberg detection kernels of the tape group (numba, state in ``(f, i)``).

Sweeps (one run at a time). A *run* is a maximal sequence of aggressor prints (``side
!= 0``; prints without aggressor are ignored, they neither extend nor break a run) with
the same side, all within ``sweep_span`` of the run's first print, and never moving
against the aggressor (buy: ``p >= previous p``; sell: ``p <= previous p``). ``walked =
(p_last - p_first) × side`` in ticks is the number of price levels the run consumed.
The run is a *sweep* once ``walked >= sweep_min_levels``; it is counted once, at the
print where it qualifies. No size rule is applied: the fills of one aggressor order are
sized by the resting orders they meet, so a "non-decreasing size" condition would cut
genuine sweeps. On B3 (1-second timestamps) a span below one second means "same
second", so two aggressors in one second that walk the book together form one run.

Icebergs, per passive side (the bid is hit by sell aggressors, the ask lifted by buy
aggressors). An *episode* is a sequence of fills at one price ``p`` on one passive side,
each within ``iceberg_gap`` of the previous fill, ended by a print (of any side) through
the level (``< p`` for the bid, ``> p`` for the ask), by a fill at another price, or
(with a book) by a frame where ``p`` is no longer displayed on that side. Its hidden
quantity ``H``:

* trades only (no book frame seen yet, e.g. B3 prints): ``H`` = all the quantity filled
  in the episode (volume absorbed by a level that did not give way);
* with a book: the part of the fills since the last frame beyond the size displayed at
  ``p`` in that frame, ``max(0, F - D)``, plus at each new frame the *refill*
  ``min(F, max(0, D' - max(D - F, 0)))`` (size re-displayed beyond what the fills left).
  When ``p`` was not displayed in the last frame, fills add nothing until a frame shows
  the level.

The episode is an iceberg detection when ``H >= iceberg_min_qty`` (counted once); from
then on every increment of ``H`` is attributed to iceberg volume.

References: Chakravarty, Jain, Upson & Wood, "Clean Sweep: Informed Trading through
Intermarket Sweep Orders", J. Financial and Quantitative Analysis 47(2) (2012) 415-435;
Christensen & Woodmansey, "Prediction of Hidden Liquidity in the Limit Order Book of
GLOBEX Futures", J. Trading 8(3) (2013) 68-95.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from quantumtrader.features.groups._tape_layout import (
    EP_NF,
    EP_NI,
    EPF_DISP,
    EPF_HID,
    EPF_SINCE,
    EPF_VOL,
    EPI_ACT,
    EPI_FLAG,
    EPI_KNOWN,
    EPI_PX,
    EPI_TS,
    F_EP,
    F_ICE_MIN,
    F_TICK,
    I_EP,
    I_HAVE_BOOK,
    I_ICE_GAP,
    I_K,
    I_O_LV,
    I_RUN_FIRST,
    I_RUN_FLAG,
    I_RUN_LAST,
    I_RUN_SIDE,
    I_RUN_TS,
    I_SW_DECAY,
    I_SW_DIR,
    I_SW_MIN,
    I_SW_SPAN,
    I_SW_TS,
)
from quantumtrader.features.jit import fjit_inline

__all__ = [
    "iceberg_book",
    "iceberg_trade",
    "sweep_emit",
    "sweep_trade",
]

Array = np.ndarray[Any, Any]


# ---------------------------------------------------------------- sweeps
@fjit_inline
def sweep_trade(i: Array, ts: int, p: int, side: int) -> int:  # pragma: no cover - compiled
    """Advance the sweep run with a print at ``p`` ticks; +1/-1 when a sweep qualifies."""
    if side == 0:
        return 0
    if (
        side == i[I_RUN_SIDE]
        and ts - i[I_RUN_TS] <= i[I_SW_SPAN]
        and (p - i[I_RUN_LAST]) * side >= 0
    ):
        i[I_RUN_LAST] = p
    else:
        i[I_RUN_SIDE] = side
        i[I_RUN_FIRST] = p
        i[I_RUN_LAST] = p
        i[I_RUN_FLAG] = 0
        i[I_RUN_TS] = ts  # the run's first print
    if (i[I_RUN_LAST] - i[I_RUN_FIRST]) * side >= i[I_SW_MIN]:
        i[I_SW_DIR] = side
        i[I_SW_TS] = ts
        if i[I_RUN_FLAG] == 0:
            i[I_RUN_FLAG] = 1
            return side
    return 0


@fjit_inline
def sweep_emit(i: Array, ts: int) -> tuple[float, float]:  # pragma: no cover - compiled
    """(direction of the last sweep while active, signed levels walked by the live run)."""
    d = 0.0
    if i[I_SW_DIR] != 0 and ts - i[I_SW_TS] <= i[I_SW_DECAY]:
        d = float(i[I_SW_DIR])
    run = 0.0
    if i[I_RUN_SIDE] != 0 and ts - i[I_RUN_TS] <= i[I_SW_SPAN]:
        run = float(i[I_RUN_LAST] - i[I_RUN_FIRST])  # monotone run: sign = side
    return d, run


# ---------------------------------------------------------------- icebergs
@fjit_inline
def _displayed(f: Array, i: Array, s: int, p: int) -> tuple[float, int]:  # pragma: no cover
    """Size displayed at ``p`` ticks on side ``s`` (0 bid, 1 ask) of the last frame."""
    k = i[I_K]
    px = i[I_O_LV] + 2 * s * k
    fp = float(p)
    for j in range(k):
        if f[px + j] == fp:
            return f[px + k + j], 1
    return 0.0, 0


@fjit_inline
def _credit(f: Array, i: Array, s: int, inc: float) -> tuple[float, float]:  # pragma: no cover
    """Attribute a hidden-quantity increment of side ``s``: (iceberg qty, new detections)."""
    ib = I_EP + EP_NI * s
    fb = F_EP + EP_NF * s
    f[fb + EPF_HID] += inc
    if i[ib + EPI_FLAG] != 0:
        return inc, 0.0
    if f[fb + EPF_HID] >= f[F_ICE_MIN]:
        i[ib + EPI_FLAG] = 1
        return f[fb + EPF_HID], 1.0
    return 0.0, 0.0


@fjit_inline
def iceberg_trade(  # noqa: PLR0917 - flat kernel arguments
    f: Array, i: Array, ts: int, p: int, qty: float, side: int
) -> tuple[float, float, float]:  # pragma: no cover - compiled
    """One print at ``p`` ticks: (iceberg qty at the bid, at the ask, new detections)."""
    bid = I_EP
    ask = I_EP + EP_NI
    if i[bid + EPI_ACT] != 0 and p < i[bid + EPI_PX]:
        i[bid + EPI_ACT] = 0
    if i[ask + EPI_ACT] != 0 and p > i[ask + EPI_PX]:
        i[ask + EPI_ACT] = 0
    if side == 0:
        return 0.0, 0.0, 0.0
    s = 0 if side < 0 else 1
    ib = I_EP + EP_NI * s
    fb = F_EP + EP_NF * s
    book = i[I_HAVE_BOOK] != 0
    if not (i[ib + EPI_ACT] != 0 and i[ib + EPI_PX] == p and ts - i[ib + EPI_TS] <= i[I_ICE_GAP]):
        i[ib + EPI_ACT] = 1
        i[ib + EPI_PX] = p
        i[ib + EPI_FLAG] = 0
        f[fb + EPF_VOL] = 0.0
        f[fb + EPF_HID] = 0.0
        f[fb + EPF_SINCE] = 0.0
        if book:
            d, known = _displayed(f, i, s, p)
            f[fb + EPF_DISP] = d
            i[ib + EPI_KNOWN] = known
    i[ib + EPI_TS] = ts
    f[fb + EPF_VOL] += qty
    if book:
        before = f[fb + EPF_SINCE]
        f[fb + EPF_SINCE] = before + qty
        inc = 0.0
        if i[ib + EPI_KNOWN] != 0:
            d = f[fb + EPF_DISP]
            inc = max(0.0, before + qty - d) - max(0.0, before - d)
    else:
        inc = qty
    q, n = _credit(f, i, s, inc)
    if s == 0:
        return q, 0.0, n
    return 0.0, q, n


@fjit_inline
def iceberg_book(f: Array, i: Array, lv: Array) -> tuple[float, float, float]:  # pragma: no cover
    """Store the frame (prices as ticks) and credit refills: (bid qty, ask qty, detections)."""
    k = i[I_K]
    o = i[I_O_LV]
    tick = f[F_TICK]
    for s in range(2):
        for j in range(k):
            px = lv[2 * s, j]
            f[o + 2 * s * k + j] = np.nan if np.isnan(px) else float(round(px / tick))
            f[o + 2 * s * k + k + j] = lv[2 * s + 1, j]
    if i[I_HAVE_BOOK] == 0:  # switch to the book rule: end the trades-only episodes
        i[I_HAVE_BOOK] = 1
        i[I_EP + EPI_ACT] = 0
        i[I_EP + EP_NI + EPI_ACT] = 0
        return 0.0, 0.0, 0.0
    qb = 0.0
    qa = 0.0
    n = 0.0
    for s in range(2):
        ib = I_EP + EP_NI * s
        fb = F_EP + EP_NF * s
        if i[ib + EPI_ACT] == 0:
            continue
        d2, known = _displayed(f, i, s, i[ib + EPI_PX])
        if known == 0:
            i[ib + EPI_ACT] = 0
            continue
        fills = f[fb + EPF_SINCE]
        inc = 0.0
        if i[ib + EPI_KNOWN] != 0 and fills > 0.0:
            left = max(f[fb + EPF_DISP] - fills, 0.0)
            inc = min(fills, max(0.0, d2 - left))
        f[fb + EPF_DISP] = d2
        f[fb + EPF_SINCE] = 0.0
        i[ib + EPI_KNOWN] = 1
        if inc > 0.0:
            q, dn = _credit(f, i, s, inc)
            n += dn
            if s == 0:
                qb += q
            else:
                qa += q
    return qb, qa, n
