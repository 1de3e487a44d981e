"""LOBSTER reader: hand-built files (every message type, times, seed undo, quarantine) and
the six real NASDAQ sample zips (counts from SOURCE.md)."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from quantumtrader.core.errors import DataError
from quantumtrader.data.lobster import LobsterData, read_lobster
from quantumtrader.model.book import F_EXEC, F_LAST

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
    assert book["seq"] == [1, 3, 5, 7]  # 2*row + 1 for rows 0..3
    assert book["size"] == [50.0, -30.0, -70.0, -20.0]
    assert book["side"] == [-1, 1, 1, 1]
    assert book["price"] == [101.0, 100.0, 100.0, 99.5]
    assert book["order_id"] == [11, 7, 7, 12]
    assert book["action"] == [1, 1, 1, 1]  # CHANGE
    assert book["flags"] == [F_LAST, F_LAST, F_LAST, F_LAST | F_EXEC]
    assert set(book["symbol"]) == {"GOOG"}


def test_small_file_trades(small: LobsterData) -> None:
    trades = small.market.trades.to_pydict()
    # Type 4 at row 3 (seq 6, just before its delta's 7) and hidden type 5 at row 4.
    assert trades["seq"] == [6, 8]
    assert trades["price"] == [99.5, 100.5]
    assert trades["qty"] == [20, 15]
    # Resting bid executed -> seller-initiated; resting ask -> buyer-initiated.
    assert trades["aggressor"] == [-1, 1]
    assert trades["trade_kind"] == [1, 1]
    assert trades["trade_id"] == [None, None]


def test_small_file_times_are_exact_ns(small: LobsterData) -> None:
    ts = pc.cast(small.market.book.column("ts_event"), "int64").to_pylist()
    assert ts == [T0_UTC + 1, T0_UTC + 500_000_000, T0_UTC + 1_250_000_000, T0_UTC + 2_000_000_100]
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
    assert data.market.book.num_rows == 4
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
    assert m.book.num_rows == int(np.isin(types, (1, 2, 3, 4)).sum())
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
    assert np.all(np.diff(seq) > 0) and np.all(seq % 2 == 1)


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
