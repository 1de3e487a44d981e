"""Replay configuration."""

from __future__ import annotations

import msgspec

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
    """

    lots: int = 1
    stop_points: float = 4.0
    take_points: float = 8.0
    equity_sample_s: int = 60
