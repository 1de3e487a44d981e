"""What a replay produces: the result record and the risk verdicts."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from quantumtrader.model.orders import Fill
from quantumtrader.model.positions import RoundTrip
from quantumtrader.model.signals import Decision, Signal

__all__ = ["TRADES_FILL_NOTE", "ReplayResult", "RiskEvent", "as_int_ns"]

#: Report line for replays without an order book.
TRADES_FILL_NOTE = "fills simulated from the trades (next trade plus slippage ticks); no order book"


class RiskEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The risk manager's verdict on one actionable decision."""

    ts: int
    action: str
    approved: bool
    reasons: tuple[str, ...]


class ReplayResult(msgspec.Struct, kw_only=True):
    """Everything a replay produced, in market-time order.

    Attributes
    ----------
    symbol, spec_root
        Instrument replayed.
    n_events
        Trades processed.
    first_ts, last_ts
        Market time span, ns UTC.
    fills, round_trips
        Executions, and one :class:`~quantumtrader.model.positions.RoundTrip` per fill that
        closes contracts (net of fees).
    decisions
        Actionable coordinator decisions (``HOLD`` only counted).
    hold_decisions
        Number of ``HOLD`` decisions.
    signals
        Actionable specialist signals where an agent's action changes (a BUY after a
        HOLD or a SELL); repeats at later timers are only counted.
    signal_counts
        ``agent_id -> action -> count`` including ``hold``.
    risk_events
        Verdict on every actionable decision.
    equity
        ``(ts, realized_net + unrealized, position)`` samples.
    candles
        1-minute candles ``(ts, open, high, low, close, volume)``.
    open_position, unrealized_brl
        State at the end of the data.
    fee_per_contract, slippage_ticks
        Cost model used (for the report).
    book_events
        Order-book deltas replayed (0 for a trades-only replay).
    fill_model
        How fills were simulated: ``"trades"`` (next trade ± slippage ticks, no book)
        or ``"book"`` (the simulated exchange matched against the replayed order book).
    fill_model_note
        One line for the report explaining the fill model.
    currency
        Currency of every money figure (the instrument's; ``BRL`` for B3).
    """

    symbol: str
    spec_root: str
    n_events: int
    first_ts: int
    last_ts: int
    fills: list[Fill]
    round_trips: list[RoundTrip]
    decisions: list[Decision]
    hold_decisions: int
    signals: list[Signal]
    signal_counts: dict[str, dict[str, int]]
    risk_events: list[RiskEvent]
    equity: list[tuple[int, float, int]]
    candles: list[tuple[int, float, float, float, float, float]]
    open_position: int
    unrealized_brl: float
    fee_per_contract: float
    slippage_ticks: float
    book_events: int = 0
    fill_model: str = "trades"
    fill_model_note: str = TRADES_FILL_NOTE
    currency: str = "BRL"

    def to_json(self) -> bytes:
        """Canonical JSON of the whole result (sorted keys)."""
        return msgspec.json.encode(msgspec.to_builtins(self), order="sorted")

    def digest(self) -> str:
        """SHA-256 of :meth:`to_json`; equal digests mean byte-identical results."""
        return hashlib.sha256(self.to_json()).hexdigest()


def as_int_ns(col: pa.ChunkedArray) -> np.ndarray[Any, Any]:
    """Timestamp or int column as contiguous int64 ns, shape ``(n,)``."""
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.int64())
    return np.ascontiguousarray(col.to_numpy(), dtype=np.int64)
