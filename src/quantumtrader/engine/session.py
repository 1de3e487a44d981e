"""State of one replay run: timers, the agents' view, the ledger and everything recorded.

Both loops of :class:`~quantumtrader.engine.replay.ReplayEngine` (the trade table and
the merged trade + book event stream) drive one :class:`ReplaySession`, so a trade
reaches the broker, the features and the agents the same way in both.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from quantumtrader.agents import AgentContext, Feedback, MarketView
from quantumtrader.agents.base import Agent
from quantumtrader.core.timeutil import NS_PER_SECOND
from quantumtrader.engine.clock import TimerSchedule
from quantumtrader.engine.result import ReplayResult, RiskEvent
from quantumtrader.model.events import Aggressor, Trade, TradeKind
from quantumtrader.model.orders import Fill, Order, OrderSide, OrderType
from quantumtrader.model.positions import Ledger, RoundTrip
from quantumtrader.model.signals import Action, Decision, Signal

if TYPE_CHECKING:
    from quantumtrader.engine.replay import ReplayEngine

__all__ = ["ReplaySession"]


class ReplaySession:
    """One run of a :class:`ReplayEngine`: call :meth:`fire_due` before each event,
    :meth:`trade` for each trade of the engine's symbol, and :meth:`finish` at the end.

    Parameters
    ----------
    engine
        The engine whose agents, risk manager, broker and features are driven.
    first_ts
        ``ts_event`` of the first event (ns UTC); timers start after it.
    feed_latency_ns
        Market-data latency: a timer at ``T`` sees the events with
        ``ts_event <= T - feed_latency_ns`` (orders it sends are stamped ``T``).
    """

    def __init__(self, engine: ReplayEngine, first_ts: int, feed_latency_ns: int = 0) -> None:
        self.e = engine
        self.feed_latency_ns = feed_latency_ns
        self.agents: dict[str, Agent] = {a.agent_id: a for a in engine.specialists}
        self.agents[engine.coordinator.agent_id] = engine.coordinator
        self.timers = TimerSchedule({aid: a.cadence_ns for aid, a in self.agents.items()})
        self.timers.start(first_ts)
        ctx = AgentContext(symbol=engine.symbol, spec=engine.spec)
        for agent in self.agents.values():
            agent.on_start(ctx)
        self.view = MarketView(symbol=engine.symbol)
        self.latest: dict[str, Signal] = {}
        self.view.signals = self.latest
        self.last_action: dict[str, Action] = {}
        self.ledger = Ledger(engine.symbol, engine.spec)
        self.fills: list[Fill] = []
        self.round_trips: list[RoundTrip] = []
        self.decisions: list[Decision] = []
        self.signals: list[Signal] = []
        self.risk_events: list[RiskEvent] = []
        self.counts: dict[str, dict[str, int]] = {
            a.agent_id: {"buy": 0, "sell": 0, "hold": 0} for a in engine.specialists
        }
        self.holds = 0
        self.equity: list[tuple[int, float, int]] = []
        self.sample_ns = engine.config.equity_sample_s * NS_PER_SECOND
        self.next_sample = (first_ts // self.sample_ns + 1) * self.sample_ns
        self.first_ts = first_ts
        self.last_price = math.nan
        self.dirty = False
        self.book: Any = None  # the broker's order book of the symbol, when it has one
        self.book_dirty = False
        # The view's "epoch" advances whenever something an agent can read changes
        # (trade, fill; and book changes for agents that read the book); a view-pure
        # agent whose previous timer saw the same epoch is given on_timer_unchanged
        # instead of on_timer.
        self.epoch = 0
        self.book_epoch = 0
        self.reads_book = {
            aid: bool(getattr(a, "reads_book", True)) for aid, a in self.agents.items()
        }
        self.seen: dict[str, tuple[int, int]] = {}
        self.unchanged: dict[str, Any] = {
            aid: getattr(a, "on_timer_unchanged", None) for aid, a in self.agents.items()
        }
        self.unchanged[engine.coordinator.agent_id] = None
        self.pending: dict[str, tuple[int, int]] = {}

    # -- fills and orders ---------------------------------------------------------------
    def on_fill(self, fill: Fill) -> None:
        """Record a fill of the engine's symbol; close round trips and give feedback."""
        self.fills.append(fill)
        self.epoch += 1
        closed = self.ledger.apply(fill)
        if closed is None:
            return
        self.round_trips.append(closed)
        self.e.risk.record_close(fill.ts, closed.net_brl)
        fb = Feedback(
            ts=fill.ts, pnl_brl=closed.net_brl, order_id=fill.order_id, note=closed.exit_reason
        )
        for agent in self.agents.values():
            agent.on_feedback(fb)

    def on_fills(self, fills: list[Fill]) -> None:
        """Record the fills of the engine's symbol among ``fills``."""
        for fill in fills:
            if fill.symbol == self.e.symbol:
                self.on_fill(fill)

    def flatten(self, now: int, why: str) -> None:
        """Cancel working orders and close the position at market."""
        broker, symbol = self.e.broker, self.e.symbol
        for o in broker.working_orders(symbol):
            broker.cancel(o.order_id, now)
        pos = broker.position(symbol)
        if pos != 0:
            broker.submit(
                Order(
                    order_id=self.e.next_order_id(),
                    ts=now,
                    symbol=symbol,
                    side=OrderSide.SELL if pos > 0 else OrderSide.BUY,
                    qty=abs(pos),
                    order_type=OrderType.MARKET,
                    tag="flatten",
                )
            )
        self.risk_events.append(RiskEvent(ts=now, action="flatten", approved=True, reasons=(why,)))

    # -- timers ---------------------------------------------------------------------------
    def next_timer(self) -> int:
        """Instant of the next pending timer, ns."""
        return self.timers.next_time()

    def fire_due(self, t: int) -> None:
        """Fire every timer that must fire before an event at ``t`` is seen.

        Consecutive timers of a view-pure specialist that see an unchanged view are
        batched: they are counted together and the last one's signal is recorded before
        anything can read it (the coordinator's timer, or the next event). The outputs
        are exactly those of firing them one by one.
        """
        pending = self.pending
        for when, name in self.timers.due(t + self.feed_latency_ns):
            if self.unchanged[name] is not None and self.seen.get(name) == self._view_epoch(name):
                prev = pending.get(name)
                pending[name] = (when, 1 if prev is None else prev[1] + 1)
                continue
            if pending:
                self._flush_pending()
            self.fire(when, name)
        if pending:
            self._flush_pending()

    def _flush_pending(self) -> None:
        for name, (when, k) in self.pending.items():
            self._refresh_view(when)
            for out in self.unchanged[name](when, self.view, k):
                if isinstance(out, Signal):
                    self._record_signal(out, k)
        self.pending.clear()

    def _refresh_view(self, now: int) -> None:
        view = self.view
        if self.dirty:
            view.features = self.e.features.snapshot()
            self.dirty = False
        view.ts = now
        view.position = self.ledger.position  # equals the broker's: same fills
        book = self.book
        if book is not None and self.book_dirty:
            view.best_bid = book.best_bid()
            view.best_ask = book.best_ask()
            view.best_bid_size = book.best_bid_size()
            view.best_ask_size = book.best_ask_size()
            self.book_dirty = False

    def book_changed(self) -> None:
        """The order book of the engine's symbol changed."""
        self.book_dirty = True
        self.book_epoch += 1

    def _view_epoch(self, name: str) -> tuple[int, int]:
        return (self.epoch, self.book_epoch if self.reads_book[name] else 0)

    def fire(self, now: int, name: str) -> None:
        """Run agent ``name``'s timer at market time ``now``."""
        self._refresh_view(now)
        view = self.view
        e = self.e
        if name != e.coordinator.agent_id:
            same = self.unchanged[name]
            if same is not None and self.seen.get(name) == self._view_epoch(name):
                outs = same(now, view)
            else:
                outs = self.agents[name].on_timer(now, view)
                self.seen[name] = self._view_epoch(name)
            for out in outs:
                if isinstance(out, Signal):
                    self._record_signal(out)
            return
        if e.risk.must_flatten(now):
            working = e.broker.working_orders(e.symbol)
            pending = any(o.tag == "flatten" for o in working)
            if not pending and (view.position != 0 or working):
                why = "kill switch" if e.risk.kill_switch_active() else "flatten time"
                self.flatten(now, why)
        for out in e.coordinator.on_timer(now, view):
            if not isinstance(out, Decision):
                continue
            if out.action is Action.HOLD:
                self.holds += 1
                continue
            self.decisions.append(out)
            e.act(out, now, view.position, self.risk_events)

    def _record_signal(self, out: Signal, n: int = 1) -> None:
        self.latest[out.agent_id] = out
        self.counts.setdefault(out.agent_id, {"buy": 0, "sell": 0, "hold": 0})
        self.counts[out.agent_id][out.action.value] += n
        prev = self.last_action.get(out.agent_id)
        self.last_action[out.agent_id] = out.action
        if out.action is not Action.HOLD and out.action is not prev:
            self.signals.append(out)

    # -- market events --------------------------------------------------------------------
    def trade(self, t: int, price: float, qty: int, side: int, kind: int, *, seq: int) -> None:
        """One trade of the engine's symbol: broker first, then features and equity."""
        trade = Trade(
            ts_event=t,
            ts_init=t,
            symbol=self.e.symbol,
            price=price,
            qty=qty,
            aggressor=Aggressor(side),
            trade_kind=TradeKind(kind),
            seq=seq,
        )
        for fill in self.e.broker.on_trade(trade):
            self.on_fill(fill)
        self.e.broker.drain()
        self.e.features.update_trade(t, price, float(qty), side)
        self.mark(t, price)

    def mark(self, t: int, price: float) -> None:
        """Last price is ``price`` at ``t``: update the view and sample equity."""
        self.last_price = price
        self.view.last_price = price
        self.dirty = True
        self.epoch += 1
        led = self.ledger
        while t >= self.next_sample:
            self.equity.append(
                (self.next_sample, led.realized_net + led.unrealized(price), led.position)
            )
            self.next_sample += self.sample_ns

    def idle(self) -> bool:
        """True when nothing can fill: flat, and no working or in-flight orders."""
        return self.ledger.position == 0 and not self.e.broker.working_orders(self.e.symbol)

    # -- end --------------------------------------------------------------------------------
    def finish(self, last_ts: int, n_events: int, **extra: Any) -> ReplayResult:
        """Fire the timers up to the last event, stop the agents and build the result."""
        self.fire_due(last_ts + 1 - self.feed_latency_ns)
        e = self.e
        e.features.flush()
        for agent in self.agents.values():
            agent.on_stop()
        led = self.ledger
        last_price = self.last_price if not math.isnan(self.last_price) else 0.0
        self.equity.append((last_ts, led.realized_net + led.unrealized(last_price), led.position))
        candles = [
            (int(c[0]), float(c[1]), float(c[2]), float(c[3]), float(c[4]), float(c[5]))
            for c in e.features.candle_rows()
        ]
        return ReplayResult(
            symbol=e.symbol,
            spec_root=e.spec.root,
            n_events=n_events,
            first_ts=self.first_ts,
            last_ts=last_ts,
            fills=self.fills,
            round_trips=self.round_trips,
            decisions=self.decisions,
            hold_decisions=self.holds,
            signals=self.signals,
            signal_counts=self.counts,
            risk_events=self.risk_events,
            equity=self.equity,
            candles=candles,
            open_position=led.position,
            unrealized_brl=led.unrealized(last_price),
            fee_per_contract=e.spec.fee_per_contract,
            slippage_ticks=e.slippage_ticks,
            currency=e.spec.currency,
            **extra,
        )
