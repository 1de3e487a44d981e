"""Layer 3: the bus — ZeroMQ PUB/SUB and reliable channels, the msgpack codec, Valkey streams."""

from quantumtrader.bus.codec import CountingDecoder, Message, decode, encode
from quantumtrader.bus.config import (
    BusConfig,
    Ports,
    StreamsConfig,
    StreamSpec,
    ValkeyConfig,
    feature_topic,
    md_book_topic,
    md_trade_topic,
)
from quantumtrader.bus.messages import Cancel, EndOfStream, Status, Step, StepResult, Submit
from quantumtrader.bus.pubsub import Publisher, Received, Subscriber
from quantumtrader.bus.reliable import Command, ReliableClient, ReliableServer

__all__ = [
    "BusConfig",
    "Cancel",
    "Command",
    "CountingDecoder",
    "EndOfStream",
    "Message",
    "Ports",
    "Publisher",
    "Received",
    "ReliableClient",
    "ReliableServer",
    "Status",
    "Step",
    "StepResult",
    "StreamSpec",
    "StreamsConfig",
    "Submit",
    "Subscriber",
    "ValkeyConfig",
    "decode",
    "encode",
    "feature_topic",
    "md_book_topic",
    "md_trade_topic",
]
