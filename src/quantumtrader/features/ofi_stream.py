"""Stream objects for the trade-based order-flow imbalance (see :mod:`.ofi`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from quantumtrader.core import DataError
from quantumtrader.features.ofi import (
    DEFAULT_OFI_WINDOWS,
    NEED_GROW,
    OUT_OF_ORDER,
    ofi_grow,
    ofi_init_state,
    ofi_names,
    ofi_step,
    windows_ns,
)

__all__ = ["OrderFlowImbalance", "TradeOFI"]

Array = np.ndarray[Any, Any]
OfiOutput = Literal["value", "velocity", "acceleration"]
_OUTPUT_INDEX = {"value": 0, "velocity": 1, "acceleration": 2}


def _opt(x: float) -> float | None:
    return None if math.isnan(x) else x


class TradeOFI:
    """All OFI windows at once over one shared ring buffer (O(1) amortized per trade).

    Parameters
    ----------
    window_minutes
        Trailing event-time windows in minutes (default 1, 5, 15, 30, 60).
    capacity
        Initial ring-buffer capacity in entries; it doubles when full.

    Raises
    ------
    ValueError
        If a window is not a positive integer of minutes.

    See Also
    --------
    quantumtrader.features.ofi : definitions, units and references.
    """

    __slots__ = ("_W", "_k", "_out", "_rb_buy", "_rb_sell", "_rb_ts", "_sf", "_si", "windows")

    def __init__(
        self, window_minutes: Sequence[int] = DEFAULT_OFI_WINDOWS, capacity: int = 1024
    ) -> None:
        self._W = windows_ns(window_minutes)
        self.windows: tuple[int, ...] = tuple(int(w) for w in window_minutes)
        self._k = len(self.windows)
        self._si, self._sf, self._rb_ts, self._rb_buy, self._rb_sell = ofi_init_state(
            self._k, capacity
        )
        self._out = np.full(3 * self._k, np.nan)

    def update(self, ts: int, price: float, qty: float, side: int) -> None:
        """Feed one trade (``price`` unused).

        Raises
        ------
        DataError
            If ``ts`` is earlier than the previous trade's.
        """
        while True:
            r = ofi_step(
                ts, qty, side, self._W, self._si, self._sf,
                self._rb_ts, self._rb_buy, self._rb_sell, self._out,
            )  # fmt: skip
            if r != NEED_GROW:
                break
            self._rb_ts, self._rb_buy, self._rb_sell = ofi_grow(
                self._si, self._k, self._rb_ts, self._rb_buy, self._rb_sell
            )
        if r == OUT_OF_ORDER:
            raise DataError(f"trade at {ts} ns is earlier than the previous trade")

    @property
    def capacity(self) -> int:
        """Current ring-buffer capacity (entries)."""
        return int(self._rb_ts.shape[0])

    def values(self) -> dict[str, float | None]:
        """Every output by feature name (``ofi_5m``, ``ofi_5m_velocity``, ...)."""
        out = self._out.tolist()
        res: dict[str, float | None] = {}
        for j, w in enumerate(self.windows):
            for m, name in enumerate(ofi_names(w)):
                res[name] = _opt(out[3 * j + m])
        return res

    def raw(self) -> Array:
        """Outputs as float64 ``(3k,)`` (value, velocity, acceleration per window; NaN = None)."""
        return self._out.copy()

    def reset(self) -> None:
        """Forget everything (as freshly constructed, keeping the current capacity)."""
        self._si, self._sf, self._rb_ts, self._rb_buy, self._rb_sell = ofi_init_state(
            self._k, self.capacity
        )
        self._out[:] = np.nan


class OrderFlowImbalance:
    """One OFI output as a Feature (``ofi_5m``, ``ofi_5m_velocity``, ...).

    Parameters
    ----------
    window_minutes
        Trailing event-time window in minutes.
    output
        ``"value"`` (OFI in [-1, 1]), ``"velocity"`` or ``"acceleration"`` (see
        :mod:`quantumtrader.features.ofi` for the one-second grid definitions).

    Raises
    ------
    ValueError
        If the window or output is invalid.
    """

    __slots__ = ("_idx", "_ofi", "name")

    def __init__(self, window_minutes: int = 5, output: OfiOutput = "value") -> None:
        if output not in _OUTPUT_INDEX:
            raise ValueError(f"output must be one of {tuple(_OUTPUT_INDEX)}, got {output!r}")
        self._ofi = TradeOFI((window_minutes,), capacity=256)
        self._idx = _OUTPUT_INDEX[output]
        self.name: str = ofi_names(window_minutes)[self._idx]

    def update(self, ts: int, price: float, qty: float, side: int) -> None:
        """Feed one trade (see :meth:`TradeOFI.update`)."""
        self._ofi.update(ts, price, qty, side)

    def get(self) -> float | None:
        """Current value; None until defined (see module docstring)."""
        return _opt(float(self._ofi._out[self._idx]))

    @property
    def ready(self) -> bool:
        """True once :meth:`get` returns a number."""
        return self.get() is not None

    def reset(self) -> None:
        """Forget everything (as freshly constructed)."""
        self._ofi.reset()
