"""In-order delivery of a consecutive sequence, with holes filled from a stream.

A consumer that must see every market event (the agents, the execution process, the
features process) reads them through a :class:`SequencedInbox`: messages come from the
live subscriber; when one is missing (dropped at a high-water mark, published before
the consumer connected, or published while it was down) the inbox reads it back from
the Valkey stream the publisher persisted it to.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import valkey

from quantumtrader.bus.codec import Message
from quantumtrader.bus.messages import EndOfStream
from quantumtrader.bus.pubsub import Subscriber
from quantumtrader.core.errors import BusError

__all__ = ["SequencedInbox"]

log = logging.getLogger(__name__)

CatchUp = Callable[[int], list[Message]]
"""``catch_up(after_ts_ns)``: the stream's messages with market time ``>= after_ts_ns``."""


class SequencedInbox:
    """Messages with ``seq`` 0, 1, 2… in order.

    Parameters
    ----------
    sub
        Live subscriber (its topics select the messages).
    catch_up
        Reads persisted messages from a market time on (see :data:`CatchUp`).
    seq_of
        Sequence number of an accepted message, or ``None`` to ignore the message.
    ts_of
        Market time of an accepted message, ns.
    gap_wait_s
        How long a missing message may be late before the stream is read.

    Attributes
    ----------
    last_wall_ns
        Publication wall time of the message :meth:`get` returned last (0 when it was
        read from the stream).
    lag_ns
        Wall-clock delay of the latest live message, ns.
    end_seq
        Last sequence number once the feed's :class:`EndOfStream` was seen, else None.
    recovered
        Messages taken from the stream instead of the subscriber.
    """

    def __init__(
        self,
        sub: Subscriber,
        catch_up: CatchUp,
        *,
        seq_of: Callable[[Message], int | None],
        ts_of: Callable[[Message], int],
        gap_wait_s: float = 0.05,
    ) -> None:
        self.sub = sub
        self.catch_up = catch_up
        self.seq_of = seq_of
        self.ts_of = ts_of
        self.gap_wait_s = gap_wait_s
        self.buf: dict[int, tuple[Message, int]] = {}
        self.end_seq: int | None = None
        self.recovered = 0
        self.last_ts = 0
        self.last_wall_ns = 0
        self.lag_ns = 0
        self.next_seq = 0

    def pump(self, timeout_ms: int = 0) -> int:
        """Move waiting subscriber messages into the buffer; return how many."""
        n = 0
        while True:
            got = self.sub.recv(timeout_ms if n == 0 else 0)
            if got is None:
                return n
            n += 1
            self._accept(got.msg, got.wall_ns)

    def _accept(self, msg: Message, wall_ns: int = 0) -> None:
        if isinstance(msg, EndOfStream):
            self.end_seq = msg.last_seq
            return
        seq = self.seq_of(msg)
        if seq is not None and seq >= self.next_seq:
            self.buf[seq] = (msg, wall_ns)
            if wall_ns:
                self.lag_ns = time.time_ns() - wall_ns

    def get(
        self, seq: int, timeout_s: float = 1.0, stop: Callable[[], bool] | None = None
    ) -> Message | None:
        """The message ``seq``; ``None`` past the end of the stream or on ``stop()``.

        Waits up to ``timeout_s`` per attempt, reading the stream whenever the message
        is late by ``gap_wait_s``, and keeps trying until it comes or ``stop()`` is true.
        Messages below ``seq`` are forgotten.
        """
        buf = self.buf
        waited = time.monotonic()
        while True:
            got = buf.pop(seq, None)
            if got is not None:
                msg, self.last_wall_ns = got
                self.last_ts = self.ts_of(msg)
                self.next_seq = seq + 1
                return msg
            if self.end_seq is not None and seq > self.end_seq:
                return None
            if stop is not None and stop():
                return None
            self.pump(5)
            if seq in buf:
                continue
            late = time.monotonic() - waited
            if late >= self.gap_wait_s and (buf or late >= timeout_s or self.end_seq is not None):
                self._recover(seq)
                waited = time.monotonic()

    def _recover(self, seq: int) -> None:
        got = 0
        try:
            persisted = self.catch_up(self.last_ts)
        except (BusError, valkey.exceptions.ConnectionError, valkey.exceptions.TimeoutError) as exc:
            log.warning("cannot read the stream yet (%s); will retry", exc)
            return
        for msg in persisted:
            s = self.seq_of(msg)
            if isinstance(msg, EndOfStream):
                self.end_seq = msg.last_seq
            elif s is not None and s >= seq and s not in self.buf:
                self.buf[s] = (msg, 0)
                got += 1
        for s in [s for s in self.buf if s < seq]:
            del self.buf[s]
        if got:
            self.recovered += got
            log.info("recovered %d messages from the stream from seq %d", got, seq)
