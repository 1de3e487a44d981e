"""Entry and response latency in market time; empirical latency with a seed; config errors."""

from __future__ import annotations

from typing import Any

import pytest

from quantumtrader.core.errors import ConfigError
from quantumtrader.execution import (
    ConstantLatency,
    EmpiricalLatency,
    ExchangeConfig,
    SimulatedExchange,
    build_latency,
)
from quantumtrader.model import (
    F_LAST,
    Aggressor,
    BookAction,
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
MS = 1_000_000
BID, ASK = BookSide.BID, BookSide.ASK


def lvl(side: BookSide, price: float, size: float, ts: int) -> BookDelta:
    return BookDelta(
        ts_event=ts,
        ts_init=ts,
        symbol=SYM,
        side=side,
        action=BookAction.SET,
        price=price,
        size=size,
        flags=F_LAST,
    )


def market(oid: str, ts: int, side: OrderSide = OrderSide.BUY, qty: int = 2) -> Order:
    return Order(order_id=oid, ts=ts, symbol=SYM, side=side, qty=qty)


def limit(oid: str, ts: int, price: float, qty: int = 2) -> Order:
    return Order(
        order_id=oid,
        ts=ts,
        symbol=SYM,
        side=OrderSide.BUY,
        qty=qty,
        order_type=OrderType.LIMIT,
        price=price,
    )


def exchange(**cfg: Any) -> SimulatedExchange:
    ex = SimulatedExchange(SPEC, ExchangeConfig(**cfg))
    ex.on_book(lvl(BID, 5000.0, 10, 0))
    ex.on_book(lvl(ASK, 5000.5, 5, 0))
    ex.on_book(lvl(ASK, 5001.0, 5, 0))
    return ex


def test_order_meets_the_book_as_it_is_after_the_entry_latency() -> None:
    ex = exchange(entry_latency_ns=5 * MS, response_latency_ns=1 * MS)
    ex.submit(market("m", 0))
    assert [o.order_id for o in ex.working_orders(SYM)] == ["m"]  # in flight
    assert ex.on_book(lvl(ASK, 5000.5, 0, 2 * MS)) == []  # the touch leaves meanwhile
    assert ex.advance(5 * MS - 1) == []
    fills = ex.on_book(lvl(BID, 4999.5, 3, 6 * MS))  # arrival (5 ms) is processed first
    assert [(f.price, f.qty, f.ts) for f in fills] == [(5001.0, 2, 5 * MS)]
    # reports are due 1 ms after the exchange events
    assert ex.drain(6 * MS - 1) == []
    assert ex.drain_fills(6 * MS - 1) == []
    ups = ex.drain(6 * MS)
    assert [(u.status, u.ts) for u in ups] == [
        (OrderStatus.ACCEPTED, 6 * MS),
        (OrderStatus.FILLED, 6 * MS),
    ]
    assert [f.ts for f in ex.drain_fills(6 * MS)] == [5 * MS]


def test_zero_latency_sees_the_book_at_submission() -> None:
    ex = exchange()
    ex.submit(market("m", 0))
    ex.on_book(lvl(ASK, 5000.5, 0, 2 * MS))  # arrival at 0 comes before this event
    assert [f.price for f in ex.fills()] == [5000.5]


def test_advance_processes_arrivals_at_timers() -> None:
    ex = exchange(entry_latency_ns=3 * MS)
    ex.submit(market("m", 1 * MS))
    assert ex.advance(4 * MS - 1) == []
    assert [(f.price, f.ts) for f in ex.advance(4 * MS)] == [(5000.5, 4 * MS)]


def test_cancel_travels_too_and_can_arrive_too_late() -> None:
    ex = exchange(entry_latency_ns=5 * MS)
    ex.submit(limit("a", 0, 5000.0))
    ex.advance(5 * MS)
    ex.cancel("a", 6 * MS)  # reaches the exchange at 11 ms
    sell = Trade(
        ts_event=8 * MS,
        ts_init=8 * MS,
        symbol=SYM,
        price=4999.5,
        qty=1,
        aggressor=Aggressor.SELL,
    )
    assert [f.qty for f in ex.on_trade(sell)] == [2]  # filled before the cancel arrives
    assert ex.advance(11 * MS) == []
    assert [u.status for u in ex.drain() if u.order_id == "a"] == [
        OrderStatus.ACCEPTED,
        OrderStatus.FILLED,
    ]
    ex.submit(limit("b", 12 * MS, 5000.0))
    ex.cancel("b", 12 * MS)
    assert ex.advance(17 * MS) == [] and ex.working_orders(SYM) == []
    assert [u.status for u in ex.drain() if u.order_id == "b"] == [
        OrderStatus.ACCEPTED,
        OrderStatus.CANCELED,
    ]


def test_messages_reach_the_exchange_in_the_order_sent() -> None:
    ex = exchange(entry_latency_samples_ns=(1 * MS, 9 * MS), seed=3)
    for i in range(8):
        ex.submit(market(f"m{i}", i * MS, qty=1))
    ex.advance(100 * MS)
    # the same draws, replayed: arrival = max(sent + latency, previous arrival)
    twin = EmpiricalLatency((1 * MS, 9 * MS), (0,), seed=3)
    expected, last, overtaken = [], 0, False
    for i in range(8):
        raw = i * MS + twin.entry_ns()
        overtaken |= raw < last
        last = max(raw, last)
        expected.append(last)
    assert overtaken  # without the FIFO rule a later order would have arrived first
    fills = ex.fills()
    assert [f.order_id for f in fills] == [f"m{i}" for i in range(8)]
    assert [f.ts for f in fills] == expected


def test_empirical_latency_is_reproducible_with_a_seed() -> None:
    samples = list(range(100, 10_100, 100))
    a = EmpiricalLatency(samples, samples, seed=42)
    b = EmpiricalLatency(samples, samples, seed=42)
    c = EmpiricalLatency(samples, samples, seed=43)
    draws_a = [(a.entry_ns(), a.response_ns()) for _ in range(50)]
    assert draws_a == [(b.entry_ns(), b.response_ns()) for _ in range(50)]
    assert draws_a != [(c.entry_ns(), c.response_ns()) for _ in range(50)]
    assert all(e in samples and r in samples for e, r in draws_a)


def _run(seed: int) -> list[tuple[str, int, float]]:
    ex = exchange(
        entry_latency_samples_ns=(1 * MS, 2 * MS, 4 * MS),
        response_latency_samples_ns=(0, 3 * MS),
        seed=seed,
    )
    for i in range(20):
        ex.submit(market(f"m{i}", 10 * i * MS, side=OrderSide.BUY if i % 2 else OrderSide.SELL))
        ex.on_book(lvl(ASK, 5000.5 + 0.5 * (i % 3), 5, (10 * i + 2) * MS))
    ex.advance(1_000 * MS)
    return [(f.order_id, f.ts, f.price) for f in ex.fills()] + [
        (u.order_id, u.ts, 0.0) for u in ex.drain()
    ]


def test_exchange_with_empirical_latency_is_deterministic() -> None:
    assert _run(7) == _run(7)
    assert _run(7) != _run(8)


def test_latency_models() -> None:
    lat = ConstantLatency(2 * MS, 1 * MS)
    assert (lat.entry_ns(), lat.response_ns()) == (2 * MS, 1 * MS)
    assert "2 ms" in lat.description
    assert isinstance(build_latency(1, 2), ConstantLatency)
    mixed = build_latency(5, 0, (), (7, 7), seed=1)
    assert isinstance(mixed, EmpiricalLatency)
    assert (mixed.entry_ns(), mixed.response_ns()) == (5, 7)
    with pytest.raises(ConfigError, match=">= 0"):
        ConstantLatency(-1, 0)
    with pytest.raises(ConfigError, match="non-empty"):
        EmpiricalLatency([], [1])
    with pytest.raises(ConfigError, match="response latency samples must be >= 0"):
        EmpiricalLatency([1], [3, -2])


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"mode": "slow"}, "mode must be"),
        ({"queue_model": "fifo"}, "queue_model must be one of"),
        ({"queue_power": -1.0}, "queue_power"),
        ({"entry_latency_ns": -5}, "entry_latency_ns must be >= 0"),
        ({"feed_latency_ns": -5}, "feed_latency_ns must be >= 0"),
        ({"response_latency_samples_ns": (1, -1)}, "response_latency_samples_ns must be >= 0"),
        ({"entry_latency_ns": 5, "entry_latency_samples_ns": (1,)}, "not both"),
        ({"mode": "fast", "entry_latency_ns": 5}, "mode='fast' has no latency"),
        ({"slippage_ticks": -1}, "slippage_ticks"),
        ({"limit_fill": "near"}, "limit_fill"),
    ],
)
def test_config_errors(kw: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        ExchangeConfig(**kw)


def test_config_from_mapping() -> None:
    cfg = ExchangeConfig.from_mapping(
        {"mode": "accurate", "entry_latency_ns": 1000, "feed_latency_ns": 250_000}
    )
    assert cfg.entry_latency_ns == 1000 and cfg.has_latency
    assert SimulatedExchange(SPEC, cfg).feed_latency_ns == 250_000
    with pytest.raises(ConfigError, match=r"exchange config: .*unknown field `latency`"):
        ExchangeConfig.from_mapping({"latency": 5})
    with pytest.raises(ConfigError, match=r"exchange config: Expected `int`"):
        ExchangeConfig.from_mapping({"seed": "x"})
    with pytest.raises(ConfigError, match="exchange config: Invalid enum value 'slow'"):
        ExchangeConfig.from_mapping({"mode": "slow"})
    with pytest.raises(ConfigError, match="mode='fast' has no latency"):
        ExchangeConfig.from_mapping({"mode": "fast", "response_latency_ns": 1})
