"""Bar-close steps of the technical group for channels, candles, levels and trend.

:func:`channels_update` (Keltner, Donchian, log returns and their volatility, candle
shape, volume, support/resistance distances, pivots) and :func:`trend_update` (Aroon,
Chaikin A/D oscillator, ultimate oscillator, regression slope, stochastic RSI) are
called by :func:`~quantumtrader.features.groups._technical_kernels.close_bar` after the
new bar is in the history; each writes its outputs from ``f[o]`` on and returns the
next output offset. Definitions and references: the catalogue in
:mod:`quantumtrader.features.groups._technical_docs`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from quantumtrader.features.groups._technical_layout import (
    ATR_NS,
    D_CUM,
    D_HIST,
    D_KC,
    D_PIV,
    D_SRSI,
    EMA_NS,
    EPS,
    F_KCMULT,
    F_TICK,
    H_BP,
    H_C,
    H_H,
    H_L,
    H_LR,
    H_RSI,
    H_SRK,
    H_TR,
    H_V,
    I_ADOSC,
    I_AROON,
    I_DIR,
    I_DON,
    I_HCAP,
    I_KC,
    I_LN,
    I_LO,
    I_SRSI,
    I_ULT,
    I_VR,
    L_LIN,
    L_PIV,
    L_RET,
    L_SR,
    L_VOL,
    NAN,
    PIV_NS,
    RSI_NS,
    pstd,
    put,
    share,
    stoch_k,
    wmax,
    wmin,
    wsum,
)
from quantumtrader.features.jit import fjit
from quantumtrader.features.ta_kernels import atr_step, ema_step, rsi_step

__all__ = ["channels_update", "trend_update"]

Array = np.ndarray[Any, Any]


@fjit
def channels_update(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, t: int, q: int, bar: Array, prev_c: float, o: int
) -> int:  # pragma: no cover - compiled
    """Keltner, Donchian, returns, volatility, candle shape, volume, S/R and pivots."""
    hcap = i[I_HCAP]
    hist, w = i[I_DIR + D_HIST], 2 * hcap
    cc, ch, cl, cv = hist + H_C * w, hist + H_H * w, hist + H_L * w, hist + H_V * w
    op, h, lo, c = bar[0], bar[1], bar[2], bar[3]
    tick = f[F_TICK]
    # Keltner: EMA(close) +- mult * ATR
    kc = i[I_DIR + D_KC]
    mid = ema_step(c, i[I_KC], f[kc : kc + EMA_NS])
    atr = atr_step(h, lo, c, i[I_KC + 1], f[kc + EMA_NS : kc + EMA_NS + ATR_NS])
    up, dn = mid + f[F_KCMULT] * atr, mid - f[F_KCMULT] * atr
    f[o], f[o + 1], f[o + 2] = up, mid, dn
    f[o + 3] = NAN if math.isnan(up) else share(c - dn, up - dn)
    o += 4
    # Donchian channel over the last p bars (current included)
    p = i[I_DON]
    if t >= p - 1:
        up, dn = wmax(f, ch + q - p + 1, p), wmin(f, cl + q - p + 1, p)
        f[o], f[o + 1], f[o + 2] = up, dn, (up + dn) / 2.0
        f[o + 3] = share(c - dn, up - dn)
    else:
        for k in range(4):
            f[o + k] = NAN
    o += 4
    # log returns over h bars, volatility of 1-bar log returns
    n_ret, lo_ret = i[I_LN + L_RET], i[I_LO + L_RET]
    for k in range(n_ret):
        p = i[lo_ret + k]
        old = f[cc + q - p] if t >= p else NAN
        f[o] = math.log(c / old) if c > 0.0 and old > 0.0 else NAN
        o += 1
    n_vol, lo_vol = i[I_LN + L_VOL], i[I_LO + L_VOL]
    for k in range(n_vol):
        p = i[lo_vol + k]
        f[o] = pstd(f, hist + H_LR * w + q - p + 1, p) if t >= p else NAN
        o += 1
    # candle shape of the closed bar
    rng = h - lo
    if rng > 0.0:
        f[o] = (c - op) / rng
        f[o + 1] = (h - max(op, c)) / rng
        f[o + 2] = (min(op, c) - lo) / rng
        f[o + 5] = (c - lo) / rng
    else:
        f[o], f[o + 1], f[o + 2], f[o + 5] = 0.0, 0.0, 0.0, 0.5
    f[o + 3] = rng / tick
    f[o + 4] = (c - op) / tick
    f[o + 6] = (op - prev_c) / tick
    o += 7
    # volume and relative volume
    p = i[I_VR]
    f[o] = bar[4]
    f[o + 1] = NAN
    if t >= p - 1:
        mean = wsum(f, cv + q - p + 1, p) / p
        f[o + 1] = bar[4] / mean if mean > 0.0 else 1.0
    o += 2
    # support / resistance: extremes of the n bars before this one
    n_sr, lo_sr = i[I_LN + L_SR], i[I_LO + L_SR]
    hh, ll, prev = -np.inf, np.inf, 0  # windows increase: extend the previous extremes
    for k in range(n_sr):
        p = i[lo_sr + k]
        if t >= p:
            hh = max(hh, wmax(f, ch + q - p, p - prev))
            ll = min(ll, wmin(f, cl + q - p, p - prev))
            prev = p
            f[o], f[o + 1] = (hh - c) / tick, (c - ll) / tick
        else:
            f[o], f[o + 1] = NAN, NAN
        o += 2
    # pivots (fractals) of strength k, confirmed k bars after the pivot bar
    piv = i[I_DIR + D_PIV]
    n_piv, lo_piv = i[I_LN + L_PIV], i[I_LO + L_PIV]
    for k in range(n_piv):
        s = i[lo_piv + k]
        b = piv + PIV_NS * k
        if t >= 2 * s:
            m = q - s  # the candidate bar, s bars ago
            hc, lc = f[ch + m], f[cl + m]
            if hc > wmax(f, ch + m - s, s) and hc >= wmax(f, ch + m + 1, s):
                f[b], f[b + 1] = hc, float(t - s)
            if lc < wmin(f, cl + m - s, s) and lc <= wmin(f, cl + m + 1, s):
                f[b + 2], f[b + 3] = lc, float(t - s)
        f[o] = (f[b] - c) / tick
        f[o + 1] = (c - f[b + 2]) / tick
        f[o + 2] = t - f[b + 1]
        f[o + 3] = t - f[b + 3]
        o += 4
    return o


@fjit
def trend_update(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    f: Array, i: Array, t: int, q: int, bar: Array, o: int
) -> int:  # pragma: no cover - compiled
    """Aroon, Chaikin A/D oscillator, ultimate oscillator, regression slope, StochRSI."""
    hcap = i[I_HCAP]
    hist, w = i[I_DIR + D_HIST], 2 * hcap
    ch, cl, cc = hist + H_H * w, hist + H_L * w, hist + H_C * w
    h, lo, c, v = bar[1], bar[2], bar[3], bar[4]
    p_ = q - hcap
    # Aroon over p + 1 bars; ties go to the most recent extreme (TA-Lib)
    p = i[I_AROON]
    if t >= p:
        a = q - p
        ih, il = a, a
        for k in range(a + 1, q + 1):
            if f[ch + k] >= f[ch + ih]:
                ih = k
            if f[cl + k] <= f[cl + il]:
                il = k
        fac = 100.0 / p
        f[o] = fac * (p - (q - ih))
        f[o + 1] = fac * (p - (q - il))
        f[o + 2] = fac * (ih - il)
    else:
        f[o], f[o + 1], f[o + 2] = NAN, NAN, NAN
    o += 3
    # Chaikin A/D line and its oscillator (EMAs seeded with the first A/D value)
    cum = i[I_DIR + D_CUM]
    rng = h - lo
    if rng > 0.0:
        f[cum + 1] += (((c - lo) - (h - c)) / rng) * v
    kf, ks = 2.0 / (i[I_ADOSC] + 1), 2.0 / (i[I_ADOSC + 1] + 1)
    ad = f[cum + 1]
    if t == 0:
        f[cum + 2], f[cum + 3] = ad, ad
    else:
        f[cum + 2] = (kf * ad) + ((1.0 - kf) * f[cum + 2])
        f[cum + 3] = (ks * ad) + ((1.0 - ks) * f[cum + 3])
    f[o] = f[cum + 2] - f[cum + 3] if t >= i[I_ADOSC + 1] - 1 else NAN
    o += 1
    # ultimate oscillator: weights 4, 2, 1 on the short, medium, long averages
    p3 = i[I_ULT + 2]
    f[o] = NAN
    if t >= p3:
        tot = 0.0
        for k in range(3):
            p = i[I_ULT + k]
            bp = wsum(f, hist + H_BP * w + q - p + 1, p)
            tr = wsum(f, hist + H_TR * w + q - p + 1, p)
            if not -EPS < tr < EPS:
                tot += (4.0 / (1 << k)) * (bp / tr)
        f[o] = 100.0 * (tot / 7.0)
    o += 1
    # least-squares slope of the close, ticks per bar (x = bars ago, as TA-Lib)
    n_lin, lo_lin = i[I_LN + L_LIN], i[I_LO + L_LIN]
    for k in range(n_lin):
        p = i[lo_lin + k]
        if t >= p - 1:
            sxy, sy = 0.0, 0.0
            for j in range(p):
                y = f[cc + q - j]
                sxy += j * y
                sy += y
            sx = p * (p - 1) * 0.5
            sx2 = p * (p - 1) * (2 * p - 1) / 6.0
            f[o] = ((p * sxy - sx * sy) / (sx * sx - p * sx2)) / f[F_TICK]
        else:
            f[o] = NAN
        o += 1
    # StochRSI: fast stochastic of RSI, %D = SMA of it
    rp, kp, dp = i[I_SRSI], i[I_SRSI + 1], i[I_SRSI + 2]
    sr = i[I_DIR + D_SRSI]
    r = rsi_step(c, rp, f[sr : sr + RSI_NS])
    put(f, hist + H_RSI * w, p_, hcap, r)
    fk = NAN
    if t >= rp + kp - 1:
        a = hist + H_RSI * w + q - kp + 1
        fk = stoch_k(r, wmax(f, a, kp), wmin(f, a, kp))
    put(f, hist + H_SRK * w, p_, hcap, fk)
    fd = NAN
    if t >= rp + kp + dp - 2:
        fd = wsum(f, hist + H_SRK * w + q - dp + 1, dp) / dp
    f[o], f[o + 1] = fk, fd
    return o + 2
