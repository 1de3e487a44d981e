"""Instrument specifications (DESIGN.md section 6), loaded from ``instruments.toml``.

The shipped file states the source of every fee default. A user file of the same
shape overrides any subset of keys.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from quantumtrader.core.errors import ConfigError

__all__ = [
    "InstrumentSpec",
    "TradingHours",
    "load_instruments",
    "root_of",
    "spec_for",
]


class TradingHours(msgspec.Struct, frozen=True, kw_only=True):
    """Local (America/Sao_Paulo) trading hours valid from ``since`` on."""

    since: dt.date
    open: str
    close: str

    def open_seconds(self) -> int:
        """Seconds after local midnight of the opening time."""
        h, m = self.open.split(":")
        return int(h) * 3600 + int(m) * 60

    def close_seconds(self) -> int:
        """Seconds after local midnight of the closing time."""
        h, m = self.close.split(":")
        return int(h) * 3600 + int(m) * 60


class InstrumentSpec(msgspec.Struct, frozen=True, kw_only=True):
    """Contract specification of one B3 futures root.

    Attributes
    ----------
    root
        Ticker root, e.g. ``WDO``.
    tick_size
        Minimum price increment, points.
    point_value
        BRL per point per contract.
    contract_size, contract_unit
        Notional of one contract (e.g. ``10000`` ``USD``).
    lot_size
        Minimum tradable quantity, contracts.
    roll
        ``monthly`` (every month is listed, WDO/DOL) or ``even_months`` (WIN/IND).
    price_adjusted
        True when a series is back-adjusted; off-grid prices are then accepted.
    fee_exchange, fee_registration, fee_brokerage
        BRL per contract per side.
    fee_source
        Where the fee defaults come from.
    fee_bps
        Fee as basis points of the traded notional (crypto venues), added to the
        per-contract fees; 0 for B3.
    currency
        Currency of prices × point value, fees and P&L (``BRL`` for B3).
    qty_unit
        Base units per quantity unit. B3 and CME quantities are whole contracts
        (1.0); crypto quantities are integer multiples of the venue's lot step
        (``0.001`` BTC for Binance BTCUSDT perpetuals), so every size stays exact.
    hours
        Trading hours by date, ascending ``since``.
    trade_size_buckets
        Tape-reading size thresholds ``(small, medium, large, whale)`` in quantity
        units: small ``<= small``, medium ``<= medium``, large ``<= large``, whale
        ``>= whale`` (the seed's 5 / 20 / 50 / 100 contracts unless the spec says).
    """

    root: str
    description: str
    tick_size: float
    point_value: float
    contract_size: float
    contract_unit: str
    lot_size: int
    roll: str
    price_adjusted: bool
    fee_exchange: float
    fee_registration: float
    fee_brokerage: float
    fee_source: str
    hours: tuple[TradingHours, ...]
    fee_bps: float = 0.0
    qty_unit: float = 1.0
    trade_size_buckets: tuple[float, float, float, float] = (5.0, 20.0, 50.0, 100.0)
    currency: str = "BRL"

    @property
    def multiplier(self) -> float:
        """Money per point per quantity unit: ``point_value × qty_unit``.

        Equal to ``point_value`` for B3, CME and NASDAQ (``qty_unit = 1``); for
        Binance BTCUSDT-PERP (units of 0.001 BTC) a 1-point move of 1 unit is 0.001.
        """
        return self.point_value * self.qty_unit

    @property
    def fee_per_contract(self) -> float:
        """Total cost of one contract on one side, BRL."""
        return self.fee_exchange + self.fee_registration + self.fee_brokerage

    def hours_on(self, day: dt.date) -> TradingHours:
        """Trading hours in force on ``day``.

        Raises
        ------
        ConfigError
            If no entry covers ``day``.
        """
        best: TradingHours | None = None
        for h in self.hours:
            if h.since <= day:
                best = h
        if best is None:
            raise ConfigError(f"{self.root}: no trading hours configured for {day}")
        return best

    def to_ticks(self, price: float) -> int:
        """Nearest integer tick of ``price``."""
        return round(price / self.tick_size)

    def round_to_tick(self, price: float) -> float:
        """``price`` rounded to the nearest tick."""
        return round(price / self.tick_size) * self.tick_size


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for root, values in override.items():
        if not isinstance(values, dict):
            raise ConfigError(f"instrument override: [{root}] must be a table")
        out.setdefault(root, {}).update(values)
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"instrument file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc


@lru_cache(maxsize=8)
def load_instruments(override: str | None = None) -> dict[str, InstrumentSpec]:
    """Load the shipped specs, optionally overridden by a user TOML file.

    Parameters
    ----------
    override
        Path of a TOML file with ``[ROOT]`` tables; ``None`` uses the environment
        variable ``QUANTUMTRADER_INSTRUMENTS`` when set.

    Returns
    -------
    dict
        ``root -> InstrumentSpec``.

    Raises
    ------
    ConfigError
        If a file is missing, malformed, or a spec lacks a field.
    """
    text = resources.files("quantumtrader.model").joinpath("instruments.toml").read_text()
    raw = tomllib.loads(text)
    path = override or os.environ.get("QUANTUMTRADER_INSTRUMENTS")
    if path:
        raw = _merge(raw, _read_toml(Path(path)))
    specs: dict[str, InstrumentSpec] = {}
    for root, values in raw.items():
        try:
            specs[root] = msgspec.convert({"root": root, **values}, InstrumentSpec)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"instrument {root}: {exc}") from exc
    return specs


def root_of(symbol: str) -> str:
    """Ticker root of a contract code or continuous series (``WDOU25`` → ``WDO``)."""
    return symbol[:3].upper()


def spec_for(symbol: str, override: str | None = None) -> InstrumentSpec:
    """Spec of ``symbol``: an entry named exactly like it, else the entry of its root.

    Raises
    ------
    ConfigError
        If the root is unknown.
    """
    specs = load_instruments(override)
    if symbol.upper() in specs:
        return specs[symbol.upper()]
    root = root_of(symbol)
    if root not in specs:
        raise ConfigError(f"unknown instrument root {root!r} (known: {', '.join(sorted(specs))})")
    return specs[root]
