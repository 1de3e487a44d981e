"""Simulated broker on hand-built trade sequences (WDO: tick 0.5, R$10/point, R$1.10 fee)."""

from __future__ import annotations

import pytest

from quantumtrader.core.errors import BrokerError, ConfigError
from quantumtrader.execution import SimBrokerConfig, SimulatedBroker
from quantumtrader.model import (
    Aggressor,
    Broker,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Trade,
    spec_for,
)

SYM = "WDOU25"
SPEC = spec_for("WDO")
FEE = SPEC.fee_per_contract
T0 = 1_754_917_200_000_000_000
MS = 1_000_000


def tr(i: int, price: float, sym: str = SYM) -> Trade:
    return Trade(
        ts_event=T0 + i * MS,
        ts_init=T0 + i * MS,
        symbol=sym,
        price=price,
        qty=1,
        aggressor=Aggressor.BUY,
        seq=i,
    )


def entry(
    oid: str,
    side: OrderSide,
    *,
    i: int = 0,
    qty: int = 1,
    stop: float | None = None,
    take: float | None = None,
) -> Order:
    return Order(
        order_id=oid,
        ts=T0 + i * MS,
        symbol=SYM,
        side=side,
        qty=qty,
        stop_points=stop,
        take_points=take,
    )


def flatten(oid: str, i: int, side: OrderSide = OrderSide.SELL, qty: int = 1) -> Order:
    return Order(order_id=oid, ts=T0 + i * MS, symbol=SYM, side=side, qty=qty, tag="flatten")


def broker(**kw: object) -> SimulatedBroker:
    return SimulatedBroker(SPEC, SimBrokerConfig(**kw))  # type: ignore[arg-type]


def test_is_a_broker() -> None:
    b: Broker = broker()
    assert b.position(SYM) == 0
    assert b.working_orders(SYM) == []


def test_market_entry_fills_next_trade_with_slippage() -> None:
    b = broker()
    b.submit(entry("e1", OrderSide.BUY, i=5))
    assert b.on_trade(tr(4, 5000.0)) == []  # older than the order
    fills = b.on_trade(tr(5, 5001.0))
    assert len(fills) == 1
    f = fills[0]
    assert (f.price, f.qty, f.side, f.fee, f.tag) == (5001.5, 1, OrderSide.BUY, FEE, "entry")
    assert f.slippage_points == 0.5
    assert b.position(SYM) == 1
    assert b.ledger(SYM).avg_price == 5001.5
    assert [u.status for u in b.drain()] == [OrderStatus.ACCEPTED, OrderStatus.FILLED]
    assert b.drain() == []


def test_sell_slippage_and_zero_slippage() -> None:
    b = broker(slippage_ticks=2)
    b.submit(entry("e1", OrderSide.SELL))
    assert b.on_trade(tr(1, 5000.0))[0].price == 4999.0
    b = broker(slippage_ticks=0)
    b.submit(entry("e1", OrderSide.SELL))
    assert b.on_trade(tr(1, 5000.0))[0].price == 5000.0


def test_stop_with_slippage_and_oco() -> None:
    b = broker()
    b.submit(entry("e1", OrderSide.BUY, stop=5.0, take=10.0))
    b.on_trade(tr(1, 5000.0))  # fill 5000.5; stop 4995.5, take 5010.5
    kids = {o.tag: o for o in b.working_orders(SYM)}
    assert kids["stop"].price == 4995.5
    assert kids["stop"].order_type is OrderType.STOP
    assert kids["take"].price == 5010.5
    assert kids["take"].order_type is OrderType.LIMIT
    assert all(o.side is OrderSide.SELL and o.parent_id == "e1" for o in kids.values())
    assert b.on_trade(tr(2, 4996.0)) == []
    fills = b.on_trade(tr(3, 4994.0))  # gaps through the stop
    assert [(f.tag, f.price, f.side) for f in fills] == [("stop", 4993.5, OrderSide.SELL)]
    assert b.position(SYM) == 0
    assert b.working_orders(SYM) == []
    ups = b.drain()
    assert ("e1.take", OrderStatus.CANCELED) in [(u.order_id, u.status) for u in ups]
    (rt,) = b.round_trips()
    assert rt.exit_reason == "stop"
    assert rt.side is OrderSide.BUY
    assert rt.gross_brl == pytest.approx((4993.5 - 5000.5) * 10)
    assert rt.fees_brl == pytest.approx(2 * FEE)
    assert rt.net_brl == pytest.approx(-70.0 - 2 * FEE)
    assert b.realized_net == pytest.approx(rt.net_brl)
    assert b.cash == pytest.approx(rt.net_brl)


def test_stop_triggers_at_touch() -> None:
    b = broker()
    b.submit(entry("e1", OrderSide.SELL, stop=2.0))
    b.on_trade(tr(1, 5000.0))  # fill 4999.5, buy stop 5001.5
    assert b.working_orders(SYM)[0].price == 5001.5
    fills = b.on_trade(tr(2, 5001.5))
    assert [(f.tag, f.price, f.side) for f in fills] == [("stop", 5002.0, OrderSide.BUY)]
    assert b.round_trips()[0].gross_brl == pytest.approx(-25.0)


def test_take_needs_trade_through() -> None:
    b = broker()
    b.submit(entry("e1", OrderSide.BUY, stop=5.0, take=10.0))
    b.on_trade(tr(1, 5000.0))  # take 5010.5
    assert b.on_trade(tr(2, 5010.5)) == []  # touch is not enough
    fills = b.on_trade(tr(3, 5011.0))
    assert [(f.tag, f.price, f.slippage_points) for f in fills] == [("take", 5010.5, 0.0)]
    assert b.working_orders(SYM) == []
    rt = b.round_trips()[0]
    assert rt.exit_reason == "take"
    assert rt.gross_brl == pytest.approx(100.0)
    assert rt.net_brl == pytest.approx(100.0 - 2 * FEE)


def test_take_touch_option() -> None:
    b = broker(limit_fill="touch")
    b.submit(entry("e1", OrderSide.SELL, take=3.0))
    b.on_trade(tr(1, 5000.0))  # fill 4999.5, buy limit 4996.5
    fills = b.on_trade(tr(2, 4996.5))
    assert [(f.tag, f.price) for f in fills] == [("take", 4996.5)]


def test_children_active_only_from_next_trade() -> None:
    b = broker(slippage_ticks=0)
    b.submit(entry("e1", OrderSide.BUY, stop=0.5))
    fills = b.on_trade(tr(1, 5000.0))  # stop at 4999.5 created on this trade
    assert len(fills) == 1
    assert len(b.working_orders(SYM)) == 1
    assert b.on_trade(tr(2, 4999.5))[0].tag == "stop"


def test_bracket_rounding() -> None:
    b = broker(slippage_ticks=0)
    b.submit(entry("e1", OrderSide.BUY, stop=1.7, take=1.2))
    b.on_trade(tr(1, 5000.0))
    kids = {o.tag: o.price for o in b.working_orders(SYM)}
    # stop distance rounds down (3 ticks = 1.5), take distance up (3 ticks = 1.5)
    assert kids == {"stop": 4998.5, "take": 5001.5}
    b = broker(slippage_ticks=0)
    b.submit(entry("e1", OrderSide.SELL, stop=0.2, take=0.2))
    b.on_trade(tr(1, 5000.0))
    kids = {o.tag: o.price for o in b.working_orders(SYM)}
    assert kids == {"stop": 5000.5, "take": 4999.5}  # at least one tick


def test_flatten_cancels_children_and_closes_next_trade() -> None:
    b = broker()
    b.submit(entry("e1", OrderSide.BUY, stop=5.0, take=10.0))
    b.on_trade(tr(1, 5000.0))
    b.drain()
    b.submit(flatten("f1", 2, side=OrderSide.BUY, qty=7))  # side/qty are informational
    assert [o.order_id for o in b.working_orders(SYM)] == ["f1"]
    canceled = {u.order_id for u in b.drain() if u.status is OrderStatus.CANCELED}
    assert canceled == {"e1.stop", "e1.take"}
    fills = b.on_trade(tr(2, 4990.0))  # would have hit the stop; children are gone
    assert [(f.tag, f.price, f.side, f.qty) for f in fills] == [
        ("flatten", 4989.5, OrderSide.SELL, 1)
    ]
    assert b.position(SYM) == 0
    assert b.working_orders(SYM) == []
    assert b.round_trips()[0].exit_reason == "flatten"


def test_flatten_when_flat_is_canceled_and_cancels_pending_entries() -> None:
    b = broker()
    b.submit(entry("e1", OrderSide.BUY))
    b.submit(flatten("f1", 0))
    assert [o.order_id for o in b.working_orders(SYM)] == ["f1"]
    assert b.on_trade(tr(1, 5000.0)) == []
    ups = b.drain()
    assert [(u.order_id, u.status) for u in ups][-1] == ("f1", OrderStatus.CANCELED)
    assert b.working_orders(SYM) == []


def test_cancel() -> None:
    b = broker()
    b.submit(entry("e1", OrderSide.BUY, i=1))
    b.cancel("e1", T0)
    b.cancel("e1", T0)  # no-op
    b.cancel("nope", T0)
    assert b.on_trade(tr(1, 5000.0)) == []
    assert [u.status for u in b.drain()] == [OrderStatus.ACCEPTED, OrderStatus.CANCELED]


def test_fees_and_accounting_round_trip_by_signal() -> None:
    b = broker(slippage_ticks=0)
    b.submit(entry("e1", OrderSide.BUY, qty=2))
    b.on_trade(tr(1, 5000.0))
    b.submit(entry("e2", OrderSide.BUY, i=2))
    b.on_trade(tr(2, 5003.0))
    assert b.position(SYM) == 3
    assert b.ledger(SYM).avg_price == pytest.approx(5001.0)
    assert b.unrealized(5002.0) == pytest.approx(30.0)
    b.submit(entry("e3", OrderSide.SELL, i=3, qty=4))  # reverse to -1
    b.on_trade(tr(3, 5005.0))
    assert b.position(SYM) == -1
    rt = b.round_trips()[0]
    assert (rt.qty, rt.exit_reason) == (3, "signal")
    assert rt.entry_price == pytest.approx(5001.0)
    assert rt.gross_brl == pytest.approx(120.0)
    assert rt.fees_brl == pytest.approx(6 * FEE)
    assert b.fees == pytest.approx(7 * FEE)
    b.submit(flatten("f", 4))
    b.on_trade(tr(4, 5004.0))
    assert b.position(SYM) == 0
    total = sum(r.net_brl for r in b.round_trips())
    assert total == pytest.approx(120.0 + 10.0 - 8 * FEE)
    assert b.realized_net == pytest.approx(total)
    assert b.cash == pytest.approx(total)


def test_add_to_position_gets_own_bracket_and_reversal_cancels_old() -> None:
    b = broker(slippage_ticks=0)
    b.submit(entry("e1", OrderSide.BUY, stop=5.0))
    b.on_trade(tr(1, 5000.0))
    b.submit(entry("e2", OrderSide.SELL, i=2, qty=2, stop=5.0))
    b.on_trade(tr(2, 5002.0))
    assert b.position(SYM) == -1
    (kid,) = b.working_orders(SYM)
    assert (kid.order_id, kid.side, kid.qty, kid.price) == ("e2.stop", OrderSide.BUY, 1, 5007.0)


def test_other_symbol_trades_ignored() -> None:
    b = broker()
    b.submit(entry("e1", OrderSide.BUY))
    assert b.on_trade(tr(1, 5000.0, sym="WDOV25")) == []
    assert len(b.on_trade(tr(2, 5000.0))) == 1


@pytest.mark.parametrize(
    "order",
    [
        entry("x", OrderSide.BUY, qty=0),
        entry("x", OrderSide.BUY, qty=-1),
        entry("x", OrderSide.BUY, stop=0.0),
        entry("x", OrderSide.BUY, take=-1.0),
        Order(
            order_id="x",
            ts=T0,
            symbol=SYM,
            side=OrderSide.BUY,
            qty=1,
            order_type=OrderType.LIMIT,
            price=5000.0,
        ),
        Order(order_id="x", ts=T0, symbol="WINV25", side=OrderSide.BUY, qty=1),
        Order(order_id="", ts=T0, symbol=SYM, side=OrderSide.BUY, qty=1),
        Order(order_id="x", ts=T0, symbol=SYM, side=OrderSide.BUY, qty=1, tag="stop"),
    ],
)
def test_rejects_invalid(order: Order) -> None:
    with pytest.raises(BrokerError):
        broker().submit(order)


def test_rejects_duplicate_id() -> None:
    b = broker()
    b.submit(entry("x", OrderSide.BUY))
    with pytest.raises(BrokerError):
        b.submit(entry("x", OrderSide.BUY))


def test_bad_config() -> None:
    with pytest.raises(ConfigError):
        SimBrokerConfig(slippage_ticks=-1)
