"""The feed process: replays a day of trades onto the bus in market time.

Every trade is published on ``md.trade.<SYM>`` and persisted to ``market_data:<SYM>``
with its ``seq`` replaced by the feed's sequence number (0, 1, 2… in ``(ts_event,
seq)`` order): that number is what every consumer orders, joins and recovers by.
"""

from __future__ import annotations

import logging
import time
from multiprocessing.synchronize import Event

import msgspec
import pyarrow.parquet as pq

from quantumtrader.bus import EndOfStream, Publisher, encode, md_trade_topic
from quantumtrader.bus.reader import last_entry
from quantumtrader.bus.runtime import RunContext, StageRuntime
from quantumtrader.core.errors import DataError
from quantumtrader.model.arrow import table_to_trades

__all__ = ["FeedConfig", "run_feed"]

log = logging.getLogger(__name__)


class FeedConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What the feed replays and how fast.

    Attributes
    ----------
    trades_path
        Parquet file of one symbol's trades (:data:`~quantumtrader.model.arrow.TRADE_SCHEMA`).
    speed
        Market seconds per wall second (1 = real time); 0 replays as fast as possible.
    source
        ``replay`` (this file). The seam for a live ProfitDLL feed.
    """

    trades_path: str
    speed: float = 0.0
    source: str = "replay"


def run_feed(run: RunContext, cfg: FeedConfig, go: Event | None = None) -> None:
    """Process entry point: publish and persist every trade, then an :class:`EndOfStream`.

    Waits for ``go`` (set by the supervisor once every consumer is subscribed).

    Raises
    ------
    DataError
        If the trades file cannot be read or is empty.
    """
    if cfg.source != "replay":
        raise DataError(f"feed source {cfg.source!r} is not available (only 'replay')")
    try:
        table = pq.read_table(cfg.trades_path)
    except OSError as exc:
        raise DataError(f"cannot read trades: {exc}", path=cfg.trades_path) from exc
    table = table.sort_by([("ts_event", "ascending"), ("seq", "ascending")])
    trades = [
        msgspec.structs.replace(t, seq=i, symbol=run.symbol)
        for i, t in enumerate(table_to_trades(table))
    ]
    if not trades:
        raise DataError("no trades to replay", path=cfg.trades_path)
    rt = StageRuntime("feed", run)
    pub = Publisher(rt.zmq, run.bus.endpoint("ticks"), hwm=run.bus.hwm)
    topic = md_trade_topic(run.symbol).encode()
    key = run.streams.market_data.name(run.symbol)
    spec = run.streams.market_data
    try:
        # resume after what a previous feed of this run already persisted
        first = _resume_point(rt, key)
        rt.report(rt.base_status(last_seq=first - 1), force=True)
        while go is not None and not go.wait(0.05):
            if rt.stop_requested():
                return
        t0_mkt = trades[first].ts_event if first < len(trades) else 0
        t0_wall = time.monotonic_ns()
        speed = cfg.speed
        for i in range(first, len(trades)):
            if rt.stop_requested():
                break
            tr = trades[i]
            if speed > 0:
                due = t0_wall + int((tr.ts_event - t0_mkt) / speed)
                while (delay := due - time.monotonic_ns()) > 0 and not rt.stop_requested():
                    time.sleep(min(delay / 1e9, 0.1))
            payload = encode(tr)
            pub.publish_bytes(topic, payload, i)
            rt.writer.add(key, spec, tr, payload=payload)
            if rt.status.due():
                rt.writer.poll()
                rt.report(
                    rt.base_status(events=i + 1, last_seq=i, last_ts=tr.ts_event, drops=pub.failed)
                )
        else:
            last = trades[-1]
            eos = EndOfStream(symbol=run.symbol, last_seq=len(trades) - 1, last_ts=last.ts_event)
            rt.writer.add_now(key, spec, eos)
            for _ in range(3):
                pub.publish(md_trade_topic(run.symbol), eos)
                time.sleep(0.01)
            rt.report(
                rt.base_status(
                    events=len(trades),
                    last_seq=len(trades) - 1,
                    last_ts=last.ts_event,
                    drops=pub.failed,
                    done=True,
                ),
                force=True,
            )
    finally:
        pub.close()
        rt.close()


def _resume_point(rt: StageRuntime, key: str) -> int:
    """First sequence number not yet in the market-data stream (0 for a fresh run)."""
    with rt.client() as client:
        got = last_entry(client, key)
    if got is None:
        return 0
    msg = got[1]
    if isinstance(msg, EndOfStream):
        return msg.last_seq + 1
    seq = getattr(msg, "seq", -1)
    return int(seq) + 1
