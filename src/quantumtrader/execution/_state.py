"""Mutable state of the simulated exchange: working orders and per-symbol books."""

from __future__ import annotations

import math

import msgspec

from quantumtrader.book import NO_ASK, NO_BID, OrderBook
from quantumtrader.model.book import BookSide
from quantumtrader.model.instruments import InstrumentSpec
from quantumtrader.model.orders import Order, OrderSide, OrderType
from quantumtrader.model.positions import Ledger

__all__ = ["LiveOrder", "SymbolState", "opposite", "own_side"]


class LiveOrder:
    """An order at the exchange (arrived, not yet filled or canceled).

    Attributes
    ----------
    order
        The order as currently working (replaced on modify, trigger and reduction).
    buy, side
        Direction: ``True`` / ``+1`` for a buy (``side`` is also the book side it
        rests on).
    leaves, filled
        Remaining and executed quantity, quantity units (``leaves + filled =
        order.qty``).
    tick
        Limit price in ticks (limits and triggered stop-limits), else the stop tick.
    front
        Displayed quantity ahead in the level's queue (``nan`` until known).
    traded
        Quantity traded at ``tick`` since the level last changed in the book.
    child
        True for bracket children the exchange created.
    sibling
        Order id of the other bracket leg (OCO), if any.
    done
        Set once the order is filled or canceled.
    """

    __slots__ = (
        "buy",
        "child",
        "done",
        "filled",
        "front",
        "leaves",
        "order",
        "sibling",
        "side",
        "tick",
        "traded",
    )

    def __init__(self, order: Order, tick: int, *, child: bool = False) -> None:
        self.order = order
        self.buy = order.side is OrderSide.BUY
        self.side = int(order.side)  # also the BookSide the order rests on (BID=1, ASK=-1)
        self.leaves = order.qty
        self.filled = 0
        self.tick = tick
        self.front = math.nan
        self.traded = 0.0
        self.child = child
        self.sibling: str | None = None
        self.done = False

    @property
    def kind(self) -> OrderType:
        """Current order type (a triggered stop-limit is a LIMIT)."""
        return self.order.order_type

    def replace(self, **changes: object) -> None:
        """Replace fields of the working :class:`Order`."""
        self.order = msgspec.structs.replace(self.order, **changes)
        self.buy = self.order.side is OrderSide.BUY
        self.side = int(self.order.side)


class SymbolState:
    """Book, working orders and accounting of one symbol.

    Attributes
    ----------
    book
        The exchange's own :class:`~quantumtrader.book.OrderBook` of the symbol.
    has_book
        True once a delta of the symbol was seen (fills then use the book).
    live
        Resting limits and pending stops (children included), in arrival order.
    markets
        Market orders of the trades fallback waiting for the next trade.
    taken
        ``(side, tick) -> qty`` of displayed liquidity our orders consumed and the feed
        has not yet removed (the replayed book does not see our fills).
    prev
        Sizes ``(side, tick) -> size`` of our orders' levels before the current book
        message (``None`` outside a message).
    """

    __slots__ = (
        "book",
        "has_book",
        "last_price",
        "ledger",
        "live",
        "markets",
        "prev",
        "spec",
        "symbol",
        "taken",
        "tick_size",
    )

    def __init__(self, symbol: str, spec: InstrumentSpec, ledger: Ledger) -> None:
        self.symbol = symbol
        self.spec = spec
        self.tick_size = spec.tick_size
        self.book = OrderBook(symbol, spec.tick_size)
        self.has_book = False
        self.live: list[LiveOrder] = []
        self.markets: list[LiveOrder] = []
        self.taken: dict[tuple[int, int], float] = {}
        self.prev: dict[tuple[int, int], float] | None = None
        self.ledger = ledger
        self.last_price = math.nan

    @property
    def busy(self) -> bool:
        """True when the symbol has working orders or consumed liquidity to track."""
        return bool(self.live or self.markets or self.taken)

    def stop_triggered(self, w: LiveOrder) -> bool:
        """True when the side a stop would hit has reached its trigger tick."""
        if w.buy:
            ask = self.book.best_ask_tick()
            return ask != NO_ASK and ask >= w.tick
        bid = self.book.best_bid_tick()
        return bid != NO_BID and bid <= w.tick


def own_side(buy: bool) -> BookSide:
    """Book side a resting order of this direction joins."""
    return BookSide.BID if buy else BookSide.ASK


def opposite(buy: bool) -> BookSide:
    """Book side whose liquidity an order of this direction takes."""
    return BookSide.ASK if buy else BookSide.BID
