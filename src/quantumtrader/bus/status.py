"""Process status reports: PUSH from every stage, PULL at the supervisor."""

from __future__ import annotations

import contextlib
import time

import zmq

from quantumtrader.bus.codec import CountingDecoder, encode
from quantumtrader.bus.messages import Status
from quantumtrader.bus.pubsub import bind

__all__ = ["StatusCollector", "StatusReporter"]


class StatusReporter:
    """Sends a process's :class:`Status` to the supervisor, at most every ``every_ms``.

    Reports are best effort: a full queue (no supervisor listening) drops them.
    """

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], endpoint: str, every_ms: int) -> None:
        self.sock = ctx.socket(zmq.PUSH)
        self.sock.setsockopt(zmq.SNDHWM, 64)
        self.sock.setsockopt(zmq.LINGER, 200)
        self.sock.connect(endpoint)
        self.every_ns = every_ms * 1_000_000
        self.next_ns = 0

    def due(self) -> bool:
        """True when a report is due."""
        return time.monotonic_ns() >= self.next_ns

    def send(self, status: Status) -> None:
        """Send ``status`` now."""
        self.next_ns = time.monotonic_ns() + self.every_ns
        with contextlib.suppress(zmq.Again):
            self.sock.send(encode(status), flags=zmq.NOBLOCK)

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


class StatusCollector:
    """The supervisor's PULL socket: the latest :class:`Status` of each stage."""

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], endpoint: str) -> None:
        self.sock = ctx.socket(zmq.PULL)
        self.sock.setsockopt(zmq.LINGER, 0)
        bind(self.sock, endpoint)
        self.decoder = CountingDecoder()
        self.latest: dict[str, Status] = {}

    def poll(self, timeout_ms: int = 0) -> int:
        """Read waiting reports; return how many."""
        n = 0
        while self.sock.poll(timeout_ms if n == 0 else 0):
            msg = self.decoder.decode(self.sock.recv())
            n += 1
            if isinstance(msg, Status):
                self.latest[msg.stage] = msg
        return n

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()
