"""Layer 2: events, orders, fills, positions, signals, instrument specs and contract calendars."""

from quantumtrader.model.arrow import (
    TRADE_FIELDS,
    TRADE_SCHEMA,
    table_to_trades,
    trade_arrays,
    trades_to_table,
)
from quantumtrader.model.contracts import MONTH_CODES, contract_code, expiry, parse_contract
from quantumtrader.model.events import Aggressor, Trade, TradeKind
from quantumtrader.model.instruments import (
    InstrumentSpec,
    TradingHours,
    load_instruments,
    root_of,
    spec_for,
)
from quantumtrader.model.orders import (
    Broker,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
)
from quantumtrader.model.positions import Ledger, RoundTrip, exit_reason
from quantumtrader.model.signals import Action, Decision, Signal

__all__ = [
    "MONTH_CODES",
    "TRADE_FIELDS",
    "TRADE_SCHEMA",
    "Action",
    "Aggressor",
    "Broker",
    "Decision",
    "Fill",
    "InstrumentSpec",
    "Ledger",
    "Order",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "RoundTrip",
    "Signal",
    "Trade",
    "TradeKind",
    "TradingHours",
    "contract_code",
    "exit_reason",
    "expiry",
    "load_instruments",
    "parse_contract",
    "root_of",
    "spec_for",
    "table_to_trades",
    "trade_arrays",
    "trades_to_table",
]
