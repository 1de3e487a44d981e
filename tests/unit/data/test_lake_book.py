"""The lake's book and quote partitions: round trips, ordering, batches, symbols."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantumtrader.core.errors import DataError
from quantumtrader.data.lake import KINDS, Lake
from quantumtrader.data.quarantine import QuarantineRow
from quantumtrader.model.arrow import TRADE_SCHEMA, trades_to_table
from quantumtrader.model.book import BookAction, BookDelta, BookSide, Quote
from quantumtrader.model.book_arrow import (
    BOOK_SCHEMA,
    QUOTE_SCHEMA,
    deltas_to_table,
    quotes_to_table,
    table_to_deltas,
)
from quantumtrader.model.events import Aggressor, Trade

DAY = dt.date(2024, 8, 8)
T0 = 1_723_161_000 * 10**9
SYM = "BTCUSDT-PERP"


def _deltas(n: int, symbol: str = SYM) -> pa.Table:
    return deltas_to_table(
        BookDelta(
            ts_event=T0 + (i // 3) * 1000,
            ts_init=T0 + (i // 3) * 1000 + 7,
            symbol=symbol,
            side=BookSide.BID if i % 2 else BookSide.ASK,
            action=BookAction.SET,
            price=60_000.0 + (i % 17) * 0.1,
            size=float(i % 5),
            seq=i,
            update_id=10 + i // 3,
            flags=1 if i % 3 == 2 else 0,
        )
        for i in range(n)
    )


def _quotes(n: int) -> pa.Table:
    return quotes_to_table(
        Quote(
            ts_event=T0 + i,
            ts_init=T0 + i,
            symbol=SYM,
            bid_price=60_000.0,
            bid_size=float(i),
            ask_price=float("nan") if i == 3 else 60_000.1,
            ask_size=0.0 if i == 3 else 2.0,
            update_id=i,
            seq=i,
        )
        for i in range(n)
    )


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_book_round_trip_and_idempotent(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    table = _deltas(1000)
    bad = [QuarantineRow(file="f", line=7, field="price", reason="r", raw="x")]
    info = lake.write_book(SYM, DAY, table, bad)
    assert (info.kind, info.symbol, info.day, info.rows, info.quarantined) == (
        "book",
        SYM,
        DAY,
        1000,
        1,
    )
    assert info.path == tmp_path / f"kind=book/symbol={SYM}/date=2024-08-08/part.parquet"
    back = lake.read_book(SYM, DAY)
    assert back.schema.equals(BOOK_SCHEMA)
    assert back.equals(table)
    assert table_to_deltas(back)[999].update_id == 10 + 333
    assert lake.quarantine(SYM, DAY, "book").to_pydict()["line"] == [7]
    first = _files(tmp_path)
    lake.write_book(SYM, DAY, table, bad)
    assert _files(tmp_path) == first
    lake.write_book(SYM, DAY, table.slice(0, 10))
    assert lake.read_book(SYM, DAY).num_rows == 10
    assert lake.quarantine(SYM, DAY, "book").num_rows == 0
    (p,) = lake.partitions("book")
    assert (p.symbol, p.day, p.rows, p.quarantined) == (SYM, DAY, 10, 0)
    assert lake.partitions("trades") == [] and lake.partitions("quotes") == []


def test_quotes_round_trip(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    table = _quotes(20)
    lake.write_quotes(SYM, DAY, table)
    back = lake.read_quotes(SYM, DAY)
    assert back.schema.equals(QUOTE_SCHEMA)
    # NaN (no ask in row 3) compares unequal in Table.equals: check that column apart
    assert back.drop_columns(["ask_price"]).equals(table.drop_columns(["ask_price"]))
    np.testing.assert_array_equal(back["ask_price"].to_numpy(), table["ask_price"].to_numpy())
    assert np.isnan(back["ask_price"][3].as_py())
    assert [p.rows for p in lake.partitions("quotes")] == [20]
    assert [b.num_rows for b in lake.iter_quote_batches(SYM, DAY, 7)] == [7, 7, 6]


def test_batches_equal_the_table(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    table = _deltas(5000)
    lake.write_book(SYM, DAY, table)
    batches = list(lake.iter_book_batches(SYM, DAY, batch_rows=1024))
    assert [b.num_rows for b in batches] == [1024] * 4 + [904]
    assert all(b.schema.equals(BOOK_SCHEMA) for b in batches)
    assert pa.Table.from_batches(batches).equals(table)
    trades = trades_to_table(
        Trade(
            ts_event=T0 + i,
            ts_init=T0 + i,
            symbol=SYM,
            price=1.0,
            qty=1,
            aggressor=Aggressor.BUY,
            seq=i,
        )
        for i in range(100)
    )
    lake.write_trades(SYM, DAY, trades)
    tb = list(lake.iter_trade_batches(SYM, DAY, batch_rows=64))
    assert [b.num_rows for b in tb] == [64, 36]
    assert all(b.schema.equals(TRADE_SCHEMA) for b in tb)
    assert pa.Table.from_batches(tb).equals(lake.read_trades(SYM, DAY))
    with pytest.raises(DataError, match="batch_rows"):
        lake.iter_book_batches(SYM, DAY, batch_rows=0)
    with pytest.raises(DataError, match="no book partition for ETHUSDT-PERP"):
        lake.iter_book_batches("ETHUSDT-PERP", DAY)


def test_batches_stream_row_groups(tmp_path: Path) -> None:
    """Each batch comes from one row group: the reader never materialises the file."""
    lake = Lake(tmp_path)
    n = 300_000
    seq = np.arange(n, dtype=np.int64)
    big = pa.Table.from_arrays(
        [
            pa.array(T0 + seq // 4).cast(BOOK_SCHEMA.field("ts_event").type),
            pa.array(T0 + seq // 4).cast(BOOK_SCHEMA.field("ts_init").type),
            pa.array([SYM] * n),
            pa.array(np.where(seq % 2 == 0, -1, 1), pa.int8()),
            pa.array(np.zeros(n), pa.int8()),
            pa.array(60_000.0 + (seq % 50) * 0.1),
            pa.array((seq % 7).astype(np.float64)),
            pa.array(np.zeros(n, dtype=np.int64)),
            pa.array(seq),
            pa.array(seq // 4),
            pa.array(np.ones(n), pa.int16()),
        ],
        schema=BOOK_SCHEMA,
    )
    lake.write_book(SYM, DAY, big)
    meta = pq.ParquetFile(lake.partition_dir(SYM, DAY, "book") / "part.parquet").metadata
    assert meta.num_row_groups == 2  # 2**18 rows per book row group
    it = lake.iter_book_batches(SYM, DAY, batch_rows=50_000)
    first = next(it)
    assert first["seq"].to_pylist()[:3] == [0, 1, 2] and first.num_rows == 50_000
    assert sum(b.num_rows for b in it) == 250_000


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 50)), min_size=1, max_size=40, unique=True)
)
def test_stored_in_ts_seq_order(keys: list[tuple[int, int]]) -> None:
    table = deltas_to_table(
        BookDelta(
            ts_event=T0 + t,
            ts_init=T0,
            symbol=SYM,
            side=BookSide.BID,
            action=BookAction.SET,
            price=1.0,
            size=float(s),
            seq=s,
        )
        for t, s in keys
    )
    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake(Path(tmp))
        lake.write_book(SYM, DAY, table)
        back = lake.read_book(SYM, DAY)
    got = list(
        zip(back["ts_event"].cast(pa.int64()).to_pylist(), back["seq"].to_pylist(), strict=True)
    )
    assert got == sorted((T0 + t, s) for t, s in keys)
    assert back["size"].to_pylist() == [float(s) for _, s in got]


def test_symbols_and_kinds(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    assert KINDS == ("trades", "book", "quotes")
    for ok in ("BTCUSDT-PERP", "ES", "WDOU25", "a_b-c-d"):
        assert lake.partition_dir(ok, DAY, "quotes").name == "date=2024-08-08"
    for bad in ("a/b", "..", "../x", "a b", "-x", "x-", "a.b", "a--b", ""):
        with pytest.raises(DataError, match="invalid symbol"):
            lake.partition_dir(bad, DAY, "book")
    with pytest.raises(DataError, match="unknown partition kind"):
        lake.partitions("bars")
    with pytest.raises(DataError, match="unknown partition kind"):
        lake.partition_dir("ES", DAY, "bars")


def test_write_checks(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    with pytest.raises(DataError, match="book table does not match BOOK_SCHEMA"):
        lake.write_book(SYM, DAY, _deltas(3).drop_columns(["flags"]))
    with pytest.raises(DataError, match="quote table does not match QUOTE_SCHEMA"):
        lake.write_quotes(SYM, DAY, _deltas(3))
    with pytest.raises(DataError, match="rows of"):
        lake.write_book("ETHUSDT-PERP", DAY, _deltas(3))
    bad_side = _deltas(3).set_column(3, "side", pa.array([1, 2, 1], pa.int8()))
    with pytest.raises(DataError, match="side outside"):
        lake.write_book(SYM, DAY, bad_side)
    bad_action = _deltas(3).set_column(4, "action", pa.array([0, 9, 0], pa.int8()))
    with pytest.raises(DataError, match="action outside"):
        lake.write_book(SYM, DAY, bad_action)
    assert not tmp_path.joinpath("kind=book").exists()
    with pytest.raises(DataError, match="no quotes partition"):
        lake.read_quotes(SYM, DAY)


def test_book_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = Lake(tmp_path)
    lake.write_book(SYM, DAY, _deltas(30))
    before = _files(tmp_path)
    real = pq.write_table

    def failing(table: pa.Table, where: object, **kw: object) -> None:
        real(table.slice(0, 1), where, **kw)
        if ".part.parquet.tmp-" in str(where):  # the quarantine file was written already
            raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", failing)
    with pytest.raises(OSError, match="disk full"):
        lake.write_book(SYM, DAY, _deltas(5))
    assert _files(tmp_path) == before
    with pytest.raises(OSError, match="disk full"):
        lake.write_book(SYM, DAY + dt.timedelta(days=1), _deltas(5))
    assert [p.day for p in lake.partitions("book")] == [DAY]
