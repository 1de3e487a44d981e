"""Flow group: hand-computed cases, reference implementations, real B3 and Binance data."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.core import ConfigError
from quantumtrader.features import FeatureSet, compute_batch
from quantumtrader.features.engine import FeatureEngine
from quantumtrader.features.group import GroupContext
from quantumtrader.features.groups.flow import FlowGroup
from quantumtrader.features.inputs import FeatureInput
from quantumtrader.testing import b3_day_input, binance_input

Array = np.ndarray[Any, Any]
S = 1_000_000_000
M = 60 * S
T0 = 1_700_000_040 * S  # 2023-11-14 22:14 UTC: the tests stay before the UTC midnight cut
CTX1 = GroupContext(tick_size=1.0)
TEMPLATE = ("cum_delta", *(f"ofi_{w}m{s}" for w in (1, 5, 15, 30, 60)
                           for s in ("", "_velocity", "_acceleration")))  # fmt: skip


def _b3() -> tuple[FeatureInput, GroupContext]:
    got = b3_day_input()
    if got is None:
        pytest.skip("shared B3 sample data (../shared/data/b3_dol_tt_20181105) not found")
    return got


def _binance() -> tuple[FeatureInput, GroupContext]:
    got = binance_input("usdm", "btcusdt")
    if got is None:
        pytest.skip("shared Binance sample data (../shared/data/binance_raw_l2_20240808) absent")
    return got


def _engine(ctx: GroupContext = CTX1, **params: Any) -> FeatureEngine:
    return FeatureEngine(["flow"], ctx=ctx, params={"flow": params})


def _trades(rows: list[tuple[int, float, float, int]]) -> FeatureInput:
    ts, px, q, sd = zip(*rows, strict=True)
    return FeatureInput.from_trades(
        np.asarray(ts, dtype=np.int64), np.asarray(px), np.asarray(q), np.asarray(sd, np.int8)
    )


def _frames(ts: list[int], books: list[list[tuple[float, float, float, float]]]) -> FeatureInput:
    """Book-only input; each book is a list of levels ``(bid px, bid sz, ask px, ask sz)``."""
    m = len(books)
    lv = np.full((m, 4, 10), np.nan)
    lv[:, 1, :] = 0.0
    lv[:, 3, :] = 0.0
    for k, levels in enumerate(books):
        for j, (bp, bq, ap, aq) in enumerate(levels):
            lv[k, :, j] = (bp, 0.0 if math.isnan(bp) else bq, ap, 0.0 if math.isnan(ap) else aq)
    none = np.full(m, -1, dtype=np.int64)
    return FeatureInput(
        kind=np.ones(m, np.int8), ts=np.asarray(ts, np.int64), price=np.full(m, np.nan),
        qty=np.zeros(m), side=np.zeros(m, np.int8), buyer=none, seller=none,
        brow=np.arange(m, dtype=np.int64), lv=lv,
    )  # fmt: skip


def _col(eng: FeatureEngine, inp: FeatureInput, name: str, **kw: Any) -> Array:
    return eng.run(inp, **(kw or {"each": "event"}))[name].to_numpy()


# ---------------------------------------------------------------- template
def test_template_features_bit_identical_to_featureset_on_b3_day() -> None:
    inp, ctx = _b3()
    got = FeatureEngine(["flow"], ctx=ctx).run(inp, each="trade")
    ref = compute_batch(inp.ts, inp.price, inp.qty, inp.side)
    fs = FeatureSet()
    rows = []
    for k in range(0, inp.n):
        fs.update_trade(int(inp.ts[k]), float(inp.price[k]), float(inp.qty[k]), int(inp.side[k]))
        if k % 97 == 0 or k == inp.n - 1:
            rows.append((k, fs.snapshot()))
    for name in TEMPLATE:
        a = got[name].to_numpy()
        b = ref[name].to_numpy().astype(np.float64)
        assert np.array_equal(a, b, equal_nan=True), name
        stream = np.array([math.nan if s[name] is None else s[name] for _, s in rows])
        assert np.array_equal(a[[k for k, _ in rows]], stream, equal_nan=True), name
    assert got["cum_delta"][-1] == float(np.sum(inp.qty * inp.side))


# ---------------------------------------------------------------- book OFI (CKS)
BOOKS = [  # (bid px, bid sz, ask px, ask sz) at level 1
    (100, 5, 103, 4),
    (100, 7, 103, 2),  # same prices: (7 - 5) - (2 - 4) = 4
    (101, 3, 103, 2),  # bid up: +3; ask same: -2 + 2 -> 3
    (100, 6, 102, 1),  # bid down: -3; ask down: -1 -> -4
    (100, 6, 104, 9),  # bid same: 6 - 6; ask up: +1 -> 1
    (math.nan, 0, 104, 9),  # bid empties (price -inf): -6; ask same: -9 + 9 -> -6
    (99, 2, math.nan, 0),  # bid from empty: +2; ask empties (+inf): +9 -> 11
    (math.nan, 0, math.nan, 0),  # both empty: -2 + 0 -> -2
    (99, 1, 100, 1),  # +1 - 1 -> 0
]
E_N = [math.nan, 4, 3, -4, 1, -6, 11, -2, 0]


def test_cks_event_ofi_covers_every_sign_case() -> None:
    inp = _frames([T0 + k * S for k in range(len(BOOKS))], [[b] for b in BOOKS])
    eng = _engine(book_ofi_windows=(2, 60), book_ofi_norm_windows=(2,), mlofi_windows=())
    df = eng.run(inp, each="event")
    assert np.array_equal(df["book_ofi_event"].to_numpy(), E_N, equal_nan=True)
    e = np.nan_to_num(np.asarray(E_N))
    two = [math.nan] + [e[k] + e[k - 1] for k in range(1, len(e))]  # frames in (t - 2 s, t]
    assert np.array_equal(df["book_ofi_2s"].to_numpy(), two, equal_nan=True)
    assert np.array_equal(df["book_ofi_60s"].to_numpy()[1:], np.cumsum(e)[1:])
    # norm at frame 3: (3 - 4) / mean((3 + 2) / 2, (6 + 1) / 2) = -1 / 3
    assert df["book_ofi_norm_2s"][3] == pytest.approx(-1.0 / 3.0, rel=1e-15)
    # frames 7 and 8: depths 0 and 1 -> mean 0.5; (-2 + 0) / 0.5
    assert df["book_ofi_norm_2s"][8] == pytest.approx(-4.0)
    late = eng.snapshot(T0 + 100 * S)  # every window empty: sums and norm are 0, not NaN
    assert late[eng.index("book_ofi_2s")] == 0.0
    assert late[eng.index("book_ofi_norm_2s")] == 0.0
    assert late[eng.index("book_ofi_event")] == 0.0


def test_book_features_nan_without_book_frames() -> None:
    eng = _engine()
    df = eng.run(_trades([(T0, 100.0, 1.0, 1)]), each="event")
    for name in ("book_ofi_event", "book_ofi_10s", "book_ofi_norm_10s", "mlofi_sum_10s"):
        assert math.isnan(df[name][0]), name


def test_mlofi_level_two_and_sum() -> None:
    books = [
        [(100, 5, 103, 4), (99, 10, 104, 8), (98, 1, 105, 1)],
        [(100, 5, 103, 4), (99, 12, 105, 3), (98, 1, 105, 1)],  # L2: +2; ask up +8 -> 10
        [(100, 5, 103, 4), (100, 1, 105, 5), (97, 7, 105, 1)],  # L2: bid up +1; -5 + 3 -> -1
    ]  # L3 at frame 2: bid down -1, ask same 0 -> -1
    inp = _frames([T0, T0 + S, T0 + 2 * S], books)
    eng = _engine(book_ofi_windows=(30,), mlofi_levels=3, mlofi_windows=(60,))
    df = eng.run(inp, each="event")
    assert "mlofi_1_60s" in eng.names  # 60 s is not a book_ofi window: level 1 is emitted
    assert df["mlofi_2_60s"].to_list()[1:] == [10.0, 9.0]
    assert df["mlofi_3_60s"].to_list()[1:] == [0.0, -1.0]
    assert df["mlofi_1_60s"].to_list()[1:] == [0.0, 0.0]
    assert df["mlofi_sum_60s"].to_list()[1:] == [10.0, 8.0]
    names = _engine(book_ofi_windows=(10,), mlofi_windows=(10,)).names
    assert "mlofi_1_10s" not in names and "mlofi_2_10s" in names  # level 1 = book_ofi_10s


# ---------------------------------------------------------------- delta, aggression, VWAP
def test_delta_window_momentum_and_divergence() -> None:
    inp = _trades([
        (T0, 100.0, 10.0, 1),
        (T0 + 6 * M, 101.0, 4.0, -1),
        (T0 + 11 * M, 102.0, 3.0, -1),
        (T0 + 12 * M, 100.0, 9.0, 1),
    ])  # fmt: skip
    eng = _engine()
    at = np.array([T0 + 3 * M, T0 + 6 * M, T0 + 11 * M, T0 + 12 * M], dtype=np.int64)
    df = eng.run(inp, at=at)
    assert df["delta_5m"].to_list() == [10.0, -4.0, -3.0, 6.0]
    mom = df["delta_momentum_5m"].to_numpy()
    assert np.isnan(mom[:2]).all()  # less than 10 min after the first trade
    # t = 11m: D(6m, 11m] = -3, D(1m, 6m] = -4 -> 1; t = 12m: 6 - (-4) = 10
    assert mom[2:].tolist() == [1.0, 10.0]
    div = df["delta_divergence_5m"].to_numpy()
    assert math.isnan(div[0])  # no trade at or before t - 5m yet
    # t=6m: ref 100 (trade at 0), up with delta -4 -> +1; t=11m: ref 101 (trade at 6m,
    # exactly 5 min old), up with delta -3 -> +1; t=12m: ref 101, down with delta +6 -> -1
    assert div[1:].tolist() == [1.0, 1.0, -1.0]


def test_aggression_window() -> None:
    inp = _trades([(T0, 10.0, 4.0, 1), (T0 + 10 * S, 10.0, 1.0, -1), (T0 + 20 * S, 10.0, 5.0, 0)])
    eng = _engine()
    df = eng.run(inp, at=np.array([T0 + 20 * S, T0 + 35 * S, T0 + 45 * S], dtype=np.int64))
    assert df["aggr_buy_30s"].to_list() == [4.0, 0.0, 0.0]
    assert df["aggr_sell_30s"].to_list() == [1.0, 1.0, 0.0]
    ratio = df["aggr_ratio_30s"].to_numpy()
    assert ratio[0] == 0.8 and ratio[1] == 0.0 and math.isnan(ratio[2])


def test_vwap_session_and_window() -> None:
    ctx = GroupContext(tick_size=0.5)
    inp = _trades([(T0, 100.0, 1.0, 1), (T0 + S, 102.0, 3.0, -1), (T0 + 31 * M, 104.0, 1.0, 1)])
    df = _engine(ctx).run(inp, each="trade")
    # vwap (100 + 306) / 4 = 101.5, last 102 -> 1 tick; then session 510 / 5 = 102 -> 4 ticks
    assert df["vwap_dist_ticks"].to_list() == [0.0, 1.0, 4.0]
    assert df["vwap_30m_dist_ticks"].to_list() == [0.0, 1.0, 0.0]  # window holds 104 only


def test_session_reset_at_local_midnight() -> None:
    ctx = GroupContext(tick_size=1.0, session_offset_ns=-3 * 3600 * S)
    day = 1_700_006_400 * S  # 2023-11-15 00:00 UTC = 21:00 local the day before
    inp = _trades([(day + 2 * 3600 * S, 100.0, 2.0, 1), (day + 4 * 3600 * S, 110.0, 1.0, 1)])
    eng = _engine(ctx)
    df = eng.run(inp, each="trade")  # 23:00 and 01:00 local: two sessions
    assert df["cum_delta"].to_list() == [2.0, 1.0]
    assert df["vap_poc_dist_session"].to_list() == [0.0, 0.0]
    assert df["vwap_dist_ticks"].to_list() == [0.0, 0.0]
    nxt = eng.snapshot(day + 28 * 3600 * S)  # next local day, no trade yet
    assert nxt[eng.index("cum_delta")] == 0.0
    assert np.isnan(nxt[eng.index("vwap_dist_ticks")])
    assert np.isnan(nxt[eng.index("vap_skew_session")])


# ---------------------------------------------------------------- volume at price
def _vap_ref(ticks: list[int], qty: list[float], last: int, va: float) -> tuple[float, ...]:
    """Independent reference: POC / VAH / VAL distances and skew on one-tick bins."""
    vol: dict[int, float] = defaultdict(float)
    for x, q in zip(ticks, qty, strict=True):
        vol[x] += q
    lo, hi = min(vol), max(vol)
    best = max(vol.values())
    poc = min((abs(x - last), x) for x, v in vol.items() if v == best)[1]
    acc, up, dn, top, bot = best, poc + 1, poc - 1, poc, poc
    total = sum(vol.values())
    while acc < va * total:
        ups = [x for x in (up, up + 1) if x <= hi]
        dns = [x for x in (dn, dn - 1) if x >= lo]
        if not ups and not dns:
            break
        su, sd = sum(vol.get(x, 0.0) for x in ups), sum(vol.get(x, 0.0) for x in dns)
        if ups and (not dns or su >= sd):
            acc += su
            top = max([top] + [x for x in ups if vol.get(x, 0.0) > 0])
            up += 2
        if dns and (not ups or sd >= su):
            acc += sd
            bot = min([bot] + [x for x in dns if vol.get(x, 0.0) > 0])
            dn -= 2
    above = sum(v for x, v in vol.items() if x > poc)
    below = sum(v for x, v in vol.items() if x < poc)
    skew = (above - below) / (above + below) if above + below > 0 else 0.0
    return last - poc, last - top, last - bot, skew


VAP_SESSION = ("vap_poc_dist_session", "vap_vah_dist_session", "vap_val_dist_session",
               "vap_skew_session")  # fmt: skip


def _vap_session(ticks: list[int], qty: list[float], **params: Any) -> tuple[float, ...]:
    inp = _trades(
        [(T0 + k * S, float(x), q, 1) for k, (x, q) in enumerate(zip(ticks, qty, strict=True))]
    )
    eng = _engine(**params)
    eng.run(inp, at=np.zeros(0, dtype=np.int64))
    snap = eng.snapshot()
    return tuple(float(snap[eng.index(n)]) for n in VAP_SESSION)


def test_vap_poc_value_area_hand_case() -> None:
    # volume 98:1 99:4 100:5 101:11 102:3 103:2 (26); POC 101; 70 % = 18.2: the pair below
    # (100, 99) = 9 beats the pair above (102, 103) = 5 -> VA 99..101 holds 20; last 102
    ticks = [100, 101, 99, 103, 98, 101, 102]
    qty = [5.0, 10.0, 4.0, 2.0, 1.0, 1.0, 3.0]
    assert _vap_session(ticks, qty) == (1.0, 1.0, 3.0, -1.0 / 3.0)
    # POC tie (100: 5, 102: 5) -> closest to the last price; equidistant -> the lower
    assert _vap_session([100, 102], [5.0, 5.0])[0] == 0.0  # last 102 -> POC 102
    assert _vap_session([100, 102, 101], [5.0, 5.0, 1.0])[0] == 1.0  # last 101 -> POC 100
    # equal pairs above and below -> both join; empty bins never become VAH / VAL
    assert _vap_session([98, 99, 100, 101, 102], [1.0, 2.0, 10.0, 2.0, 1.0])[1:3] == (0.0, 4.0)
    assert _vap_session([97, 103, 100], [1.0, 3.0, 10.0], value_area=0.9)[1:3] == (-3.0, 0.0)


def test_vap_window_drops_old_trades_exactly() -> None:
    inp = _trades(
        [(T0, 100.0, 50.0, 1), (T0 + 31 * M, 105.0, 1.0, -1), (T0 + 32 * M, 104.0, 2.0, 1)]
    )
    df = _engine().run(inp, each="trade")
    assert df["vap_poc_dist_30m"].to_list() == [0.0, 0.0, 0.0]  # POC 100, 105, then 104
    assert df["vap_poc_dist_session"].to_list() == [0.0, 5.0, 4.0]  # session POC stays 100
    assert df["vap_vah_dist_30m"][2] == -1.0 and df["vap_val_dist_30m"][2] == 0.0
    eng = _engine()
    eng.run(inp, at=np.zeros(0, dtype=np.int64))
    assert np.isnan(eng.snapshot(T0 + 70 * M)[eng.index("vap_poc_dist_30m")])  # window empty


def test_vap_histogram_recentres_and_merges_bins() -> None:
    # 64 bins: a walk over 40 ticks re-centres (one-tick bins, the reference applies)
    walk = [1000 + k for k in range(40)] + [1039 - k for k in range(40)]
    q = [1.0 + (k % 3) for k in range(len(walk))]
    assert _vap_session(walk, q, vap_bins=64) == _vap_ref(walk, q, walk[-1], 0.7)
    # 101 ticks > 3/4 of 64 bins: bins merge to 4 ticks; centres 1001.5, 1049.5, 1101.5.
    # POC 1049.5 holds 4 of 6 < 4.2: pairs of empty bins join on both sides until the
    # pair reaching 1001.5 (volume 1) wins over the empty pair above -> VA 1001.5..1049.5
    wide = [1000, 1100, 1050, 1050]
    assert _vap_session(wide, [1.0, 1.0, 2.0, 2.0], vap_bins=64) == (0.5, 0.5, 48.5, 0.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 25), st.integers(1, 9)), min_size=1, max_size=40),
    st.sampled_from([0.5, 0.7, 1.0]),
)
def test_vap_session_matches_reference(rows: list[tuple[int, int]], va: float) -> None:
    ticks = [500 + x for x, _ in rows]
    qty = [float(q) for _, q in rows]
    got = _vap_session(ticks, qty, value_area=va)
    assert got == pytest.approx(_vap_ref(ticks, qty, ticks[-1], va), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 40), st.integers(1, 9)),
                min_size=1, max_size=40))  # fmt: skip
def test_vap_window_matches_reference(rows: list[tuple[int, int, int]]) -> None:
    # one-minute window over 64 bins: trades expire, bins shrink, empty and re-centre
    ts = np.cumsum([T0] + [gap * S for gap, _, _ in rows[1:]]).astype(np.int64)
    ticks = [1000 + x for _, x, _ in rows]
    qty = [float(q) for _, _, q in rows]
    sides = [1 - 2 * (q % 2) for q in qty]  # mixed aggressors: drains must use total qty
    rows4 = zip(ts, ticks, qty, sides, strict=True)
    inp = _trades([(int(t), float(x), q, int(sd)) for t, x, q, sd in rows4])
    df = _engine(vap_windows=(1,), vap_bins=64).run(inp, each="trade")
    names = ("vap_poc_dist_1m", "vap_vah_dist_1m", "vap_val_dist_1m")
    for r in range(len(rows)):
        inside = [k for k in range(r + 1) if ts[k] > ts[r] - M]
        ref = _vap_ref([ticks[k] for k in inside], [qty[k] for k in inside], ticks[r], 0.7)
        assert tuple(df[n][r] for n in names) == ref[:3]


# ---------------------------------------------------------------- real data
def test_b3_day_real_values() -> None:
    inp, ctx = _b3()
    eng = FeatureEngine(["flow"], ctx=ctx)
    at = inp.ts[[5000, 15000, inp.n - 1]]
    df = eng.run(inp, at=at)
    for r, k in enumerate([5000, 15000, inp.n - 1]):
        t = int(inp.ts[k])
        upto = inp.ts <= t
        w5 = upto & (inp.ts > t - 5 * M)
        assert df["delta_5m"][r] == float(np.sum((inp.qty * inp.side)[w5]))
        w30 = upto & (inp.ts > t - 30 * M)
        last = inp.price[np.flatnonzero(upto)[-1]]
        vw = np.sum((inp.price * inp.qty)[w30]) / np.sum(inp.qty[w30])
        assert df["vwap_30m_dist_ticks"][r] == pytest.approx((last - vw) / 0.5, abs=1e-6)
        ticks = np.round(inp.price[upto] / 0.5).astype(int).tolist()
        ref = _vap_ref(ticks, inp.qty[upto].tolist(), ticks[-1], 0.7)
        assert tuple(df[n][r] for n in VAP_SESSION) == pytest.approx(ref, abs=1e-9)
    vw_day = np.sum(inp.price * inp.qty) / np.sum(inp.qty)
    assert df["vwap_dist_ticks"][2] == pytest.approx((inp.price[-1] - vw_day) / 0.5, abs=1e-6)
    assert df["book_ofi_10s"].is_nan().all()  # trades only: the book features are undefined


def _cks_ref(lv: Array, levels: int) -> Array:
    """e_n per frame and level by the paper's formula, vectorised (row 0: NaN)."""
    px = lv[:, [0, 2], :levels]
    bt = np.where(np.isnan(px[:, 0]), -np.inf, np.round(px[:, 0] / 0.1))
    at = np.where(np.isnan(px[:, 1]), np.inf, np.round(px[:, 1] / 0.1))
    bq, aq = lv[:, 1, :levels], lv[:, 3, :levels]
    e = np.full(bq.shape, np.nan)
    e[1:] = (
        (bt[1:] >= bt[:-1]) * bq[1:] - (bt[1:] <= bt[:-1]) * bq[:-1]
        - (at[1:] <= at[:-1]) * aq[1:] + (at[1:] >= at[:-1]) * aq[:-1]
    )  # fmt: skip
    return e


def test_binance_book_ofi_matches_reference_and_explains_mid_moves() -> None:
    inp, ctx = _binance()
    eng = FeatureEngine(["flow"], ctx=ctx)
    df = eng.run(inp, every_ns=S)
    ts = df["ts"].cast(int).to_numpy()
    book = np.flatnonzero(inp.kind == 1)
    fts = inp.ts[book]
    frames = inp.lv[inp.brow[book]]
    e = _cks_ref(frames, 5)
    for r in range(0, ts.shape[0], 17):
        if np.count_nonzero(fts <= ts[r]) < 2:
            assert math.isnan(df["book_ofi_10s"][r])  # e_n needs two frames
            continue
        sel = (fts > ts[r] - 10 * S) & (fts <= ts[r])
        sel[0] = False
        assert df["book_ofi_10s"][r] == pytest.approx(np.sum(e[sel, 0]), abs=1e-6)
        assert df["mlofi_3_10s"][r] == pytest.approx(np.sum(e[sel, 2]), abs=1e-6)
        assert df["mlofi_sum_10s"][r] == pytest.approx(np.sum(e[sel]), abs=1e-6)
    mid = (frames[:, 0, 0] + frames[:, 2, 0]) / 2
    at = np.searchsorted(fts, ts, side="right") - 1
    before = np.searchsorted(fts, ts - 10 * S, side="right") - 1
    ok = before >= 0
    dmid = (mid[at] - mid[before])[ok]
    assert ok.sum() > 300
    # CKS: price changes are close to linear in OFI over the same interval
    assert np.corrcoef(df["book_ofi_10s"].to_numpy()[ok], dmid)[0, 1] > 0.5
    assert np.corrcoef(df["book_ofi_norm_10s"].to_numpy()[ok], dmid)[0, 1] > 0.5
    assert not np.isinf(df.drop("ts").to_numpy()).any()


def test_stream_equals_batch_on_binance_slice() -> None:
    inp, ctx = _binance()
    part = inp.slice(0, 4000)
    batch = FeatureEngine(["flow"], ctx=ctx).run(part, each="event").drop("ts").to_numpy()
    eng = FeatureEngine(["flow"], ctx=ctx)
    rows = []
    for k in range(part.n):
        t = int(part.ts[k])
        if part.kind[k] == 0:
            eng.update_trade(t, float(part.price[k]), float(part.qty[k]), int(part.side[k]))
        else:
            eng.update_book(t, part.lv[part.brow[k]])
        rows.append(eng.snapshot())
    assert np.array_equal(np.array(rows), batch, equal_nan=True)


# ---------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"ofi_windows": ()}, "ofi_windows"),
        ({"book_ofi_windows": (10, 10)}, "book_ofi_windows"),
        ({"book_ofi_norm_windows": (0,)}, "book_ofi_norm_windows"),
        ({"mlofi_windows": (2.5,)}, "mlofi_windows"),
        ({"mlofi_levels": 0}, "mlofi_levels"),
        ({"mlofi_levels": 11}, "mlofi_levels"),
        ({"delta_windows": (-5,)}, "delta_windows"),
        ({"aggr_windows": (True,)}, "aggr_windows"),
        ({"vwap_windows": (0,)}, "vwap_windows"),
        ({"vap_windows": (30, 30)}, "vap_windows"),
        ({"value_area": 0.0}, "value_area"),
        ({"value_area": 1.5}, "value_area"),
        ({"vap_bins": 16}, "vap_bins"),
    ],
)
def test_invalid_parameters_raise(params: dict[str, Any], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        FlowGroup(CTX1, **params)
    with pytest.raises(ConfigError, match=word):
        _engine(**params)


def test_default_catalogue_and_params() -> None:
    g = FlowGroup(CTX1)
    assert g.n_out == 40 and len(set(g.names)) == 40
    assert g.names[:16] == TEMPLATE
    prefixes = ("cum_delta", "ofi_", "book_ofi_", "mlofi_", "delta_", "aggr_", "vap_", "vwap")
    assert all(n.startswith(prefixes) for n in g.names)
    for d in g.docs():
        assert all(getattr(d, k) for k in d.__struct_fields__), d.name
    assert g.params()["vap_windows"] == (30,)
    assert "value_area=0.7" in repr(g)


def test_non_finite_trade_price_is_rejected() -> None:
    eng = _engine()
    with pytest.raises(ValueError, match="finite"):
        eng.update_trade(T0, math.nan, 1.0, 1)
