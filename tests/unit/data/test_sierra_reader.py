"""Sierra Chart trade-and-depth reader: real ES files, seq layout, quarantine."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantumtrader.core.errors import DataError
from quantumtrader.data.market_day import MarketData
from quantumtrader.data.quarantine import QUARANTINE_SCHEMA
from quantumtrader.data.sierra import read_sierra
from quantumtrader.model.arrow import TRADE_SCHEMA
from quantumtrader.model.book import F_LAST, F_SNAPSHOT, BookAction, BookSide
from quantumtrader.model.book_arrow import BOOK_SCHEMA, QUOTE_SCHEMA

HEAD = (
    "Date;Time;Sequence;DepthSequence;Price;Volume;TradeType;AskPrice;BidPrice;AskSize;BidSize;"
    "TotalAskDepth;TotalBidDepth;AskDOMPrice;BidDOMPrice;AskDOM_0;BidDOM_0;AskDOM_1;BidDOM_1"
)


def _ns(text: str) -> int:
    delta = dt.datetime.fromisoformat(text) - dt.datetime(1970, 1, 1)
    return delta // dt.timedelta(microseconds=1) * 1000


def _row(
    seq: int,
    dseq: int,
    *,
    time: str = "13:30:00.5000",
    price: str = "4347.75",
    tt: str = "2",
    dom: str = "4347.75;4347.5;11;35;60;0",
    bid: str = "4347.5",
) -> str:
    return f"2022-01-24;{time};{seq};{dseq};{price};2;{tt};4347.75;{bid};12;34;71;35;{dom}"


def _aggr(data: MarketData) -> dict[int, tuple[int, int]]:
    t = data.trades
    out = {}
    for side in (-1, 1):
        mask = pc.equal(t["aggressor"], side)
        out[side] = (int(pc.sum(mask).as_py()), int(pc.sum(t.filter(mask)["qty"]).as_py()))
    return out


def _check_seq_layout(data: MarketData) -> None:
    """One counter: every seq used once; per row snapshot < quote < trade."""
    seqs = np.concatenate(
        [data.trades["seq"].to_numpy(), data.book["seq"].to_numpy(), data.quotes["seq"].to_numpy()]
    )
    assert np.array_equal(np.sort(seqs), np.arange(len(seqs)))
    assert np.array_equal(data.trades["seq"].to_numpy(), data.quotes["seq"].to_numpy() + 1)
    assert np.all(np.diff(data.book["seq"].to_numpy()) > 0)
    clears = data.book.filter(pc.equal(data.book["action"], BookAction.CLEAR))
    lasts = data.book.filter(pc.not_equal(pc.bit_wise_and(data.book["flags"], F_LAST), 0))
    assert clears.num_rows == lasts.num_rows
    assert pc.all(pc.not_equal(pc.bit_wise_and(data.book["flags"], F_SNAPSHOT), 0)).as_py()


def _replay_matches_dom(data: MarketData, path: Path) -> int:
    """Apply the deltas in seq order; before each trade the book equals the row's DOM."""
    lines = path.read_text().splitlines()
    head = lines[0].split(";")
    col = {n: i for i, n in enumerate(head)}
    levels = sum(1 for n in head if n.startswith("AskDOM_"))
    rows = {int(r.split(";")[col["Sequence"]]): r.split(";") for r in lines[1:]}
    book = data.book.to_pydict()
    trades = data.trades.to_pydict()
    state: dict[tuple[int, float], float] = {}
    j, checked = 0, 0
    for seq, seq_no in zip(trades["seq"], trades["trade_id"], strict=True):
        while j < len(book["seq"]) and book["seq"][j] < seq:
            if book["action"][j] == BookAction.CLEAR:
                state.clear()
            else:
                state[(book["side"][j], book["price"][j])] = book["size"][j]
            j += 1
        r = rows[seq_no]
        want = {}
        for k in range(levels):
            a, b = int(r[col[f"AskDOM_{k}"]]), int(r[col[f"BidDOM_{k}"]])
            if a:
                want[(BookSide.ASK, float(r[col["AskDOMPrice"]]) + 0.25 * k)] = float(a)
            if b:
                want[(BookSide.BID, float(r[col["BidDOMPrice"]]) - 0.25 * k)] = float(b)
        assert state == want, seq_no
        checked += 1
    return checked


def test_tbt_real(sierra_dir: Path) -> None:
    data = read_sierra(sierra_dir / "tbt.txt")
    assert (data.source, data.symbol, data.days) == ("sierra", "ES", [dt.date(2022, 1, 24)])
    assert data.trades.schema.equals(TRADE_SCHEMA)
    assert data.book.schema.equals(BOOK_SCHEMA)
    assert data.quotes.schema.equals(QUOTE_SCHEMA)
    assert data.quarantine.schema.equals(QUARANTINE_SCHEMA)
    assert (data.rows_read, data.rows_skipped, data.quarantine.num_rows) == (2026, 0, 0)
    assert data.trades.num_rows == data.quotes.num_rows == 2026
    assert _aggr(data) == {-1: (1010, 1414), 1: (1016, 1432)}
    # 611 distinct DepthSequence values, 40 levels a side, no empty level: 611 * 81 deltas
    assert data.book.num_rows == 611 * 81
    assert pc.min(data.trades["price"]).as_py() == 4343.25
    assert pc.max(data.trades["price"]).as_py() == 4347.75
    ts = data.trades["ts_event"].cast(pa.int64()).to_numpy()
    assert ts[0] == _ns("2022-01-24T13:30:00.005000")
    assert ts[-1] == _ns("2022-01-24T13:31:00.955009")
    assert np.all(np.diff(ts) >= 0)
    first = data.book.slice(0, 3).to_pydict()
    assert first["action"] == [BookAction.CLEAR, BookAction.SET, BookAction.SET]
    assert first["price"][1:] == [4347.75, 4348.0]
    assert first["size"][1:] == [11.0, 60.0]
    assert first["update_id"] == [2314221] * 3
    trade0 = data.trades.slice(0, 1).to_pylist()[0]
    assert (trade0["trade_id"], trade0["seq"], trade0["aggressor"]) == (2314222, 82, 1)
    quote0 = data.quotes.slice(0, 1).to_pylist()[0]
    assert (quote0["bid_price"], quote0["bid_size"], quote0["ask_price"], quote0["ask_size"]) == (
        4347.5,
        34.0,
        4347.75,
        12.0,
    )
    assert quote0["update_id"] == 2314221
    assert "unverified" in data.notes[0]
    assert any("611 depth snapshots (40 DOM levels" in n for n in data.notes)
    _check_seq_layout(data)


def test_2023_real_is_sorted_by_sequence(sierra_dir: Path) -> None:
    path = sierra_dir / "2023_06_29.txt"
    data = read_sierra(path)
    assert (data.rows_read, data.quarantine.num_rows, data.days) == (
        1026,
        0,
        [dt.date(2023, 6, 29)],
    )
    assert _aggr(data) == {-1: (511, 855), 1: (515, 786)}
    assert data.book.num_rows == 357 * 41
    trade_ids = data.trades["trade_id"].to_numpy()
    assert np.all(np.diff(trade_ids) > 0)
    ts = data.trades["ts_event"].cast(pa.int64()).to_numpy()
    assert np.all(np.diff(ts) >= 0)
    assert ts[0] == _ns("2023-06-29T13:30:00") and ts[-1] == _ns("2023-06-29T13:30:01.993001")
    assert any("37 backward steps" in n for n in data.notes)
    assert "confirmed" in data.notes[0] and "5 h" in data.notes[0]
    assert any("Datetime" in n and "vwap" in n for n in data.notes)
    _check_seq_layout(data)
    assert _replay_matches_dom(data, path) == 1026


def test_quarantine_names_line_and_field(tmp_path: Path) -> None:
    rows = [
        _row(10, 5),  # 2 good
        _row(11, 5, price="43x"),  # 3
        _row(12, 5)[: -len(";0")],  # 4 one field short
        _row(13, 5, price="4347.3"),  # 5 off the 0.25 grid
        _row(14, 5, tt="3"),  # 6
        _row(15, 5, bid="0"),  # 7
        _row(16, 5, dom="4347.75;4347.5;11;35;60;-1"),  # 8
        _row(17, 5, time="13:30:61.5"),  # 9
        _row(9, 4, time="13:30:00.955009", dom="4348;4347.5;4;5;0;6"),  # 10 earlier Sequence
        "",  # 11 blank
        _row(18, 6, time="13:30:01.7", tt="1"),  # 12 good, no final newline
    ]
    path = tmp_path / "tiny.txt"
    path.write_bytes(("\r\n".join([HEAD, *rows])).encode())
    data = read_sierra(path)
    q = data.quarantine.to_pydict()
    assert list(zip(q["line"], q["field"], strict=True)) == [
        (3, "Price"),
        (4, "fields"),
        (5, "Price"),
        (6, "TradeType"),
        (7, "BidPrice"),
        (8, "BidDOM_1"),
        (9, "Time"),
        (11, "line"),
    ]
    assert q["reason"][0] == "price '43x' is not a number"
    assert q["reason"][1] == "expected 19 ';'-separated fields, found 18"
    assert "0.25 grid" in q["reason"][2]
    assert q["raw"][0] == rows[1]  # without the CR
    assert set(q["file"]) == {str(path)}
    assert data.rows_read == 11 == data.trades.num_rows + data.quarantine.num_rows
    t = data.trades.to_pydict()
    assert t["trade_id"] == [9, 10, 18]
    assert [a for a in t["aggressor"]] == [1, 1, -1]
    ts = data.trades["ts_event"].cast(pa.int64()).to_pylist()
    # unpadded microseconds: .955009 = 955,009 µs, .5000 = 5 ms, .7 = 7 µs
    assert ts == [
        _ns("2022-01-24T13:30:00.955009"),
        _ns("2022-01-24T13:30:00.005000"),
        _ns("2022-01-24T13:30:01.000007"),
    ]
    b = data.book.to_pydict()
    # row Seq 9 (DepthSequence 4): CLEAR, ask 4348x4, bid 4347.5x5, bid 4347.25x6 (ask 1 empty)
    assert b["seq"][:4] == [0, 1, 2, 3]
    assert b["side"][:4] == [BookSide.BOTH, BookSide.ASK, BookSide.BID, BookSide.BID]
    assert b["price"][:4] == [0.0, 4348.0, 4347.5, 4347.25]
    assert b["size"][:4] == [0.0, 4.0, 5.0, 6.0]
    assert b["flags"][:4] == [F_SNAPSHOT, F_SNAPSHOT, F_SNAPSHOT, F_SNAPSHOT | F_LAST]
    assert t["seq"] == [5, 11, 17]  # quote at 4; next snapshot 6..9, quote 10; ...
    assert data.quotes["seq"].to_pylist() == [4, 10, 16]


def test_header_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read_sierra(tmp_path / "missing.txt")
    other = tmp_path / "other.txt"
    other.write_text("Date;Time;Price\n2022-01-24;13:30:00.1;4000\n")
    with pytest.raises(DataError, match="not a Sierra Chart export"):
        read_sierra(other)
    no_dom = tmp_path / "nodom.txt"
    no_dom.write_text(HEAD.split(";AskDOM_0", maxsplit=1)[0] + "\n")
    with pytest.raises(DataError, match="no AskDOM_0"):
        read_sierra(no_dom)
    short = tmp_path / "short.txt"
    short.write_text(HEAD.replace(";Volume", "") + "\n")
    with pytest.raises(DataError, match=r"lacks columns \['Volume'\]"):
        read_sierra(short)


def test_header_only_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text(HEAD)
    data = read_sierra(path)
    assert (data.rows_read, data.trades.num_rows, data.book.num_rows, data.days) == (0, 0, 0, [])


@given(
    st.lists(
        st.tuples(st.booleans(), st.lists(st.integers(0, 3), min_size=4, max_size=4)),
        min_size=1,
        max_size=12,
    )
)
def test_snapshots_follow_depth_sequence(rows: list[tuple[bool, list[int]]]) -> None:
    """A snapshot per DepthSequence change holding exactly the non-empty levels."""
    lines, dseq, want_sets, changes = [HEAD], 100, 0, 0
    prev: list[int] | None = None
    for i, (new_depth, sizes) in enumerate(rows):
        if new_depth or prev is None:
            dseq += 1
            changes += 1
            want_sets += sum(1 for s in sizes if s > 0)
            prev = sizes
        dom = "4347.75;4347.5;" + ";".join(str(s) for s in prev)
        lines.append(_row(1000 + i, dseq, dom=dom))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.txt"
        path.write_text("\n".join(lines) + "\n")
        data = read_sierra(path)
    actions = data.book["action"].to_numpy()
    assert int((actions == BookAction.CLEAR).sum()) == changes
    assert int((actions == BookAction.SET).sum()) == want_sets
    assert (data.rows_read, data.trades.num_rows) == (len(rows), len(rows))
    _check_seq_layout(data)


def test_duplicate_header_column(tmp_path: Path) -> None:
    path = tmp_path / "dup.txt"
    path.write_text(HEAD + ";Price\n")
    with pytest.raises(DataError, match=r"dup\.txt:1: duplicate header columns \['Price'\]"):
        read_sierra(path)
