"""Trades fallback (no book data), the foundation broker's equivalence, fast vs accurate."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.execution import (
    ExchangeConfig,
    SimBrokerConfig,
    SimulatedBroker,
    SimulatedExchange,
)
from quantumtrader.model import (
    F_LAST,
    Aggressor,
    BookAction,
    BookDelta,
    BookSide,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Trade,
    spec_for,
)

SYM = "WDOU25"
SPEC = spec_for("WDO")
BUY, SELL = OrderSide.BUY, OrderSide.SELL
BID, ASK = BookSide.BID, BookSide.ASK


def lvl(side: BookSide, price: float, size: float, ts: int = 1) -> BookDelta:
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


def tr(ts: int, price: float, qty: int = 1) -> Trade:
    return Trade(ts_event=ts, ts_init=ts, symbol=SYM, price=price, qty=qty, aggressor=Aggressor.BUY)


def mk(oid: str, side: OrderSide, qty: int, ts: int = 0, **kw: Any) -> Order:
    return Order(order_id=oid, ts=ts, symbol=SYM, side=side, qty=qty, **kw)


# -- trades fallback --------------------------------------------------------------------
def test_without_book_data_market_orders_fill_at_the_next_trade_with_slippage() -> None:
    ex = SimulatedExchange(SPEC, ExchangeConfig(slippage_ticks=2))
    assert ex.fill_model(SYM) == "trades"
    ex.submit(mk("m", BUY, 2, ts=5))
    assert ex.on_trade(tr(4, 5000.0)) == []  # older than the order
    [f] = ex.on_trade(tr(5, 5001.0))
    assert (f.price, f.qty, f.slippage_points, f.ts) == (5002.0, 2, 1.0, 5)
    note = ex.fill_model_note
    assert "trade-based fills without book data for WDOU25" in note
    assert "± 2 tick(s)" in note


@pytest.mark.parametrize(("rule", "fills_at_touch"), [("through", False), ("touch", True)])
def test_fallback_limit_rule(rule: str, fills_at_touch: bool) -> None:
    ex = SimulatedExchange(SPEC, ExchangeConfig(limit_fill=rule))  # type: ignore[arg-type]
    ex.submit(mk("l", SELL, 1, order_type=OrderType.LIMIT, price=5001.0))
    assert bool(ex.on_trade(tr(1, 5001.0))) is fills_at_touch
    fills = ex.on_trade(tr(2, 5001.5))
    assert [f.price for f in [*ex.fills()]] == [5001.0]
    assert len(fills) == (0 if fills_at_touch else 1)


def test_fallback_stops_and_stop_limits() -> None:
    ex = SimulatedExchange(SPEC, ExchangeConfig(slippage_ticks=1))
    ex.submit(mk("s", SELL, 1, order_type=OrderType.STOP, price=4999.0))
    ex.submit(mk("sl", BUY, 1, order_type=OrderType.STOP_LIMIT, trigger_price=5002.0, price=5002.0))
    assert ex.on_trade(tr(1, 4999.5)) == []
    [f] = ex.on_trade(tr(2, 4998.5))  # through the stop: trade price - 1 tick
    assert (f.order_id, f.price, f.slippage_points) == ("s", 4998.0, 0.5)
    assert ex.on_trade(tr(3, 5002.0)) == []  # triggers; the limit waits for a print through
    [w] = ex.working_orders(SYM)
    assert (w.order_type, w.price) == (OrderType.LIMIT, 5002.0)
    assert [u.status for u in ex.drain() if u.order_id == "sl"] == [
        OrderStatus.ACCEPTED,
        OrderStatus.TRIGGERED,
    ]
    [f] = ex.on_trade(tr(4, 5001.5))
    assert (f.order_id, f.price) == ("sl", 5002.0)


def test_first_delta_switches_the_symbol_to_book_fills() -> None:
    ex = SimulatedExchange(SPEC)
    ex.on_trade(tr(1, 5000.0))
    assert ex.fill_model(SYM) == "trades"
    ex.on_book(lvl(ASK, 5000.5, 3, 2))
    ex.on_book(lvl(BID, 5000.0, 3, 2))
    assert ex.fill_model(SYM) == "book"
    assert ex.fill_model("WDOV25") == "trades"
    assert ex.fill_model_note.startswith("order-book fills (accurate, power queue n=2")
    ex.submit(mk("m", BUY, 1, ts=3))
    [f] = ex.advance(3)
    assert f.price == 5000.5 and ex.mark(SYM) == 5000.25


# -- equivalence with the foundation broker --------------------------------------------
def _foundation_day(moves: list[int], plan: dict[int, Any], slip: int) -> None:
    old = SimulatedBroker(SPEC, SimBrokerConfig(slippage_ticks=slip))
    new = SimulatedExchange(SPEC, ExchangeConfig(slippage_ticks=slip))
    price = 5000.0
    n = 0
    for i, move in enumerate(moves):
        price += 0.5 * move
        ts = 1_000 * i
        action = plan.get(i)
        if (
            action
            and action[0] == "entry"
            and old.position(SYM) == 0
            and not old.working_orders(SYM)
        ):
            n += 1
            o = mk(f"O{n}", BUY if action[1] == "b" else SELL, 1, ts=ts, **action[2])
            old.submit(o)
            new.submit(o)
        elif action and action[0] == "flatten" and old.position(SYM) != 0:
            n += 1
            for o in old.working_orders(SYM):
                old.cancel(o.order_id, ts)
                new.cancel(o.order_id, ts)
            o = mk(f"O{n}", SELL, 1, ts=ts, tag="flatten")
            old.submit(o)
            new.submit(o)
        t = tr(ts + 1, price)
        assert new.on_trade(t) == old.on_trade(t)
        assert new.position(SYM) == old.position(SYM)
        assert {o.order_id for o in new.working_orders(SYM)} == {
            o.order_id for o in old.working_orders(SYM)
        }
        old.drain()
        new.drain()
    assert new.round_trips() == old.round_trips()
    assert new.cash == pytest.approx(old.cash)


plans = st.dictionaries(
    st.integers(0, 59),
    st.one_of(
        st.tuples(
            st.just("entry"),
            st.sampled_from("bs"),
            st.fixed_dictionaries(
                {
                    "stop_points": st.sampled_from([None, 0.5, 1.0, 2.5]),
                    "take_points": st.sampled_from([None, 0.5, 1.5, 3.0]),
                }
            ),
        ),
        st.tuples(st.just("flatten")),
    ),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=5, max_size=60), plans, st.integers(0, 2))
def test_trades_fallback_matches_the_foundation_broker(
    moves: list[int], plan: dict[int, Any], slip: int
) -> None:
    _foundation_day(moves, plan, slip)


@pytest.mark.slow
def test_replay_engine_runs_unchanged_with_the_exchange(b3_day_file: Path) -> None:
    """Real DOL day (first 10k trades): the engine's result is byte-identical."""
    from quantumtrader.agents import Coordinator, OrderFlowSpecialist, TrendSpecialist
    from quantumtrader.cli.config import load_config
    from quantumtrader.data import iter_days
    from quantumtrader.engine import ReplayEngine
    from quantumtrader.risk import RiskManager

    cfg = load_config(Path(str(resources.files("quantumtrader.cli").joinpath("demo_dol.toml"))))
    day = next(iter(iter_days(b3_day_file)))
    table = day.table.sort_by([("ts_event", "ascending"), ("seq", "ascending")]).slice(0, 10_000)
    spec = spec_for(day.symbol)

    def run(broker: Any) -> bytes:
        engine = ReplayEngine(
            symbol=day.symbol,
            spec=spec,
            specialists=[OrderFlowSpecialist(cfg.orderflow), TrendSpecialist(cfg.trend)],
            coordinator=Coordinator(cfg.coordinator),
            risk=RiskManager(cfg.risk, spec),
            broker=broker,
            config=cfg.replay,
            slippage_ticks=cfg.broker.slippage_ticks,
        )
        result = engine.run(table)
        assert len(result.fills) >= 5
        return result.to_json()

    exchange = SimulatedExchange(
        spec,
        ExchangeConfig(slippage_ticks=cfg.broker.slippage_ticks, limit_fill=cfg.broker.limit_fill),
    )
    assert run(exchange) == run(SimulatedBroker(spec, cfg.broker))
    assert exchange.fill_model(day.symbol) == "trades"


# -- fast vs accurate ----------------------------------------------------------------------
books = st.tuples(
    st.lists(st.integers(1, 20), min_size=1, max_size=6),  # bid sizes from 5000.0 down
    st.lists(st.integers(1, 20), min_size=1, max_size=6),  # ask sizes from 5000.5 up
    st.integers(0, 3),  # gap in ticks between bid and ask
)
flows = st.lists(
    st.tuples(
        st.sampled_from([BUY, SELL]),
        st.integers(1, 40),
        st.one_of(st.none(), st.integers(-3, 6)),  # None: market; else ticks through the touch
    ),
    min_size=1,
    max_size=8,
)


def _fills_of(mode: str, book: tuple[list[int], list[int], int], flow: list[Any]) -> list[Fill]:
    bids, asks, gap = book
    ex = SimulatedExchange(SPEC, ExchangeConfig(mode=mode))  # type: ignore[arg-type]
    for i, q in enumerate(bids):
        ex.on_book(lvl(BID, 5000.0 - 0.5 * i, q))
    for i, q in enumerate(asks):
        ex.on_book(lvl(ASK, 5000.5 + 0.5 * (gap + i), q))
    for k, (side, qty, through) in enumerate(flow):
        if through is None:
            ex.submit(mk(f"o{k}", side, qty, ts=2 + k))
        else:
            touch = 5000.5 + 0.5 * gap if side is BUY else 5000.0
            price = touch + int(side) * 0.5 * through
            ex.submit(mk(f"o{k}", side, qty, ts=2 + k, order_type=OrderType.LIMIT, price=price))
        ex.advance(2 + k)
    return ex.fills()


@settings(max_examples=150, deadline=None)
@given(books, flows)
def test_fast_and_accurate_agree_on_market_and_marketable_orders(
    book: tuple[list[int], list[int], int], flow: list[Any]
) -> None:
    fast = _fills_of("fast", book, flow)
    assert fast == _fills_of("accurate", book, flow)
    for f in fast:  # taking only: never better than the touch
        assert f.slippage_points >= 0


def test_fast_mode_fills_limits_on_a_print_at_the_price() -> None:
    for mode, expect in (("fast", [3]), ("accurate", [])):
        ex = SimulatedExchange(SPEC, ExchangeConfig(mode=mode))  # type: ignore[arg-type]
        ex.on_book(lvl(BID, 5000.0, 50))
        ex.on_book(lvl(ASK, 5000.5, 50))
        ex.submit(mk("l", BUY, 3, order_type=OrderType.LIMIT, price=5000.0))
        ex.advance(0)
        sell = Trade(
            ts_event=1, ts_init=1, symbol=SYM, price=5000.0, qty=1, aggressor=Aggressor.SELL
        )
        assert [f.qty for f in ex.on_trade(sell)] == expect
        statuses = {u.status for u in ex.drain()}
        assert (OrderStatus.FILLED in statuses) is bool(expect)
    fast = SimulatedExchange(SPEC, ExchangeConfig(mode="fast"))
    fast.on_book(lvl(BID, 5000.0, 1))
    assert fast.fill_model_note == "order-book fills (fast: no queue, no latency) for WDOU25"
