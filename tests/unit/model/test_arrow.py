"""Trade struct ⇄ Arrow columns round trip."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from quantumtrader.model import (
    TRADE_SCHEMA,
    Aggressor,
    Trade,
    TradeKind,
    table_to_trades,
    trades_to_table,
)

_i64 = st.integers(min_value=-(2**62), max_value=2**62)
_name = st.text(max_size=30)

trades = st.builds(
    Trade,
    ts_event=_i64,
    ts_init=_i64,
    symbol=st.text(min_size=1, max_size=10),
    price=st.floats(allow_nan=False, allow_infinity=False),
    qty=st.integers(min_value=-(2**40), max_value=2**40),
    aggressor=st.sampled_from(list(Aggressor)),
    trade_kind=st.sampled_from(list(TradeKind)),
    aggressor_inferred=st.booleans(),
    buy_agent_id=st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1),
    buy_agent=_name,
    sell_agent_id=st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1),
    sell_agent=_name,
    trade_id=st.none() | _i64,
    seq=_i64,
    after_hours=st.booleans(),
)


@given(st.lists(trades, max_size=20))
def test_struct_columns_round_trip_is_lossless(items: list[Trade]) -> None:
    table = trades_to_table(items)
    assert table.schema.equals(TRADE_SCHEMA)
    assert table_to_trades(table) == items


def test_trade_is_frozen_and_tagged() -> None:
    t = Trade(ts_event=1, ts_init=1, symbol="WDOU25", price=5000.5, qty=2, aggressor=Aggressor.BUY)
    raw = msgspec.msgpack.encode(t)
    assert msgspec.msgpack.decode(raw, type=Trade) == t
    assert b"Trade" in raw  # the tag travels with the message
    try:
        t.qty = 3  # type: ignore[misc]
    except AttributeError:
        pass
    else:  # pragma: no cover - would be a defect
        raise AssertionError("Trade must be frozen")
