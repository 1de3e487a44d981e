"""State layout of the tape group: slot offsets and the fresh ``(f, i)`` arrays.

The tape group keeps three rings (see :mod:`quantumtrader.features.state`):

* ring 0 (``R_TAPE``): one entry per trade, ``(ts, size bucket | qty)``; windows = the
  speed windows then the size window, each with ``NV_TAPE`` sums ``(n_small, n_medium,
  n_large, n_whale, v_small, v_medium, v_large, v_whale)`` (multi-window sums as in
  :mod:`quantumtrader.features.ring`, specialised: an entry touches one count and one
  volume);
* ring 1 (``R_SIG``): one entry per event that detected something, ``(ts | sweeps_buy,
  sweeps_sell, iceberg_bid_qty, iceberg_ask_qty, iceberg_detections)``, one window;
* ring 2 (``R_BRK``): one entry per aggressor print with a known aggressor broker,
  ``(ts, broker slot | signed qty)``, expired by hand into per-broker window arrays.

Fixed slots have module constants (``I_*``, ``F_*``); arrays whose length depends on
parameters (window lists, per-broker arrays, the copied book frame) live after them and
their offsets are stored in ``i`` at the ``I_O_*`` slots.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from quantumtrader.features.state import State, StateBuilder, ring_header

__all__ = ["new_tape_state"]

Array = np.ndarray[Any, Any]
NS_SEC = 1_000_000_000
NS_MS = 1_000_000
NS_DAY = 86_400 * NS_SEC

R_TAPE, R_SIG, R_BRK = 0, 1, 2
NV_TAPE = 8  # counts then volumes of the four size buckets
NV_SIG = 5  # sweeps buy, sweeps sell, iceberg bid qty, iceberg ask qty, detections

# ---------------------------------------------------------------- int slots
I0 = ring_header(3)
I_DAY, I_OFFS = I0, I0 + 1
I_NW0, I_O_WINS0, I_O_TAILS0 = I0 + 2, I0 + 3, I0 + 4
I_WIN1, I_TAIL1 = I0 + 5, I0 + 6  # the signal window (a one-element window list)
I_BWIN = I0 + 7
# sweep run
I_RUN_SIDE, I_RUN_FIRST, I_RUN_LAST, I_RUN_TS, I_RUN_FLAG = (I0 + 8, I0 + 9, I0 + 10,
                                                             I0 + 11, I0 + 12)  # fmt: skip
I_SW_DIR, I_SW_TS, I_SW_SPAN, I_SW_MIN, I_SW_DECAY = (I0 + 13, I0 + 14, I0 + 15,
                                                     I0 + 16, I0 + 17)  # fmt: skip
# iceberg episodes: side 0 = bid (hit by sellers), 1 = ask (lifted by buyers)
I_HAVE_BOOK, I_ICE_GAP = I0 + 18, I0 + 19
I_EP = I0 + 20
EP_NI = 6
EPI_ACT, EPI_PX, EPI_TS, EPI_FLAG, EPI_KNOWN = 0, 1, 2, 3, 4
# brokers
I_M = I0 + 32  # broker slots: codes 0..M-2, slot M-1 = "other" (code > max_broker_code)
I_NSEEN, I_TOPN, I_SHN, I_NCL = I0 + 33, I0 + 34, I0 + 35, I0 + 36
I_N_UNKNOWN, I_N_OTHER = I0 + 37, I0 + 38
I_O_SEEN, I_O_SEENF, I_O_CL = I0 + 39, I0 + 40, I0 + 41
I_O_SAB, I_O_SAS, I_O_SV, I_O_WAB, I_O_WAS = I0 + 42, I0 + 43, I0 + 44, I0 + 45, I0 + 46
I_O_CLNET, I_O_SCR, I_O_LV, I_O_SUM0, I_K = I0 + 47, I0 + 48, I0 + 49, I0 + 50, I0 + 51
I_DLO, I_DHI = I0 + 52, I0 + 53  # current session [lo, hi) in offset ns (empty before any)
# results cached by emit are stale (session top nets, window top nets, top volume)
I_DIRTY_SN, I_DIRTY_WN, I_DIRTY_SV = I0 + 54, I0 + 55, I0 + 56
N_FIXED_I = 57

# ---------------------------------------------------------------- float slots
F_TICK = 0
F_B0 = 1  # size buckets b0..b3 at F_B0..F_B0 + 3
F_ICE_MIN = 5
F_EP = 6
EP_NF = 4
EPF_DISP, EPF_SINCE, EPF_HID, EPF_VOL = 0, 1, 2, 3
F_SA, F_SS2, F_SV, F_WA, F_WS2 = 14, 15, 16, 17, 18
F_SUM1 = 19
# emit's cached broker selections: session top buy/sell nets, window top buy/sell nets,
# top-volume (volume, net); valid while the matching I_DIRTY_* flag is 0
F_C_SB, F_C_SS, F_C_WB, F_C_WS, F_C_TV, F_C_TN = 24, 25, 26, 27, 28, 29
N_FIXED_F = 30


def new_tape_state(
    *,
    tick_size: float,
    buckets: Sequence[float],
    session_offset_ns: int,
    levels: int,
    windows_s: Sequence[int],
    signal_window_s: int,
    broker_window_s: int,
    sweep_span_ms: int,
    sweep_min_levels: int,
    sweep_decay_ms: int,
    iceberg_min_qty: float,
    iceberg_gap_s: int,
    max_broker_code: int,
    top_n: int,
    share_n: int,
    clusters: dict[int, int] | None,
) -> State:
    """Fresh tape state (validated parameters in, ``(f, i)`` out).

    ``windows_s`` are ring 0's windows in seconds (speed windows then the size window);
    ``clusters`` maps broker code -> dense cluster index ``0..C-1`` (None: the default
    data-driven cluster, computed at emit).
    """
    m = max_broker_code + 2
    n_w0 = len(windows_s)
    n_cl = 0 if clusters is None else len(set(clusters.values()))
    b = StateBuilder(n_rings=3)
    b.ring(R_TAPE, nf=1, ni=2, cap=256)
    b.ring(R_SIG, nf=NV_SIG, ni=1, cap=64)
    b.ring(R_BRK, nf=1, ni=2, cap=256)
    if b.i(N_FIXED_I) != I0 or b.f(N_FIXED_F) != 0:  # pragma: no cover - layout invariant
        raise RuntimeError("tape group layout drifted")
    o_wins0 = b.i(n_w0)
    o_tails0 = b.i(n_w0)
    o_seen = b.i(m)
    o_seenf = b.i(m)
    o_cl = b.i(m, -1)
    o_sum0 = b.f(n_w0 * NV_TAPE)
    o_lv = b.f(4 * levels, np.nan)
    o_sab, o_sas, o_sv, o_wab, o_was = (b.f(m) for _ in range(5))
    o_clnet = b.f(max(n_cl, 1))
    o_scr = b.f(2 * max(top_n, share_n))
    f, i = b.build()
    f[F_TICK] = tick_size
    f[F_B0 : F_B0 + 4] = buckets
    f[F_ICE_MIN] = iceberg_min_qty
    i[I_DAY] = np.iinfo(np.int64).min
    i[I_DIRTY_SN] = i[I_DIRTY_WN] = i[I_DIRTY_SV] = 1
    i[I_OFFS] = session_offset_ns
    i[I_NW0], i[I_O_WINS0], i[I_O_TAILS0] = n_w0, o_wins0, o_tails0
    i[o_wins0 : o_wins0 + n_w0] = [w * NS_SEC for w in windows_s]
    i[I_WIN1] = signal_window_s * NS_SEC
    i[I_BWIN] = broker_window_s * NS_SEC
    i[I_SW_SPAN] = sweep_span_ms * NS_MS
    i[I_SW_MIN] = sweep_min_levels
    i[I_SW_DECAY] = sweep_decay_ms * NS_MS
    i[I_ICE_GAP] = iceberg_gap_s * NS_SEC
    i[I_M], i[I_TOPN], i[I_SHN], i[I_NCL], i[I_K] = m, top_n, share_n, n_cl, levels
    i[I_O_SEEN], i[I_O_SEENF], i[I_O_CL] = o_seen, o_seenf, o_cl
    i[I_O_SAB], i[I_O_SAS], i[I_O_SV], i[I_O_WAB], i[I_O_WAS] = o_sab, o_sas, o_sv, o_wab, o_was
    i[I_O_CLNET], i[I_O_SCR], i[I_O_LV], i[I_O_SUM0] = o_clnet, o_scr, o_lv, o_sum0
    if clusters is not None:
        for code, c in clusters.items():
            i[o_cl + code] = c
    return f, i
