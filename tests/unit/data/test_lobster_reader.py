"""LOBSTER reader: hand-built files (every message type, times, seed undo, quarantine, sync
corrections), a property test of the synced stream, and the six real NASDAQ sample zips
(counts from SOURCE.md)."""

from __future__ import annotations

import datetime as dt
import tempfile
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.book.orderbook import OrderBook
from quantumtrader.core.errors import DataError
from quantumtrader.data.lobster import SYNC_CLASSES, LobsterData, read_lobster
from quantumtrader.model.book import F_EXEC, F_LAST, F_SYNC

DAY = "2012-06-21"
# 2012-06-21 is in EDT (UTC-4): 34200 s after New York midnight = 13:30 UTC.
T0_UTC = int(dt.datetime(2012, 6, 21, 13, 30, tzinfo=dt.UTC).timestamp()) * 10**9


def write_lobster(
    folder: Path,
    messages: Sequence[str],
    book_rows: Sequence[Sequence[int]],
    *,
    symbol: str = "GOOG",
    day: str = DAY,
    levels: int = 1,
) -> Path:
    """A LOBSTER-style zip with one message and one orderbook member."""
    stem = f"{symbol}_{day}_34200000_57600000"
    path = folder / f"LOBSTER_SampleFile_{symbol}_{day}_{levels}.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{stem}_message_{levels}.csv", "".join(m + "\n" for m in messages))
        zf.writestr(
            f"{stem}_orderbook_{levels}.csv",
            "".join(",".join(str(v) for v in row) + "\n" for row in book_rows),
        )
    return path


# Level-2 book rows: ask px, ask size, bid px, bid size per level.
MESSAGES = [
    "34200.000000001,1,11,50,1010000,-1",  # add 50 on the ask at 101.00 (level exists)
    "34200.5,2,7,30,1000000,1",  # partial cancel 30 on the bid at 100.00
    "34201.25,3,7,70,1000000,1",  # delete the rest of order 7 (the bid level empties)
    "34202.000000100,4,12,20,995000,1",  # execute 20 of a resting bid at 99.50
    "34202.000000100,5,0,15,1005000,-1",  # hidden execution at 100.50 (no book change)
    "34203,7,0,0,-1,-1",  # trading halt
]
BOOK = [
    [1010000, 150, 1000000, 100, 1020000, 40, 995000, 300],
    [1010000, 150, 1000000, 70, 1020000, 40, 995000, 300],
    [1010000, 150, 995000, 300, 1020000, 40, 990000, 10],
    [1010000, 150, 995000, 280, 1020000, 40, 990000, 10],
    [1010000, 150, 995000, 280, 1020000, 40, 990000, 10],
    [1010000, 150, 995000, 280, 1020000, 40, 990000, 10],
]


@pytest.fixture
def small(tmp_path: Path) -> LobsterData:
    return read_lobster(write_lobster(tmp_path, MESSAGES, BOOK, levels=2))


def test_small_file_book_deltas(small: LobsterData) -> None:
    book = small.market.book.to_pydict()
    # Message deltas at 3*row + 1 for rows 0..3; row 2 empties the bid 100.00, so 99.00
    # enters the 2-level window unseen: one SET correction at 3*2 + 2.
    assert book["seq"] == [1, 4, 7, 8, 10]
    assert book["size"] == [50.0, -30.0, -70.0, 10.0, -20.0]
    assert book["side"] == [-1, 1, 1, 1, 1]
    assert book["price"] == [101.0, 100.0, 100.0, 99.0, 99.5]
    assert book["order_id"] == [11, 7, 7, 0, 12]
    assert book["action"] == [1, 1, 1, 0, 1]  # CHANGE, the correction a SET
    assert book["flags"] == [F_LAST, F_LAST, 0, F_SYNC | F_LAST, F_LAST | F_EXEC]
    assert set(book["symbol"]) == {"GOOG"}
    assert small.sync and small.clamped == 0
    assert small.corrections == {
        "set_enter": 1,
        "set_size": 0,
        "delete_inside": 0,
        "delete_cross": 0,
        "delete_beyond": 0,
    }
    assert "sync: 1 corrections (set_enter 1, set_size 0, delete_inside 0, " in "".join(
        small.market.notes
    )


def test_small_file_without_sync(tmp_path: Path) -> None:
    data = read_lobster(write_lobster(tmp_path, MESSAGES, BOOK, levels=2), sync=False)
    book = data.market.book.to_pydict()
    assert book["seq"] == [1, 4, 7, 10]
    assert book["flags"] == [F_LAST, F_LAST, F_LAST, F_LAST | F_EXEC]
    assert book["size"] == [50.0, -30.0, -70.0, -20.0]
    assert not data.sync
    assert data.corrections == dict.fromkeys(SYNC_CLASSES, 0)
    assert any(n.startswith("sync off") for n in data.market.notes)


def test_small_file_trades(small: LobsterData) -> None:
    trades = small.market.trades.to_pydict()
    # Type 4 at row 3 (seq 9, just before its delta's 10) and hidden type 5 at row 4.
    assert trades["seq"] == [9, 12]
    assert trades["price"] == [99.5, 100.5]
    assert trades["qty"] == [20, 15]
    # Resting bid executed -> seller-initiated; resting ask -> buyer-initiated.
    assert trades["aggressor"] == [-1, 1]
    assert trades["trade_kind"] == [1, 1]
    assert trades["trade_id"] == [None, None]


def test_small_file_times_are_exact_ns(small: LobsterData) -> None:
    ts = pc.cast(small.market.book.column("ts_event"), "int64").to_pylist()
    # The correction of row 2 carries row 2's time.
    t2 = T0_UTC + 1_250_000_000
    assert ts == [T0_UTC + 1, T0_UTC + 500_000_000, t2, t2, T0_UTC + 2_000_000_100]
    trade_ts = pc.cast(small.market.trades.column("ts_init"), "int64").to_pylist()
    assert trade_ts == [T0_UTC + 2_000_000_100] * 2
    assert small.market.days == [dt.date(2012, 6, 21)]


def test_small_file_counts_and_notes(small: LobsterData) -> None:
    m = small.market
    assert (m.rows_read, m.rows_skipped, m.quarantine.num_rows) == (6, 1, 0)
    assert any("trading-halt" in n for n in m.notes)
    assert small.levels == 2
    assert small.reference.shape == (6, 8)
    assert small.reference.dtype == np.int64
    assert small.msg_type.tolist() == [1, 2, 3, 4, 5, 7]


def test_seed_undoes_an_add_at_an_existing_level(small: LobsterData) -> None:
    seed = small.market.seed
    assert seed is not None
    assert seed.seq == -1
    assert seed.ts_event == T0_UTC + 1
    assert (seed.ask_prices, seed.ask_sizes) == ((101.0, 102.0), (100.0, 40.0))
    assert (seed.bid_prices, seed.bid_sizes) == ((100.0, 99.5), (100.0, 300.0))


@pytest.mark.parametrize(
    ("first", "bids", "asks"),
    [
        # A new best bid: undoing it leaves only the row's second bid level.
        ("34200,1,5,10,1001000,1", ((100.0,), (100.0,)), ((101.0, 102.0), (150.0, 40.0))),
        # An execution emptied a best ask at 100.90: undoing puts it back first.
        (
            "34200,4,5,25,1009000,-1",
            ((100.1, 100.0), (10.0, 100.0)),
            ((100.9, 101.0, 102.0), (25.0, 150.0, 40.0)),
        ),
        # A partial cancel at the second bid level: its size grows back.
        ("34200,2,5,5,1000000,1", ((100.1, 100.0), (10.0, 105.0)), ((101.0, 102.0), (150.0, 40.0))),
        # A hidden execution changes nothing.
        ("34200,5,0,5,1005000,1", ((100.1, 100.0), (10.0, 100.0)), ((101.0, 102.0), (150.0, 40.0))),
    ],
)
def test_seed_undo_cases(
    tmp_path: Path,
    first: str,
    bids: tuple[tuple[float, ...], tuple[float, ...]],
    asks: tuple[tuple[float, ...], tuple[float, ...]],
) -> None:
    row = [1010000, 150, 1001000, 10, 1020000, 40, 1000000, 100]
    seed = read_lobster(write_lobster(tmp_path, [first], [row], levels=2)).market.seed
    assert seed is not None
    assert (seed.bid_prices, seed.bid_sizes) == bids
    assert (seed.ask_prices, seed.ask_sizes) == asks


def test_winter_date_and_sub_ns_digits(tmp_path: Path) -> None:
    msgs = ["34200.9999999996,5,0,1,1000000,1", "43002.632812672004,5,0,1,1000000,-1"]
    rows = [[1010000, 1, 1000000, 1]] * 2
    data = read_lobster(write_lobster(tmp_path, msgs, rows, day="2012-01-03"))
    ts = pc.cast(data.market.trades.column("ts_event"), "int64").to_pylist()
    # January: EST (UTC-5). The 10th decimal rounds half up (carrying into the second).
    t0 = int(dt.datetime(2012, 1, 3, 14, 30, tzinfo=dt.UTC).timestamp()) * 10**9
    assert ts == [t0 + 10**9, t0 + (43002 - 34200) * 10**9 + 632_812_672]
    assert any("more than 9 decimals" in n for n in data.market.notes)


def test_bad_rows_are_quarantined_with_line_and_field(tmp_path: Path) -> None:
    msgs = [
        "34200,1,1,10,1000000,1",
        "34200,1,2,10,1000000",  # 5 fields
        "34200,6,3,10,1000000,1",  # unknown type
        "34200,1,4,10,1000050,1",  # visible order off the cent grid
        "34200,1,5,10,1000000,0",  # bad direction
        "34x00,1,6,10,1000000,1",  # bad time
        "34200,3,7,0,1000000,1",  # size 0
        "",  # blank line
    ]
    rows = [[1010000, 1, 1000000, 10]] * len(msgs)
    data = read_lobster(write_lobster(tmp_path, msgs, rows))
    q = data.market.quarantine.to_pydict()
    assert q["line"] == [2, 3, 4, 5, 6, 7, 8]
    assert q["field"] == ["fields", "type", "price", "direction", "time", "size", "line"]
    assert q["raw"][0] == "34200,1,2,10,1000000"
    assert all(f.endswith("_message_1.csv") for f in q["file"])
    m = data.market
    assert m.rows_read == m.book.num_rows + m.quarantine.num_rows + m.rows_skipped == 8
    assert data.msg_type.tolist() == [1, 0, 0, 0, 0, 0, 0, 0]


def test_unpacked_message_file_is_read(tmp_path: Path) -> None:
    zpath = write_lobster(tmp_path, MESSAGES, BOOK, levels=2)
    with zipfile.ZipFile(zpath) as zf:
        zf.extractall(tmp_path / "x")
    msg = next((tmp_path / "x").glob("*_message_2.csv"))
    data = read_lobster(msg)
    assert data.market.book.num_rows == 5
    assert np.array_equal(data.reference, read_lobster(zpath).reference)


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="rows"):
        read_lobster(write_lobster(tmp_path, MESSAGES, BOOK[:5], levels=2))
    bad = tmp_path / "notes.txt"
    bad.write_text("x")
    with pytest.raises(DataError, match="not a LOBSTER"):
        read_lobster(bad)
    with pytest.raises(DataError, match="cannot read"):
        read_lobster(tmp_path / "missing_2012-06-21_1_2_message_1.csv")


# ----------------------------------------------------------------------------- sync

# Level 1 (ask px, ask size, bid px, bid size); the seed has no bid (message 0 undone).
SYNC_MESSAGES = [
    "34200,1,1,10,1000000,1",  # 0 bid 100.00 x 10
    "34201,1,2,5,1000100,1",  # 1 bid 100.01 x 5 pushes 100.00 out of the window
    "34202,3,2,5,1000100,1",  # 2 delete it: 100.00 is back, 3 cancelled out of sight
    "34203,1,3,4,1009900,-1",  # 3 ask 100.99 x 4 pushes 101.00 out of the window
    "34204,4,3,4,1009900,-1",  # 4 execute it: 101.00 went out of sight, 101.10 enters
    "34205,9,4,1,1000000,1",  # 5 unknown type (quarantined); the bid drops to 6
    "34206,1,5,3,1011000,1",  # 6 a bid crossing the ask (it traded 3 against it)
    "34207,3,6,50,1000000,1",  # 7 deletes more than the level holds; 99.99 enters
]
SYNC_ROWS = [
    [1010000, 20, 1000000, 10],
    [1010000, 20, 1000100, 5],
    [1010000, 20, 1000000, 7],
    [1009900, 4, 1000000, 7],
    [1011000, 8, 1000000, 7],
    [1011000, 8, 1000000, 6],
    [1011000, 5, 1000000, 6],
    [1011000, 5, 999900, 9],
]


def _replay_rows(data: LobsterData) -> list[tuple[int, list[float]]]:
    """(row, [bid px, bid size, ask px, ask size] of level 1..L) after each F_LAST delta."""
    book = OrderBook(data.market.symbol, 0.01)
    assert data.market.seed is not None
    book.load_snapshot(data.market.seed)
    t = data.market.book.to_pydict()
    out = []
    for i in range(len(t["seq"])):
        side, px, size = t["side"][i], t["price"][i], t["size"][i]
        if t["action"][i] == 1:  # CHANGE, clamped at 0
            size = max(book.size_at(side, px) + size, 0.0)
        book.set_level(side, px, size)  # SET; a DELETE has size 0
        if t["flags"][i] & F_LAST:
            bp, bs, ap, az = book.depth(data.levels)
            levels = [v for lv in zip(bp, bs, ap, az, strict=True) for v in lv]
            out.append((t["seq"][i] // 3, [float(np.nan_to_num(v, nan=-1.0)) for v in levels]))
    return out


def _ref_levels(row: Sequence[int], levels: int) -> list[float]:
    out: list[float] = []
    for i in range(levels):
        ap, az, bp, bz = row[4 * i : 4 * i + 4]
        out += [bp / 10_000 if bz else -1.0, float(bz), ap / 10_000 if az else -1.0, float(az)]
    return out


def test_sync_corrections_by_class(tmp_path: Path) -> None:
    data = read_lobster(write_lobster(tmp_path, SYNC_MESSAGES, SYNC_ROWS))
    t = data.market.book.to_pydict()
    S, L = F_SYNC, F_LAST
    assert t["seq"] == [1, 4, 7, 8, 10, 13, 14, 14, 17, 19, 20, 20, 22, 23]
    assert t["action"] == [1, 1, 1, 0, 1, 1, 2, 0, 0, 1, 2, 0, 1, 0]
    assert t["side"] == [1, 1, 1, 1, -1, -1, -1, -1, 1, 1, 1, -1, 1, 1]
    assert t["price"] == [
        100.0, 100.01, 100.01, 100.0, 100.99, 100.99, 101.0, 101.1, 100.0, 101.1, 101.1,
        101.1, 100.0, 99.99,
    ]  # fmt: skip
    assert t["size"] == [10, 5, -5, 7, 4, -4, 0, 8, 6, 3, 0, 5, -50, 9]
    assert t["flags"] == [L, L, 0, S | L, L, F_EXEC, S, S | L, S | L, 0, S, S | L, 0, S | L]
    assert [o for o, f in zip(t["order_id"], t["flags"], strict=True) if f & S] == [0] * 7
    assert data.corrections == {
        "set_enter": 2,  # 101.10 (row 4), 99.99 (row 7)
        "set_size": 3,  # 100.00 back at 7 (row 2), 100.00 at 6 (row 5), ask 101.10 at 5
        "delete_inside": 1,  # 101.00, cancelled while outside the window
        "delete_cross": 1,  # the bid 101.10 at the best ask
        "delete_beyond": 0,
    }
    assert data.clamped == 1  # row 7 deletes 50 of 6
    # Row 5 was quarantined: its correction carries row 4's time.
    ts = pc.cast(data.market.book.column("ts_event"), "int64").to_pylist()
    assert ts[8] == ts[7] == T0_UTC + 4 * 10**9
    assert data.market.quarantine.to_pydict()["line"] == [6]
    # The book after every row is the reference row.
    replay = _replay_rows(data)
    assert [r for r, _ in replay] == list(range(8))
    assert [lv for _, lv in replay] == [_ref_levels(row, 1) for row in SYNC_ROWS]


def test_sync_drop_keeps_only_the_window(tmp_path: Path) -> None:
    path = write_lobster(tmp_path, SYNC_MESSAGES, SYNC_ROWS)
    data = read_lobster(path, beyond="drop")
    assert data.corrections == {
        "set_enter": 3,  # 100.00 (row 2), 101.10 (row 4), 99.99 (row 7)
        "set_size": 2,  # 100.00 at 6 (row 5), ask 101.10 at 5 (row 6)
        "delete_inside": 0,
        "delete_cross": 1,
        "delete_beyond": 2,  # 100.00 (row 1), 101.00 (row 3)
    }
    assert [lv for _, lv in _replay_rows(data)] == [_ref_levels(row, 1) for row in SYNC_ROWS]
    assert any(n.endswith("levels beyond depth 1: dropped") for n in data.market.notes)
    with pytest.raises(ValueError, match="beyond"):
        read_lobster(path, beyond="nothing")  # type: ignore[arg-type]


def test_sync_rejects_an_off_grid_reference(tmp_path: Path) -> None:
    rows = [list(r) for r in SYNC_ROWS]
    rows[3][0] = 1009950
    path = write_lobster(tmp_path, SYNC_MESSAGES, rows)
    with pytest.raises(DataError, match="off the tick grid") as err:
        read_lobster(path)
    assert (err.value.line, err.value.field) == (4, "ask_price_1")
    assert read_lobster(path, sync=False).market.book.num_rows == 7


_LEVELS = st.integers(1, 3)


@st.composite
def _lobster_day(draw: st.DrawFn) -> tuple[list[str], list[list[int]], int]:
    levels = draw(_LEVELS)
    n = draw(st.integers(1, 25))
    msgs, rows = [], []
    for r in range(n):
        kind = draw(st.sampled_from([1, 1, 2, 3, 4, 5]))
        px = draw(st.integers(9_990, 10_010)) * 100
        size = draw(st.integers(1, 40))
        side = draw(st.sampled_from([1, -1]))
        msgs.append(f"{34200 + r},{kind},{r + 1},{size},{px},{side}")
        mid = draw(st.integers(9_995, 10_005))
        row = []
        bids = sorted(draw(st.sets(st.integers(9_985, mid - 1), max_size=levels)), reverse=True)
        asks = sorted(draw(st.sets(st.integers(mid + 1, 10_015), max_size=levels)))
        for i in range(levels):
            a = [asks[i] * 100, draw(st.integers(1, 40))] if i < len(asks) else [9_999_999_999, 0]
            b = [bids[i] * 100, draw(st.integers(1, 40))] if i < len(bids) else [-9_999_999_999, 0]
            row += a + b
        rows.append(row)
    return msgs, rows, levels


@settings(max_examples=60, deadline=None)
@given(_lobster_day(), st.sampled_from(["keep", "drop"]))
def test_synced_stream_always_equals_the_reference(
    day: tuple[list[str], list[list[int]], int], beyond: Literal["keep", "drop"]
) -> None:
    # Whatever the messages and the (uncrossed) reference rows, seed + synced stream give
    # the reference's levels 1..L after every row.
    msgs, rows, levels = day
    with tempfile.TemporaryDirectory() as tmp:
        path = write_lobster(Path(tmp), msgs, rows, levels=levels)
        data = read_lobster(path, beyond=beyond)
    replay = _replay_rows(data)
    got = dict(replay)
    for r, row in enumerate(rows):
        # A row without a delta leaves the book as the previous row had it.
        key = max((k for k in got if k <= r), default=None)
        assert key is not None or _ref_levels(row, levels) == _seed_levels(data)
        if key is not None:
            assert got[key] == _ref_levels(row, levels)
    assert len(replay) == len(got)  # one F_LAST per row with deltas
    assert sum(data.corrections.values()) == int(
        np.count_nonzero(data.market.book.column("flags").to_numpy() & F_SYNC)
    )


def _seed_levels(data: LobsterData) -> list[float]:
    seed = data.market.seed
    assert seed is not None
    out: list[float] = []
    for i in range(data.levels):
        bp = seed.bid_prices[i] if i < len(seed.bid_prices) else -1.0
        bs = seed.bid_sizes[i] if i < len(seed.bid_sizes) else 0.0
        ap = seed.ask_prices[i] if i < len(seed.ask_prices) else -1.0
        az = seed.ask_sizes[i] if i < len(seed.ask_sizes) else 0.0
        out += [bp, bs, ap, az]
    return out


# ----------------------------------------------------------------------------- real data

SIX = (
    ("AAPL", 1, 118_497),
    ("AMZN", 1, 57_515),
    ("AMZN", 5, 155_935),
    ("GOOG", 1, 49_482),
    ("GOOG", 5, 112_673),
    ("GOOG", 10, 147_916),
)
# SOURCE.md: executions (type 4, type 5), buyer-initiated trades/shares,
# seller-initiated trades/shares, half-cent hidden executions; then the trade price range
# measured here (inside SOURCE.md's wider range, which covers every message price).
TAPE = {
    "AAPL": ((23_658, 11_332), (16_729, 1_314_336), (18_261, 1_535_804), 372, (577.45, 588.21)),
    "AMZN": ((8_974, 2_445), (5_904, 390_733), (5_515, 420_022), 63, (220.51, 226.03)),
    "GOOG": ((7_765, 3_913), (5_808, 354_732), (5_870, 351_393), 50, (563.73, 579.73)),
}


# Sync corrections (set_enter, set_size, delete_inside, delete_cross, delete_beyond) with
# the default beyond="keep"; the SETs and DELETEs equal match_lobster's syncs and
# phantoms_removed.
CORRECTIONS = {
    ("AAPL", 1): (7_718, 6_759, 11_423, 0, 0),
    ("AMZN", 1): (3_875, 3_849, 3_246, 0, 0),
    ("AMZN", 5): (3_158, 7_847, 4_322, 0, 0),
    ("GOOG", 1): (3_204, 1_888, 4_540, 0, 0),
    ("GOOG", 5): (4_192, 3_059, 5_851, 0, 0),
    ("GOOG", 10): (3_123, 1_861, 3_348, 0, 0),
}


@lru_cache(maxsize=8)
def _real(folder: str, symbol: str, level: int) -> LobsterData:
    return read_lobster(Path(folder) / f"LOBSTER_SampleFile_{symbol}_{DAY}_{level}.zip")


@pytest.mark.parametrize(("symbol", "level", "n_messages"), SIX)
def test_real_files(lobster_dir: Path, symbol: str, level: int, n_messages: int) -> None:
    data = _real(str(lobster_dir), symbol, level)
    m = data.market
    assert (m.symbol, m.source, m.days) == (symbol, "lobster", [dt.date(2012, 6, 21)])
    assert m.rows_read == n_messages == data.reference.shape[0]
    assert data.reference.shape[1] == 4 * level
    assert m.rows_skipped == 0  # no halts that day
    assert m.quarantine.num_rows == 0
    types = data.msg_type
    n_book = int(np.isin(types, (1, 2, 3, 4)).sum())
    assert data.corrections == dict(zip(SYNC_CLASSES, CORRECTIONS[symbol, level], strict=True))
    assert m.book.num_rows == n_book + sum(data.corrections.values())
    assert data.clamped == 0
    (n4, n5), (buys, buy_sh), (sells, sell_sh), half, (lo, hi) = TAPE[symbol]
    assert (int((types == 4).sum()), int((types == 5).sum())) == (n4, n5)
    aggr = m.trades.column("aggressor").to_numpy()
    qty = m.trades.column("qty").to_numpy()
    price = m.trades.column("price").to_numpy()
    assert (int((aggr == 1).sum()), int(qty[aggr == 1].sum())) == (buys, buy_sh)
    assert (int((aggr == -1).sum()), int(qty[aggr == -1].sum())) == (sells, sell_sh)
    cents = np.rint(price * 10_000).astype(np.int64)
    assert int((cents % 100 != 0).sum()) == half
    assert (price.min(), price.max()) == (lo, hi)
    ts = pc.cast(m.book.column("ts_event"), "int64").to_numpy()
    assert np.all(np.diff(ts) >= 0)
    # First message 09:30:00.004-.017 New York time, last before 16:00.
    first = min(ts[0], pc.cast(m.trades.column("ts_event"), "int64").to_numpy().min())
    assert T0_UTC + 4_000_000 <= first < T0_UTC + 18_000_000
    assert ts[-1] < T0_UTC + 6 * 3600 * 10**9 + 30 * 60 * 10**9
    seq = m.book.column("seq").to_numpy()
    flags = m.book.column("flags").to_numpy()
    corr = (flags & F_SYNC) != 0
    assert np.all(np.diff(seq) >= 0)
    assert np.all(seq[~corr] % 3 == 1) and np.all(seq[corr] % 3 == 2)
    # One F_LAST per message row with deltas, on the row's last delta.
    row = seq // 3
    assert np.array_equal((flags & F_LAST) != 0, np.r_[row[1:] != row[:-1], True])
    _assert_best_matches(data)


def _assert_best_matches(data: LobsterData) -> None:
    """OrderBook replay of seed + stream: best bid/ask after every F_LAST equal the
    reference row's, never crossed."""
    m = data.market
    assert m.seed is not None
    book = OrderBook(m.symbol, 0.01)
    book.load_snapshot(m.seed)
    cols = [m.book.column(c).to_numpy() for c in ("side", "action", "price", "size")]
    ob = np.empty(m.book.num_rows, dtype=np.int64)
    oa = np.empty(m.book.num_rows, dtype=np.int64)
    book.apply_arrays(*cols, out_best_bid=ob, out_best_ask=oa)
    last = (m.book.column("flags").to_numpy() & F_LAST) != 0
    rows = m.book.column("seq").to_numpy()[last] // 3
    ref = data.reference[rows]
    assert np.array_equal(ob[last], ref[:, 2] // 100)
    assert np.array_equal(oa[last], ref[:, 0] // 100)
    assert np.all(ob[last] < oa[last])


def test_real_drop_keeps_exactly_the_orderbook_row(lobster_dir: Path) -> None:
    path = lobster_dir / f"LOBSTER_SampleFile_GOOG_{DAY}_5.zip"
    data = read_lobster(path, beyond="drop")
    assert data.corrections == {
        "set_enter": 31_903,
        "set_size": 0,
        "delete_inside": 0,
        "delete_cross": 0,
        "delete_beyond": 34_089,
    }
    _assert_best_matches(data)
    m = data.market
    assert m.seed is not None
    book = OrderBook("GOOG", 0.01)
    book.load_snapshot(m.seed)
    book.apply_arrays(*(m.book.column(c).to_numpy() for c in ("side", "action", "price", "size")))
    assert book.n_levels(1) == book.n_levels(-1) == 5
    bp, bs, ap, az = book.depth(5)
    want = data.reference[-1].reshape(5, 4)
    assert np.array_equal(np.rint(ap * 10_000), want[:, 0]) and np.array_equal(az, want[:, 1])
    assert np.array_equal(np.rint(bp * 10_000), want[:, 2]) and np.array_equal(bs, want[:, 3])
    # The same message deltas as the default stream (F_LAST aside), other corrections.
    keep = _real(str(lobster_dir), "GOOG", 5).market.book
    drop_msgs, keep_msgs = (
        t.filter(pc.equal(pc.bit_wise_and(t["flags"], F_SYNC), 0)) for t in (m.book, keep)
    )
    assert drop_msgs.drop_columns("flags").equals(keep_msgs.drop_columns("flags"))
    assert keep_msgs.num_rows == 112_673 - 3_913  # GOOG level 5: all but type 5


def test_real_sub_ns_time_is_noted(lobster_dir: Path) -> None:
    notes = _real(str(lobster_dir), "AMZN", 5).market.notes
    assert "1 times had more than 9 decimals (rounded to the ns)" in notes


def test_real_trade_tape_is_the_same_in_every_level_file(lobster_dir: Path) -> None:
    def tape(level: int) -> tuple[object, ...]:
        t = _real(str(lobster_dir), "GOOG", level).market.trades
        ts = pc.cast(t.column("ts_event"), "int64").to_pylist()
        cols = (ts, t.column("price").to_pylist(), t.column("qty").to_pylist())
        return tuple(zip(*cols, strict=True))

    assert tape(1) == tape(5) == tape(10)


def test_real_seed_is_before_message_one(lobster_dir: Path) -> None:
    # GOOG: message 1 executes 4 shares of the best bid 579.40 (500 before, 496 after).
    seed = _real(str(lobster_dir), "GOOG", 5).market.seed
    assert seed is not None
    assert seed.bid_prices[0] == 579.40 and seed.bid_sizes[0] == 500.0
    assert len(seed.bid_prices) == len(seed.ask_prices) == 5
