"""Feature values at one instant, as published by the features process."""

from __future__ import annotations

import msgspec

__all__ = ["FeatureVector"]


class FeatureVector(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The values of one feature group after one market event.

    Attributes
    ----------
    ts_event
        Venue time of the event the values include (the last one), ns UTC.
    symbol
        Instrument.
    seq
        Sequence number of that market event on the feed (0-based per run).
    group
        Feature group: ``agents`` (the agents' feature set), ``flow``, ``footprint``,
        ``liquidity``, ``tape``, ``micro`` or ``technical`` (see ``docs/features.md``).
    values
        Value by feature name; ``None`` while a feature is warming up or undefined.
    """

    ts_event: int
    symbol: str
    seq: int
    group: str
    values: dict[str, float | None] = msgspec.field(default_factory=dict)
