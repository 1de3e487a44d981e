"""Book-source detection, reading and import into the lake."""

from __future__ import annotations

import datetime as dt
import gzip
import types
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from quantumtrader.core.errors import DataError
from quantumtrader.data import book_import
from quantumtrader.data.book_import import (
    detect_book_source,
    import_market_data,
    read_book_source,
    seed_deltas,
    split_by_day,
)
from quantumtrader.data.lake import Lake
from quantumtrader.data.market_day import MarketData
from quantumtrader.data.quarantine import QUARANTINE_SCHEMA, QuarantineRow, quarantine_table
from quantumtrader.model.arrow import TRADE_SCHEMA, trades_to_table
from quantumtrader.model.book import F_LAST, F_SNAPSHOT, BookAction, BookSide, BookSnapshot
from quantumtrader.model.book_arrow import BOOK_SCHEMA, QUOTE_SCHEMA
from quantumtrader.model.events import Aggressor, Trade

WDO_FILE = "book_data_processed_sample.csv"
NS = 10**9


def _utc(text: str) -> int:
    delta = dt.datetime.fromisoformat(text) - dt.datetime(1970, 1, 1)
    return delta // dt.timedelta(microseconds=1) * 1000


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _trades(symbol: str, times: list[int]) -> pa.Table:
    return trades_to_table(
        Trade(
            ts_event=t,
            ts_init=t,
            symbol=symbol,
            price=5000.0,
            qty=1,
            aggressor=Aggressor.BUY,
            seq=i,
        )
        for i, t in enumerate(times)
    )


def _market(symbol: str, trades: pa.Table, quarantine: pa.Table | None = None) -> MarketData:
    return MarketData(
        source="test",
        symbol=symbol,
        days=[],
        trades=trades,
        book=BOOK_SCHEMA.empty_table(),
        quotes=QUOTE_SCHEMA.empty_table(),
        quarantine=quarantine if quarantine is not None else QUARANTINE_SCHEMA.empty_table(),
    )


def test_detect_real_files(
    sierra_dir: Path, wdo_l1_dir: Path, lobster_dir: Path, binance_dir: Path, b3_day_file: Path
) -> None:
    assert detect_book_source(sierra_dir / "tbt.txt") == "sierra"
    assert detect_book_source(sierra_dir / "2023_06_29.txt") == "sierra"  # CRLF
    assert detect_book_source(wdo_l1_dir / WDO_FILE) == "b3_l1"
    zips = sorted(lobster_dir.glob("LOBSTER_SampleFile_*.zip"))
    assert len(zips) == 6 and {detect_book_source(z) for z in zips} == {"lobster"}
    gzs = sorted(binance_dir.rglob("*.gz"))
    assert len(gzs) == 6 and {detect_book_source(g) for g in gzs} == {"binance"}
    assert detect_book_source(b3_day_file) is None  # a Profit trades export
    assert detect_book_source(sierra_dir / "SOURCE.md") is None
    assert detect_book_source(lobster_dir / "LOBSTER_SampleFiles_ReadMe.txt") is None


def test_detect_by_content(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "renamed.zip", "w") as zf:
        zf.writestr("INTC_2012-06-21_34200000_57600000_message_5.csv", "1,1,1,1,1,1\n")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("readme.txt", "hello")
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    cases = {
        "capture.gz": b'1723161600001658384 {"stream":"x@trade","data":{}}\n{"no": 1}\n',
        "badjson.gz": b"1723161600001658384 {not json\n",
        "text.gz": b"Date;Time\n",
    }
    for name, body in cases.items():
        with gzip.open(tmp_path / name, "wb") as fh:
            fh.write(body)
    (tmp_path / "plain.gz").write_bytes(b"123 {}\n")  # not gzip-compressed
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfDate;Time;Sequence;DepthSequence;Price\r\n")
    (tmp_path / "l1.csv").write_text("timestamp,bid_price_1,bid_vol_1\n")
    expected = {
        "renamed.zip": "lobster",
        "other.zip": None,
        "broken.zip": None,
        "capture.gz": "binance",
        "badjson.gz": None,
        "text.gz": None,
        "plain.gz": None,
        "bom.txt": "sierra",
        "l1.csv": "b3_l1",
    }
    assert {n: detect_book_source(tmp_path / n) for n in expected} == expected
    assert detect_book_source(tmp_path) is None
    with pytest.raises(DataError, match="file not found"):
        detect_book_source(tmp_path / "missing.txt")


def test_read_book_source_dispatch(sierra_dir: Path, wdo_l1_dir: Path, tmp_path: Path) -> None:
    reads = read_book_source([wdo_l1_dir / WDO_FILE, sierra_dir / "2023_06_29.txt"])
    assert [(r.source, r.symbol, r.trades.num_rows, r.quotes.num_rows) for r in reads] == [
        ("b3_l1", "WDOU25", 0, 1199),
        ("sierra", "ES", 1026, 1026),
    ]
    odd = tmp_path / "odd.txt"
    odd.write_text("hello\n")
    with pytest.raises(DataError, match=r"odd\.txt: not a known order-book source"):
        read_book_source([sierra_dir / "tbt.txt", odd])


def test_binance_files_grouped_per_symbol_and_market(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def fake_read(paths: list[Path]) -> MarketData:
        calls.append([f"{p.parent.name}/{p.name}" for p in paths])
        return _market("BTCUSDT", TRADE_SCHEMA.empty_table())

    real_import = book_import.importlib.import_module

    def fake_import(name: str) -> object:
        if name == "quantumtrader.data.binance":
            return types.SimpleNamespace(read_binance=fake_read)
        return real_import(name)

    monkeypatch.setattr(book_import.importlib, "import_module", fake_import)
    files = []
    for market, name in [
        ("spot", "btcusdt_20240809.gz"),
        ("usdm", "btcusdt_20240808.gz"),
        ("spot", "ethusdt_20240808.gz"),
        ("spot", "btcusdt_20240808.gz"),
    ]:
        (tmp_path / market).mkdir(exist_ok=True)
        with gzip.open(tmp_path / market / name, "wb") as fh:
            fh.write(b'1 {"stream": "x"}\n')
        files.append(tmp_path / market / name)
    assert len(read_book_source(files)) == 3
    assert calls == [
        ["spot/btcusdt_20240808.gz", "spot/btcusdt_20240809.gz"],
        ["usdm/btcusdt_20240808.gz"],
        ["spot/ethusdt_20240808.gz"],
    ]


def test_import_sierra_into_lake(sierra_dir: Path, tmp_path: Path) -> None:
    (data,) = read_book_source([sierra_dir / "2023_06_29.txt"])
    lake = Lake(tmp_path / "lake")
    infos = import_market_data(data, lake)
    day = dt.date(2023, 6, 29)
    assert [(i.kind, i.symbol, i.day, i.rows, i.quarantined) for i in infos] == [
        ("trades", "ES", day, 1026, 0),
        ("book", "ES", day, 14_637, 0),
        ("quotes", "ES", day, 1026, 0),
    ]
    assert lake.read_trades("ES", day).equals(data.trades)
    assert lake.read_book("ES", day).equals(data.book)
    assert lake.read_quotes("ES", day).equals(data.quotes)
    first = _files(lake.root)
    import_market_data(read_book_source([sierra_dir / "2023_06_29.txt"])[0], lake)
    assert _files(lake.root) == first


def test_import_wdo_into_lake(wdo_l1_dir: Path, tmp_path: Path) -> None:
    (data,) = read_book_source([wdo_l1_dir / WDO_FILE])
    lake = Lake(tmp_path)
    infos = import_market_data(data, lake)
    day = dt.date(2025, 8, 11)
    assert [(i.kind, i.day, i.rows) for i in infos] == [("book", day, 1685), ("quotes", day, 1199)]
    assert lake.partitions("trades") == []
    batches = list(lake.iter_book_batches("WDOU25", day, batch_rows=500))
    assert [b.num_rows for b in batches] == [500, 500, 500, 185]
    assert pa.Table.from_batches(batches).equals(data.book)


def test_quarantine_goes_with_the_book(tmp_path: Path) -> None:
    head = (
        "Date;Time;Sequence;DepthSequence;Price;Volume;TradeType;AskPrice;BidPrice;AskSize;"
        "BidSize;TotalAskDepth;TotalBidDepth;AskDOMPrice;BidDOMPrice;AskDOM_0;BidDOM_0"
    )
    good = "2022-01-24;23:59:59.5;1;1;4000;1;1;4000.25;4000;3;4;3;4;4000.25;4000;3;4"
    late = "2022-01-25;00:00:00.1;2;2;4000;1;2;4000.25;4000;3;4;3;4;4000.25;4000;5;4"
    path = tmp_path / "s.txt"
    path.write_text("\n".join([head, good, good.replace(";1;1;4000;", ";9;1;abc;"), late]))
    (data,) = read_book_source([path])
    infos = import_market_data(data, Lake(tmp_path / "lake"))
    got = [(i.kind, i.day.day, i.rows, i.quarantined) for i in infos]
    assert got == [
        ("trades", 24, 1, 0),
        ("trades", 25, 1, 0),
        ("book", 24, 3, 1),
        ("book", 25, 6, 0),  # the day-boundary snapshot (CLEAR + 2 levels), then its own 3
        ("quotes", 24, 1, 0),
        ("quotes", 25, 1, 0),
    ]
    q = Lake(tmp_path / "lake").quarantine("ES", dt.date(2022, 1, 24), "book").to_pylist()
    assert [(r["line"], r["field"]) for r in q] == [(3, "Price")]


def test_quarantine_without_book_and_without_events(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    bad = quarantine_table([QuarantineRow(file="f", line=2, field="price", reason="r", raw="x")])
    t = _utc("2025-08-11T13:00:00")
    infos = import_market_data(_market("WDOU25", _trades("WDOU25", [t]), bad), lake)
    assert [(i.kind, i.quarantined) for i in infos] == [("trades", 1)]
    with pytest.raises(DataError, match="all 1 rows quarantined"):
        import_market_data(_market("WDOU25", TRADE_SCHEMA.empty_table(), bad), lake)
    assert import_market_data(_market("WDOU25", TRADE_SCHEMA.empty_table()), lake) == []


def test_split_by_day_calendars() -> None:
    # 2025-08-11 23:30 São Paulo = 2025-08-12 02:30 UTC; 2018-11-04 23:30 local (DST, UTC-2)
    times = [
        _utc("2025-08-11T13:00:00"),
        _utc("2025-08-12T02:30:00"),
        _utc("2025-08-12T03:00:00"),  # local midnight
        _utc("2018-11-05T01:30:00"),
        _utc("2018-11-05T02:00:00"),  # local midnight in DST
    ]
    b3 = split_by_day(_trades("WDOU25", times), "WDOU25")
    assert {d.isoformat(): t.num_rows for d, t in b3.items()} == {
        "2018-11-04": 1,
        "2018-11-05": 1,
        "2025-08-11": 2,
        "2025-08-12": 1,
    }
    assert list(b3) == sorted(b3)
    utc = split_by_day(_trades("ES", times), "ES")
    assert {d.isoformat(): t.num_rows for d, t in utc.items()} == {
        "2018-11-05": 2,
        "2025-08-11": 1,
        "2025-08-12": 2,
    }
    assert b3[dt.date(2025, 8, 11)]["seq"].to_pylist() == [0, 1]
    assert split_by_day(TRADE_SCHEMA.empty_table(), "ES") == {}


def test_seed_is_stored_as_leading_snapshot(tmp_path: Path) -> None:
    t = 1_340_285_400 * NS
    seed = BookSnapshot(
        ts_event=t,
        ts_init=t,
        symbol="GOOG",
        seq=-1,
        bid_prices=(579.4, 579.3),
        bid_sizes=(500.0, 0.0),
        ask_prices=(580.23,),
        ask_sizes=(100.0,),
    )
    table = seed_deltas(seed)
    d = table.to_pydict()
    assert d["seq"] == [-3, -2, -1]
    assert d["side"] == [BookSide.BOTH, BookSide.ASK, BookSide.BID]
    assert d["action"] == [BookAction.CLEAR, BookAction.SET, BookAction.SET]
    assert d["price"] == [0.0, 580.23, 579.4]
    assert d["flags"] == [F_SNAPSHOT, F_SNAPSHOT, F_SNAPSHOT | F_LAST]
    trades = _trades("GOOG", [t + NS])
    data = _market("GOOG", trades)
    data.seed = seed
    infos = import_market_data(data, Lake(tmp_path))
    assert [(i.kind, i.rows) for i in infos] == [("trades", 1), ("book", 3)]
    stored = Lake(tmp_path).read_book("GOOG", dt.date(2012, 6, 21))
    assert np.array_equal(stored["seq"].to_numpy(), [-3, -2, -1])
