"""Simulated exchange, order types on hand-built books (WDO: tick 0.5, R$10/point, R$1.10 fee)."""

from __future__ import annotations

from typing import Any

import pytest

from quantumtrader.core.errors import BrokerError
from quantumtrader.execution import ExchangeConfig, SimulatedExchange, fee_of
from quantumtrader.model import (
    F_LAST,
    Aggressor,
    BookAction,
    BookBroker,
    BookDelta,
    BookSide,
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
BUY, SELL = OrderSide.BUY, OrderSide.SELL
BID, ASK = BookSide.BID, BookSide.ASK


def lvl(side: BookSide, price: float, size: float, ts: int = 1, flags: int = F_LAST) -> BookDelta:
    return BookDelta(
        ts_event=ts,
        ts_init=ts,
        symbol=SYM,
        side=side,
        action=BookAction.SET,
        price=price,
        size=size,
        flags=flags,
    )


def trade(ts: int, price: float, qty: int, aggressor: Aggressor = Aggressor.BUY) -> Trade:
    return Trade(ts_event=ts, ts_init=ts, symbol=SYM, price=price, qty=qty, aggressor=aggressor)


def order(
    oid: str,
    side: OrderSide,
    qty: int,
    kind: OrderType = OrderType.MARKET,
    *,
    ts: int = 10,
    **kw: Any,
) -> Order:
    return Order(order_id=oid, ts=ts, symbol=SYM, side=side, qty=qty, order_type=kind, **kw)


def exchange(**kw: object) -> SimulatedExchange:
    """Book: bids 5000.0 x10, 4999.5 x20, 4999.0 x5; asks 5000.5 x3, 5001.0 x4, 5001.5 x10."""
    ex = SimulatedExchange(SPEC, ExchangeConfig(**kw))  # type: ignore[arg-type]
    for side, px, sz in [
        (BID, 5000.0, 10),
        (BID, 4999.5, 20),
        (BID, 4999.0, 5),
        (ASK, 5000.5, 3),
        (ASK, 5001.0, 4),
        (ASK, 5001.5, 10),
    ]:
        ex.on_book(lvl(side, px, sz))
    return ex


def statuses(ex: SimulatedExchange, oid: str) -> list[OrderStatus]:
    return [u.status for u in ex.drain() if u.order_id == oid]


def test_is_a_book_broker() -> None:
    b: BookBroker = exchange()
    assert b.position(SYM) == 0 and b.working_orders(SYM) == []


def test_market_order_walks_three_levels() -> None:
    ex = exchange()
    ex.submit(order("m", BUY, 9))
    fills = ex.advance(10)
    assert [(f.price, f.qty) for f in fills] == [(5000.5, 3), (5001.0, 4), (5001.5, 2)]
    assert [f.slippage_points for f in fills] == [0.0, 0.5, 1.0]
    assert [f.fee for f in fills] == pytest.approx([3 * FEE, 4 * FEE, 2 * FEE])
    assert all(f.ts == 10 and f.side is BUY for f in fills)
    avg = (5000.5 * 3 + 5001.0 * 4 + 5001.5 * 2) / 9
    assert ex.avg_price(SYM) == pytest.approx(avg) == pytest.approx(5000.0 + 8.5 / 9)
    assert ex.position(SYM) == 9
    assert statuses(ex, "m") == [OrderStatus.ACCEPTED, OrderStatus.FILLED]
    # the book itself is the replayed feed: unchanged by our fills
    assert ex.book(SYM).best_ask() == 5000.5 and ex.book(SYM).best_ask_size() == 3


def test_sell_market_walks_bids_and_cancels_what_depth_cannot_fill() -> None:
    ex = exchange()
    ex.submit(order("m", SELL, 40))
    fills = ex.advance(10)
    assert [(f.price, f.qty) for f in fills] == [(5000.0, 10), (4999.5, 20), (4999.0, 5)]
    assert [f.slippage_points for f in fills] == [0.0, 0.5, 1.0]
    assert ex.position(SYM) == -35
    ups = [u for u in ex.drain() if u.order_id == "m"]
    assert [u.status for u in ups] == [
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.CANCELED,
    ]
    assert ups[-1].reason == "no displayed liquidity for 5"


def test_consumed_liquidity_is_not_taken_twice() -> None:
    ex = exchange()
    ex.submit(order("a", BUY, 3))
    ex.submit(order("b", BUY, 3))
    fills = ex.advance(10)
    assert [(f.order_id, f.price, f.qty) for f in fills] == [
        ("a", 5000.5, 3),
        ("b", 5001.0, 3),
    ]
    ex.on_book(lvl(ASK, 5000.5, 5, ts=11))  # 2 lots joined behind what we took
    ex.submit(order("c", BUY, 3, ts=12))
    assert [(f.price, f.qty) for f in ex.advance(12)] == [(5000.5, 2), (5001.0, 1)]
    ex.on_book(lvl(ASK, 5000.5, 0, ts=13))  # the level is gone: nothing left to remember
    ex.on_book(lvl(ASK, 5000.5, 2, ts=14))  # new liquidity
    ex.submit(order("d", BUY, 2, ts=15))
    assert [(f.price, f.qty) for f in ex.advance(15)] == [(5000.5, 2)]


def test_marketable_limit_takes_up_to_its_price_and_rests_the_rest() -> None:
    ex = exchange()
    ex.submit(order("l", BUY, 10, OrderType.LIMIT, price=5001.0))
    fills = ex.advance(10)
    assert [(f.price, f.qty, f.slippage_points) for f in fills] == [
        (5000.5, 3, 0.0),
        (5001.0, 4, 0.5),
    ]
    assert [o.order_id for o in ex.working_orders(SYM)] == ["l"]
    assert ex.queue_ahead("l") == 0.0  # nobody bids 5001.0
    # an unrelated book message: the asks at or below 5001.0 are the ones we took
    assert ex.on_book(lvl(BID, 4998.5, 7, ts=11)) == []
    # two new lots offered at 5001.0 cross our resting bid: maker fill at our price
    fills = ex.on_book(lvl(ASK, 5001.0, 6, ts=12))
    assert [(f.price, f.qty, f.ts) for f in fills] == [(5001.0, 2, 12)]
    # a sell print at our price fills the last lot (nothing ahead of us)
    fills = ex.on_trade(trade(13, 5001.0, 1, Aggressor.SELL))
    assert [(f.price, f.qty) for f in fills] == [(5001.0, 1)]
    assert ex.position(SYM) == 10 and ex.working_orders(SYM) == []


def test_stop_triggers_on_a_trade_and_walks_the_book() -> None:
    ex = exchange()
    ex.submit(order("s", SELL, 12, OrderType.STOP, price=4999.5))
    assert ex.advance(10) == []
    assert ex.on_trade(trade(11, 5000.0, 1, Aggressor.SELL)) == []
    fills = ex.on_trade(trade(12, 4999.5, 1, Aggressor.SELL))
    # walks the bids from the top, but no leg fills better than the triggering trade
    # (4999.5: the book still shows a 5000.0 bid the tape already traded through)
    assert [(f.price, f.qty, f.slippage_points) for f in fills] == [
        (4999.5, 10, 0.0),
        (4999.5, 2, 0.0),
    ]
    assert statuses(ex, "s") == [OrderStatus.ACCEPTED, OrderStatus.TRIGGERED, OrderStatus.FILLED]


def test_stop_triggers_when_the_book_reaches_it() -> None:
    ex = exchange()
    ex.submit(order("s", BUY, 2, OrderType.STOP, price=5001.0))
    ex.advance(10)
    assert ex.on_book(lvl(ASK, 5000.5, 0, ts=11, flags=0)) == []  # mid-message: not yet
    fills = ex.on_book(lvl(BID, 5000.0, 9, ts=11))  # end of message: best ask is 5001.0
    assert [(f.price, f.qty, f.ts) for f in fills] == [(5001.0, 2, 11)]


def test_stop_already_through_the_market_triggers_on_arrival() -> None:
    ex = exchange()
    ex.submit(order("s", SELL, 1, OrderType.STOP, price=5000.5))  # bid 5000.0 <= stop
    assert [(f.price, f.qty) for f in ex.advance(10)] == [(5000.0, 1)]


def test_stop_limit_triggers_then_takes_and_rests() -> None:
    ex = exchange()
    ex.submit(order("sl", BUY, 9, OrderType.STOP_LIMIT, price=5001.0, trigger_price=5001.0, ts=10))
    assert ex.advance(10) == []
    fills = ex.on_trade(trade(11, 5001.0, 1))
    assert [(f.price, f.qty) for f in fills] == [(5000.5, 3), (5001.0, 4)]
    [w] = ex.working_orders(SYM)
    assert (w.order_type, w.price, w.qty) == (OrderType.LIMIT, 5001.0, 9)
    assert statuses(ex, "sl") == [
        OrderStatus.ACCEPTED,
        OrderStatus.TRIGGERED,
        OrderStatus.PARTIALLY_FILLED,
    ]


def test_limit_fills_completely_on_a_trade_through_its_price() -> None:
    ex = exchange()
    ex.submit(order("l", BUY, 3, OrderType.LIMIT, price=4999.5))
    ex.advance(10)
    assert ex.queue_ahead("l") == 20.0
    fills = ex.on_trade(trade(11, 4999.0, 1, Aggressor.SELL))
    assert [(f.price, f.qty, f.slippage_points) for f in fills] == [(4999.5, 3, 0.0)]


def test_cancel_removes_a_resting_order() -> None:
    ex = exchange()
    ex.submit(order("l", BUY, 3, OrderType.LIMIT, price=4999.5))
    ex.advance(10)
    ex.cancel("l", 11)
    ex.cancel("nope", 11)  # unknown: no-op
    assert ex.advance(11) == [] and ex.working_orders(SYM) == []
    assert ex.on_trade(trade(12, 4998.0, 5, Aggressor.SELL)) == []
    assert statuses(ex, "l") == [OrderStatus.ACCEPTED, OrderStatus.CANCELED]


def test_fees_with_basis_points() -> None:
    spec = spec_for("BTCUSDT-PERP")  # tick 0.1, 0.001 BTC per unit, 5 bps
    ex = SimulatedExchange(spec)
    sym = "BTCUSDT-PERP"
    for side, px in ((BID, 60_000.0), (ASK, 60_000.1)):
        ex.on_book(
            BookDelta(
                ts_event=1,
                ts_init=1,
                symbol=sym,
                side=side,
                action=BookAction.SET,
                price=px,
                size=50.0,
            )
        )
    ex.submit(Order(order_id="b", ts=2, symbol=sym, side=BUY, qty=3))
    [f] = ex.advance(2)
    assert f.fee == pytest.approx(5 * 60_000.1 * 3 * 0.001 / 10_000)
    assert f.fee == pytest.approx(fee_of(spec, 3, 60_000.1))
    ex.submit(Order(order_id="s", ts=3, symbol=sym, side=SELL, qty=3))
    [g] = ex.advance(3)
    assert g.price == 60_000.0
    gross = (60_000.0 - 60_000.1) * 3 * 0.001
    assert ex.realized_gross == pytest.approx(gross)
    assert ex.fees == pytest.approx(f.fee + g.fee)
    assert ex.realized_net == pytest.approx(gross - f.fee - g.fee)
    assert ex.cash == pytest.approx(ex.realized_net)
    [trip] = ex.round_trips()
    assert trip.net_brl == pytest.approx(ex.realized_net)


def test_per_contract_fee_plus_bps() -> None:
    es = spec_for("ES")
    assert fee_of(es, 2, 5000.0) == pytest.approx(2 * es.fee_per_contract)
    btc = spec_for("BTCUSDT")  # 10 bps, 1e-6 BTC per unit
    assert fee_of(btc, 100, 50_000.0) == pytest.approx(10 * 50_000.0 * 100 * 1e-6 / 10_000)


def test_bracket_children_partial_take_oco_and_no_orphans() -> None:
    ex = exchange()
    ex.submit(order("e", BUY, 2, stop_points=1.0, take_points=1.0))
    [f] = ex.advance(10)
    assert (f.price, f.qty) == (5000.5, 2)
    kids = {o.order_id: o for o in ex.working_orders(SYM)}
    assert (kids["e.stop"].order_type, kids["e.stop"].price) == (OrderType.STOP, 4999.5)
    assert (kids["e.take"].order_type, kids["e.take"].price) == (OrderType.LIMIT, 5001.5)
    assert ex.queue_ahead("e.take") == 10.0  # joins behind the displayed 10 lots
    assert ex.on_trade(trade(11, 5001.5, 10)) == []  # consumes the queue ahead
    [f] = ex.on_trade(trade(12, 5001.5, 1))
    assert (f.order_id, f.qty, f.price, f.tag) == ("e.take", 1, 5001.5, "take")
    stop = next(o for o in ex.working_orders(SYM) if o.order_id == "e.stop")
    assert stop.qty == 1  # reduced with the position
    [f] = ex.on_trade(trade(13, 5002.0, 1))  # through the take
    assert (f.order_id, f.qty) == ("e.take", 1)
    assert ex.position(SYM) == 0 and ex.working_orders(SYM) == []
    ups = {(u.order_id, u.status) for u in ex.drain()}
    assert ("e.stop", OrderStatus.MODIFIED) in ups and ("e.stop", OrderStatus.CANCELED) in ups
    assert ex.realized_gross == pytest.approx(1.0 * 2 * SPEC.point_value)


def test_bracket_stop_fills_and_cancels_take() -> None:
    ex = exchange()
    ex.submit(order("e", SELL, 1, stop_points=1.0, take_points=2.0))
    [f] = ex.advance(10)
    assert f.price == 5000.0
    assert {o.order_id: o.price for o in ex.working_orders(SYM)} == {
        "e.stop": 5001.0,
        "e.take": 4998.0,
    }
    # the buy stop triggers on a trade at 5001.0 and walks the asks (5000.5 displayed),
    # filling no better than the trade that triggered it
    [g] = ex.on_trade(trade(11, 5001.0, 1))
    assert (g.order_id, g.side, g.price, g.tag) == ("e.stop", BUY, 5001.0, "stop")
    assert ex.position(SYM) == 0 and ex.working_orders(SYM) == []
    [trip] = ex.round_trips()
    assert trip.exit_reason == "stop"
    assert trip.net_brl == pytest.approx(-1.0 * 10 - 2 * FEE)


def test_flatten_cancels_children_and_closes_the_actual_position() -> None:
    ex = exchange()
    ex.submit(order("e", BUY, 3, stop_points=2.0, take_points=2.0))
    ex.advance(10)
    ex.submit(order("f", SELL, 1, tag="flatten", ts=11))  # qty is informational
    fills = ex.advance(11)
    assert [(f.order_id, f.side, f.qty, f.price) for f in fills] == [("f", SELL, 3, 5000.0)]
    assert ex.position(SYM) == 0 and ex.working_orders(SYM) == []
    ex.submit(order("g", SELL, 1, tag="flatten", ts=12))
    assert ex.advance(12) == []
    assert statuses(ex, "g") == [OrderStatus.ACCEPTED, OrderStatus.CANCELED]


def test_partial_entry_fills_get_their_own_brackets() -> None:
    ex = exchange()
    ex.submit(order("e", BUY, 5, OrderType.LIMIT, price=5000.0, stop_points=1.0))
    ex.advance(10)
    ex.on_trade(trade(11, 5000.0, 12, Aggressor.SELL))  # 10 ahead, then 2 for us
    ex.on_trade(trade(12, 5000.0, 1, Aggressor.SELL))
    stops = [o for o in ex.working_orders(SYM) if o.tag == "stop"]
    assert [(o.order_id, o.qty, o.price) for o in stops] == [
        ("e.stop", 2, 4999.0),
        ("e.stop.2", 1, 4999.0),
    ]
    assert ex.position(SYM) == 3


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"qty": 0}, "invalid qty"),
        ({"kind": OrderType.LIMIT}, "price is required"),
        ({"kind": OrderType.LIMIT, "price": 5000.2}, "off the 0.5 tick grid"),
        ({"kind": OrderType.STOP_LIMIT, "price": 5000.0}, "trigger_price is required"),
        ({"kind": OrderType.LIMIT, "price": 5000.0, "tag": "flatten"}, "must be MARKET"),
        ({"tag": "take", "stop_points": 1.0}, "only on entry orders"),
        ({"take_points": -1.0}, "must be > 0"),
    ],
)
def test_invalid_orders_are_refused(kw: dict[str, Any], match: str) -> None:
    ex = exchange()
    qty = kw.pop("qty", 1)
    kind = kw.pop("kind", OrderType.MARKET)
    with pytest.raises(BrokerError, match=match):
        ex.submit(order("x", BUY, qty, kind, **kw))


def test_duplicate_id_lot_and_instrument_are_checked() -> None:
    ex = exchange()
    ex.submit(order("x", BUY, 1))
    with pytest.raises(BrokerError, match="duplicate"):
        ex.submit(order("x", BUY, 1))
    dol = SimulatedExchange(spec_for("DOL"))
    with pytest.raises(BrokerError, match="lot 5"):
        dol.submit(Order(order_id="d", ts=1, symbol="DOLZ18", side=BUY, qty=3))
    with pytest.raises(BrokerError, match="is not a DOL"):
        dol.submit(Order(order_id="w", ts=1, symbol="WDOZ18", side=BUY, qty=5))
    with pytest.raises(BrokerError, match="unknown instrument"):
        SimulatedExchange().submit(Order(order_id="z", ts=1, symbol="ZZZ1", side=BUY, qty=1))


def test_modify_is_validated() -> None:
    ex = exchange()
    ex.submit(order("m", BUY, 1))
    with pytest.raises(BrokerError, match="market orders cannot be modified"):
        ex.modify("m", 11, qty=2)
    with pytest.raises(BrokerError, match="no such working order"):
        ex.modify("nope", 11, qty=2)
    ex.submit(order("l", BUY, 2, OrderType.LIMIT, price=4999.0))
    with pytest.raises(BrokerError, match="give a price"):
        ex.modify("l", 11)
    with pytest.raises(BrokerError, match="tick grid"):
        ex.modify("l", 11, price=4999.3)
    ex.advance(10)
    ex.modify("l", 11, qty=1)
    ex.on_trade(trade(11, 4998.5, 1, Aggressor.SELL))  # fills the 1 lot left
    assert [f.qty for f in ex.fills() if f.order_id == "l"] == [1]
