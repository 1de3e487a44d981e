"""Numba kernels of the candle indicators (EMA, RSI, ATR, +DI/-DI/ADX) and their batches.

Each kernel consumes one closed candle and updates a flat float64 state; the
arithmetic follows TA-Lib's C code step by step (same seeding, same order of
operations, same ``TA_IS_ZERO`` guard of 1e-8), so a stream fed the candles of a day
reproduces ``talib.EMA/RSI/ATR/PLUS_DI/MINUS_DI/ADX`` on the same arrays, including
the warm-up (NaN until TA-Lib's first output).

State layouts (float64):

* EMA ``[n, seed_sum, ema]``; first value at candle ``N-1`` (SMA seed).
* RSI ``[n, prev_close, avg_gain, avg_loss]``; first value at candle ``N``.
* ATR ``[n, prev_close, tr_sum, atr]``; first value at candle ``N``.
* DMI ``[n, prev_high, prev_low, prev_close, +DM, -DM, TR, dx_sum, adx]``; +DI/-DI from
  candle ``N``, ADX from candle ``2N-1``.

References
----------
J. W. Wilder, *New Concepts in Technical Trading Systems*, Trend Research (1978)
(RSI, ATR, DMI/ADX and Wilder smoothing). TA-Lib, https://ta-lib.org (EMA seeded
with the SMA of the first ``N`` values; implementation followed for exact parity).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = ["atr_batch", "dmi_batch", "ema_batch", "rsi_batch"]

Array = np.ndarray[Any, Any]
EMA_NS, RSI_NS, ATR_NS, DMI_NS = 3, 4, 4, 9
_EPS = 1e-8  # TA-Lib's TA_IS_ZERO threshold
NAN = np.nan


@njit(cache=True)
def _is_zero(v: float) -> bool:  # pragma: no cover - compiled
    return -_EPS < v < _EPS


@njit(cache=True)
def _true_range(high: float, low: float, prev_close: float) -> float:  # pragma: no cover
    out = high - low
    t = abs(high - prev_close)
    out = max(out, t)
    t = abs(low - prev_close)
    out = max(out, t)
    return out


@njit(cache=True)
def ema_step(x: float, period: int, sf: Array) -> float:  # pragma: no cover - compiled
    """EMA of ``x`` (k = 2/(N+1)), SMA-seeded; NaN before candle ``N-1``."""
    n = sf[0] + 1.0
    sf[0] = n
    if n < period:
        sf[1] += x
        return NAN
    if n == period:
        sf[1] += x
        sf[2] = sf[1] / period
        return float(sf[2])
    k = 2.0 / (period + 1)
    sf[2] = ((x - sf[2]) * k) + sf[2]
    return float(sf[2])


@njit(cache=True)
def rsi_step(x: float, period: int, sf: Array) -> float:  # pragma: no cover - compiled
    """Wilder's RSI in [0, 100]; NaN before candle ``N``."""
    n = sf[0]
    sf[0] = n + 1.0
    if n == 0.0:
        sf[1] = x
        return NAN
    d = x - sf[1]
    sf[1] = x
    if n > period:
        sf[3] *= period - 1
        sf[2] *= period - 1
    if d < 0.0:
        sf[3] -= d
    else:
        sf[2] += d
    if n < period:
        return NAN
    sf[3] /= period
    sf[2] /= period
    tot = sf[2] + sf[3]
    if _is_zero(tot):
        return 0.0
    return float(100.0 * (sf[2] / tot))


@njit(cache=True)
def atr_step(
    high: float, low: float, close: float, period: int, sf: Array
) -> float:  # pragma: no cover
    """Wilder's average true range in points; NaN before candle ``N``."""
    n = sf[0]
    sf[0] = n + 1.0
    if n == 0.0:
        sf[1] = close
        return NAN
    tr = _true_range(high, low, sf[1])
    sf[1] = close
    if n < period:
        sf[2] += tr
        return NAN
    if n == period:
        sf[2] += tr
        sf[3] = sf[2] / period
        return float(sf[3])
    a = sf[3] * (period - 1)
    a += tr
    sf[3] = a / period
    return float(sf[3])


@njit(cache=True)
def dmi_step(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    high: float, low: float, close: float, period: int, sf: Array, out: Array
) -> None:  # pragma: no cover - compiled
    """Write ``out = [+DI, -DI, ADX]`` (percent; NaN during warm-up)."""
    n = sf[0]
    sf[0] = n + 1.0
    out[0] = NAN
    out[1] = NAN
    out[2] = NAN
    if n == 0.0:
        sf[1] = high
        sf[2] = low
        sf[3] = close
        return
    diff_p = high - sf[1]
    diff_m = sf[2] - low
    sf[1] = high
    sf[2] = low
    tr = _true_range(high, low, sf[3])
    sf[3] = close
    if n < period:
        if diff_m > 0.0 and diff_p < diff_m:
            sf[5] += diff_m
        elif diff_p > 0.0 and diff_p > diff_m:
            sf[4] += diff_p
        sf[6] += tr
        return
    sf[5] -= sf[5] / period
    sf[4] -= sf[4] / period
    if diff_m > 0.0 and diff_p < diff_m:
        sf[5] += diff_m
    elif diff_p > 0.0 and diff_p > diff_m:
        sf[4] += diff_p
    sf[6] = sf[6] - (sf[6] / period) + tr
    dx_ok = False
    dx = 0.0
    if _is_zero(sf[6]):
        out[0] = 0.0
        out[1] = 0.0
    else:
        pdi = 100.0 * (sf[4] / sf[6])
        mdi = 100.0 * (sf[5] / sf[6])
        out[0] = pdi
        out[1] = mdi
        s = mdi + pdi
        if not _is_zero(s):
            dx = 100.0 * (abs(mdi - pdi) / s)
            dx_ok = True
    last_seed = 2 * period - 1
    if n <= last_seed:
        if dx_ok:
            sf[7] += dx
        if n == last_seed:
            sf[8] = sf[7] / period
            out[2] = sf[8]
        return
    if dx_ok:
        sf[8] = ((sf[8] * (period - 1)) + dx) / period
    out[2] = sf[8]


@njit(cache=True)
def _ema_loop(x: Array, period: int, out: Array) -> None:  # pragma: no cover
    sf = np.zeros(EMA_NS)
    for i in range(x.shape[0]):
        out[i] = ema_step(x[i], period, sf)


@njit(cache=True)
def _rsi_loop(x: Array, period: int, out: Array) -> None:  # pragma: no cover
    sf = np.zeros(RSI_NS)
    for i in range(x.shape[0]):
        out[i] = rsi_step(x[i], period, sf)


@njit(cache=True)
def _atr_loop(h: Array, lo: Array, c: Array, period: int, out: Array) -> None:  # pragma: no cover
    sf = np.zeros(ATR_NS)
    for i in range(h.shape[0]):
        out[i] = atr_step(h[i], lo[i], c[i], period, sf)


@njit(cache=True)
def _dmi_loop(h: Array, lo: Array, c: Array, period: int, out: Array) -> None:  # pragma: no cover
    sf = np.zeros(DMI_NS)
    for i in range(h.shape[0]):
        dmi_step(h[i], lo[i], c[i], period, sf, out[i])


def check_period(period: int, minimum: int = 2) -> int:
    """Validate an indicator period.

    Raises
    ------
    ValueError
        If ``period`` is not an integer ``>= minimum``.
    """
    if int(period) != period or period < minimum:
        raise ValueError(f"period must be an integer >= {minimum}, got {period!r}")
    return int(period)


def _f64(a: Array) -> Array:
    return np.ascontiguousarray(a, dtype=np.float64)


def _same_len(*arrays: Array) -> None:
    if len({a.shape[0] for a in arrays}) != 1:
        raise ValueError("input arrays must have the same length")


def ema_batch(close: Array, period: int) -> Array:
    """EMA of ``close`` per candle, float64 ``(n,)`` (NaN warm-up); see :func:`ema_step`.

    Raises
    ------
    ValueError
        If ``period < 2``.
    """
    out = np.empty(close.shape[0])
    _ema_loop(_f64(close), check_period(period), out)
    return out


def rsi_batch(close: Array, period: int) -> Array:
    """Wilder RSI per candle, float64 ``(n,)`` (NaN warm-up).

    Raises
    ------
    ValueError
        If ``period < 2``.
    """
    out = np.empty(close.shape[0])
    _rsi_loop(_f64(close), check_period(period), out)
    return out


def atr_batch(high: Array, low: Array, close: Array, period: int) -> Array:
    """Wilder ATR per candle in points, float64 ``(n,)`` (NaN warm-up).

    Raises
    ------
    ValueError
        If ``period < 2`` or the arrays differ in length.
    """
    _same_len(high, low, close)
    out = np.empty(close.shape[0])
    _atr_loop(_f64(high), _f64(low), _f64(close), check_period(period), out)
    return out


def dmi_batch(high: Array, low: Array, close: Array, period: int) -> Array:
    """``[+DI, -DI, ADX]`` per candle, float64 ``(n, 3)`` (NaN warm-up).

    Raises
    ------
    ValueError
        If ``period < 2`` or the arrays differ in length.
    """
    _same_len(high, low, close)
    out = np.empty((close.shape[0], 3))
    _dmi_loop(_f64(high), _f64(low), _f64(close), check_period(period), out)
    return out
