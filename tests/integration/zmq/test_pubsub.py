"""The ZeroMQ side of the bus on real loopback sockets.

PUB/SUB with dotted topic prefixes, malformed frames, a slow subscriber that loses
messages while the reliable order channel loses none, the Lazy-Pirate client across a
server restart, in-order delivery with holes filled from a (simulated) stream, and the
status channel.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import msgspec
import pytest
import zmq

from quantumtrader.bus import (
    EndOfStream,
    Publisher,
    Received,
    ReliableClient,
    ReliableServer,
    Status,
    Step,
    StepResult,
    Submit,
    Subscriber,
)
from quantumtrader.bus.codec import Message, encode, pack_header
from quantumtrader.bus.inbox import SequencedInbox
from quantumtrader.bus.status import StatusCollector, StatusReporter
from quantumtrader.core.errors import BusError
from quantumtrader.model.events import Aggressor, Trade
from quantumtrader.model.orders import Order, OrderSide

pytestmark = pytest.mark.integration

Ctx = zmq.Context[zmq.Socket[bytes]]
FreePort = Callable[[], int]

T0 = 1_767_000_000_000_000_000  # ns UTC
SYNC = Status(stage="sync", pid=0, wall_ns=0)


def _ep(port: int) -> str:
    return f"tcp://127.0.0.1:{port}"


def _trade(i: int, symbol: str = "WDOF26") -> Trade:
    return Trade(
        ts_event=T0 + i * 1_000_000,
        ts_init=T0 + i * 1_000_000,
        symbol=symbol,
        price=5000.0 + 0.5 * (i % 20),
        qty=1 + i % 5,
        aggressor=Aggressor.BUY if i % 2 else Aggressor.SELL,
        seq=i,
    )


def _drain(sub: Subscriber, quiet_ms: int = 100) -> list[Received]:
    """Everything the subscriber gets until ``quiet_ms`` pass without a message."""
    out = []
    while (got := sub.recv(quiet_ms)) is not None:
        out.append(got)
    return out


def _join(pub: Publisher, subs: list[Subscriber], topic: str, timeout_s: float = 5.0) -> None:
    """Publish :data:`SYNC` on ``topic`` until every subscriber got one, then drain them.

    ZeroMQ subscriptions travel asynchronously: messages published before a subscriber's
    filter reached the publisher are lost to it ("slow joiner").
    """
    deadline = time.monotonic() + timeout_s
    joined = [False] * len(subs)
    while not all(joined):
        if time.monotonic() > deadline:
            raise AssertionError(f"subscribers did not join {pub.endpoint} in {timeout_s} s")
        pub.publish(topic, SYNC)
        for k, sub in enumerate(subs):
            joined[k] = joined[k] or sub.recv(10) is not None
    for sub in subs:
        _drain(sub)


# -- publish / subscribe ----------------------------------------------------------------------


def test_topic_prefixes_select_symbols(ctx: Ctx, free_port: FreePort) -> None:
    ep = _ep(free_port())
    pub = Publisher(ctx, ep, hwm=1000)
    every = Subscriber(ctx, [ep], ["md.trade."], hwm=1000)
    one = Subscriber(ctx, [ep], ["md.trade.WDOF26"], hwm=1000)
    _join(pub, [every, one], "md.trade.WDOF26")

    wdo = [_trade(i, "WDOF26") for i in range(5)]
    win = [_trade(100 + i, "WINZ25") for i in range(7)]
    for k in range(7):
        if k < 5:
            assert pub.publish("md.trade.WDOF26", wdo[k], seq=k)
        assert pub.publish("md.trade.WINZ25", win[k], seq=100 + k)
    pub.publish("md.book.WDOF26", _trade(999), seq=999)  # nobody subscribes to books

    got_every = _drain(every)
    got_one = _drain(one)
    assert [(r.topic, r.msg) for r in got_one] == [("md.trade.WDOF26", t) for t in wdo]
    assert [r.seq for r in got_one] == [0, 1, 2, 3, 4]
    assert len(got_every) == 12
    assert [r.msg for r in got_every if r.topic == "md.trade.WDOF26"] == wdo
    assert [r.msg for r in got_every if r.topic == "md.trade.WINZ25"] == win
    assert [r.seq for r in got_every if r.topic == "md.trade.WINZ25"] == list(range(100, 107))
    now = time.time_ns()
    assert all(now - 10**10 < r.wall_ns <= now for r in got_every)
    assert (every.drops, every.malformed, one.drops, one.malformed) == (0, 0, 0, 0)
    assert pub.failed == 0
    assert pub.counts[b"md.trade.WINZ25"] == 7


def test_malformed_frames_are_counted_and_skipped(ctx: Ctx, free_port: FreePort) -> None:
    ep = _ep(free_port())
    pub = Publisher(ctx, ep, hwm=1000)
    sub = Subscriber(ctx, [ep], ["md."], hwm=1000)
    topic = b"md.trade.WDOF26"
    _join(pub, [sub], topic.decode())
    before = sub.received

    good = [_trade(i) for i in range(3)]
    bad: list[list[bytes]] = [
        [topic],  # one part
        [topic, pack_header(0, 0, 0)],  # two parts
        [topic, b"short", encode(good[0])],  # header of 5 bytes
        [topic, pack_header(1, 1, 0), b"\xc1 not msgpack"],  # garbage payload
        [topic, pack_header(1, 1, 0), msgspec.msgpack.encode({"type": "Nope"})],  # unknown tag
        [topic, pack_header(1, 1, 0), encode(good[0]), b"extra"],  # four parts
    ]
    pub.publish(topic.decode(), good[0], seq=0)
    for frame in bad[:3]:
        pub.sock.send_multipart(frame)
    pub.publish(topic.decode(), good[1], seq=1)
    for frame in bad[3:]:
        pub.sock.send_multipart(frame)
    pub.publish(topic.decode(), good[2], seq=2)

    got = _drain(sub)
    assert [r.msg for r in got] == good
    assert [r.seq for r in got] == [0, 1, 2]
    assert sub.malformed == 6
    assert sub.received - before == 3
    assert sub.drops == 0
    assert "parts" in sub.decoder.last_error  # the four-part frame came last


class _Server(threading.Thread):
    """A ReliableServer in a thread, bound after ``delay_s``, answering every command.

    The answer echoes the command: ``seq`` is its ``at_seq`` (Submit) or ``seq`` (Step),
    ``position`` the signed quantity of a submitted order.
    """

    def __init__(self, ctx: Ctx, endpoint: str, delay_s: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.ctx = ctx
        self.endpoint = endpoint
        self.delay_s = delay_s
        self.halt = threading.Event()
        self.bound = threading.Event()
        self.seen: list[int] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        if self.halt.wait(self.delay_s):
            return
        try:
            server = ReliableServer(self.ctx, self.endpoint)
        except BaseException as exc:  # reported by stop()
            self.error = exc
            return
        self.bound.set()
        try:
            while not self.halt.is_set():
                got = server.recv(10)
                if got is None:
                    continue
                peer, cmd = got
                self.seen.append(getattr(cmd, "cmd_id", -1))
                if isinstance(cmd, Submit):
                    pos = cmd.order.qty * int(cmd.order.side)
                    server.reply(peer, StepResult(cmd_id=cmd.cmd_id, seq=cmd.at_seq, position=pos))
                elif isinstance(cmd, Step):
                    server.reply(peer, StepResult(cmd_id=cmd.cmd_id, seq=cmd.seq))
        finally:
            server.close()

    def stop(self) -> None:
        self.halt.set()
        self.join(5)
        assert not self.is_alive()
        if self.error is not None:
            raise self.error


class _OrderClient(threading.Thread):
    """Submits orders through a ReliableClient until told to stop (at least ``n_min``)."""

    def __init__(self, ctx: Ctx, endpoint: str, n_min: int) -> None:
        super().__init__(daemon=True)
        self.ctx = ctx
        self.endpoint = endpoint
        self.n_min = n_min
        self.enough = threading.Event()
        self.sent: list[int] = []
        self.answers: list[StepResult] = []
        self.during: int = 0  # answers received while the burst was running
        self.resends = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        client = ReliableClient(self.ctx, self.endpoint, timeout_ms=1_000, give_up_s=20.0)
        try:
            while len(self.sent) < self.n_min or not self.enough.is_set():
                cid = client.next_id()
                side = OrderSide.BUY if cid % 2 else OrderSide.SELL
                order = Order(order_id=f"o-{cid}", ts=T0, symbol="WDOF26", side=side, qty=cid)
                self.sent.append(cid)
                self.answers.append(client.call(Submit(cmd_id=cid, at_seq=10 * cid, order=order)))
                if not self.enough.is_set():
                    self.during += 1
                if len(self.sent) >= 20_000:
                    break
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.resends = client.resends
            client.close()


def test_slow_subscriber_drops_while_orders_get_through(ctx: Ctx, free_port: FreePort) -> None:
    ep_md, ep_orders = _ep(free_port()), _ep(free_port())
    server = _Server(ctx, ep_orders)
    server.start()
    assert server.bound.wait(5)
    orders = _OrderClient(ctx, ep_orders, n_min=200)

    pub = Publisher(ctx, ep_md, hwm=100)
    sub = Subscriber(ctx, [ep_md], ["md.trade."], hwm=100)
    topic = "md.trade.WDOF26"
    _join(pub, [sub], topic)
    received0, drops0 = sub.received, sub.drops
    trades = [_trade(i) for i in range(50_000)]

    orders.start()
    t = time.perf_counter()
    for i, tr in enumerate(trades):  # the subscriber sleeps meanwhile: nobody reads it
        pub.publish(topic, tr, seq=i)
    burst_s = time.perf_counter() - t
    orders.enough.set()
    orders.join(30)
    server.stop()

    time.sleep(0.2)
    got = _drain(sub, quiet_ms=300)  # the subscriber wakes up and reads what is left
    assert pub.publish(topic, SYNC)  # final marker after the pause: closes the last hole
    marker = sub.recv(2_000)
    assert marker is not None and marker.msg == SYNC

    # the publisher never blocked: 50k sends in well under the time a blocked send waits
    assert burst_s < 5.0, f"burst of 50k took {burst_s:.2f} s"
    assert pub.failed == 0
    received = sub.received - received0
    drops = sub.drops - drops0
    assert drops > 0
    assert received + drops == len(trades) + 1
    assert received == len(got) + 1
    seqs = [r.seq for r in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert all(r.msg == trades[r.seq] for r in got)

    # the reliable channel lost nothing while the market data overflowed
    assert orders.error is None
    assert orders.during > 0
    assert len(orders.sent) >= 200
    assert [a.cmd_id for a in orders.answers] == orders.sent
    assert all(a.seq == 10 * a.cmd_id for a in orders.answers)
    assert all(a.position == (a.cmd_id if a.cmd_id % 2 else -a.cmd_id) for a in orders.answers)
    assert set(server.seen) == set(orders.sent)
    assert len(server.seen) == len(orders.sent) + orders.resends


# -- the reliable channel ---------------------------------------------------------------------


def test_reliable_client_resends_until_a_new_server_binds(ctx: Ctx, free_port: FreePort) -> None:
    ep = _ep(free_port())
    first = _Server(ctx, ep)
    first.start()
    assert first.bound.wait(5)
    client = ReliableClient(ctx, ep, timeout_ms=100, give_up_s=10.0)
    res = client.call(Step(cmd_id=client.next_id(), seq=41))
    assert (res.cmd_id, res.seq, client.resends) == (1, 41, 0)
    first.stop()  # the server goes down

    second = _Server(ctx, ep, delay_s=0.6)  # ... and a new one binds the same port later
    second.start()
    t = time.monotonic()
    res = client.call(Step(cmd_id=client.next_id(), seq=42))
    waited = time.monotonic() - t
    second.stop()
    assert (res.cmd_id, res.seq) == (2, 42)
    assert waited >= 0.5
    assert client.resends >= 3  # one every 100 ms while nobody listened
    assert first.seen == [1]
    assert set(second.seen) == {2}  # every copy is the same command; the client took one
    client.close()


def test_reliable_client_gives_up(ctx: Ctx, free_port: FreePort) -> None:
    ep = _ep(free_port())  # nobody binds it
    client = ReliableClient(ctx, ep, timeout_ms=50, give_up_s=0.3)
    t = time.monotonic()
    with pytest.raises(BusError, match=rf"no answer from {ep} to command 7"):
        client.call(Step(cmd_id=7, seq=0))
    waited = time.monotonic() - t
    assert 0.3 <= waited < 2.0
    assert client.resends >= 4
    client.close()


def test_reliable_server_reports_a_busy_port(ctx: Ctx, free_port: FreePort) -> None:
    ep = _ep(free_port())
    server = ReliableServer(ctx, ep)
    with pytest.raises(BusError, match=f"cannot bind {ep}"):
        ReliableServer(ctx, ep)
    with pytest.raises(BusError, match=f"cannot bind {ep}"):
        Publisher(ctx, ep, hwm=10)
    server.close()


# -- in-order delivery ------------------------------------------------------------------------


def _trade_seq(msg: Message) -> int | None:
    return msg.seq if isinstance(msg, Trade) else None


def _trade_ts(msg: Message) -> int:
    return msg.ts_event if isinstance(msg, Trade) else 0


class _Stream:
    """What a Valkey stream would return: every persisted message from a market time on."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        self.calls: list[int] = []

    def __call__(self, after_ts: int) -> list[Message]:
        self.calls.append(after_ts)
        return [m for m in self.messages if _trade_ts(m) >= after_ts]


def _inbox_with_holes(
    ctx: Ctx, ep: str, live: list[int], n: int
) -> tuple[SequencedInbox, _Stream, list[Trade]]:
    pub = Publisher(ctx, ep, hwm=1000)
    sub = Subscriber(ctx, [ep], ["md.trade.WDOF26"], hwm=1000)
    _join(pub, [sub], "md.trade.WDOF26")
    trades = [_trade(i) for i in range(n)]
    eos = EndOfStream(symbol="WDOF26", last_seq=n - 1, last_ts=trades[-1].ts_event)
    stream = _Stream([*trades, eos])
    inbox = SequencedInbox(sub, stream, seq_of=_trade_seq, ts_of=_trade_ts, gap_wait_s=0.05)
    for i in live:
        pub.publish("md.trade.WDOF26", trades[i], seq=i)
    pub.publish("md.trade.WDOF26", eos)
    deadline = time.monotonic() + 5
    while inbox.end_seq is None and time.monotonic() < deadline:
        inbox.pump(10)  # everything published is now buffered (ZeroMQ keeps the order)
    assert inbox.end_seq == n - 1
    return inbox, stream, trades


def test_inbox_fills_a_hole_from_the_stream(ctx: Ctx, free_port: FreePort) -> None:
    live = [i for i in range(100) if not 40 <= i < 50]
    inbox, stream, trades = _inbox_with_holes(ctx, _ep(free_port()), live, 100)
    got = []
    from_stream = []
    for s in range(100):
        msg = inbox.get(s, timeout_s=2.0)
        got.append(msg)
        if inbox.last_wall_ns == 0:
            from_stream.append(s)
    assert got == trades
    assert from_stream == list(range(40, 50))
    assert inbox.recovered == 10
    assert stream.calls == [trades[39].ts_event]  # read once, from the last market time seen
    assert inbox.get(100, timeout_s=2.0) is None  # past EndOfStream.last_seq
    assert inbox.buf == {}
    inbox.sub.close()


def test_inbox_reads_a_missing_tail_after_end_of_stream(ctx: Ctx, free_port: FreePort) -> None:
    inbox, stream, trades = _inbox_with_holes(ctx, _ep(free_port()), list(range(25)), 30)
    t = time.monotonic()
    got = [inbox.get(s, timeout_s=5.0) for s in range(30)]
    assert time.monotonic() - t < 2.0  # the end is known: no full timeout per message
    assert got == trades
    assert inbox.recovered == 5
    assert len(stream.calls) == 1
    assert inbox.get(30) is None
    inbox.sub.close()


# -- status -----------------------------------------------------------------------------------


def test_status_collector_keeps_the_latest_per_stage(ctx: Ctx, free_port: FreePort) -> None:
    ep = _ep(free_port())
    collector = StatusCollector(ctx, ep)
    feed = StatusReporter(ctx, ep, every_ms=50)
    agents = StatusReporter(ctx, ep, every_ms=50)
    assert feed.due()
    feed.send(Status(stage="feed", pid=1, wall_ns=1, events=10, last_seq=9))
    assert not feed.due()
    agents.send(Status(stage="agents", pid=2, wall_ns=2, events=7, decisions=3))
    feed.send(Status(stage="feed", pid=1, wall_ns=3, events=20, last_seq=19, done=True))
    raw = ctx.socket(zmq.PUSH)
    raw.connect(ep)
    raw.send(b"\xc1 not a status")

    n = 0
    deadline = time.monotonic() + 5
    while n < 4 and time.monotonic() < deadline:
        n += collector.poll(100)
    assert n == 4
    assert collector.decoder.malformed == 1
    assert sorted(collector.latest) == ["agents", "feed"]
    assert collector.latest["feed"].events == 20 and collector.latest["feed"].done
    assert collector.latest["agents"].decisions == 3
    time.sleep(0.06)
    assert feed.due()
    with pytest.raises(BusError, match=f"cannot bind {ep}"):
        StatusCollector(ctx, ep)
    for s in (feed, agents, collector):
        s.close()
    raw.close()
