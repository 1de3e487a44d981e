"""Trading metrics of a replay, net of modeled costs.

Every figure is computed from the replay's fills and equity samples; none is
annualized from a single day.
"""

from __future__ import annotations

import math

import msgspec

from quantumtrader.engine.replay import ReplayResult

__all__ = ["Metrics", "compute_metrics"]


class Metrics(msgspec.Struct, frozen=True, kw_only=True):
    """Summary of a backtest.

    Attributes
    ----------
    net_pnl_brl, gross_pnl_brl
        Realized P&L after and before fees, BRL (slippage is inside both: fills are
        at slipped prices).
    costs_brl
        Fees paid, BRL.
    slippage_brl
        Cost of the modeled slippage, BRL (already inside the P&L figures).
    trades
        Closed round trips.
    win_rate
        Share of round trips with net P&L > 0 (``None`` without trades).
    profit_factor
        Gross wins / gross losses of net P&L per trade (``None`` without losses).
    avg_trade_brl
        Mean net P&L per round trip.
    sharpe_per_trade
        Mean / standard deviation (ddof=1) of net P&L per round trip; not annualized.
    max_drawdown_brl
        Largest peak-to-trough fall of the equity curve (realized + unrealized), BRL.
    exposure
        Share of the replayed time span spent with an open position, 0..1.
    open_position, unrealized_brl
        Position left open at the end of the data and its mark-to-market.
    """

    net_pnl_brl: float
    gross_pnl_brl: float
    costs_brl: float
    slippage_brl: float
    trades: int
    win_rate: float | None
    profit_factor: float | None
    avg_trade_brl: float | None
    sharpe_per_trade: float | None
    max_drawdown_brl: float
    exposure: float
    open_position: int
    unrealized_brl: float


def max_drawdown(values: list[float]) -> float:
    """Largest peak-to-trough decline of a series (≥ 0, same units as the input)."""
    peak = -math.inf
    worst = 0.0
    for v in values:
        peak = max(peak, v)
        worst = max(worst, peak - v)
    return worst


def compute_metrics(result: ReplayResult, point_value: float) -> Metrics:
    """Compute :class:`Metrics` from a :class:`ReplayResult`.

    Parameters
    ----------
    result
        Output of :meth:`ReplayEngine.run`.
    point_value
        Money per point per quantity unit (the spec's ``multiplier``; the point value
        for B3), for the slippage cost.
    """
    rts = result.round_trips
    nets = [r.net_brl for r in rts]
    gross = sum(r.gross_brl for r in rts)
    fees = sum(f.fee for f in result.fills)
    wins = [x for x in nets if x > 0]
    losses = [x for x in nets if x <= 0]
    win_rate = len(wins) / len(nets) if nets else None
    loss_sum = -sum(losses)
    profit_factor = sum(wins) / loss_sum if loss_sum > 0 else None
    avg = sum(nets) / len(nets) if nets else None
    sharpe = None
    if len(nets) >= 2 and avg is not None:
        var = sum((x - avg) ** 2 for x in nets) / (len(nets) - 1)
        sharpe = avg / math.sqrt(var) if var > 0 else None
    slippage = sum(f.slippage_points * f.qty * point_value for f in result.fills)
    # Equity at every fill and every sample gives the drawdown path.
    eq = [0.0] + [e[1] for e in result.equity]  # equity is 0 before the first fill
    span = max(result.last_ts - result.first_ts, 1)
    in_pos = 0
    pos = 0
    since = 0
    for f in result.fills:
        new = pos + int(f.side) * f.qty
        if pos == 0 and new != 0:
            since = f.ts
        elif pos != 0 and new == 0:
            in_pos += f.ts - since
        pos = new
    if pos != 0:
        in_pos += result.last_ts - since
    realized_net = gross - fees
    return Metrics(
        net_pnl_brl=realized_net,
        gross_pnl_brl=gross,
        costs_brl=fees,
        slippage_brl=slippage,
        trades=len(rts),
        win_rate=win_rate,
        profit_factor=profit_factor,
        avg_trade_brl=avg,
        sharpe_per_trade=sharpe,
        max_drawdown_brl=max_drawdown(eq),
        exposure=in_pos / span,
        open_position=result.open_position,
        unrealized_brl=result.unrealized_brl,
    )
