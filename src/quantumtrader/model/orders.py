"""Orders, fills, positions and the broker protocol (DESIGN.md section 5)."""

from __future__ import annotations

import enum
from typing import Protocol

import msgspec

from quantumtrader.model.book import BookDelta
from quantumtrader.model.events import Trade

__all__ = [
    "BookBroker",
    "Broker",
    "Fill",
    "Order",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
]


class OrderSide(enum.IntEnum):
    """Direction of an order; the value is the sign of the position change."""

    SELL = -1
    BUY = 1


class OrderType(enum.StrEnum):
    """Order types the brokers understand."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class OrderStatus(enum.StrEnum):
    """Life cycle of an order."""

    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    MODIFIED = "modified"
    TRIGGERED = "triggered"
    CANCELED = "canceled"
    REJECTED = "rejected"


class Order(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """An order command.

    Attributes
    ----------
    order_id
        Unique id (deterministic in a replay).
    ts
        Market time of submission, ns UTC.
    symbol
        Contract.
    side
        :class:`OrderSide`.
    qty
        Contracts, > 0.
    order_type
        :class:`OrderType`.
    price
        Limit price (LIMIT, STOP_LIMIT) or stop price (STOP) in points; ``None`` for
        market orders.
    trigger_price
        Stop trigger of a STOP_LIMIT order, points; ``None`` otherwise.
    stop_points, take_points
        Bracket distances in points from the entry fill price (rounded to the tick);
        ``None`` for no stop / no take. Only meaningful on entry orders.
    tag
        Purpose: ``entry``, ``stop``, ``take``, ``flatten``.
    parent_id
        Entry order id for bracket children.
    """

    order_id: str
    ts: int
    symbol: str
    side: OrderSide
    qty: int
    order_type: OrderType = OrderType.MARKET
    price: float | None = None
    trigger_price: float | None = None
    stop_points: float | None = None
    take_points: float | None = None
    tag: str = "entry"
    parent_id: str | None = None


class Fill(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """An execution of (part of) an order.

    Attributes
    ----------
    ts
        Market time, ns UTC.
    order_id, symbol, side, qty
        As on the order.
    price
        Execution price, points.
    fee
        Costs of this fill, BRL (fees per contract × qty).
    tag
        The order's tag.
    slippage_points
        Price concession versus the reference trade price, points (≥ 0 is worse).
    """

    ts: int
    order_id: str
    symbol: str
    side: OrderSide
    qty: int
    price: float
    fee: float
    tag: str = "entry"
    slippage_points: float = 0.0


class OrderUpdate(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """A change of an order's status (accepted, canceled, rejected, filled)."""

    ts: int
    order_id: str
    status: OrderStatus
    reason: str = ""


class Broker(Protocol):
    """What the engine needs from a broker (simulated, paper or live).

    Fills and order updates come back from :meth:`on_trade` (market events drive a
    simulated broker) and :meth:`drain` (asynchronous brokers).
    """

    def submit(self, order: Order) -> None:
        """Accept an order; raise ``BrokerError`` if it cannot be accepted."""

    def cancel(self, order_id: str, ts: int) -> None:
        """Cancel a working order (no-op when already done)."""

    def modify(
        self, order_id: str, ts: int, *, price: float | None = None, qty: int | None = None
    ) -> None:
        """Change a working order's price and/or quantity; raise ``BrokerError`` if it cannot."""

    def on_trade(self, trade: Trade) -> list[Fill]:
        """Let the broker see a market trade; return the fills it caused."""

    def drain(self) -> list[OrderUpdate]:
        """Order updates since the last call."""

    def position(self, symbol: str) -> int:
        """Signed position in contracts."""

    def working_orders(self, symbol: str) -> list[Order]:
        """Orders not yet filled or canceled."""


class BookBroker(Broker, Protocol):
    """A broker that also sees the order book (the simulated exchange)."""

    def on_book(self, delta: BookDelta) -> list[Fill]:
        """Let the broker see a book change; return the fills it caused."""
