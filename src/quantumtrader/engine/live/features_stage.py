"""The features process: every market event in, feature vectors out.

For each trade (in feed order) it updates the agents' :class:`FeatureSet` and the
feature library's :class:`FeatureEngine`, then publishes one :class:`FeatureVector` per
group — ``agents.<SYM>`` (what the agents read), ``flow``, ``micro`` and ``technical``
on the flow port, ``footprint``, ``liquidity`` and ``tape`` on their own ports — and
persists them (``order_flow:<SYM>`` holds ``agents`` and ``flow``; ``footprint:``,
``tape_reading:`` and ``liquidity_profile:`` the others).

After a restart it rebuilds its state from ``market_data:<SYM>`` (the features depend
on the whole session) and publishes only what it had not persisted before.
"""

from __future__ import annotations

import math
from multiprocessing.synchronize import Event

import msgspec

from quantumtrader.bus import Publisher, StreamSpec, encode
from quantumtrader.bus.feeds import trade_inbox
from quantumtrader.bus.reader import last_entry
from quantumtrader.bus.runtime import RunContext, StageRuntime
from quantumtrader.features import FeatureSet
from quantumtrader.features.engine import FeatureEngine
from quantumtrader.features.group import GroupContext
from quantumtrader.model.events import Trade
from quantumtrader.model.feature_vector import FeatureVector

__all__ = ["FeaturesConfig", "run_features"]


class FeaturesConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Which library groups the process computes (all by default; ``[]`` for none)."""

    groups: list[str] | None = None


_PORT = {"footprint": "footprint", "liquidity": "liquidity", "tape": "tape"}


def run_features(run: RunContext, cfg: FeaturesConfig, go: Event | None = None) -> None:
    """Process entry point (see the module docstring); returns at the end of the feed."""
    del go
    rt = StageRuntime("features", run)
    sym = run.symbol
    st = run.streams
    pubs = {
        port: Publisher(rt.zmq, run.bus.endpoint(port), hwm=run.bus.hwm)
        for port in ("flow", "footprint", "liquidity", "tape")
    }
    inbox = trade_inbox(rt)
    fs = FeatureSet()
    fe = FeatureEngine(cfg.groups, ctx=GroupContext.for_symbol(sym))
    slices: list[tuple[str, slice, tuple[str, ...]]] = []
    at = 0
    for g in fe.groups:
        sl = slice(at, at + g.n_out)
        slices.append((g.name, sl, fe.names[sl]))
        at += g.n_out
    stream_of: dict[str, StreamSpec] = {
        "agents": st.order_flow,
        "flow": st.order_flow,
        "footprint": st.footprint,
        "tape": st.tape_reading,
        "liquidity": st.liquidity_profile,
    }
    pub_of = {
        group: (pubs[_PORT.get(group, "flow")], f"{group}.{sym}".encode(), stream_of.get(group))
        for group in ["agents", *(name for name, _, _ in slices)]
    }
    keys = {spec.key: spec.name(sym) for spec in stream_of.values()}

    def emit(v: FeatureVector) -> None:
        """Publish ``v`` and persist it (one encoding for both)."""
        pub, topic, spec = pub_of[v.group]
        payload = encode(v)
        pub.publish_bytes(topic, payload, v.seq)
        if spec is not None:
            rt.writer.add(keys[spec.key], spec, v, payload=payload)

    with rt.client() as client:
        got = last_entry(client, st.order_flow.name(sym))
    resume = got[1].seq if got is not None and isinstance(got[1], FeatureVector) else -1
    rt.report(rt.base_status(), force=True)
    seq = 0
    try:
        while True:
            msg = inbox.get(seq, stop=rt.stop_requested)
            if not isinstance(msg, Trade):
                break
            t = msg.ts_event
            side = int(msg.aggressor)
            fresh = seq > resume
            fs.update_trade(t, msg.price, float(msg.qty), side)
            if fresh:  # the agents wait for this one: it goes out first
                emit(
                    FeatureVector(
                        ts_event=t, symbol=sym, seq=seq, group="agents", values=fs.snapshot()
                    )
                )
            fe.update_trade(
                t,
                msg.price,
                float(msg.qty),
                side,
                -1 if msg.buy_agent_id is None else msg.buy_agent_id,
                -1 if msg.sell_agent_id is None else msg.sell_agent_id,
            )
            if fresh:
                out = fe.snapshot(t).tolist()
                for gname, sl, gnames in slices:
                    values = {
                        n: (None if math.isnan(v) else v)
                        for n, v in zip(gnames, out[sl], strict=True)
                    }
                    emit(FeatureVector(ts_event=t, symbol=sym, seq=seq, group=gname, values=values))
            if rt.status.due():
                rt.writer.poll()
                rt.report(
                    rt.base_status(
                        events=seq + 1,
                        last_seq=seq,
                        last_ts=t,
                        lag_ns=inbox.lag_ns,
                        drops=inbox.sub.drops,
                        malformed=inbox.sub.malformed,
                    )
                )
            seq += 1
        rt.report(rt.base_status(events=seq, last_seq=seq - 1, done=True), force=True)
    finally:
        for p in pubs.values():
            p.close()
        inbox.sub.close()
        rt.close()
