"""Position ledger: P&L = points × BRL-per-point × contracts − costs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantumtrader.model import Fill, Ledger, OrderSide, spec_for

WDO = spec_for("WDO")


def _fill(ts: int, side: OrderSide, qty: int, price: float, tag: str = "entry") -> Fill:
    return Fill(
        ts=ts,
        order_id=f"O{ts}",
        symbol="WDOU25",
        side=side,
        qty=qty,
        price=price,
        fee=qty * WDO.fee_per_contract,
        tag=tag,
    )


def test_long_round_trip_by_hand() -> None:
    led = Ledger("WDOU25", WDO)
    assert led.apply(_fill(1, OrderSide.BUY, 2, 5000.0)) is None
    rt = led.apply(_fill(2, OrderSide.SELL, 2, 5004.5, "take"))
    assert rt is not None
    # 4.5 points x R$10 x 2 contracts = R$90 gross; fees 4 x 1.10.
    assert rt.gross_brl == 90.0
    assert rt.fees_brl == 4 * WDO.fee_per_contract
    assert rt.net_brl == 90.0 - 4 * WDO.fee_per_contract
    assert (rt.side, rt.qty, rt.exit_reason) == (OrderSide.BUY, 2, "take")
    assert led.position == 0
    assert led.realized_net == rt.net_brl


def test_short_scaled_exit_gives_one_round_trip_per_closing_fill() -> None:
    led = Ledger("WDOU25", WDO)
    led.apply(_fill(1, OrderSide.SELL, 3, 5000.0))
    assert led.unrealized(4999.0) == 30.0
    first = led.apply(_fill(2, OrderSide.BUY, 1, 4998.0, "stop"))
    second = led.apply(_fill(3, OrderSide.BUY, 2, 5001.0, "stop"))
    assert first is not None and second is not None
    assert (first.qty, first.gross_brl) == (1, 20.0)
    assert (second.qty, second.gross_brl) == (2, -20.0)
    # Entry fees are shared pro rata: 1/3 and 2/3 of the entry fill's fee plus each exit fee.
    assert first.fees_brl + second.fees_brl == pytest.approx(6 * WDO.fee_per_contract)
    assert led.position == 0
    assert led.realized_net == pytest.approx(first.net_brl + second.net_brl)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
            st.integers(1, 5),
            st.integers(9000, 11000),
        ),
        max_size=40,
    )
)
def test_cash_conservation(seq: list[tuple[OrderSide, int, int]]) -> None:
    """Realized + open P&L equals the cash flow of all fills marked at the last price."""
    led = Ledger("WDOU25", WDO)
    trips = []
    cash = 0.0
    last = 5000.0
    for i, (side, qty, ticks) in enumerate(seq):
        price = ticks * 0.5
        rt = led.apply(_fill(i, side, qty, price))
        if rt is not None:
            trips.append(rt)
        cash += -int(side) * qty * price * WDO.point_value - qty * WDO.fee_per_contract
        last = price
    mark = led.position * last * WDO.point_value
    assert abs((cash + mark) - (led.realized_net + led.unrealized(last))) < 1e-6
    assert (
        abs(
            sum(r.net_brl for r in trips)
            - (sum(r.gross_brl for r in trips) - sum(r.fees_brl for r in trips))
        )
        < 1e-6
    )


def test_crypto_units_use_the_spec_multiplier() -> None:
    perp = spec_for("BTCUSDT-PERP")  # 1 unit = 0.001 BTC, 1 USDT per point per BTC
    led = Ledger("BTCUSDT-PERP", perp)
    for side, price in ((OrderSide.SELL, 61_800.0), (OrderSide.BUY, 61_804.0)):
        led.apply(
            Fill(ts=1, order_id="x", symbol="BTCUSDT-PERP", side=side, qty=3, price=price, fee=0.0)
        )
    assert perp.multiplier == pytest.approx(0.001)
    assert led.realized_gross == pytest.approx(-4.0 * 3 * 0.001)
