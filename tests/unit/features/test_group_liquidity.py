"""Liquidity group: hand-built frames, a dict-based oracle, real Binance/B3 data, parameters."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.core import ConfigError
from quantumtrader.features.engine import FeatureEngine
from quantumtrader.features.group import GroupContext
from quantumtrader.features.groups.liquidity import LiquidityGroup
from quantumtrader.features.inputs import FeatureInput
from quantumtrader.testing import b3_day_input, binance_input

Arr = np.ndarray[Any, Any]
S = 1_000_000_000
T0 = 1_723_161_600 * S
Side = list[tuple[float, float]]  # (price, size), best first
Event = tuple[int, float, float, int] | tuple[int, Side, Side]


def frame(bids: Side, asks: Side, k: int) -> Arr:
    """One ``(4, k)`` frame; NaN price and 0 size past the last level."""
    lv = np.full((4, k), np.nan)
    lv[1] = lv[3] = 0.0
    for row, levels in ((0, bids), (2, asks)):
        for j, (p, q) in enumerate(levels):
            lv[row, j], lv[row + 1, j] = p, q
    return lv


def make_input(events: list[Event], k: int) -> FeatureInput:
    """Trades ``(ts, price, qty, side)`` and frames ``(ts, bids, asks)`` in order."""
    n = len(events)
    kind = np.zeros(n, np.int8)
    ts = np.zeros(n, np.int64)
    price = np.full(n, np.nan)
    qty = np.zeros(n)
    side = np.zeros(n, np.int8)
    brow = np.full(n, -1, np.int64)
    frames: list[Arr] = []
    for e, ev in enumerate(events):
        ts[e] = ev[0]
        if len(ev) == 4:
            price[e], qty[e], side[e] = ev[1], ev[2], ev[3]
        else:
            kind[e], brow[e] = 1, len(frames)
            frames.append(frame(ev[1], ev[2], k))
    lv = np.stack(frames) if frames else np.zeros((0, 4, k))
    none = np.full(n, -1, np.int64)
    return FeatureInput(kind=kind, ts=ts, price=price, qty=qty, side=side, buyer=none,
                        seller=none, brow=brow, lv=lv)  # fmt: skip


def engine(tick: float, k: int = 10, **params: Any) -> FeatureEngine:
    ctx = GroupContext(tick_size=tick, levels=k)
    return FeatureEngine(["liquidity"], ctx=ctx, params={"liquidity": params})


def values(eng: FeatureEngine, inp: FeatureInput, at: list[int]) -> list[dict[str, float]]:
    df = eng.run(inp, at=np.array(at, dtype=np.int64))
    return [dict(zip(eng.names, row, strict=True)) for row in df.drop("ts").rows()]


# ------------------------------------------------------------------ hand cases
def test_book_shape_features_by_hand() -> None:
    bids = [(100.0, 4.0), (99.5, 6.0), (98.5, 10.0)]
    asks = [(101.0, 2.0), (101.5, 3.0), (102.5, 15.0)]
    (v,) = values(engine(0.5), make_input([(T0, bids, asks)], 10), [T0])
    assert (v["liq_depth_bid_1"], v["liq_depth_ask_1"]) == (4.0, 2.0)
    assert v["liq_depth_imb_1"] == pytest.approx(1 / 3)
    assert (v["liq_depth_bid_5"], v["liq_depth_ask_5"], v["liq_depth_imb_5"]) == (20, 20, 0)
    assert (v["liq_depth_bid_10"], v["liq_depth_ask_10"]) == (20.0, 20.0)
    assert v["liq_wmid"] == pytest.approx((100.0 * 2 + 101.0 * 4) / 6)
    # wmid - mid = 100.6667 - 100.5 = 1/6 point = 1/3 tick (= spread 2 * (4 - 2) / 12)
    assert v["liq_microprice_dist_ticks"] == pytest.approx(1 / 3)
    # distances (ticks) 0, 1, 3; cumulative bid 4, 10, 20 -> slope 222/42; ask 2, 5, 20 -> 87/14
    assert v["liq_slope_bid_10"] == pytest.approx(37 / 7)
    assert v["liq_slope_ask_10"] == pytest.approx(87 / 14)
    assert v["liq_slope_bid_10"] == pytest.approx(np.polyfit([0, 1, 3], [4, 10, 20], 1)[0])
    assert v["liq_score_5"] == pytest.approx(40 / 2)  # depth 5 both sides / 2-tick spread
    # one frame: trades-only and hidden defined, book-to-book flows not yet
    assert v["liq_taken_10s"] == 0.0
    assert v["liq_hidden_10s"] == 0.0
    for name in ("liq_touch_added_10s", "liq_consumption_ratio_10s",
                 "liq_replenish_rate_bid_5_10s", "liq_replenish_rate_ask_5_10s"):  # fmt: skip
        assert math.isnan(v[name]), name


def test_nan_before_the_first_frame_and_on_empty_sides() -> None:
    events: list[Event] = [
        (T0, 100.0, 3.0, 1),
        (T0 + S, [(99.0, 5.0), (98.0, 1.0)], []),
        (T0 + 2 * S, [], []),
    ]
    v0, v1, v2 = values(engine(1.0), make_input(events, 10), [T0, T0 + S, T0 + 2 * S])
    assert v0["liq_taken_10s"] == 3.0
    assert all(math.isnan(x) for n, x in v0.items() if n != "liq_taken_10s")
    # bids only: ask depth 0, imbalance +1, everything needing both sides NaN
    assert (v1["liq_depth_bid_1"], v1["liq_depth_ask_5"], v1["liq_depth_imb_10"]) == (5, 0, 1)
    for name in ("liq_wmid", "liq_microprice_dist_ticks", "liq_score_5", "liq_slope_ask_10"):
        assert math.isnan(v1[name]), name
    assert v1["liq_slope_bid_10"] == pytest.approx(1.0)  # cumulative 5, 6 over 0, 1 tick
    assert v1["liq_hidden_10s"] == 0.0  # the trade came before any frame
    # both sides empty: every book feature NaN, the flows still defined
    assert math.isnan(v2["liq_depth_bid_1"]) and math.isnan(v2["liq_depth_imb_1"])
    assert math.isnan(v2["liq_slope_bid_10"])
    assert v2["liq_taken_10s"] == 3.0
    assert v2["liq_touch_added_10s"] == 0.0  # nothing shown, nothing added
    assert v2["liq_consumption_ratio_10s"] == 1.0


def _flow_case() -> list[Event]:
    b = [(100.0, 5.0), (99.0, 5.0), (98.0, 5.0)]
    return [
        (T0, b, [(101.0, 4.0), (102.0, 4.0), (103.0, 4.0)]),
        (T0 + S, 100.0, 3.0, -1),  # hits 3 of the 5 shown at 100: not hidden
        (T0 + S, 100.0, 4.0, -1),  # 7 executed at 100 against 5 shown: 2 hidden
        (T0 + S + S // 2, 101.0, 1.0, 1),  # lifts 1 of 4: not hidden
        # bid 100 shows 6 after 7 traded against 5 shown: 6 - 5 + min(7, 5) = 6 added;
        # ask 101 shows 3 after 1 traded against 4: 3 - 4 + 1 = 0 added
        (T0 + 2 * S, [(100.0, 6.0), *b[1:]], [(101.0, 3.0), (102.0, 4.0), (103.0, 4.0)]),
        (T0 + 3 * S, 100.0, 2.0, 1),  # a buy at 100, no ask shown there: 2 hidden
        # new best bid 101 (2 added), ask 102 grows 4 -> 7 (3 added), 104 is level 3 > top 2
        (T0 + 4 * S, [(101.0, 2.0), (100.0, 6.0), (99.0, 5.0)],
         [(102.0, 7.0), (103.0, 4.0), (104.0, 9.0)]),
        (T0 + 5 * S, 97.0, 1.0, -1),  # beyond the last of 3 shown bids: no information
        (T0 + 5 * S, 110.0, 1.0, 1),  # beyond the last of 3 shown asks: no information
        (T0 + 5 * S, 100.0, 1.0, 0),  # no aggressor: taken, never hidden
    ]  # fmt: skip


def test_consumption_replenishment_hidden_by_hand() -> None:
    eng = engine(1.0, k=3, depth_levels=(1, 3), top_levels=2)
    at = [T0 + 5 * S, T0 + 12 * S, T0 + 14 * S, T0 + 20 * S]
    v5, v12, v14, v20 = values(eng, make_input(_flow_case(), 3), at)
    assert v5["liq_taken_10s"] == 3 + 4 + 1 + 2 + 1 + 1 + 1
    assert v5["liq_hidden_10s"] == 2 + 2
    assert v5["liq_touch_added_10s"] == 6 + 2 + 3
    assert v5["liq_consumption_ratio_10s"] == pytest.approx(13 / 24)
    assert v5["liq_replenish_rate_bid_2_10s"] == pytest.approx((6 + 2) / 10)
    assert v5["liq_replenish_rate_ask_2_10s"] == pytest.approx(3 / 10)
    # (T0+2s, T0+12s]: the frame at 2 s is out, the 3 s trade and 4 s frame are in
    assert v12["liq_taken_10s"] == 2 + 1 + 1 + 1
    assert v12["liq_hidden_10s"] == 2
    assert v12["liq_touch_added_10s"] == 5
    assert v12["liq_consumption_ratio_10s"] == pytest.approx(5 / 10)
    assert v12["liq_replenish_rate_bid_2_10s"] == pytest.approx(0.2)
    assert v14["liq_taken_10s"] == 3 and v14["liq_hidden_10s"] == 0
    assert v14["liq_touch_added_10s"] == 0
    assert v20["liq_taken_10s"] == 0 and v20["liq_replenish_rate_ask_2_10s"] == 0
    assert math.isnan(v20["liq_consumption_ratio_10s"])  # nothing taken, nothing added
    assert v20["liq_depth_bid_3"] == 13 and v20["liq_depth_imb_1"] == pytest.approx(-5 / 9)


def test_window_and_emit_are_idempotent() -> None:
    eng = engine(1.0, k=3, depth_levels=(1, 3), top_levels=2)
    inp = make_input(_flow_case(), 3)
    eng.run(inp, at=np.array([T0 + 5 * S]))
    a = eng.snapshot(T0 + 11 * S)
    b = eng.snapshot(T0 + 11 * S)
    assert np.array_equal(a, b, equal_nan=True)
    assert a[eng.index("liq_taken_10s")] == 1 + 2 + 1 + 1 + 1  # (1 s, 11 s]
    assert a[eng.index("liq_touch_added_10s")] == 6 + 5


# ------------------------------------------------------------------ oracle
def _shown(lv: Arr, row: int, tick: float) -> list[tuple[int, float]]:
    out = []
    for p, q in zip(lv[row], lv[row + 1], strict=True):
        if np.isnan(p) or not q > 0:
            break
        out.append((round(p / tick), float(q)))
    return out


def _beyond(levels: list[tuple[int, float]], k: int, t: int, s: int) -> bool:
    """Price past the last level of a full side (no information there)."""
    if len(levels) < k:
        return False
    return t < levels[-1][0] if s == 0 else t > levels[-1][0]


def oracle(inp: FeatureInput, tick: float, k: int, window_s: int, top: int) -> Arr:
    """Window sums (taken, hidden, touch, bid, ask) after each event, from dicts."""
    prev: list[list[tuple[int, float]]] | None = None
    execd: list[dict[int, float]] = [{}, {}]
    rows: list[tuple[int, float, float, float, float, float]] = []
    count = np.zeros(inp.n, dtype=np.int64)  # rows pushed up to each event
    for e in range(inp.n):
        t_e = int(inp.ts[e])
        if inp.kind[e] == 0:
            hidden, side, q = 0.0, int(inp.side[e]), float(inp.qty[e])
            if prev is not None and side != 0:
                s = 1 if side > 0 else 0
                t = round(float(inp.price[e]) / tick)
                shown = dict(prev[s])
                if t in shown:
                    before = execd[s].get(t, 0.0)
                    execd[s][t] = before + q
                    hidden = max(0.0, before + q - shown[t]) - max(0.0, before - shown[t])
                elif not _beyond(prev[s], k, t, s):
                    hidden = q
            rows.append((t_e, q, hidden, 0.0, 0.0, 0.0))
        else:
            lv = inp.lv[inp.brow[e]]
            new = [_shown(lv, 0, tick), _shown(lv, 2, tick)]
            if prev is not None:
                touch, tot = 0.0, [0.0, 0.0]
                for s in (0, 1):
                    shown = dict(prev[s])
                    for j, (t, q) in enumerate(new[s][:top]):
                        if t in shown:
                            add = q - shown[t] + min(execd[s].get(t, 0.0), shown[t])
                        else:
                            add = 0.0 if _beyond(prev[s], k, t, s) else q
                        add = max(add, 0.0)
                        tot[s] += add
                        touch += add if j == 0 else 0.0
                rows.append((t_e, 0.0, 0.0, touch, tot[0], tot[1]))
            prev, execd = new, [{}, {}]
        count[e] = len(rows)
    stamps = np.array([r[0] for r in rows], dtype=np.int64)
    vals = np.array([r[1:] for r in rows], dtype=np.float64).reshape(-1, 5)
    cum = np.vstack([np.zeros(5), np.cumsum(vals, axis=0)])
    lo = np.searchsorted(stamps, inp.ts - window_s * S, side="right")
    return cum[count] - cum[np.minimum(lo, count)]


FLOW_COLS = ("liq_taken", "liq_hidden", "liq_touch_added")


def _flows(df: Any, window_s: int, top: int) -> Arr:
    w = f"{window_s}s"
    cols = [f"{c}_{w}" for c in FLOW_COLS]
    cols += [f"liq_replenish_rate_{s}_{top}_{w}" for s in ("bid", "ask")]
    got = df.select(cols).to_numpy().copy()
    got[:, 3:] *= window_s
    return got


level = st.tuples(st.integers(1, 3), st.integers(1, 9))  # (tick gap, size)
book_side = st.lists(level, max_size=4)
event = st.one_of(
    st.tuples(st.just("t"), st.integers(95, 106), st.integers(1, 9), st.sampled_from([-1, 0, 1])),
    st.tuples(st.just("b"), st.integers(98, 101), book_side, book_side),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3 * S), event), min_size=1, max_size=60))
def test_flows_equal_a_dict_oracle(raw: list[tuple[int, tuple[Any, ...]]]) -> None:
    k, top, tick = 4, 2, 0.5
    events: list[Event] = []
    ts = T0
    for gap, ev in raw:
        ts += gap
        if ev[0] == "t":
            events.append((ts, ev[1] * tick, float(ev[2]), ev[3]))
        else:
            bid, ask = ev[1], ev[1] + 1
            bids, asks = [], []
            for gap_t, q in ev[2]:
                bid -= gap_t - 1 if bids else 0
                bids.append((bid * tick, float(q)))
                bid -= 1
            for gap_t, q in ev[3]:
                ask += gap_t - 1 if asks else 0
                asks.append((ask * tick, float(q)))
                ask += 1
            events.append((ts, bids, asks))
    inp = make_input(events, k)
    eng = engine(tick, k=k, depth_levels=(1, 4), window_s=3, top_levels=top)
    df = eng.run(inp, each="event")
    want = oracle(inp, tick, k, 3, top)
    nfr = np.cumsum(inp.kind == 1)
    got = _flows(df, 3, top)
    np.testing.assert_allclose(got[:, 0], want[:, 0], rtol=0, atol=1e-9)
    seen = nfr >= 1
    np.testing.assert_allclose(got[seen, 1], want[seen, 1], rtol=0, atol=1e-9)
    two = nfr >= 2
    np.testing.assert_allclose(got[two, 2:], want[two, 2:], rtol=1e-12, atol=1e-9)
    assert np.isnan(got[~seen, 1]).all() and np.isnan(got[~two, 2:]).all()
    ratio = df["liq_consumption_ratio_3s"].to_numpy()
    assert np.all(np.isnan(ratio) | ((ratio >= 0) & (ratio <= 1)))
    imb = df.select(f"liq_depth_imb_{n}" for n in (1, 4)).to_numpy()
    assert np.all(np.isnan(imb) | (np.abs(imb) <= 1))
    assert not np.isinf(df.drop("ts").to_numpy()).any()


# ------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def binance() -> tuple[FeatureInput, GroupContext, Any]:
    got = binance_input("usdm", "btcusdt")
    if got is None:
        pytest.skip("Binance sample data not found in ../shared/data")
    inp, ctx = got
    df = FeatureEngine(["liquidity"], ctx=ctx).run(inp, each="event")
    return inp, ctx, df


def test_real_book_features(binance: tuple[FeatureInput, GroupContext, Any]) -> None:
    inp, _, df = binance
    book = np.flatnonzero(inp.kind == 1)
    lv = inp.lv[inp.brow[book]]
    at = df[book]
    assert inp.lv.shape[0] == 6548
    np.testing.assert_array_equal(at["liq_depth_bid_10"].to_numpy(), lv[:, 1].sum(axis=1))
    np.testing.assert_array_equal(at["liq_depth_ask_5"].to_numpy(), lv[:, 3, :5].sum(axis=1))
    imb = at["liq_depth_imb_1"].to_numpy()
    assert np.all(np.abs(imb) <= 1) and np.isfinite(imb).all()
    wmid = at["liq_wmid"].to_numpy()
    assert np.all((wmid >= lv[:, 0, 0]) & (wmid <= lv[:, 2, 0]))
    assert np.all(at["liq_slope_bid_10"].to_numpy() > 0)
    # level-1 imbalance predicts the sign of the next mid move (Cao, Hansch & Wang)
    mid = (lv[:, 0, 0] + lv[:, 2, 0]) / 2
    moves = np.flatnonzero(np.diff(mid) != 0)
    nxt = np.searchsorted(moves, np.arange(mid.shape[0] - 1))
    ok = nxt < moves.shape[0]
    sign = np.sign(np.diff(mid)[moves[nxt[ok]]])
    corr = np.corrcoef(imb[:-1][ok], sign)[0, 1]
    assert corr > 0.2, corr
    # the weighted mid sits on the side the mid moves to next (61 % of 6,509 frames)
    dist = at["liq_microprice_dist_ticks"].to_numpy()[:-1][ok]
    assert np.mean(np.sign(dist[dist != 0]) == sign[dist != 0]) > 0.58


def test_real_consumption_equals_numpy_windows(
    binance: tuple[FeatureInput, GroupContext, Any],
) -> None:
    inp, ctx, df = binance
    trade = inp.kind == 0
    ts, qty = inp.ts[trade], inp.qty[trade]
    taken = df["liq_taken_10s"].to_numpy()
    for e in (500, 7_000, 15_000, 27_000, inp.n - 1):  # after event e (same-ts ones follow)
        live = (inp.kind[: e + 1] == 0) & (inp.ts[: e + 1] > inp.ts[e] - 10 * S)
        assert taken[e] == inp.qty[: e + 1][live].sum(), e
    for w in (1, 30):
        eng = FeatureEngine(["liquidity"], ctx=ctx, params={"liquidity": {"window_s": w}})
        at = inp.ts[::4000] + S // 3
        got = eng.run(inp, at=at)[f"liq_taken_{w}s"].to_numpy()
        want = [qty[(ts > t - w * S) & (ts <= t)].sum() for t in at]
        np.testing.assert_array_equal(got, want)
    hidden = df["liq_hidden_10s"].to_numpy()
    ok = ~np.isnan(hidden)
    assert ok[-1] and np.all((hidden[ok] >= 0) & (hidden[ok] <= taken[ok]))
    assert 0 < hidden[-1] < taken[-1]
    ratio = df["liq_consumption_ratio_10s"].to_numpy()
    assert np.all((ratio[~np.isnan(ratio)] >= 0) & (ratio[~np.isnan(ratio)] <= 1))
    first_two = np.flatnonzero(inp.kind == 1)[1]
    assert np.isfinite(ratio[first_two:]).all()


def test_real_flows_equal_the_oracle_on_a_prefix(
    binance: tuple[FeatureInput, GroupContext, Any],
) -> None:
    inp, ctx, df = binance
    n = 3000
    part = inp.slice(0, n)
    want = oracle(part, ctx.tick_size, ctx.levels, 10, 5)
    got = _flows(df[:n], 10, 5)
    two = np.cumsum(part.kind == 1) >= 2
    np.testing.assert_allclose(got[two], want[two], rtol=1e-12, atol=1e-9)
    assert want[-1, 3] > 0 and want[-1, 2] > 0


def test_b3_day_without_book() -> None:
    got = b3_day_input()
    if got is None:
        pytest.skip("B3 sample data not found in ../shared/data")
    inp, ctx = got
    eng = FeatureEngine(["liquidity"], ctx=ctx)
    df = eng.run(inp, every_ns=60 * S)
    taken = df["liq_taken_10s"].to_numpy()
    t = df["ts"].cast(int).to_numpy()
    want = [inp.qty[(inp.ts > x - 10 * S) & (inp.ts <= x)].sum() for x in t]
    np.testing.assert_array_equal(taken, want)
    assert taken.max() > 0
    rest = df.drop("ts", "liq_taken_10s").to_numpy()
    assert np.isnan(rest).all()


# ------------------------------------------------------------------ parameters
def test_names_follow_parameters_and_docs_are_complete() -> None:
    g = LiquidityGroup(GroupContext(tick_size=0.5), window_s=30, top_levels=3,
                       depth_levels=(2, 4))  # fmt: skip
    assert g.n_out == 17
    assert g.names[:3] == ("liq_depth_bid_2", "liq_depth_ask_2", "liq_depth_imb_2")
    assert "liq_replenish_rate_ask_3_30s" in g.names and "liq_score_3" in g.names
    default = LiquidityGroup(GroupContext(tick_size=0.5))
    assert default.n_out == 20 and len(set(default.names)) == 20
    for d in default.docs():
        assert d.name.startswith("liq_") and d.group == "liquidity"
        assert all(str(getattr(d, f)).strip() for f in d.__struct_fields__), d.name
    assert "Stoikov" in default.docs()[default.names.index("liq_wmid")].reference
    assert repr(g) == "LiquidityGroup(depth_levels=(2, 4), window_s=30, top_levels=3)"


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"depth_levels": ()}, "depth_levels"),
        ({"depth_levels": (5, 1)}, "depth_levels"),
        ({"depth_levels": (1, 1)}, "depth_levels"),
        ({"depth_levels": (0, 5)}, "depth_levels"),
        ({"depth_levels": (1, 11)}, "depth_levels"),
        ({"depth_levels": (1.5,)}, "depth_levels"),
        ({"window_s": 0}, "window_s"),
        ({"window_s": 2.5}, "window_s"),
        ({"window_s": True}, "window_s"),
        ({"top_levels": 0}, "top_levels"),
        ({"top_levels": 11}, "top_levels"),
    ],
)
def test_parameter_validation(params: dict[str, Any], match: str) -> None:
    ctx = GroupContext(tick_size=0.5)
    with pytest.raises(ValueError, match=match):
        LiquidityGroup(ctx, **params)
    with pytest.raises(ConfigError, match=match):
        FeatureEngine(["liquidity"], ctx=ctx, params={"liquidity": params})


def test_small_context_limits_levels() -> None:
    ctx = GroupContext(tick_size=1.0, levels=3)
    with pytest.raises(ValueError, match="depth_levels"):
        LiquidityGroup(ctx)  # default depth 10 > 3 levels
    assert LiquidityGroup(ctx, depth_levels=(1, 3), top_levels=3).names[-1] == (
        "liq_replenish_rate_ask_3_10s"
    )
