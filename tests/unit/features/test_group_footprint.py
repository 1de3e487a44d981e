"""Footprint group: a hand-computed 2-bar tape, row merging, a reference on real data, params."""

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
from quantumtrader.features.groups import FootprintGroup
from quantumtrader.features.groups.footprint import F_ROWS, I_NCOARSE
from quantumtrader.features.inputs import FeatureInput
from quantumtrader.testing import b3_day_input, binance_input

Array = np.ndarray[Any, Any]
S = 1_000_000_000
NS_DAY = 86_400 * S
CUR = ["fp_delta_1m", "fp_volume_1m", "fp_delta_pct_1m", "fp_poc_pos_1m"]
PREV = [
    "delta", "volume", "level_delta_max", "level_delta_min", "poc_pos", "imb_buy",
    "imb_sell", "stack_buy", "stack_sell", "stacked", "unfinished_high", "unfinished_low",
    "absorption", "exhaustion", "reversal", "continuation",
]  # fmt: skip
PREV_NAMES = [f"fp_prev_{p}_1m" for p in PREV]

# bar 0 (tick 1.0): rows 100..104, opens at 100, closes at 103 (up bar)
#   row  A   B     buy imb: A(r) >= 3 B(r-1)   sell imb: B(r) >= 3 A(r+1)
#   104  1   0     1 >= 9 no                    (no partner)
#   103 20   3     20 >= 15 yes                 3 >= 3 yes
#   102 15   5     15 >= 12 yes                 5 >= 60 no
#   101 30   4     30 >= 30 yes                 4 >= 45 no
#   100  2  10     (no partner)                 10 >= 90 no
# bar 1: rows 98..102, opens at 102, closes at 98 (down bar with positive delta)
#   102  4   6     -                            (no partner), both sides: unfinished high
#   101  1  18     no                           18 >= 12 yes
#   100  2   9     no                           9 >= 3 yes
#    99  3   6     no                           6 >= 6 yes
#    98 60   9     (no partner)                 9 >= 9 yes, both sides: unfinished low
TAPE = [
    (1, 100.0, 2, 1), (2, 100.0, 10, -1), (3, 101.0, 30, 1), (4, 101.0, 4, -1),
    (5, 102.0, 15, 1), (6, 102.0, 5, -1), (7, 104.0, 1, 1), (8, 103.0, 3, -1),
    (9, 103.0, 20, 1), (10, 110.0, 50, 0),  # a cross trade: no aggressor, ignored
    (61, 102.0, 4, 1), (62, 102.0, 6, -1), (63, 101.0, 1, 1), (64, 101.0, 18, -1),
    (65, 100.0, 2, 1), (66, 100.0, 9, -1), (67, 99.0, 3, 1), (68, 99.0, 6, -1),
    (69, 98.0, 9, -1), (70, 98.0, 60, 1),
]  # fmt: skip
BAR0 = {
    "delta": 46.0, "volume": 90.0, "level_delta_max": 26.0, "level_delta_min": -8.0,
    "poc_pos": 0.25, "imb_buy": 3, "imb_sell": 1, "stack_buy": 3, "stack_sell": 1,
    "stacked": 1, "unfinished_high": 0, "unfinished_low": 1,
    # s_bot = 10/10 * (103-100)/4 = 0.75 beats s_top = 1/30 * 1/4
    "absorption": 0.75,
    # v_avg = 90 / 5 = 18; e_hi = 1 - 1 / (18 * 0.25); e_lo = 0 (12 > 4.5)
    "exhaustion": -(1 - 1 / 4.5),
    # up bar, delta agrees (no divergence): -max(0, e_hi, s_top)
    "reversal": -(1 - 1 / 4.5),
    # buy stack 3 >= 3: 0.5 * (min(1, 3/6) + 46/90)
    "continuation": 0.5 * (0.5 + 46 / 90),
}  # fmt: skip
BAR1 = {
    "delta": 22.0, "volume": 118.0, "level_delta_max": 51.0, "level_delta_min": -17.0,
    "poc_pos": 0.0, "imb_buy": 0, "imb_sell": 4, "stack_buy": 0, "stack_sell": 4,
    "stacked": -1, "unfinished_high": 1, "unfinished_low": 1,
    # s_top = 4/60 * (102-98)/4; s_bot = 9/18 * 0
    "absorption": -4 / 60,
    # v_avg = 23.6: e_hi = 1 - 10/5.9 < 0, e_lo = 1 - 69/5.9 < 0
    "exhaustion": 0.0,
    # down bar with positive delta: divergence 22/118, reversal points up
    "reversal": 22 / 118,
    # sell stack 4: -(0.5 * (4/6 + max(0, -22/118)))
    "continuation": -0.5 * (4 / 6),
}  # fmt: skip


def _tape_input(tape: list[tuple[int, float, float, int]]) -> FeatureInput:
    ts, price, qty, side = zip(*tape, strict=True)
    return FeatureInput.from_trades(
        np.asarray(ts, dtype=np.int64) * S, np.asarray(price), np.asarray(qty, dtype=float),
        np.asarray(side, dtype=np.int8),
    )  # fmt: skip


def _row(df: Any, k: int) -> dict[str, float]:
    return {c: float(df[c][k]) for c in df.columns if c != "ts"}


def _check_prev(row: dict[str, float], want: dict[str, float]) -> None:
    for key, val in want.items():
        assert row[f"fp_prev_{key}_1m"] == pytest.approx(val, rel=1e-12, abs=1e-15), key


def test_names_and_docs() -> None:
    g = FootprintGroup(GroupContext(tick_size=0.5))
    assert g.names == (*CUR, *PREV_NAMES)
    assert g.n_out == 20
    for d in g.docs():
        assert d.group == "footprint" and d.inputs == "trades"
        assert all(getattr(d, k) for k in d.__struct_fields__), d.name
        assert "NaN" in d.warmup or d.name in CUR[:2]
    assert FootprintGroup(GroupContext(tick_size=1.0), bar_seconds=300).names[0] == "fp_delta_5m"
    assert FootprintGroup(GroupContext(tick_size=1.0), bar_seconds=30).names[1] == "fp_volume_30s"
    assert FootprintGroup(GroupContext(tick_size=1.0), bar_seconds=3600).names[0] == "fp_delta_1h"


def test_hand_two_bar_tape() -> None:
    eng = FeatureEngine(["footprint"], tick_size=1.0)
    at = np.asarray([0, 4, 9, 10, 60, 125, NS_DAY // S + 5], dtype=np.int64) * S
    df = eng.run(_tape_input(TAPE), at=at)
    empty, mid, end0, after_cross, bar1_open, gap, next_day = (_row(df, k) for k in range(7))
    # nothing yet: zeros and NaN, no closed bar
    assert (empty["fp_delta_1m"], empty["fp_volume_1m"]) == (0.0, 0.0)
    assert math.isnan(empty["fp_delta_pct_1m"]) and math.isnan(empty["fp_poc_pos_1m"])
    assert all(math.isnan(empty[n]) for n in PREV_NAMES)
    # after 4 trades: rows 100 (A2 B10), 101 (A30 B4): POC 101 = the high
    assert (mid["fp_delta_1m"], mid["fp_volume_1m"]) == (18.0, 46.0)
    assert mid["fp_delta_pct_1m"] == pytest.approx(18 / 46)
    assert mid["fp_poc_pos_1m"] == 1.0
    # end of bar 0: POC 101 in 100..104; the side-0 print at 110 changes nothing
    for row in (end0, after_cross):
        assert (row["fp_delta_1m"], row["fp_volume_1m"], row["fp_poc_pos_1m"]) == (46, 90, 0.25)
    # t = 60 s: bar 0 closed by the sample itself, bar 1 empty
    assert (bar1_open["fp_delta_1m"], bar1_open["fp_volume_1m"]) == (0.0, 0.0)
    assert math.isnan(bar1_open["fp_poc_pos_1m"])
    _check_prev(bar1_open, BAR0)
    # t = 125 s: bar 1 closed by the sample (no later trade)
    _check_prev(gap, BAR1)
    # next session: the closed bar belongs to yesterday
    assert all(math.isnan(next_day[n]) for n in PREV_NAMES)


def test_hand_tape_closed_by_trade_and_stream() -> None:
    """A trade in the next bar closes the bar like a sample does; stream == batch."""
    tape = [*TAPE, (130, 97.0, 5, -1)]
    eng = FeatureEngine(["footprint"], tick_size=1.0)
    df = eng.run(_tape_input(tape), each="trade")
    last = _row(df, len(tape) - 1)
    _check_prev(last, BAR1)
    assert (last["fp_delta_1m"], last["fp_volume_1m"], last["fp_poc_pos_1m"]) == (-5, 5, 0.5)
    s = FeatureEngine(["footprint"], tick_size=1.0)
    rows = []
    for t, p, q, sd in tape:
        s.update_trade(t * S, p, float(q), sd)
        rows.append(s.snapshot())
    assert np.array_equal(np.asarray(rows), df.drop("ts").to_numpy(), equal_nan=True)


def test_rows_merge_when_the_bar_is_too_wide() -> None:
    """max_rows 16: ticks 100 and 140 span 41 rows -> 21 at 2 ticks -> 11 at 4 ticks."""
    tape = [(1, 100.0, 5, 1), (2, 140.0, 7, -1), (3, 103.0, 1, 1), (61, 100.0, 1, 1)]
    eng = FeatureEngine(["footprint"], tick_size=1.0, params={"footprint": {"max_rows": 16}})
    df = eng.run(_tape_input(tape), at=np.asarray([3 * S, 61 * S]))
    assert _row(df, 0)["fp_poc_pos_1m"] == 1.0  # merged while open
    row = _row(df, 1)
    # rows of 4 ticks: 25 (ticks 100, 103: A 6) and 35 (tick 140: B 7); POC 35 = the high
    _check_prev(row, {
        "delta": -1.0, "volume": 13.0, "level_delta_max": 6.0, "level_delta_min": -7.0,
        "poc_pos": 1.0, "imb_buy": 0, "imb_sell": 0, "unfinished_high": 0,
        "unfinished_low": 0,
    })  # fmt: skip
    assert (row["fp_delta_1m"], row["fp_volume_1m"], row["fp_poc_pos_1m"]) == (1, 1, 0.5)
    f, i = eng._states[0]
    assert i[I_NCOARSE] == 2  # two doublings
    # the closed bar's rows were cleared: only the new bar's tick 100 (A 1) is held
    assert np.flatnonzero(f[F_ROWS : F_ROWS + 2 * 16]).tolist() == [2 * (100 % 16)]


# --------------------------------------------------------------------- reference
def _reference_bars(
    inp: FeatureInput,
    ctx: GroupContext,
    *,
    ratio: float = 3.0,
    min_volume: float = 0.0,
    min_stack: int = 3,
    exhaustion_ratio: float = 0.25,
    row_ticks: int = 1,
    max_rows: int = 2048,
    bar_seconds: int = 60,
) -> list[tuple[int, int, int, list[float]]]:
    """Plain-Python footprint: ``(bar, day, end_ns, values)`` per bar with aggressor trades."""
    bar_ns = bar_seconds * S
    keep = (inp.kind == 0) & (inp.side != 0)
    ts, px, q, sd = inp.ts[keep], inp.price[keep], inp.qty[keep], inp.side[keep]
    ticks = np.floor(px / ctx.tick_size + 0.5).astype(np.int64)
    key = np.stack([ts // bar_ns, (ts + ctx.session_offset_ns) // NS_DAY], axis=1)
    cuts = np.flatnonzero(np.any(np.diff(key, axis=0) != 0, axis=1)) + 1
    out = []
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, ts.size], strict=True):
        tk = ticks[a:b]
        h = row_ticks
        while tk.max() // h - tk.min() // h + 1 > max_rows:
            h *= 2
        rows = tk // h
        lo, hi = int(rows.min()), int(rows.max())
        A = {r: 0.0 for r in range(lo - 1, hi + 2)}
        B = dict(A)
        for r, qq, ss in zip(rows.tolist(), q[a:b].tolist(), sd[a:b].tolist(), strict=True):
            (A if ss > 0 else B)[r] += qq
        vol = sum(A.values()) + sum(B.values())
        delta = sum(A.values()) - sum(B.values())
        occ = [r for r in range(lo, hi + 1) if A[r] + B[r] > 0]
        v = {r: A[r] + B[r] for r in range(lo, hi + 1)}
        vmax = max(v.values())
        poc = min(r for r in v if v[r] == vmax)
        buy = [r > lo and A[r] > 0 and A[r] >= min_volume and A[r] >= ratio * B[r - 1]
               for r in range(lo, hi + 1)]  # fmt: skip
        sell = [r < hi and B[r] > 0 and B[r] >= min_volume and B[r] >= ratio * A[r + 1]
                for r in range(lo, hi + 1)]  # fmt: skip

        def longest(flags: list[bool]) -> int:
            best = run = 0
            for x in flags:
                run = run + 1 if x else 0
                best = max(best, run)
            return best

        sb, ss_ = longest(buy), longest(sell)
        span = hi - lo
        c = int(tk[-1]) // h
        d = int(np.sign(tk[-1] - tk[0]))
        pct = delta / vol
        s_top = s_bot = e_hi = e_lo = 0.0
        if span:
            # same operation order as the kernel: ties between s_top and s_bot are exact
            max_a, max_b = max(A.values()), max(B.values())
            s_top = (A[hi] / max_a) * ((hi - c) / span) if max_a else 0.0
            s_bot = (B[lo] / max_b) * ((c - lo) / span) if max_b else 0.0
            avg = vol / len(occ)
            e_hi = max(0.0, 1 - v[hi] / avg / exhaustion_ratio)
            e_lo = max(0.0, 1 - v[lo] / avg / exhaustion_ratio)

        def pick(p: float, n: float) -> float:
            return p if p > n else (-n if n > p else 0.0)

        rev = cont = 0.0
        if d:
            div = abs(pct) if delta * d < 0 else 0.0
            rev = -d * max(div, e_hi if d > 0 else e_lo, s_top if d > 0 else s_bot)
            stack = sb if d > 0 else ss_
            if stack >= min_stack:
                cont = d * 0.5 * (min(1.0, stack / (2 * min_stack)) + max(0.0, d * pct))
        vals = [
            delta, vol, max(A[r] - B[r] for r in occ), min(A[r] - B[r] for r in occ),
            (poc - lo) / span if span else 0.5, sum(buy), sum(sell), sb, ss_,
            int(sb >= min_stack) - int(ss_ >= min_stack), float(A[hi] > 0 and B[hi] > 0),
            float(A[lo] > 0 and B[lo] > 0), pick(s_bot, s_top), pick(e_lo, e_hi), rev, cont,
        ]  # fmt: skip
        out.append((int(key[a, 0]), int(key[a, 1]), (int(key[a, 0]) + 1) * bar_ns, vals))
    return out


def _compare_reference(inp: FeatureInput, ctx: GroupContext, **params: Any) -> int:
    bars = _reference_bars(inp, ctx, **params)
    eng = FeatureEngine(["footprint"], ctx=ctx, params={"footprint": params})
    at = np.asarray([b[2] for b in bars], dtype=np.int64)
    got = eng.run(inp, at=at).select(eng.names[4:]).to_numpy()
    want = np.asarray([b[3] for b in bars])
    same_day = np.asarray([(t + ctx.session_offset_ns) // NS_DAY == b[1] for t, b in
                           zip(at.tolist(), bars, strict=True)])  # fmt: skip
    want[~same_day] = np.nan
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    return len(bars)


@st.composite
def _tapes(draw: st.DrawFn) -> tuple[list[tuple[int, float, float, int]], dict[str, Any]]:
    n = draw(st.integers(1, 60))
    width = draw(st.sampled_from([3, 12, 40, 80]))
    gaps = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    tape = [
        (int(t), float(draw(st.integers(100, 100 + width))),
         float(draw(st.sampled_from([1, 2, 3, 3, 6, 9]))),
         draw(st.sampled_from([-1, 1, 1, -1, 0])))
        for t in np.cumsum(gaps)
    ]  # fmt: skip
    params = {
        "ratio": draw(st.sampled_from([1.0, 1.5, 3.0])),
        "min_volume": draw(st.sampled_from([0.0, 5.0])),
        "min_stack": draw(st.sampled_from([2, 3])),
        "exhaustion_ratio": draw(st.sampled_from([0.25, 1.0])),
        "row_ticks": draw(st.sampled_from([1, 2, 3])),
        "max_rows": draw(st.sampled_from([16, 17, 2048])),
    }
    return tape, params


@settings(max_examples=150, deadline=None)
@given(_tapes())
def test_random_tapes_match_the_reference(case: tuple[Any, dict[str, Any]]) -> None:
    tape, params = case
    ctx = GroupContext(tick_size=1.0)
    if all(t[3] == 0 for t in tape):  # no footprint at all: everything stays empty
        df = FeatureEngine(["footprint"], ctx=ctx).run(_tape_input(tape), each="trade")
        assert (df["fp_volume_1m"] == 0).all() and df["fp_prev_volume_1m"].is_nan().all()
        return
    assert _compare_reference(_tape_input(tape), ctx, **params) >= 1


def _b3() -> tuple[FeatureInput, GroupContext]:
    got = b3_day_input()
    if got is None:
        pytest.skip("real B3 DOL day not found in ../shared/data")
    return got


def _btc() -> tuple[FeatureInput, GroupContext]:
    got = binance_input("usdm", "btcusdt")
    if got is None:
        pytest.skip("Binance capture not found in ../shared/data")
    return got


def test_reference_b3_day() -> None:
    inp, ctx = _b3()
    assert _compare_reference(inp, ctx) == 554
    assert _compare_reference(inp, ctx, ratio=2.0, min_volume=10.0, min_stack=2,
                              exhaustion_ratio=0.5, bar_seconds=300) > 100  # fmt: skip


def test_reference_binance_with_row_merging() -> None:
    inp, ctx = _btc()
    assert _compare_reference(inp, ctx) == 6
    # 64 rows: the widest minute (1401 ticks) merges to 32-tick rows
    assert _compare_reference(inp, ctx, max_rows=64, row_ticks=1) == 6
    assert _compare_reference(inp, ctx, row_ticks=10, ratio=4.0) == 6


def test_b3_closed_bar_volume_matches_minute_groupby() -> None:
    inp, ctx = _b3()
    df = FeatureEngine(["footprint"], ctx=ctx).run(inp, every_ns=60 * S)
    sts = df["ts"].cast(pl.Int64).to_numpy()
    aggr = inp.side != 0
    minute = inp.ts // (60 * S)
    vol = np.bincount(minute[aggr] - minute[0], weights=inp.qty[aggr])
    dlt = np.bincount(minute[aggr] - minute[0], weights=(inp.qty * inp.side)[aggr])
    # at sample t the open bar is minute(t); the last closed bar is the last earlier minute
    # with aggressor trades (none before the first sample: NaN)
    cur = sts // (60 * S) - minute[0]
    have = np.flatnonzero(vol > 0)
    k = np.searchsorted(have, cur, side="left") - 1
    assert k[0] == -1 and (k[1:] >= 0).all()
    want_v = np.where(k >= 0, vol[have[k]], np.nan)
    want_d = np.where(k >= 0, dlt[have[k]], np.nan)
    np.testing.assert_array_equal(df["fp_prev_volume_1m"].to_numpy(), want_v)
    np.testing.assert_array_equal(df["fp_prev_delta_1m"].to_numpy(), want_d)
    inside = cur < vol.size
    np.testing.assert_array_equal(df["fp_volume_1m"].to_numpy()[inside], vol[cur[inside]])
    np.testing.assert_array_equal(df["fp_delta_1m"].to_numpy()[inside], dlt[cur[inside]])
    # all aggressor volume of the day: 119,000 bought + 119,800 sold (SOURCE.md)
    assert vol.sum() == 238_800
    prev = df.select(PREV_NAMES).to_numpy()
    assert np.isnan(prev[0]).all() and not np.isnan(prev[1:]).any()
    closed = df[1:]
    assert set(np.unique(closed["fp_prev_stacked_1m"].to_numpy())) == {-1.0, 0.0, 1.0}
    for name in ("absorption", "exhaustion", "reversal", "continuation"):
        col = closed[f"fp_prev_{name}_1m"].to_numpy()
        assert (np.abs(col) <= 1).all() and (col > 0).any() and (col < 0).any(), name
    pos = closed["fp_prev_poc_pos_1m"].to_numpy()
    assert ((pos >= 0) & (pos <= 1)).all()


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"bar_seconds": 0}, "bar_seconds"),
        ({"bar_seconds": 1.5}, "bar_seconds"),
        ({"ratio": 0.5}, "ratio"),
        ({"ratio": float("nan")}, "ratio"),
        ({"min_volume": -1.0}, "min_volume"),
        ({"min_stack": 1}, "min_stack"),
        ({"exhaustion_ratio": 0.0}, "exhaustion_ratio"),
        ({"exhaustion_ratio": 1.5}, "exhaustion_ratio"),
        ({"row_ticks": 0}, "row_ticks"),
        ({"max_rows": 8}, "max_rows"),
        ({"max_rows": True}, "max_rows"),
    ],
)
def test_parameter_validation(params: dict[str, Any], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        FootprintGroup(GroupContext(tick_size=0.5), **params)
    with pytest.raises(ConfigError, match=word):
        FeatureEngine(["footprint"], tick_size=0.5, params={"footprint": params})
