"""Parameters and catalogue (one :class:`FeatureDoc` per output) of the technical group.

The order of :func:`technical_docs` is the order in which
:func:`~quantumtrader.features.groups._technical_kernels.close_bar` writes its outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from quantumtrader.features.group import FeatureDoc

__all__ = ["TechnicalParams", "technical_docs"]

TALIB = "TA-Lib (https://ta-lib.org) {fn}: same seeds and guards, equal on the same bars"
WILDER = "J. W. Wilder, New Concepts in Technical Trading Systems, Trend Research (1978)"
MURPHY = "J. J. Murphy, Technical Analysis of the Financial Markets, NYIF (1999)"
REFS = {
    "ma": f"{MURPHY}, ch. 9; " + TALIB.format(fn="SMA/EMA/WMA"),
    "dema": "P. G. Mulloy, Smoothing Data with Faster Moving Averages, Technical Analysis of "
    "Stocks & Commodities 12(1) and 12(2) (1994); " + TALIB.format(fn="DEMA/TEMA"),
    "rsi": f"{WILDER}; " + TALIB.format(fn="RSI"),
    "macd": "G. Appel, The Moving Average Convergence-Divergence Trading Method (1979); "
    + TALIB.format(fn="MACD"),
    "bb": "J. Bollinger, Bollinger on Bollinger Bands, McGraw-Hill (2001); "
    + TALIB.format(fn="BBANDS (population std)"),
    "atr": f"{WILDER}; " + TALIB.format(fn="ATR/NATR"),
    "stoch": "G. C. Lane, Lane's Stochastics, Technical Analysis of Stocks & Commodities 2(3) "
    "(1984); " + TALIB.format(fn="STOCH/STOCHF (SMA smoothing)"),
    "dmi": f"{WILDER}; " + TALIB.format(fn="ADX/PLUS_DI/MINUS_DI"),
    "cci": "D. R. Lambert, Commodity Channel Index: Tools for Trading Cyclic Trends, "
    "Commodities (October 1980); " + TALIB.format(fn="CCI"),
    "obv": "J. Granville, Granville's New Key to Stock Market Profits, Prentice-Hall (1963); "
    + TALIB.format(fn="OBV"),
    "mfi": "G. Quong & A. Soudack, Volume-Weighted RSI: Money Flow, Technical Analysis of "
    "Stocks & Commodities 7(3) (1989); " + TALIB.format(fn="MFI"),
    "willr": "L. Williams, How I Made One Million Dollars Last Year Trading Commodities "
    "(1973); " + TALIB.format(fn="WILLR"),
    "mom": f"{MURPHY}, ch. 10; " + TALIB.format(fn="ROC/MOM"),
    "kc": "C. W. Keltner, How to Make Money in Commodities (1960), in the EMA ± k ATR form "
    "popularised by L. Raschke; EMA and ATR as TA-Lib EMA/ATR",
    "don": "R. Donchian's channel (1960s); C. Faith, Way of the Turtle, McGraw-Hill (2007); "
    + TALIB.format(fn="MAX/MIN"),
    "ret": "J. Y. Campbell, A. W. Lo & A. C. MacKinlay, The Econometrics of Financial "
    "Markets, Princeton (1997), ch. 1; " + TALIB.format(fn="ROCR/STDDEV"),
    "candle": "S. Nison, Japanese Candlestick Charting Techniques, NYIF (1991); body share = "
    "I. Livshin, Balance of Power, TASC (August 2001), " + TALIB.format(fn="BOP"),
    "volume": f"{MURPHY}, ch. 7 (volume)",
    "sr": f"{MURPHY}, ch. 4 (support and resistance); " + TALIB.format(fn="MAX/MIN"),
    "piv": "B. Williams, Trading Chaos, Wiley (1995) (fractals); "
    f"{MURPHY}, ch. 4 (swing highs and lows)",
    "aroon": "T. Chande, Time Price Oscillator (Aroon), Technical Analysis of Stocks & "
    "Commodities (September 1995); " + TALIB.format(fn="AROON/AROONOSC"),
    "adosc": "M. Chaikin's A/D oscillator; S. B. Achelis, Technical Analysis from A to Z, "
    "McGraw-Hill (2000); " + TALIB.format(fn="ADOSC"),
    "ult": "L. Williams, The Ultimate Oscillator, Technical Analysis of Stocks & Commodities "
    "3(4) (1985); " + TALIB.format(fn="ULTOSC"),
    "lin": "ordinary least squares slope; " + TALIB.format(fn="LINEARREG_SLOPE"),
    "srsi": "T. Chande & S. Kroll, The New Technical Trader, Wiley (1994); "
    + TALIB.format(fn="STOCHRSI"),
}


@dataclass(frozen=True, slots=True)
class TechnicalParams:
    """Validated parameters of the technical group (periods in bars)."""

    bar_seconds: int
    sma: tuple[int, ...]
    ema: tuple[int, ...]
    wma: tuple[int, ...]
    dema: int
    rsi: tuple[int, ...]
    macd: tuple[int, int, int]
    bb_period: int
    bb_k: float
    atr: tuple[int, ...]
    stoch: tuple[int, int, int]
    adx: int
    cci: int
    mfi: int
    willr: int
    mom: tuple[int, ...]
    kc: tuple[int, int]
    kc_k: float
    donchian: int
    ret: tuple[int, ...]
    vol: tuple[int, ...]
    vr: int
    sr: tuple[int, ...]
    piv: tuple[int, ...]
    aroon: int
    adosc: tuple[int, int]
    ult: tuple[int, int, int]
    lin: tuple[int, ...]
    srsi: tuple[int, int, int]

    def history(self) -> int:
        """Bars of history the rolling windows read (the current bar included)."""
        return max(
            2, *self.sma, *self.wma, self.bb_period, *self.stoch, self.cci, self.mfi,
            self.willr, *(p + 1 for p in self.mom), self.donchian, *(h + 1 for h in self.ret),
            *self.vol, self.vr, *(n + 1 for n in self.sr), *(2 * k + 1 for k in self.piv),
            self.aroon + 1, self.ult[2], *self.lin, self.srsi[1], self.srsi[2],
        )  # fmt: skip


def _num(x: float) -> str:
    return f"{x:g}".replace(".", "p")


def technical_docs(p: TechnicalParams, group: str) -> tuple[FeatureDoc, ...]:
    """Catalogue of the group's outputs, in output order."""
    out: list[FeatureDoc] = []
    bar = f"{p.bar_seconds} s bar"

    def d(  # noqa: PLR0917 - one catalogue row per call, columns in order
        name: str, desc: str, formula: str, units: str, n: int | str, warm: str, ref: str
    ) -> None:
        win = n if isinstance(n, str) else f"last {n} closed {bar}s"
        out.append(
            FeatureDoc(
                name=name, group=group, description=desc + " (updates when a bar closes)",
                formula=formula, units=units, window=win, inputs="trades", warmup=warm,
                reference=REFS[ref],
            )
        )  # fmt: skip

    def warm(k: int | str) -> str:
        return f"NaN until {k} bars have closed"

    pts = "points"
    for n in p.sma:
        d(f"sma_{n}", f"simple moving average of the close, {n} bars",
          "mean(close[t-n+1..t])", pts, n, warm(n), "ma")  # fmt: skip
    for n in p.ema:
        d(f"ema_{n}", f"exponential moving average of the close, {n} bars",
          "ema = ema_prev + 2/(n+1) (close - ema_prev), seeded with the SMA of the first n "
          "closes", pts, n, warm(n), "ma")  # fmt: skip
    for n in p.wma:
        d(
            f"wma_{n}",
            f"linearly weighted moving average of the close, {n} bars",
            "sum(w_j close_j) / (n(n+1)/2), weights 1..n, newest n",
            pts,
            n,
            warm(n),
            "ma",
        )
    n = p.dema
    d(f"dema_{n}", "double exponential moving average", "2 EMA(close) - EMA(EMA(close))", pts,
      n, warm(2 * n - 1), "dema")  # fmt: skip
    d(
        f"tema_{n}",
        "triple exponential moving average",
        "3 EMA - 3 EMA(EMA) + EMA(EMA(EMA)) of the close",
        pts,
        n,
        warm(3 * n - 2),
        "dema",
    )
    for kind, ns in (("sma", p.sma), ("ema", p.ema)):
        for n in ns:
            d(f"close_to_{kind}_{n}_ticks", f"close minus {kind}_{n}, in ticks",
              f"(close - {kind}_{n}) / tick_size", "ticks", n, warm(n), "ma")  # fmt: skip
    for n in p.rsi:
        d(f"rsi_{n}", "Wilder's relative strength index of the close",
          "100 avg_gain / (avg_gain + avg_loss), Wilder smoothing (1/n), 0 when both are ~0",
          "percent, [0, 100]", n + 1, warm(n + 1), "rsi")  # fmt: skip
    fa, sl, sg = p.macd
    d(f"macd_{fa}_{sl}", "MACD line", f"EMA_{fa}(close) - EMA_{sl}(close), the fast EMA seeded "
      f"on bars {sl - fa + 1}..{sl} (TA-Lib)", pts, sl, warm(sl), "macd")  # fmt: skip
    d(f"macd_signal_{fa}_{sl}_{sg}", "MACD signal line", f"EMA_{sg}(MACD line)", pts,
      sl + sg - 1, warm(sl + sg - 1), "macd")  # fmt: skip
    d(f"macd_hist_{fa}_{sl}_{sg}", "MACD histogram", "MACD line - signal line", pts,
      sl + sg - 1, warm(sl + sg - 1), "macd")  # fmt: skip
    n, bk = p.bb_period, _num(p.bb_k)
    d(f"bb_upper_{n}_{bk}", "upper Bollinger band", f"SMA_{n} + {bk} std_{n} (population std)",
      pts, n, warm(n), "bb")  # fmt: skip
    d(f"bb_middle_{n}", "middle Bollinger band", f"SMA_{n}(close)", pts, n, warm(n), "bb")
    d(f"bb_lower_{n}_{bk}", "lower Bollinger band", f"SMA_{n} - {bk} std_{n} (population std)",
      pts, n, warm(n), "bb")  # fmt: skip
    d(f"bb_pctb_{n}_{bk}", "%B: position of the close in the bands",
      "(close - lower) / (upper - lower); 0.5 when the bands coincide", "dimensionless", n,
      warm(n), "bb")  # fmt: skip
    d(f"bb_width_{n}_{bk}", "Bollinger bandwidth", "(upper - lower) / middle; 0 when middle is 0",
      "dimensionless", n, warm(n), "bb")  # fmt: skip
    for n in p.atr:
        d(f"atr_{n}", "Wilder's average true range",
          "Wilder smoothing (1/n) of max(high, prev close) - min(low, prev close), seeded with "
          "the mean of the first n", pts, n + 1, warm(n + 1), "atr")  # fmt: skip
    for n in p.atr:
        d(f"natr_{n}", "normalised ATR", f"100 atr_{n} / close; 0 when close is ~0",
          "percent of the close", n + 1, warm(n + 1), "atr")  # fmt: skip
    kk, sk, sd = p.stoch
    d(f"stoch_fastk_{kk}", "fast stochastic %K",
      f"100 (close - LL_{kk}) / (HH_{kk} - LL_{kk}); 0 when HH = LL", "percent, [0, 100]", kk,
      warm(kk), "stoch")  # fmt: skip
    d(f"stoch_slowk_{kk}_{sk}", "slow stochastic %K", f"SMA_{sk}(fast %K)", "percent, [0, 100]",
      kk + sk - 1, warm(kk + sk - 1), "stoch")  # fmt: skip
    d(f"stoch_slowd_{kk}_{sk}_{sd}", "slow stochastic %D", f"SMA_{sd}(slow %K)",
      "percent, [0, 100]", kk + sk + sd - 2, warm(kk + sk + sd - 2), "stoch")  # fmt: skip
    n = p.adx
    d(f"adx_{n}", "Wilder's average directional index",
      "Wilder average of DX = 100 |+DI - -DI| / (+DI + -DI)", "percent, [0, 100]", 2 * n,
      warm(2 * n), "dmi")  # fmt: skip
    d(f"plus_di_{n}", "Wilder's +DI", "100 smoothed(+DM) / smoothed(TR)", "percent, [0, 100]",
      n + 1, warm(n + 1), "dmi")  # fmt: skip
    d(f"minus_di_{n}", "Wilder's -DI", "100 smoothed(-DM) / smoothed(TR)", "percent, [0, 100]",
      n + 1, warm(n + 1), "dmi")  # fmt: skip
    n = p.cci
    d(f"cci_{n}", "commodity channel index of the typical price (H+L+C)/3",
      "(tp - mean(tp)) / (0.015 mean|tp - mean(tp)|); 0 when either is 0", "dimensionless", n,
      warm(n), "cci")  # fmt: skip
    d("obv", "on-balance volume since the first bar",
      "first bar: volume; then + volume if close rises, - volume if it falls",
      "quantity units (contracts)", "all closed bars", warm(1), "obv")  # fmt: skip
    n = p.mfi
    d(f"mfi_{n}", "money flow index",
      "100 pos / (pos + neg), money flow tp volume signed by the change of tp; 0 when "
      "pos + neg < 1", "percent, [0, 100]", n + 1, warm(n + 1), "mfi")  # fmt: skip
    n = p.willr
    d(f"willr_{n}", "Williams %R", f"-100 (HH_{n} - close) / (HH_{n} - LL_{n}); 0 when HH = LL",
      "percent, [-100, 0]", n, warm(n), "willr")  # fmt: skip
    for n in p.mom:
        d(f"roc_{n}", f"rate of change over {n} bars",
          f"100 (close / close[t-{n}] - 1); 0 when close[t-{n}] is 0", "percent", n + 1,
          warm(n + 1), "mom")  # fmt: skip
    for n in p.mom:
        d(f"mom_{n}", f"momentum over {n} bars", f"close - close[t-{n}]", pts, n + 1,
          warm(n + 1), "mom")  # fmt: skip
    e, a = p.kc
    kck = _num(p.kc_k)
    kw = max(e, a + 1)
    d(f"keltner_upper_{e}_{a}_{kck}", "upper Keltner channel", f"EMA_{e}(close) + {kck} ATR_{a}",
      pts, kw, warm(kw), "kc")  # fmt: skip
    d(f"keltner_middle_{e}", "middle Keltner channel", f"EMA_{e}(close)", pts, e, warm(e), "kc")
    d(f"keltner_lower_{e}_{a}_{kck}", "lower Keltner channel", f"EMA_{e}(close) - {kck} ATR_{a}",
      pts, kw, warm(kw), "kc")  # fmt: skip
    d(f"keltner_pos_{e}_{a}_{kck}", "position of the close in the Keltner channel",
      "(close - lower) / (upper - lower); 0.5 when ATR is 0", "dimensionless", kw, warm(kw),
      "kc")  # fmt: skip
    n = p.donchian
    d(f"donchian_upper_{n}", "upper Donchian channel", f"max(high) of the last {n} bars", pts,
      n, warm(n), "don")  # fmt: skip
    d(f"donchian_lower_{n}", "lower Donchian channel", f"min(low) of the last {n} bars", pts,
      n, warm(n), "don")  # fmt: skip
    d(f"donchian_mid_{n}", "middle of the Donchian channel", "(upper + lower) / 2", pts, n,
      warm(n), "don")  # fmt: skip
    d(f"donchian_pos_{n}", "position of the close in the Donchian channel",
      "(close - lower) / (upper - lower); 0.5 when upper = lower", "dimensionless, [0, 1]", n,
      warm(n), "don")  # fmt: skip
    for n in p.ret:
        d(f"logret_{n}", f"log return of the close over {n} bars", f"ln(close / close[t-{n}])",
          "dimensionless (log)", n + 1, warm(n + 1) + "; NaN if a close is not positive",
          "ret")  # fmt: skip
    for n in p.vol:
        d(
            f"vol_logret_{n}",
            f"volatility: std of the last {n} 1-bar log returns",
            "sqrt(mean((r - mean(r))^2)) (population), r = logret_1",
            "log return per bar",
            n + 1,
            warm(n + 1) + "; NaN if a close in the window is not positive",
            "ret",
        )
    rng = "range = high - low of the last closed bar"
    d("candle_body_share", "signed candle body over its range (balance of power)",
      f"(close - open) / range, {rng}; 0 when range = 0", "dimensionless, [-1, 1]", 1, warm(1),
      "candle")  # fmt: skip
    d("candle_upper_wick_share", "upper wick over the range",
      "(high - max(open, close)) / range; 0 when range = 0", "dimensionless, [0, 1]", 1,
      warm(1), "candle")  # fmt: skip
    d("candle_lower_wick_share", "lower wick over the range",
      "(min(open, close) - low) / range; 0 when range = 0", "dimensionless, [0, 1]", 1,
      warm(1), "candle")  # fmt: skip
    d("candle_range_ticks", "range of the last closed bar", "(high - low) / tick_size", "ticks",
      1, warm(1), "candle")  # fmt: skip
    d("candle_body_ticks", "signed body of the last closed bar", "(close - open) / tick_size",
      "ticks", 1, warm(1), "candle")  # fmt: skip
    d("candle_close_pos", "position of the close in the bar's range",
      "(close - low) / range; 0.5 when range = 0", "dimensionless, [0, 1]", 1, warm(1),
      "candle")  # fmt: skip
    d("candle_gap_ticks", "gap from the previous bar's close to this bar's open",
      "(open - close[t-1]) / tick_size (overnight gap on a session's first bar)", "ticks", 2,
      warm(2), "candle")  # fmt: skip
    d("bar_volume", "volume of the last closed bar", "sum(qty) of the bar's trades",
      "quantity units (contracts)", 1, warm(1), "volume")  # fmt: skip
    n = p.vr
    d(f"volume_ratio_{n}", "relative volume", f"volume / mean(volume of the last {n} bars); 1 "
      "when that mean is 0", "dimensionless", n, warm(n), "volume")  # fmt: skip
    for n in p.sr:
        d(f"resist_dist_{n}_ticks", f"distance from the close up to the highest high of the {n} "
          "bars before the current one", f"(max(high[t-{n}..t-1]) - close) / tick_size; < 0 "
          "after a breakout", "ticks", n + 1, warm(n + 1), "sr")  # fmt: skip
        d(f"support_dist_{n}_ticks", f"distance from the close down to the lowest low of the "
          f"{n} bars before the current one", f"(close - min(low[t-{n}..t-1])) / tick_size; < 0 "
          "after a breakdown", "ticks", n + 1, warm(n + 1), "sr")  # fmt: skip
    for k in p.piv:
        pw = f"NaN until the first pivot of strength {k} is confirmed (>= {2 * k + 1} bars)"
        ph = (f"pivot high of strength {k}: high[c] > the {k} highs before and >= the {k} "
              f"highs after; confirmed at bar c + {k}; the most recent one")  # fmt: skip
        pl = (f"pivot low of strength {k}: low[c] < the {k} lows before and <= the {k} lows "
              f"after; confirmed at bar c + {k}; the most recent one")  # fmt: skip
        d(f"pivot_high_dist_{k}_ticks", "distance from the close to the last confirmed pivot "
          "high", f"(pivot_high - close) / tick_size, {ph}", "ticks", "all closed bars", pw,
          "piv")  # fmt: skip
        d(
            f"pivot_low_dist_{k}_ticks",
            "distance from the close to the last confirmed pivot low",
            f"(close - pivot_low) / tick_size, {pl}",
            "ticks",
            "all closed bars",
            pw,
            "piv",
        )
        d(
            f"pivot_high_age_{k}",
            "bars since the last confirmed pivot high bar",
            f"t - c of the pivot high ({ph})",
            "bars",
            "all closed bars",
            pw,
            "piv",
        )
        d(
            f"pivot_low_age_{k}",
            "bars since the last confirmed pivot low bar",
            f"t - c of the pivot low ({pl})",
            "bars",
            "all closed bars",
            pw,
            "piv",
        )
    n = p.aroon
    d(
        f"aroon_up_{n}",
        "Aroon up",
        f"100 ({n} - bars since the highest high of the last {n + 1} "
        "bars) / n; ties: the most recent",
        "percent, [0, 100]",
        n + 1,
        warm(n + 1),
        "aroon",
    )
    d(f"aroon_down_{n}", "Aroon down", f"100 ({n} - bars since the lowest low of the last "
      f"{n + 1} bars) / n; ties: the most recent", "percent, [0, 100]", n + 1, warm(n + 1),
      "aroon")  # fmt: skip
    d(f"aroon_osc_{n}", "Aroon oscillator", f"aroon_up_{n} - aroon_down_{n}",
      "percent, [-100, 100]", n + 1, warm(n + 1), "aroon")  # fmt: skip
    fa, sl = p.adosc
    d(f"adosc_{fa}_{sl}", "Chaikin A/D oscillator",
      f"EMA_{fa}(AD) - EMA_{sl}(AD), AD += volume ((close - low) - (high - close)) / range; "
      "EMAs seeded with the first AD value", "quantity units (contracts)", sl, warm(sl),
      "adosc")  # fmt: skip
    a, b, c = p.ult
    d(f"ultosc_{a}_{b}_{c}", "ultimate oscillator",
      f"100 (4 A_{a} + 2 A_{b} + A_{c}) / 7, A_n = sum(close - true low) / sum(true range) "
      "over n bars (a term is 0 when its true-range sum is ~0)", "percent, [0, 100]", c + 1,
      warm(c + 1), "ult")  # fmt: skip
    for n in p.lin:
        d(
            f"linreg_slope_{n}_ticks",
            f"least-squares slope of the close over {n} bars",
            "OLS slope of close on bar index / tick_size",
            "ticks per bar",
            n,
            warm(n),
            "lin",
        )
    r, kk, dd = p.srsi
    d(f"stochrsi_k_{r}_{kk}", "stochastic RSI %K",
      f"100 (rsi_{r} - min) / (max - min) over {kk} bars; 0 when max = min",
      "percent, [0, 100]", r + kk, warm(r + kk), "srsi")  # fmt: skip
    d(f"stochrsi_d_{r}_{kk}_{dd}", "stochastic RSI %D", f"SMA_{dd}(stochrsi %K)",
      "percent, [0, 100]", r + kk + dd - 1, warm(r + kk + dd - 1), "srsi")  # fmt: skip
    return tuple(out)
