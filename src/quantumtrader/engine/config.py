"""Replay configuration."""

from __future__ import annotations

import msgspec

from quantumtrader.core.errors import ConfigError

__all__ = ["ReplayConfig"]


class ReplayConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the replay sizes orders and samples equity.

    Agent cadences belong to each agent's own config (specialists 100 ms, the
    coordinator 1 s by default).

    Attributes
    ----------
    lots
        Lots per entry; the order quantity is ``lots × spec.lot_size`` contracts (one lot
        is 1 contract of WDO/WIN and 5 of DOL/IND).
    stop_points, take_points
        Bracket distances from the entry fill price, points (rounded to the tick).
    equity_sample_s
        Period of the equity curve samples, seconds of market time.
    feed_latency_us
        Market-data latency in microseconds of market time: an agent timer at ``T`` sees
        the events with ``ts_event <= T - feed_latency``; its orders are stamped ``T``
        (the broker adds its own order-entry latency). 0 by default, which takes the
        broker's ``feed_latency_ns`` when it has one (the simulated exchange's config).
    """

    lots: int = 1
    stop_points: float = 4.0
    take_points: float = 8.0
    equity_sample_s: int = 60
    feed_latency_us: int = 0

    def __post_init__(self) -> None:
        if self.feed_latency_us < 0:
            raise ConfigError(f"feed_latency_us must be >= 0, got {self.feed_latency_us}")
