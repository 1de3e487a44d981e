"""Technical group: bar mechanics by hand, TA-Lib parity on the real B3 day, invariants."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.core import ConfigError
from quantumtrader.features.engine import FeatureEngine
from quantumtrader.features.group import GroupContext
from quantumtrader.features.groups import TechnicalGroup
from quantumtrader.features.inputs import FeatureInput
from quantumtrader.testing import b3_day_input, binance_input

talib = pytest.importorskip("talib")

Arr = np.ndarray[Any, Any]
S = 1_000_000_000
M = 60 * S
TICK = 0.5
FORBIDDEN = ("cum_delta", "ofi_", "book_ofi_", "mlofi_", "delta_", "aggr_", "vap_", "vwap",
             "tape_", "fp_", "liq_", "spread_", "impact_", "kyle_", "amihud_", "roll_",
             "toxicity_", "tickrule_", "leeready_", "tick_", "rv_", "bpv_", "itt_")  # fmt: skip
SMALL: dict[str, Any] = {
    "sma_periods": (2, 3), "ema_periods": (2,), "wma_periods": (3,), "dema_period": 2,
    "rsi_periods": (2,), "macd": (2, 3, 2), "bbands": (2, 2.0), "atr_periods": (2,),
    "stoch": (2, 1, 1), "adx_period": 2, "cci_period": 2, "mfi_period": 2, "willr_period": 2,
    "momentum_periods": (1, 2), "keltner": (2, 2, 1.5), "donchian_period": 2,
    "return_horizons": (1, 2), "vol_windows": (2,), "volume_ratio_period": 2,
    "sr_windows": (1, 2), "pivot_strengths": (1,), "aroon_period": 2, "adosc": (2, 3),
    "ultosc": (1, 2, 3), "linreg_windows": (2,), "stochrsi": (2, 2, 1),
}  # fmt: skip

# five bars (minute 2 has no trade): (minute, second, price, qty)
HAND = [
    (0, 0, 100.0, 1), (0, 10, 101.0, 2), (0, 20, 99.5, 1), (0, 59, 100.5, 1),
    (1, 0, 100.5, 2), (1, 30, 102.0, 1), (1, 40, 101.5, 1),
    (3, 5, 101.0, 3), (3, 50, 100.0, 1),
    (4, 1, 100.0, 1),
    (5, 2, 99.0, 2), (5, 3, 100.5, 2),
]  # fmt: skip


def _hand_input() -> FeatureInput:
    ts = np.array([m * M + s * S for m, s, _, _ in HAND], dtype=np.int64)
    price = np.array([p for _, _, p, _ in HAND])
    qty = np.array([q for _, _, _, q in HAND], dtype=np.float64)
    return FeatureInput.from_trades(ts, price, qty, np.ones(len(HAND), dtype=np.int8))


def _engine(ctx: GroupContext | None = None, **params: Any) -> FeatureEngine:
    ctx = ctx or GroupContext(tick_size=TICK)
    return FeatureEngine(["technical"], ctx=ctx, params={"technical": params})


def _hand_frame() -> pl.DataFrame:
    """Samples at the end of each bar's minute (bars 0..4 close at minutes 1, 2, 4, 5, 6)."""
    at = np.array([1, 2, 4, 5, 6], dtype=np.int64) * M
    return _engine(**SMALL).run(_hand_input(), at=at)


def _col(df: pl.DataFrame, name: str) -> Arr:
    return df[name].to_numpy()


def test_default_catalogue() -> None:
    g = TechnicalGroup(GroupContext(tick_size=TICK))
    names = g.names
    assert g.n_out == 99
    assert len(set(names)) == len(names)
    assert not [n for n in names if n.startswith(FORBIDDEN)]
    for kept in ("ema_9", "ema_21", "rsi_14", "atr_14", "adx_14", "plus_di_14", "minus_di_14"):
        assert kept in names
    for d in g.docs():
        assert all(str(getattr(d, k)).strip() for k in d.__struct_fields__), d.name
        assert d.group == "technical"
        assert d.inputs == "trades"
        assert "nan" in d.warmup.lower(), d.name
    custom = TechnicalGroup(GroupContext(tick_size=TICK), sma_periods=(5, 30), bbands=(10, 1.5))
    assert {"sma_5", "sma_30", "close_to_sma_30_ticks", "bb_upper_10_1p5"} <= set(custom.names)
    assert "sma_9" not in custom.names


def test_bars_close_on_the_next_trade_or_at_emit() -> None:
    eng = _engine(**SMALL)
    k = eng.index("bar_volume")
    eng.update_trade(10 * S, 100.0, 3.0, 1)
    eng.update_trade(50 * S, 101.0, 2.0, -1)
    assert math.isnan(eng.snapshot(M - 1)[k])  # bar 0 still open one ns before its end
    assert eng.snapshot(M)[k] == 5.0  # closed at emit: its end has passed
    assert eng.snapshot(M)[k] == 5.0  # emit twice at the same time: same values
    eng.update_trade(M + S, 99.0, 7.0, 1)
    assert eng.snapshot()[k] == 5.0  # bar 1 open: outputs still those of bar 0
    eng.update_trade(3 * M, 98.0, 1.0, 1)  # first trade of a later bar closes bar 1
    row = eng.snapshot()
    assert row[k] == 7.0
    assert row[eng.index("candle_gap_ticks")] == (99.0 - 101.0) / TICK
    # the same trades in batch, sampled after each trade: the close happens in the trade
    ts = np.array([10 * S, 50 * S, M + S, 3 * M], dtype=np.int64)
    inp = FeatureInput.from_trades(
        ts,
        np.array([100.0, 101.0, 99.0, 98.0]),
        np.array([3.0, 2.0, 7.0, 1.0]),
        np.ones(4, dtype=np.int8),
    )
    vol = _col(_engine(**SMALL).run(inp, each="trade"), "bar_volume")
    assert np.array_equal(vol, [np.nan, np.nan, 5.0, 7.0], equal_nan=True)


def test_hand_computed_candles_averages_and_channels() -> None:
    df = _hand_frame()
    nan = np.nan
    # bars: O H L C V = (100, 101, 99.5, 100.5, 5) (100.5, 102, 100.5, 101.5, 4)
    # (101, 101, 100, 100, 4) (100, 100, 100, 100, 1) (99, 100.5, 99, 100.5, 4)
    exp: dict[str, list[float]] = {
        "bar_volume": [5, 4, 4, 1, 4],
        "candle_body_share": [1 / 3, 1 / 1.5, -1, 0, 1],
        "candle_upper_wick_share": [1 / 3, 1 / 3, 0, 0, 0],
        "candle_lower_wick_share": [1 / 3, 0, 0, 0, 0],
        "candle_close_pos": [2 / 3, 1 / 1.5, 0, 0.5, 1],
        "candle_range_ticks": [3, 3, 2, 0, 3],
        "candle_body_ticks": [1, 2, -2, 0, 3],
        "candle_gap_ticks": [nan, 0, -1, 0, -2],
        "sma_2": [nan, 101, 100.75, 100, 100.25],
        "sma_3": [nan, nan, 302 / 3, 301.5 / 3, 300.5 / 3],
        "close_to_sma_2_ticks": [nan, 1, -1.5, 0, 0.5],
        "wma_3": [nan, nan, (100.5 + 2 * 101.5 + 3 * 100) / 6, (101.5 + 200 + 300) / 6,
                  (100 + 200 + 3 * 100.5) / 6],
        "ema_2": [nan, 101, 100.0 + (101.0 - 100.0) / 3, nan, nan],
        "obv": [5, 9, 5, 5, 9],
        "volume_ratio_2": [nan, 4 / 4.5, 1, 1 / 2.5, 4 / 2.5],
        "mom_1": [nan, 1, -1.5, 0, 0.5],
        "roc_2": [nan, nan, -0.5 / 100.5 * 100, -1.5 / 101.5 * 100, 0.5],
        "logret_1": [nan, math.log(101.5 / 100.5), math.log(100 / 101.5), 0,
                     math.log(100.5 / 100)],
        "donchian_upper_2": [nan, 102, 102, 101, 100.5],
        "donchian_lower_2": [nan, 99.5, 100, 100, 99],
        "donchian_pos_2": [nan, 0.8, 0, 0, 1],
        "resist_dist_1_ticks": [nan, -1, 4, 2, -1],  # breakouts < 0
        "support_dist_1_ticks": [nan, 4, -1, 0, 1],
        "resist_dist_2_ticks": [nan, nan, 4, 4, 1],
        "support_dist_2_ticks": [nan, nan, 1, 0, 1],
        "bb_pctb_2_2": [nan, 0.75, 0.25, 0.5, 0.75],  # equal closes: 0.5, not NaN
        "bb_width_2_2": [nan, 2 / 101, 3 / 100.75, 0, 1 / 100.25],
    }  # fmt: skip
    exp["ema_2"][3] = exp["ema_2"][2] + (100.0 - exp["ema_2"][2]) * 2 / 3
    exp["ema_2"][4] = exp["ema_2"][3] + (100.5 - exp["ema_2"][3]) * 2 / 3
    for name, want in exp.items():
        np.testing.assert_allclose(_col(df, name), want, rtol=1e-12, atol=1e-12, err_msg=name)
    lr = np.log([101.5 / 100.5, 100 / 101.5, 1.0, 100.5 / 100])
    vol2 = [np.std(lr[k - 2 : k]) if k >= 2 else nan for k in range(5)]
    np.testing.assert_allclose(_col(df, "vol_logret_2"), vol2, rtol=1e-12)


def test_hand_computed_pivots() -> None:
    df = _hand_frame()
    nan = np.nan
    # highs 101 102 101 100 100.5: bar 1 is a strength-1 pivot high, confirmed by bar 2
    # lows 99.5 100.5 100 100 99: bar 2 is a pivot low (< 100.5, <= 100), confirmed by bar 3;
    # bar 3 is not one (its left neighbour is equal)
    exp = {
        "pivot_high_dist_1_ticks": [nan, nan, 4, 4, 3],
        "pivot_high_age_1": [nan, nan, 1, 2, 3],
        "pivot_low_dist_1_ticks": [nan, nan, nan, 0, 1],
        "pivot_low_age_1": [nan, nan, nan, 1, 2],
    }
    for name, want in exp.items():
        np.testing.assert_array_equal(_col(df, name), want, err_msg=name)


def _pivots_reference(h: Arr, lo: Arr, c: Arr, k: int) -> tuple[Arr, Arr, Arr, Arr]:
    n = c.shape[0]
    hd, ha, ld, la = (np.full(n, np.nan) for _ in range(4))
    ph = pl_ = np.nan
    ih = il = -1
    for t in range(n):
        m = t - k
        if m - k >= 0:
            if h[m] > h[m - k : m].max() and h[m] >= h[m + 1 : t + 1].max():
                ph, ih = h[m], m
            if lo[m] < lo[m - k : m].min() and lo[m] <= lo[m + 1 : t + 1].min():
                pl_, il = lo[m], m
        if ih >= 0:
            hd[t], ha[t] = (ph - c[t]) / TICK, t - ih
        if il >= 0:
            ld[t], la[t] = (c[t] - pl_) / TICK, t - il
    return hd, ha, ld, la


@pytest.fixture(scope="module")
def b3_bars() -> tuple[pl.DataFrame, pl.DataFrame, float]:
    """Closed 1-minute OHLCV bars of the real day (polars) and the engine sampled at bar ends."""
    got = b3_day_input()
    if got is None:
        pytest.skip("real B3 sample data not found in ../shared/data")
    inp, ctx = got
    bars = (
        pl.DataFrame({"ts": inp.ts, "price": inp.price, "qty": inp.qty})
        .with_columns((pl.col("ts") // M).alias("bucket"))
        .group_by("bucket", maintain_order=True)
        .agg(pl.col("price").first().alias("open"), pl.col("price").max().alias("high"),
             pl.col("price").min().alias("low"), pl.col("price").last().alias("close"),
             pl.col("qty").sum().alias("volume"))
    )  # fmt: skip
    at = (bars["bucket"].to_numpy() + 1) * M
    return bars, _engine(ctx).run(inp, at=at), ctx.tick_size


def _same(ours: Arr, ref: Arr, name: str, *, atol: float = 0.0, early: bool = False) -> None:
    """Equal within 1e-9 relative wherever TA-Lib has a value; NaN exactly where TA-Lib's
    warm-up is (``early``: ours may start before TA-Lib, which pads a longer lookback)."""
    ok = ~np.isnan(ref)
    assert ok.sum() > 50, name
    if early:
        assert not np.isnan(ours[ok]).any(), name
    else:
        np.testing.assert_array_equal(np.isnan(ours), ~ok, err_msg=f"{name}: warm-up")
    np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-9, atol=atol, err_msg=name)


def test_matches_talib_on_real_b3_bars(b3_bars: tuple[pl.DataFrame, pl.DataFrame, float]) -> None:
    bars, df, tick = b3_bars
    assert bars.height == 554
    o, h, lo, c, v = (bars[k].to_numpy() for k in ("open", "high", "low", "close", "volume"))

    def chk(name: str, ref: Arr, **kw: Any) -> None:
        _same(_col(df, name), ref, name, **kw)

    for n in (9, 21, 50, 200):
        chk(f"sma_{n}", talib.SMA(c, n))
        chk(f"ema_{n}", talib.EMA(c, n))
        chk(f"close_to_sma_{n}_ticks", (c - talib.SMA(c, n)) / tick)
        chk(f"close_to_ema_{n}_ticks", (c - talib.EMA(c, n)) / tick)
    for n in (9, 21):
        chk(f"wma_{n}", talib.WMA(c, n))
    chk("dema_21", talib.DEMA(c, 21))
    chk("tema_21", talib.TEMA(c, 21))
    for n in (7, 14, 21):
        chk(f"rsi_{n}", talib.RSI(c, n))
        chk(f"atr_{n}", talib.ATR(h, lo, c, n))
        chk(f"natr_{n}", talib.NATR(h, lo, c, n))
    macd, sig, hist = talib.MACD(c, 12, 26, 9)
    chk("macd_12_26", macd, early=True)  # TA-Lib pads the line to the signal's lookback
    chk("macd_signal_12_26_9", sig)
    chk("macd_hist_12_26_9", hist)
    up, mid, dn = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    chk("bb_upper_20_2", up)
    chk("bb_middle_20", mid)
    chk("bb_lower_20_2", dn)
    chk("bb_pctb_20_2", (c - dn) / (up - dn))
    chk("bb_width_20_2", (up - dn) / mid)
    slowk, slowd = talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)
    fastk, _ = talib.STOCHF(h, lo, c, 14, 1, 0)
    chk("stoch_fastk_14", fastk)
    chk("stoch_slowk_14_3", slowk, early=True)  # TA-Lib pads %K to %D's lookback
    chk("stoch_slowd_14_3_3", slowd)
    chk("adx_14", talib.ADX(h, lo, c, 14))
    chk("plus_di_14", talib.PLUS_DI(h, lo, c, 14))
    chk("minus_di_14", talib.MINUS_DI(h, lo, c, 14))
    chk("cci_20", talib.CCI(h, lo, c, 20))
    chk("obv", talib.OBV(c, v))
    chk("mfi_14", talib.MFI(h, lo, c, v, 14))
    chk("willr_14", talib.WILLR(h, lo, c, 14))
    for n in (5, 10, 20):
        chk(f"roc_{n}", talib.ROC(c, n))
        chk(f"mom_{n}", talib.MOM(c, n))
    kc_mid, kc_atr = talib.EMA(c, 20), talib.ATR(h, lo, c, 10)
    chk("keltner_upper_20_10_2", kc_mid + 2.0 * kc_atr)
    chk("keltner_middle_20", kc_mid)
    chk("keltner_lower_20_10_2", kc_mid - 2.0 * kc_atr)
    chk("keltner_pos_20_10_2", (c - (kc_mid - 2 * kc_atr)) / (4 * kc_atr))
    dmax, dmin = talib.MAX(h, 20), talib.MIN(lo, 20)
    chk("donchian_upper_20", dmax)
    chk("donchian_lower_20", dmin)
    chk("donchian_mid_20", (dmax + dmin) / 2)
    chk("donchian_pos_20", (c - dmin) / (dmax - dmin))  # the range is never 0 here
    r1 = np.log(talib.ROCR(c, 1))
    for n in (1, 5, 15, 60):
        chk(f"logret_{n}", np.log(talib.ROCR(c, n)))
    for n in (20, 60):
        chk(f"vol_logret_{n}", talib.STDDEV(r1, n, 1.0))
    chk("candle_body_share", talib.BOP(o, h, lo, c))
    chk("volume_ratio_20", v / talib.SMA(v, 20))
    for n in (20, 60, 120):
        chk(f"resist_dist_{n}_ticks", (np.r_[np.nan, talib.MAX(h, n)[:-1]] - c) / tick)
        chk(f"support_dist_{n}_ticks", (c - np.r_[np.nan, talib.MIN(lo, n)[:-1]]) / tick)
    aroon_dn, aroon_up = talib.AROON(h, lo, 14)
    chk("aroon_up_14", aroon_up)
    chk("aroon_down_14", aroon_dn)
    chk("aroon_osc_14", talib.AROONOSC(h, lo, 14))
    chk("adosc_3_10", talib.ADOSC(h, lo, c, v, 3, 10))
    chk("ultosc_7_14_28", talib.ULTOSC(h, lo, c, 7, 14, 28))
    for n in (20, 60):
        chk(f"linreg_slope_{n}_ticks", talib.LINEARREG_SLOPE(c, n) / tick)
    # RSI values differ from TA-Lib's by ~1e-14 (rounding); %K is 0 up to that rounding
    # when the RSI sits at its window minimum, hence an absolute floor of 1e-9 percent
    srk, srd = talib.STOCHRSI(c, 14, 14, 3, 0)
    rsi = talib.RSI(c, 14)
    chk("stochrsi_k_14_14", talib.STOCHF(rsi, rsi, rsi, 14, 1, 0)[0], atol=1e-9)
    chk("stochrsi_k_14_14", srk, atol=1e-9, early=True)
    chk("stochrsi_d_14_14_3", srd, atol=1e-9)


def test_macd_line_and_pivots_before_talib_output(
    b3_bars: tuple[pl.DataFrame, pl.DataFrame, float],
) -> None:
    bars, df, _ = b3_bars
    h, lo, c = (bars[k].to_numpy() for k in ("high", "low", "close"))
    # MACD's fast EMA is seeded on bars 14..25 so both EMAs start at bar 25
    fast = np.r_[np.full(14, np.nan), talib.EMA(c[14:], 12)]
    _same(_col(df, "macd_12_26"), fast - talib.EMA(c, 26), "macd_12_26")
    for k in (2, 5):
        hd, ha, ld, la = _pivots_reference(h, lo, c, k)
        for name, ref in (
            (f"pivot_high_dist_{k}_ticks", hd),
            (f"pivot_high_age_{k}", ha),
            (f"pivot_low_dist_{k}_ticks", ld),
            (f"pivot_low_age_{k}", la),
        ):
            np.testing.assert_array_equal(_col(df, name), ref, err_msg=name)  # fmt: skip
    assert 0 < np.nanmax(_col(df, "pivot_high_age_5")) < 200
    last = df.row(-1)[1:]
    assert not np.isnan(last).any()  # every feature is warm after 554 bars


def test_five_minute_bars_match_talib(b3_bars: tuple[pl.DataFrame, pl.DataFrame, float]) -> None:
    got = b3_day_input()
    assert got is not None
    inp, ctx = got
    b5 = (
        pl.DataFrame({"ts": inp.ts, "price": inp.price})
        .with_columns((pl.col("ts") // (5 * M)).alias("bucket"))
        .group_by("bucket", maintain_order=True)
        .agg(pl.col("price").max().alias("high"), pl.col("price").min().alias("low"),
             pl.col("price").last().alias("close"))
    )  # fmt: skip
    df = _engine(ctx, bar_seconds=300).run(inp, at=(b5["bucket"].to_numpy() + 1) * 5 * M)
    h, lo, c = (b5[k].to_numpy() for k in ("high", "low", "close"))
    assert b5.height > 100
    _same(_col(df, "sma_9"), talib.SMA(c, 9), "sma_9")
    _same(_col(df, "rsi_14"), talib.RSI(c, 14), "rsi_14")
    _same(_col(df, "adx_14"), talib.ADX(h, lo, c, 14), "adx_14")


def test_stream_equals_batch_on_real_data() -> None:
    for got in (b3_day_input(), binance_input("usdm", "btcusdt")):
        if got is None:
            pytest.skip("real sample data not found in ../shared/data")
        inp, ctx = got
        part = inp.slice(0, min(inp.n, 6000))
        batch = _engine(ctx).run(part, each="event").drop("ts").to_numpy()
        eng = _engine(ctx)
        rows = np.empty_like(batch)
        for e in range(part.n):
            if part.kind[e] == 0:
                eng.update_trade(int(part.ts[e]), float(part.price[e]), float(part.qty[e]),
                                 int(part.side[e]))  # fmt: skip
            else:
                eng.update_book(int(part.ts[e]), part.lv[part.brow[e]])
            rows[e] = eng.snapshot()
        assert np.array_equal(rows, batch, equal_nan=True)
        assert np.isfinite(batch[~np.isnan(batch)]).all()


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"bar_seconds": 0}, "bar_seconds"),
        ({"bar_seconds": 1.5}, "bar_seconds"),
        ({"sma_periods": ()}, "sma_periods"),
        ({"sma_periods": (21, 9)}, "strictly increasing"),
        ({"ema_periods": (1, 5)}, "ema_periods"),
        ({"rsi_periods": "14"}, "rsi_periods"),
        ({"macd": (26, 12, 9)}, "fast < slow"),
        ({"macd": (12, 26)}, "macd"),
        ({"bbands": (20, -2.0)}, "bbands k"),
        ({"bbands": (20, float("inf"))}, "bbands k"),
        ({"keltner": (20, 10, 0)}, "keltner k"),
        ({"ultosc": (7, 28, 14)}, "ultosc"),
        ({"adosc": (10, 3)}, "adosc"),
        ({"sma_periods": (9, 20_000)}, "<= 10000"),
        ({"pivot_strengths": (0,)}, "pivot_strengths"),
        ({"stochrsi": (14, True, 3)}, "stochrsi fastk"),
    ],
)
def test_parameter_validation(params: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TechnicalGroup(GroupContext(tick_size=TICK), **params)
    with pytest.raises(ConfigError, match="technical"):
        _engine(**params)


gaps = st.one_of(st.just(0), st.integers(1, 59).map(lambda k: k * S),
                 st.integers(1, 4).map(lambda k: k * M), st.just(12 * 3600 * S))  # fmt: skip
trade = st.tuples(gaps, st.integers(-4, 4), st.integers(1, 20))


@settings(max_examples=40, deadline=None)
@given(st.lists(trade, min_size=1, max_size=150))
def test_ranges_and_stream_equals_batch_on_random_trades(raw: list[tuple[int, int, int]]) -> None:
    ts = 1_541_415_600 * S + np.cumsum([r[0] for r in raw]).astype(np.int64)
    price = 3700.0 + TICK * np.cumsum([r[1] for r in raw])
    qty = np.array([r[2] for r in raw], dtype=np.float64)
    inp = FeatureInput.from_trades(ts, price, qty, np.zeros(len(raw), dtype=np.int8))
    at = np.unique(np.r_[ts, ts + M])
    df = _engine(**SMALL).run(inp, at=at)
    x = df.drop("ts").to_numpy()
    assert not np.isinf(x).any()

    def within(name: str, lo: float, hi: float) -> None:
        col = _col(df, name)
        col = col[~np.isnan(col)]
        assert ((col >= lo - 1e-9) & (col <= hi + 1e-9)).all(), name

    for name in ("rsi_2", "stoch_fastk_2", "mfi_2", "aroon_up_2", "adx_2", "ultosc_1_2_3",
                 "stochrsi_k_2_2", "plus_di_2"):  # fmt: skip
        within(name, 0.0, 100.0)
    within("willr_2", -100.0, 0.0)
    for name in ("donchian_pos_2", "candle_close_pos", "candle_upper_wick_share"):
        within(name, 0.0, 1.0)
    within("candle_body_share", -1.0, 1.0)
    shares = (np.abs(_col(df, "candle_body_share")) + _col(df, "candle_upper_wick_share")
              + _col(df, "candle_lower_wick_share"))  # fmt: skip
    rng = _col(df, "candle_range_ticks")
    np.testing.assert_allclose(shares[rng > 0], 1.0, rtol=1e-12)
    assert (_col(df, "support_dist_1_ticks") + _col(df, "resist_dist_1_ticks") >= -1e-9)[
        ~np.isnan(_col(df, "resist_dist_1_ticks"))
    ].all()  # highest high of the window >= its lowest low
    # the stream path (snapshot at the same times) gives the same bits
    eng = _engine(**SMALL)
    rows, e = [], 0
    for t in at:
        while e < inp.n and inp.ts[e] <= t:
            eng.update_trade(int(inp.ts[e]), float(inp.price[e]), float(inp.qty[e]), 0)
            e += 1
        rows.append(eng.snapshot(int(t)))
    assert np.array_equal(np.array(rows), x, equal_nan=True)
