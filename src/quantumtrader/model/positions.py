"""Position accounting from fills: average price, realized P&L, fees, cash, round trips.

Conventions (one instance per symbol):

* ``position`` is signed contracts; ``avg_price`` the average entry price of the
  open position in points (0 when flat).
* A fill that reduces the position realizes ``(exit − avg) · direction · closed ·
  multiplier`` gross (``multiplier = point_value × qty_unit`` of the spec, money per
  point per quantity unit; BRL for B3) and records a :class:`RoundTrip` for the closed contracts;
  the rest of a reversing fill opens a new position at the fill price.
* ``fees`` is the sum of every fill's fee (BRL); ``realized_net = realized_gross −
  fees`` (entry fees of an open position are already included).
* ``cash`` is computed independently from the fills as ``Σ −side·qty·price·multiplier
  − fee``; when flat it equals ``realized_net`` (futures exchange no notional, so this
  is a conservation check, not a margin model).
* A round trip's fees are its share of the entry fills' fees (pro rata by contracts)
  plus its share of the closing fill's fee, so the round trips' net sums to
  ``realized_net`` whenever the position is flat.
"""

from __future__ import annotations

import msgspec

from quantumtrader.model.instruments import InstrumentSpec
from quantumtrader.model.orders import Fill, OrderSide

__all__ = ["Ledger", "RoundTrip", "exit_reason"]

_REASONS = {"stop": "stop", "take": "take", "flatten": "flatten"}


def exit_reason(tag: str) -> str:
    """Exit reason of a closing fill's tag: ``stop``, ``take``, ``flatten``, else ``signal``."""
    return _REASONS.get(tag, "signal")


class RoundTrip(msgspec.Struct, frozen=True, kw_only=True):
    """One closed trade (or the closed part of a position).

    Attributes
    ----------
    symbol
        Contract.
    entry_ts, exit_ts
        Market time of the first entry fill of the position and of the closing fill,
        ns UTC.
    side
        Side of the entry (``BUY`` for a long trade).
    qty
        Contracts closed.
    entry_price, exit_price
        Average entry price and closing fill price, points.
    gross_brl, fees_brl, net_brl
        P&L before costs, costs of both sides, and ``gross − fees``, BRL.
    exit_reason
        ``stop``, ``take``, ``flatten`` or ``signal`` (an opposite entry order).
    """

    symbol: str
    entry_ts: int
    exit_ts: int
    side: OrderSide
    qty: int
    entry_price: float
    exit_price: float
    gross_brl: float
    fees_brl: float
    net_brl: float
    exit_reason: str


class Ledger:
    """Accounting of one symbol's fills.

    Parameters
    ----------
    symbol
        Contract.
    spec
        Instrument; its ``multiplier`` (``point_value × qty_unit``) converts points
        times quantity units to money.
    """

    def __init__(self, symbol: str, spec: InstrumentSpec) -> None:
        self.symbol = symbol
        self.point_value = spec.multiplier  # money per point per quantity unit
        self.position = 0
        self.avg_price = 0.0
        self.entry_ts = 0
        self.realized_gross = 0.0
        self.fees = 0.0
        self.cash = 0.0
        self.filled_signed_qty = 0
        self._open_fees = 0.0

    @property
    def realized_net(self) -> float:
        """Realized gross P&L minus all fees paid, BRL."""
        return self.realized_gross - self.fees

    def unrealized(self, price: float) -> float:
        """Gross mark-to-market of the open position at ``price`` (points), BRL."""
        return (price - self.avg_price) * self.position * self.point_value

    def apply(self, fill: Fill) -> RoundTrip | None:
        """Account ``fill``; return the round trip it closes, if any."""
        s = int(fill.side)
        q = fill.qty
        self.fees += fill.fee
        self.cash -= s * q * fill.price * self.point_value + fill.fee
        self.filled_signed_qty += s * q
        pos = self.position
        if pos == 0 or (pos > 0) == (s > 0):
            new = pos + s * q
            self.avg_price = (self.avg_price * abs(pos) + fill.price * q) / abs(new)
            if pos == 0:
                self.entry_ts = fill.ts
            self.position = new
            self._open_fees += fill.fee
            return None
        direction = 1 if pos > 0 else -1
        closed = min(q, abs(pos))
        gross = (fill.price - self.avg_price) * direction * closed * self.point_value
        entry_fee = self._open_fees * closed / abs(pos)
        exit_fee = fill.fee * closed / q
        trip = RoundTrip(
            symbol=self.symbol,
            entry_ts=self.entry_ts,
            exit_ts=fill.ts,
            side=OrderSide.BUY if direction > 0 else OrderSide.SELL,
            qty=closed,
            entry_price=self.avg_price,
            exit_price=fill.price,
            gross_brl=gross,
            fees_brl=entry_fee + exit_fee,
            net_brl=gross - entry_fee - exit_fee,
            exit_reason=exit_reason(fill.tag),
        )
        self.realized_gross += gross
        self._open_fees -= entry_fee
        self.position = pos + s * closed
        rest = q - closed
        if self.position == 0:
            self.avg_price = 0.0
            self._open_fees = 0.0
        if rest > 0:
            self.position = s * rest
            self.avg_price = fill.price
            self.entry_ts = fill.ts
            self._open_fees = fill.fee - exit_fee
        return trip
