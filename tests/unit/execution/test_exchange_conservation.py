"""Properties of the simulated exchange under random order flow and random books.

Position = Σ signed fills; cash + position value = realized + unrealized; no negative
queue; no bracket child without a position to protect; flat books sum to the trips.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.execution import ExchangeConfig, SimulatedExchange, multiplier
from quantumtrader.model import (
    F_LAST,
    Aggressor,
    BookAction,
    BookDelta,
    BookSide,
    InstrumentSpec,
    Order,
    OrderSide,
    OrderType,
    Trade,
    spec_for,
)

MS = 1_000_000
SIDES = st.sampled_from([OrderSide.BUY, OrderSide.SELL])
OFFSET = st.integers(-6, 6)  # ticks from the centre price
QTY = st.integers(1, 8)
POINTS = st.sampled_from([None, 0.5, 1.0, 2.0])

actions = st.one_of(
    st.tuples(st.just("level"), st.sampled_from([BookSide.BID, BookSide.ASK]), OFFSET, QTY),
    st.tuples(st.just("level"), st.sampled_from([BookSide.BID, BookSide.ASK]), OFFSET, QTY),
    st.tuples(st.just("clear"), st.sampled_from([BookSide.BID, BookSide.ASK])),
    st.tuples(st.just("trade"), OFFSET, QTY, st.sampled_from(list(Aggressor))),
    st.tuples(st.just("trade"), OFFSET, QTY, st.sampled_from(list(Aggressor))),
    st.tuples(st.just("market"), SIDES, QTY, POINTS, POINTS),
    st.tuples(st.just("limit"), SIDES, OFFSET, QTY, POINTS, POINTS),
    st.tuples(st.just("stop"), SIDES, OFFSET, QTY),
    st.tuples(st.just("stop_limit"), SIDES, OFFSET, OFFSET, QTY),
    st.tuples(st.just("cancel"), st.integers(0, 4)),
    st.tuples(st.just("modify"), st.integers(0, 4), st.one_of(st.none(), OFFSET), QTY),
    st.tuples(st.just("flatten")),
    st.tuples(st.just("advance"), st.integers(0, 5)),
)
configs = st.one_of(
    st.builds(
        ExchangeConfig,
        mode=st.just("accurate"),
        queue_model=st.sampled_from(["power", "log", "risk_averse"]),
        queue_power=st.sampled_from([0.5, 1.0, 2.0, 3.0]),
        entry_latency_ns=st.sampled_from([0, 1 * MS, 3 * MS]),
        response_latency_ns=st.sampled_from([0, 2 * MS]),
    ),
    st.just(ExchangeConfig(mode="fast")),
)


def check(ex: SimulatedExchange, sym: str, spec: InstrumentSpec, mark: float) -> None:
    pos = ex.position(sym)
    fills = ex.fills()
    assert all(isinstance(f.qty, int) and f.qty > 0 for f in fills)
    assert sum(int(f.side) * f.qty for f in fills) == pos
    mult = multiplier(spec)
    lhs = ex.cash + pos * mark * mult
    rhs = ex.realized_net + ex.unrealized(mark, sym)
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-6)
    working = ex.working_orders(sym)
    assert len({o.order_id for o in working}) == len(working)
    for o in working:
        ahead = ex.queue_ahead(o.order_id)
        assert ahead is None or ahead >= 0.0
    kids = [o for o in working if o.parent_id is not None]
    if pos == 0:
        assert kids == []
        assert ex.realized_net == pytest.approx(sum(r.net_brl for r in ex.round_trips()), abs=1e-6)
        assert ex.cash == pytest.approx(ex.realized_net, abs=1e-6)
    for o in kids:
        assert (o.side is OrderSide.SELL) == (pos > 0)
    for tag in ("stop", "take"):
        leaves = [ex.leaves(o.order_id) for o in kids if o.tag == tag]
        assert sum(q or 0 for q in leaves) <= abs(pos)
    for o in working:
        left = ex.leaves(o.order_id)
        assert left is None or 0 < left <= o.qty


def replay(cfg: ExchangeConfig, flow: list[Any], sym: str, spec: InstrumentSpec) -> None:
    ex = SimulatedExchange(spec, cfg)
    tick = spec.tick_size
    centre = round(5000.0 / tick) * tick

    def px(offset: int) -> float:
        return round(centre / tick + offset) * tick

    ts = 0
    n = 0
    for act in flow:
        ts += MS
        kind = act[0]
        if kind in ("level", "clear"):
            delta = BookDelta(
                ts_event=ts,
                ts_init=ts,
                symbol=sym,
                side=act[1],
                action=BookAction.SET if kind == "level" else BookAction.CLEAR,
                price=px(act[2]) if kind == "level" else 0.0,
                size=float(act[3]) if kind == "level" else 0.0,
                flags=F_LAST,
            )
            ex.on_book(delta)
        elif kind == "trade":
            ex.on_trade(
                Trade(
                    ts_event=ts,
                    ts_init=ts,
                    symbol=sym,
                    price=px(act[1]),
                    qty=act[2],
                    aggressor=act[3],
                )
            )
        elif kind == "advance":
            ex.advance(ts + act[1] * MS)
        elif kind == "cancel":
            working = ex.working_orders(sym)
            if working:
                ex.cancel(working[act[1] % len(working)].order_id, ts)
        elif kind == "modify":
            working = [o for o in ex.working_orders(sym) if o.order_type is not OrderType.MARKET]
            if working:
                target = working[act[1] % len(working)]
                price = None if act[2] is None else px(act[2])
                qty = act[3] if target.parent_id is None else min(act[3], target.qty)
                ex.modify(target.order_id, ts, price=price, qty=qty)
        elif kind == "flatten":
            n += 1
            ex.submit(
                Order(
                    order_id=f"F{n}", ts=ts, symbol=sym, side=OrderSide.SELL, qty=1, tag="flatten"
                )
            )
        else:
            n += 1
            fields: dict[str, Any] = {"order_id": f"O{n}", "ts": ts, "symbol": sym, "side": act[1]}
            if kind == "market":
                fields |= {"qty": act[2], "stop_points": act[3], "take_points": act[4]}
            elif kind == "limit":
                fields |= {
                    "order_type": OrderType.LIMIT,
                    "price": px(act[2]),
                    "qty": act[3],
                    "stop_points": act[4],
                    "take_points": act[5],
                }
            elif kind == "stop":
                fields |= {"order_type": OrderType.STOP, "price": px(act[2]), "qty": act[3]}
            else:
                fields |= {
                    "order_type": OrderType.STOP_LIMIT,
                    "trigger_price": px(act[2]),
                    "price": px(act[3]),
                    "qty": act[4],
                }
            ex.submit(Order(**fields))
        check(ex, sym, spec, px(0))
    ex.advance(ts + 10 * MS)
    check(ex, sym, spec, px(1))
    updates = ex.drain()
    assert [u.ts for u in updates] == sorted(u.ts for u in updates)


@settings(max_examples=300, deadline=None)
@given(configs, st.lists(actions, max_size=60))
def test_conservation_wdo(cfg: ExchangeConfig, flow: list[Any]) -> None:
    replay(cfg, flow, "WDOU25", spec_for("WDO"))


@settings(max_examples=80, deadline=None)
@given(configs, st.lists(actions, max_size=40))
def test_conservation_crypto_units(cfg: ExchangeConfig, flow: list[Any]) -> None:
    replay(cfg, flow, "BTCUSDT-PERP", spec_for("BTCUSDT-PERP"))
