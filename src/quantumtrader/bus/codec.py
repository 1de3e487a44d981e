"""msgspec msgpack codec of every message the bus carries.

All messages are tagged structs, so one typed decoder reads the union. A frame that is
not valid msgpack, has an unknown tag or a mistyped field raises :class:`BusError`
(never anything else); :class:`CountingDecoder` turns that into a counted rejection for
subscribers, which must keep running.
"""

from __future__ import annotations

import struct
from typing import TypeAlias

import msgspec

from quantumtrader.bus.messages import Cancel, EndOfStream, Status, Step, StepResult, Submit
from quantumtrader.core.errors import BusError
from quantumtrader.model.book import BookDelta, BookSnapshot, Quote
from quantumtrader.model.events import Trade
from quantumtrader.model.feature_vector import FeatureVector
from quantumtrader.model.orders import Fill, Order, OrderUpdate
from quantumtrader.model.signals import AgentPerformance, Decision, Signal

__all__ = [
    "HEADER",
    "CountingDecoder",
    "Message",
    "decode",
    "encode",
    "pack_header",
    "unpack_header",
]

Message: TypeAlias = (
    Trade
    | BookDelta
    | BookSnapshot
    | Quote
    | FeatureVector
    | Signal
    | Decision
    | AgentPerformance
    | Order
    | Fill
    | OrderUpdate
    | Submit
    | Cancel
    | Step
    | StepResult
    | EndOfStream
    | Status
)
"""Every message type of the bus (a tagged union)."""

_ENCODER = msgspec.msgpack.Encoder()
_DECODER: msgspec.msgpack.Decoder[Message] = msgspec.msgpack.Decoder(Message)

HEADER = struct.Struct("<qqq")
"""Frame header (24 bytes): feed sequence number (or -1), the publisher's running count
of messages on the topic (consecutive, for gap detection), publication wall time (ns)."""


def encode(msg: Message) -> bytes:
    """msgpack bytes of ``msg`` (its tag included)."""
    return _ENCODER.encode(msg)


def decode(data: bytes | memoryview) -> Message:
    """The message in ``data``.

    Raises
    ------
    BusError
        If ``data`` is not msgpack, has no known tag, or a field has the wrong type
        (the message says which).
    """
    try:
        return _DECODER.decode(data)
    except msgspec.DecodeError as exc:  # ValidationError is a subclass
        raise BusError(f"malformed bus message ({len(data)} bytes): {exc}") from exc


def pack_header(seq: int, count: int, wall_ns: int) -> bytes:
    """24-byte frame header: little-endian int64 ``seq``, ``count`` and ``wall_ns``."""
    return HEADER.pack(seq, count, wall_ns)


def unpack_header(data: bytes | memoryview) -> tuple[int, int, int]:
    """``(seq, count, wall_ns)`` of a frame header.

    Raises
    ------
    BusError
        If ``data`` is not 24 bytes long.
    """
    if len(data) != HEADER.size:
        raise BusError(f"malformed frame header: {len(data)} bytes, expected {HEADER.size}")
    seq, count, wall = HEADER.unpack(data)
    return int(seq), int(count), int(wall)


class CountingDecoder:
    """Decode, counting rejections instead of raising.

    Attributes
    ----------
    malformed
        Frames rejected so far.
    last_error
        Message of the last rejection.
    """

    def __init__(self) -> None:
        self.malformed = 0
        self.last_error = ""

    def decode(self, data: bytes | memoryview) -> Message | None:
        """The message in ``data``, or ``None`` (counted) when it is malformed."""
        try:
            return _DECODER.decode(data)
        except msgspec.DecodeError as exc:
            self.malformed += 1
            self.last_error = str(exc)
            return None
