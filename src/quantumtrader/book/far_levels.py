"""Far levels: the sparse part of the order book, outside the dense ladder window.

A dense window cannot span every resting order of a crypto book (Binance BTCUSDT
futures rest bids at 560 and asks at 617,050 around a 61,660 market: 6.2 million ticks
of 0.1). :class:`~quantumtrader.book.orderbook.OrderBook` keeps levels that do not fit
``max_capacity_ticks`` here, one ``tick -> size`` dict per side, and writes their count
into ``meta[M_N_FAR_BID]`` / ``meta[M_N_FAR_ASK]`` so the kernels hand every
out-of-window update of that side back to Python. They are few and rarely touched, so
plain dicts are the right structure; the best far tick per side is cached.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from quantumtrader.book import ladder as lad

__all__ = ["FarLevels"]

Array = np.ndarray[Any, Any]
_SET, _CHANGE, _DELETE = 0, 1, 2
_SLOT = (lad.M_N_FAR_BID, lad.M_N_FAR_ASK)
_EMPTY = (lad.NO_BID, lad.NO_ASK)


class FarLevels:
    """Sparse levels per side, indexed by row (``ladder.BID_ROW`` / ``ladder.ASK_ROW``).

    Attributes
    ----------
    levels
        ``(bid dict, ask dict)`` of tick -> size (> 0).
    best
        ``[best far bid tick, best far ask tick]``; ``NO_BID`` / ``NO_ASK`` when none.
    """

    def __init__(self) -> None:
        self.levels: tuple[dict[int, float], dict[int, float]] = ({}, {})
        self.best = list(_EMPTY)

    def __bool__(self) -> bool:
        return bool(self.levels[0] or self.levels[1])

    def set(self, meta: Array, row: int, tick: int, size: float) -> None:
        """Set (``size > 0``) or remove one level; keep the count in ``meta`` and the best."""
        far, is_bid = self.levels[row], row == lad.BID_ROW
        if size > 0.0:
            far[tick] = size
            if (tick > self.best[row]) if is_bid else (tick < self.best[row]):
                self.best[row] = tick
        elif far.pop(tick, None) is not None and tick == self.best[row]:
            self.best[row] = (max if is_bid else min)(far, default=_EMPTY[row])
        meta[_SLOT[row]] = len(far)

    def clear(self, meta: Array, row: int) -> None:
        """Remove every far level of one side."""
        self.levels[row].clear()
        self.best[row] = _EMPTY[row]
        meta[_SLOT[row]] = 0

    def apply(self, meta: Array, row: int, action: int, tick: int, size: float) -> None:
        """Apply SET / CHANGE / DELETE to a far level with the kernels' semantics.

        A CHANGE that drives the level below ``-SIZE_EPS`` is clamped at 0 and counted in
        ``meta[M_N_CLAMPED]``; a result within ``SIZE_EPS`` of 0 removes the level.
        """
        new = size if action == _SET else self.levels[row].get(tick, 0.0) + size
        if action == _DELETE:
            new = 0.0
        elif action == _CHANGE and new <= lad.SIZE_EPS:
            if new < -lad.SIZE_EPS:
                meta[lad.M_N_CLAMPED] += 1
            new = 0.0
        self.set(meta, row, tick, new)

    def pop_inside(self, meta: Array, row: int, lo: int, hi: int) -> list[tuple[int, float]]:
        """Remove and return the levels of one side with ``lo <= tick < hi``."""
        inside = [(t, s) for t, s in self.levels[row].items() if lo <= t < hi]
        for t, _ in inside:
            self.set(meta, row, t, 0.0)
        return inside

    def merge(self, row: int, ticks: Array, sizes: Array, n: int | None) -> tuple[Array, Array]:
        """Merge this side's far levels into window levels ``(ticks, sizes)``, best first.

        The window's ticks must be its first levels best first (at least ``n`` of them, or
        all when ``n`` is None); returns the first ``n`` (or all) levels of the union.
        """
        far = self.levels[row]
        if not far:
            return ticks, sizes
        ticks = np.concatenate([ticks, np.fromiter(far, dtype=np.int64, count=len(far))])
        sizes = np.concatenate([sizes, np.fromiter(far.values(), dtype=float, count=len(far))])
        order = np.argsort(-ticks if row == lad.BID_ROW else ticks, kind="stable")[:n]
        return ticks[order], sizes[order]

    def copy(self) -> FarLevels:
        """Independent copy."""
        other = FarLevels()
        other.levels = (dict(self.levels[0]), dict(self.levels[1]))
        other.best = list(self.best)
        return other
