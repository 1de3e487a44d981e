"""Footprint group: bid x ask volume per price row of time bars, and patterns read from it.

A footprint bar is a time bar (``bar_seconds``, cut at ``floor(ts / bar_ns)`` and at the
session cut) that holds, per price row, the **ask volume** ``A(r)`` (buy-aggressor
volume, traded at the ask) and the **bid volume** ``B(r)`` (sell-aggressor volume,
traded at the bid). A row is ``row_ticks`` ticks high; if a bar's range would exceed
``max_rows`` rows, the bar's row height doubles (adjacent rows merge) until it fits.
Trades without an aggressor (``side == 0``: B3 cross/"Direto" trades, auction prints)
are neither at the bid nor at the ask and are left out of every footprint value. The
bar's low / high rows ``lo`` / ``hi`` and its open / close are those of its aggressor
trades; its direction ``d = sign(close - open)`` (ticks).

Suffix ``_{S}`` is the bar length (``1m`` for 60 s). Current bar (as of ``ts``):

* ``fp_delta_S`` = ``sum A - sum B``; ``fp_volume_S`` = ``sum A + sum B``;
* ``fp_delta_pct_S`` = delta / volume;
* ``fp_poc_pos_S`` = ``(poc - lo) / (hi - lo)`` (0.5 when ``hi == lo``); the POC is the
  row of largest ``A + B``, the lowest such row on ties.

Last closed bar (``fp_prev_*``, computed once when the bar closes):

* ``delta``, ``volume``, ``poc_pos`` as above; ``level_delta_max`` / ``_min``: max / min
  of ``A(r) - B(r)`` over occupied rows;
* diagonal imbalances: buy at ``r`` iff ``lo < r``, ``A(r) > 0``, ``A(r) >= min_volume``
  and ``A(r) >= ratio * B(r - 1)``; sell at ``r`` iff ``r < hi``, ``B(r) > 0``,
  ``B(r) >= min_volume`` and ``B(r) >= ratio * A(r + 1)``. An empty partner row counts
  as 0 volume (so a lone print above an untraded row is an imbalance once it reaches
  ``min_volume``); the extreme row without a partner inside the bar never is.
  ``imb_buy`` / ``imb_sell`` count them; ``stack_buy`` / ``stack_sell`` are the longest
  runs of consecutive rows with the imbalance; ``stacked`` = ``[stack_buy >= m] -
  [stack_sell >= m]`` with ``m = min_stack``;
* ``unfinished_high`` / ``_low``: 1 if ``A > 0`` and ``B > 0`` at ``hi`` / ``lo`` (the
  auction traded both sides at the extreme, so it did not finish there);
* absorption (ours): ``s_top = A(hi) / max_r A(r) * (hi - c) / (hi - lo)`` (heavy buying
  at the high that made no progress: the close row ``c`` fell back),
  ``s_bot = B(lo) / max_r B(r) * (c - lo) / (hi - lo)``; the value is ``+s_bot`` if
  ``s_bot > s_top``, ``-s_top`` if ``s_top > s_bot``, else 0 (0 when ``hi == lo``);
* exhaustion (ours): ``e_hi = max(0, 1 - v(hi) / (v_avg * exhaustion_ratio))`` with
  ``v(r) = A(r) + B(r)`` and ``v_avg`` the mean volume of the occupied rows (``e_lo``
  alike); ``+e_lo`` if ``e_lo > e_hi``, ``-e_hi`` if ``e_hi > e_lo``, else 0;
* reversal (ours): ``-d * max(div, e_dir, s_dir)`` where ``div = |delta_pct|`` when delta
  opposes ``d`` (delta divergence), else 0; ``e_dir`` / ``s_dir`` are the exhaustion and
  absorption at the extreme the bar moved towards (``e_hi``, ``s_top`` for ``d > 0``);
* continuation (ours): ``d * [L >= m] * 0.5 * (min(1, L / 2m) + max(0, d * delta_pct))``,
  ``L`` the longest stack in the bar's direction (buy stacks for ``d > 0``).

Closed-bar values are NaN until the first bar of the session closes; a closed bar is
the last bar with aggressor trades (empty bars are not bars). The bar closes when the
first trade or sample of a later bar arrives; the emit kernel may close it (the
analogue of expiring a window: idempotent, O(rows) once per bar).

Storage. The open bar's rows live in a circular array of ``P`` slots (``P`` the power of
two ``>= max_rows``; slot ``row & (P - 1)``), so the rows of a bar spanning at most
``max_rows`` rows map one to one and never move. A trade that would widen the bar past
``max_rows`` rows merges row pairs (O(P), at most ``log2(range / max_rows)`` times per
bar). A trade costs O(1) (bar and session ends are computed once per bar, so the
per-event checks are comparisons); the closed-bar values are computed once, in one pass
over the bar's rows, and the rows are cleared in the same pass. State layout, ``i`` (no
rings, ``i[0] = 0``): parameters (bar ns, session offset, ``max_rows``, row ticks, minimum
stack, slot mask), the open bar (end ns, session end ns, trades, lowest and highest row,
row height, POC row, open and close ticks), the closed bar's session end, the number of
row merges so far. ``f``: parameters (tick size, ratio, minimum volume, exhaustion ratio),
the open bar's ask and bid totals and POC volume, the 16 closed-bar values, ``2 P`` row
slots (ask, bid interleaved), ``2 max_rows`` scratch slots.

References
----------
Sierra Chart, "Numbers Bars" documentation (bid x ask volume per price of a bar);
ATAS, "Footprint" and "Stacked Imbalance" documentation (diagonal imbalance, 3:1 ratio,
stacks of 3); J. P. Steidlmayer & K. Koy, *Markets and Market Logic* (1986), and
J. F. Dalton, E. T. Jones & R. B. Dalton, *Mind Over Markets* (1990) for the point of
control and unfinished auctions. Absorption, exhaustion, reversal and continuation have
no single standard; the formulas above are ours.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from quantumtrader.features.group import FeatureDoc, Group, GroupContext
from quantumtrader.features.groups._footprint_docs import footprint_docs
from quantumtrader.features.jit import fjit, fjit_inline
from quantumtrader.features.state import State

__all__ = ["FootprintGroup"]

Array = np.ndarray[Any, Any]
N_CUR = 4  # current-bar outputs
NS_DAY = 86_400 * 1_000_000_000
N_PREV = 16  # closed-bar values

# int slots (i[0] is the ring count, 0); see "State layout" above
I_BARNS, I_OFFS, I_L, I_ROWT, I_MINSTK, I_MASK = 1, 2, 3, 4, 5, 6
I_END, I_DAYEND, I_NTR, I_LO, I_HI, I_ROWH, I_POC, I_OPEN, I_CLOSE = 7, 8, 9, 10, 11, 12, 13, 14, 15
I_PDAYEND, I_NCOARSE = 16, 17
N_INT = 18
# float slots
F_TICK, F_RATIO, F_MINV, F_EXH = 0, 1, 2, 3
F_ASK, F_BID, F_POCV = 4, 5, 6
F_PREV = 7
F_ROWS = F_PREV + N_PREV  # 2 P row slots, then 2 max_rows scratch slots


@fjit_inline
def _slot(r: int, mask: int) -> int:  # pragma: no cover - compiled
    return F_ROWS + 2 * (r & mask)


@fjit
def _coarsen(f: Array, i: Array) -> None:  # pragma: no cover - compiled
    """Double the open bar's row height, merging row pairs ``(2k, 2k + 1)`` into ``k``."""
    mask = i[I_MASK]
    lo, hi = i[I_LO], i[I_HI]
    scr = F_ROWS + 2 * (mask + 1)
    for k in range(hi - lo + 1):
        s = _slot(lo + k, mask)
        f[scr + 2 * k] = f[s]
        f[scr + 2 * k + 1] = f[s + 1]
        f[s] = 0.0
        f[s + 1] = 0.0
    for k in range(hi - lo + 1):
        s = _slot((lo + k) // 2, mask)
        f[s] += f[scr + 2 * k]
        f[s + 1] += f[scr + 2 * k + 1]
    lo, hi = lo // 2, hi // 2
    i[I_LO], i[I_HI] = lo, hi
    i[I_ROWH] *= 2
    i[I_NCOARSE] += 1
    best = -1.0
    for r in range(lo, hi + 1):  # lowest row wins ties, as in fp_add
        s = _slot(r, mask)
        v = f[s] + f[s + 1]
        if v > best:
            best = v
            i[I_POC] = r
    f[F_POCV] = best


@fjit_inline
def fp_add(  # noqa: PLR0917 - numba kernels take flat arguments positionally
    f: Array, i: Array, ts: int, price: float, qty: float, side: int
) -> None:  # pragma: no cover - compiled
    """Add one aggressor trade (``side`` +1 or -1) to the open bar, opening one if needed.

    The caller has closed a finished bar first (:func:`fp_close` once ``ts >= i[I_END]``).
    Inlined into the trade kernel (numba ``inline="always"``).
    """
    tick = np.int64(np.floor(price / f[F_TICK] + 0.5))
    if i[I_NTR] == 0:
        bar_ns = i[I_BARNS]
        day_end = ((ts + i[I_OFFS]) // NS_DAY + 1) * NS_DAY - i[I_OFFS]
        i[I_END] = min((ts // bar_ns + 1) * bar_ns, day_end)
        i[I_DAYEND] = day_end
        i[I_ROWH] = i[I_ROWT]
        r = tick // i[I_ROWH]
        i[I_LO], i[I_HI], i[I_POC], i[I_OPEN] = r, r, r, tick
        f[F_ASK] = 0.0
        f[F_BID] = 0.0
        f[F_POCV] = 0.0
    else:
        rowh = i[I_ROWH]
        r = tick if rowh == 1 else tick // rowh
        if r < i[I_LO] or r > i[I_HI]:
            lo, hi = min(i[I_LO], r), max(i[I_HI], r)
            while hi - lo + 1 > i[I_L]:
                _coarsen(f, i)
                r = tick // i[I_ROWH]
                lo, hi = min(i[I_LO], r), max(i[I_HI], r)
            i[I_LO], i[I_HI] = lo, hi
    s = _slot(r, i[I_MASK])
    if side > 0:
        f[s] += qty
        f[F_ASK] += qty
    else:
        f[s + 1] += qty
        f[F_BID] += qty
    v = f[s] + f[s + 1]
    if v > f[F_POCV] or (v == f[F_POCV] and r < i[I_POC]):
        f[F_POCV] = v
        i[I_POC] = r
    i[I_CLOSE] = tick
    i[I_NTR] += 1


@fjit_inline
def _signed_max(pos: float, neg: float) -> float:  # pragma: no cover - compiled
    """``+pos`` if ``pos > neg``, ``-neg`` if ``neg > pos``, else 0."""
    if pos > neg:
        return pos
    if neg > pos:
        return -neg
    return 0.0


@fjit_inline
def fp_close(f: Array, i: Array) -> None:  # pragma: no cover - compiled
    """Summarise the open bar into the 16 closed-bar slots, then clear its rows.

    Output order: delta, volume, level delta max, level delta min, POC position, buy
    and sell imbalance counts, longest buy and sell stacks, stacked flag, unfinished
    high and low, absorption, exhaustion, reversal, continuation (definitions in
    the module docstring). Inlined into the trade and emit kernels.
    """
    mask = i[I_MASK]
    lo, hi = i[I_LO], i[I_HI]
    ratio, minv, exh_ratio = f[F_RATIO], f[F_MINV], f[F_EXH]
    min_stack = i[I_MINSTK]
    ask_tot, bid_tot = f[F_ASK], f[F_BID]
    vol = ask_tot + bid_tot
    delta = ask_tot - bid_tot
    n_occ = 0
    dmax, dmin = -np.inf, np.inf
    max_a, max_b = 0.0, 0.0
    n_buy, n_sell, run_b, run_s, best_b, best_s = 0, 0, 0, 0, 0, 0
    prev_b = 0.0
    for r in range(lo, hi + 1):
        s = _slot(r, mask)
        a, b = f[s], f[s + 1]
        if a + b > 0.0:
            n_occ += 1
            dmax = max(dmax, a - b)
            dmin = min(dmin, a - b)
        max_a = max(max_a, a)
        max_b = max(max_b, b)
        # buy imbalance at r: ask(r) vs bid(r - 1); the lowest row has no partner
        if r > lo and a > 0.0 and a >= minv and a >= ratio * prev_b:
            n_buy += 1
            run_b += 1
            best_b = max(best_b, run_b)
        else:
            run_b = 0
        # sell imbalance at r: bid(r) vs ask(r + 1); the highest row has no partner
        if r < hi and b > 0.0 and b >= minv and b >= ratio * f[_slot(r + 1, mask)]:
            n_sell += 1
            run_s += 1
            best_s = max(best_s, run_s)
        else:
            run_s = 0
        prev_b = b
    if n_occ == 0:  # only zero-quantity trades
        dmax, dmin = 0.0, 0.0
    s_hi, s_lo = _slot(hi, mask), _slot(lo, mask)
    a_hi, b_hi, a_lo, b_lo = f[s_hi], f[s_hi + 1], f[s_lo], f[s_lo + 1]
    span = hi - lo
    close_row = i[I_CLOSE] // i[I_ROWH]
    d_ticks = i[I_CLOSE] - i[I_OPEN]
    d = 1 if d_ticks > 0 else (-1 if d_ticks < 0 else 0)
    delta_pct = delta / vol if vol > 0.0 else 0.0
    abs_top, abs_bot, exh_hi, exh_lo = 0.0, 0.0, 0.0, 0.0
    poc_pos = 0.5
    if span > 0:
        poc_pos = (i[I_POC] - lo) / span
        if max_a > 0.0:
            abs_top = (a_hi / max_a) * ((hi - close_row) / span)
        if max_b > 0.0:
            abs_bot = (b_lo / max_b) * ((close_row - lo) / span)
        if vol > 0.0:
            avg = vol / n_occ
            exh_hi = max(0.0, 1.0 - (a_hi + b_hi) / avg / exh_ratio)
            exh_lo = max(0.0, 1.0 - (a_lo + b_lo) / avg / exh_ratio)
    div = abs(delta_pct) if d * delta < 0.0 else 0.0
    rev, cont = 0.0, 0.0
    if d != 0:
        e_dir = exh_hi if d > 0 else exh_lo
        a_dir = abs_top if d > 0 else abs_bot
        strength = max(div, e_dir, a_dir)
        rev = -d * strength if strength > 0.0 else 0.0
        stack = best_b if d > 0 else best_s
        if stack >= min_stack:
            cont = d * 0.5 * (min(1.0, stack / (2.0 * min_stack)) + max(0.0, d * delta_pct))
    p = F_PREV
    f[p + 0] = delta
    f[p + 1] = vol
    f[p + 2] = dmax
    f[p + 3] = dmin
    f[p + 4] = poc_pos
    f[p + 5] = n_buy
    f[p + 6] = n_sell
    f[p + 7] = best_b
    f[p + 8] = best_s
    f[p + 9] = (1.0 if best_b >= min_stack else 0.0) - (1.0 if best_s >= min_stack else 0.0)
    f[p + 10] = 1.0 if a_hi > 0.0 and b_hi > 0.0 else 0.0
    f[p + 11] = 1.0 if a_lo > 0.0 and b_lo > 0.0 else 0.0
    f[p + 12] = _signed_max(abs_bot, abs_top)
    f[p + 13] = _signed_max(exh_lo, exh_hi)
    f[p + 14] = rev
    f[p + 15] = cont
    for r in range(lo, hi + 1):
        s = _slot(r, mask)
        f[s] = 0.0
        f[s + 1] = 0.0
    i[I_PDAYEND] = i[I_DAYEND]
    i[I_NTR] = 0


@fjit
def footprint_trade(  # noqa: PLR0917 - the group kernel signature
    f: Array, i: Array, ts: int, price: float, qty: float, side: int, buyer: int, seller: int
) -> None:  # pragma: no cover - compiled
    """One trade: close a finished bar, then add an aggressor trade to the open bar."""
    if side == 0:
        return
    if i[I_NTR] > 0 and ts >= i[I_END]:
        fp_close(f, i)
    fp_add(f, i, ts, price, qty, side)


@fjit
def footprint_book(f: Array, i: Array, ts: int, lv: Array) -> None:  # pragma: no cover - compiled
    """Book frames do not change this group."""


@fjit
def footprint_emit(f: Array, i: Array, ts: int, out: Array) -> None:  # pragma: no cover - compiled
    """Write the 4 current-bar then the 16 closed-bar values as of ``ts``."""
    if i[I_NTR] > 0 and ts >= i[I_END]:  # ts is in a later bar: close (once)
        fp_close(f, i)
    if i[I_NTR] > 0:
        ask, bid = f[F_ASK], f[F_BID]
        vol = ask + bid
        out[0] = ask - bid
        out[1] = vol
        out[2] = (ask - bid) / vol if vol > 0.0 else np.nan
        span = i[I_HI] - i[I_LO]
        out[3] = (i[I_POC] - i[I_LO]) / span if span > 0 else 0.5
    else:
        out[0] = 0.0
        out[1] = 0.0
        out[2] = np.nan
        out[3] = np.nan
    if ts < i[I_PDAYEND]:  # the closed bar belongs to ts's session
        for k in range(N_PREV):
            out[N_CUR + k] = f[F_PREV + k]
    else:
        for k in range(N_PREV):
            out[N_CUR + k] = np.nan


@fjit
def footprint_run(  # noqa: PLR0917 - the group batch signature
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
            footprint_emit(f, i, sts[j], out[j])
            j += 1
        if kind[e] == 0:
            footprint_trade(f, i, ts[e], price[e], qty[e], side[e], buyer[e], seller[e])
    while j < ns:
        footprint_emit(f, i, sts[j], out[j])
        j += 1


def _whole(name: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < lo:
        raise ValueError(f"{name} must be a whole number >= {lo}, got {value!r}")
    return int(value)


class FootprintGroup(Group):
    """Footprint (bid x ask per price row) of the current and the last closed time bar.

    Parameters
    ----------
    ctx
        Instrument context (tick size, session cut).
    bar_seconds
        Bar length in seconds (default 60); bars are ``floor(ts / bar_ns)``.
    ratio
        Diagonal imbalance ratio (default 3.0, i.e. 300 %), ``>= 1``.
    min_volume
        Minimum volume (quantity units) of the dominant side of an imbalance row
        (default 0: any positive volume), ``>= 0``.
    min_stack
        Rows of consecutive same-side imbalances that make a stack (default 3), ``>= 2``.
    exhaustion_ratio
        Extreme-row volume below ``exhaustion_ratio`` times the mean row volume scores
        as exhaustion (default 0.25), in ``(0, 1]``.
    row_ticks
        Row height in ticks (default 1); coarser rows suit fine-tick markets (BTC 0.1).
    max_rows
        Rows one bar may span before its rows merge pairwise (default 2048), ``>= 16``;
        the state holds about ``4 * max_rows`` floats.

    Raises
    ------
    ValueError
        If a parameter is outside its range (the message names it).
    """

    name: ClassVar[str] = "footprint"
    uses_book: ClassVar[bool] = False
    trade = staticmethod(footprint_trade)
    book = staticmethod(footprint_book)
    emit = staticmethod(footprint_emit)
    run = staticmethod(footprint_run)

    def __init__(
        self,
        ctx: GroupContext,
        *,
        bar_seconds: int = 60,
        ratio: float = 3.0,
        min_volume: float = 0.0,
        min_stack: int = 3,
        exhaustion_ratio: float = 0.25,
        row_ticks: int = 1,
        max_rows: int = 2048,
    ) -> None:
        super().__init__(ctx)
        self.bar_seconds = _whole("bar_seconds", bar_seconds, 1)
        if not (np.isfinite(ratio) and ratio >= 1.0):
            raise ValueError(f"ratio must be a finite number >= 1, got {ratio!r}")
        if not (np.isfinite(min_volume) and min_volume >= 0.0):
            raise ValueError(f"min_volume must be a finite number >= 0, got {min_volume!r}")
        if not 0.0 < exhaustion_ratio <= 1.0:
            raise ValueError(f"exhaustion_ratio must be in (0, 1], got {exhaustion_ratio!r}")
        self.ratio = float(ratio)
        self.min_volume = float(min_volume)
        self.min_stack = _whole("min_stack", min_stack, 2)
        self.exhaustion_ratio = float(exhaustion_ratio)
        self.row_ticks = _whole("row_ticks", row_ticks, 1)
        self.max_rows = _whole("max_rows", max_rows, 16)

    def params(self) -> dict[str, Any]:
        return {
            "bar_seconds": self.bar_seconds, "ratio": self.ratio, "min_volume": self.min_volume,
            "min_stack": self.min_stack, "exhaustion_ratio": self.exhaustion_ratio,
            "row_ticks": self.row_ticks, "max_rows": self.max_rows,
        }  # fmt: skip

    def new_state(self) -> State:
        n = self.max_rows
        p = 1 << (n - 1).bit_length()  # slots: the power of two >= max_rows
        f = np.zeros(F_ROWS + 2 * p + 2 * n)
        f[F_TICK], f[F_RATIO], f[F_MINV] = self.ctx.tick_size, self.ratio, self.min_volume
        f[F_EXH] = self.exhaustion_ratio
        f[F_PREV : F_PREV + N_PREV] = np.nan
        i = np.zeros(N_INT, dtype=np.int64)  # i[0] = 0 rings
        i[I_BARNS] = self.bar_seconds * 1_000_000_000
        i[I_OFFS] = self.ctx.session_offset_ns
        i[I_L], i[I_ROWT], i[I_MINSTK], i[I_MASK] = n, self.row_ticks, self.min_stack, p - 1
        i[I_PDAYEND] = np.iinfo(np.int64).min
        return f, i

    def docs(self) -> tuple[FeatureDoc, ...]:
        return footprint_docs(
            self.name, self.bar_seconds, self.ratio, self.min_volume, self.min_stack,
            self.exhaustion_ratio, self.row_ticks, self.max_rows,
        )  # fmt: skip
