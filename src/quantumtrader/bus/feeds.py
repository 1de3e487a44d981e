"""In-order inboxes of a run's trades and feature vectors (every stage reads through these)."""

from __future__ import annotations

from quantumtrader.bus.codec import Message
from quantumtrader.bus.config import md_trade_topic
from quantumtrader.bus.inbox import SequencedInbox
from quantumtrader.bus.pubsub import Subscriber
from quantumtrader.bus.reader import read_range
from quantumtrader.bus.runtime import StageRuntime
from quantumtrader.model.events import Trade
from quantumtrader.model.feature_vector import FeatureVector

__all__ = ["feature_inbox", "trade_inbox"]


def _trade_seq(msg: Message) -> int | None:
    return msg.seq if isinstance(msg, Trade) else None


def _trade_ts(msg: Message) -> int:
    return msg.ts_event if isinstance(msg, Trade) else 0


def trade_inbox(rt: StageRuntime) -> SequencedInbox:
    """The symbol's trades in feed order, holes filled from ``market_data:<SYM>``."""
    run = rt.run
    sub = Subscriber(
        rt.zmq, [run.bus.endpoint("ticks")], [md_trade_topic(run.symbol)], hwm=run.bus.hwm
    )
    key = run.streams.market_data.name(run.symbol)
    client = rt.client()

    def catch_up(after_ts: int) -> list[Message]:
        return [m for _, m in read_range(client, key, start_ns=after_ts)]

    return SequencedInbox(sub, catch_up, seq_of=_trade_seq, ts_of=_trade_ts)


def feature_inbox(rt: StageRuntime, group: str, port: str, stream_key: str) -> SequencedInbox:
    """Feature vectors of ``group`` in feed order, holes filled from ``stream_key``."""
    run = rt.run
    topic = f"{group}.{run.symbol}"
    sub = Subscriber(rt.zmq, [run.bus.endpoint(port)], [topic], hwm=run.bus.hwm)
    client = rt.client()

    def seq_of(msg: Message) -> int | None:
        if isinstance(msg, FeatureVector) and msg.group == group:
            return msg.seq
        return None

    def ts_of(msg: Message) -> int:
        return msg.ts_event if isinstance(msg, FeatureVector) else 0

    def catch_up(after_ts: int) -> list[Message]:
        return [m for _, m in read_range(client, stream_key, start_ns=after_ts)]

    return SequencedInbox(sub, catch_up, seq_of=seq_of, ts_of=ts_of)
