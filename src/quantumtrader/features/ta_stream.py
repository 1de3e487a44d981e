"""Candle indicators as stream Features (EMA, RSI, ATR, ADX, +DI, -DI).

Each object is fed closed candles (O(1) per candle) through the kernels of
:mod:`quantumtrader.features.ta_kernels`, so it equals the batch functions there and
TA-Lib on the same candles. ``get()`` is None until TA-Lib would output its first
value. Feed either the values (``update(close)`` or ``update(high, low, close)``) or a
:class:`~quantumtrader.features.candles.Candle` (``update_bar``).

References
----------
J. W. Wilder, *New Concepts in Technical Trading Systems* (1978); TA-Lib
(https://ta-lib.org) for the SMA-seeded EMA.
"""

from __future__ import annotations

import abc
import math
from typing import Any

import numpy as np

from quantumtrader.features.candles import Candle
from quantumtrader.features.ta_kernels import (
    ATR_NS,
    DMI_NS,
    EMA_NS,
    RSI_NS,
    atr_step,
    check_period,
    dmi_step,
    ema_step,
    rsi_step,
)

__all__ = ["ADX", "ATR", "EMA", "RSI", "MinusDI", "PlusDI"]

Array = np.ndarray[Any, Any]


class _CandleIndicator(abc.ABC):
    __slots__ = ("_sf", "_value", "name", "period")
    _prefix = ""
    _nstate = 0

    def __init__(self, period: int) -> None:
        self.period = check_period(period)
        self.name: str = f"{self._prefix}_{self.period}"
        self._sf = np.zeros(self._nstate)
        self._value = math.nan

    @abc.abstractmethod
    def update_bar(self, bar: Candle) -> None:
        """Feed one closed candle."""

    def get(self) -> float | None:
        """Current value; None during the warm-up."""
        return None if math.isnan(self._value) else self._value

    @property
    def ready(self) -> bool:
        """True once :meth:`get` returns a number."""
        return not math.isnan(self._value)

    def reset(self) -> None:
        """Forget everything (as freshly constructed)."""
        self._sf[:] = 0.0
        self._value = math.nan


class EMA(_CandleIndicator):
    """Exponential moving average of the candle close (``ema_N``), points.

    ``ema = ema_prev + k (close - ema_prev)``, ``k = 2 / (N + 1)``, seeded with the SMA
    of the first ``N`` closes (TA-Lib); first value at candle ``N - 1``.

    Raises
    ------
    ValueError
        If ``period < 2``.
    """

    __slots__ = ()
    _prefix = "ema"
    _nstate = EMA_NS

    def update(self, close: float) -> None:
        """Feed one closed candle's close."""
        self._value = float(ema_step(close, self.period, self._sf))

    def update_bar(self, bar: Candle) -> None:
        """Feed one closed candle."""
        self.update(bar.close)


class RSI(_CandleIndicator):
    """Wilder's relative strength index of the close (``rsi_N``), 0-100.

    ``RSI = 100 * G / (G + L)`` with Wilder-smoothed average gain ``G`` and loss ``L``
    (seeded with plain averages of the first ``N`` changes); first value at candle ``N``.

    Raises
    ------
    ValueError
        If ``period < 2``.
    """

    __slots__ = ()
    _prefix = "rsi"
    _nstate = RSI_NS

    def update(self, close: float) -> None:
        """Feed one closed candle's close."""
        self._value = float(rsi_step(close, self.period, self._sf))

    def update_bar(self, bar: Candle) -> None:
        """Feed one closed candle."""
        self.update(bar.close)


class ATR(_CandleIndicator):
    """Wilder's average true range (``atr_N``), points.

    ``TR = max(high, prev_close) - min(low, prev_close)``; ATR is the mean of the first
    ``N`` TRs, then ``ATR = (ATR_prev (N - 1) + TR) / N``; first value at candle ``N``.

    Raises
    ------
    ValueError
        If ``period < 2``.
    """

    __slots__ = ()
    _prefix = "atr"
    _nstate = ATR_NS

    def update(self, high: float, low: float, close: float) -> None:
        """Feed one closed candle's high, low and close."""
        self._value = float(atr_step(high, low, close, self.period, self._sf))

    def update_bar(self, bar: Candle) -> None:
        """Feed one closed candle."""
        self.update(bar.high, bar.low, bar.close)


class _DMI(_CandleIndicator):
    __slots__ = ("_out",)
    _nstate = DMI_NS
    _which = 0

    def __init__(self, period: int) -> None:
        super().__init__(period)
        self._out = np.full(3, np.nan)

    def update(self, high: float, low: float, close: float) -> None:
        """Feed one closed candle's high, low and close."""
        dmi_step(high, low, close, self.period, self._sf, self._out)
        self._value = float(self._out[self._which])

    def update_bar(self, bar: Candle) -> None:
        """Feed one closed candle."""
        self.update(bar.high, bar.low, bar.close)


class PlusDI(_DMI):
    """Wilder's positive directional indicator (``plus_di_N``), percent 0-100.

    ``+DI = 100 * sm(+DM) / sm(TR)`` with Wilder sums ``sm``; first value at candle
    ``N``; 0 when the smoothed TR is zero (TA-Lib).

    Raises
    ------
    ValueError
        If ``period < 2``.
    """

    __slots__ = ()
    _prefix = "plus_di"
    _which = 0


class MinusDI(_DMI):
    """Wilder's negative directional indicator (``minus_di_N``), percent 0-100.

    ``-DI = 100 * sm(-DM) / sm(TR)``; first value at candle ``N``.

    Raises
    ------
    ValueError
        If ``period < 2``.
    """

    __slots__ = ()
    _prefix = "minus_di"
    _which = 1


class ADX(_DMI):
    """Wilder's average directional index (``adx_N``), percent 0-100.

    ``DX = 100 |+DI - -DI| / (+DI + -DI)``; ADX is the mean of the first ``N`` DX values,
    then ``ADX = (ADX_prev (N - 1) + DX) / N``; first value at candle ``2N - 1``.

    Raises
    ------
    ValueError
        If ``period < 2``.
    """

    __slots__ = ()
    _prefix = "adx"
    _which = 2
