"""The backtest configuration file (TOML), one table per component.

Example ``backtest.toml``::

    [replay]
    lots = 1
    stop_points = 4.0
    take_points = 8.0

    [risk]
    daily_loss_limit_brl = 300.0
    trading_start = "09:15"

    [broker]
    slippage_ticks = 1

    [exchange]            # the simulated exchange, used when the data has an order book
    mode = "accurate"
    entry_latency_ns = 0

    [orderflow]
    threshold = 0.3

Unknown tables or keys are errors, so a typo never passes silently.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

import msgspec

from quantumtrader.agents import CoordinatorConfig, OrderFlowConfig, TrendConfig
from quantumtrader.core.errors import ConfigError
from quantumtrader.engine import ReplayConfig
from quantumtrader.execution import ExchangeConfig, SimBrokerConfig
from quantumtrader.risk import RiskConfig

__all__ = ["BacktestConfig", "load_config", "read_toml_config"]


class BacktestConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every knob of a backtest; each table defaults to the seed's values."""

    replay: ReplayConfig = msgspec.field(default_factory=ReplayConfig)
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    broker: SimBrokerConfig = msgspec.field(default_factory=SimBrokerConfig)
    exchange: ExchangeConfig = msgspec.field(default_factory=ExchangeConfig)
    orderflow: OrderFlowConfig = msgspec.field(default_factory=OrderFlowConfig)
    trend: TrendConfig = msgspec.field(default_factory=TrendConfig)
    coordinator: CoordinatorConfig = msgspec.field(default_factory=CoordinatorConfig)
    instruments: str | None = None


C = TypeVar("C", bound=msgspec.Struct)


def load_config(path: Path | None) -> BacktestConfig:
    """Read a backtest TOML file; ``None`` gives the defaults.

    Raises
    ------
    ConfigError
        If the file is missing, is not TOML, or has unknown or mistyped keys (the
        message names the file and the key path).
    """
    return read_toml_config(path, BacktestConfig)


def read_toml_config(path: Path | None, cls: type[C]) -> C:
    """Read a TOML file into the config struct ``cls``; ``None`` gives ``cls()``.

    Raises
    ------
    ConfigError
        If the file is missing, is not TOML, or has unknown or mistyped keys (the
        message names the file and the key path).
    """
    if path is None:
        return cls()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    try:
        return msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
