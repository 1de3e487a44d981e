"""Tape group: hand-computed cases, real-data references, parameter validation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.core import ConfigError
from quantumtrader.features.engine import FeatureEngine
from quantumtrader.features.group import GroupContext
from quantumtrader.features.groups import _tape_layout as layout
from quantumtrader.features.groups.tape import TapeGroup
from quantumtrader.features.inputs import FeatureInput
from quantumtrader.features.state import ensure_room
from quantumtrader.testing import b3_day_input, binance_input

Array = np.ndarray[Any, Any]
S = 1_000_000_000
MS = 1_000_000
T0 = 1_700_000_000 * S  # 2023-11-14 22:13:20 UTC
CTX = GroupContext(tick_size=0.5)


def _trades(rows: Sequence[tuple[float, ...]]) -> FeatureInput:
    """Rows ``(ts offset ns, price, qty, side[, buyer, seller])``."""
    a = np.array([(*r, -1, -1)[:6] for r in rows], dtype=np.float64)
    return FeatureInput.from_trades(
        T0 + a[:, 0].astype(np.int64), a[:, 1], a[:, 2], a[:, 3].astype(np.int8),
        a[:, 4].astype(np.int64), a[:, 5].astype(np.int64),
    )  # fmt: skip


def _run(
    inp: FeatureInput, at: Sequence[int], ctx: GroupContext = CTX, **params: Any
) -> dict[str, Array]:
    eng = FeatureEngine(groups=["tape"], ctx=ctx, params={"tape": params})
    df = eng.run(inp, at=T0 + np.asarray(at, dtype=np.int64))
    return {c: df[c].to_numpy() for c in df.columns[1:]}


def _b3() -> tuple[FeatureInput, GroupContext]:
    got = b3_day_input()
    if got is None:
        pytest.skip("B3 DOL day not found in ../shared/data (b3_dol_tt_20181105)")
    return got


def _binance() -> tuple[FeatureInput, GroupContext]:
    got = binance_input("usdm", "btcusdt")
    if got is None:
        pytest.skip("Binance sample not found in ../shared/data (binance_raw_l2_20240808)")
    return got


# ------------------------------------------------------------------ catalogue
def test_default_names_docs_and_count() -> None:
    g = TapeGroup(CTX)
    assert g.n_out == 30
    assert g.names[:6] == (
        "tape_trades_per_s_1s", "tape_trades_per_s_10s", "tape_trades_per_s_1m",
        "tape_contracts_per_s_1s", "tape_contracts_per_s_10s", "tape_contracts_per_s_1m",
    )  # fmt: skip
    assert g.names[-1] == "tape_broker_top5_net_session"
    assert "tape_vol_share_whale_5m" in g.names and "tape_iceberg_count_5m" in g.names
    assert len(set(g.names)) == 30
    for d in g.docs():
        assert d.name.startswith("tape_") and d.group == "tape"
        for field in ("description", "formula", "units", "window", "warmup", "reference"):
            assert getattr(d, field), (d.name, field)
    assert g.uses_book


def test_names_follow_parameters() -> None:
    g = TapeGroup(
        CTX, speed_windows_s=(2, 90), size_window_s=7200, signal_window_s=45,
        broker_window_s=600, broker_top_n=2, broker_share_n=4, broker_clusters={1: 9, 2: 3},
    )  # fmt: skip
    n = g.names
    assert n[:4] == (
        "tape_trades_per_s_2s", "tape_trades_per_s_90s",
        "tape_contracts_per_s_2s", "tape_contracts_per_s_90s",
    )  # fmt: skip
    assert "tape_large_ratio_2h" in n and "tape_sweeps_buy_45s" in n
    assert "tape_broker_top2_sellers_net_10m" in n and "tape_broker_top4_vol_share_session" in n
    assert n[-2:] == ("tape_broker_cluster3_net_session", "tape_broker_cluster9_net_session")
    assert g.n_out == 4 + 9 + 7 + 9
    assert TapeGroup(CTX).iceberg_min_qty == 200.0  # twice the whale bucket


@pytest.mark.parametrize(
    ("kw", "word"),
    [
        ({"speed_windows_s": ()}, "speed_windows_s"),
        ({"speed_windows_s": (1, 1)}, "distinct"),
        ({"speed_windows_s": (1.5,)}, "speed_windows_s"),
        ({"size_window_s": 0}, "size_window_s"),
        ({"signal_window_s": -5}, "signal_window_s"),
        ({"broker_window_s": True}, "broker_window_s"),
        ({"sweep_span_ms": -1}, "sweep_span_ms"),
        ({"sweep_min_levels": 0}, "sweep_min_levels"),
        ({"sweep_decay_ms": 1.0}, "sweep_decay_ms"),
        ({"iceberg_min_qty": 0.0}, "iceberg_min_qty"),
        ({"iceberg_min_qty": float("nan")}, "iceberg_min_qty"),
        ({"iceberg_gap_s": 0}, "iceberg_gap_s"),
        ({"max_broker_code": -1}, "max_broker_code"),
        ({"max_broker_code": 2_000_000}, "max_broker_code"),
        ({"broker_top_n": 0}, "broker_top_n"),
        ({"broker_share_n": 0}, "broker_share_n"),
        ({"broker_clusters": {}}, "broker_clusters"),
        ({"broker_clusters": {5000: 1}}, "broker_clusters"),
        ({"broker_clusters": {3: -1}}, "broker_clusters"),
    ],
)
def test_parameter_validation(kw: dict[str, Any], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        TapeGroup(CTX, **kw)


def test_bad_buckets_and_engine_wrapping() -> None:
    with pytest.raises(ValueError, match="size_buckets"):
        TapeGroup(GroupContext(tick_size=0.5, size_buckets=(5.0, 5.0, 50.0, 100.0)))
    with pytest.raises(ConfigError, match="tape"):
        FeatureEngine(groups=["tape"], ctx=CTX, params={"tape": {"size_window_s": 0}})


# ------------------------------------------------------------------ hand cases
def test_speed_windows_are_half_open() -> None:
    inp = _trades([(0, 100.0, 5, 1), (S // 2, 100.0, 10, -1), (S, 100.5, 15, 1),
                   (3 * S // 2, 100.0, 20, 0)])  # fmt: skip
    v = _run(inp, [S, 5 * S // 2], speed_windows_s=(1, 2))
    # t = 1 s: 1 s window (0, 1] holds the trades at 0.5 and 1 s (the one at 0 s left)
    np.testing.assert_array_equal(v["tape_trades_per_s_1s"], [2.0, 0.0])
    np.testing.assert_array_equal(v["tape_contracts_per_s_1s"], [25.0, 0.0])
    # 2 s window: (-1, 1] -> 3 trades / 2 s; at 2.5 s: (0.5, 2.5] -> the trades at 1, 1.5 s
    np.testing.assert_array_equal(v["tape_trades_per_s_2s"], [1.5, 1.0])
    np.testing.assert_array_equal(v["tape_contracts_per_s_2s"], [15.0, 17.5])


def test_size_buckets_shares_and_empty_window() -> None:
    qty = [5, 6, 20, 21, 75, 99, 100, 500]  # small, med, med, large x3 (75 is b2..b3), whale x2
    inp = _trades([(k * S, 100.0, q, 1 if k % 2 else -1) for k, q in enumerate(qty)])
    v = _run(inp, [7 * S, 7 * S + 301 * S])
    tot = 826.0
    exp_vol = {"small": 5 / tot, "medium": 26 / tot, "large": 195 / tot, "whale": 600 / tot}
    exp_cnt = {"small": 1 / 8, "medium": 2 / 8, "large": 3 / 8, "whale": 2 / 8}
    for b, share in exp_vol.items():
        assert v[f"tape_vol_share_{b}_5m"][0] == pytest.approx(share, rel=1e-15)
        assert v[f"tape_count_share_{b}_5m"][0] == pytest.approx(exp_cnt[b], rel=1e-15)
        assert np.isnan(v[f"tape_vol_share_{b}_5m"][1])
        assert np.isnan(v[f"tape_count_share_{b}_5m"][1])
    assert v["tape_large_ratio_5m"][0] == pytest.approx(795 / tot, rel=1e-15)
    assert np.isnan(v["tape_large_ratio_5m"][1])
    assert v["tape_trades_per_s_1m"][1] == 0.0


def test_sweep_runs_levels_direction_and_counts() -> None:
    inp = _trades([
        (0, 100.0, 5, 1), (100 * MS, 100.0, 5, 1),
        (200 * MS, 99.0, 50, 0),  # no aggressor: neither extends nor breaks the run
        (300 * MS, 100.5, 5, 1), (400 * MS, 101.0, 10, 1),  # walked 2 ticks: buy sweep
        (450 * MS, 101.5, 5, 1),  # same run, walked 3, not counted again
        (600 * MS, 102.0, 5, 1),  # 600 ms after the run's first print: a new run
        (10 * S, 100.0, 5, -1), (10 * S + 100 * MS, 99.5, 5, -1),
        (10 * S + 200 * MS, 100.0, 5, -1),  # against the sell side: new run at 100.0
        (10 * S + 300 * MS, 99.5, 5, -1), (10 * S + 400 * MS, 99.0, 5, -1),  # sell sweep
    ])  # fmt: skip
    at = [300 * MS, 400 * MS, 450 * MS, 600 * MS, 1200 * MS, 5450 * MS, 5451 * MS,
          10 * S + 150 * MS, 10 * S + 400 * MS]  # fmt: skip
    v = _run(inp, at)
    np.testing.assert_array_equal(v["tape_sweep_run_levels"], [1, 2, 3, 0, 0, 0, 0, -1, -2])
    np.testing.assert_array_equal(v["tape_sweep_dir"], [0, 1, 1, 1, 1, 1, 0, 0, -1])
    np.testing.assert_array_equal(v["tape_sweeps_buy_5m"], [0, 1, 1, 1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(v["tape_sweeps_sell_5m"], [0, 0, 0, 0, 0, 0, 0, 0, 1])
    later = _run(inp, [400 * MS + 300 * S - 1, 400 * MS + 300 * S])  # (t - 5m, t] drops it
    np.testing.assert_array_equal(later["tape_sweeps_buy_5m"], [1, 0])


def test_iceberg_trades_only_episodes() -> None:
    inp = _trades([
        (0, 100.0, 10, -1), (S, 100.0, 10, -1),
        (2 * S, 100.5, 5, 1),  # lifts the ask: does not touch the bid episode
        (3 * S, 100.0, 10, -1),  # bid absorbed 30 >= 30: detection, 30 credited
        (4 * S, 100.0, 5, -1),  # +5
        (5 * S, 99.5, 5, 1),  # trades through the bid: episode over
        (6 * S, 100.0, 40, -1),  # new episode, 40 >= 30: second detection
        (40 * S, 100.0, 30, -1),  # 34 s after the last fill (gap 30 s): third detection
    ])  # fmt: skip
    v = _run(inp, [2 * S, 3 * S, 4 * S, 6 * S, 40 * S], iceberg_min_qty=30.0)
    np.testing.assert_array_equal(v["tape_iceberg_bid_qty_5m"], [0, 30, 35, 75, 105])
    np.testing.assert_array_equal(v["tape_iceberg_count_5m"], [0, 1, 1, 2, 3])
    np.testing.assert_array_equal(v["tape_iceberg_ask_qty_5m"], [0, 0, 0, 0, 0])


def _book_input(events: list[tuple[int, Any]], k: int = 10) -> FeatureInput:
    """Events ``(ts offset, ("trade", price, qty, side) | ("book", bids, asks))``."""
    frames, kind, ts, price, qty, side, brow = [], [], [], [], [], [], []
    for t, ev in events:
        ts.append(T0 + t)
        if ev[0] == "trade":
            kind.append(0), price.append(ev[1]), qty.append(ev[2]), side.append(ev[3])
            brow.append(-1)
            continue
        lv = np.full((4, k), np.nan)
        lv[1] = lv[3] = 0.0
        for row, levels in ((0, ev[1]), (2, ev[2])):
            for j, (p, s) in enumerate(levels):
                lv[row, j], lv[row + 1, j] = p, s
        kind.append(1), price.append(np.nan), qty.append(0.0), side.append(0)
        brow.append(len(frames))
        frames.append(lv)
    n = len(ts)
    return FeatureInput(
        kind=np.array(kind), ts=np.array(ts), price=np.array(price), qty=np.array(qty),
        side=np.array(side), buyer=np.full(n, -1), seller=np.full(n, -1),
        brow=np.array(brow), lv=np.array(frames),
    )  # fmt: skip


def test_iceberg_with_book_excess_and_refill() -> None:
    bids = [(100.0, 10.0), (99.5, 20.0)]
    asks = [(100.5, 8.0), (101.0, 30.0)]
    inp = _book_input([
        (0, ("book", bids, asks)),
        (1 * S, ("trade", 100.0, 6.0, -1)),  # within the displayed 10: nothing hidden
        (2 * S, ("trade", 100.0, 6.0, -1)),  # 12 filled > 10 displayed: 2 hidden
        (2 * S + S // 2, ("trade", 100.5, 20.0, 1)),  # 20 > 8 displayed: 12 hidden -> iceberg
        (3 * S, ("book", bids, asks)),  # bid refilled to 10: +min(12, 10 - 0) = 10 -> H = 12
        (4 * S, ("trade", 100.0, 4.0, -1)),  # within 10 displayed
        (5 * S, ("book", [(100.0, 9.0), (99.5, 20.0)], asks)),  # refill min(4, 9 - 6) = 3
        (6 * S, ("book", [(99.5, 20.0)], [(101.0, 30.0)])),  # both levels gone: episodes end
        (7 * S, ("trade", 100.0, 50.0, -1)),  # level not displayed: no estimate
    ])  # fmt: skip
    # ask refill at 3 s: min(20, 8 - max(8 - 20, 0)) = 8 -> ask H = 20
    v = _run(inp, [2 * S, 2 * S + S // 2, 3 * S, 5 * S, 7 * S], iceberg_min_qty=12.0)
    np.testing.assert_array_equal(v["tape_iceberg_bid_qty_5m"], [0, 0, 12, 15, 15])
    np.testing.assert_array_equal(v["tape_iceberg_ask_qty_5m"], [0, 12, 20, 20, 20])
    np.testing.assert_array_equal(v["tape_iceberg_count_5m"], [0, 1, 2, 2, 2])


BROKER_ROWS = [
    (0, 100.0, 10, 1, 1, 2),  # broker 1 buys 10 aggressively
    (S, 100.0, 20, -1, 3, 1),  # broker 1 sells 20 aggressively
    (2 * S, 100.0, 5, 1, 2, 3),  # broker 2 buys 5
    (3 * S, 100.0, 7, 0, 4, 4),  # direct trade: volume only
    (4 * S, 100.0, 8, 1, -1, 5),  # unknown aggressor: ignored (seller 5 gets volume)
    (5 * S, 100.0, 6, -1, 2, 150),  # code 150 > max_broker_code: the "other" slot sells 6
]
BROKER_KW: dict[str, Any] = {"max_broker_code": 100, "broker_top_n": 2, "broker_share_n": 2,
                             "broker_window_s": 60}  # fmt: skip


def test_broker_concentration_top_n_and_windows() -> None:
    inp = _trades(BROKER_ROWS)
    day = 86_400 * S
    v = _run(inp, [5 * S, 61 * S + S // 2, 200 * S, day + 2 * 3600 * S], **BROKER_KW)
    hhi = 961 / 1681  # aggressive volumes 30, 5, 6 over 41
    np.testing.assert_allclose(v["tape_broker_hhi_session"][:3], hhi, rtol=1e-15)
    np.testing.assert_allclose(v["tape_broker_hhi_1m"][:2], [hhi, 61 / 121], rtol=1e-15)
    np.testing.assert_array_equal(v["tape_broker_top2_buyers_net_session"][:3], 5.0)
    np.testing.assert_array_equal(v["tape_broker_top2_sellers_net_session"][:3], -16.0)
    np.testing.assert_array_equal(v["tape_broker_top2_buyers_net_1m"][:2], [5.0, 5.0])
    np.testing.assert_array_equal(v["tape_broker_top2_sellers_net_1m"][:2], [-16.0, -6.0])
    # volume (both sides): b1 30, b3 25, b2 21, b4 14, b5 8, other 6 -> top 2 = 55 of 104
    np.testing.assert_allclose(v["tape_broker_top2_vol_share_session"][:3], 55 / 104)
    np.testing.assert_array_equal(v["tape_broker_top2_net_session"][:3], -10.0)  # b1 + b3
    for name in ("hhi_1m", "top2_buyers_net_1m", "top2_sellers_net_1m"):
        assert np.isnan(v[f"tape_broker_{name}"][2])  # the window is empty at 200 s
    for name in ("hhi_session", "top2_vol_share_session", "top2_net_session"):
        assert np.isnan(v[f"tape_broker_{name}"][3])  # a new session without prints


def test_broker_clusters_and_slot_counters() -> None:
    inp = _trades(BROKER_ROWS)
    v = _run(inp, [5 * S], broker_clusters={1: 7, 2: 7, 3: 9}, **BROKER_KW)
    assert v["tape_broker_cluster7_net_session"][0] == -5.0  # b1 -10, b2 +5
    assert v["tape_broker_cluster9_net_session"][0] == 0.0  # b3 never aggressed
    assert "tape_broker_top2_net_session" not in v
    g = TapeGroup(CTX, **BROKER_KW)
    f, i = ensure_room(g.new_state(), len(BROKER_ROWS))
    for t, p, q, s, b, sl in BROKER_ROWS:
        g.trade(f, i, T0 + t, p, float(q), s, b, sl)
    assert i[layout.I_N_UNKNOWN] == 1 and i[layout.I_N_OTHER] == 1  # counted, never dropped
    out = np.empty(g.n_out)
    g.emit(f, i, T0 + 5 * S, out)
    again = np.empty(g.n_out)
    g.emit(f, i, T0 + 5 * S, again)
    np.testing.assert_array_equal(out, again)


def test_session_reset_of_broker_state() -> None:
    rows = [*BROKER_ROWS, (86_400 * S, 100.0, 4, 1, 3, 1)]  # next UTC day: broker 3 buys 4
    v = _run(_trades(rows), [86_400 * S], **BROKER_KW)
    assert v["tape_broker_hhi_session"][0] == 1.0
    assert v["tape_broker_top2_buyers_net_session"][0] == 4.0
    assert v["tape_broker_top2_sellers_net_session"][0] == 0.0
    assert v["tape_broker_top2_vol_share_session"][0] == 1.0  # b1 and b3, 4 each
    assert v["tape_broker_top2_net_session"][0] == 4.0


# ------------------------------------------------------------------ real data
def _session_broker_reference(inp: FeatureInput, upto: int, n: int) -> dict[str, float]:
    """Session broker features after the first ``upto`` prints, recomputed with numpy."""
    side, qty = inp.side[:upto], inp.qty[:upto]
    agg = np.where(side > 0, inp.buyer[:upto], np.where(side < 0, inp.seller[:upto], -1))
    m = int(max(inp.buyer.max(), inp.seller.max())) + 1
    ok = agg >= 0
    buy = np.bincount(agg[ok & (side > 0)], qty[ok & (side > 0)], minlength=m)
    sell = np.bincount(agg[ok & (side < 0)], qty[ok & (side < 0)], minlength=m)
    vol = np.bincount(inp.buyer[:upto], qty, minlength=m) + np.bincount(
        inp.seller[:upto], qty, minlength=m
    )
    a = buy + sell
    net = buy - sell
    top = np.lexsort((np.arange(m), -vol))[:5]
    return {
        "hhi": float(np.sum((a / a.sum()) ** 2)),
        "buyers": float(np.sort(net[net > 0])[::-1][:n].sum()),
        "sellers": float(np.sort(net[net < 0])[:n].sum()),
        "share": float(vol[top].sum() / vol.sum()),
        "top_net": float(net[top].sum()),
    }


def test_b3_day_speeds_and_brokers_match_numpy() -> None:
    inp, ctx = _b3()
    rng = np.random.default_rng(7)
    at = np.sort(rng.choice(inp.ts[100:], 40, replace=False) + rng.integers(0, S, 40))
    eng = FeatureEngine(groups=["tape"], ctx=ctx)
    df = eng.run(inp, at=at)
    for w, tag in ((1, "1s"), (10, "10s"), (60, "1m")):
        lo = np.searchsorted(inp.ts, at - w * S, side="right")
        hi = np.searchsorted(inp.ts, at, side="right")
        cs = np.concatenate([[0.0], np.cumsum(inp.qty)])
        np.testing.assert_array_equal(df[f"tape_trades_per_s_{tag}"].to_numpy(), (hi - lo) / w)
        np.testing.assert_allclose(
            df[f"tape_contracts_per_s_{tag}"].to_numpy(), (cs[hi] - cs[lo]) / w, rtol=1e-12
        )
    hi = np.searchsorted(inp.ts, at, side="right")
    for k in (0, 17, 39):
        ref = _session_broker_reference(inp, int(hi[k]), 3)
        row = df.row(k, named=True)
        assert row["tape_broker_hhi_session"] == pytest.approx(ref["hhi"], rel=1e-12)
        assert row["tape_broker_top3_buyers_net_session"] == ref["buyers"]
        assert row["tape_broker_top3_sellers_net_session"] == ref["sellers"]
        assert row["tape_broker_top5_vol_share_session"] == pytest.approx(ref["share"], rel=1e-12)
        assert row["tape_broker_top5_net_session"] == ref["top_net"]
    hhi = df["tape_broker_hhi_5m"].to_numpy()
    assert np.all((hhi > 0) & (hhi <= 1))
    assert np.all(df["tape_broker_top3_buyers_net_5m"].to_numpy() >= 0)
    assert np.all(df["tape_broker_top3_sellers_net_5m"].to_numpy() <= 0)
    shares = sum(df[f"tape_vol_share_{b}_5m"].to_numpy() for b in ("small", "medium", "large",
                                                                    "whale"))  # fmt: skip
    np.testing.assert_allclose(shares, 1.0, rtol=1e-12)
    np.testing.assert_allclose(
        df["tape_large_ratio_5m"].to_numpy(),
        df["tape_vol_share_large_5m"].to_numpy() + df["tape_vol_share_whale_5m"].to_numpy(),
        rtol=1e-12,
    )


def test_b3_day_cluster_nets_add_up_to_the_aggressive_delta() -> None:
    inp, ctx = _b3()
    codes = np.unique(np.concatenate([inp.buyer, inp.seller]))
    clusters = {int(c): int(c) % 3 for c in codes}
    eng = FeatureEngine(groups=["tape"], ctx=ctx, params={"tape": {"broker_clusters": clusters}})
    df = eng.run(inp, every_ns=600 * S)
    total = sum(df[f"tape_broker_cluster{c}_net_session"].to_numpy() for c in range(3))
    delta = np.cumsum(inp.qty * inp.side)
    hi = np.searchsorted(inp.ts, df["ts"].dt.epoch("ns").to_numpy(), side="right")
    assert np.all(inp.buyer >= 0) and np.all(inp.seller >= 0)  # every B3 print is attributed
    np.testing.assert_array_equal(total, delta[hi - 1])
    assert total[-1] == 119_000 - 119_800  # SOURCE.md: buyer- minus seller-initiated contracts


def _sweep_reference(p: Array, t: Array, s: Array, *, tick: float, span: int, m: int) -> list[int]:
    counts = [0, 0]
    run_side, first, last, t0, done = 0, 0, 0, 0, False
    for k in range(p.shape[0]):
        sk, tk, pk = int(s[k]), int(t[k]), round(float(p[k]) / tick)
        if sk == 0:
            continue
        if sk == run_side and tk - t0 <= span and (pk - last) * sk >= 0:
            last = pk
        else:
            run_side, first, last, t0, done = sk, pk, pk, tk, False
        if (last - first) * run_side >= m and not done:
            done = True
            counts[0 if run_side > 0 else 1] += 1
    return counts


def _iceberg_reference(p: Array, t: Array, q: Array, s: Array, *, gap: int, m: float) -> float:
    """Trades-only rule: total quantity credited to icebergs (both sides)."""
    act, px, last, vol, flag = [False, False], [0.0, 0.0], [0, 0], [0.0, 0.0], [False, False]
    credited = 0.0
    for k in range(p.shape[0]):
        if act[0] and p[k] < px[0]:
            act[0] = False
        if act[1] and p[k] > px[1]:
            act[1] = False
        if s[k] == 0:
            continue
        j = 0 if s[k] < 0 else 1
        if not (act[j] and px[j] == p[k] and t[k] - last[j] <= gap):
            act[j], px[j], vol[j], flag[j] = True, p[k], 0.0, False
        last[j] = t[k]
        vol[j] += q[k]
        if flag[j]:
            credited += q[k]
        elif vol[j] >= m:
            flag[j] = True
            credited += vol[j]
    return credited


def test_b3_day_sweeps_and_icebergs_match_python_reference() -> None:
    inp, ctx = _b3()
    params = {"signal_window_s": 86_400}
    df = FeatureEngine(groups=["tape"], ctx=ctx, params={"tape": params}).run(
        inp, at=np.array([inp.ts[-1]])
    )
    row = df.row(0, named=True)
    buy, sell = _sweep_reference(inp.price, inp.ts, inp.side, tick=0.5, span=500 * MS, m=2)
    assert (row["tape_sweeps_buy_24h"], row["tape_sweeps_sell_24h"]) == (buy, sell)
    assert buy > 10 and sell > 10
    ice = _iceberg_reference(inp.price, inp.ts, inp.qty, inp.side, gap=30 * S, m=200.0)
    got = row["tape_iceberg_bid_qty_24h"] + row["tape_iceberg_ask_qty_24h"]
    assert got == ice and ice > 0


@pytest.mark.parametrize("data", ["b3", "binance"])
def test_stream_equals_batch_on_real_slices(data: str) -> None:
    inp, ctx = _b3() if data == "b3" else _binance()
    part = inp.slice(0, 3000)
    batch = FeatureEngine(groups=["tape"], ctx=ctx).run(part, each="event").drop("ts")
    live = FeatureEngine(groups=["tape"], ctx=ctx)
    rows = np.empty(batch.shape)
    for e in range(part.n):
        t = int(part.ts[e])
        if part.kind[e] == 0:
            live.update_trade(t, float(part.price[e]), float(part.qty[e]), int(part.side[e]),
                              int(part.buyer[e]), int(part.seller[e]))  # fmt: skip
        else:
            live.update_book(t, part.lv[part.brow[e]])
        rows[e] = live.snapshot()
    np.testing.assert_array_equal(rows, batch.to_numpy())  # bit for bit, NaN where NaN
    assert np.isfinite(rows[:, -8:]).any() == (data == "b3")  # broker codes only on B3


def test_binance_book_mode_values() -> None:
    inp, ctx = _binance()
    full = FeatureEngine(groups=["tape"], ctx=ctx).run(inp, every_ns=S)
    names = [c for c in full.columns[1:] if not c.startswith("tape_broker_")]
    assert np.isfinite(full.select(names).to_numpy()).all()  # the windows never run dry
    assert full["tape_iceberg_count_5m"].max() > 0  # book-rule detections on real frames
    assert (full["tape_iceberg_bid_qty_5m"].to_numpy() >= 0).all()
    brokers = full.select([c for c in full.columns if c.startswith("tape_broker_")]).to_numpy()
    assert np.isnan(brokers).all()  # Binance prints carry no broker codes
    tr = inp.kind == 0
    buy, sell = _sweep_reference(
        inp.price[tr], inp.ts[tr], inp.side[tr], tick=0.1, span=500 * MS, m=2
    )
    end = FeatureEngine(groups=["tape"], ctx=ctx, params={"tape": {"signal_window_s": 3600}})
    row = end.run(inp, at=np.array([inp.ts[-1]])).row(0, named=True)
    assert (row["tape_sweeps_buy_1h"], row["tape_sweeps_sell_1h"]) == (buy, sell)
    assert buy > 50 and sell > 50


CODES = st.sampled_from([-1, 0, 1, 2, 3, 4, 5, 6, 5000])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 800), st.integers(-2, 2), st.sampled_from([5, 10, 20, 50, 300]),
                  st.sampled_from([-1, 0, 1]), CODES, CODES),
        min_size=1, max_size=60,
    )
)  # fmt: skip
def test_invariants_and_references_on_random_tapes(rows: list[tuple[int, ...]]) -> None:
    t, px, out = 0, 200, []
    for dt, move, q, side, b, s in rows:
        t += dt * MS
        px += move
        out.append((t, px * 0.5, q, side, b, s))
    inp = _trades(out)
    clusters = {0: 0, 1: 0, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2}
    params = {"max_broker_code": 10, "broker_clusters": clusters, "iceberg_min_qty": 30.0,
              "signal_window_s": 3600}  # fmt: skip
    df = FeatureEngine(groups=["tape"], ctx=CTX, params={"tape": params}).run(inp, each="trade")
    last = df.row(-1, named=True)
    buy, sell = _sweep_reference(inp.price, inp.ts, inp.side, tick=0.5, span=500 * MS, m=2)
    assert (last["tape_sweeps_buy_1h"], last["tape_sweeps_sell_1h"]) == (buy, sell)
    ice = _iceberg_reference(inp.price, inp.ts, inp.qty, inp.side, gap=30 * S, m=30.0)
    assert last["tape_iceberg_bid_qty_1h"] + last["tape_iceberg_ask_qty_1h"] == ice
    shares = sum(df[f"tape_vol_share_{b}_5m"].to_numpy() for b in ("small", "medium", "large",
                                                                    "whale"))  # fmt: skip
    np.testing.assert_allclose(shares, 1.0, rtol=1e-12)
    for span in ("session", "5m"):
        hhi = df[f"tape_broker_hhi_{span}"].to_numpy()
        assert np.all(np.isnan(hhi) | ((hhi > 0) & (hhi <= 1 + 1e-12)))
        assert not np.any(df[f"tape_broker_top3_buyers_net_{span}"].to_numpy() < 0)
        assert not np.any(df[f"tape_broker_top3_sellers_net_{span}"].to_numpy() > 0)
    agg = np.where(inp.side > 0, inp.buyer, np.where(inp.side < 0, inp.seller, -1))
    mapped = (agg >= 0) & (agg <= 6)
    delta = float(np.sum(inp.qty[mapped] * inp.side[mapped]))
    nets = [last[f"tape_broker_cluster{c}_net_session"] for c in range(3)]
    if np.any(agg >= 0):
        assert sum(nets) == delta
    else:
        assert np.isnan(nets).all()
