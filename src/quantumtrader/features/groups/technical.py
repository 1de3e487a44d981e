"""Technical group: classic bar indicators (TA-Lib definitions) on time bars of trades.

Bars are time bars of ``bar_seconds`` (default 60) in market time: a trade at ``ts``
belongs to bar ``floor(ts / bar_ns)`` (UTC-aligned, as the foundation's candles);
periods without trades make no bar (they are skipped, not filled). A bar closes at the
first of (a) the first trade of a later bar, (b) ``emit(ts)`` with ``ts`` in a later bar
(a sample taken after a bar's end sees that bar closed, even before the next trade).
Every indicator updates only when a bar closes, so between closes the outputs are
constant and a sample at ``ts`` uses exactly the bars that ended at or before ``ts``.

Indicators carry across sessions (a chart of consecutive bars, as TA-Lib sees the
array); the first bar of a session has the overnight gap in ``candle_gap_ticks``.
EMA, RSI, ATR and +DI/-DI/ADX reuse the foundation's kernels
(:mod:`quantumtrader.features.ta_kernels`, TA-Lib parity with SMA seeds); the other
indicators are in :mod:`quantumtrader.features.groups._technical_kernels` (state layout
in ``_technical_layout``) and their catalogue in ``_technical_docs``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from quantumtrader.features.group import FeatureDoc, Group, GroupContext
from quantumtrader.features.groups._technical_docs import TechnicalParams, technical_docs
from quantumtrader.features.groups._technical_kernels import close_bar
from quantumtrader.features.groups._technical_layout import (
    ATR_NS,
    CUM_NS,
    D_ATR,
    D_CUM,
    D_DEMA,
    D_DMI,
    D_EMA,
    D_HIST,
    D_KC,
    D_MACD,
    D_OUT,
    D_PIV,
    D_RSI,
    D_SRSI,
    D_TMP,
    DMI_NS,
    EMA_NS,
    F_BBDEV,
    F_C,
    F_H,
    F_KCMULT,
    F_L,
    F_O,
    F_TICK,
    F_V,
    I_ADOSC,
    I_ADX,
    I_AROON,
    I_BAR_END,
    I_BAR_NS,
    I_BB,
    I_CCI,
    I_DEMA,
    I_DIR,
    I_DON,
    I_HCAP,
    I_KC,
    I_LN,
    I_LO,
    I_LVAL,
    I_MACD,
    I_MFI,
    I_OPEN,
    I_SRSI,
    I_STOCH,
    I_ULT,
    I_VR,
    I_WILLR,
    N_DIR,
    N_FFIXED,
    NCOL,
    PIV_NS,
    RSI_NS,
)
from quantumtrader.features.jit import fjit, fjit_inline
from quantumtrader.features.state import State, StateBuilder

__all__ = ["TechnicalGroup"]

Array = np.ndarray[Any, Any]
NS_SEC = 1_000_000_000
MAX_PERIOD = 10_000  # bars; bounds the history kept in the state


@fjit_inline
def technical_trade(  # noqa: PLR0917 - the group kernel signature
    f: Array, i: Array, ts: int, price: float, qty: float, side: int, buyer: int, seller: int
) -> None:  # pragma: no cover - compiled
    """One trade: close the open bar if the trade is in another bar, then update it."""
    end = i[I_BAR_END]  # compare with the open bar's bounds: no division per trade
    if i[I_OPEN] == 1 and (ts >= end or ts < end - i[I_BAR_NS]):
        close_bar(f, i)
    if i[I_OPEN] == 0:
        i[I_OPEN] = 1
        i[I_BAR_END] = (ts // i[I_BAR_NS] + 1) * i[I_BAR_NS]
        f[F_O] = price
        f[F_H] = price
        f[F_L] = price
        f[F_V] = 0.0
    f[F_H] = max(f[F_H], price)
    f[F_L] = min(f[F_L], price)
    f[F_C] = price
    f[F_V] += qty


@fjit
def technical_book(f: Array, i: Array, ts: int, lv: Array) -> None:  # pragma: no cover - compiled
    """Book frames do not change this group."""


@fjit_inline
def technical_emit(f: Array, i: Array, ts: int, out: Array) -> None:  # pragma: no cover - compiled
    """Close the open bar if ``ts`` is past its end, then copy the outputs."""
    if i[I_OPEN] == 1 and ts >= i[I_BAR_END]:
        close_bar(f, i)
    o = i[I_DIR + D_OUT]
    for k in range(out.shape[0]):
        out[k] = f[o + k]


@fjit
def technical_run(  # noqa: PLR0917 - the group batch signature
    f: Array,
    i: Array,
    kind: Array,
    ts: Array,
    price: Array,
    qty: Array,
    side: Array,
    buyer: Array,
    seller: Array,
    brow: Array,
    lv: Array,
    spos: Array,
    sts: Array,
    out: Array,
) -> None:  # pragma: no cover - compiled
    """Batch loop (see :mod:`quantumtrader.features.group`)."""
    j = 0
    ns = spos.shape[0]
    for e in range(ts.shape[0]):
        while j < ns and spos[j] == e:
            technical_emit(f, i, sts[j], out[j])
            j += 1
        if kind[e] == 0:
            technical_trade(f, i, ts[e], price[e], qty[e], side[e], buyer[e], seller[e])
    while j < ns:
        technical_emit(f, i, sts[j], out[j])
        j += 1


def _period(name: str, v: Any, minimum: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}")
    if v > MAX_PERIOD:
        raise ValueError(f"{name} must be <= {MAX_PERIOD} bars, got {v!r}")
    return int(v)


def _periods(name: str, vs: Sequence[Any], minimum: int) -> tuple[int, ...]:
    if isinstance(vs, str | bytes) or not isinstance(vs, Sequence) or len(vs) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of integers, got {vs!r}")
    out = tuple(_period(name, v, minimum) for v in vs)
    if any(b <= a for a, b in itertools.pairwise(out)):
        raise ValueError(f"{name} must be strictly increasing, got {vs!r}")
    return out


def _tuple(name: str, vs: Any, n: int) -> tuple[Any, ...]:
    if isinstance(vs, str | bytes) or not isinstance(vs, Sequence) or len(vs) != n:
        raise ValueError(f"{name} must be a sequence of {n} values, got {vs!r}")
    return tuple(vs)


def _positive(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 < v < float("inf"):
        raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    return float(v)


class TechnicalGroup(Group):
    """Classic technical indicators on closed time bars of trades (99 features by default).

    Parameters
    ----------
    ctx
        Instrument context (``tick_size`` turns distances into ticks).
    bar_seconds
        Bar length in seconds (bars cut at ``floor(ts / bar_ns)``, UTC-aligned).
    sma_periods, ema_periods, wma_periods
        Moving-average periods (bars, >= 2); each also gives ``close_to_*_ticks``
        (SMA and EMA).
    dema_period
        Period of ``dema_N`` and ``tema_N``.
    rsi_periods, atr_periods
        Wilder RSI and ATR/NATR periods (>= 2).
    macd
        ``(fast, slow, signal)`` with ``2 <= fast < slow``.
    bbands
        ``(period, k)``: Bollinger bands SMA ± k population standard deviations.
    stoch
        ``(fastk, slowk, slowd)`` periods of the slow stochastic (SMA smoothing).
    adx_period, cci_period, mfi_period, willr_period, donchian_period, aroon_period
        Single periods (>= 2).
    momentum_periods
        Periods of ``roc_N`` and ``mom_N`` (>= 1).
    keltner
        ``(ema_period, atr_period, k)``: EMA ± k ATR.
    return_horizons
        Horizons of ``logret_N`` (>= 1 bars).
    vol_windows
        Windows of ``vol_logret_N`` (>= 2 returns).
    volume_ratio_period
        Window of the mean volume in ``volume_ratio_N``.
    sr_windows
        Windows of ``resist_dist_N_ticks`` / ``support_dist_N_ticks`` (>= 1).
    pivot_strengths
        Fractal strengths ``k`` of the pivot features (>= 1).
    adosc
        ``(fast, slow)`` EMA periods of the Chaikin A/D oscillator, ``fast < slow``.
    ultosc
        ``(short, medium, long)`` periods of the ultimate oscillator, increasing.
    linreg_windows
        Windows of ``linreg_slope_N_ticks`` (>= 2).
    stochrsi
        ``(rsi_period, fastk, fastd)`` of the stochastic RSI.

    Raises
    ------
    ValueError
        If a parameter is not a valid period (an integer in range; lists strictly
        increasing) or a multiplier is not a positive finite number.
    """

    name: ClassVar[str] = "technical"
    uses_book: ClassVar[bool] = False
    trade = staticmethod(technical_trade)
    book = staticmethod(technical_book)
    emit = staticmethod(technical_emit)
    run = staticmethod(technical_run)

    def __init__(
        self,
        ctx: GroupContext,
        *,
        bar_seconds: int = 60,
        sma_periods: Sequence[int] = (9, 21, 50, 200),
        ema_periods: Sequence[int] = (9, 21, 50, 200),
        wma_periods: Sequence[int] = (9, 21),
        dema_period: int = 21,
        rsi_periods: Sequence[int] = (7, 14, 21),
        macd: Sequence[int] = (12, 26, 9),
        bbands: Sequence[float] = (20, 2.0),
        atr_periods: Sequence[int] = (7, 14, 21),
        stoch: Sequence[int] = (14, 3, 3),
        adx_period: int = 14,
        cci_period: int = 20,
        mfi_period: int = 14,
        willr_period: int = 14,
        momentum_periods: Sequence[int] = (5, 10, 20),
        keltner: Sequence[float] = (20, 10, 2.0),
        donchian_period: int = 20,
        return_horizons: Sequence[int] = (1, 5, 15, 60),
        vol_windows: Sequence[int] = (20, 60),
        volume_ratio_period: int = 20,
        sr_windows: Sequence[int] = (20, 60, 120),
        pivot_strengths: Sequence[int] = (2, 5),
        aroon_period: int = 14,
        adosc: Sequence[int] = (3, 10),
        ultosc: Sequence[int] = (7, 14, 28),
        linreg_windows: Sequence[int] = (20, 60),
        stochrsi: Sequence[int] = (14, 14, 3),
    ) -> None:
        super().__init__(ctx)
        mc = _tuple("macd", macd, 3)
        bb = _tuple("bbands", bbands, 2)
        st = _tuple("stoch", stoch, 3)
        kc = _tuple("keltner", keltner, 3)
        ad = _tuple("adosc", adosc, 2)
        ul = _tuple("ultosc", ultosc, 3)
        sr = _tuple("stochrsi", stochrsi, 3)
        p = TechnicalParams(
            bar_seconds=_period("bar_seconds", bar_seconds, 1),
            sma=_periods("sma_periods", sma_periods, 2),
            ema=_periods("ema_periods", ema_periods, 2),
            wma=_periods("wma_periods", wma_periods, 2),
            dema=_period("dema_period", dema_period, 2),
            rsi=_periods("rsi_periods", rsi_periods, 2),
            macd=(_period("macd fast", mc[0], 2), _period("macd slow", mc[1], 3),
                  _period("macd signal", mc[2], 2)),
            bb_period=_period("bbands period", bb[0], 2),
            bb_k=_positive("bbands k", bb[1]),
            atr=_periods("atr_periods", atr_periods, 2),
            stoch=(_period("stoch fastk", st[0], 1), _period("stoch slowk", st[1], 1),
                   _period("stoch slowd", st[2], 1)),
            adx=_period("adx_period", adx_period, 2),
            cci=_period("cci_period", cci_period, 2),
            mfi=_period("mfi_period", mfi_period, 2),
            willr=_period("willr_period", willr_period, 2),
            mom=_periods("momentum_periods", momentum_periods, 1),
            kc=(_period("keltner ema", kc[0], 2), _period("keltner atr", kc[1], 2)),
            kc_k=_positive("keltner k", kc[2]),
            donchian=_period("donchian_period", donchian_period, 2),
            ret=_periods("return_horizons", return_horizons, 1),
            vol=_periods("vol_windows", vol_windows, 2),
            vr=_period("volume_ratio_period", volume_ratio_period, 1),
            sr=_periods("sr_windows", sr_windows, 1),
            piv=_periods("pivot_strengths", pivot_strengths, 1),
            aroon=_period("aroon_period", aroon_period, 2),
            adosc=(_period("adosc fast", ad[0], 2), _period("adosc slow", ad[1], 3)),
            ult=(_period("ultosc short", ul[0], 1), _period("ultosc medium", ul[1], 1),
                 _period("ultosc long", ul[2], 1)),
            lin=_periods("linreg_windows", linreg_windows, 2),
            srsi=(_period("stochrsi rsi", sr[0], 2), _period("stochrsi fastk", sr[1], 1),
                  _period("stochrsi fastd", sr[2], 1)),
        )  # fmt: skip
        if not p.macd[0] < p.macd[1]:
            raise ValueError(f"macd needs fast < slow, got {tuple(macd)!r}")
        if not p.adosc[0] < p.adosc[1]:
            raise ValueError(f"adosc needs fast < slow, got {tuple(adosc)!r}")
        if not p.ult[0] < p.ult[1] < p.ult[2]:
            raise ValueError(f"ultosc periods must increase, got {tuple(ultosc)!r}")
        self.p = p
        self._docs = technical_docs(p, self.name)

    def params(self) -> dict[str, Any]:
        p = self.p
        return {
            "bar_seconds": p.bar_seconds, "sma_periods": p.sma, "ema_periods": p.ema,
            "wma_periods": p.wma, "dema_period": p.dema, "rsi_periods": p.rsi, "macd": p.macd,
            "bbands": (p.bb_period, p.bb_k), "atr_periods": p.atr, "stoch": p.stoch,
            "adx_period": p.adx, "cci_period": p.cci, "mfi_period": p.mfi,
            "willr_period": p.willr, "momentum_periods": p.mom, "keltner": (*p.kc, p.kc_k),
            "donchian_period": p.donchian, "return_horizons": p.ret, "vol_windows": p.vol,
            "volume_ratio_period": p.vr, "sr_windows": p.sr, "pivot_strengths": p.piv,
            "aroon_period": p.aroon, "adosc": p.adosc, "ultosc": p.ult,
            "linreg_windows": p.lin, "stochrsi": p.srsi,
        }  # fmt: skip

    def docs(self) -> tuple[FeatureDoc, ...]:
        return self._docs

    def new_state(self) -> State:
        p = self.p
        lists = (p.sma, p.ema, p.wma, p.rsi, p.atr, p.mom, p.ret, p.vol, p.sr, p.piv, p.lin)
        hcap = p.history() + 1
        b = StateBuilder(n_rings=0)
        if b.i(I_LVAL - 1 + sum(len(x) for x in lists)) != I_BAR_NS:  # pragma: no cover
            raise RuntimeError("technical group layout drifted")
        if b.f(N_FFIXED) != F_TICK:  # pragma: no cover - layout invariant of this module
            raise RuntimeError("technical group layout drifted")
        blocks = [0] * N_DIR
        blocks[D_OUT] = b.f(len(self._docs), np.nan)
        blocks[D_HIST] = b.f(NCOL * 2 * hcap)
        blocks[D_EMA] = b.f(EMA_NS * len(p.ema))
        blocks[D_RSI] = b.f(RSI_NS * len(p.rsi))
        blocks[D_ATR] = b.f(ATR_NS * len(p.atr))
        blocks[D_DMI] = b.f(DMI_NS)
        blocks[D_MACD] = b.f(3 * EMA_NS)
        blocks[D_KC] = b.f(EMA_NS + ATR_NS)
        blocks[D_DEMA] = b.f(3 * EMA_NS)
        blocks[D_SRSI] = b.f(RSI_NS)
        blocks[D_CUM] = b.f(CUM_NS)
        blocks[D_PIV] = b.f(PIV_NS * len(p.piv), np.nan)
        blocks[D_TMP] = b.f(3)
        f, i = b.build()
        f[F_TICK], f[F_BBDEV], f[F_KCMULT] = self.ctx.tick_size, p.bb_k, p.kc_k
        i[I_BAR_NS] = p.bar_seconds * NS_SEC
        i[I_OPEN], i[I_BAR_END], i[I_HCAP] = 0, 0, hcap
        i[I_MACD : I_MACD + 3] = p.macd
        i[I_BB] = p.bb_period
        i[I_STOCH : I_STOCH + 3] = p.stoch
        i[I_ADX], i[I_CCI], i[I_MFI], i[I_WILLR] = p.adx, p.cci, p.mfi, p.willr
        i[I_KC : I_KC + 2] = p.kc
        i[I_DON], i[I_AROON] = p.donchian, p.aroon
        i[I_ADOSC : I_ADOSC + 2] = p.adosc
        i[I_ULT : I_ULT + 3] = p.ult
        i[I_DEMA] = p.dema
        i[I_SRSI : I_SRSI + 3] = p.srsi
        i[I_VR] = p.vr
        i[I_DIR : I_DIR + N_DIR] = blocks
        pos = I_LVAL
        for k, vals in enumerate(lists):
            i[I_LN + k], i[I_LO + k] = len(vals), pos
            i[pos : pos + len(vals)] = vals
            pos += len(vals)
        return f, i
