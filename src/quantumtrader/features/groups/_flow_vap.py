"""Volume-at-price histogram for the flow group: bounded int-tick bins, POC and value area.

A histogram lives in the group's flat state: ``h`` float bins at ``f[fo : fo + h]`` and a
five-int header at ``i[io : io + VH_INTS]``:

* ``VH_BASE``: absolute bin number of bin 0 (absolute bin of tick ``x`` is ``x >> k``);
* ``VH_K``: bin width ``2**k`` ticks (0 = one tick, the normal case);
* ``VH_LO`` / ``VH_HI``: bins that may hold volume (every non-zero bin is inside);
* ``VH_N``: trades held (0 = empty; then every bin is exactly 0).

A trade outside the bins refits the histogram: the occupied range plus the new tick is
re-centred in the ``h`` bins, and if it would fill more than 3/4 of them the bins merge
pairwise (width 2, 4, ... ticks, aligned on absolute multiples) until it fits. Merging
never drops volume and a trade still in the histogram always maps to the bin that holds
it, so a windowed profile can subtract expired trades exactly. The width goes back to
one tick when the histogram empties (the window drains or the session restarts). Each
refit costs ``O(h)`` and leaves at least ``h / 8`` free bins on either side, so refits
are rare (none on a B3 day with the default 4096 bins).

References
----------
J. P. Steidlmayer & S. B. Hawkins, *Steidlmayer on Markets* (2nd ed., Wiley, 2003) and
J. F. Dalton, E. T. Jones & R. B. Dalton, *Mind over Markets* (Wiley, 2013), ch. 2-3:
point of control, the 70 % value area and its expansion from the POC by pairs of rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from quantumtrader.features.jit import fjit, fjit_inline

__all__ = ["VH_BASE", "VH_HI", "VH_INTS", "VH_K", "VH_LO", "VH_N", "vh_add", "vh_clear",
           "vh_stats", "vh_sub"]  # fmt: skip

Array = np.ndarray[Any, Any]
VH_BASE, VH_K, VH_LO, VH_HI, VH_N = 0, 1, 2, 3, 4
VH_INTS = 5
_K_MAX = 40  # bins never get wider than 2**40 ticks (a refit stops there)


@fjit
def vh_clear(f: Array, i: Array, fo: int, io: int) -> None:  # pragma: no cover - compiled
    """Empty the histogram (bins back to exactly 0, width one tick)."""
    if i[io + VH_N] > 0 or i[io + VH_LO] <= i[io + VH_HI]:
        for j in range(i[io + VH_LO], i[io + VH_HI] + 1):
            f[fo + j] = 0.0
    i[io + VH_BASE] = 0
    i[io + VH_K] = 0
    i[io + VH_LO] = 1
    i[io + VH_HI] = 0
    i[io + VH_N] = 0


@fjit
def _refit(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, fo: int, io: int, h: int, sfo: int, x: int
) -> None:  # pragma: no cover
    """Re-centre (and merge bins if needed) so that tick ``x`` fits; ``sfo``: h scratch floats."""
    k = i[io + VH_K]
    base = i[io + VH_BASE]
    lo = i[io + VH_LO]
    hi = i[io + VH_HI]
    tlo = min((base + lo) << k, x)
    thi = max(((base + hi) << k) + (1 << k) - 1, x)
    k2 = k
    while k2 < _K_MAX and ((thi >> k2) - (tlo >> k2) + 1) * 4 > 3 * h:
        k2 += 1
    span = (thi >> k2) - (tlo >> k2) + 1
    base2 = (tlo >> k2) - (h - span) // 2
    d = k2 - k
    for j in range(lo, hi + 1):
        f[sfo + j - lo] = f[fo + j]
        f[fo + j] = 0.0
    for j in range(lo, hi + 1):
        v = f[sfo + j - lo]
        if v != 0.0:
            f[fo + ((base + j) >> d) - base2] += v
    i[io + VH_LO] = ((base + lo) >> d) - base2
    i[io + VH_HI] = ((base + hi) >> d) - base2
    i[io + VH_K] = k2
    i[io + VH_BASE] = base2


@fjit_inline
def vh_add(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, fo: int, io: int, h: int, sfo: int, x: int, vol: float
) -> None:  # pragma: no cover - compiled
    """Add ``vol`` at tick ``x`` (may refit the bins, using ``h`` scratch floats at ``sfo``)."""
    if i[io + VH_N] == 0:
        i[io + VH_K] = 0
        i[io + VH_BASE] = x - h // 2
        b = h // 2
        i[io + VH_LO] = b
        i[io + VH_HI] = b
    else:
        b = (x >> i[io + VH_K]) - i[io + VH_BASE]
        if b < 0 or b >= h:
            _refit(f, i, fo, io, h, sfo, x)
            b = (x >> i[io + VH_K]) - i[io + VH_BASE]
        i[io + VH_LO] = min(i[io + VH_LO], b)
        i[io + VH_HI] = max(i[io + VH_HI], b)
    f[fo + b] += vol
    i[io + VH_N] += 1


@fjit_inline
def vh_sub(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, fo: int, io: int, h: int, x: int, vol: float
) -> None:  # pragma: no cover - compiled
    """Remove a trade added earlier with ``vh_add(x, vol)``; empty -> exact reset."""
    b = (x >> i[io + VH_K]) - i[io + VH_BASE]
    if 0 <= b < h:
        f[fo + b] -= vol
    i[io + VH_N] -= 1
    if i[io + VH_N] <= 0:
        vh_clear(f, i, fo, io)
        return
    lo = i[io + VH_LO]
    hi = i[io + VH_HI]
    while lo < hi and f[fo + lo] <= 0.0:
        lo += 1
    while hi > lo and f[fo + hi] <= 0.0:
        hi -= 1
    i[io + VH_LO] = lo
    i[io + VH_HI] = hi


@fjit
def vh_stats(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, fo: int, io: int, last: int, va: float, out: Array, o: int, n: int
) -> bool:  # pragma: no cover - compiled
    """POC, VAH, VAL distances (ticks) and volume skew into ``out[o : o + n]`` (n 3 or 4).

    ``last`` is the last trade's price in ticks. Returns False (and writes NaN) when the
    histogram holds no volume. Bin prices are bin centres (the tick itself at width 1).
    POC: the bin of largest volume; ties -> the one closest to ``last``, then the lower.
    Value area: start at the POC; while it holds less than ``va`` of the volume, compare
    the volume of the next two bins above with the next two below and add the larger
    pair (both on a tie; one side alone once the other is exhausted). VAH / VAL are the
    highest / lowest bins with volume inside it. Skew: ``(A - B) / (A + B)`` of volume
    strictly above / below the POC bin, 0 when both are 0.
    """
    lo = i[io + VH_LO]
    hi = i[io + VH_HI]
    k = i[io + VH_K]
    base = i[io + VH_BASE]
    half = ((1 << k) - 1) * 0.5
    tot = 0.0
    poc = lo
    best = -1.0
    bd = 0.0
    below = 0.0
    for j in range(lo, hi + 1):  # one pass: total, POC (with the tie rule), volume below it
        v = f[fo + j]
        if v >= best:
            d = abs(float((base + j) << k) + half - last)
            if v > best or d < bd:
                best = v
                poc = j
                bd = d
                below = tot
        tot += v
    if i[io + VH_N] == 0 or not tot > 0.0:
        for c in range(n):
            out[o + c] = np.nan
        return False
    above = tot - below - best
    target = va * tot
    acc = best
    up = poc + 1  # next bin above the value area
    dn = poc - 1  # next bin below it
    while acc < target:
        can_up = up <= hi
        can_dn = dn >= lo
        if not (can_up or can_dn):
            break
        su = 0.0
        if can_up:
            su = f[fo + up] + f[fo + up + 1] if up < hi else f[fo + up]
        sd = 0.0
        if can_dn:
            sd = f[fo + dn] + f[fo + dn - 1] if dn > lo else f[fo + dn]
        take_dn = can_dn and (not can_up or sd >= su)
        if can_up and (not can_dn or su >= sd):
            acc += su
            up += 2
        if take_dn:
            acc += sd
            dn -= 2
    top = min(up - 1, hi)
    while top > poc and not f[fo + top] > 0.0:  # VAH / VAL: outermost bins with volume
        top -= 1
    bot = max(dn + 1, lo)
    while bot < poc and not f[fo + bot] > 0.0:
        bot += 1
    out[o] = last - (float((base + poc) << k) + half)
    out[o + 1] = last - (float((base + top) << k) + half)
    out[o + 2] = last - (float((base + bot) << k) + half)
    if n > 3:
        ab = above + below
        out[o + 3] = (above - below) / ab if ab > 0.0 else 0.0
    return True
