"""Deterministic replay of trades through features, agents, risk and a broker.

Events are processed in ``(ts_event, seq)`` order. Timers fire in market time at the
agents' cadences (specialists 100 ms, coordinator 1 s by default); a timer at instant
``T`` sees every event with ``ts_event <= T``. Nothing reads the wall clock, so the
same input and configuration give byte-identical results (:meth:`ReplayResult.digest`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import pyarrow as pa

from quantumtrader.agents.base import Agent
from quantumtrader.core.errors import ConfigError, DataError
from quantumtrader.data.merge import EventChunk
from quantumtrader.engine.config import ReplayConfig
from quantumtrader.engine.events_loop import run_events
from quantumtrader.engine.result import ReplayResult, RiskEvent, as_int_ns
from quantumtrader.engine.session import ReplaySession
from quantumtrader.features import FeatureSet
from quantumtrader.model.instruments import InstrumentSpec
from quantumtrader.model.orders import Broker, Order, OrderSide, OrderType
from quantumtrader.model.signals import Action, Decision
from quantumtrader.risk import RiskManager

__all__ = ["ReplayEngine", "ReplayResult", "RiskEvent"]


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
    features
        The feature set the agents read (a fresh :class:`FeatureSet` by default).
    slippage_ticks
        Slippage of the broker's cost model, for the report.
    feed_latency_ns
        Market-data latency: a timer at ``T`` sees events with ``ts_event <= T -
        latency`` and its orders are stamped ``T``. ``None`` (default) takes the
        broker's ``feed_latency_ns`` (the simulated exchange's ``[exchange]`` config),
        else 0.
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
        feed_latency_ns: int | None = None,
    ) -> None:
        if feed_latency_ns is not None and feed_latency_ns < 0:
            raise ConfigError(f"feed_latency_ns must be >= 0, got {feed_latency_ns}")
        self.feed_latency_ns = feed_latency_ns
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

    def next_order_id(self) -> str:
        """A new deterministic order id (``O000001``, ``O000002``…) for this engine."""
        self._order_seq += 1
        return f"O{self._order_seq:06d}"

    def session(self, first_ts: int) -> ReplaySession:
        """A fresh :class:`ReplaySession` starting at ``first_ts`` (ns UTC)."""
        agents: dict[str, Agent] = {a.agent_id: a for a in self.specialists}
        if len(agents) != len(self.specialists) or self.coordinator.agent_id in agents:
            raise ConfigError("agent ids must be unique")
        feed = self.feed_latency_ns
        if feed is None:
            feed = int(getattr(self.broker, "feed_latency_ns", 0))
        return ReplaySession(self, first_ts, feed)

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
        ts = as_int_ns(trades.column("ts_event"))
        price = trades.column("price").to_numpy()
        qty = trades.column("qty").to_numpy()
        side = trades.column("aggressor").to_numpy()
        kind = trades.column("trade_kind").to_numpy()
        n = len(ts)
        run = self.session(int(ts[0]))
        for i in range(n):
            t = int(ts[i])
            run.fire_due(t)
            run.trade(t, float(price[i]), int(qty[i]), int(side[i]), int(kind[i]), seq=i)
            if progress is not None and (i % 4096 == 0 or i == n - 1):
                progress(i + 1, n)
        return run.finish(int(ts[-1]), n)

    def run_events(
        self,
        chunks: Iterable[EventChunk],
        progress: Callable[[int, int], None] | None = None,
        total: int = 0,
    ) -> ReplayResult:
        """Replay merged trades and book deltas (``data.merge.iter_lake_events``).

        The same agents, risk checks and broker calls as :meth:`run`; book deltas reach a
        broker that has ``on_book`` (the simulated exchange) and the agents see the top
        of its book. See :mod:`quantumtrader.engine.events_loop`.

        Raises
        ------
        DataError
            If the stream is empty or has no trade of the engine's symbol.
        """
        return run_events(self, chunks, progress, total)

    def act(self, decision: Decision, now: int, position: int, log: list[RiskEvent]) -> None:
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
                order_id=self.next_order_id(),
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
