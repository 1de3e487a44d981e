"""The reliable channel for orders, cancels and broker steps (DEALER → ROUTER).

Every command carries a ``cmd_id`` that increases per client. The client resends a
command that is not answered within ``timeout_ms`` (the server may have been restarted:
ZeroMQ reconnects by itself, but a message in flight to a dead peer is lost), so the
server must apply a command once and answer a resent one from what it recorded — see
:class:`~quantumtrader.execution.paper.ExecutionService`. The server persists a command
before it answers, so an answered command survives any crash.

References
----------
ZeroMQ guide, chapter 4 ("Reliable Request-Reply Patterns": the Lazy Pirate client).
"""

from __future__ import annotations

import logging
import time

import zmq

from quantumtrader.bus.codec import CountingDecoder, Message, encode
from quantumtrader.bus.messages import Cancel, Step, StepResult, Submit
from quantumtrader.bus.pubsub import bind
from quantumtrader.core.errors import BusError

__all__ = ["Command", "ReliableClient", "ReliableServer"]

log = logging.getLogger(__name__)

Command = Submit | Cancel | Step
"""What a client sends on the reliable channel."""


class ReliableClient:
    """DEALER side: send a command, wait for its answer, resend on silence.

    Parameters
    ----------
    ctx
        ZeroMQ context of the process.
    endpoint
        The server's ROUTER address.
    timeout_ms
        Silence after which a command is resent.
    give_up_s
        Total wait after which :meth:`call` raises (the server is gone for good).

    Attributes
    ----------
    resends
        Commands sent again after a timeout.
    """

    def __init__(
        self,
        ctx: zmq.Context[zmq.Socket[bytes]],
        endpoint: str,
        *,
        timeout_ms: int = 1_000,
        give_up_s: float = 120.0,
    ) -> None:
        self.endpoint = endpoint
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RECONNECT_IVL, 50)
        self.sock.connect(endpoint)
        self.timeout_ms = timeout_ms
        self.give_up_s = give_up_s
        self.decoder = CountingDecoder()
        self.resends = 0
        self._next = 0

    def next_id(self) -> int:
        """A new command id."""
        self._next += 1
        return self._next

    def send(self, cmd: Command) -> None:
        """Send without waiting (a :class:`Step` with ``reply=False``)."""
        self.sock.send(encode(cmd))

    def call(self, cmd: Command) -> StepResult:
        """Send ``cmd`` and return its answer.

        Raises
        ------
        BusError
            When no answer comes within ``give_up_s``.
        """
        payload = encode(cmd)
        deadline = time.monotonic() + self.give_up_s
        self.sock.send(payload)
        while True:
            if self.sock.poll(self.timeout_ms):
                msg = self.decoder.decode(self.sock.recv())
                if isinstance(msg, StepResult) and msg.cmd_id == cmd.cmd_id:
                    return msg
                continue  # a late answer to a command already answered, or malformed
            if time.monotonic() > deadline:
                raise BusError(
                    f"no answer from {self.endpoint} to command {cmd.cmd_id} "
                    f"after {self.give_up_s:.0f} s"
                )
            self.resends += 1
            log.warning("resending command %d to %s", cmd.cmd_id, self.endpoint)
            self.sock.send(payload)

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


class ReliableServer:
    """ROUTER side: receive commands from any client and answer them.

    Raises
    ------
    BusError
        If the address cannot be bound.
    """

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], endpoint: str) -> None:
        self.sock = ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 1000)
        bind(self.sock, endpoint)
        self.decoder = CountingDecoder()

    def recv(self, timeout_ms: int = 0) -> tuple[bytes, Message] | None:
        """``(peer, command)``, or ``None`` when nothing valid arrives in ``timeout_ms``."""
        if not self.sock.poll(timeout_ms):
            return None
        parts = self.sock.recv_multipart()
        if len(parts) != 2:
            self.decoder.malformed += 1
            return None
        msg = self.decoder.decode(parts[1])
        if msg is None:
            return None
        return parts[0], msg

    def reply(self, peer: bytes, msg: StepResult) -> None:
        """Answer ``peer`` (dropped by ZeroMQ if that client is gone; it will resend)."""
        self.sock.send_multipart((peer, encode(msg)))

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()
