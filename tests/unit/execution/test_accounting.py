"""Ledger accounting and bracket price rules in isolation."""

from __future__ import annotations

import pytest

from quantumtrader.execution.brackets import bracket_prices, trigger_price
from quantumtrader.model import Fill, Order, OrderSide, OrderType, spec_for
from quantumtrader.model.positions import Ledger, exit_reason

SPEC = spec_for("WIN")  # tick 5, R$0.20 per point


def fill(side: OrderSide, qty: int, price: float, tag: str = "entry", ts: int = 0) -> Fill:
    return Fill(
        ts=ts,
        order_id="o",
        symbol="WINV25",
        side=side,
        qty=qty,
        price=price,
        fee=0.25 * qty,
        tag=tag,
    )


def test_ledger_short_round_trip() -> None:
    g = Ledger("WINV25", SPEC)
    assert g.apply(fill(OrderSide.SELL, 2, 130000.0, ts=1)) is None
    assert (g.position, g.avg_price, g.entry_ts) == (-2, 130000.0, 1)
    assert g.unrealized(129900.0) == pytest.approx(40.0)
    rt = g.apply(fill(OrderSide.BUY, 1, 129900.0, tag="take", ts=2))
    assert rt is not None
    assert (rt.side, rt.qty, rt.exit_reason, rt.entry_ts, rt.exit_ts) == (
        OrderSide.SELL,
        1,
        "take",
        1,
        2,
    )
    assert rt.gross_brl == pytest.approx(20.0)
    assert rt.fees_brl == pytest.approx(0.5)
    rt2 = g.apply(fill(OrderSide.BUY, 1, 130050.0, tag="stop", ts=3))
    assert rt2 is not None
    assert rt2.gross_brl == pytest.approx(-10.0)
    assert g.position == 0
    assert g.avg_price == 0.0
    assert g.realized_net == pytest.approx(10.0 - 1.0)
    assert g.cash == pytest.approx(g.realized_net)
    assert rt.net_brl + rt2.net_brl == pytest.approx(g.realized_net)


def test_exit_reason() -> None:
    assert [exit_reason(t) for t in ("stop", "take", "flatten", "entry")] == [
        "stop",
        "take",
        "flatten",
        "signal",
    ]


def test_bracket_prices_win() -> None:
    assert bracket_prices(OrderSide.BUY, 130000.0, 5.0, 150.0, 300.0) == (129850.0, 130300.0)
    assert bracket_prices(OrderSide.SELL, 130000.0, 5.0, 152.0, 298.0) == (130150.0, 129700.0)
    assert bracket_prices(OrderSide.SELL, 130000.0, 5.0, None, None) == (None, None)


def test_trigger_price() -> None:
    stop = Order(
        order_id="s",
        ts=0,
        symbol="WINV25",
        side=OrderSide.BUY,
        qty=1,
        order_type=OrderType.STOP,
        price=130150.0,
        tag="stop",
    )
    assert trigger_price(stop, 130145.0, 5.0, 1, "through") is None
    assert trigger_price(stop, 130150.0, 5.0, 1, "through") == 130155.0
    take = Order(
        order_id="t",
        ts=0,
        symbol="WINV25",
        side=OrderSide.BUY,
        qty=1,
        order_type=OrderType.LIMIT,
        price=129700.0,
        tag="take",
    )
    assert trigger_price(take, 129700.0, 5.0, 1, "through") is None
    assert trigger_price(take, 129700.0, 5.0, 1, "touch") == 129700.0
    assert trigger_price(take, 129695.0, 5.0, 1, "through") == 129700.0
