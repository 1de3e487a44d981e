"""Order life cycle of the simulated exchange: reports, executions, brackets, OCO, cancels.

Bracket rules follow the foundation broker (:mod:`quantumtrader.execution.simulated`):
an ``entry`` order's execution that opens contracts creates a STOP and a LIMIT (take)
child for the opened quantity, priced by :func:`~quantumtrader.execution.brackets.
bracket_prices` from the execution's average price (rounded to the tick when a sweep
averages off the grid). Children work at the exchange (no entry latency) from the next
market event on. When a child fills completely its sibling is canceled (OCO); after
every execution the children are reconciled with the position: all are canceled when
flat, those on the position's own side are canceled, and while a leg's quantity exceeds
the position its oldest orders are reduced (a reduction keeps queue priority) or
canceled. So no child outlives a flat position.
"""

from __future__ import annotations

import logging
from collections import deque

from quantumtrader.core.errors import BrokerError, ConfigError
from quantumtrader.execution._state import LiveOrder, SymbolState
from quantumtrader.execution.account import Account, fee_of
from quantumtrader.execution.brackets import bracket_prices
from quantumtrader.execution.exchange_config import ExchangeConfig
from quantumtrader.execution.latency import LatencyModel, build_latency
from quantumtrader.execution.queue import QueueModel, queue_model
from quantumtrader.model.instruments import InstrumentSpec, spec_for
from quantumtrader.model.orders import Fill, Order, OrderSide, OrderStatus, OrderType, OrderUpdate

__all__ = ["ExchangeCore", "Message"]

#: What travels to the exchange: a new order, a cancel (order id) or a modify
#: ``(order_id, price, qty)``.
Message = Order | str | tuple[str, float | None, int | None]

log = logging.getLogger(__name__)


class ExchangeCore:
    """State and order life cycle shared by the matching code and the public API."""

    def __init__(self, spec: InstrumentSpec | None, config: ExchangeConfig | None) -> None:
        self.spec = spec
        self.config = cfg = config or ExchangeConfig()
        self._accurate = cfg.mode == "accurate"
        self._latency: LatencyModel = build_latency(
            cfg.entry_latency_ns,
            cfg.response_latency_ns,
            cfg.entry_latency_samples_ns,
            cfg.response_latency_samples_ns,
            seed=cfg.seed,
        )
        self._queue: QueueModel = queue_model(cfg.queue_model, cfg.queue_power)
        self._account = Account()
        self._syms: dict[str, SymbolState] = {}
        self._ids: set[str] = set()
        self._by_id: dict[str, tuple[SymbolState, LiveOrder]] = {}
        self._inflight: dict[str, Order] = {}
        self._pipe: deque[tuple[int, Message]] = deque()
        self._last_arrival = -(2**63)
        self._reports: deque[OrderUpdate] = deque()
        self._fill_reports: deque[tuple[int, Fill]] = deque()
        self._last_report = -(2**63)
        self._brackets: dict[str, int] = {}
        self._out: list[Fill] = []

    # -- symbols -----------------------------------------------------------------------
    def _state(self, symbol: str) -> SymbolState:
        st = self._syms.get(symbol)
        if st is None:
            spec = self.spec
            if spec is None:
                try:
                    spec = spec_for(symbol)
                except ConfigError as exc:
                    raise BrokerError(f"{symbol}: {exc}") from exc
            st = self._syms[symbol] = SymbolState(symbol, spec, self._account.open(symbol, spec))
        return st

    # -- reports -----------------------------------------------------------------------
    def _report_ts(self, ts: int) -> int:
        """Time the strategy learns of an exchange event at ``ts`` (reports stay in order)."""
        when = max(ts + self._latency.response_ns(), self._last_report)
        self._last_report = when
        return when

    def _update(self, ts: int, order_id: str, status: OrderStatus, reason: str = "") -> int:
        when = self._report_ts(ts)
        self._reports.append(OrderUpdate(ts=when, order_id=order_id, status=status, reason=reason))
        return when

    def _flush(self) -> list[Fill]:
        out, self._out = self._out, []
        return out

    # -- executions --------------------------------------------------------------------
    def _execute(
        self, st: SymbolState, w: LiveOrder, legs: list[tuple[float, int]], ts: int, ref: float
    ) -> None:
        """Fill ``w`` for ``legs`` (``(price, qty)``, one fill each) at exchange time ``ts``.

        ``ref`` is the reference price of the slippage (points, ≥ 0 is worse).
        """
        order = w.order
        side = order.side
        s = int(side)
        before = st.ledger.position
        total = 0
        notional = 0.0
        fills = []
        for price, qty in legs:
            fill = Fill(
                ts=ts,
                order_id=order.order_id,
                symbol=order.symbol,
                side=side,
                qty=qty,
                price=price,
                fee=fee_of(st.spec, qty, price),
                tag=order.tag,
                slippage_points=(price - ref) * s,
            )
            self._account.record(fill)
            fills.append(fill)
            total += qty
            notional += price * qty
        w.leaves -= total
        w.filled += total
        avg = notional / total
        if w.leaves <= 0:
            self._finish(st, w)
            when = self._update(ts, order.order_id, OrderStatus.FILLED, f"{total} @ {avg:g}")
        else:
            when = self._update(
                ts, order.order_id, OrderStatus.PARTIALLY_FILLED, f"{total} @ {avg:g}"
            )
        self._out.extend(fills)
        self._fill_reports.extend((when, f) for f in fills)
        if order.tag == "entry" and (
            order.stop_points is not None or order.take_points is not None
        ):
            same = before == 0 or (before > 0) == (s > 0)
            opened = total if same else max(0, total - abs(before))
            if opened:
                self._bracket(st, order, side=side, avg=avg, qty=opened, ts=ts)
        if w.child and w.done and w.sibling is not None:
            self._cancel_id(w.sibling, ts, f"oco: {order.order_id} filled")
        self._reconcile(st, ts)

    def _bracket(
        self, st: SymbolState, entry: Order, *, side: OrderSide, avg: float, qty: int, ts: int
    ) -> None:
        tick = st.tick_size
        q = avg / tick
        ref = avg if abs(q - round(q)) <= 1e-9 else st.book.to_price(round(q))
        stop, take = bracket_prices(side, ref, tick, entry.stop_points, entry.take_points)
        n = self._brackets.get(entry.order_id, 0) + 1
        self._brackets[entry.order_id] = n
        suffix = "" if n == 1 else f".{n}"
        exit_side = OrderSide.SELL if side is OrderSide.BUY else OrderSide.BUY
        made: list[LiveOrder] = []
        for tag, kind, price in (("stop", OrderType.STOP, stop), ("take", OrderType.LIMIT, take)):
            if price is None:
                continue
            child = Order(
                order_id=f"{entry.order_id}.{tag}{suffix}",
                ts=ts,
                symbol=entry.symbol,
                side=exit_side,
                qty=qty,
                order_type=kind,
                price=price,
                tag=tag,
                parent_id=entry.order_id,
            )
            w = LiveOrder(child, st.book.to_tick(price), child=True)
            if kind is OrderType.LIMIT:
                w.front = self._queue_at_entry(st, w)
            self._ids.add(child.order_id)
            self._by_id[child.order_id] = (st, w)
            st.live.append(w)
            made.append(w)
            self._update(ts, child.order_id, OrderStatus.ACCEPTED)
        if len(made) == 2:
            made[0].sibling = made[1].order.order_id
            made[1].sibling = made[0].order.order_id

    def _queue_at_entry(self, st: SymbolState, w: LiveOrder) -> float:
        """Displayed size ahead of a new resting order (nan without book data)."""
        if not st.has_book:
            return float("nan")
        size = st.book.size_at_tick(w.side, w.tick)
        return max(size - st.taken.get((w.side, w.tick), 0.0), 0.0)

    def _reconcile(self, st: SymbolState, ts: int) -> None:
        pos = st.ledger.position
        for w in [c for c in st.live if c.child]:
            if pos == 0 or (pos > 0) == w.buy:
                self._cancel(st, w, ts, "no position to protect")
        for tag in ("stop", "take"):
            leg = [c for c in st.live if c.child and c.order.tag == tag]
            excess = sum(c.leaves for c in leg) - abs(pos)
            for w in leg:
                if excess <= 0:
                    break
                if w.leaves <= excess:
                    excess -= w.leaves
                    self._cancel(st, w, ts, "bracket exceeds position")
                else:
                    w.leaves -= excess
                    w.replace(qty=w.filled + w.leaves)
                    self._update(
                        ts, w.order.order_id, OrderStatus.MODIFIED, f"reduced to {w.leaves}"
                    )
                    excess = 0

    # -- cancels -----------------------------------------------------------------------
    def _finish(self, st: SymbolState, w: LiveOrder) -> None:
        w.done = True
        if w in st.live:
            st.live.remove(w)
        elif w in st.markets:
            st.markets.remove(w)
        self._by_id.pop(w.order.order_id, None)

    def _cancel(self, st: SymbolState, w: LiveOrder, ts: int, reason: str) -> None:
        if w.done:
            return
        self._finish(st, w)
        self._update(ts, w.order.order_id, OrderStatus.CANCELED, reason)

    def _cancel_id(self, order_id: str, ts: int, reason: str) -> None:
        found = self._by_id.get(order_id)
        if found is not None:
            self._cancel(found[0], found[1], ts, reason)
