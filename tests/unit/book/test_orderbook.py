"""OrderBook: hand-built books, window growth, snapshots, a dict reference, real data."""

from __future__ import annotations

import csv
import gzip
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.book import NO_ASK, NO_BID, OrderBook
from quantumtrader.book import ladder as lad
from quantumtrader.core import ConfigError, DataError
from quantumtrader.model.book import BookAction, BookDelta, BookSide

BID, ASK, BOTH = BookSide.BID, BookSide.ASK, BookSide.BOTH
SET, CHANGE, DELETE, CLEAR = BookAction.SET, BookAction.CHANGE, BookAction.DELETE, BookAction.CLEAR


def delta(
    side: int, action: int, price: float = 0.0, size: float = 0.0, sym: str = "WDOU25"
) -> BookDelta:
    return BookDelta(
        ts_event=0,
        ts_init=0,
        symbol=sym,
        side=BookSide(side),
        action=BookAction(action),
        price=price,
        size=size,
    )


def wdo_book() -> OrderBook:
    """Bids 5470.0 x 10, 5469.5 x 20, 5468.0 x 5; asks 5471.0 x 7, 5472.5 x 30 (tick 0.5)."""
    book = OrderBook("WDOU25", 0.5)
    for p, s in ((5470.0, 10), (5469.5, 20), (5468.0, 5)):
        book.set_level(BID, p, s)
    for p, s in ((5471.0, 7), (5472.5, 30)):
        book.set_level(ASK, p, s)
    return book


def test_empty_book() -> None:
    book = OrderBook("WDOU25", 0.5)
    assert math.isnan(book.best_bid()) and math.isnan(book.best_ask())
    assert book.best_bid_tick() == NO_BID == -(2**63)
    assert book.best_ask_tick() == NO_ASK == 2**63 - 1
    assert book.best_bid_size() == 0.0 and book.best_ask_size() == 0.0
    assert math.isnan(book.mid()) and math.isnan(book.spread())
    assert not book.is_crossed() and book.n_levels() == 0
    assert book.walk(ASK, 5) == []
    bp, bs, ap, asz = book.depth(3)
    assert np.isnan(bp).all() and np.isnan(ap).all() and not bs.any() and not asz.any()


def test_hand_built_book_queries() -> None:
    book = wdo_book()
    assert (book.best_bid(), book.best_ask()) == (5470.0, 5471.0)
    assert (book.best_bid_tick(), book.best_ask_tick()) == (10940, 10942)
    assert (book.best_bid_size(), book.best_ask_size()) == (10.0, 7.0)
    assert book.mid() == 5470.5 and book.spread() == 1.0
    assert book.size_at(BID, 5469.5) == 20.0 and book.size_at(ASK, 5469.5) == 0.0
    assert book.size_at_tick(ASK, 10945) == 30.0
    assert (book.n_levels(BID), book.n_levels(ASK), book.n_levels()) == (3, 2, 5)
    assert book.to_tick(5470.0) == 10940 and book.to_price(10941) == 5470.5
    bp, bs, ap, asz = book.depth(4)
    np.testing.assert_array_equal(bp, [5470.0, 5469.5, 5468.0, np.nan])
    np.testing.assert_array_equal(bs, [10.0, 20.0, 5.0, 0.0])
    np.testing.assert_array_equal(ap, [5471.0, 5472.5, np.nan, np.nan])
    np.testing.assert_array_equal(asz, [7.0, 30.0, 0.0, 0.0])
    assert [a.shape for a in book.depth(0)] == [(0,)] * 4
    # Walk: a buy of 20 takes 7 at 5471.0 and 13 at 5472.5; a sell of 100 empties the bids.
    assert book.walk(ASK, 20) == [(5471.0, 7.0), (5472.5, 13.0)]
    assert book.walk(BID, 100) == [(5470.0, 10.0), (5469.5, 20.0), (5468.0, 5.0)]
    assert book.walk(BID, 10) == [(5470.0, 10.0)]
    assert book.walk(BID, 0) == []
    assert book.n_levels() == 5  # walking does not change the book
    with pytest.raises(ValueError, match="BID or ASK"):
        book.walk(BOTH, 1)
    assert "5470.0 x 10.0" in repr(book)


def test_each_action_through_apply() -> None:
    book = wdo_book()
    book.apply(delta(BID, CHANGE, 5470.0, -4))  # 10 -> 6
    book.apply(delta(ASK, CHANGE, 5470.5, 3))  # new best ask
    assert (book.best_bid_size(), book.best_ask(), book.best_ask_size()) == (6.0, 5470.5, 3.0)
    book.apply(delta(BID, DELETE, 5470.0))  # best bid removed: scan to 5469.5
    assert book.best_bid() == 5469.5
    book.apply(delta(BID, SET, 5469.5, 0))  # SET 0 == DELETE: scan skips the gap to 5468.0
    assert (book.best_bid(), book.n_levels(BID)) == (5468.0, 1)
    book.apply(delta(ASK, CLEAR))
    assert math.isnan(book.best_ask()) and book.n_levels(ASK) == 0 and book.n_levels(BID) == 1
    book.set_level(ASK, 5471.0, 2)
    book.apply(delta(BOTH, CLEAR, math.nan, math.nan))  # CLEAR ignores price and size
    assert book.n_levels() == 0 and book.best_bid_tick() == NO_BID


def test_clamped_changes_are_counted() -> None:
    book = wdo_book()
    book.apply(delta(BID, CHANGE, 5470.0, -12))
    assert book.size_at(BID, 5470.0) == 0.0 and book.n_clamped == 1
    n = book.apply_arrays(
        np.array([1, -1, -1]),
        np.array([1, 1, 1]),
        np.array([5469.5, 5471.0, 5490.0]),
        np.array([-25.0, -7.0, -1.0]),
    )
    assert n == 2 and book.n_clamped == 3
    assert book.best_bid() == 5468.0 and book.best_ask() == 5472.5


def test_invalid_input_raises_and_leaves_the_book() -> None:
    book = wdo_book()
    snap = book.snapshot(1, 2, 3)
    with pytest.raises(DataError, match=r"off the 0\.5 tick grid"):
        book.set_level(BID, 5470.2, 1)
    with pytest.raises(DataError, match="not usable"):
        book.apply(delta(BID, SET, math.nan, 1))
    with pytest.raises(DataError, match="'Y'"):
        book.apply(delta(BID, SET, 5470.0, 1, sym="Y"))
    with pytest.raises(DataError) as err:
        book.set_level(BID, 5470.0, -1)
    assert err.value.field == "size"
    with pytest.raises(DataError) as err:
        book.apply_arrays(
            np.array([1, 1]), np.array([0, 0]), np.array([5470.0, 5470.3]), np.ones(2)
        )
    assert err.value.field == "price" and "batch row 1" in str(err.value)
    with pytest.raises(DataError, match="integer"):
        book.apply_arrays(np.ones(1), np.zeros(1, dtype=int), np.ones(1), np.ones(1))
    with pytest.raises(ValueError, match="one length"):
        book.apply_arrays(np.ones(2, dtype=int), np.zeros(1, dtype=int), np.ones(1), np.ones(1))
    assert book.snapshot(1, 2, 3) == snap
    with pytest.raises(ConfigError):
        OrderBook("X", 0.0)
    with pytest.raises(ConfigError):
        OrderBook("X", 0.5, capacity_ticks=1)


@pytest.mark.parametrize(
    ("symbol", "tick", "price"),
    [("BTCUSDT", 0.01, 60000.0), ("GOOG", 0.01, 580.0), ("WDOU25", 0.5, 5470.0)],
)
def test_window_follows_any_price_far_above_and_below(
    symbol: str, tick: float, price: float
) -> None:
    book = OrderBook(symbol, tick, capacity_ticks=8)
    book.set_level(BID, price, 1)
    book.set_level(ASK, price + tick, 2)
    book.set_level(BID, price - 500 * tick, 3)  # far below: the window doubles
    book.set_level(ASK, price + 3000 * tick, 4)  # far above
    assert book.capacity >= 3501 and book.capacity & (book.capacity - 1) == 0
    assert (book.best_bid(), book.best_ask()) == (price, round(price + tick, 2))
    assert book.size_at(BID, price - 500 * tick) == 3.0
    assert book.size_at(ASK, price + 3000 * tick) == 4.0
    book.clear()
    book.set_level(BID, price * 0.5, 5)  # empty book: the window recentres, no growth
    assert book.best_bid() == price * 0.5 and book.n_levels() == 1


def test_window_recentres_when_the_book_drifts() -> None:
    book = OrderBook("GOOG", 0.01, capacity_ticks=64)
    for i in range(300):  # the market moves 300 ticks up, the book keeps 2 levels
        p = round(580.0 + 0.01 * i, 2)
        book.apply_arrays(
            np.array([1, 1, -1, -1]),
            np.array([3, 0, 3, 0]),
            np.array([0.0, p, 0.0, p + 0.01]),
            np.array([0.0, 1.0, 0.0, 1.0]),
        )
    assert book.capacity == 64  # moved, never grown
    assert (book.best_bid(), book.best_ask()) == (582.99, 583.0)


def test_far_levels_beyond_the_largest_window() -> None:
    book = OrderBook("BTCUSDT", 0.01, capacity_ticks=16, max_capacity_ticks=1024)
    book.set_level(BID, 60000.0, 1)
    book.set_level(ASK, 60000.01, 2)
    book.set_level(BID, 560.0, 3)  # 5.9M ticks away: kept far
    book.set_level(ASK, 617050.0, 4)
    assert book.capacity <= 1024 and book.arrays.meta[lad.M_N_FAR_BID] == 1
    assert (book.n_levels(BID), book.n_levels(ASK)) == (2, 2)
    assert book.size_at(BID, 560.0) == 3.0
    snap = book.snapshot(0, 0, 0)
    assert snap.bid_prices == (60000.0, 560.0) and snap.ask_prices == (60000.01, 617050.0)
    assert book.walk(BID, 2.5) == [(60000.0, 1.0), (560.0, 1.5)]
    book.set_level(BID, 60000.0, 0)  # the far bid becomes the best bid
    assert (book.best_bid(), book.best_bid_size()) == (560.0, 3.0)
    ob, oa = np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64)
    book.apply_arrays(
        np.array([1, -1, 1]),
        np.array([1, 2, 0]),
        np.array([560.0, 617050.0, 559.0]),
        np.array([-1.0, 0.0, 7.0]),
        out_best_bid=ob,
        out_best_ask=oa,
    )
    np.testing.assert_array_equal(ob, [56000, 56000, 56000])
    np.testing.assert_array_equal(oa, [6000001] * 3)
    assert book.size_at(BID, 560.0) == 2.0 and book.size_at(BID, 559.0) == 7.0
    book.clear(BID)
    assert book.n_levels() == 1 and book.arrays.meta[lad.M_N_FAR_BID] == 0
    book.set_level(BID, 59999.0, 1)  # near levels again live in the window
    assert book.best_bid() == 59999.0 and book.is_crossed() is False


def test_locked_book_is_kept_and_reported() -> None:
    book = OrderBook("WDOU25", 0.5)
    book.set_level(BID, 5471.0, 404)
    book.set_level(ASK, 5471.5, 86)
    assert not book.is_crossed()
    book.set_level(ASK, 5471.0, 12)  # locked: bid == ask
    assert book.is_crossed() and book.spread() == 0.0
    assert (book.best_bid_size(), book.best_ask_size()) == (404.0, 12.0)
    book.set_level(BID, 5472.0, 1)  # crossed
    assert book.is_crossed() and book.spread() == -1.0
    book.set_level(BID, 5472.0, 0)
    book.set_level(ASK, 5471.0, 0)
    assert not book.is_crossed() and book.spread() == 0.5


def test_snapshot_load_round_trip_and_copy() -> None:
    book = wdo_book()
    snap = book.snapshot(10, 11, 12)
    assert (snap.ts_event, snap.ts_init, snap.seq, snap.symbol) == (10, 11, 12, "WDOU25")
    assert snap.bid_prices == (5470.0, 5469.5, 5468.0) and snap.bid_sizes == (10.0, 20.0, 5.0)
    assert snap.ask_prices == (5471.0, 5472.5) and snap.ask_sizes == (7.0, 30.0)
    top = book.snapshot(10, 11, 12, n_levels=1)
    assert top.bid_prices == (5470.0,) and top.ask_sizes == (7.0,)
    other = OrderBook("WDOU25", 0.5, capacity_ticks=4)
    other.set_level(BID, 1000.0, 1)  # replaced by the load
    other.load_snapshot(snap)
    assert other.snapshot(10, 11, 12) == snap
    clone = book.copy()
    clone.set_level(BID, 5470.0, 1)
    assert book.best_bid_size() == 10.0 and clone.best_bid_size() == 1.0
    with pytest.raises(DataError, match="snapshot of"):
        OrderBook("DOL", 0.5).load_snapshot(snap)


def test_arrays_expose_the_window_layout() -> None:
    book = wdo_book()
    levels, meta = book.arrays
    base = int(meta[lad.M_BASE])
    assert levels.shape == (2, book.capacity)
    assert book.arrays.bid[10940 - base] == 10.0 and book.arrays.ask[10945 - base] == 30.0
    assert (meta[lad.M_BEST_BID], meta[lad.M_BEST_ASK]) == (10940, 10942)
    assert (meta[lad.M_N_BID], meta[lad.M_N_ASK]) == (3, 2)


# --------------------------------------------------------------------------- reference


class DictBook:
    """Plain-Python reference: two dicts tick -> size with the same semantics."""

    def __init__(self) -> None:
        self.sides: dict[int, dict[int, float]] = {1: {}, -1: {}}
        self.clamped = 0

    def apply(self, side: int, action: int, tick: int, size: float) -> None:
        if action == CLEAR:
            for s in (1, -1):
                if side in (0, s):
                    self.sides[s].clear()
            return
        levels = self.sides[side]
        new = 0.0
        if action == SET:
            new = size
        elif action == CHANGE:
            new = levels.get(tick, 0.0) + size
            if new < -lad.SIZE_EPS:
                self.clamped += 1
            new = new if new > lad.SIZE_EPS else 0.0
        if new > 0.0:
            levels[tick] = new
        else:
            levels.pop(tick, None)

    def depth(self, side: int, n: int) -> list[tuple[int, float]]:
        return sorted(self.sides[side].items(), reverse=side == 1)[:n]


def book_depth_ticks(book: OrderBook, side: int, n: int) -> list[tuple[int, float]]:
    px, sz = book.depth(n)[0:2] if side == 1 else book.depth(n)[2:4]
    return [(book.to_tick(p), s) for p, s in zip(px, sz, strict=True) if not math.isnan(p)]


updates = st.lists(
    st.tuples(
        st.sampled_from([1, -1, 0]),
        st.sampled_from([0, 0, 0, 1, 1, 2, 3]),
        st.one_of(st.integers(-40, 40), st.integers(-3000, 3000)),
        st.integers(-6, 12).map(float),
    ),
    max_size=120,
)


def _rows(raw: list[tuple[int, int, int, float]]) -> list[tuple[int, int, int, float]]:
    """Make the random rows valid: side 0 only for CLEAR, SET sizes >= 0."""
    out = []
    for side, action, tick, size in raw:
        s = side if action == CLEAR or side != 0 else 1
        out.append((s, action, tick, abs(size) if action == SET else size))
    return out


@settings(max_examples=150)
@given(updates, st.sampled_from([0.01, 0.5, 0.25]), st.integers(1_000, 6_000_000))
def test_random_sequences_match_a_dict_reference(
    raw: list[tuple[int, int, int, float]], tick_size: float, origin: int
) -> None:
    book = OrderBook("X", tick_size, capacity_ticks=8, max_capacity_ticks=2048)
    ref = DictBook()
    for side, action, tick, size in _rows(raw):
        t = origin + tick
        book.apply(delta(side, action, book.to_price(t), size, sym="X"))
        ref.apply(side, action, t, size)
        bb, ba = ref.depth(1, 1), ref.depth(-1, 1)
        assert book.best_bid_tick() == (bb[0][0] if bb else NO_BID)
        assert book.best_ask_tick() == (ba[0][0] if ba else NO_ASK)
    for side in (1, -1):
        assert book_depth_ticks(book, side, 10) == ref.depth(side, 10)
        assert book.n_levels(side) == len(ref.sides[side])
    assert book.n_clamped == ref.clamped
    levels, _ = book.arrays
    assert (levels >= 0.0).all()


@settings(max_examples=60)
@given(updates, st.sampled_from([0.01, 0.5]))
def test_apply_arrays_equals_one_by_one(
    raw: list[tuple[int, int, int, float]], tick: float
) -> None:
    rows = _rows(raw)
    one = OrderBook("X", tick, capacity_ticks=8, max_capacity_ticks=1024)
    batch = OrderBook("X", tick, capacity_ticks=8, max_capacity_ticks=1024)
    best_one = []
    for side, action, t, size in rows:
        one.apply(delta(side, action, one.to_price(5000 + t), size, sym="X"))
        best_one.append((one.best_bid_tick(), one.best_ask_tick()))
    n = len(rows)
    ob, oa = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    arr = np.array(rows, dtype=float).reshape(n, 4)
    clamped = batch.apply_arrays(
        arr[:, 0].astype(np.int8),
        arr[:, 1].astype(np.int8),
        np.array([batch.to_price(5000 + int(t)) for t in arr[:, 2]]),
        arr[:, 3],
        out_best_bid=ob,
        out_best_ask=oa,
    )
    assert clamped == one.n_clamped == batch.n_clamped
    assert list(zip(ob.tolist(), oa.tolist(), strict=True)) == best_one
    assert batch.snapshot(0, 0, 0) == one.snapshot(0, 0, 0)


# --------------------------------------------------------------------------- real data


def test_binance_futures_book_matches_book_ticker(binance_dir: Path) -> None:
    """Rebuild BTCUSDT-PERP from the REST snapshot + depth diffs; at every bookTicker whose
    update id ends a diff, best bid/ask price and size equal the venue's."""
    snap: dict[str, Any] = {}
    diffs: list[dict[str, Any]] = []
    ticker: dict[int, tuple[float, float, float, float]] = {}
    with gzip.open(binance_dir / "usdm" / "btcusdt_20240808.gz", "rt") as f:
        for line in f:
            msg = json.loads(line.split(" ", 1)[1])
            if "stream" not in msg:
                snap = msg
            elif msg["stream"].endswith("@depth@0ms"):
                diffs.append(msg["data"])
            elif msg["stream"].endswith("@bookTicker"):
                d = msg["data"]
                ticker[d["u"]] = (float(d["b"]), float(d["B"]), float(d["a"]), float(d["A"]))
    book = OrderBook("BTCUSDT-PERP", 0.1)
    rows = [(1, b) for b in snap["bids"]] + [(-1, a) for a in snap["asks"]]
    book.apply_arrays(
        np.array([s for s, _ in rows]),
        np.zeros(len(rows), dtype=np.int64),
        np.array([float(r[0]) for _, r in rows]),
        np.array([float(r[1]) for _, r in rows]),
    )
    assert (book.best_bid(), book.best_ask()) == (61800.2, 61800.3)
    compared = 0
    for d in diffs:
        if d["u"] < snap["lastUpdateId"]:
            continue
        lv = [(1, x) for x in d["b"]] + [(-1, x) for x in d["a"]]
        book.apply_arrays(
            np.array([s for s, _ in lv], dtype=np.int64),
            np.zeros(len(lv), dtype=np.int64),
            np.array([float(x[0]) for _, x in lv]),
            np.array([float(x[1]) for _, x in lv]),
        )
        if d["u"] in ticker:
            got = (book.best_bid(), book.best_bid_size(), book.best_ask(), book.best_ask_size())
            assert got == ticker[d["u"]]
            compared += 1
    assert compared == 629
    assert book.n_clamped == 0 and not book.is_crossed()
    # Stale asks up to 617,050 and bids down to 560 around a ~61,700 market: the far
    # ask does not fit the largest window and is kept sparse.
    snap_all = book.snapshot(0, 0, 0)
    assert snap_all.bid_prices[-1] == 560.0 and snap_all.ask_prices[-1] == 617050.0
    assert book.arrays.meta[lad.M_N_FAR_ASK] == 1 and book.capacity == 1 << 20


def test_b3_wdo_level1_polls_keep_locked_books(wdo_l1_dir: Path) -> None:
    """Replay the WDO level-1 poll as CLEAR + SET per row: the 18 locked rows are kept."""
    with (wdo_l1_dir / "book_data_processed_sample.csv").open() as f:
        rows = list(csv.DictReader(f))
    n = len(rows)
    side = np.tile(np.array([0, 1, -1], dtype=np.int64), n)
    action = np.tile(np.array([3, 0, 0], dtype=np.int64), n)
    price = np.array([[0.0, float(r["bid_price_1"]), float(r["ask_price_1"])] for r in rows])
    size = np.array([[0.0, float(r["bid_vol_1"]), float(r["ask_vol_1"])] for r in rows])
    book = OrderBook("WDOU25", 0.5)
    ob, oa = np.zeros(3 * n, dtype=np.int64), np.zeros(3 * n, dtype=np.int64)
    book.apply_arrays(side, action, price.ravel(), size.ravel(), out_best_bid=ob, out_best_ask=oa)
    spread_ticks = oa[2::3] - ob[2::3]
    assert n == 10_000
    assert int((spread_ticks == 0).sum()) == 18  # locked (SOURCE.md: 18 rows spread 0)
    assert int((spread_ticks == 2).sum()) == 30 and int((spread_ticks < 0).sum()) == 0
    last = rows[-1]
    assert book.best_bid() == float(last["bid_price_1"])
    assert book.best_ask_size() == float(last["ask_vol_1"])
    locked = int(np.flatnonzero(spread_ticks == 0)[0])
    book.load_snapshot(book.snapshot(0, 0, 0))
    book.apply_arrays(side[3 * locked : 3 * locked + 3], action[:3], price[locked], size[locked])
    assert book.is_crossed() and book.spread() == 0.0


def test_far_levels_map_directly() -> None:
    from quantumtrader.book.far_levels import FarLevels

    _, meta = lad.new_ladder(4, 0)
    far = FarLevels()
    assert not far and far.best == [NO_BID, NO_ASK]
    far.set(meta, lad.BID_ROW, 10, 2.0)
    far.set(meta, lad.BID_ROW, 30, 1.0)
    far.apply(meta, lad.ASK_ROW, CHANGE, 900, 5.0)
    assert far and far.best == [30, 900]
    assert (meta[lad.M_N_FAR_BID], meta[lad.M_N_FAR_ASK]) == (2, 1)
    far.apply(meta, lad.BID_ROW, CHANGE, 30, -4.0)  # clamped, counted, removed
    far.apply(meta, lad.ASK_ROW, DELETE, 900, math.nan)
    assert far.best == [10, NO_ASK] and meta[lad.M_N_CLAMPED] == 1
    ticks, sizes = far.merge(lad.BID_ROW, np.array([50, 40]), np.array([1.0, 1.0]), 2)
    assert ticks.tolist() == [50, 40] and sizes.tolist() == [1.0, 1.0]
    ticks, sizes = far.merge(lad.BID_ROW, np.array([5]), np.array([3.0]), None)
    assert ticks.tolist() == [10, 5] and sizes.tolist() == [2.0, 3.0]
    clone = far.copy()
    assert far.pop_inside(meta, lad.BID_ROW, 0, 11) == [(10, 2.0)]
    assert not far and meta[lad.M_N_FAR_BID] == 0 and clone.levels[0] == {10: 2.0}
