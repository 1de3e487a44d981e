"""Stream ids, the batched StreamWriter and its spool, against a real valkey-server."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import valkey
from hypothesis import given
from hypothesis import strategies as st

from quantumtrader.bus.codec import decode, encode
from quantumtrader.bus.config import StreamSpec, ValkeyConfig
from quantumtrader.bus.messages import Cancel, EndOfStream, Status, Step, Submit
from quantumtrader.bus.streams import (
    IdGen,
    Spool,
    SpoolRecord,
    StreamWriter,
    message_ts,
    parse_id,
)
from quantumtrader.bus.valkey_server import EmbeddedValkey, connect
from quantumtrader.core.errors import BusError
from quantumtrader.model.book import BookAction, BookDelta, BookSide
from quantumtrader.model.events import Aggressor, Trade
from quantumtrader.model.feature_vector import FeatureVector
from quantumtrader.model.orders import Fill, Order, OrderSide, OrderStatus, OrderUpdate
from quantumtrader.model.signals import Action, AgentPerformance, Decision, Signal

pytestmark = pytest.mark.integration

T0 = 1_541_420_000_000_000_000  # 2018-11-05 12:13:20 UTC, ns
SPEC = StreamSpec(key="market_data:{symbol}", maxlen=1_000_000)
KEY = SPEC.name("DOLZ18")


def trade(i: int, ts: int | None = None) -> Trade:
    t = T0 + i * 250_000 if ts is None else ts  # 4 trades per ms
    return Trade(
        ts_event=t,
        ts_init=t,
        symbol="DOLZ18",
        price=3700.0 + i % 7,
        qty=1 + i % 5,
        aggressor=Aggressor.BUY,
        seq=i,
    )


def ids(client: valkey.Valkey, key: str = KEY) -> list[str]:
    return [raw.decode() for raw, _ in client.xrange(key)]


def seqs(client: valkey.Valkey, key: str = KEY) -> list[int]:
    out = []
    for _id, fields in client.xrange(key):
        msg = decode(fields[b"m"])
        assert isinstance(msg, Trade)
        out.append(msg.seq)
    return out


def connector(url: str) -> Callable[[], valkey.Valkey]:
    return lambda: connect(url, ValkeyConfig())


# -- ids --------------------------------------------------------------------------------


def test_idgen_hand_computed() -> None:
    gen = IdGen()
    assert gen.next(0) == "0-1"  # never 0-0, which XADD refuses
    assert gen.next(5_000_000) == "5-0"
    assert gen.next(5_999_999) == "5-1"
    assert gen.next(4_000_000) == "5-2"  # backwards: stays on the last ms
    assert gen.next(7_000_001) == "7-0"
    gen.resume("9-4")
    assert gen.next(8_000_000) == "9-5"
    gen.resume("1-0")  # never moves backwards
    assert gen.last == "9-5"
    assert parse_id(b"12-3") == (12, 3)
    with pytest.raises(BusError, match="malformed"):
        parse_id("12")


@given(st.lists(st.integers(min_value=-(10**12), max_value=10**15), min_size=1, max_size=200))
def test_idgen_strictly_increasing(stamps: list[int]) -> None:
    gen = IdGen()
    out = [parse_id(gen.next(ts)) for ts in stamps]
    assert all(a < b for a, b in itertools.pairwise(out))
    running = 0
    for ts, (ms, _k) in zip(stamps, out, strict=True):
        running = max(running, ts // 1_000_000)
        assert ms == running  # the ms of the latest market time seen


def test_message_ts_of_every_kind() -> None:
    order = Order(order_id="o1", ts=11, symbol="X", side=OrderSide.BUY, qty=1)
    fill = Fill(ts=12, order_id="o1", symbol="X", side=OrderSide.BUY, qty=1, price=1.0, fee=0.0)
    cases = [
        (trade(0, ts=10), 10),
        (
            BookDelta(ts_event=9, ts_init=99, symbol="X", side=BookSide.BID, action=BookAction.SET),
            9,
        ),
        (FeatureVector(ts_event=8, symbol="X", seq=0, group="flow"), 8),
        (Signal(ts=7, agent_id="a", symbol="X", action=Action.BUY, confidence=1, reason=""), 7),
        (Decision(ts=6, symbol="X", action=Action.HOLD, confidence=0), 6),
        (
            AgentPerformance(
                ts=5, agent_id="a", symbol="X", round_trips=1, last_pnl=1.0, net_pnl=1.0
            ),
            5,
        ),
        (order, 11),
        (fill, 12),
        (OrderUpdate(ts=13, order_id="o1", status=OrderStatus.FILLED), 13),
        (Cancel(cmd_id=1, at_seq=0, order_id="o1", ts=14), 14),
        (Submit(cmd_id=1, at_seq=0, order=order), 11),
        (Status(stage="feed", pid=1, wall_ns=15), 15),
        (EndOfStream(symbol="X", last_seq=3, last_ts=16), 16),
        (Step(cmd_id=1, seq=5), 0),
    ]
    for msg, expected in cases:
        assert message_ts(msg) == expected, msg


# -- writer -----------------------------------------------------------------------------


def test_batching_by_size_and_time(
    valkey_client: valkey.Valkey, valkey_server: EmbeddedValkey, tmp_path: Path
) -> None:
    w = StreamWriter(connector(valkey_server.url), tmp_path / "spool", batch=100, flush_ms=60_000)
    returned = [w.add(KEY, SPEC, trade(i)) for i in range(250)]
    assert returned[:5] == [
        f"{T0 // 1_000_000}-0",
        f"{T0 // 1_000_000}-1",
        f"{T0 // 1_000_000}-2",
        f"{T0 // 1_000_000}-3",
        f"{T0 // 1_000_000 + 1}-0",
    ]
    assert valkey_client.xlen(KEY) == 200  # two full batches sent, 50 buffered
    assert (w.pipelines, w.written, w.buffered) == (2, 200, 50)
    w.flush()
    assert (w.pipelines, w.written, w.buffered) == (3, 250, 0)
    assert ids(valkey_client) == returned
    assert seqs(valkey_client) == list(range(250))
    w.close()

    timed = StreamWriter(connector(valkey_server.url), tmp_path / "spool2", flush_ms=30)
    timed.add("k2", SPEC, trade(0))
    timed.poll()
    assert valkey_client.xlen("k2") == 0  # not yet due
    time.sleep(0.05)
    timed.poll()
    assert valkey_client.xlen("k2") == 1
    timed.add("k2", SPEC, trade(1))
    time.sleep(0.05)
    timed.add("k2", SPEC, trade(2))  # add checks the age of the oldest entry too
    assert valkey_client.xlen("k2") == 3
    timed.close()


def test_add_now_is_synchronous(
    valkey_client: valkey.Valkey, valkey_server: EmbeddedValkey, tmp_path: Path
) -> None:
    w = StreamWriter(connector(valkey_server.url), tmp_path / "spool", flush_ms=60_000)
    for i in range(3):
        w.add(KEY, SPEC, trade(i))
    fills = StreamSpec(key="fills:{symbol}", maxlen=100)
    order_fill = Fill(
        ts=T0, order_id="o", symbol="DOLZ18", side=OrderSide.SELL, qty=2, price=3701.5, fee=0.5
    )
    fid = w.add_now(fills.name("DOLZ18"), fills, order_fill)
    assert fid == f"{T0 // 1_000_000}-0"
    assert valkey_client.xlen(KEY) == 3  # buffered entries went with it
    [(raw_id, fields)] = valkey_client.xrange("fills:DOLZ18")
    assert raw_id.decode() == fid
    assert decode(fields[b"m"]) == order_fill
    assert w.pipelines == 1


def test_maxlen_trim_and_ttl(
    valkey_client: valkey.Valkey, valkey_server: EmbeddedValkey, tmp_path: Path
) -> None:
    capped = StreamSpec(key="capped", maxlen=100, ttl_s=3600)
    forever = StreamSpec(key="forever", maxlen=1_000)
    w = StreamWriter(connector(valkey_server.url), tmp_path / "spool", batch=64)
    for i in range(1_000):
        w.add("capped", capped, trade(i))
        w.add("forever", forever, trade(i))
    w.close()
    # MAXLEN ~ trims whole radix-tree nodes (100 entries each): 100 <= len < 200
    assert 100 <= valkey_client.xlen("capped") < 200
    assert ids(valkey_client, "capped")[-1] == ids(valkey_client, "forever")[-1]
    assert valkey_client.xlen("forever") == 1_000
    assert 3590 <= valkey_client.ttl("capped") <= 3600
    assert valkey_client.ttl("forever") == -1  # ttl_s=0: no expiry


def test_resumes_after_what_is_there(
    valkey_client: valkey.Valkey, valkey_server: EmbeddedValkey, tmp_path: Path
) -> None:
    first = StreamWriter(connector(valkey_server.url), tmp_path / "s1")
    first.add_now(KEY, SPEC, trade(0, ts=5_000_000_000))
    first.close()
    second = StreamWriter(connector(valkey_server.url), tmp_path / "s2")
    # a restarted process whose first message is older continues after the stream's id
    assert second.add_now(KEY, SPEC, trade(1, ts=4_000_000_000)) == "5000-1"
    assert second.add_now(KEY, SPEC, trade(2, ts=6_000_000_000)) == "6000-0"
    assert ids(valkey_client) == ["5000-0", "5000-1", "6000-0"]
    assert (second.written, second.duplicates) == (2, 0)


def test_server_error_is_a_bus_error(
    valkey_client: valkey.Valkey, valkey_server: EmbeddedValkey, tmp_path: Path
) -> None:
    valkey_client.set("not_a_stream", b"x")
    w = StreamWriter(connector(valkey_server.url), tmp_path / "spool", flush_ms=60_000)
    w.add("ok", SPEC, trade(0))
    with pytest.raises(BusError, match="XINFO STREAM not_a_stream"):  # at first use
        w.add_now("not_a_stream", SPEC, trade(1))
    w.add_now("later", SPEC, trade(2))
    valkey_client.delete("later")
    valkey_client.set("later", b"x")  # the key changes type under the writer
    w.add("ok", SPEC, trade(3))
    with pytest.raises(BusError, match=r"XADD later .*WRONGTYPE"):
        w.add_now("later", SPEC, trade(4))
    assert seqs(valkey_client, "ok") == [0, 3]  # the rest of the pipeline went through
    assert (w.written, w.spooled) == (3, 0)


# -- outages and the spool --------------------------------------------------------------


@pytest.mark.parametrize("how", ["kill", "restart"])
def test_outage_loses_and_duplicates_nothing(tmp_path: Path, how: str) -> None:
    with EmbeddedValkey(tmp_path / "vk") as srv:
        client = connect(srv.url, ValkeyConfig())
        w = StreamWriter(connector(srv.url), tmp_path / "spool", batch=25, flush_ms=5)
        for i in range(100):
            w.add(KEY, SPEC, trade(i))
        w.flush()
        if how == "kill":
            srv.kill()
        else:
            srv.stop()
        for i in range(100, 200):
            w.add(KEY, SPEC, trade(i))
        w.add_now(KEY, SPEC, trade(200))
        assert w.spooled == 101  # everything after the outage, fsynced
        assert w.buffered == 0
        srv.start()
        for i in range(201, 230):  # within 200 ms of the failure: still spooled, in order
            w.add(KEY, SPEC, trade(i))
        time.sleep(0.25)
        w.poll()  # reconnect is due: replays the spool, then the buffer follows
        w.flush()
        assert w.spooled == 0
        assert w.reconnects == 1
        assert seqs(client) == list(range(230))
        assert w.written + w.duplicates == 230
        assert not (tmp_path / "spool").exists()
        w.close()
        client.close()


def test_spool_survives_a_dropped_writer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with EmbeddedValkey(tmp_path / "vk") as srv:
        url = srv.url
        client = connect(url, ValkeyConfig())
        w1 = StreamWriter(connector(url), tmp_path / "spool", flush_ms=60_000)
        w1.add_now(KEY, SPEC, trade(0))
        srv.kill()
        for i in range(1, 40):
            w1.add_now(KEY, SPEC, trade(i))
        assert w1.spooled == 39
        with caplog.at_level(logging.WARNING, logger="quantumtrader.bus.streams"):
            w1.close()  # still unreachable: the spool stays on disk
        assert str(tmp_path / "spool") in caplog.text
        del w1  # the process "dies" here
        srv.start()
        w2 = StreamWriter(connector(url), tmp_path / "spool")
        assert w2.spooled == 0  # replayed at construction
        assert (w2.written, w2.duplicates, w2.reconnects) == (39, 0, 1)
        assert seqs(client) == list(range(40))
        # and it continues after the replayed ids
        assert parse_id(w2.add_now(KEY, SPEC, trade(40))) > parse_id(ids(client)[-2])
        assert seqs(client) == list(range(41))
        client.close()


def test_replayed_entries_already_written_are_duplicates(
    valkey_client: valkey.Valkey, valkey_server: EmbeddedValkey, tmp_path: Path
) -> None:
    w = StreamWriter(connector(valkey_server.url), tmp_path / "spool")
    written = [(w.add(KEY, SPEC, trade(i)), trade(i)) for i in range(10)]
    w.close()
    # a spool as left by a writer whose pipeline reached the server but not its reply
    spool = Spool(tmp_path / "spool2")
    records = [SpoolRecord(KEY, i, SPEC.maxlen, 0, encode(m)) for i, m in written]
    records += [
        SpoolRecord(KEY, f"{T0 // 1_000_000 + 9}-{k}", SPEC.maxlen, 0, encode(trade(10 + k)))
        for k in range(2)
    ]
    spool.append(records)
    spool.close()
    again = StreamWriter(connector(valkey_server.url), tmp_path / "spool2")
    assert (again.duplicates, again.written, again.spooled) == (10, 2, 0)
    assert seqs(valkey_client) == list(range(12))


def test_torn_spool_record_is_cut(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "spool"
    spool = Spool(path)
    recs = [SpoolRecord("k", f"{i + 1}-0", 10, 5, encode(trade(i))) for i in range(3)]
    spool.append(recs)
    spool.close()
    good_size = path.stat().st_size
    with path.open("ab") as fh:  # killed in the middle of the next record
        fh.write(b"\x40\x00\x00\x00\x01\x02\x03\x04partial")
    with caplog.at_level(logging.WARNING, logger="quantumtrader.bus.streams"):
        reopened = Spool(path)
    assert "torn record" in caplog.text
    assert reopened.count == 3
    assert path.stat().st_size == good_size
    extra = SpoolRecord("k", "9-0", 10, 5, b"payload")
    reopened.append([extra])
    assert list(reopened.records()) == [*recs, extra]
    reopened.clear()
    assert not path.exists()
    assert Spool(path).count == 0
