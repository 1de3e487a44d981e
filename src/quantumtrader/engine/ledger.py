"""Position ledger built from fills: the engine's own accounting, broker-independent."""

from __future__ import annotations

import msgspec

from quantumtrader.model.instruments import InstrumentSpec
from quantumtrader.model.orders import Fill

__all__ = ["Ledger", "RoundTripRecord"]


class RoundTripRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One closed position (flat → open → flat).

    Attributes
    ----------
    entry_ts, exit_ts
        ns UTC of the first and the last fill.
    direction
        +1 long, -1 short.
    qty
        Contracts at the maximum size of the position.
    entry_price, exit_price
        Volume-weighted prices, points.
    gross_brl
        Points × point value × contracts, BRL.
    fees_brl
        Fees of all fills of the round trip, BRL.
    net_brl
        ``gross_brl − fees_brl``.
    exit_reason
        Tag of the closing fill (``stop``, ``take``, ``flatten``).
    """

    entry_ts: int
    exit_ts: int
    direction: int
    qty: int
    entry_price: float
    exit_price: float
    gross_brl: float
    fees_brl: float
    net_brl: float
    exit_reason: str


class Ledger:
    """Signed position, average price, realized P&L and fees from a stream of fills.

    P&L = points × BRL-per-point × contracts − costs (DESIGN.md section 6).

    Parameters
    ----------
    spec
        Instrument spec (point value).
    """

    def __init__(self, spec: InstrumentSpec) -> None:
        self._pv = spec.point_value
        self.position = 0
        self.avg_price = 0.0
        self.realized_gross = 0.0
        self.fees = 0.0
        self.round_trips: list[RoundTripRecord] = []
        self._rt_open_ts = 0
        self._rt_gross = 0.0
        self._rt_fees = 0.0
        self._rt_dir = 0
        self._rt_qty = 0
        self._rt_entry_notional = 0.0
        self._rt_entry_qty = 0
        self._rt_exit_notional = 0.0
        self._rt_exit_qty = 0

    @property
    def realized_net(self) -> float:
        """Realized P&L net of fees, BRL."""
        return self.realized_gross - self.fees

    def unrealized(self, price: float) -> float:
        """Mark-to-market P&L of the open position at ``price``, BRL (before exit fees)."""
        return (price - self.avg_price) * self.position * self._pv

    def apply(self, fill: Fill) -> RoundTripRecord | None:
        """Book one fill; return the round trip it closed, if any."""
        signed = int(fill.side) * fill.qty
        self.fees += fill.fee
        if self.position == 0:
            self._rt_open_ts = fill.ts
            self._rt_dir = 1 if signed > 0 else -1
            self._rt_gross = self._rt_fees = 0.0
            self._rt_qty = 0
            self._rt_entry_notional = self._rt_exit_notional = 0.0
            self._rt_entry_qty = self._rt_exit_qty = 0
        self._rt_fees += fill.fee
        if self.position == 0 or (self.position > 0) == (signed > 0):
            new_pos = self.position + signed
            self.avg_price = (self.avg_price * abs(self.position) + fill.price * abs(signed)) / abs(
                new_pos
            )
            self.position = new_pos
            self._rt_entry_notional += fill.price * abs(signed)
            self._rt_entry_qty += abs(signed)
            self._rt_qty = max(self._rt_qty, abs(new_pos))
            return None
        closing = min(abs(signed), abs(self.position))
        direction = 1 if self.position > 0 else -1
        gross = (fill.price - self.avg_price) * direction * closing * self._pv
        self.realized_gross += gross
        self._rt_gross += gross
        self._rt_exit_notional += fill.price * closing
        self._rt_exit_qty += closing
        self.position += direction * -closing
        rest = abs(signed) - closing
        if self.position != 0:
            return None
        record = RoundTripRecord(
            entry_ts=self._rt_open_ts,
            exit_ts=fill.ts,
            direction=self._rt_dir,
            qty=self._rt_qty,
            entry_price=self._rt_entry_notional / self._rt_entry_qty,
            exit_price=self._rt_exit_notional / self._rt_exit_qty,
            gross_brl=self._rt_gross,
            fees_brl=self._rt_fees,
            net_brl=self._rt_gross - self._rt_fees,
            exit_reason=fill.tag,
        )
        self.round_trips.append(record)
        self.avg_price = 0.0
        if rest:
            # A reversal: the remainder opens a new position at the fill price, with no fee
            # counted twice (the fee was booked on the closing round trip).
            self.position = -direction * rest
            self.avg_price = fill.price
            self._rt_open_ts = fill.ts
            self._rt_dir = -direction
            self._rt_gross = self._rt_fees = 0.0
            self._rt_qty = rest
            self._rt_entry_notional = fill.price * rest
            self._rt_entry_qty = rest
            self._rt_exit_notional = 0.0
            self._rt_exit_qty = 0
        return record
