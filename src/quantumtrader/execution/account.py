"""Fees and per-symbol accounting of the simulated exchange.

Money is in the instrument's price currency (BRL for B3, USD for CME and NASDAQ,
USDT for Binance). One quantity unit of a symbol is worth ``spec.multiplier``
(``point_value × qty_unit``) per point, which the ledgers of
:mod:`quantumtrader.model.positions` apply: for B3 futures (``qty_unit = 1``) that is
the point value; for crypto (``qty_unit = 0.001`` BTC) a 1-point move of 1 unit is
worth 0.001 USDT.

Identities (checked by the property tests): the sum of the fills' signed quantities
is the position, and ``cash + position × mark × multiplier = realized_net +
unrealized(mark)``.
"""

from __future__ import annotations

from collections.abc import Mapping

from quantumtrader.model.instruments import InstrumentSpec
from quantumtrader.model.orders import Fill
from quantumtrader.model.positions import Ledger, RoundTrip

__all__ = ["Account", "fee_of", "multiplier"]


def multiplier(spec: InstrumentSpec) -> float:
    """Money per point per quantity unit: ``spec.multiplier`` (``point_value × qty_unit``)."""
    return spec.multiplier


def fee_of(spec: InstrumentSpec, qty: int, price: float) -> float:
    """Fee of one fill: ``fee_per_contract·qty + fee_bps·notional / 10⁴``.

    ``notional = price · qty · qty_unit · point_value`` (price currency).

    Examples
    --------
    >>> from quantumtrader.model.instruments import spec_for
    >>> round(fee_of(spec_for("BTCUSDT-PERP"), 3, 60_000.0), 6)  # 0.003 BTC, 5 bps
    0.09
    """
    notional = price * qty * spec.qty_unit * spec.point_value
    return spec.fee_per_contract * qty + spec.fee_bps * notional / 10_000.0


class Account:
    """Fills, round trips and one :class:`~quantumtrader.model.positions.Ledger` per symbol."""

    def __init__(self) -> None:
        self._ledgers: dict[str, Ledger] = {}
        self._fills: list[Fill] = []
        self._trips: list[RoundTrip] = []

    def open(self, symbol: str, spec: InstrumentSpec) -> Ledger:
        """The ledger of ``symbol``, created empty when new."""
        ledger = self._ledgers.get(symbol)
        if ledger is None:
            ledger = self._ledgers[symbol] = Ledger(symbol, spec)
        return ledger

    def symbols(self) -> list[str]:
        """Symbols with a ledger, in the order they were opened."""
        return list(self._ledgers)

    def record(self, fill: Fill) -> RoundTrip | None:
        """Account ``fill`` (its symbol's ledger must be open); return the trip it closes."""
        self._fills.append(fill)
        trip = self._ledgers[fill.symbol].apply(fill)
        if trip is not None:
            self._trips.append(trip)
        return trip

    def ledger(self, symbol: str) -> Ledger | None:
        """The ledger of ``symbol``, ``None`` before its first order."""
        return self._ledgers.get(symbol)

    def position(self, symbol: str) -> int:
        """Signed position, quantity units."""
        ledger = self._ledgers.get(symbol)
        return 0 if ledger is None else ledger.position

    def avg_price(self, symbol: str) -> float:
        """Average entry price of the open position, points (0 when flat)."""
        ledger = self._ledgers.get(symbol)
        return 0.0 if ledger is None else ledger.avg_price

    def fills(self) -> list[Fill]:
        """Every fill so far, in order."""
        return list(self._fills)

    def round_trips(self) -> list[RoundTrip]:
        """Every closed round trip, in closing order."""
        return list(self._trips)

    @property
    def realized_gross(self) -> float:
        """Realized P&L before fees, all symbols."""
        return sum(g.realized_gross for g in self._ledgers.values())

    @property
    def fees(self) -> float:
        """Fees paid, all symbols."""
        return sum(g.fees for g in self._ledgers.values())

    @property
    def realized_net(self) -> float:
        """``realized_gross − fees``."""
        return self.realized_gross - self.fees

    @property
    def cash(self) -> float:
        """``Σ −side·qty·price·multiplier − fee`` over all fills."""
        return sum(g.cash for g in self._ledgers.values())

    def unrealized(self, marks: Mapping[str, float]) -> float:
        """Mark-to-market of the open positions at ``marks`` (symbol → price, points).

        Symbols with an open position must have a mark.

        Raises
        ------
        KeyError
            If an open position's symbol has no mark.
        """
        return sum(g.unrealized(marks[s]) for s, g in self._ledgers.items() if g.position != 0)
