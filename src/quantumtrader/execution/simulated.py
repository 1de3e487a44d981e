"""Simulated broker for replay: market orders, brackets (stop + take, OCO), flatten.

Fill rules (all prices in points, ``tick = spec.tick_size``):

1. A MARKET order (``tag="entry"`` or ``"flatten"``) fills on the first trade of its
   symbol with ``ts_event ≥ order.ts`` seen *after* the submission, at that trade's
   price plus ``slippage_ticks · tick`` against us (higher for a buy).
2. After an entry fill, bracket children for the contracts it opened are created from
   the fill price ``p``: a long gets ``stop = p − d_s·tick`` (STOP, SELL) and ``take =
   p + d_t·tick`` (LIMIT, SELL), a short the mirror; the stop distance rounds down
   and the take distance up to whole ticks, at least one tick each (see
   :mod:`quantumtrader.execution.brackets`).
3. Children are active from the next trade after the entry fill. On each trade the
   active children are checked first (in creation order), then pending market orders.
4. A stop triggers when a trade prints at or through it (``price ≤ stop`` for a sell
   stop) and fills at that trade's price plus slippage against us.
5. A take (limit) fills at its own price, without slippage, when a trade prints
   strictly through it (``limit_fill="through"``: ``price > take`` for a sell) or at
   it (``"touch"``).
6. One-cancels-other: when a child fills its sibling is canceled. After every fill the
   children are reconciled: all are canceled when flat, those on the position's own
   side are canceled, and the oldest brackets are canceled while a leg's total
   quantity exceeds the position. So no child survives a flat position.
7. Flatten: on submission every child and pending entry of the symbol is canceled;
   at the next trade the *actual* position is closed (the order's side and qty are
   informational); if flat by then the flatten is canceled.
8. Fees: ``spec.fee_per_contract`` BRL per contract on every fill (each side), plus
   ``spec.fee_bps`` of the notional for instruments priced that way
   (:func:`~quantumtrader.execution.account.fee_of`).
"""

from __future__ import annotations

import math
from typing import Literal

import msgspec

from quantumtrader.core.errors import BrokerError, ConfigError
from quantumtrader.execution.account import Account, fee_of
from quantumtrader.execution.brackets import bracket_prices, trigger_price
from quantumtrader.model.events import Trade
from quantumtrader.model.instruments import InstrumentSpec, root_of
from quantumtrader.model.orders import Fill, Order, OrderSide, OrderStatus, OrderType, OrderUpdate
from quantumtrader.model.positions import Ledger, RoundTrip

__all__ = ["SimBrokerConfig", "SimulatedBroker"]


class SimBrokerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Configuration of :class:`SimulatedBroker`.

    Attributes
    ----------
    slippage_ticks
        Ticks against us on market and stop fills (≥ 0, default 1).
    limit_fill
        ``"through"`` (default): a take fills only when a trade prints strictly
        beyond its price; ``"touch"``: a print at the price is enough.
    """

    slippage_ticks: int = 1
    limit_fill: Literal["through", "touch"] = "through"

    def __post_init__(self) -> None:
        if self.slippage_ticks < 0:
            raise ConfigError(f"slippage_ticks must be >= 0, got {self.slippage_ticks}")


class SimulatedBroker:
    """Deterministic broker driven by the replayed trades (implements ``Broker``).

    Parameters
    ----------
    spec
        Instrument (tick size, point value, fees, lot size).
    config
        Slippage and limit-fill rule.
    """

    def __init__(self, spec: InstrumentSpec, config: SimBrokerConfig | None = None) -> None:
        self.spec = spec
        self.config = config or SimBrokerConfig()
        self._tick = spec.tick_size
        self._account = Account()
        self._pending: list[Order] = []
        self._children: list[Order] = []
        self._born: dict[str, int] = {}  # child id -> trade counter at creation
        self._ids: set[str] = set()
        self._updates: list[OrderUpdate] = []
        self._n_trades = 0

    # -- Broker protocol ---------------------------------------------------------------
    def submit(self, order: Order) -> None:
        """Accept a MARKET ``entry`` (optionally with ``stop_points``/``take_points``) or
        ``flatten`` order.

        Raises
        ------
        BrokerError
            Duplicate id, qty not a positive multiple of the lot, other order type or
            tag, another instrument, or non-positive bracket distances.
        """
        if not order.order_id or order.order_id in self._ids:
            raise BrokerError(f"duplicate or empty order id {order.order_id!r}")
        if order.qty <= 0 or order.qty % max(self.spec.lot_size, 1):
            raise BrokerError(f"{order.order_id}: invalid qty {order.qty}")
        if order.order_type is not OrderType.MARKET or order.tag not in ("entry", "flatten"):
            raise BrokerError(
                f"{order.order_id}: only MARKET entry/flatten orders are accepted, got "
                f"{order.order_type.value}/{order.tag}"
            )
        if root_of(order.symbol) != self.spec.root:
            raise BrokerError(f"{order.order_id}: {order.symbol} is not a {self.spec.root}")
        for name in ("stop_points", "take_points"):
            value = getattr(order, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise BrokerError(f"{order.order_id}: {name} must be > 0, got {value}")
        self._ids.add(order.order_id)
        if order.tag == "flatten":
            for o in [*self._children, *self._pending]:
                if o.symbol == order.symbol and o.tag != "flatten":
                    self._cancel(o, order.ts, f"flatten {order.order_id}")
        self._pending.append(order)
        self._updates.append(OrderUpdate(ts=order.ts, order_id=order.order_id, status=_ACC))

    def cancel(self, order_id: str, ts: int) -> None:
        """Cancel a working order; no-op when unknown or already done."""
        self._cancel_id(order_id, ts, "canceled by request")

    def modify(
        self, order_id: str, ts: int, *, price: float | None = None, qty: int | None = None
    ) -> None:
        """Not supported by the trade-driven broker (use the simulated exchange).

        Raises
        ------
        BrokerError
            Always.
        """
        raise BrokerError(
            f"modify {order_id}: the trade-driven SimulatedBroker has no modify; "
            "use quantumtrader.execution.SimulatedExchange"
        )

    def on_trade(self, trade: Trade) -> list[Fill]:
        """Match working orders against ``trade``; return the fills, in order."""
        self._n_trades += 1
        out: list[Fill] = []
        sym = trade.symbol
        for child in list(self._children):
            if child not in self._children:  # canceled by an earlier fill on this trade
                continue
            if child.symbol != sym or self._born[child.order_id] >= self._n_trades:
                continue
            cfg = self.config
            price = trigger_price(
                child, trade.price, self._tick, cfg.slippage_ticks, cfg.limit_fill
            )
            if price is not None:
                self._children.remove(child)
                ref = price if child.order_type is OrderType.LIMIT else trade.price
                out.append(
                    self._fill(child, child.side, child.qty, price, ref=ref, ts=trade.ts_event)
                )
                self._cancel_id(_sibling_id(child), trade.ts_event, f"oco: {child.order_id} filled")
                self._reconcile(sym, trade.ts_event)
        for order in list(self._pending):
            if order.symbol != sym or trade.ts_event < order.ts or order not in self._pending:
                continue
            self._pending.remove(order)
            ledger = self._ledger(sym)
            side, qty = order.side, order.qty
            if order.tag == "flatten":
                if ledger.position == 0:
                    self._done(order, trade.ts_event, OrderStatus.CANCELED, "nothing to flatten")
                    continue
                side = OrderSide.SELL if ledger.position > 0 else OrderSide.BUY
                qty = abs(ledger.position)
            before = ledger.position
            slip = self.config.slippage_ticks * self._tick * int(side)
            out.append(
                self._fill(order, side, qty, trade.price + slip, ref=trade.price, ts=trade.ts_event)
            )
            if order.tag == "entry":
                same = before == 0 or (before > 0) == (side is OrderSide.BUY)
                opened = qty if same else max(0, qty - abs(before))
                if opened:
                    self._bracket(order, out[-1], opened)
            self._reconcile(sym, trade.ts_event)
        return out

    def drain(self) -> list[OrderUpdate]:
        """Order updates since the last call (accepted, filled, canceled)."""
        out, self._updates = self._updates, []
        return out

    def position(self, symbol: str) -> int:
        """Signed position of ``symbol``, contracts."""
        return self._account.position(symbol)

    def working_orders(self, symbol: str) -> list[Order]:
        """Pending market orders and working bracket children of ``symbol``."""
        return [o for o in [*self._pending, *self._children] if o.symbol == symbol]

    # -- accounting ----------------------------------------------------------------------
    def fills(self) -> list[Fill]:
        """Every fill so far, in order."""
        return self._account.fills()

    def round_trips(self) -> list[RoundTrip]:
        """Every closed round trip so far, in closing order."""
        return self._account.round_trips()

    def ledger(self, symbol: str) -> Ledger:
        """The accounting of ``symbol`` (created empty when unseen)."""
        return self._ledger(symbol)

    @property
    def realized_gross(self) -> float:
        """Realized P&L before costs over all symbols, BRL."""
        return self._account.realized_gross

    @property
    def fees(self) -> float:
        """Fees paid over all symbols, BRL."""
        return self._account.fees

    @property
    def realized_net(self) -> float:
        """``realized_gross − fees``, BRL."""
        return self._account.realized_net

    @property
    def cash(self) -> float:
        """Cash flow of all fills (see :mod:`quantumtrader.model.positions`), BRL."""
        return self._account.cash

    def unrealized(self, price: float, symbol: str | None = None) -> float:
        """Gross mark-to-market at ``price`` (points) of ``symbol`` (or the only one), BRL."""
        symbols = self._account.symbols() if symbol is None else [symbol]
        return self._account.unrealized(dict.fromkeys(symbols, price)) if symbols else 0.0

    # -- internals -------------------------------------------------------------------------
    def _ledger(self, symbol: str) -> Ledger:
        return self._account.open(symbol, self.spec)

    def _fill(
        self, order: Order, side: OrderSide, qty: int, price: float, *, ref: float, ts: int
    ) -> Fill:
        fill = Fill(
            ts=ts,
            order_id=order.order_id,
            symbol=order.symbol,
            side=side,
            qty=qty,
            price=price,
            fee=fee_of(self.spec, qty, price),
            tag=order.tag,
            slippage_points=(price - ref) * int(side),
        )
        self._ledger(order.symbol)
        self._account.record(fill)
        self._done(order, ts, OrderStatus.FILLED, f"{qty} @ {price:g}")
        return fill

    def _bracket(self, entry: Order, fill: Fill, qty: int) -> None:
        exit_side = OrderSide.SELL if fill.side is OrderSide.BUY else OrderSide.BUY
        stop, take = bracket_prices(
            fill.side, fill.price, self._tick, entry.stop_points, entry.take_points
        )
        for tag, kind, price in (("stop", OrderType.STOP, stop), ("take", OrderType.LIMIT, take)):
            if price is None:
                continue
            child = Order(
                order_id=f"{entry.order_id}.{tag}",
                ts=fill.ts,
                symbol=entry.symbol,
                side=exit_side,
                qty=qty,
                order_type=kind,
                price=price,
                tag=tag,
                parent_id=entry.order_id,
            )
            self._ids.add(child.order_id)
            self._children.append(child)
            self._born[child.order_id] = self._n_trades
            self._updates.append(OrderUpdate(ts=fill.ts, order_id=child.order_id, status=_ACC))

    def _reconcile(self, symbol: str, ts: int) -> None:
        pos = self.position(symbol)
        for o in [c for c in self._children if c.symbol == symbol]:
            if pos == 0 or (pos > 0) == (o.side is OrderSide.BUY):
                self._cancel(o, ts, "no position to protect")
        for tag in ("stop", "take"):
            leg = [c for c in self._children if c.symbol == symbol and c.tag == tag]
            while sum(c.qty for c in leg) > abs(pos):
                oldest = leg.pop(0)
                self._cancel(oldest, ts, "bracket exceeds position")
                self._cancel_id(_sibling_id(oldest), ts, "bracket exceeds position")

    def _cancel_id(self, order_id: str, ts: int, reason: str) -> None:
        for o in [*self._pending, *self._children]:
            if o.order_id == order_id:
                self._cancel(o, ts, reason)
                return

    def _cancel(self, order: Order, ts: int, reason: str) -> None:
        if order in self._pending:
            self._pending.remove(order)
        elif order in self._children:
            self._children.remove(order)
        else:
            return
        self._done(order, ts, OrderStatus.CANCELED, reason)

    def _done(self, order: Order, ts: int, status: OrderStatus, reason: str) -> None:
        self._born.pop(order.order_id, None)
        self._updates.append(
            OrderUpdate(ts=ts, order_id=order.order_id, status=status, reason=reason)
        )


_ACC = OrderStatus.ACCEPTED


def _sibling_id(child: Order) -> str:
    other = "take" if child.tag == "stop" else "stop"
    return f"{child.parent_id}.{other}"
