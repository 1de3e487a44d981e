"""LOBSTER book match: a hand-computed message set, then all six real NASDAQ sample files.

Three replays: messages only (a), the oracle's window re-entry sync (b), and the reader's
synced stream as read (c), which must match every level after every message."""

from __future__ import annotations

import itertools
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pytest

from quantumtrader.book.validate import LobsterMatch, _cross_check, match_lobster
from quantumtrader.core.errors import DataError
from quantumtrader.data.lobster import read_lobster

STEM = "GOOG_2012-06-21_34200000_57600000"


def lobster_zip(
    folder: Path, messages: Sequence[str], rows: Sequence[Sequence[int]], L: int
) -> Path:
    path = folder / f"LOBSTER_SampleFile_GOOG_2012-06-21_{L}.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{STEM}_message_{L}.csv", "".join(m + "\n" for m in messages))
        zf.writestr(
            f"{STEM}_orderbook_{L}.csv",
            "".join(",".join(str(v) for v in r) + "\n" for r in rows),
        )
    return path


# Level-1 file (ask px, ask size, bid px, bid size). Seed: ask 101.00 x 150, bid 100.00 x 100.
MESSAGES = [
    "34200,1,1,50,1010000,-1",  # 0 add 50 to the ask at 101.00
    "34201,3,2,100,1000000,1",  # 1 delete the bid level: 99.50 x 300 enters from beyond L
    "34202,4,3,100,995000,1",  # 2 execute 100 at 99.50
    "34203,1,4,10,1000000,1",  # 3 new best bid 100.00 x 10
    "34204,3,4,10,1000000,1",  # 4 delete it: 99.50 (seen before) comes back
    "34205,1,5,5,1005000,-1",  # 5 new best ask 100.50 pushes 101.00 out of the window
    "34206,3,5,5,1005000,-1",  # 6 delete it; 101.00 was cancelled while outside
    "34207,5,0,3,1000050,-1",  # 7 hidden execution at a half cent
]
ROWS = [
    [1010000, 200, 1000000, 100],
    [1010000, 200, 995000, 300],
    [1010000, 200, 995000, 200],
    [1010000, 200, 1000000, 10],
    [1010000, 200, 995000, 200],
    [1005000, 5, 995000, 200],
    [1015000, 70, 995000, 200],
    [1015000, 70, 995000, 200],
]


@pytest.fixture
def hand(tmp_path: Path) -> LobsterMatch:
    return match_lobster(read_lobster(lobster_zip(tmp_path, MESSAGES, ROWS, 1)))


def test_hand_messages_only(hand: LobsterMatch) -> None:
    # Rows 0 and 3 match. The bid 99.50 is never described by a message, so rows 1, 2,
    # 4-7 miss it; the stale ask 101.00 shows in rows 6-7 where 101.50 should be.
    assert (hand.n_messages, hand.rows_ok_messages) == (8, 2)
    assert hand.level_rate_messages == (0.25,)
    assert hand.classes_messages == {"size": 0, "missing_level": 6, "phantom_level": 2}
    assert hand.clamped_messages == 1  # executing 100 at 99.50, which our book lacks
    assert hand.first_mismatch_messages == 1
    assert hand.rate_messages == 0.25


def test_hand_synced_stream(hand: LobsterMatch) -> None:
    # The reader's corrections: SET 99.50 x 300 (row 1), DELETE 101.00 and SET 101.50 x 70
    # (row 6). Replayed by the oracle and by OrderBook, every row matches.
    assert (hand.rows_ok_stream, hand.rate_stream, hand.first_mismatch_stream) == (8, 1.0, -1)
    assert hand.level_rate_stream == (1.0,)
    assert hand.classes_stream == {"size": 0, "missing_level": 0, "phantom_level": 0}
    assert hand.stream_corrections == 3
    assert (hand.stream_book_disagreements, hand.stream_depth_checks) == (0, 8)
    assert hand.stream_crossed == 0
    assert hand.clamped_stream == 0  # the execution at 99.50 comes after its SET


def test_hand_stream_without_sync(tmp_path: Path) -> None:
    m = match_lobster(read_lobster(lobster_zip(tmp_path, MESSAGES, ROWS, 1), sync=False))
    # The stream is the messages only: (c) reproduces (a).
    assert (m.rows_ok_stream, m.first_mismatch_stream, m.stream_corrections) == (2, 1, 0)
    assert m.classes_stream == m.classes_messages
    assert m.clamped_stream == 1
    # Best bid or ask differ after rows 1, 2, 4, 5, 6, 7, and so does the depth there.
    assert (m.stream_book_disagreements, m.stream_depth_checks, m.stream_crossed) == (12, 8, 0)
    assert m.rows_ok_synced == 8  # (b) does not depend on the reader's corrections


def test_not_a_lobster_stream(tmp_path: Path) -> None:
    data = read_lobster(lobster_zip(tmp_path, MESSAGES, ROWS, 1))
    book = data.market.book
    old_seq = book.column("seq").to_numpy()
    bad = book.set_column(
        book.schema.get_field_index("seq"), "seq", pa.array(old_seq - old_seq % 3)
    )
    market = msgspec.structs.replace(data.market, book=bad)
    with pytest.raises(DataError, match="not a LOBSTER stream"):
        match_lobster(msgspec.structs.replace(data, market=market))


def test_hand_window_sync(hand: LobsterMatch) -> None:
    # Sync takes 99.50 x 300 (row 1) and 101.50 x 70 (row 6) from the reference and
    # removes the stale 101.00 (row 6). Row 4's re-entry of 99.50 needs no correction.
    assert hand.rows_ok_synced == 8
    assert hand.level_rate_synced == (1.0,)
    assert hand.classes_synced == {"size": 0, "missing_level": 0, "phantom_level": 0}
    assert (hand.syncs, hand.phantoms_removed, hand.clamped_synced) == (2, 1, 0)
    assert hand.first_mismatch_synced == -1
    assert hand.book_disagreements == 0
    assert (hand.levels, hand.file_levels, hand.symbol) == (1, 1, "GOOG")


def test_book_cross_check_counts_disagreements(tmp_path: Path) -> None:
    data = read_lobster(lobster_zip(tmp_path, MESSAGES, ROWS, 1))
    seed = data.market.seed
    assert seed is not None
    tick = 0.01
    lo = 9900
    d_row = np.arange(7)  # rows 0-6 change the book; row 7 is a hidden execution
    d_side = np.array([1, 0, 0, 0, 0, 1, 1])
    d_idx = np.array([10100, 10000, 9950, 10000, 10000, 10050, 10050]) - lo
    d_size = np.array([50.0, -100, -100, 10, -10, 5, -5])
    # The oracle claims a best ask of 100.99 after every message: the book disagrees.
    best = np.tile(np.array([[10000 - lo, 10099 - lo]]), (8, 1))
    final = np.full((4, 1), np.nan)
    bad = _cross_check(
        symbol="GOOG",
        tick=tick,
        lo=lo,
        seed=seed,
        deltas=(d_row, d_side, d_idx, d_size),
        ops=np.zeros((0, 4)),
        oracle_best=best,
        final=final,
    )
    assert bad == 8 + 1  # every row's best ask, and the final depth


def test_size_error_is_a_real_mismatch(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[2][3] = 199  # the reference disagrees with the execution's size
    m = match_lobster(read_lobster(lobster_zip(tmp_path, MESSAGES, rows, 1)))
    # Row 2's bid 99.50 was shown in row 1, so the sync does not touch it: one size
    # mismatch at row 2 (row 4 agrees again: 200 after the execution).
    assert m.classes_synced == {"size": 1, "missing_level": 0, "phantom_level": 0}
    assert (m.rows_ok_synced, m.first_mismatch_synced) == (7, 2)


def test_levels_argument(tmp_path: Path) -> None:
    msgs = ["34200,1,1,10,1000000,1", "34201,3,1,10,1000000,1"]
    rows = [
        [1010000, 5, 1000000, 10, 1020000, 7, 990000, 4],
        [1010000, 5, 990000, 4, 1020000, 7, 980000, 9],  # 98.00 enters at level 2
    ]
    data = read_lobster(lobster_zip(tmp_path, msgs, rows, 2))
    both = match_lobster(data)
    assert both.level_rate_messages == (1.0, 0.5)
    assert both.level_rate_synced == (1.0, 1.0)
    assert both.syncs == 1
    top = match_lobster(data, levels=1)
    assert (top.levels, top.file_levels, top.rows_ok_messages) == (1, 2, 2)
    with pytest.raises(ValueError, match="levels"):
        match_lobster(data, levels=3)
    with pytest.raises(ValueError, match="levels"):
        match_lobster(data, levels=0)
    no_seed = msgspec.structs.replace(data, market=msgspec.structs.replace(data.market, seed=None))
    with pytest.raises(DataError, match="seed"):
        match_lobster(no_seed)


# ----------------------------------------------------------------------------- real data

# Measured 2012-06-21 (rows matching with messages only; window syncs; phantoms removed).
# The messages-only replay keeps levels that left the window and were cancelled out of
# sight, so it fails almost at once (first mismatch within the first 64 messages).
REAL = {
    ("AAPL", 1): (118_497, 3, 14_477, 11_423),
    ("AMZN", 1): (57_515, 53, 7_724, 3_246),
    ("AMZN", 5): (155_935, 90, 11_005, 4_322),
    ("GOOG", 1): (49_482, 82, 5_092, 4_540),
    ("GOOG", 5): (112_673, 49, 7_251, 5_851),
    ("GOOG", 10): (147_916, 97, 4_984, 3_348),
}


@lru_cache(maxsize=8)
def _match(folder: str, symbol: str, level: int) -> LobsterMatch:
    path = Path(folder) / f"LOBSTER_SampleFile_{symbol}_2012-06-21_{level}.zip"
    return match_lobster(read_lobster(path))


@pytest.mark.parametrize(("symbol", "level"), sorted(REAL))
def test_real_synced_match_is_exact(lobster_dir: Path, symbol: str, level: int) -> None:
    m = _match(str(lobster_dir), symbol, level)
    n, ok_a, syncs, phantoms = REAL[symbol, level]
    assert m.n_messages == n
    assert m.rows_ok_synced == n
    assert m.level_rate_synced == (1.0,) * level
    assert sum(m.classes_synced.values()) == 0
    assert m.clamped_synced == 0
    assert m.book_disagreements == 0
    assert (m.syncs, m.phantoms_removed) == (syncs, phantoms)
    assert m.rows_ok_messages >= ok_a
    assert 0 <= m.first_mismatch_messages < 100
    assert m.classes_messages["phantom_level"] > m.classes_messages["missing_level"]


@pytest.mark.parametrize(("symbol", "level"), sorted(REAL))
def test_real_synced_stream_is_exact(lobster_dir: Path, symbol: str, level: int) -> None:
    m = _match(str(lobster_dir), symbol, level)
    n, _, syncs, phantoms = REAL[symbol, level]
    # (c): the reader's stream matches every level of every row, through the oracle and
    # OrderBook (best after every message, full depth at 2,000 messages), never crossed.
    assert m.rows_ok_stream == n and m.first_mismatch_stream == -1
    assert m.level_rate_stream == (1.0,) * level
    assert sum(m.classes_stream.values()) == m.clamped_stream == 0
    assert (m.stream_book_disagreements, m.stream_depth_checks, m.stream_crossed) == (0, 2000, 0)
    # Its corrections are the oracle's sync writes (beyond="keep").
    assert m.stream_corrections == syncs + phantoms


def test_real_messages_only_level_rates(lobster_dir: Path) -> None:
    m = _match(str(lobster_dir), "GOOG", 10)
    # Deeper levels leave and re-enter the window more often: the rate falls with depth.
    rates = m.level_rate_messages
    assert rates[0] >= 0.0521 and rates[-1] >= 0.00065
    assert all(a >= b for a, b in itertools.pairwise(rates))
