"""Dense price-ladder kernels of the level-2 book (numba, integer ticks).

The book's state is two flat numpy arrays, so any numba code can read or update it:

``levels``
    float64, shape ``(2, capacity)``: ``levels[BID_ROW]`` and ``levels[ASK_ROW]`` are the
    per-side size arrays; column ``i`` is tick ``meta[M_BASE] + i`` (``0`` = empty). One
    2-d array lets numba code pick a side by row index rather than by array (choosing
    between two arrays in a branch costs reference counting in ordinary njit code).
``meta``
    int64, shape ``(META_LEN,)``:

    ========================  ==========================================================
    ``meta[M_BASE]``          tick of column 0 of ``levels``
    ``meta[M_BEST_BID]``      best (highest) non-empty bid tick, :data:`NO_BID` if none
    ``meta[M_BEST_ASK]``      best (lowest) non-empty ask tick, :data:`NO_ASK` if none
    ``meta[M_N_BID]``         number of non-empty bid levels
    ``meta[M_N_ASK]``         number of non-empty ask levels
    ``meta[M_GROW_TICK]``     the tick of the last update that returned :data:`NEED_GROW`
    ``meta[M_N_CLAMPED]``     running count of ``CHANGE`` updates clamped at size 0
    ``meta[M_N_FAR_BID]``     bid levels kept by the caller outside the window ("far")
    ``meta[M_N_FAR_ASK]``     ask levels kept by the caller outside the window
    ========================  ==========================================================

Ticks outside the window are empty unless the caller keeps *far* levels there (no
window spans every stale order of a crypto book: Binance BTCUSDT futures rest bids at
560 and asks at 617,050 around 61,660). The kernels see only the window;
:class:`~quantumtrader.book.orderbook.OrderBook` merges its far levels in. Best levels
are kept incrementally: an improving update is O(1); when the best level empties the
kernel scans inwards to the next non-empty level (cost = the empty ticks in between;
none when the side empties). Locked or crossed books are kept as the feed says.

An update whose tick is outside the window and would create a level returns
:data:`NEED_GROW` without touching the book; the caller moves or doubles the window
(:func:`plan_window`, :func:`move_window`) or files the level as far, and goes on.
Removing or reducing a level outside the window needs no growth (the level is empty),
unless far levels exist on that side: then every out-of-window update of the side, and
a ``CLEAR`` of it, returns :data:`NEED_GROW` so that the caller applies it.

References
----------
The dense tick vector over a price window and the ``i64::MIN``/``i64::MAX`` empty-side
sentinels follow hftbacktest's ``ROIVectorMarketDepth``
(https://github.com/nkaz001/hftbacktest, ``src/depth/roivectormarketdepth.rs``), which
ignores levels outside its window; this independent implementation keeps them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from numba import njit

__all__ = [
    "ASK_ROW",
    "BAD_ACTION",
    "BAD_FIELDS",
    "BAD_SIDE",
    "BAD_SIZE",
    "BID_ROW",
    "CLAMPED",
    "GRID_TOL",
    "MAX_ABS_TICK",
    "META_LEN",
    "M_BASE",
    "M_BEST_ASK",
    "M_BEST_BID",
    "M_GROW_TICK",
    "M_N_ASK",
    "M_N_BID",
    "M_N_CLAMPED",
    "M_N_FAR_ASK",
    "M_N_FAR_BID",
    "NEED_GROW",
    "NO_ASK",
    "NO_BID",
    "OK",
    "SIZE_EPS",
    "apply_batch",
    "apply_level",
    "depth_side",
    "move_window",
    "new_ladder",
    "occupied_range",
    "plan_window",
    "size_at_tick",
    "ticks_checked",
    "walk_side",
]

Array = np.ndarray[Any, Any]

# Status codes of apply_level / apply_batch.
OK = 0
NEED_GROW = 1
CLAMPED = 2
BAD_SIDE = -1
BAD_ACTION = -2
BAD_SIZE = -3

# Slots of the int64 meta array.
M_BASE = 0
M_BEST_BID = 1
M_BEST_ASK = 2
M_N_BID = 3
M_N_ASK = 4
M_GROW_TICK = 5
M_N_CLAMPED = 6
M_N_FAR_BID = 7
M_N_FAR_ASK = 8
META_LEN = 9

# Rows of the float64 levels array.
BID_ROW = 0
ASK_ROW = 1

#: Best bid tick of an empty bid side (the smallest int64, so ``best_bid >= best_ask`` is
#: False whenever a side is empty).
NO_BID = -(2**63)
#: Best ask tick of an empty ask side (the largest int64).
NO_ASK = 2**63 - 1
#: A ``CHANGE`` result with ``|size| <= SIZE_EPS`` empties the level (float residue).
SIZE_EPS = 1e-9

# BookSide / BookAction codes (quantumtrader.model.book), repeated as plain ints for numba.
_BID, _ASK, _BOTH = 1, -1, 0
_SET, _CHANGE, _DELETE, _CLEAR = 0, 1, 2, 3


def new_ladder(capacity: int, base: int) -> tuple[Array, Array]:
    """Empty state ``(levels, meta)`` over the window ``[base, base + capacity)``.

    Raises
    ------
    ValueError
        If ``capacity < 1``.
    """
    if capacity < 1:
        raise ValueError(f"ladder capacity must be >= 1 tick, got {capacity}")
    meta = np.zeros(META_LEN, dtype=np.int64)
    meta[M_BASE] = base
    meta[M_BEST_BID] = NO_BID
    meta[M_BEST_ASK] = NO_ASK
    return np.zeros((2, capacity)), meta


# The kernels neither allocate nor keep arrays: they are compiled without numba's
# reference counting (target option ``_nrt=False``), whose atomic incref/decref pairs on
# array arguments numba could not prune from this branchy code (apply_batch: 12.7 M/s
# with them, 87 M/s without, 2.5 GHz Xeon). Ordinary njit code can still call them.
_njit: Any = njit  # typed stubs of numba do not list the target option _nrt
_F = TypeVar("_F", bound=Callable[..., Any])


def _kernel(fn: _F) -> _F:
    """``njit(cache=True, _nrt=False)``, keeping the function's signature for mypy.

    ``_nrt`` is a numba target option without a public guarantee; a numba release that
    refuses it gets the plain ``njit(cache=True)`` kernel (same results, slower).
    """
    try:
        return cast(_F, _njit(cache=True, _nrt=False)(fn))
    except (KeyError, TypeError, ValueError):  # pragma: no cover - depends on numba
        return cast(_F, _njit(cache=True)(fn))


@_kernel
def _set_size(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    levels: Array, meta: Array, row: int, idx: int, tick: int, new: float
) -> None:  # pragma: no cover - compiled
    """Write ``new`` (>= 0) at ``levels[row, idx]`` and keep count and best level."""
    is_bid = row == BID_ROW
    n_slot = M_N_BID if is_bid else M_N_ASK
    best_slot = M_BEST_BID if is_bid else M_BEST_ASK
    old = levels[row, idx]
    if new > 0.0:
        if old <= 0.0:
            meta[n_slot] += 1
        levels[row, idx] = new
        if (is_bid and tick > meta[best_slot]) or (not is_bid and tick < meta[best_slot]):
            meta[best_slot] = tick
    elif old > 0.0:
        levels[row, idx] = 0.0
        meta[n_slot] -= 1
        if tick == meta[best_slot]:
            if meta[n_slot] == 0:
                meta[best_slot] = NO_BID if is_bid else NO_ASK
            else:
                # Best level emptied: scan inwards (bounds guard against outside edits).
                step = -1 if is_bid else 1
                cap = levels.shape[1]
                i = idx + step
                while i >= 0 and i < cap and levels[row, i] <= 0.0:
                    i += step
                meta[best_slot] = meta[M_BASE] + i


@_kernel
def _clear_side(levels: Array, meta: Array, row: int) -> None:  # pragma: no cover
    """Empty one side, visiting only the ticks from its best level outwards."""
    is_bid = row == BID_ROW
    n_slot = M_N_BID if is_bid else M_N_ASK
    best_slot = M_BEST_BID if is_bid else M_BEST_ASK
    left = meta[n_slot]
    i = meta[best_slot] - meta[M_BASE]
    step = -1 if is_bid else 1
    cap = levels.shape[1]
    while left > 0 and i >= 0 and i < cap:
        if levels[row, i] > 0.0:
            levels[row, i] = 0.0
            left -= 1
        i += step
    meta[n_slot] = 0
    meta[best_slot] = NO_BID if is_bid else NO_ASK


@_kernel
def apply_level(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    levels: Array, meta: Array, side: int, action: int, tick: int, size: float
) -> int:  # pragma: no cover - compiled
    """Apply one level update in place.

    ``side``: ``1`` bid, ``-1`` ask, ``0`` both (CLEAR only). ``action``: ``0`` SET
    (absolute ``size``; 0 deletes), ``1`` CHANGE (signed ``size``), ``2`` DELETE, ``3``
    CLEAR (``tick`` and ``size`` ignored). ``tick``: level price in ticks.

    Returns
    -------
    int
        :data:`OK`; :data:`CLAMPED` (a CHANGE drove the level below 0: set to 0, counted
        in ``meta[M_N_CLAMPED]``); :data:`NEED_GROW` (``tick`` outside the window, kept in
        ``meta[M_GROW_TICK]``, or CLEAR of a side with far levels: book untouched, the
        caller applies it); or :data:`BAD_SIDE`, :data:`BAD_ACTION`, :data:`BAD_SIZE`
        (NaN/inf size, negative SET size), book untouched.
    """
    status = OK
    if action == _CLEAR:
        far = (side != _ASK and meta[M_N_FAR_BID] > 0) or (side != _BID and meta[M_N_FAR_ASK] > 0)
        if side not in (_BID, _ASK, _BOTH):
            status = BAD_SIDE
        elif far:
            status = NEED_GROW
        else:
            if side != _ASK:
                _clear_side(levels, meta, BID_ROW)
            if side != _BID:
                _clear_side(levels, meta, ASK_ROW)
    elif side not in (_BID, _ASK):
        status = BAD_SIDE
    elif action < _SET or action > _DELETE:
        status = BAD_ACTION
    elif action != _DELETE and (not np.isfinite(size) or (action == _SET and size < 0.0)):
        status = BAD_SIZE
    else:
        row = BID_ROW if side == _BID else ASK_ROW
        idx = tick - meta[M_BASE]
        inside = idx >= 0 and idx < levels.shape[1]
        if not inside and meta[M_N_FAR_BID if side == _BID else M_N_FAR_ASK] > 0:
            meta[M_GROW_TICK] = tick  # the caller owns this side's far levels
            status = NEED_GROW
        else:
            new = 0.0
            if action == _SET:
                new = size
            elif action == _CHANGE:
                new = (levels[row, idx] if inside else 0.0) + size
                if new < -SIZE_EPS:
                    new = 0.0
                    status = CLAMPED
                    meta[M_N_CLAMPED] += 1
                elif new <= SIZE_EPS:
                    new = 0.0
            if inside:
                _set_size(levels, meta, row, idx, tick, new)
            elif new > 0.0:
                meta[M_GROW_TICK] = tick
                status = NEED_GROW
    return status


@_kernel
def apply_batch(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    levels: Array,
    meta: Array,
    side: Array,
    action: Array,
    tick: Array,
    size: Array,
    out_best_bid: Array,
    out_best_ask: Array,
) -> tuple[int, int]:  # pragma: no cover - compiled
    """Apply updates ``0..n-1`` in order; stop at the first that needs growth or is invalid.

    ``side``, ``action``, ``tick`` (integers), ``size`` (float64): shape ``(n,)``. If the
    int64 ``out_best_bid``/``out_best_ask`` hold ``n`` elements they receive the best ticks
    after each update (pass empty arrays to skip). Clamped CHANGEs are counted, no stop.

    Returns
    -------
    (n_applied, status)
        ``(n, OK)`` when every update was applied; otherwise ``n_applied`` is the index of
        the update that was not applied and ``status`` is :data:`NEED_GROW` (move the
        window for ``tick[n_applied]`` or apply that update as far, then resume) or a
        negative error code.
    """
    n = side.shape[0]
    record = out_best_bid.shape[0] >= n and out_best_ask.shape[0] >= n
    for i in range(n):
        st = apply_level(levels, meta, side[i], action[i], tick[i], size[i])
        if st == NEED_GROW or st < 0:
            return i, st
        if record:
            out_best_bid[i] = meta[M_BEST_BID]
            out_best_ask[i] = meta[M_BEST_ASK]
    return n, OK


@_kernel
def size_at_tick(levels: Array, meta: Array, side: int, tick: int) -> float:  # pragma: no cover
    """Size resting at ``tick`` on ``side`` (``1`` bid, ``-1`` ask); 0 when empty."""
    idx = tick - meta[M_BASE]
    out: float = 0.0
    if idx >= 0 and idx < levels.shape[1] and side in (_BID, _ASK):
        out = levels[BID_ROW if side == _BID else ASK_ROW, idx]
    return out


@_kernel
def depth_side(
    levels: Array, meta: Array, side: int, out_tick: Array, out_size: Array
) -> int:  # pragma: no cover - compiled
    """Copy the first levels of ``side``, best first, into ``out_tick`` / ``out_size``.

    Fills at most their common length (int64 ticks, float64 sizes); returns how many.
    """
    is_bid = side == _BID
    row = BID_ROW if is_bid else ASK_ROW
    n_max = min(out_tick.shape[0], out_size.shape[0])
    left = meta[M_N_BID] if is_bid else meta[M_N_ASK]
    if left == 0 or n_max == 0:
        return 0
    base = meta[M_BASE]
    i = (meta[M_BEST_BID] if is_bid else meta[M_BEST_ASK]) - base
    step = -1 if is_bid else 1
    k = 0
    cap = levels.shape[1]
    while k < n_max and k < left and 0 <= i < cap:
        s = levels[row, i]
        if s > 0.0:
            out_tick[k] = base + i
            out_size[k] = s
            k += 1
        i += step
    return k


@_kernel
def walk_side(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    levels: Array, meta: Array, side: int, qty: float, out_tick: Array, out_qty: Array
) -> int:  # pragma: no cover - compiled
    """Take up to ``qty`` from the levels of ``side``, best first, without changing the book.

    Writes tick and quantity taken per level into ``out_tick`` / ``out_qty`` (at most
    their common length); returns the levels used. Takes less if the side runs out.
    """
    is_bid = side == _BID
    row = BID_ROW if is_bid else ASK_ROW
    n_max = min(out_tick.shape[0], out_qty.shape[0])
    left = meta[M_N_BID] if is_bid else meta[M_N_ASK]
    if left == 0 or n_max == 0 or not qty > 0.0:
        return 0
    base = meta[M_BASE]
    i = (meta[M_BEST_BID] if is_bid else meta[M_BEST_ASK]) - base
    step = -1 if is_bid else 1
    rem = qty
    k = 0
    cap = levels.shape[1]
    while rem > 0.0 and k < n_max and left > 0 and 0 <= i < cap:
        s = levels[row, i]
        if s > 0.0:
            take = s if s < rem else rem
            out_tick[k] = base + i
            out_qty[k] = take
            rem -= take
            left -= 1
            k += 1
        i += step
    return k


#: Field names by the code :func:`ticks_checked` returns (0: none invalid).
BAD_FIELDS = ("", "action", "side", "price", "size")
#: Largest ``|tick|`` accepted (float64 holds integers exactly up to 2**53).
MAX_ABS_TICK = 2**52
#: Largest distance of ``price / tick_size`` from an integer taken as on the tick grid.
GRID_TOL = 1e-6


@_kernel
def ticks_checked(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    side: Array, action: Array, price: Array, size: Array, tick_size: float, out_tick: Array
) -> tuple[int, int]:  # pragma: no cover - compiled
    """Validate a batch of level updates and convert its prices to ticks, in one pass.

    ``out_tick[i] = round(price[i] / tick_size)`` (0 for CLEAR rows: price ignored). A
    row is invalid if its action is not 0..3, its side not ±1 (0 allowed for CLEAR), its
    price not finite, off the grid by more than :data:`GRID_TOL` ticks or beyond
    :data:`MAX_ABS_TICK` ticks, or its size not finite (SET/CHANGE) or negative (SET).

    Returns
    -------
    (first_bad_row, field_code)
        ``(-1, 0)`` when every row is valid; else the first invalid row and the index
        of the offending field in :data:`BAD_FIELDS`.
    """
    bad = -1
    code = 0
    for i in range(side.shape[0]):
        a = action[i]
        sd = side[i]
        if a < _SET or a > _CLEAR:
            code = 1
        elif not (sd in (_BID, _ASK) or (a == _CLEAR and sd == _BOTH)):
            code = 2
        elif a == _CLEAR:
            out_tick[i] = 0
        else:
            q = price[i] / tick_size
            t = np.rint(q)
            if not (abs(q - t) <= GRID_TOL and abs(t) <= MAX_ABS_TICK):
                code = 3
            elif a != _DELETE and (not np.isfinite(size[i]) or (a == _SET and size[i] < 0.0)):
                code = 4
            else:
                out_tick[i] = np.int64(t)
        if code != 0:
            bad = i
            break
    return bad, code


@_kernel
def occupied_range(levels: Array, meta: Array) -> tuple[int, int]:  # pragma: no cover
    """Lowest and highest non-empty tick of either side; ``(1, 0)`` when the window is empty.

    Scans inwards from both ends of the window: the cost is the empty margin of the book.
    """
    base = meta[M_BASE]
    cap = levels.shape[1]
    lo = cap
    hi = -1
    if meta[M_N_ASK] > 0:
        lo = meta[M_BEST_ASK] - base
        j = cap - 1
        while j > 0 and levels[ASK_ROW, j] <= 0.0:
            j -= 1
        hi = j
    if meta[M_N_BID] > 0:
        i = 0
        while i < cap - 1 and levels[BID_ROW, i] <= 0.0:
            i += 1
        lo = min(lo, i)
        hi = max(hi, meta[M_BEST_BID] - base)
    if lo > hi:
        return 1, 0
    return base + lo, base + hi


def plan_window(levels: Array, meta: Array, tick: int, max_capacity: int) -> tuple[int, int] | None:
    """Window ``(base, capacity)`` holding every level of the window and ``tick``.

    The capacity stays when the occupied range (with ``tick``) spans at most half of
    it, else it doubles until it does (never past ``max_capacity``); the range is
    centred in the new window. Returns None when the range needs more than
    ``max_capacity`` ticks: the caller then keeps ``tick`` as a far level. Cost
    O(capacity); it runs only on :data:`NEED_GROW`.
    """
    lo, hi = occupied_range(levels, meta)
    lo, hi = (tick, tick) if lo > hi else (min(lo, tick), max(hi, tick))
    span = hi - lo + 1
    if span > max_capacity:
        return None
    cap = int(levels.shape[1])
    while 2 * span > cap and cap < max_capacity:
        cap = min(2 * cap, max_capacity)
    return lo - (cap - span) // 2, cap


def move_window(levels: Array, meta: Array, base: int, capacity: int) -> tuple[Array, Array]:
    """Fresh ``(levels, meta)`` over ``[base, base + capacity)`` with the same levels.

    The new window must hold every non-empty level of the old one (as
    :func:`plan_window` guarantees); ``meta`` keeps best levels, counts and counters.
    """
    old_base = int(meta[M_BASE])
    old_cap = int(levels.shape[1])
    new_levels, new_meta = new_ladder(capacity, base)
    new_meta[:] = meta
    new_meta[M_BASE] = base
    a = max(old_base, base)
    b = min(old_base + old_cap, base + capacity)
    if b > a:
        new_levels[:, a - base : b - base] = levels[:, a - old_base : b - old_base]
    return new_levels, new_meta
