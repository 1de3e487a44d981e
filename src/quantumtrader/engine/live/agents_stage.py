"""The agents process: specialists, coordinator and risk, over the bus.

It runs the replay's own :class:`ReplaySession` — the same timers, views, risk checks
and order logic as a backtest — with the trades and the ``agents`` feature vectors
taken from the bus in feed order and a :class:`RemoteBroker` to the execution process.
Signal changes and decisions are published on the decisions port (``signal.<agent>``,
``decision.<SYM>``) and persisted to ``agent_decisions:all`` (a decision before it is
acted on); closed trades go to ``agent_performance:all``. At the end of the feed it
writes ``result.json`` (the same :class:`ReplayResult` a backtest writes) to the run
folder.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

import msgspec
import numpy as np

from quantumtrader.agents import (
    Coordinator,
    CoordinatorConfig,
    OrderFlowConfig,
    OrderFlowSpecialist,
    TrendConfig,
    TrendSpecialist,
)
from quantumtrader.bus import Publisher, ReliableClient, Status
from quantumtrader.bus.feeds import feature_inbox, trade_inbox
from quantumtrader.bus.inbox import SequencedInbox
from quantumtrader.bus.runtime import RunContext, StageRuntime
from quantumtrader.engine.config import ReplayConfig
from quantumtrader.engine.live.remote import RemoteBroker, RemoteFeatures
from quantumtrader.engine.replay import ReplayEngine
from quantumtrader.engine.result import RiskEvent
from quantumtrader.engine.session import ReplaySession
from quantumtrader.model.events import Trade
from quantumtrader.model.feature_vector import FeatureVector
from quantumtrader.model.instruments import spec_for
from quantumtrader.model.orders import Fill
from quantumtrader.model.signals import AgentPerformance, Decision, Signal
from quantumtrader.risk import RiskConfig, RiskManager

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

    from quantumtrader.features import FeatureSet

__all__ = ["AgentsConfig", "run_agents"]

log = logging.getLogger(__name__)


class AgentsConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The agent hierarchy's configuration (the backtest config's tables)."""

    replay: ReplayConfig = msgspec.field(default_factory=ReplayConfig)
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    orderflow: OrderFlowConfig = msgspec.field(default_factory=OrderFlowConfig)
    trend: TrendConfig = msgspec.field(default_factory=TrendConfig)
    coordinator: CoordinatorConfig = msgspec.field(default_factory=CoordinatorConfig)
    instruments: str | None = None
    slippage_ticks: float = 0.0


class _Outbox:
    """Publishes and persists what the agents produce."""

    def __init__(self, rt: StageRuntime) -> None:
        self.rt = rt
        self.pub = Publisher(rt.zmq, rt.run.bus.endpoint("decisions"), hwm=rt.run.bus.hwm)
        st = rt.run.streams
        self.decisions = st.agent_decisions
        self.performance = st.agent_performance
        self.n_decisions = 0

    def signal(self, s: Signal) -> None:
        self.pub.publish(f"signal.{s.agent_id}", s)
        self.rt.writer.add(self.decisions.name(), self.decisions, s)

    def decision(self, d: Decision) -> None:
        self.n_decisions += 1
        self.rt.writer.add_now(self.decisions.name(), self.decisions, d)
        self.pub.publish(f"decision.{d.symbol}", d)

    def performance_of(self, p: AgentPerformance) -> None:
        self.rt.writer.add(self.performance.name(), self.performance, p)


class _PaperSession(ReplaySession):
    outbox: _Outbox

    def _record_signal(self, out: Signal, n: int = 1) -> None:
        before = len(self.signals)
        super()._record_signal(out, n)
        if len(self.signals) > before:
            self.outbox.signal(out)

    def on_fill(self, fill: Fill) -> None:
        before = len(self.round_trips)
        super().on_fill(fill)
        if len(self.round_trips) > before:
            rt = self.round_trips[-1]
            net = sum(r.net_brl for r in self.round_trips)
            for aid in self.agents:
                self.outbox.performance_of(
                    AgentPerformance(
                        ts=fill.ts,
                        agent_id=aid,
                        symbol=fill.symbol,
                        round_trips=len(self.round_trips),
                        last_pnl=rt.net_brl,
                        net_pnl=net,
                        note=rt.exit_reason,
                    )
                )


class _PaperEngine(ReplayEngine):
    outbox: _Outbox

    def session(self, first_ts: int) -> ReplaySession:
        base = super().session(first_ts)
        run = _PaperSession(self, first_ts, base.feed_latency_ns)
        run.outbox = self.outbox
        return run

    def act(self, decision: Decision, now: int, position: int, log: list[RiskEvent]) -> None:
        self.outbox.decision(decision)  # persisted before it is acted on
        super().act(decision, now, position, log)


def run_agents(run: RunContext, cfg: AgentsConfig, go: Event | None = None) -> None:
    """Process entry point (see the module docstring)."""
    del go
    rt = StageRuntime("agents", run)
    sym = run.symbol
    spec = spec_for(sym, cfg.instruments)
    client = ReliableClient(
        rt.zmq, run.bus.endpoint("orders"), timeout_ms=run.bus.request_timeout_ms
    )
    broker = RemoteBroker(client, sym)
    features = RemoteFeatures()
    engine = _PaperEngine(
        symbol=sym,
        spec=spec,
        specialists=[OrderFlowSpecialist(cfg.orderflow), TrendSpecialist(cfg.trend)],
        coordinator=Coordinator(cfg.coordinator),
        risk=RiskManager(cfg.risk, spec),
        broker=broker,
        config=cfg.replay,
        features=cast("FeatureSet", features),  # implements what the session calls
        slippage_ticks=cfg.slippage_ticks,
    )
    outbox = engine.outbox = _Outbox(rt)
    trades = trade_inbox(rt)
    vectors = feature_inbox(rt, "agents", "flow", run.streams.order_flow.name(sym))
    rt.report(rt.base_status(), force=True)
    session: ReplaySession | None = None
    latency: list[int] = []
    seq = 0
    last_ts = 0
    try:
        while not rt.stop_requested():
            msg = trades.get(seq, stop=rt.stop_requested)
            if not isinstance(msg, Trade):
                break
            vec = vectors.get(seq, stop=rt.stop_requested)
            if not isinstance(vec, FeatureVector):
                break
            t = msg.ts_event
            if session is None:
                session = engine.session(t)
            broker.current_seq = seq
            broker.current_wall_ns = trades.last_wall_ns
            n_dec = outbox.n_decisions
            session.fire_due(t)
            if outbox.n_decisions > n_dec and trades.last_wall_ns:
                latency.append(time.time_ns() - trades.last_wall_ns)
            features.values = vec.values
            session.trade(t, msg.price, msg.qty, int(msg.aggressor), int(msg.trade_kind), seq=seq)
            last_ts = t
            seq += 1
            if rt.status.due():
                rt.writer.poll()
                rt.report(_status(rt, session, broker, outbox, trades.lag_ns, seq, t, trades))
        if session is not None and not rt.stop_requested():
            broker.current_seq = seq
            result = session.finish(last_ts, seq)
            out = Path(run.run_dir) / "result.json"
            out.write_bytes(result.to_json())
            _save_latency(run, "tick_to_decision", latency)
            log.info(
                "agents: %d events, %d decisions, %d fills",
                seq,
                len(result.decisions),
                len(result.fills),
            )
            rt.report(
                msgspec.structs.replace(
                    _status(rt, session, broker, outbox, trades.lag_ns, seq, last_ts, trades),
                    done=True,
                ),
                force=True,
            )
    finally:
        outbox.pub.close()
        client.close()
        trades.sub.close()
        vectors.sub.close()
        rt.close()


def _save_latency(run: RunContext, name: str, values: list[int]) -> None:
    """Write wall-clock latencies (ns, int64) to ``<run>/latency/<name>.npy``."""
    folder = Path(run.run_dir) / "latency"
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"{name}.npy", np.asarray(values, dtype=np.int64))


def _status(  # noqa: PLR0917 - the pieces a status line shows
    rt: StageRuntime,
    session: ReplaySession,
    broker: RemoteBroker,
    outbox: _Outbox,
    lag_ns: int,
    seq: int,
    ts: int,
    inbox: SequencedInbox,
) -> Status:
    led = session.ledger
    price = session.last_price
    pnl = led.realized_net + (0.0 if math.isnan(price) else led.unrealized(price))
    return rt.base_status(
        events=seq,
        last_seq=seq - 1,
        last_ts=ts,
        lag_ns=lag_ns,
        decisions=outbox.n_decisions,
        orders=broker.orders,
        fills=len(session.fills),
        position=led.position,
        pnl=pnl,
        drops=inbox.sub.drops,
        malformed=inbox.sub.malformed,
    )
