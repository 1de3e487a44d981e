"""Cumulative delta: signed aggressor volume since the last reset.

Definition: ``cum_delta(t) = sum(qty_i * side_i)`` over trades ``i`` with
``ts_i <= t`` since reset, where ``side`` is +1 for buyer-initiated, -1 for
seller-initiated and 0 for trades without an aggressor (auction, direct). Units:
contracts. Window: since reset (the caller resets at the session start).

State layout: ``sf`` float64[1] = the running sum.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = ["CumulativeDelta", "cum_delta_batch"]

Array = np.ndarray[Any, Any]


@njit(cache=True)
def delta_step(qty: float, side: int, sf: Array) -> float:  # pragma: no cover - compiled
    """Add one trade's signed volume to ``sf[0]``; return the new cumulative delta."""
    if side > 0:
        sf[0] += qty
    elif side < 0:
        sf[0] -= qty
    return float(sf[0])


@njit(cache=True)
def _delta_loop(qty: Array, side: Array, out: Array) -> None:  # pragma: no cover
    sf = np.zeros(1)
    for i in range(qty.shape[0]):
        out[i] = delta_step(qty[i], side[i], sf)


def cum_delta_batch(qty: Array, side: Array) -> Array:
    """Cumulative delta after each trade (batch twin of :class:`CumulativeDelta`).

    Parameters
    ----------
    qty, side
        Shape ``(n,)``: contracts (float64) and aggressor (+1, -1, 0).

    Returns
    -------
    numpy.ndarray
        float64 ``(n,)``, contracts.

    Raises
    ------
    ValueError
        If the arrays differ in length.
    """
    if qty.shape[0] != side.shape[0]:
        raise ValueError("qty and side must have the same length")
    out = np.empty(qty.shape[0])
    _delta_loop(
        np.ascontiguousarray(qty, dtype=np.float64),
        np.ascontiguousarray(side, dtype=np.int64),
        out,
    )
    return out


class CumulativeDelta:
    """Stream cumulative delta (``cum_delta``), O(1) per trade.

    Definition: sum of ``qty * side`` since reset; contracts; window since reset.

    References
    ----------
    Standard order-flow "delta" as used on footprint charts; see e.g. J. Dalton,
    *Mind Over Markets* (2013), and the trade-sign literature (Lee & Ready, 1991).

    Examples
    --------
    >>> d = CumulativeDelta()
    >>> d.update(0, 10.0, 5.0, 1); d.update(1, 10.0, 2.0, -1); d.get()
    3.0
    """

    __slots__ = ("_n", "_sf")
    name = "cum_delta"

    def __init__(self) -> None:
        self._sf = np.zeros(1)
        self._n = 0

    def update(self, ts: int, price: float, qty: float, side: int) -> None:
        """Feed one trade (``ts`` and ``price`` are unused but keep the trade signature)."""
        delta_step(qty, side, self._sf)
        self._n += 1

    def get(self) -> float | None:
        """Cumulative delta in contracts; None before the first trade."""
        return float(self._sf[0]) if self._n else None

    @property
    def ready(self) -> bool:
        """True once a trade has been seen."""
        return self._n > 0

    def reset(self) -> None:
        """Set the sum back to zero (as freshly constructed)."""
        self._sf[0] = 0.0
        self._n = 0
