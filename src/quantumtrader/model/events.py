"""Market events (DESIGN.md section 3).

Events are frozen, keyword-only ``msgspec`` structs, tagged so a bus can decode a
union of them. Timestamps are int nanoseconds since the Unix epoch, UTC.
"""

from __future__ import annotations

import enum

import msgspec

__all__ = ["Aggressor", "Trade", "TradeKind"]


class Aggressor(enum.IntEnum):
    """Side that initiated a trade. The int value is the sign of its flow."""

    SELL = -1
    NONE = 0
    BUY = 1


class TradeKind(enum.IntEnum):
    """How a print came about.

    ``DIRECT`` is a direct/cross trade (same broker on both sides, no aggressor);
    ``RLP`` is B3's retail liquidity provider mechanism.
    """

    UNKNOWN = 0
    REGULAR = 1
    AUCTION = 2
    DIRECT = 3
    RLP = 4


class Trade(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """One print on the tape.

    Attributes
    ----------
    ts_event
        Venue time, ns since the epoch, UTC. Profit exports have 1-second resolution.
    ts_init
        Time the event was created locally (import or receipt), ns UTC. For file
        imports it equals ``ts_event`` so a replay is deterministic.
    symbol
        Contract code, e.g. ``WDOU25``, ``DOLZ18``, or a continuous series ``WDOFUT``.
    price
        Points (BRL per USD 1,000 for WDO/DOL, index points for WIN/IND).
    qty
        Contracts.
    aggressor
        :class:`Aggressor`; ``NONE`` for auctions, direct trades and unknown.
    aggressor_inferred
        True when ``aggressor`` was classified (tick rule, Lee–Ready), not reported.
    trade_kind
        :class:`TradeKind`.
    buy_agent_id, sell_agent_id
        B3 participant (broker) codes when the source has them, else ``None``.
    buy_agent, sell_agent
        Broker names as the source spells them (may be short names).
    trade_id
        Venue trade number when the source has one (format B ``trade_number``).
    seq
        Per-day sequence, 0-based, preserving execution order within equal
        ``ts_event``; replay order is ``(ts_event, seq)``.
    after_hours
        True for prints flagged as after-market (format B ``aft == 'S'``).
    """

    ts_event: int
    ts_init: int
    symbol: str
    price: float
    qty: int
    aggressor: Aggressor
    trade_kind: TradeKind = TradeKind.REGULAR
    aggressor_inferred: bool = False
    buy_agent_id: int | None = None
    buy_agent: str = ""
    sell_agent_id: int | None = None
    sell_agent: str = ""
    trade_id: int | None = None
    seq: int = 0
    after_hours: bool = False
