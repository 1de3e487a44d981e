"""Signals and decisions (DESIGN.md section 5)."""

from __future__ import annotations

import enum

import msgspec

__all__ = ["Action", "AgentPerformance", "Decision", "Signal"]


class Action(enum.StrEnum):
    """What an agent recommends."""

    BUY = "buy"
    SELL = "sell"
    HOLD = "hold"


class Signal(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """A specialist's opinion at one instant.

    Attributes
    ----------
    ts
        Market time the signal was produced, ns UTC.
    agent_id
        Producing agent.
    symbol
        Instrument.
    action
        :class:`Action`.
    confidence
        0..1.
    reason
        Human-readable explanation.
    metadata
        Numeric inputs behind the signal (feature values), by name.
    """

    ts: int
    agent_id: str
    symbol: str
    action: Action
    confidence: float
    reason: str
    metadata: dict[str, float] = msgspec.field(default_factory=dict)


class Decision(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The coordinator's decision, with the consensus behind it.

    Attributes
    ----------
    ts
        Market time, ns UTC.
    symbol
        Instrument.
    action
        :class:`Action`; ``HOLD`` decisions are recorded too.
    confidence
        0..1.
    reasons
        Why, one entry per contributing argument.
    consensus
        Flow consensus figures: ``buy_strength``, ``sell_strength``, ``direction``
        (+1/-1/0) and ``strength`` (0..1).
    signals
        Agent ids of the signals that were aggregated.
    """

    ts: int
    symbol: str
    action: Action
    confidence: float
    reasons: tuple[str, ...] = ()
    consensus: dict[str, float] = msgspec.field(default_factory=dict)
    signals: tuple[str, ...] = ()


class AgentPerformance(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """An agent's running record after a closed trade (the ``agent_performance`` stream).

    Attributes
    ----------
    ts
        Market time of the closing fill, ns UTC.
    agent_id
        Agent credited (the coordinator's decisions are attributed to every agent).
    symbol
        Instrument.
    round_trips
        Closed trades so far.
    last_pnl
        Net P&L of the trade just closed, instrument currency (after fees).
    net_pnl
        Net P&L of all closed trades so far.
    note
        Exit reason of the trade just closed.
    """

    ts: int
    agent_id: str
    symbol: str
    round_trips: int
    last_pnl: float
    net_pnl: float
    note: str = ""
