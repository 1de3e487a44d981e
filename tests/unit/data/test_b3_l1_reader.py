"""B3 level-1 poll reader: the real WDO sample, hand-built polls, quarantine."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from quantumtrader.core.errors import DataError
from quantumtrader.data.b3_l1 import read_b3_l1
from quantumtrader.data.market_day import MarketData
from quantumtrader.model.book import F_LAST, F_SNAPSHOT, BookAction, BookSide
from quantumtrader.model.book_arrow import BOOK_SCHEMA, QUOTE_SCHEMA

WDO_FILE = "book_data_processed_sample.csv"
HEADER = ",".join(
    ["timestamp"]
    + [f"{s}_{w}_{k}" for s in ("bid", "ask") for k in range(1, 6) for w in ("price", "vol")]
    + ["spread", "symbol"]
)
Levels = list[tuple[float, int]]

ASK, BID, BOTH = BookSide.ASK, BookSide.BID, BookSide.BOTH
SET, DELETE, CLEAR = BookAction.SET, BookAction.DELETE, BookAction.CLEAR


def _row(ts: str, bids: Levels, asks: Levels, symbol: str = "WDOU25") -> str:
    cells = [ts]
    for side in (bids, asks):
        padded = side + [(0, 0)] * (5 - len(side))
        cells += [f"{p},{v}" for p, v in padded]
    return ",".join([*cells, "0.5", symbol])


def _utc(text: str) -> int:
    delta = dt.datetime.fromisoformat(text) - dt.datetime(1970, 1, 1)
    return delta // dt.timedelta(microseconds=1) * 1000


def _replay_quotes(data: MarketData) -> int:
    """Apply deltas in seq order; at each quote the book's best levels equal the quote."""
    book, quotes = data.book.to_pydict(), data.quotes.to_pydict()
    state: dict[int, dict[float, float]] = {BID: {}, ASK: {}}
    j = 0
    for n, qseq in enumerate(quotes["seq"]):
        while j < len(book["seq"]) and book["seq"][j] < qseq:
            side, price = book["side"][j], book["price"][j]
            if book["action"][j] == CLEAR:
                state = {BID: {}, ASK: {}}
            elif book["action"][j] == DELETE:
                del state[side][price]
            else:
                state[side][price] = book["size"][j]
            j += 1
        assert book["flags"][j - 1] & F_LAST
        for side, name, best in ((BID, "bid", max), (ASK, "ask", min)):
            if state[side]:
                top = best(state[side])
                assert (top, state[side][top]) == (
                    quotes[f"{name}_price"][n],
                    quotes[f"{name}_size"][n],
                )
            else:
                assert math.isnan(quotes[f"{name}_price"][n])
    return len(quotes["seq"])


def test_wdo_real(wdo_l1_dir: Path) -> None:
    path = wdo_l1_dir / WDO_FILE
    data = read_b3_l1(path)
    assert (data.source, data.symbol, data.days) == ("b3_l1", "WDOU25", [dt.date(2025, 8, 11)])
    assert data.book.schema.equals(BOOK_SCHEMA) and data.quotes.schema.equals(QUOTE_SCHEMA)
    assert (data.trades.num_rows, data.quarantine.num_rows) == (0, 0)
    # 1 snapshot row + 1,198 changed steps of 9,999; 8,801 unchanged polls skipped
    assert (data.rows_read, data.rows_skipped, data.quotes.num_rows) == (10_000, 8_801, 1_199)
    assert data.rows_read == data.quotes.num_rows + data.quarantine.num_rows + data.rows_skipped
    actions = data.book["action"].to_numpy()
    # 78 bid and 78 ask price moves: a DELETE and a SET each; the rest are size SETs
    assert [int((actions == a).sum()) for a in (CLEAR, SET, DELETE)] == [1, 1528, 156]
    assert data.book.num_rows == 1685
    q0 = data.quotes.slice(0, 1).to_pylist()[0]
    assert (q0["bid_price"], q0["bid_size"], q0["ask_price"], q0["ask_size"]) == (
        5471.0,
        404.0,
        5471.5,
        86.0,
    )
    ts = data.quotes["ts_event"].cast(pa.int64()).to_numpy()
    assert ts[0] == _utc("2025-08-11T13:56:19.677243")  # 10:56 São Paulo = UTC-3
    assert np.all(np.diff(ts) > 0)
    assert any("1198 of 9999 steps" in n for n in data.notes)
    assert any("locked book (bid == ask) in 18 polls (16 emitted)" in n for n in data.notes)
    assert any("levels 2-5 filled in 0 polls" in n for n in data.notes)
    assert any("derived columns ignored: spread, mid_price, imbalance" in n for n in data.notes)
    assert _replay_quotes(data) == 1_199

    # independent count of the changes with the csv module
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    cols = [c for c in rows[0] if c.startswith(("bid_price", "bid_vol", "ask_price", "ask_vol"))]
    states = [tuple(float(r[c]) for c in cols) for r in rows]
    assert sum(a != b for a, b in itertools.pairwise(states)) == 1198
    assert {r["symbol"] for r in rows} == {"WDOU25"}


def test_hand_built_polls_and_quarantine(tmp_path: Path) -> None:
    day = "2025-08-11 10:00:"
    rows = [
        _row(day + "00.000100", [(100.0, 5), (99.5, 7)], [(100.5, 3)]),  # 2 snapshot
        _row(day + "00.052", [(100.0, 5), (99.5, 7)], [(100.5, 3)]),  # 3 unchanged
        _row(day + "00.104", [(100.0, 6), (99.5, 7)], [(100.5, 3)]),  # 4 size
        _row(day + "00.110", [(100.0, 6)], [(100.5, 3)], symbol="WDOV25"),  # 5
        _row(day + "00.120", [(100.2, 6)], [(100.5, 3)]),  # 6 off the 0.5 grid
        _row(day + "00.130", [(100.0, 6)], [(100.5, 3)]).replace(",100.5,3,", ",100.5,abc,"),
        _row(day + "00.140", [(100.0, 6), (0, 0), (99.0, 1)], [(100.5, 3)]),  # 8 gap
        _row("2025-08-11 25:00:00", [(100.0, 6)], [(100.5, 3)]),  # 9
        _row(day + "00.050", [(100.0, 6)], [(100.5, 3)]),  # 10 earlier than line 4
        "2025-08-11 10:00:00.150,100.0,6",  # 11
        _row(day + "00.156", [(100.0, 6), (99.5, 7)], [(101.0, 2)]),  # 12 ask moves
        _row(day + "00.208", [(101.0, 1), (100.0, 6)], [(101.0, 2)]),  # 13 locked
        _row(day + "00.260", [(101.0, 0), (100.0, 6)], [(101.0, 2)]),  # 14 size 0
        _row(day + "01", [], [(101.0, 2)]),  # 15 bids empty, no fraction
    ]
    path = tmp_path / "l1.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    data = read_b3_l1(path)
    q = data.quarantine.to_pydict()
    assert list(zip(q["line"], q["field"], strict=True)) == [
        (5, "symbol"),
        (6, "bid_price_1"),
        (7, "ask_vol_1"),
        (8, "bid_price_3"),
        (9, "timestamp"),
        (10, "timestamp"),
        (11, "fields"),
        (14, "bid_vol_1"),
    ]
    assert q["reason"][0] == "symbol 'WDOV25' differs from the file's 'WDOU25'"
    assert "earlier than the previous" in q["reason"][5]
    assert q["raw"][6] == rows[9]
    assert (data.rows_read, data.rows_skipped, data.quotes.num_rows) == (14, 1, 5)
    b = data.book.to_pydict()
    got = list(
        zip(b["seq"], b["side"], b["action"], b["price"], b["size"], b["flags"], strict=True)
    )
    snap = F_SNAPSHOT
    assert got == [
        (0, BOTH, CLEAR, 0.0, 0.0, snap),
        (1, BID, SET, 100.0, 5.0, snap),
        (2, BID, SET, 99.5, 7.0, snap),
        (3, ASK, SET, 100.5, 3.0, snap | F_LAST),
        (5, BID, SET, 100.0, 6.0, F_LAST),
        (7, ASK, DELETE, 100.5, 0.0, 0),
        (8, ASK, SET, 101.0, 2.0, F_LAST),
        (10, BID, DELETE, 99.5, 0.0, 0),
        (11, BID, SET, 101.0, 1.0, F_LAST),
        (13, BID, DELETE, 101.0, 0.0, 0),
        (14, BID, DELETE, 100.0, 0.0, F_LAST),
    ]
    quotes = data.quotes.to_pydict()
    assert quotes["seq"] == [4, 6, 9, 12, 15]
    assert quotes["bid_price"][:4] == [100.0, 100.0, 100.0, 101.0]
    assert quotes["ask_price"] == [100.5, 100.5, 101.0, 101.0, 101.0]
    assert math.isnan(quotes["bid_price"][4]) and quotes["bid_size"][4] == 0.0
    ts = data.quotes["ts_event"].cast(pa.int64()).to_pylist()
    assert ts[0] == _utc("2025-08-11T13:00:00.000100")
    assert ts[-1] == _utc("2025-08-11T13:00:01")
    assert any("locked book (bid == ask) in 1 polls (1 emitted)" in n for n in data.notes)
    assert _replay_quotes(data) == 5


def test_daylight_saving_time_and_deep_levels(tmp_path: Path) -> None:
    path = tmp_path / "dol.csv"
    rows = [
        _row("2018-11-05 10:00:00.5", [(3700.0, 5)], [(3700.5, 1), (3701.0, 2)], "DOLZ18"),
        _row("2018-11-05 10:00:01.5", [(3700.0, 5)], [(3700.5, 1), (3701.0, 9)], "DOLZ18"),
    ]
    path.write_text("\n".join([HEADER, *rows]))
    data = read_b3_l1(path)
    assert (data.symbol, data.days) == ("DOLZ18", [dt.date(2018, 11, 5)])
    ts = data.quotes["ts_event"].cast(pa.int64()).to_pylist()
    assert ts == [_utc("2018-11-05T12:00:00.5"), _utc("2018-11-05T12:00:01.5")]  # UTC-2 (DST)
    last = data.book.slice(data.book.num_rows - 1).to_pylist()[0]
    assert (last["side"], last["action"], last["price"], last["size"]) == (ASK, SET, 3701.0, 9.0)
    assert any("levels 2-5 filled in 2 polls" in n for n in data.notes)


def test_header_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,bid\n1,2\n")
    with pytest.raises(DataError, match="not a B3 level-1 CSV"):
        read_b3_l1(bad)
    short = tmp_path / "short.csv"
    short.write_text(HEADER.replace(",symbol", "") + "\n")
    with pytest.raises(DataError, match=r"lacks columns \['symbol'\]"):
        read_b3_l1(short)
    nosym = tmp_path / "nosym.csv"
    nosym.write_text(HEADER + "\n" + _row("2025-08-11 10:00:00", [], [], symbol="") + "\n")
    with pytest.raises(DataError, match="no data row with a symbol"):
        read_b3_l1(nosym)
