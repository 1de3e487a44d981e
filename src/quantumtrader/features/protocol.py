"""The Feature protocol (DESIGN.md section 5), river-style.

A feature is a small object with constant memory: ``update(...)`` consumes one event,
``get()`` returns the current value (None until warm), ``ready`` says whether ``get``
has a value, ``reset()`` returns it to its freshly constructed state, and ``name`` is
derived from its constructor parameters (``ofi_5m``, ``ema_9``). Trade features take
``update(ts, price, qty, side)``; candle features take ``update_bar(candle)``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from quantumtrader.features.candles import Candle

__all__ = ["CandleFeature", "Feature", "TradeFeature"]


@runtime_checkable
class Feature(Protocol):
    """What every feature offers besides its update method."""

    name: str

    def get(self) -> float | None:
        """Current value, or None until warm."""
        ...

    @property
    def ready(self) -> bool:
        """True once :meth:`get` returns a number."""
        ...

    def reset(self) -> None:
        """Return to the freshly constructed state."""
        ...


@runtime_checkable
class TradeFeature(Feature, Protocol):
    """A feature updated on every trade."""

    def update(self, ts: int, price: float, qty: float, side: int) -> None:
        """Feed one trade: ns UTC, points, contracts, aggressor (+1, -1, 0)."""
        ...


@runtime_checkable
class CandleFeature(Feature, Protocol):
    """A feature updated on every closed one-minute candle."""

    def update_bar(self, bar: Candle) -> None:
        """Feed one closed candle."""
        ...
