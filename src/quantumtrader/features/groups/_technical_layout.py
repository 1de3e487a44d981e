"""State layout and window primitives of the technical group.

The group's ``(f, i)`` state (:class:`~quantumtrader.features.state.StateBuilder`, no
rings) holds, in ``i``: the bar length and open-bar state, the parameters of the
single-period indicators, a directory of the float blocks (``D_*``) and the counts,
start offsets and values of the period lists (``L_*``); in ``f``: the tick size and the
two multipliers, the open bar, then the blocks (outputs, bar history, indicator states).

History: ``NCOL`` float columns (``H_*``) of ``2 H`` slots each; bar ``b`` is written at
``b % H`` and ``b % H + H`` (:func:`put`), so the last ``n <= H`` bars always sit
contiguously at ``[q - n + 1, q]`` with ``q = t % H + H`` (``t`` the newest bar). The
window primitives below reduce such a contiguous slice in four interleaved lanes (short
floating-point dependency chains: a bar close reads about a thousand history values).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from quantumtrader.features.jit import fjit

__all__ = [
    "ATR_NS", "CUM_NS", "DMI_NS", "EMA_NS", "NCOL", "N_DIR", "N_FFIXED", "PIV_NS", "RSI_NS",
    "pstd", "put", "share", "stoch_k", "wdev", "wmax", "wmin", "wsum",
]  # fmt: skip

Array = np.ndarray[Any, Any]
NAN = np.nan
EPS = 1e-8  # TA-Lib's TA_IS_ZERO threshold (NATR, ULTOSC)

# ---- int slots -------------------------------------------------------------------
I_BAR_NS, I_OPEN, I_BAR_END, I_NB, I_HCAP = 1, 2, 3, 4, 5  # I_BAR_END: open bar's end, ns
I_MACD = 6  # fast, slow, signal
I_BB = 9
I_STOCH = 10  # fastk, slowk, slowd
I_ADX, I_CCI, I_MFI, I_WILLR = 13, 14, 15, 16
I_KC = 17  # ema, atr
I_DON, I_AROON = 19, 20
I_ADOSC = 21  # fast, slow
I_ULT = 23  # short, medium, long
I_DEMA = 26
I_SRSI = 27  # rsi, fastk, fastd
I_VR = 30
I_DIR = 31  # float block offsets, N_DIR slots
D_OUT, D_HIST, D_EMA, D_RSI, D_ATR, D_DMI, D_MACD, D_KC, D_DEMA, D_SRSI, D_CUM, D_PIV, D_TMP = (
    range(13)
)
N_DIR = 13
I_LN = I_DIR + N_DIR  # list lengths, N_LISTS slots
L_SMA, L_EMA, L_WMA, L_RSI, L_ATR, L_MOM, L_RET, L_VOL, L_SR, L_PIV, L_LIN = range(11)
N_LISTS = 11
I_LO = I_LN + N_LISTS  # list start offsets in i
I_LVAL = I_LO + N_LISTS  # list values
# ---- fixed float slots -------------------------------------------------------------
F_TICK, F_BBDEV, F_KCMULT, F_O, F_H, F_L, F_C, F_V = range(8)
N_FFIXED = 8
# ---- history columns -----------------------------------------------------------------
H_O, H_H, H_L, H_C, H_V, H_TP, H_LR, H_FK, H_SK, H_RSI, H_SRK, H_BP, H_TR, H_PMF, H_NMF = range(15)
NCOL = 15
# ---- float block sizes ---------------------------------------------------------------
EMA_NS, RSI_NS, ATR_NS, DMI_NS = 3, 4, 4, 9
CUM_NS = 4  # obv, ad, adosc fast ema, adosc slow ema
PIV_NS = 4  # per strength: high price, high bar, low price, low bar


@fjit
def wsum(f: Array, a: int, n: int) -> float:  # pragma: no cover - compiled
    """Sum of ``f[a : a + n]`` in four interleaved lanes (short dependency chains)."""
    s0, s1, s2, s3 = 0.0, 0.0, 0.0, 0.0
    e4 = a + (n - n % 4)
    for k in range(a, e4, 4):
        s0 += f[k]
        s1 += f[k + 1]
        s2 += f[k + 2]
        s3 += f[k + 3]
    for k in range(e4, a + n):
        s0 += f[k]
    return (s0 + s1) + (s2 + s3)


@fjit
def wmax(f: Array, a: int, n: int) -> float:  # pragma: no cover - compiled
    """Maximum of ``f[a : a + n]`` (``n >= 1``), four lanes."""
    m0 = f[a]
    m1, m2, m3 = m0, m0, m0
    e4 = a + (n - n % 4)
    for k in range(a, e4, 4):
        m0 = f[k] if f[k] > m0 else m0
        m1 = f[k + 1] if f[k + 1] > m1 else m1
        m2 = f[k + 2] if f[k + 2] > m2 else m2
        m3 = f[k + 3] if f[k + 3] > m3 else m3
    for k in range(e4, a + n):
        m0 = f[k] if f[k] > m0 else m0
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    return float(m2 if m2 > m0 else m0)


@fjit
def wmin(f: Array, a: int, n: int) -> float:  # pragma: no cover - compiled
    """Minimum of ``f[a : a + n]`` (``n >= 1``), four lanes."""
    m0 = f[a]
    m1, m2, m3 = m0, m0, m0
    e4 = a + (n - n % 4)
    for k in range(a, e4, 4):
        m0 = f[k] if f[k] < m0 else m0
        m1 = f[k + 1] if f[k + 1] < m1 else m1
        m2 = f[k + 2] if f[k + 2] < m2 else m2
        m3 = f[k + 3] if f[k + 3] < m3 else m3
    for k in range(e4, a + n):
        m0 = f[k] if f[k] < m0 else m0
    m0 = m1 if m1 < m0 else m0
    m2 = m3 if m3 < m2 else m2
    return float(m2 if m2 < m0 else m0)


@fjit
def wdev(f: Array, a: int, n: int, mean: float, sq: bool) -> float:  # pragma: no cover
    """Sum of squared (``sq``) or absolute deviations of ``f[a : a + n]`` from ``mean``."""
    s0, s1, s2, s3 = 0.0, 0.0, 0.0, 0.0
    e4 = a + (n - n % 4)
    for k in range(a, e4, 4):
        d0, d1, d2, d3 = f[k] - mean, f[k + 1] - mean, f[k + 2] - mean, f[k + 3] - mean
        if sq:
            s0 += d0 * d0
            s1 += d1 * d1
            s2 += d2 * d2
            s3 += d3 * d3
        else:
            s0 += abs(d0)
            s1 += abs(d1)
            s2 += abs(d2)
            s3 += abs(d3)
    for k in range(e4, a + n):
        d0 = f[k] - mean
        s0 += d0 * d0 if sq else abs(d0)
    return (s0 + s1) + (s2 + s3)


@fjit
def pstd(f: Array, a: int, n: int) -> float:  # pragma: no cover - compiled
    """Population standard deviation (two-pass) of ``f[a : a + n]``."""
    return math.sqrt(wdev(f, a, n, wsum(f, a, n) / n, True) / n)


@fjit
def put(f: Array, col: int, p: int, h: int, v: float) -> None:  # pragma: no cover
    f[col + p] = v
    f[col + p + h] = v


@fjit
def stoch_k(x: float, hh: float, ll: float) -> float:  # pragma: no cover - compiled
    """TA-Lib's fast %K: ``(x - ll) / ((hh - ll) / 100)``, 0 when ``hh == ll``."""
    diff = (hh - ll) / 100.0
    return (x - ll) / diff if diff != 0.0 else 0.0


@fjit
def share(x: float, width: float) -> float:  # pragma: no cover - compiled
    """``x / width`` for a position in a channel; 0.5 (the middle) when ``width <= 0``."""
    return x / width if width > 0.0 else 0.5
