"""The bus codec: every message type round-trips; malformed frames raise BusError only."""

from __future__ import annotations

from typing import Any, get_args

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantumtrader.bus.codec import (
    HEADER,
    CountingDecoder,
    Message,
    decode,
    encode,
    pack_header,
    unpack_header,
)
from quantumtrader.bus.messages import Cancel, EndOfStream, Status, Step, StepResult, Submit
from quantumtrader.core.errors import BusError
from quantumtrader.model.book import BookAction, BookDelta, BookSide, BookSnapshot, Quote
from quantumtrader.model.events import Aggressor, Trade, TradeKind
from quantumtrader.model.feature_vector import FeatureVector
from quantumtrader.model.orders import (
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
)
from quantumtrader.model.signals import Action, AgentPerformance, Decision, Signal

I64 = st.integers(-(2**63), 2**63 - 1)
NS = st.integers(0, 2**62)
QTY = st.integers(-(10**9), 10**9)
F = st.floats(allow_nan=False)  # NaN != NaN would break the equality check, not the codec
TXT = st.text(max_size=20)
OPT_F = st.none() | F
OPT_I = st.none() | I64

orders = st.builds(
    Order,
    order_id=TXT,
    ts=NS,
    symbol=TXT,
    side=st.sampled_from(OrderSide),
    qty=QTY,
    order_type=st.sampled_from(OrderType),
    price=OPT_F,
    trigger_price=OPT_F,
    stop_points=OPT_F,
    take_points=OPT_F,
    tag=TXT,
    parent_id=st.none() | TXT,
)
fills = st.builds(
    Fill,
    ts=NS,
    order_id=TXT,
    symbol=TXT,
    side=st.sampled_from(OrderSide),
    qty=QTY,
    price=F,
    fee=F,
    tag=TXT,
    slippage_points=F,
)
updates = st.builds(
    OrderUpdate,
    ts=NS,
    order_id=TXT,
    status=st.sampled_from(OrderStatus),
    reason=TXT,
)

STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {
    Trade: st.builds(
        Trade,
        ts_event=NS,
        ts_init=NS,
        symbol=TXT,
        price=F,
        qty=QTY,
        aggressor=st.sampled_from(Aggressor),
        trade_kind=st.sampled_from(TradeKind),
        aggressor_inferred=st.booleans(),
        buy_agent_id=st.none() | st.integers(0, 2**31 - 1),
        buy_agent=TXT,
        sell_agent_id=st.none() | st.integers(0, 2**31 - 1),
        sell_agent=TXT,
        trade_id=OPT_I,
        seq=I64,
        after_hours=st.booleans(),
    ),
    BookDelta: st.builds(
        BookDelta,
        ts_event=NS,
        ts_init=NS,
        symbol=TXT,
        side=st.sampled_from(BookSide),
        action=st.sampled_from(BookAction),
        price=F,
        size=F,
        order_id=I64,
        seq=I64,
        update_id=I64,
        flags=st.integers(0, 7),
    ),
    BookSnapshot: st.builds(
        BookSnapshot,
        ts_event=NS,
        ts_init=NS,
        symbol=TXT,
        seq=I64,
        bid_prices=st.lists(F, max_size=5).map(tuple),
        bid_sizes=st.lists(F, max_size=5).map(tuple),
        ask_prices=st.lists(F, max_size=5).map(tuple),
        ask_sizes=st.lists(F, max_size=5).map(tuple),
    ),
    Quote: st.builds(
        Quote,
        ts_event=NS,
        ts_init=NS,
        symbol=TXT,
        bid_price=F,
        bid_size=F,
        ask_price=F,
        ask_size=F,
        update_id=I64,
        seq=I64,
    ),
    FeatureVector: st.builds(
        FeatureVector,
        ts_event=NS,
        symbol=TXT,
        seq=I64,
        group=TXT,
        values=st.dictionaries(TXT, OPT_F, max_size=6),
    ),
    Signal: st.builds(
        Signal,
        ts=NS,
        agent_id=TXT,
        symbol=TXT,
        action=st.sampled_from(Action),
        confidence=F,
        reason=TXT,
        metadata=st.dictionaries(TXT, F, max_size=4),
    ),
    Decision: st.builds(
        Decision,
        ts=NS,
        symbol=TXT,
        action=st.sampled_from(Action),
        confidence=F,
        reasons=st.lists(TXT, max_size=3).map(tuple),
        consensus=st.dictionaries(TXT, F, max_size=4),
        signals=st.lists(TXT, max_size=3).map(tuple),
    ),
    AgentPerformance: st.builds(
        AgentPerformance,
        ts=NS,
        agent_id=TXT,
        symbol=TXT,
        round_trips=I64,
        last_pnl=F,
        net_pnl=F,
        note=TXT,
    ),
    Order: orders,
    Fill: fills,
    OrderUpdate: updates,
    Submit: st.builds(Submit, cmd_id=I64, at_seq=I64, order=orders, tick_wall_ns=NS),
    Cancel: st.builds(Cancel, cmd_id=I64, at_seq=I64, order_id=TXT, ts=NS),
    Step: st.builds(Step, cmd_id=I64, seq=I64, reply=st.booleans()),
    StepResult: st.builds(
        StepResult,
        cmd_id=I64,
        seq=I64,
        ok=st.booleans(),
        error=TXT,
        fills=st.lists(fills, max_size=3),
        updates=st.lists(updates, max_size=3),
        position=I64,
        working=st.lists(orders, max_size=3),
    ),
    EndOfStream: st.builds(EndOfStream, symbol=TXT, last_seq=I64, last_ts=NS),
    Status: st.builds(
        Status,
        stage=TXT,
        pid=st.integers(0, 2**22),
        wall_ns=NS,
        events=I64,
        last_seq=I64,
        last_ts=NS,
        lag_ns=I64,
        decisions=I64,
        orders=I64,
        fills=I64,
        position=I64,
        pnl=F,
        drops=I64,
        malformed=I64,
        spooled=I64,
        done=st.booleans(),
    ),
}
ANY_MESSAGE = st.one_of(*STRATEGIES.values())


def test_the_strategies_cover_the_whole_union() -> None:
    assert set(STRATEGIES) == set(get_args(Message))
    assert len(STRATEGIES) == 17


@given(ANY_MESSAGE)
def test_encode_decode_round_trip(msg: Message) -> None:
    data = encode(msg)
    assert isinstance(data, bytes)
    back = decode(data)
    assert type(back) is type(msg)
    assert back == msg
    assert decode(memoryview(data)) == msg


def test_round_trip_of_a_hand_made_submit() -> None:
    order = Order(
        order_id="o-1",
        ts=1_541_420_100_000_000_000,
        symbol="DOLZ18",
        side=OrderSide.SELL,
        qty=5,
        order_type=OrderType.STOP_LIMIT,
        price=3733.5,
        trigger_price=3734.0,
        tag="stop",
    )
    back = decode(encode(Submit(cmd_id=7, at_seq=12, order=order, tick_wall_ns=99)))
    assert isinstance(back, Submit)
    assert back.order.side is OrderSide.SELL
    assert back.order.order_type is OrderType.STOP_LIMIT
    assert (back.cmd_id, back.at_seq, back.tick_wall_ns) == (7, 12, 99)
    assert back.order.price == 3733.5 and back.order.trigger_price == 3734.0


def _decode_or_bus_error(data: bytes) -> Message | None:
    """The message, or None when decode raised BusError; any other exception fails."""
    try:
        return decode(data)
    except BusError:
        return None


@given(st.binary(max_size=200))
def test_random_bytes_raise_bus_error_only(data: bytes) -> None:
    got = _decode_or_bus_error(data)
    dec = CountingDecoder()
    counted = dec.decode(data)
    assert counted == got
    assert dec.malformed == (1 if got is None else 0)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",  # the one byte msgpack never uses
        b"\x93\x01\x02\x03",  # an array, no tag
        msgspec.msgpack.encode({"type": "Nope", "x": 1}),
        msgspec.msgpack.encode({"symbol": "DOLZ18"}),  # no tag at all
        msgspec.msgpack.encode("Trade"),
        encode(Step(cmd_id=1, seq=2)) + b"\x00",  # trailing bytes
    ],
)
def test_known_malformed_frames(data: bytes) -> None:
    with pytest.raises(BusError, match="malformed bus message"):
        decode(data)


@given(ANY_MESSAGE, st.text(min_size=1, max_size=12))
def test_unknown_tag_is_rejected(msg: Message, tag: str) -> None:
    known = {t.__struct_config__.tag for t in STRATEGIES}
    raw = msgspec.to_builtins(msg)
    raw["type"] = tag if tag not in known else tag + "_x"
    with pytest.raises(BusError):
        decode(msgspec.msgpack.encode(raw))


@given(ANY_MESSAGE, st.data())
def test_mistyped_field_is_rejected(msg: Message, data: st.DataObject) -> None:
    raw = msgspec.to_builtins(msg)
    field = data.draw(st.sampled_from(type(msg).__struct_fields__))
    # a str where the field holds a str, else a map of a list: neither fits any field
    raw[field] = 12345 if isinstance(raw[field], str) else {"\x00": [[]]}
    with pytest.raises(BusError, match="malformed bus message"):
        decode(msgspec.msgpack.encode(raw))
    dec = CountingDecoder()
    assert dec.decode(msgspec.msgpack.encode(raw)) is None
    assert dec.malformed == 1
    assert field in dec.last_error


@given(ANY_MESSAGE, st.data())
def test_truncated_frame_is_rejected(msg: Message, data: st.DataObject) -> None:
    full = encode(msg)
    cut = data.draw(st.integers(0, len(full) - 1))
    with pytest.raises(BusError):
        decode(full[:cut])


def test_counting_decoder_counts_and_keeps_going() -> None:
    dec = CountingDecoder()
    good = Cancel(cmd_id=3, at_seq=10, order_id="o-9", ts=5)
    frames = [b"\xc1", encode(good), b"", encode(good)[:-1], encode(good)]
    out = [dec.decode(f) for f in frames]
    assert out == [None, good, None, None, good]
    assert dec.malformed == 3
    assert dec.last_error != ""
    assert dec.decode(encode(good)) == good
    assert dec.malformed == 3  # a good frame does not count


@given(I64, I64, I64)
def test_header_round_trip(seq: int, count: int, wall: int) -> None:
    h = pack_header(seq, count, wall)
    assert len(h) == HEADER.size == 24
    assert unpack_header(h) == (seq, count, wall)
    assert unpack_header(memoryview(h)) == (seq, count, wall)


def test_header_layout_is_little_endian_int64() -> None:
    h = pack_header(1, -1, 2**40)
    assert h[:8] == b"\x01" + b"\x00" * 7
    assert h[8:16] == b"\xff" * 8
    assert h[16:] == b"\x00" * 5 + b"\x01" + b"\x00" * 2


@pytest.mark.parametrize("n", [0, 1, 8, 16, 23, 25, 48])
def test_header_of_wrong_length_raises(n: int) -> None:
    with pytest.raises(BusError, match=f"{n} bytes, expected 24"):
        unpack_header(b"\x00" * n)
