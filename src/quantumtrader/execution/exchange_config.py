"""Configuration of the simulated exchange (:class:`ExchangeConfig`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from quantumtrader.core.errors import ConfigError
from quantumtrader.execution.queue import QUEUE_MODELS

__all__ = ["ExchangeConfig"]

_MODES = ("accurate", "fast")


class ExchangeConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of :class:`~quantumtrader.execution.exchange.SimulatedExchange`.

    Attributes
    ----------
    mode
        ``"accurate"`` (default): queue position and latency are modelled.
        ``"fast"``: no latency and no queue — a resting limit fills completely when a
        trade prints at or through its price or the opposite best crosses it; meant
        for parameter searches. Market orders walk the book in both modes.
    queue_model
        ``"power"`` (default), ``"log"`` or ``"risk_averse"``
        (:mod:`quantumtrader.execution.queue`).
    queue_power
        Exponent ``n`` of the power model (> 0, default 2).
    entry_latency_ns, response_latency_ns
        Constant order-entry and response latency, ns (≥ 0, default 0).
    entry_latency_samples_ns, response_latency_samples_ns
        Measured latencies, ns; when given, each delay is drawn from them with a
        generator seeded by ``seed`` instead of the constant (give one or the other).
    feed_latency_ns
        Delay between an event at the venue and the strategy seeing it, ns. The
        exchange does *not* apply it (it sees market data at venue time); the engine
        delays what it shows the strategy by this amount.
    seed
        Seed of the empirical latency draws.
    slippage_ticks
        Ticks against us on market and stop fills of the trades fallback (no book
        data for the symbol), ≥ 0, default 1.
    limit_fill
        Trades fallback rule for limits: ``"through"`` (a trade strictly beyond the
        price) or ``"touch"`` (a trade at the price is enough).
    """

    mode: Literal["accurate", "fast"] = "accurate"
    queue_model: Literal["power", "log", "risk_averse"] = "power"
    queue_power: float = 2.0
    entry_latency_ns: int = 0
    response_latency_ns: int = 0
    entry_latency_samples_ns: tuple[int, ...] = ()
    response_latency_samples_ns: tuple[int, ...] = ()
    feed_latency_ns: int = 0
    seed: int = 0
    slippage_ticks: int = 1
    limit_fill: Literal["through", "touch"] = "through"

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ConfigError(f"mode must be 'accurate' or 'fast', got {self.mode!r}")
        if self.queue_model not in QUEUE_MODELS:
            raise ConfigError(
                f"queue_model must be one of {', '.join(QUEUE_MODELS)}, got {self.queue_model!r}"
            )
        if not (math.isfinite(self.queue_power) and self.queue_power > 0):
            raise ConfigError(f"queue_power must be a finite number > 0, got {self.queue_power}")
        for leg in ("entry", "response", "feed"):
            value = getattr(self, f"{leg}_latency_ns")
            if value < 0:
                raise ConfigError(f"{leg}_latency_ns must be >= 0, got {value}")
        for leg in ("entry", "response"):
            samples = getattr(self, f"{leg}_latency_samples_ns")
            if samples and min(samples) < 0:
                raise ConfigError(f"{leg}_latency_samples_ns must be >= 0, got {min(samples)}")
            if samples and getattr(self, f"{leg}_latency_ns"):
                raise ConfigError(f"give {leg}_latency_ns or {leg}_latency_samples_ns, not both")
        if self.mode == "fast" and self.has_latency:
            raise ConfigError(
                "mode='fast' has no latency: set the latencies to 0 and leave the samples "
                "empty, or use mode='accurate'"
            )
        if self.slippage_ticks < 0:
            raise ConfigError(f"slippage_ticks must be >= 0, got {self.slippage_ticks}")
        if self.limit_fill not in ("through", "touch"):
            raise ConfigError(f"limit_fill must be 'through' or 'touch', got {self.limit_fill!r}")

    @property
    def has_latency(self) -> bool:
        """True when any latency (entry, response, feed) is configured."""
        return bool(
            self.entry_latency_ns
            or self.response_latency_ns
            or self.feed_latency_ns
            or self.entry_latency_samples_ns
            or self.response_latency_samples_ns
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ExchangeConfig:
        """Build a config from a TOML/JSON table, with type checks.

        Raises
        ------
        ConfigError
            On an unknown key, a wrong type or an invalid value.
        """
        try:
            return msgspec.convert(dict(data), cls)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"exchange config: {exc}") from exc
