"""Metrics by hand on a constructed result."""

from __future__ import annotations

import pytest

from quantumtrader.engine import ReplayResult
from quantumtrader.model import Fill, OrderSide, RoundTrip
from quantumtrader.reports import compute_metrics, max_drawdown


def _rt(net: float, gross: float) -> RoundTrip:
    return RoundTrip(
        symbol="WDOU25",
        side=OrderSide.BUY,
        entry_ts=0,
        exit_ts=1,
        qty=1,
        entry_price=1.0,
        exit_price=1.0,
        gross_brl=gross,
        fees_brl=gross - net,
        net_brl=net,
        exit_reason="take",
    )


def _fill(ts: int, side: OrderSide, fee: float, slip: float = 0.0) -> Fill:
    return Fill(
        ts=ts,
        order_id=str(ts),
        symbol="WDOU25",
        side=side,
        qty=1,
        price=5000.0,
        fee=fee,
        slippage_points=slip,
    )


def test_max_drawdown() -> None:
    assert max_drawdown([0.0, 10.0, 4.0, 12.0, 1.0, 5.0]) == 11.0
    assert max_drawdown([1.0, 2.0, 3.0]) == 0.0


def test_metrics_by_hand() -> None:
    fills = [
        _fill(0, OrderSide.BUY, 1.0, 0.5),
        _fill(50, OrderSide.SELL, 1.0),
        _fill(60, OrderSide.SELL, 1.0, 0.5),
        _fill(100, OrderSide.BUY, 1.0),
    ]
    result = ReplayResult(
        symbol="WDOU25",
        spec_root="WDO",
        n_events=10,
        first_ts=0,
        last_ts=200,
        fills=fills,
        round_trips=[_rt(8.0, 10.0), _rt(-4.0, -2.0)],
        decisions=[],
        hold_decisions=0,
        signals=[],
        signal_counts={},
        risk_events=[],
        equity=[(0, 0.0, 0), (50, 8.0, 0), (100, 4.0, 0)],
        candles=[],
        open_position=0,
        unrealized_brl=0.0,
        fee_per_contract=1.0,
        slippage_ticks=1,
    )
    m = compute_metrics(result, point_value=10.0)
    assert m.trades == 2
    assert m.gross_pnl_brl == 8.0
    assert m.costs_brl == 4.0
    assert m.net_pnl_brl == 4.0
    assert m.win_rate == 0.5
    assert m.profit_factor == 2.0
    assert m.slippage_brl == 10.0
    assert m.max_drawdown_brl == 4.0
    assert m.exposure == pytest.approx(90 / 200)
    assert m.sharpe_per_trade == pytest.approx(2.0 / (72**0.5))


def test_drawdown_counts_a_loss_before_the_first_equity_sample() -> None:
    result = ReplayResult(
        symbol="WDOU25",
        spec_root="WDO",
        n_events=3,
        first_ts=0,
        last_ts=120,
        fills=[_fill(1, OrderSide.BUY, 1.0), _fill(2, OrderSide.SELL, 1.0)],
        round_trips=[_rt(-7.0, -5.0)],
        decisions=[],
        hold_decisions=0,
        signals=[],
        signal_counts={},
        risk_events=[],
        equity=[(60, -7.0, 0), (120, -7.0, 0)],  # first sample after the losing trade
        candles=[],
        open_position=0,
        unrealized_brl=0.0,
        fee_per_contract=1.0,
        slippage_ticks=1,
    )
    assert compute_metrics(result, point_value=10.0).max_drawdown_brl == 7.0
