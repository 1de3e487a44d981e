"""Simulated exchange for backtests: order-book matching, queue position, latency, fees.

:class:`SimulatedExchange` implements :class:`~quantumtrader.model.orders.BookBroker`.
It keeps its own :class:`~quantumtrader.book.OrderBook` per symbol (fed by
:meth:`~SimulatedExchange.on_book`) and matches orders by the rules of
:mod:`quantumtrader.execution._matching`; a symbol without book data falls back to the
foundation broker's trade-based fills, so :class:`~quantumtrader.engine.ReplayEngine`
runs unchanged with either broker.

Time is market time (ns). An order, cancel or modify sent at ``ts`` reaches the
exchange at ``ts + entry latency`` (messages arrive in the order they were sent) and
is processed before any market event with ``ts_event ≥`` its arrival — at the next
:meth:`~SimulatedExchange.on_book`, :meth:`~SimulatedExchange.on_trade` or
:meth:`~SimulatedExchange.advance` call. Fills carry the exchange time; their reports
(order updates and :meth:`~SimulatedExchange.drain_fills`) are due at exchange time
+ response latency. Feed latency is only carried in the config for the engine.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from quantumtrader.book import OrderBook
from quantumtrader.core.errors import BrokerError
from quantumtrader.execution._lifecycle import Message
from quantumtrader.execution._matching import Matcher
from quantumtrader.execution._state import LiveOrder, SymbolState
from quantumtrader.execution.exchange_config import ExchangeConfig
from quantumtrader.model.book import BookAction, BookDelta, BookSide
from quantumtrader.model.events import Trade
from quantumtrader.model.instruments import InstrumentSpec, root_of
from quantumtrader.model.orders import Fill, Order, OrderStatus, OrderType, OrderUpdate
from quantumtrader.model.positions import Ledger, RoundTrip

__all__ = ["SimulatedExchange"]

_T = TypeVar("_T")
_RESTING = (OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT)


class SimulatedExchange(Matcher):
    """Backtest exchange implementing ``BookBroker`` (see the module docstring).

    Parameters
    ----------
    spec
        Instrument of every symbol traded (orders for another root are refused);
        ``None`` looks each symbol up with :func:`~quantumtrader.model.spec_for`.
    config
        :class:`~quantumtrader.execution.ExchangeConfig` (mode, queue, latency).

    Notes
    -----
    Order types: MARKET, LIMIT, STOP (``price`` is the stop), STOP_LIMIT
    (``trigger_price`` triggers, ``price`` is the limit). ``tag="entry"`` orders with
    ``stop_points``/``take_points`` get bracket children; ``tag="flatten"`` (MARKET)
    cancels the symbol's other working orders on arrival and closes the actual
    position. Quantities are whole multiples of the lot.
    """

    def __init__(
        self, spec: InstrumentSpec | None = None, config: ExchangeConfig | None = None
    ) -> None:
        super().__init__(spec, config)

    # -- orders --------------------------------------------------------------------------
    def submit(self, order: Order) -> None:
        """Send ``order``; it reaches the exchange at ``order.ts + entry latency``.

        Raises
        ------
        BrokerError
            Duplicate or empty id, quantity not a positive multiple of the lot, missing
            or off-grid prices, a non-market flatten, brackets on a non-entry order,
            non-positive bracket distances, or an instrument this exchange does not
            trade.
        """
        oid = order.order_id
        if not oid or oid in self._ids:
            raise BrokerError(f"duplicate or empty order id {oid!r}")
        spec = self._spec_of(order)
        if order.qty <= 0 or order.qty % max(spec.lot_size, 1):
            raise BrokerError(f"{oid}: invalid qty {order.qty} (lot {spec.lot_size})")
        kind = order.order_type
        if order.tag == "flatten" and kind is not OrderType.MARKET:
            raise BrokerError(f"{oid}: a flatten order must be MARKET, got {kind.value}")
        if kind in _RESTING:
            _check_price(oid, "price", order.price, spec.tick_size)
        if kind is OrderType.STOP_LIMIT:
            _check_price(oid, "trigger_price", order.trigger_price, spec.tick_size)
        for name in ("stop_points", "take_points"):
            value = getattr(order, name)
            if value is None:
                continue
            if order.tag != "entry":
                raise BrokerError(f"{oid}: {name} only on entry orders, tag is {order.tag!r}")
            if not (math.isfinite(value) and value > 0):
                raise BrokerError(f"{oid}: {name} must be > 0, got {value}")
        self._ids.add(oid)
        self._inflight[oid] = order
        self._send(order.ts, order)

    def cancel(self, order_id: str, ts: int) -> None:
        """Send a cancel (arrives after the entry latency); no-op when not working."""
        if order_id in self._inflight or order_id in self._by_id:
            self._send(ts, order_id)

    def modify(
        self, order_id: str, ts: int, *, price: float | None = None, qty: int | None = None
    ) -> None:
        """Send a price and/or total-quantity change of a working LIMIT or stop order.

        At the exchange a new price or a larger quantity sends the order to the back of
        the queue (a marketable new price takes liquidity first); a smaller quantity
        keeps its place. A modify that arrives after the order is done, or that would
        leave no quantity, is reported ``REJECTED``.

        Raises
        ------
        BrokerError
            Unknown or finished order, a market order, nothing to change, or an
            invalid price or quantity.
        """
        found = self._by_id.get(order_id)
        order = self._inflight.get(order_id) or (found[1].order if found else None)
        if order is None:
            raise BrokerError(f"modify {order_id}: no such working order")
        if order.order_type is OrderType.MARKET:
            raise BrokerError(f"modify {order_id}: market orders cannot be modified")
        if price is None and qty is None:
            raise BrokerError(f"modify {order_id}: give a price and/or a qty")
        spec = self._spec_of(order)
        if price is not None:
            _check_price(order_id, "price", price, spec.tick_size)
        if qty is not None and (qty <= 0 or qty % max(spec.lot_size, 1)):
            raise BrokerError(f"modify {order_id}: invalid qty {qty}")
        if qty is not None and order.parent_id is not None and qty > order.qty:
            raise BrokerError(f"modify {order_id}: a bracket child cannot grow past the position")
        self._send(ts, (order_id, price, qty))

    def _send(self, ts: int, message: Message) -> None:
        arrival = max(ts + self._latency.entry_ns(), self._last_arrival)
        self._last_arrival = arrival
        self._pipe.append((arrival, message))

    def _spec_of(self, order: Order) -> InstrumentSpec:
        spec = self.spec
        if spec is not None:
            sym = order.symbol.upper()
            if sym != spec.root and root_of(sym) != spec.root:
                raise BrokerError(f"{order.order_id}: {order.symbol} is not a {spec.root}")
            return spec
        return self._state(order.symbol).spec

    # -- market events -------------------------------------------------------------------
    def advance(self, now: int) -> list[Fill]:
        """Process the messages that reached the exchange by ``now``; return their fills."""
        if self._pipe and self._pipe[0][0] <= now:
            self._arrive(now)
        return self._flush()

    def on_trade(self, trade: Trade) -> list[Fill]:
        """Match working orders against ``trade`` (after arrivals up to its time)."""
        if self._pipe and self._pipe[0][0] <= trade.ts_event:
            self._arrive(trade.ts_event)
        st = self._syms.get(trade.symbol) or self._state(trade.symbol)
        st.last_price = trade.price
        if st.live or st.markets:
            if st.has_book:
                self._trade_book(st, trade)
            else:
                self._trade_fallback(st, trade)
            if st.markets:
                self._trade_markets(st, trade)
        return self._flush()

    def on_book(self, delta: BookDelta) -> list[Fill]:
        """Apply ``delta`` to the symbol's book, then match (after arrivals up to its time).

        With no working order and no consumed liquidity on the symbol this is the book
        update and a few attribute checks.
        """
        if self._pipe and self._pipe[0][0] <= delta.ts_event:
            self._arrive(delta.ts_event)
        st = self._syms.get(delta.symbol) or self._state(delta.symbol)
        if st.live or st.taken or st.markets:
            self._book_busy(st, delta)
            return self._flush()
        st.book.apply(delta)
        st.has_book = True
        return self._flush() if self._out else []

    def on_book_arrays(  # noqa: PLR0917 - columns of one batch
        self,
        symbol: str,
        side: npt.NDArray[np.int8],
        action: npt.NDArray[np.int8],
        price: npt.NDArray[np.float64],
        size: npt.NDArray[np.float64],
        flags: npt.NDArray[np.int16],
    ) -> list[Fill]:
        """Apply a batch of ``symbol``'s book deltas, shape ``(n,)`` each, in one kernel call.

        Equivalent to :meth:`on_book` per delta. The compiled path is taken when nothing
        can fill (no message in flight, no working order and no consumed liquidity on
        the symbol); otherwise the deltas go through :meth:`on_book` one by one (their
        timestamps are then unknown, so in-flight messages are not advanced here:
        callers with orders in flight use :meth:`on_book`).
        """
        st = self._syms.get(symbol) or self._state(symbol)
        if not self._pipe and st.taken and not st.live and not st.markets:
            # Only consumed-liquidity memory to keep: follow each remembered level
            # through the batch, then apply the batch in one kernel call.
            _follow_taken(st, side, action, price, size)
            st.book.apply_arrays(side, action, price, size)
            st.has_book = True
            return []
        if self._pipe or st.busy:
            out: list[Fill] = []
            for k in range(len(side)):
                delta = BookDelta(
                    ts_event=0,
                    ts_init=0,
                    symbol=symbol,
                    side=BookSide(int(side[k])),
                    action=BookAction(int(action[k])),
                    price=float(price[k]),
                    size=float(size[k]),
                    flags=int(flags[k]),
                )
                if st.busy:
                    self._book_busy(st, delta)
                else:
                    st.book.apply(delta)
                    st.has_book = True
                out += self._flush()
            return out
        if len(side):
            st.book.apply_arrays(side, action, price, size)
            st.has_book = True
        return []

    def _arrive(self, now: int) -> None:
        pipe = self._pipe
        while pipe and pipe[0][0] <= now:
            at, message = pipe.popleft()
            if isinstance(message, Order):
                self._arrive_new(message, at)
            elif isinstance(message, str):
                found = self._by_id.get(message)
                if found is not None:
                    self._cancel(found[0], found[1], at, "canceled by request")
            else:
                self._arrive_modify(*message, at)

    def _arrive_new(self, order: Order, at: int) -> None:
        del self._inflight[order.order_id]
        st = self._state(order.symbol)
        kind = order.order_type
        level = order.trigger_price if kind is OrderType.STOP_LIMIT else order.price
        w = LiveOrder(order, 0 if level is None else st.book.to_tick(level))
        self._by_id[order.order_id] = (st, w)
        self._update(at, order.order_id, OrderStatus.ACCEPTED)
        if order.tag == "flatten":
            for other in [*st.markets, *st.live]:
                if other.order.tag != "flatten":
                    self._cancel(st, other, at, f"flatten {order.order_id}")
        if kind is OrderType.MARKET:
            if not st.has_book:
                st.markets.append(w)
            elif order.tag != "flatten" or self._size_flatten(st, w, at):
                self._market(st, w, at)
        elif kind is OrderType.LIMIT:
            self._place_limit(st, w, at)
        else:
            self._place_stop(st, w, at)

    def _arrive_modify(self, oid: str, price: float | None, qty: int | None, at: int) -> None:
        found = self._by_id.get(oid)
        if found is None:
            self._update(at, oid, OrderStatus.REJECTED, "modify: order no longer working")
            return
        st, w = found
        order = w.order
        new_qty = order.qty if qty is None else qty
        if new_qty <= w.filled:
            self._update(at, oid, OrderStatus.REJECTED, f"modify: qty {new_qty} <= filled")
            return
        new_price = order.price if price is None else price
        kind = w.kind
        moved = False
        if price is not None and kind is not OrderType.STOP_LIMIT:
            tick = st.book.to_tick(price)
            moved = tick != w.tick
            w.tick = tick
        requeue = kind is OrderType.LIMIT and (moved or new_qty > order.qty)
        w.replace(price=new_price, qty=new_qty)
        w.leaves = new_qty - w.filled
        self._update(at, oid, OrderStatus.MODIFIED, f"price {new_price:g} qty {new_qty}")
        if requeue:
            st.live.remove(w)
            self._place_limit(st, w, at)
        elif kind is not OrderType.LIMIT and moved and st.has_book and st.stop_triggered(w):
            self._trigger(st, w, at, None)

    # -- reports and state ---------------------------------------------------------------
    def drain(self, now: int | None = None) -> list[OrderUpdate]:
        """Order updates reported by ``now`` (all of them when ``now`` is ``None``).

        ``OrderUpdate.ts`` is the report time: exchange time + response latency.
        """
        return _pop_until(self._reports, now, lambda u: u.ts)

    def drain_fills(self, now: int | None = None) -> list[Fill]:
        """Fills reported by ``now`` (all when ``None``); ``Fill.ts`` is exchange time."""
        return [f for _, f in _pop_until(self._fill_reports, now, lambda r: r[0])]

    def position(self, symbol: str) -> int:
        """Signed position of ``symbol`` at the exchange, quantity units."""
        return self._account.position(symbol)

    def working_orders(self, symbol: str) -> list[Order]:
        """Orders in flight, waiting market orders and resting/pending orders of ``symbol``."""
        out = [o for o in self._inflight.values() if o.symbol == symbol]
        st = self._syms.get(symbol)
        if st is not None:
            out += [w.order for w in [*st.markets, *st.live]]
        return out

    def leaves(self, order_id: str) -> int | None:
        """Unfilled quantity of an order at the exchange (``None`` if in flight or done)."""
        found = self._by_id.get(order_id)
        return None if found is None else found[1].leaves

    def queue_ahead(self, order_id: str) -> float | None:
        """Estimated displayed quantity ahead of a resting limit order (``None`` if unknown)."""
        found = self._by_id.get(order_id)
        if found is None or found[1].kind is not OrderType.LIMIT:
            return None
        front = found[1].front
        return None if math.isnan(front) else front

    def book(self, symbol: str) -> OrderBook:
        """The exchange's order book of ``symbol``."""
        return self._state(symbol).book

    def fill_model(self, symbol: str) -> Literal["book", "trades"]:
        """``"book"`` once a delta of ``symbol`` was seen, else ``"trades"`` (fallback)."""
        st = self._syms.get(symbol)
        return "book" if st is not None and st.has_book else "trades"

    @property
    def fill_model_note(self) -> str:
        """One line describing the fill model of every symbol seen, for reports."""
        cfg = self.config
        book = [s for s, st in self._syms.items() if st.has_book]
        trades = [s for s, st in self._syms.items() if not st.has_book]
        parts = []
        if book:
            detail = (
                f"accurate, {self._queue.description}, {self._latency.description}"
                if self._accurate
                else "fast: no queue, no latency"
            )
            parts.append(f"order-book fills ({detail}) for {', '.join(book)}")
        if trades or not book:
            rule = "through" if cfg.limit_fill == "through" else "at or through"
            what = f" for {', '.join(trades)}" if trades else ""
            parts.append(
                f"trade-based fills without book data{what} (market at the next trade "
                f"± {cfg.slippage_ticks} tick(s), stops on a trade through, limits on a "
                f"trade {rule})"
            )
        return "; ".join(parts)

    @property
    def feed_latency_ns(self) -> int:
        """Market-data delay the engine applies to what the strategy sees, ns."""
        return self.config.feed_latency_ns

    # -- accounting ----------------------------------------------------------------------
    def fills(self) -> list[Fill]:
        """Every fill so far, in order."""
        return self._account.fills()

    def round_trips(self) -> list[RoundTrip]:
        """Every closed round trip, in closing order."""
        return self._account.round_trips()

    def ledger(self, symbol: str) -> Ledger:
        """Accounting of ``symbol`` (multiplier ``point_value × qty_unit``)."""
        return self._state(symbol).ledger

    def avg_price(self, symbol: str) -> float:
        """Average entry price of the open position of ``symbol``, points (0 when flat)."""
        return self._account.avg_price(symbol)

    @property
    def realized_gross(self) -> float:
        """Realized P&L before fees, all symbols (price currency)."""
        return self._account.realized_gross

    @property
    def fees(self) -> float:
        """Fees paid, all symbols."""
        return self._account.fees

    @property
    def realized_net(self) -> float:
        """``realized_gross − fees``."""
        return self._account.realized_net

    @property
    def cash(self) -> float:
        """Cash flow of all fills: ``Σ −side·qty·price·multiplier − fee``."""
        return self._account.cash

    def mark(self, symbol: str) -> float:
        """Mark price of ``symbol``: the book's mid, else the last trade (``nan`` if none)."""
        st = self._state(symbol)
        mid = st.book.mid() if st.has_book else math.nan
        return st.last_price if math.isnan(mid) else mid

    def unrealized(self, price: float | None = None, symbol: str | None = None) -> float:
        """Mark-to-market of open positions at ``price`` (default :meth:`mark`).

        With ``symbol=None`` every symbol is marked (at ``price`` if given, which only
        makes sense for a single symbol).
        """
        symbols = [symbol] if symbol is not None else list(self._syms)
        total = 0.0
        for s in symbols:
            ledger = self._state(s).ledger
            if ledger.position != 0:
                total += ledger.unrealized(self.mark(s) if price is None else price)
        return total


def _follow_taken(
    st: SymbolState,
    side: npt.NDArray[np.int8],
    action: npt.NDArray[np.int8],
    price: npt.NDArray[np.float64],
    size: npt.NDArray[np.float64],
) -> None:
    """Update ``st.taken`` as :meth:`SimulatedExchange.on_book` would, delta by delta.

    A remembered level shrinks to the level's size whenever the feed shows it smaller,
    and is forgotten when the level empties (see ``_matching``). Only deltas at the
    remembered levels (and ``CLEAR``) are looked at; sizes follow the book's rules
    (``SET`` absolute, ``CHANGE`` relative and clamped at 0, ``DELETE``/``CLEAR`` empty).
    """
    ticks = np.rint(price / st.tick_size).astype(np.int64)
    clear = action == BookAction.CLEAR
    for key in list(st.taken):
        ks, kt = key
        hits = np.flatnonzero(
            (clear & ((side == 0) | (side == ks))) | (~clear & (side == ks) & (ticks == kt))
        )
        if hits.shape[0] == 0:
            continue
        level = st.book.size_at_tick(ks, kt)
        used = st.taken[key]
        for k in hits.tolist():
            a = int(action[k])
            if a in (BookAction.CLEAR, BookAction.DELETE):
                level = 0.0
            elif a == BookAction.SET:
                level = float(size[k])
            else:
                level = max(level + float(size[k]), 0.0)
            if level <= 0.0:
                break
            used = min(used, level)
        if level <= 0.0:
            del st.taken[key]
        else:
            st.taken[key] = used


def _check_price(oid: str, name: str, price: float | None, tick: float) -> None:
    if price is None or not math.isfinite(price):
        raise BrokerError(f"{oid}: {name} is required and must be finite, got {price}")
    q = price / tick
    if abs(q - round(q)) > 1e-6:
        raise BrokerError(f"{oid}: {name} {price} is off the {tick} tick grid")


def _pop_until(queue: deque[_T], now: int | None, key: Callable[[_T], int]) -> list[_T]:
    out: list[_T] = []
    while queue and (now is None or key(queue[0]) <= now):
        out.append(queue.popleft())
    return out
