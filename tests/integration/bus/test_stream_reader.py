"""Time travel over Valkey streams: read_range, read_after, last_entry, Polars frames."""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl
import pytest
import valkey

from quantumtrader.bus import reader
from quantumtrader.bus.codec import encode
from quantumtrader.bus.config import StreamSpec, ValkeyConfig
from quantumtrader.bus.reader import (
    ReadStats,
    last_entry,
    malformed_total,
    read_after,
    read_frame,
    read_range,
    to_polars,
)
from quantumtrader.bus.streams import StreamWriter
from quantumtrader.bus.valkey_server import EmbeddedValkey, connect
from quantumtrader.model.events import Aggressor, Trade
from quantumtrader.model.feature_vector import FeatureVector
from quantumtrader.model.signals import Action, Signal

pytestmark = pytest.mark.integration

SPEC = StreamSpec(key="market_data:{symbol}", maxlen=1_000_000)
KEY = "market_data:DOLZ18"


def trade(ts: int, seq: int) -> Trade:
    return Trade(
        ts_event=ts,
        ts_init=ts + 1,
        symbol="DOLZ18",
        price=3700.5,
        qty=2,
        aggressor=Aggressor.SELL,
        seq=seq,
    )


def writer(server: EmbeddedValkey, tmp_path: Path) -> StreamWriter:
    return StreamWriter(lambda: connect(server.url, ValkeyConfig()), tmp_path / "spool")


def seqs(entries: list[tuple[str, object]]) -> list[int]:
    out = []
    for _id, msg in entries:
        assert isinstance(msg, Trade)
        out.append(msg.seq)
    return out


# market times around the ms 1000..1002 boundaries (ns)
STAMPS = [
    999_999_999,  # seq 0, ms 999
    1_000_000_000,  # seq 1, ms 1000
    1_000_000_500,  # seq 2, ms 1000
    1_000_999_999,  # seq 3, ms 1000
    1_001_000_000,  # seq 4, ms 1001
    1_001_500_000,  # seq 5, ms 1001
    1_001_600_000,  # seq 6, ms 1001
    1_002_000_001,  # seq 7, ms 1002
]


@pytest.fixture
def boundary_stream(
    valkey_client: valkey.Valkey, valkey_server: EmbeddedValkey, tmp_path: Path
) -> valkey.Valkey:
    w = writer(valkey_server, tmp_path)
    for seq, ts in enumerate(STAMPS):
        w.add(KEY, SPEC, trade(ts, seq))
    w.close()
    return valkey_client


def test_read_range_exact_boundaries(boundary_stream: valkey.Valkey) -> None:
    client = boundary_stream
    assert [i for i, _ in read_range(client, KEY)] == [
        "999-0",
        "1000-0",
        "1000-1",
        "1000-2",
        "1001-0",
        "1001-1",
        "1001-2",
        "1002-0",
    ]
    # both bounds inclusive, to the ns, although ids only resolve ms
    assert seqs(read_range(client, KEY, 1_000_000_500, 1_001_500_000)) == [2, 3, 4, 5]
    assert seqs(read_range(client, KEY, 1_000_000_501, 1_001_499_999)) == [3, 4]
    assert seqs(read_range(client, KEY, start_ns=1_001_000_000)) == [4, 5, 6, 7]
    assert seqs(read_range(client, KEY, end_ns=1_000_000_000)) == [0, 1]
    assert seqs(read_range(client, KEY, 1_000_000_000, None, count=2)) == [1, 2]
    assert read_range(client, KEY, 2_000_000_000, 3_000_000_000) == []
    assert read_range(client, KEY, 1_001_000_000, 1_000_000_000) == []
    assert read_range(client, "missing") == []


def test_read_range_pages(boundary_stream: valkey.Valkey, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "PAGE", 3)
    stats = ReadStats()
    assert seqs(read_range(boundary_stream, KEY, 1_000_000_000, None, stats=stats)) == list(
        range(1, 8)
    )
    assert stats.entries == 7  # pages of 3, 3, 1
    assert seqs(read_range(boundary_stream, KEY, count=4)) == [0, 1, 2, 3]


def test_read_range_large(
    valkey_client: valkey.Valkey, valkey_server: EmbeddedValkey, tmp_path: Path
) -> None:
    w = writer(valkey_server, tmp_path)
    n = 25_000  # three XRANGE pages of 10k
    for i in range(n):
        w.add(KEY, SPEC, trade(10**12 + i * 100_000, i))  # 10 per ms
    w.close()
    got = read_range(valkey_client, KEY)
    assert seqs(got) == list(range(n))
    # 10 trades per ms: ms 1_000_100 .. 1_000_199 hold seq 1000 .. 1999
    window = read_range(valkey_client, KEY, 10**12 + 100_000_000, 10**12 + 199_999_999)
    assert seqs(window) == list(range(1000, 2000))


def test_read_after_and_last_entry(boundary_stream: valkey.Valkey) -> None:
    client = boundary_stream
    assert seqs(read_after(client, KEY)) == list(range(8))
    assert seqs(read_after(client, KEY, "1000-1")) == [3, 4, 5, 6, 7]  # exclusive
    assert seqs(read_after(client, KEY, "1000-1", count=2)) == [3, 4]
    assert read_after(client, KEY, "1002-0") == []
    last = last_entry(client, KEY)
    assert last is not None
    assert last[0] == "1002-0"
    assert seqs([last]) == [7]
    assert last_entry(client, "missing") is None


def test_malformed_entries_are_skipped_and_counted(
    boundary_stream: valkey.Valkey, caplog: pytest.LogCaptureFixture
) -> None:
    client = boundary_stream
    client.xadd(KEY, {b"m": b"\xc1not msgpack"}, id="1003-0")
    client.xadd(KEY, {b"x": encode(trade(1_004_000_000, 99))}, id="1004-0")  # no m field
    before = malformed_total()
    stats = ReadStats()
    with caplog.at_level(logging.WARNING, logger="quantumtrader.bus.reader"):
        got = read_range(client, KEY, stats=stats)
    assert seqs(got) == list(range(8))
    assert stats.malformed == 2
    assert stats.malformed_ids == [(KEY, "1003-0"), (KEY, "1004-0")]
    assert stats.entries == 10
    assert malformed_total() == before + 2
    assert f"{KEY} entry 1003-0" in caplog.text
    assert f"{KEY} entry 1004-0" in caplog.text
    # the newest decodable entry lies behind the malformed ones
    last = last_entry(client, KEY)
    assert last is not None and last[0] == "1002-0"
    after = ReadStats()
    assert read_after(client, KEY, "1002-0", stats=after) == []
    assert after.malformed == 2


def test_to_polars_columns() -> None:
    msgs = [
        trade(5_000, 1),
        FeatureVector(
            ts_event=6_000,
            symbol="DOLZ18",
            seq=2,
            group="flow",
            values={"ofi": 1.5, "cvd": None, "symbol": 3.0},
        ),
        FeatureVector(ts_event=7_000, symbol="DOLZ18", seq=3, group="flow", values={"ofi": -2.0}),
        Signal(
            ts=8_000,
            agent_id="absorption",
            symbol="DOLZ18",
            action=Action.SELL,
            confidence=0.75,
            reason="absorbed",
        ),
    ]
    df = to_polars(msgs)
    assert df.height == 4
    assert df.columns[0] == "type"
    assert df["type"].to_list() == ["Trade", "FeatureVector", "FeatureVector", "Signal"]
    assert df["aggressor"].to_list() == [int(Aggressor.SELL), None, None, None]
    assert df["action"].to_list() == [None, None, None, "sell"]  # enum value
    assert df["ofi"].to_list() == [None, 1.5, -2.0, None]
    assert df.schema["cvd"] == pl.Float64  # None everywhere, still a feature column
    assert df["cvd"].to_list() == [None] * 4
    assert df["values.symbol"].to_list() == [None, 3.0, None, None]  # clashes with a field
    assert df["symbol"].to_list() == ["DOLZ18"] * 4
    assert df["ts_event"].to_list() == [5_000, 6_000, 7_000, None]
    assert df["ts"].to_list() == [None, None, None, 8_000]
    assert df["price"].to_list() == [3700.5, None, None, None]
    assert "values" not in df.columns
    assert to_polars([]).shape == (0, 0)


def test_read_frame(boundary_stream: valkey.Valkey) -> None:
    df = read_frame(boundary_stream, KEY, 1_001_000_000, 1_001_600_000)
    assert df.columns[:3] == ["id", "type", "ts_event"]
    assert df["id"].to_list() == ["1001-0", "1001-1", "1001-2"]
    assert df["seq"].to_list() == [4, 5, 6]
    assert df["ts_init"].to_list() == [1_001_000_001, 1_001_500_001, 1_001_600_001]
    empty = read_frame(boundary_stream, "missing")
    assert empty.columns == ["id"]
    assert empty.height == 0
