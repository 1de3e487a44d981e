"""Order-book events (DESIGN.md section 3): level deltas, snapshots, quotes, offer-book events.

Every book source (Binance depth diffs, CME Sierra Chart depth, LOBSTER messages, the
ProfitDLL offer and price books, B3 level-1 polls) is turned into the same
:class:`BookDelta` stream, which the order book of :mod:`quantumtrader.book` applies.
Prices are points (floats) here; the book converts them to int ticks.

Replay order is ``(ts_event, seq)``; a reader numbers trades and book events of one
source with one shared ``seq`` counter so executions and the book changes they cause
keep the venue's order.
"""

from __future__ import annotations

import enum

import msgspec

__all__ = [
    "F_EXEC",
    "F_LAST",
    "F_SNAPSHOT",
    "F_SYNC",
    "BookAction",
    "BookDelta",
    "BookSide",
    "BookSnapshot",
    "Offer",
    "OfferAction",
    "OfferBookEvent",
    "PriceBookEvent",
    "PriceLevel",
    "Quote",
]

#: Flag: the book is consistent after this delta (last delta of one venue message).
F_LAST = 1
#: Flag: the delta is part of a snapshot (a ``CLEAR`` followed by ``SET`` rows).
F_SNAPSHOT = 2
#: Flag: the level changed because of an execution (not a cancel); queue models use it.
F_EXEC = 4
#: Flag: a sync correction, not a venue message: the reader set or deleted the level so the
#: book matches the venue's published book (LOBSTER orderbook rows); ``order_id`` is 0.
F_SYNC = 8


class BookSide(enum.IntEnum):
    """Side of the book. The value is the sign of the resting order's direction.

    ``BOTH`` is only meaningful for :attr:`BookAction.CLEAR` (clear the whole book).
    """

    ASK = -1
    BOTH = 0
    BID = 1


class BookAction(enum.IntEnum):
    """How a :class:`BookDelta` changes one price level.

    ``SET``: the level's size becomes ``size`` (``0`` removes it) — Binance, Sierra,
    level-1 polls, rebuilt offer books. ``CHANGE``: the level's size changes by the
    signed ``size`` (``+`` an order added, ``-`` cancelled or executed) — order-level
    feeds aggregated per price, such as LOBSTER. ``DELETE``: the level is removed.
    ``CLEAR``: every level of ``side`` (or of both sides) is removed.
    """

    SET = 0
    CHANGE = 1
    DELETE = 2
    CLEAR = 3


class BookDelta(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """One change of one price level.

    Attributes
    ----------
    ts_event, ts_init
        Venue time and local receipt/creation time, ns since the epoch, UTC.
    symbol
        Instrument.
    side
        :class:`BookSide`.
    action
        :class:`BookAction`.
    price
        Level price, points (ignored by ``CLEAR``).
    size
        Absolute size for ``SET``, signed change for ``CHANGE``; contracts (B3, CME)
        or base units (crypto), shares (LOBSTER).
    order_id
        Venue order id behind an order-level change, else 0.
    seq
        Per-source sequence shared with the source's trades.
    update_id
        Venue book update id of the message the delta came from (Binance ``u``), else 0.
    flags
        Bit set of :data:`F_LAST`, :data:`F_SNAPSHOT`, :data:`F_EXEC`, :data:`F_SYNC`.
    """

    ts_event: int
    ts_init: int
    symbol: str
    side: BookSide
    action: BookAction
    price: float = 0.0
    size: float = 0.0
    order_id: int = 0
    seq: int = 0
    update_id: int = 0
    flags: int = F_LAST


class BookSnapshot(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The aggregated book at one instant, best level first on each side.

    Attributes
    ----------
    ts_event, ts_init
        ns UTC.
    symbol
        Instrument.
    seq
        Sequence of the last event applied before the snapshot; a replay that
        starts from it continues with the event whose ``seq`` is larger.
    bid_prices, bid_sizes, ask_prices, ask_sizes
        Levels, shape ``(n_levels,)`` each, points and size units.
    """

    ts_event: int
    ts_init: int
    symbol: str
    seq: int
    bid_prices: tuple[float, ...]
    bid_sizes: tuple[float, ...]
    ask_prices: tuple[float, ...]
    ask_sizes: tuple[float, ...]


class Quote(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Best bid and offer as the venue published it (Binance ``bookTicker``, B3 level 1).

    Attributes
    ----------
    ts_event, ts_init
        ns UTC.
    symbol
        Instrument.
    bid_price, bid_size, ask_price, ask_size
        Points and size units; a missing side has price ``nan`` and size 0.
    update_id
        Venue book update id when the source has one (Binance ``u``), else 0.
    seq
        Per-source sequence.
    """

    ts_event: int
    ts_init: int
    symbol: str
    bid_price: float
    bid_size: float
    ask_price: float
    ask_size: float
    update_id: int = 0
    seq: int = 0


class OfferAction(enum.IntEnum):
    """ProfitDLL ``TConnectorActionType`` (offer book and legacy price book).

    Source: ``../shared/reference/profitdll.md`` section 5.6.
    """

    ADD = 0
    EDIT = 1
    DELETE = 2
    DELETE_FROM = 3
    FULL_BOOK = 4


class Offer(msgspec.Struct, frozen=True, kw_only=True):
    """One resting order of a ProfitDLL full-book array (in the array's own order)."""

    price: float
    qty: int
    agent: int
    offer_id: int
    date: str = ""


class OfferBookEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """One ProfitDLL offer-book (market-by-order) callback, as received.

    Attributes
    ----------
    ts_event, ts_init
        ns UTC (``ts_event`` from ``pwcDate`` when ``has_date``, else the receipt time).
    symbol
        Instrument.
    action
        :class:`OfferAction`.
    side
        ``BID`` (DLL side 0) or ``ASK`` (DLL side 1).
    position
        ``nPosition``: counted from the **end** of the side's list
        (list index = ``size − 1 − position``).
    qty, agent, offer_id, price
        Callback fields; ``None`` when the matching ``bHas*`` flag was 0.
    bids, asks
        Full-book arrays for ``FULL_BOOK`` (in the DLL's array order), else empty.
    seq
        Per-source sequence.
    """

    ts_event: int
    ts_init: int
    symbol: str
    action: OfferAction
    side: BookSide
    position: int
    qty: int | None = None
    agent: int | None = None
    offer_id: int | None = None
    price: float | None = None
    bids: tuple[Offer, ...] = ()
    asks: tuple[Offer, ...] = ()
    seq: int = 0


class PriceLevel(msgspec.Struct, frozen=True, kw_only=True):
    """One level of a ProfitDLL price-book full array: price, total quantity, order count."""

    price: float
    qty: int
    count: int


class PriceBookEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """One ProfitDLL legacy price-book callback (same actions and positions as the offer book).

    Attributes mirror :class:`OfferBookEvent`; ``count`` is the number of orders at the
    level and ``bids``/``asks`` are :class:`PriceLevel` arrays for ``FULL_BOOK``.
    """

    ts_event: int
    ts_init: int
    symbol: str
    action: OfferAction
    side: BookSide
    position: int
    qty: int | None = None
    count: int | None = None
    price: float | None = None
    bids: tuple[PriceLevel, ...] = ()
    asks: tuple[PriceLevel, ...] = ()
    seq: int = 0
