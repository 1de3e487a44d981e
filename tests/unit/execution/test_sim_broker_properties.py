"""Properties of the simulated broker: position and cash conservation, no orphan orders."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.execution import SimBrokerConfig, SimulatedBroker
from quantumtrader.model import Aggressor, Order, OrderSide, OrderStatus, Trade, spec_for

SYM = "WDOU25"
T0 = 1_754_917_200_000_000_000

points = st.one_of(st.none(), st.sampled_from([0.5, 1.0, 1.3, 2.0, 5.0]))
actions = st.one_of(
    st.tuples(
        st.just("entry"),
        st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
        st.integers(1, 3),
        points,
        points,
    ),
    st.tuples(st.just("flatten")),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("trade"), st.integers(-6, 6)),
    st.tuples(st.just("trade"), st.integers(-6, 6)),
)


def check(b: SimulatedBroker) -> None:
    pos = b.position(SYM)
    fills = b.fills()
    assert sum(int(f.side) * f.qty for f in fills) == pos
    assert b.ledger(SYM).filled_signed_qty == pos
    assert b.fees == pytest.approx(b.spec.fee_per_contract * sum(f.qty for f in fills))
    working = b.working_orders(SYM)
    assert len({o.order_id for o in working}) == len(working)
    kids = [o for o in working if o.tag in ("stop", "take")]
    if pos == 0:
        assert kids == []  # no orphan orders when flat
        net = sum(r.net_brl for r in b.round_trips())
        assert b.realized_net == pytest.approx(net, abs=1e-6)
        assert b.cash == pytest.approx(net, abs=1e-6)
        assert b.unrealized(5000.0) == 0.0
    for o in kids:
        assert (o.side is OrderSide.SELL) == (pos > 0)
    for tag in ("stop", "take"):
        assert sum(o.qty for o in kids if o.tag == tag) <= abs(pos)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(actions, max_size=60),
    st.integers(0, 2),
    st.sampled_from(["through", "touch"]),
)
def test_conservation(
    steps: list[tuple[Any, ...]], slip: int, limit_fill: Literal["through", "touch"]
) -> None:
    b = SimulatedBroker(
        spec_for("WDO"), SimBrokerConfig(slippage_ticks=slip, limit_fill=limit_fill)
    )
    price, ts, n = 5000.0, T0, 0
    for step in steps:
        ts += 1_000_000
        n += 1
        kind = step[0]
        if kind == "entry":
            _, side, qty, stop, take = step
            b.submit(
                Order(
                    order_id=f"o{n}",
                    ts=ts,
                    symbol=SYM,
                    side=side,
                    qty=qty,
                    stop_points=stop,
                    take_points=take,
                )
            )
        elif kind == "flatten":
            b.submit(
                Order(
                    order_id=f"o{n}", ts=ts, symbol=SYM, side=OrderSide.SELL, qty=1, tag="flatten"
                )
            )
        elif kind == "cancel":
            working = b.working_orders(SYM)
            if working:
                b.cancel(working[step[1] % len(working)].order_id, ts)
        else:
            price += step[1] * 0.5
            b.on_trade(
                Trade(
                    ts_event=ts,
                    ts_init=ts,
                    symbol=SYM,
                    price=price,
                    qty=1,
                    aggressor=Aggressor.BUY,
                    seq=n,
                )
            )
        check(b)
    ts += 1_000_000
    b.submit(Order(order_id="final", ts=ts, symbol=SYM, side=OrderSide.SELL, qty=1, tag="flatten"))
    b.on_trade(
        Trade(
            ts_event=ts,
            ts_init=ts,
            symbol=SYM,
            price=price,
            qty=1,
            aggressor=Aggressor.BUY,
            seq=n + 1,
        )
    )
    assert b.position(SYM) == 0
    assert b.working_orders(SYM) == []
    check(b)
    # every accepted order reaches exactly one final state
    accepted: set[str] = set()
    final: dict[str, OrderStatus] = {}
    for u in b.drain():
        if u.status is OrderStatus.ACCEPTED:
            accepted.add(u.order_id)
        else:
            assert u.order_id in accepted
            assert u.order_id not in final, u
            final[u.order_id] = u.status
    assert set(final) == accepted
