"""Deterministic replay of trades through features, agents, risk and a broker.

Events are processed in ``(ts_event, seq)`` order. Timers fire in market time at the
agents' cadences (specialists 100 ms, coordinator 1 s by default); a timer at instant
``T`` sees every event with ``ts_event <= T``. Nothing reads the wall clock, so the
same input and configuration give byte-identical results (:meth:`ReplayResult.digest`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from quantumtrader.agents import AgentContext, Feedback, MarketView
from quantumtrader.agents.base import Agent
from quantumtrader.core.errors import ConfigError, DataError
from quantumtrader.core.timeutil import NS_PER_SECOND
from quantumtrader.engine.clock import TimerSchedule
from quantumtrader.engine.config import ReplayConfig
from quantumtrader.features import FeatureSet
from quantumtrader.model.events import Aggressor, Trade, TradeKind
from quantumtrader.model.instruments import InstrumentSpec
from quantumtrader.model.orders import Broker, Fill, Order, OrderSide, OrderType
from quantumtrader.model.positions import Ledger, RoundTrip
from quantumtrader.model.signals import Action, Decision, Signal
from quantumtrader.risk import RiskManager

__all__ = ["ReplayEngine", "ReplayResult", "RiskEvent"]


class RiskEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The risk manager's verdict on one actionable decision."""

    ts: int
    action: str
    approved: bool
    reasons: tuple[str, ...]


class ReplayResult(msgspec.Struct, kw_only=True):
    """Everything a replay produced, in market-time order.

    Attributes
    ----------
    symbol, spec_root
        Instrument replayed.
    n_events
        Trades processed.
    first_ts, last_ts
        Market time span, ns UTC.
    fills, round_trips
        Executions, and one :class:`~quantumtrader.model.positions.RoundTrip` per fill that
        closes contracts (net of fees).
    decisions
        Actionable coordinator decisions (``HOLD`` only counted).
    hold_decisions
        Number of ``HOLD`` decisions.
    signals
        Actionable specialist signals where an agent's action changes (a BUY after a
        HOLD or a SELL); repeats at later timers are only counted.
    signal_counts
        ``agent_id -> action -> count`` including ``hold``.
    risk_events
        Verdict on every actionable decision.
    equity
        ``(ts, realized_net + unrealized, position)`` samples.
    candles
        1-minute candles ``(ts, open, high, low, close, volume)``.
    open_position, unrealized_brl
        State at the end of the data.
    fee_per_contract, slippage_ticks
        Cost model used (for the report).
    """

    symbol: str
    spec_root: str
    n_events: int
    first_ts: int
    last_ts: int
    fills: list[Fill]
    round_trips: list[RoundTrip]
    decisions: list[Decision]
    hold_decisions: int
    signals: list[Signal]
    signal_counts: dict[str, dict[str, int]]
    risk_events: list[RiskEvent]
    equity: list[tuple[int, float, int]]
    candles: list[tuple[int, float, float, float, float, float]]
    open_position: int
    unrealized_brl: float
    fee_per_contract: float
    slippage_ticks: float

    def to_json(self) -> bytes:
        """Canonical JSON of the whole result (sorted keys)."""
        return msgspec.json.encode(msgspec.to_builtins(self), order="sorted")

    def digest(self) -> str:
        """SHA-256 of :meth:`to_json`; equal digests mean byte-identical results."""
        return hashlib.sha256(self.to_json()).hexdigest()


def _as_int_ns(col: pa.ChunkedArray) -> np.ndarray[Any, Any]:
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.int64())
    return np.ascontiguousarray(col.to_numpy(), dtype=np.int64)


class ReplayEngine:
    """Drive specialists → coordinator → risk → broker over a day of trades.

    Parameters
    ----------
    symbol
        Contract replayed.
    spec
        Its instrument spec (tick, point value, fees).
    specialists
        Agents whose signals feed the coordinator (each at its own ``cadence_ns``).
    coordinator
        Agent that turns the latest signals into a :class:`Decision`; its timers fire
        after the specialists' at the same instant.
    risk
        Risk manager; every actionable decision goes through :meth:`RiskManager.check`.
    broker
        Any :class:`~quantumtrader.model.orders.Broker` (the simulated one in backtests).
    config
        :class:`ReplayConfig`.
    """

    def __init__(
        self,
        *,
        symbol: str,
        spec: InstrumentSpec,
        specialists: Sequence[Agent],
        coordinator: Agent,
        risk: RiskManager,
        broker: Broker,
        config: ReplayConfig | None = None,
        features: FeatureSet | None = None,
        slippage_ticks: float = 0.0,
    ) -> None:
        self.symbol = symbol
        self.spec = spec
        self.specialists = list(specialists)
        self.coordinator = coordinator
        self.risk = risk
        self.broker = broker
        self.config = config or ReplayConfig()
        self.features = features or FeatureSet()
        self.slippage_ticks = slippage_ticks
        self._order_seq = 0

    def _next_order_id(self) -> str:
        self._order_seq += 1
        return f"O{self._order_seq:06d}"

    def run(
        self, trades: pa.Table, progress: Callable[[int, int], None] | None = None
    ) -> ReplayResult:
        """Replay a table of trades (:data:`~quantumtrader.model.arrow.TRADE_SCHEMA`).

        Parameters
        ----------
        trades
            Rows of one symbol; they are ordered by ``(ts_event, seq)`` here.
        progress
            Optional callback ``(done, total)`` called every few thousand events.

        Returns
        -------
        ReplayResult

        Raises
        ------
        DataError
            If the table is empty or lacks trade columns.
        """
        if trades.num_rows == 0:
            raise DataError(f"no trades to replay for {self.symbol}")
        trades = trades.sort_by([("ts_event", "ascending"), ("seq", "ascending")])
        ts = _as_int_ns(trades.column("ts_event"))
        price = trades.column("price").to_numpy()
        qty = trades.column("qty").to_numpy()
        side = trades.column("aggressor").to_numpy()
        kind = trades.column("trade_kind").to_numpy()
        n = len(ts)

        cfg = self.config
        agents: dict[str, Agent] = {a.agent_id: a for a in self.specialists}
        if len(agents) != len(self.specialists) or self.coordinator.agent_id in agents:
            raise ConfigError("agent ids must be unique")
        agents[self.coordinator.agent_id] = self.coordinator
        timers = TimerSchedule({aid: a.cadence_ns for aid, a in agents.items()})
        timers.start(int(ts[0]))
        ctx = AgentContext(symbol=self.symbol, spec=self.spec)
        for agent in [*self.specialists, self.coordinator]:
            agent.on_start(ctx)

        view = MarketView(symbol=self.symbol)
        latest: dict[str, Signal] = {}
        last_action: dict[str, Action] = {}
        view.signals = latest
        ledger = Ledger(self.symbol, self.spec)
        fills: list[Fill] = []
        round_trips: list[RoundTrip] = []
        decisions: list[Decision] = []
        signals: list[Signal] = []
        risk_events: list[RiskEvent] = []
        counts: dict[str, dict[str, int]] = {
            a.agent_id: {"buy": 0, "sell": 0, "hold": 0} for a in self.specialists
        }
        holds = 0
        equity: list[tuple[int, float, int]] = []
        sample_ns = cfg.equity_sample_s * NS_PER_SECOND
        next_sample = (int(ts[0]) // sample_ns + 1) * sample_ns
        last_price = float(price[0])
        dirty = False

        def on_fill(fill: Fill) -> None:
            fills.append(fill)
            closed = ledger.apply(fill)
            if closed is not None:
                round_trips.append(closed)
                self.risk.record_close(fill.ts, closed.net_brl)
                fb = Feedback(
                    ts=fill.ts,
                    pnl_brl=closed.net_brl,
                    order_id=fill.order_id,
                    note=closed.exit_reason,
                )
                for agent in [*self.specialists, self.coordinator]:
                    agent.on_feedback(fb)

        def flatten(now: int, why: str) -> None:
            for o in self.broker.working_orders(self.symbol):
                self.broker.cancel(o.order_id, now)
            pos = self.broker.position(self.symbol)
            if pos != 0:
                self.broker.submit(
                    Order(
                        order_id=self._next_order_id(),
                        ts=now,
                        symbol=self.symbol,
                        side=OrderSide.SELL if pos > 0 else OrderSide.BUY,
                        qty=abs(pos),
                        order_type=OrderType.MARKET,
                        tag="flatten",
                    )
                )
            risk_events.append(RiskEvent(ts=now, action="flatten", approved=True, reasons=(why,)))

        def fire(now: int, name: str) -> None:
            nonlocal holds, dirty
            if dirty:
                view.features = self.features.snapshot()
                dirty = False
            view.ts = now
            view.position = ledger.position  # equals the broker's: same fills
            if name != self.coordinator.agent_id:
                for out in agents[name].on_timer(now, view):
                    if isinstance(out, Signal):
                        latest[out.agent_id] = out
                        counts.setdefault(out.agent_id, {"buy": 0, "sell": 0, "hold": 0})
                        counts[out.agent_id][out.action.value] += 1
                        prev = last_action.get(out.agent_id)
                        last_action[out.agent_id] = out.action
                        if out.action is not Action.HOLD and out.action is not prev:
                            signals.append(out)
                return
            if self.risk.must_flatten(now):
                working = self.broker.working_orders(self.symbol)
                pending = any(o.tag == "flatten" for o in working)
                if not pending and (view.position != 0 or working):
                    why = "kill switch" if self.risk.kill_switch_active() else "flatten time"
                    flatten(now, why)
            for out in self.coordinator.on_timer(now, view):
                if not isinstance(out, Decision):
                    continue
                if out.action is Action.HOLD:
                    holds += 1
                    continue
                decisions.append(out)
                self._act(out, now, view.position, risk_events)

        for i in range(n):
            t = int(ts[i])
            for when, name in timers.due(t):
                fire(when, name)
            p = float(price[i])
            trade = Trade(
                ts_event=t,
                ts_init=t,
                symbol=self.symbol,
                price=p,
                qty=int(qty[i]),
                aggressor=Aggressor(int(side[i])),
                trade_kind=TradeKind(int(kind[i])),
                seq=i,
            )
            for fill in self.broker.on_trade(trade):
                on_fill(fill)
            self.broker.drain()
            self.features.update_trade(t, p, float(qty[i]), int(side[i]))
            last_price = p
            view.last_price = p
            dirty = True
            while t >= next_sample:
                equity.append(
                    (next_sample, ledger.realized_net + ledger.unrealized(p), ledger.position)
                )
                next_sample += sample_ns
            if progress is not None and (i % 4096 == 0 or i == n - 1):
                progress(i + 1, n)
        # Timers up to the last event's own instant, so the day ends in a known state.
        for when, name in timers.due(int(ts[-1]) + 1):
            fire(when, name)
        self.features.flush()
        for agent in [*self.specialists, self.coordinator]:
            agent.on_stop()
        equity.append(
            (int(ts[-1]), ledger.realized_net + ledger.unrealized(last_price), ledger.position)
        )
        candles = [
            (int(c[0]), float(c[1]), float(c[2]), float(c[3]), float(c[4]), float(c[5]))
            for c in self.features.candle_rows()
        ]
        return ReplayResult(
            symbol=self.symbol,
            spec_root=self.spec.root,
            n_events=n,
            first_ts=int(ts[0]),
            last_ts=int(ts[-1]),
            fills=fills,
            round_trips=round_trips,
            decisions=decisions,
            hold_decisions=holds,
            signals=signals,
            signal_counts=counts,
            risk_events=risk_events,
            equity=equity,
            candles=candles,
            open_position=ledger.position,
            unrealized_brl=ledger.unrealized(last_price),
            fee_per_contract=self.spec.fee_per_contract,
            slippage_ticks=self.slippage_ticks,
        )

    def _act(self, decision: Decision, now: int, position: int, log: list[RiskEvent]) -> None:
        """Route an actionable decision through risk to the broker."""
        cfg = self.config
        if position != 0 or self.broker.working_orders(self.symbol):
            log.append(
                RiskEvent(
                    ts=now,
                    action=decision.action.value,
                    approved=False,
                    reasons=("already in a position or with working orders",),
                )
            )
            return
        qty = cfg.lots * max(self.spec.lot_size, 1)
        verdict = self.risk.check(decision, now, position, qty)
        log.append(
            RiskEvent(
                ts=now,
                action=decision.action.value,
                approved=verdict.approved,
                reasons=tuple(verdict.reasons),
            )
        )
        if not verdict.approved:
            return
        self.broker.submit(
            Order(
                order_id=self._next_order_id(),
                ts=now,
                symbol=self.symbol,
                side=OrderSide.BUY if decision.action is Action.BUY else OrderSide.SELL,
                qty=qty,
                order_type=OrderType.MARKET,
                stop_points=cfg.stop_points,
                take_points=cfg.take_points,
                tag="entry",
            )
        )
        self.risk.record_entry(now)
