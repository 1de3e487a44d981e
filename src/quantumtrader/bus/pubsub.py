"""ZeroMQ PUB/SUB for market data, features, signals and decisions.

A frame is three parts: the topic (dotted, ``md.trade.WDOF26``; ZeroMQ filters on its
prefix), a 24-byte header (:data:`~quantumtrader.bus.codec.HEADER`: feed sequence
number, the publisher's running count on that topic, publication wall time) and the
msgpack payload.

Publishers never block: a subscriber whose queue holds ``hwm`` messages loses the next
ones (ZeroMQ drops them silently at the publisher). The subscriber notices the hole in
the topic's running count and counts it in :attr:`Subscriber.drops`; consumers that
need every event fill the hole from the Valkey stream.

References
----------
ZeroMQ guide, chapter 5 ("Advanced Pub-Sub Patterns": slow subscribers, high-water
marks); libzmq ``zmq_setsockopt`` (``ZMQ_SNDHWM``, ``ZMQ_RCVHWM``).
"""

from __future__ import annotations

import time
from typing import NamedTuple

import zmq

from quantumtrader.bus.codec import HEADER, CountingDecoder, Message, encode, pack_header
from quantumtrader.core.errors import BusError

__all__ = ["Publisher", "Received", "Subscriber", "bind"]


def bind(sock: zmq.Socket[bytes], endpoint: str) -> None:
    """Bind ``sock`` to ``endpoint``; on failure close it and raise.

    Raises
    ------
    BusError
        If the address cannot be bound (in use, bad interface); the message names it.
    """
    try:
        sock.bind(endpoint)
    except zmq.ZMQError as exc:
        sock.close(0)
        raise BusError(f"cannot bind {endpoint}: {exc}") from exc


class Publisher:
    """A PUB socket bound to ``endpoint``.

    Parameters
    ----------
    ctx
        ZeroMQ context of the process.
    endpoint
        ``tcp://127.0.0.1:5555`` style address to bind.
    hwm
        Send high-water mark, messages per subscriber.

    Raises
    ------
    BusError
        If the address cannot be bound (in use, bad interface); the message names it.
    """

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], endpoint: str, *, hwm: int) -> None:
        self.endpoint = endpoint
        self.sock = ctx.socket(zmq.PUB)
        self.sock.setsockopt(zmq.SNDHWM, hwm)
        self.sock.setsockopt(zmq.LINGER, 1000)
        bind(self.sock, endpoint)
        self.counts: dict[bytes, int] = {}
        self.sent = 0
        self.failed = 0

    def publish(self, topic: str, msg: Message, seq: int = -1) -> bool:
        """Publish ``msg`` on ``topic``; ``seq`` is the feed sequence number it carries.

        Returns False (counted in :attr:`failed`) only when ZeroMQ refuses the send
        outright; drops at a slow subscriber's high-water mark are silent here and
        counted by that subscriber.
        """
        return self.publish_bytes(topic.encode(), encode(msg), seq)

    def publish_bytes(self, topic: bytes, payload: bytes, seq: int = -1) -> bool:
        """Publish an already encoded payload (see :meth:`publish`)."""
        n = self.counts.get(topic, 0)
        self.counts[topic] = n + 1
        try:
            self.sock.send_multipart(
                (topic, pack_header(seq, n, time.time_ns()), payload), flags=zmq.NOBLOCK
            )
        except zmq.Again:
            self.failed += 1
            return False
        self.sent += 1
        return True

    def close(self) -> None:
        """Close the socket (pending messages get up to 1 s to leave)."""
        self.sock.close()


class Received(NamedTuple):
    """One message taken from a :class:`Subscriber`.

    Attributes
    ----------
    topic
        Its topic.
    seq
        Feed sequence number (-1 when the message is not a market event).
    wall_ns
        Publication wall time, ns.
    msg
        The decoded message.
    """

    topic: str
    seq: int
    wall_ns: int
    msg: Message


class Subscriber:
    """A SUB socket connected to one or more publishers, filtered by topic prefixes.

    Parameters
    ----------
    ctx
        ZeroMQ context of the process.
    endpoints
        Publisher addresses to connect (reconnection is automatic).
    topics
        Topic prefixes to receive (``"md.trade."`` for every symbol's trades).
    hwm
        Receive high-water mark, messages.

    Attributes
    ----------
    received
        Messages decoded.
    drops
        Messages lost between a publisher and this subscriber (holes in a topic's count).
    malformed
        Frames rejected (bad header or payload); they never stop the subscriber.
    restarts
        Times a publisher's count went backwards (it was restarted).
    """

    def __init__(
        self,
        ctx: zmq.Context[zmq.Socket[bytes]],
        endpoints: list[str],
        topics: list[str],
        *,
        hwm: int,
    ) -> None:
        self.sock = ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.RCVHWM, hwm)
        self.sock.setsockopt(zmq.LINGER, 0)
        for t in topics:
            self.sock.setsockopt(zmq.SUBSCRIBE, t.encode())
        for e in endpoints:
            self.sock.connect(e)
        self.decoder = CountingDecoder()
        self.last: dict[bytes, int] = {}
        self.received = 0
        self.drops = 0
        self.restarts = 0

    @property
    def malformed(self) -> int:
        """Frames rejected so far."""
        return self.decoder.malformed

    def recv(self, timeout_ms: int = 0) -> Received | None:
        """The next message, or ``None`` when none arrives within ``timeout_ms``.

        Malformed frames are counted and skipped.
        """
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            if not self.sock.poll(timeout_ms):
                return None
            got = self.take()
            if got is not None:
                return got
            timeout_ms = max(0, int((deadline - time.monotonic()) * 1000))

    def take(self) -> Received | None:
        """Decode one waiting frame (call after a poll said the socket is readable).

        Returns ``None`` for a malformed frame (counted).
        """
        parts = self.sock.recv_multipart(copy=True)
        if len(parts) != 3 or len(parts[1]) != HEADER.size:
            self.decoder.malformed += 1
            self.decoder.last_error = f"frame of {len(parts)} parts"
            return None
        topic, header, payload = parts
        seq, count, wall = HEADER.unpack(header)
        msg = self.decoder.decode(payload)
        if msg is None:
            return None
        prev = self.last.get(topic)
        if prev is not None:
            if count > prev + 1:
                self.drops += count - prev - 1
            elif count <= prev:
                self.restarts += 1
        self.last[topic] = count
        self.received += 1
        return Received(topic.decode(errors="replace"), seq, wall, msg)

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()
