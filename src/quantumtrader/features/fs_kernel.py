"""Kernel of the feature set: every registered feature in one numba step (stream and batch).

One kernel, :func:`fs_step`, takes a trade and updates cumulative delta, the OFI
windows and the one-minute candle builder; when a candle closes it feeds the candle
indicators (EMA, RSI, ATR, +DI/-DI/ADX). :class:`FeatureSet` calls it once per trade
and :func:`compute_batch` loops it over a day inside numba, so both give the same
numbers bit for bit.

State layout for ``K`` OFI windows (float64 ``fs``): candle ``[0, 7)``, delta ``7``,
OFI ``[8, 8 + 6K)``, then from ``b = 8 + 6K``: EMA fast ``[b, b+3)``, EMA slow
``[b+3, b+6)``, RSI ``[b+6, b+10)``, ATR ``[b+10, b+14)``, DMI ``[b+14, b+23)``, then
from ``io = b + 23`` the outputs EMA fast, EMA slow, RSI, ATR, ADX, +DI, -DI,
last_price, candle_close and a 3-slot DMI scratch. int64 ``is_``: candle ``[0, 5)``,
OFI ``[5, 9 + 2K)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from quantumtrader.features.candles import N_BI, N_CF, N_CI, candle_flush, candle_step
from quantumtrader.features.delta import delta_step
from quantumtrader.features.ofi import (
    NEED_GROW,
    OK,
    OUT_OF_ORDER,
    SI_FIXED,
    ofi_init_state,
    ofi_step,
)
from quantumtrader.features.ta_kernels import atr_step, dmi_step, ema_step, rsi_step

__all__ = [
    "CLOSED",
    "N_CONTEXT",
    "N_IND",
    "fs_flush",
    "fs_init_state",
    "fs_loop",
    "fs_outputs_offset",
    "fs_step",
]

Array = np.ndarray[Any, Any]
CLOSED = 2  # fs_step result: OK and a candle closed
N_IND = 7  # indicator outputs
N_CONTEXT = 2  # last_price, candle_close
_N_IND_STATE = 23


def fs_outputs_offset(k: int) -> int:
    """Index in ``fs`` of the first indicator output (``io``) for ``k`` OFI windows."""
    return 8 + 6 * k + _N_IND_STATE


def fs_init_state(k: int, capacity: int) -> tuple[Array, Array, Array, Array, Array]:
    """Fresh ``fs, is_, rb_ts, rb_buy, rb_sell`` for ``k`` OFI windows."""
    osi, osf, rb_ts, rb_buy, rb_sell = ofi_init_state(k, capacity)
    b = 8 + 6 * k
    fs = np.zeros(b + _N_IND_STATE + N_IND + N_CONTEXT + 3)
    fs[8:b] = osf
    fs[b + _N_IND_STATE :] = np.nan
    is_ = np.zeros(N_CI + SI_FIXED + 2 * k, dtype=np.int64)
    is_[N_CI:] = osi
    return fs, is_, rb_ts, rb_buy, rb_sell


@njit(cache=True)
def _on_close(K: int, params: Array, fs: Array, bf: Array) -> None:  # pragma: no cover
    b = 8 + 6 * K
    io = b + _N_IND_STATE
    h = bf[1]
    lo = bf[2]
    c = bf[3]
    fs[io] = ema_step(c, params[0], fs[b : b + 3])
    fs[io + 1] = ema_step(c, params[1], fs[b + 3 : b + 6])
    fs[io + 2] = rsi_step(c, params[2], fs[b + 6 : b + 10])
    fs[io + 3] = atr_step(h, lo, c, params[3], fs[b + 10 : b + 14])
    tmp = fs[io + 9 : io + 12]
    dmi_step(h, lo, c, params[4], fs[b + 14 : b + 23], tmp)
    fs[io + 4] = tmp[2]
    fs[io + 5] = tmp[0]
    fs[io + 6] = tmp[1]
    fs[io + 8] = c


@njit(cache=True)
def fs_step(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    ts: int,
    price: float,
    qty: float,
    side: int,
    W: Array,
    params: Array,
    fs: Array,
    is_: Array,
    rb_ts: Array,
    rb_buy: Array,
    rb_sell: Array,
    bf: Array,
    bi: Array,
    out: Array,
) -> int:  # pragma: no cover - compiled
    """Feed one trade; write the feature row to ``out``.

    Returns OK (0), CLOSED (2, a candle closed: ``bf``/``bi`` hold it), NEED_GROW (1:
    grow the ring and call again) or OUT_OF_ORDER (-1).
    """
    K = W.shape[0]
    r = ofi_step(
        ts, qty, side, W, is_[N_CI : N_CI + SI_FIXED + 2 * K], fs[8 : 8 + 6 * K],
        rb_ts, rb_buy, rb_sell, out[1 : 1 + 3 * K],
    )  # fmt: skip
    if r != OK:
        return r
    out[0] = delta_step(qty, side, fs[7:8])
    c = candle_step(ts, price, qty, side, fs[0:N_CF], is_[0:N_CI], bf, bi)
    if c < 0:
        return OUT_OF_ORDER
    if c == 1:
        _on_close(K, params, fs, bf)
    io = 8 + 6 * K + _N_IND_STATE
    fs[io + N_IND] = price
    base = 1 + 3 * K
    for j in range(N_IND + N_CONTEXT):
        out[base + j] = fs[io + j]
    return CLOSED if c == 1 else OK


@njit(cache=True)
def fs_flush(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    K: int, params: Array, fs: Array, is_: Array, bf: Array, bi: Array
) -> int:  # pragma: no cover
    """Close the open candle (end of data) and feed it to the indicators; 1 if closed."""
    c = candle_flush(fs[0:N_CF], is_[0:N_CI], bf, bi)
    if c == 1:
        _on_close(K, params, fs, bf)
    return c


@njit(cache=True)
def _store(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    K: int, fs: Array, bf: Array, bi: Array, cf: Array, ci: Array, cind: Array
) -> None:  # pragma: no cover
    io = 8 + 6 * K + _N_IND_STATE
    cf[:] = bf
    ci[:] = bi
    cind[:] = fs[io : io + N_IND]


@njit(cache=True)
def fs_loop(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    ts: Array,
    price: Array,
    qty: Array,
    side: Array,
    W: Array,
    params: Array,
    fs: Array,
    is_: Array,
    rb_ts: Array,
    rb_buy: Array,
    rb_sell: Array,
    out: Array,
    cf: Array,
    ci: Array,
    cind: Array,
) -> int:  # pragma: no cover - compiled
    """Loop :func:`fs_step` over a day (ring capacity >= n), then flush.

    Writes ``out[i]`` after trade ``i`` and each closed candle (with the indicators it
    produced) to ``cf``/``ci``/``cind``; returns the number of candles, or ``-1 - i``
    if trade ``i`` is out of order.
    """
    K = W.shape[0]
    bf = np.zeros(N_CF)
    bi = np.zeros(N_BI, dtype=np.int64)
    m = 0
    for i in range(ts.shape[0]):
        r = fs_step(
            ts[i], price[i], qty[i], side[i], W, params, fs, is_,
            rb_ts, rb_buy, rb_sell, bf, bi, out[i],
        )  # fmt: skip
        if r in (OUT_OF_ORDER, NEED_GROW):
            return -1 - i
        if r == CLOSED:
            _store(K, fs, bf, bi, cf[m], ci[m], cind[m])
            m += 1
    if fs_flush(K, params, fs, is_, bf, bi) == 1:
        _store(K, fs, bf, bi, cf[m], ci[m], cind[m])
        m += 1
    return m


@njit(cache=True)
def fs_chunk(  # noqa: PLR0917 - numba kernels take flat arrays positionally
    ts: Array,
    price: Array,
    qty: Array,
    side: Array,
    start: int,
    W: Array,
    params: Array,
    fs: Array,
    is_: Array,
    rb_ts: Array,
    rb_buy: Array,
    rb_sell: Array,
    bf: Array,
    bi: Array,
    out: Array,
    cf: Array,
    ci: Array,
    cind: Array,
) -> tuple[int, int, int]:  # pragma: no cover - compiled
    """Feed trades ``start..n`` to :func:`fs_step` (the stream path, without a flush).

    ``out`` holds the feature row after the last trade fed; each closed candle is
    stored in ``cf``/``ci``/``cind`` (capacity ``n``). Returns ``(next_index,
    n_candles, status)``: status ``OK`` when every trade was fed, ``NEED_GROW`` when
    trade ``next_index`` needs a larger ring (grow and call again from it), or
    ``OUT_OF_ORDER``.
    """
    K = W.shape[0]
    m = 0
    for i in range(start, ts.shape[0]):
        r = fs_step(
            ts[i], price[i], qty[i], side[i], W, params, fs, is_,
            rb_ts, rb_buy, rb_sell, bf, bi, out,
        )  # fmt: skip
        if r in (NEED_GROW, OUT_OF_ORDER):
            return i, m, r
        if r == CLOSED:
            _store(K, fs, bf, bi, cf[m], ci[m], cind[m])
            m += 1
    return ts.shape[0], m, OK
