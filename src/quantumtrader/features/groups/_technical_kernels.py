"""Bar-close kernel of the technical group: every indicator from one closed time bar.

:func:`close_bar` runs once per bar (not per trade). It appends the bar to the history
(layout in :mod:`quantumtrader.features.groups._technical_layout`) and updates every
indicator, writing the outputs to the group's output block in ``f`` (``emit`` copies
that block). The candle indicators of the foundation
(:mod:`quantumtrader.features.ta_kernels`: EMA, RSI, ATR, +DI/-DI/ADX) are reused as
they are; the rest follow TA-Lib's definitions (same seeds, same guards). Rolling sums,
maxima and minima are recomputed over the contiguous history window at each close
(O(N) per bar, no drift of running sums over long streams).

References
----------
TA-Lib, https://ta-lib.org (the definitions and warm-ups followed); J. W. Wilder, *New
Concepts in Technical Trading Systems* (1978); the per-feature references are in the
catalogue (:mod:`quantumtrader.features.groups._technical_docs`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from quantumtrader.features.groups._technical_channels import channels_update, trend_update
from quantumtrader.features.groups._technical_layout import (
    ATR_NS,
    D_ATR,
    D_CUM,
    D_DEMA,
    D_DMI,
    D_EMA,
    D_HIST,
    D_MACD,
    D_OUT,
    D_RSI,
    D_TMP,
    DMI_NS,
    EMA_NS,
    EPS,
    F_BBDEV,
    F_O,
    F_TICK,
    F_V,
    H_BP,
    H_C,
    H_FK,
    H_H,
    H_L,
    H_LR,
    H_NMF,
    H_O,
    H_PMF,
    H_SK,
    H_TP,
    H_TR,
    H_V,
    I_ADX,
    I_BB,
    I_CCI,
    I_DEMA,
    I_DIR,
    I_HCAP,
    I_LN,
    I_LO,
    I_MACD,
    I_MFI,
    I_NB,
    I_OPEN,
    I_STOCH,
    I_WILLR,
    L_ATR,
    L_EMA,
    L_MOM,
    L_RSI,
    L_SMA,
    L_WMA,
    NAN,
    RSI_NS,
    put,
    share,
    stoch_k,
    wdev,
    wmax,
    wmin,
    wsum,
)
from quantumtrader.features.jit import fjit
from quantumtrader.features.ta_kernels import atr_step, dmi_step, ema_step, rsi_step

__all__ = ["close_bar"]

Array = np.ndarray[Any, Any]


@fjit
def _averages(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, t: int, q: int, c: float, o: int
) -> int:  # pragma: no cover - compiled
    """SMA, EMA, WMA, DEMA, TEMA and the close's distances to the SMAs/EMAs."""
    hist, w = i[I_DIR + D_HIST], 2 * i[I_HCAP]
    cc = hist + H_C * w
    tick = f[F_TICK]
    n_sma, lo_sma = i[I_LN + L_SMA], i[I_LO + L_SMA]
    n_ema, lo_ema = i[I_LN + L_EMA], i[I_LO + L_EMA]
    n_wma, lo_wma = i[I_LN + L_WMA], i[I_LO + L_WMA]
    o_sma = o
    s, prev = 0.0, 0  # periods increase: each window extends the previous one
    for k in range(n_sma):
        p = i[lo_sma + k]
        if t >= p - 1:
            s += wsum(f, cc + q - p + 1, p - prev)
            prev = p
            f[o] = s / p
        else:
            f[o] = NAN
        o += 1
    o_ema = o
    ema = i[I_DIR + D_EMA]
    for k in range(n_ema):
        f[o] = ema_step(c, i[lo_ema + k], f[ema + EMA_NS * k : ema + EMA_NS * (k + 1)])
        o += 1
    for k in range(n_wma):
        p = i[lo_wma + k]
        if t >= p - 1:
            s = 0.0
            a = cc + q - p + 1
            for j in range(p):
                s += (j + 1) * f[a + j]
            f[o] = s / (p * (p + 1) / 2.0)
        else:
            f[o] = NAN
        o += 1
    p = i[I_DEMA]
    d = i[I_DIR + D_DEMA]
    e1 = ema_step(c, p, f[d : d + EMA_NS])
    e2 = NAN if math.isnan(e1) else ema_step(e1, p, f[d + EMA_NS : d + 2 * EMA_NS])
    e3 = NAN if math.isnan(e2) else ema_step(e2, p, f[d + 2 * EMA_NS : d + 3 * EMA_NS])
    f[o] = (2.0 * e1) - e2
    f[o + 1] = e3 + ((3.0 * e1) - (3.0 * e2))
    o += 2
    for k in range(n_sma):
        f[o] = (c - f[o_sma + k]) / tick
        o += 1
    for k in range(n_ema):
        f[o] = (c - f[o_ema + k]) / tick
        o += 1
    return o


@fjit
def _oscillators(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, t: int, q: int, h: float, lo: float, c: float, prev_c: float, o: int
) -> int:  # pragma: no cover - compiled
    """RSI, MACD, Bollinger, ATR/NATR, stochastic, DMI, CCI, OBV, MFI, %R, ROC/MOM."""
    hcap = i[I_HCAP]
    hist, w = i[I_DIR + D_HIST], 2 * hcap
    cc, ch, cl, cv = hist + H_C * w, hist + H_H * w, hist + H_L * w, hist + H_V * w
    p_ = q - hcap  # physical slot of bar t in the lower half
    rsi = i[I_DIR + D_RSI]
    n_rsi, lo_rsi = i[I_LN + L_RSI], i[I_LO + L_RSI]
    for k in range(n_rsi):
        f[o] = rsi_step(c, i[lo_rsi + k], f[rsi + RSI_NS * k : rsi + RSI_NS * (k + 1)])
        o += 1
    # MACD: the fast EMA starts at bar slow - fast so both EMAs seed on the same bar
    fast, slow, sig = i[I_MACD], i[I_MACD + 1], i[I_MACD + 2]
    m = i[I_DIR + D_MACD]
    ef = ema_step(c, fast, f[m : m + EMA_NS]) if t >= slow - fast else NAN
    es = ema_step(c, slow, f[m + EMA_NS : m + 2 * EMA_NS])
    line = ef - es
    sg = NAN if math.isnan(line) else ema_step(line, sig, f[m + 2 * EMA_NS : m + 3 * EMA_NS])
    f[o], f[o + 1], f[o + 2] = line, sg, line - sg
    o += 3
    # Bollinger bands
    p = i[I_BB]
    if t >= p - 1:
        a = cc + q - p + 1
        mid = wsum(f, a, p) / p
        band = f[F_BBDEV] * math.sqrt(wdev(f, a, p, mid, True) / p)
        up, dn = mid + band, mid - band
        f[o], f[o + 1], f[o + 2] = up, mid, dn
        f[o + 3] = share(c - dn, up - dn)
        f[o + 4] = (up - dn) / mid if mid != 0.0 else 0.0
    else:
        for k in range(5):
            f[o + k] = NAN
    o += 5
    # ATR and NATR
    atr = i[I_DIR + D_ATR]
    n_atr, lo_atr = i[I_LN + L_ATR], i[I_LO + L_ATR]
    for k in range(n_atr):
        v = atr_step(h, lo, c, i[lo_atr + k], f[atr + ATR_NS * k : atr + ATR_NS * (k + 1)])
        f[o + k] = v
        f[o + n_atr + k] = (v / c) * 100.0 if not -EPS < c < EPS else 0.0
    o += 2 * n_atr
    # Stochastic: fast %K into history, slow %K = SMA(fast %K), slow %D = SMA(slow %K)
    kp, skp, sdp = i[I_STOCH], i[I_STOCH + 1], i[I_STOCH + 2]
    fk = NAN
    if t >= kp - 1:
        fk = stoch_k(c, wmax(f, ch + q - kp + 1, kp), wmin(f, cl + q - kp + 1, kp))
    put(f, hist + H_FK * w, p_, hcap, fk)
    sk = NAN
    if t >= kp + skp - 2:
        sk = wsum(f, hist + H_FK * w + q - skp + 1, skp) / skp
    put(f, hist + H_SK * w, p_, hcap, sk)
    sd = NAN
    if t >= kp + skp + sdp - 3:
        sd = wsum(f, hist + H_SK * w + q - sdp + 1, sdp) / sdp
    f[o], f[o + 1], f[o + 2] = fk, sk, sd
    o += 3
    # Wilder's DMI: ADX, +DI, -DI
    tmp = i[I_DIR + D_TMP]
    dm = i[I_DIR + D_DMI]
    dmi_step(h, lo, c, i[I_ADX], f[dm : dm + DMI_NS], f[tmp : tmp + 3])
    f[o], f[o + 1], f[o + 2] = f[tmp + 2], f[tmp], f[tmp + 1]
    o += 3
    # CCI on the typical price
    p = i[I_CCI]
    tp = f[hist + H_TP * w + q]
    f[o] = NAN
    if t >= p - 1:
        a = hist + H_TP * w + q - p + 1
        avg = wsum(f, a, p) / p
        md = wdev(f, a, p, avg, False)
        num = tp - avg
        f[o] = num / (0.015 * (md / p)) if num != 0.0 and md != 0.0 else 0.0
    o += 1
    # OBV (cumulative since the first bar, TA-Lib's seed: the first bar's volume)
    cum = i[I_DIR + D_CUM]
    v = f[cv + q]
    if t == 0:
        f[cum] = v
    elif c > prev_c:
        f[cum] += v
    elif c < prev_c:
        f[cum] -= v
    f[o] = f[cum]
    o += 1
    # MFI: money flow TP * V signed by the change of TP over the last p bars
    p = i[I_MFI]
    f[o] = NAN
    if t >= p:
        pos = wsum(f, hist + H_PMF * w + q - p + 1, p)
        neg = wsum(f, hist + H_NMF * w + q - p + 1, p)
        tot = pos + neg
        f[o] = 0.0 if tot < 1.0 else 100.0 * (pos / tot)
    o += 1
    # Williams %R
    p = i[I_WILLR]
    f[o] = NAN
    if t >= p - 1:
        hh, ll = wmax(f, ch + q - p + 1, p), wmin(f, cl + q - p + 1, p)
        diff = (hh - ll) / -100.0
        f[o] = (hh - c) / diff if diff != 0.0 else 0.0
    o += 1
    # ROC (percent) and MOM (points)
    n_mom, lo_mom = i[I_LN + L_MOM], i[I_LO + L_MOM]
    for k in range(n_mom):
        p = i[lo_mom + k]
        if t >= p:
            old = f[cc + q - p]
            f[o + k] = ((c / old) - 1.0) * 100.0 if old != 0.0 else 0.0
            f[o + n_mom + k] = c - old
        else:
            f[o + k] = NAN
            f[o + n_mom + k] = NAN
    return int(o + 2 * n_mom)


@fjit
def close_bar(f: Array, i: Array) -> None:  # pragma: no cover - compiled
    """Close the open bar: append it to the history and update every output.

    Parameters
    ----------
    f, i
        The group's state (see the module docstring); the open bar is
        ``f[F_O : F_V + 1]`` (open, high, low, close points; volume quantity units).
    """
    t = i[I_NB]
    hcap = i[I_HCAP]
    hist, w = i[I_DIR + D_HIST], 2 * hcap
    p_ = t % hcap
    q = p_ + hcap
    bar = f[F_O : F_V + 1]
    op, h, lo, c, v = bar[0], bar[1], bar[2], bar[3], bar[4]
    prev_c = f[hist + H_C * w + q - 1] if t > 0 else NAN
    prev_tp = f[hist + H_TP * w + q - 1] if t > 0 else NAN
    tp = (h + lo + c) / 3.0
    for col, val in ((H_O, op), (H_H, h), (H_L, lo), (H_C, c), (H_V, v), (H_TP, tp)):
        put(f, hist + col * w, p_, hcap, val)
    lr = math.log(c / prev_c) if t > 0 and c > 0.0 and prev_c > 0.0 else NAN
    put(f, hist + H_LR * w, p_, hcap, lr)
    true_low = min(lo, prev_c) if t > 0 else lo
    put(f, hist + H_BP * w, p_, hcap, c - true_low)
    put(f, hist + H_TR * w, p_, hcap, (max(h, prev_c) if t > 0 else h) - true_low)
    mf = tp * v
    put(f, hist + H_PMF * w, p_, hcap, mf if t > 0 and tp > prev_tp else 0.0)
    put(f, hist + H_NMF * w, p_, hcap, mf if t > 0 and tp < prev_tp else 0.0)
    o = i[I_DIR + D_OUT]
    o = _averages(f, i, t, q, c, o)
    o = _oscillators(f, i, t, q, h, lo, c, prev_c, o)
    o = channels_update(f, i, t, q, bar, prev_c, o)
    trend_update(f, i, t, q, bar, o)
    i[I_NB] = t + 1
    i[I_OPEN] = 0
