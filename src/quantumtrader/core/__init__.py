"""Layer 1: time, errors and small shared utilities."""

from quantumtrader.core.errors import (
    BrokerError,
    BusError,
    ConfigError,
    DataError,
    QuantumTraderError,
    RiskLimitBreached,
)
from quantumtrader.core.timeutil import (
    B3_TZ,
    NS_PER_DAY,
    NS_PER_MINUTE,
    NS_PER_SECOND,
    local_midnight_ns,
    local_to_utc_ns,
    ns_to_local,
    ns_to_utc,
)

__all__ = [
    "B3_TZ",
    "NS_PER_DAY",
    "NS_PER_MINUTE",
    "NS_PER_SECOND",
    "BrokerError",
    "BusError",
    "ConfigError",
    "DataError",
    "QuantumTraderError",
    "RiskLimitBreached",
    "local_midnight_ns",
    "local_to_utc_ns",
    "ns_to_local",
    "ns_to_utc",
]
