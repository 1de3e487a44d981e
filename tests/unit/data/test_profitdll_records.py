"""ProfitDLL byte arrays, callback dates and the offer-event Parquet recording."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.core.errors import DataError
from quantumtrader.data.profitdll import (
    OB_LAST_PACKET,
    OFFER_EVENT_SCHEMA,
    offer_event_time,
    pack_offer_array,
    pack_price_array,
    parse_dll_date,
    parse_offer_array,
    parse_price_array,
    read_offer_events,
    write_offer_events,
)
from quantumtrader.data.quarantine import QuarantineRow
from quantumtrader.model.book import BookSide, Offer, OfferAction, OfferBookEvent, PriceLevel

DATE = "06/10/2020 16:54:52.003"
OFFER = Offer(price=5000.5, qty=7, agent=3, offer_id=123456789, date=DATE)

# One V2 entry written out by hand from the reference layout (little-endian, no padding).
V2_BYTES = (
    bytes.fromhex(
        "01000000"  # Q = 1
        "41000000"  # total size = 8 + (30 + 23) + 4 = 65
        "000000008088b340"  # price 5000.5 = 0x40B3888000000000
        "0700000000000000"  # qty 7, Int64
        "03000000"  # agent 3
        "15cd5b0700000000"  # offer id 123456789 = 0x075BCD15
        "1700"  # T = 23
    )
    + DATE.encode("ascii")
    + bytes.fromhex("01000000")  # flags = OB_LAST_PACKET
)

V1_BYTES = (
    bytes.fromhex(
        "01000000"
        "3d000000"  # 8 + (26 + 23) + 4 = 61
        "000000008088b340"
        "07000000"  # qty 7, Integer
        "03000000"
        "15cd5b0700000000"
        "1700"
    )
    + DATE.encode("ascii")
    + bytes.fromhex("00000000")
)


def test_offer_array_matches_hand_written_bytes() -> None:
    assert len(V2_BYTES) == 65 and len(V1_BYTES) == 61
    assert parse_offer_array(V2_BYTES) == ([OFFER], OB_LAST_PACKET, 65)
    assert pack_offer_array([OFFER]) == V2_BYTES
    assert parse_offer_array(V1_BYTES, version=1) == ([OFFER], 0, 61)
    assert pack_offer_array([OFFER], flags=0, version=1) == V1_BYTES
    # trailing bytes past the array are not consumed
    assert parse_offer_array(V2_BYTES + b"\xff" * 5)[2] == 65
    # entries are walked by their own date length
    two = pack_offer_array([Offer(price=1.0, qty=1, agent=1, offer_id=1), OFFER], flags=3)
    assert len(two) == 8 + 30 + (30 + 23) + 4
    assert parse_offer_array(two) == (
        [Offer(price=1.0, qty=1, agent=1, offer_id=1), OFFER],
        3,
        len(two),
    )


def test_price_array_matches_hand_written_bytes() -> None:
    v2 = bytes.fromhex("010000001c00000000000000000029402c0100000000000004000000")
    v1 = bytes.fromhex("010000001800000000000000000029402c01000004000000")
    level = PriceLevel(price=12.5, qty=300, count=4)
    assert parse_price_array(v2) == [level] and pack_price_array([level]) == v2
    assert parse_price_array(v1, version=1) == [level] and pack_price_array([level], 1) == v1


@pytest.mark.parametrize(
    ("cut", "field", "offset"),
    [
        (3, "count", 0),
        (6, "size", 4),
        (8 + 7, "price", 8),
        (8 + 8 + 7, "qty", 16),
        (8 + 16 + 3, "agent", 24),
        (8 + 20 + 1, "offer_id", 28),
        (8 + 28 + 1, "date_len", 36),
        (8 + 30 + 22, "date", 38),
        (8 + 30 + 23 + 3, "flags", 61),
    ],
)
def test_truncation_names_offset_and_field(cut: int, field: str, offset: int) -> None:
    with pytest.raises(DataError, match=f"byte {offset}\\b") as info:
        parse_offer_array(V2_BYTES[:cut])
    assert info.value.field == field


def test_every_truncation_raises_and_bad_inputs() -> None:
    for cut in range(len(V2_BYTES)):
        with pytest.raises(DataError):
            parse_offer_array(V2_BYTES[:cut])
    with pytest.raises(DataError, match="byte 8") as info:
        parse_price_array(bytes.fromhex("010000001c00000000000000"))
    assert info.value.field == "price"
    with pytest.raises(DataError, match="negative"):
        parse_offer_array(bytes.fromhex("ffffffff0800000000000000"))
    with pytest.raises(ValueError, match="version"):
        parse_offer_array(V2_BYTES, version=3)
    with pytest.raises(DataError) as info:
        pack_offer_array([Offer(price=1.0, qty=2**31, agent=0, offer_id=0)], version=1)
    assert info.value.field == "qty"
    with pytest.raises(DataError) as info:
        pack_offer_array([Offer(price=1.0, qty=1, agent=0, offer_id=0, date="é€")])
    assert info.value.field == "date"


offers_v2 = st.builds(
    Offer,
    price=st.floats(allow_nan=False),
    qty=st.integers(-(2**63), 2**63 - 1),
    agent=st.integers(-(2**31), 2**31 - 1),
    offer_id=st.integers(-(2**63), 2**63 - 1),
    date=st.text(st.characters(max_codepoint=255), max_size=40),
)
offers_v1 = offers_v2.map(
    lambda o: Offer(
        price=o.price, qty=o.qty % 2**31, agent=o.agent, offer_id=o.offer_id, date=o.date
    )
)


@settings(max_examples=200)
@given(st.lists(offers_v2, max_size=8), st.lists(offers_v1, max_size=8), st.integers(0, 2**32 - 1))
def test_parse_pack_round_trip(v2: list[Offer], v1: list[Offer], flags: int) -> None:
    for version, offers in ((2, v2), (1, v1)):
        buf = pack_offer_array(offers, flags, version)
        assert parse_offer_array(buf, version) == (offers, flags, len(buf))
        assert int.from_bytes(buf[4:8], "little") == len(buf)


@settings(max_examples=100)
@given(
    st.lists(
        st.builds(
            PriceLevel,
            price=st.floats(allow_nan=False),
            qty=st.integers(0, 2**31 - 1),
            count=st.integers(0, 2**31 - 1),
        ),
        max_size=8,
    ),
)
def test_price_array_round_trip(levels: list[PriceLevel]) -> None:
    for version in (1, 2):
        assert parse_price_array(pack_price_array(levels, version), version) == levels


def test_parse_dll_date() -> None:
    # 2020: no daylight saving in Brazil, UTC-3
    assert parse_dll_date(DATE) == 1_602_014_092_003_000_000
    # 2018-11-05 was in daylight saving time (UTC-2): 10:00 local = 12:00 UTC
    assert parse_dll_date("05/11/2018 10:00:00.250") == 1_541_419_200_250_000_000
    for bad in (
        "2020-10-06 16:54:52.003",
        "31/02/2020 10:00:00.000",
        "06/10/2020 24:00:00.000",
        "",
    ):
        with pytest.raises(DataError) as info:
            parse_dll_date(bad)
        assert info.value.field == "date"
    # stale-date quirk: the text is ignored unless bHasDate is set
    assert offer_event_time(False, "garbage from an earlier event", 42) == 42
    assert offer_event_time(True, DATE, 42) == 1_602_014_092_003_000_000


# -- recording ------------------------------------------------------------------------

small_offers = st.builds(
    Offer,
    price=st.floats(-1e9, 1e9),
    qty=st.integers(0, 2**40),
    agent=st.integers(0, 2**31 - 1),
    offer_id=st.integers(0, 2**62),
    date=st.text(max_size=25),
)
events = st.builds(
    OfferBookEvent,
    ts_event=st.integers(0, 2**62),
    ts_init=st.integers(0, 2**62),
    symbol=st.sampled_from(["WDOFUT", "WINZ25"]),
    action=st.sampled_from(list(OfferAction)),
    side=st.sampled_from([BookSide.BID, BookSide.ASK]),
    position=st.integers(-5, 10_000),
    qty=st.none() | st.integers(-(2**40), 2**40),
    agent=st.none() | st.integers(0, 2**31 - 1),
    offer_id=st.none() | st.integers(0, 2**62),
    price=st.none() | st.floats(-1e9, 1e9),
    bids=st.lists(small_offers, max_size=3).map(tuple),
    asks=st.lists(small_offers, max_size=3).map(tuple),
    seq=st.integers(0, 2**62),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(events, max_size=6))
def test_offer_events_round_trip(evs: list[OfferBookEvent]) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "offers.parquet"
        assert write_offer_events(evs, path) == len(evs)
        assert pq.read_schema(path).equals(OFFER_EVENT_SCHEMA, check_metadata=False)
        q: list[QuarantineRow] = []
        assert read_offer_events(path, q) == evs
        assert q == []


def test_unknown_action_or_side_goes_to_quarantine(tmp_path: Path) -> None:
    good = OfferBookEvent(
        ts_event=5,
        ts_init=6,
        symbol="WDOFUT",
        action=OfferAction.ADD,
        side=BookSide.BID,
        position=0,
        qty=1,
        price=5000.0,
    )
    full = OfferBookEvent(
        ts_event=7,
        ts_init=8,
        symbol="WDOFUT",
        action=OfferAction.FULL_BOOK,
        side=BookSide.BOTH,
        position=0,
    )
    path = tmp_path / "e.parquet"
    write_offer_events([good, good, good, full], path)
    table = pq.read_table(path)
    table = table.set_column(3, "action", pa.array([0, 9, 0, 4], pa.int8()))
    table = table.set_column(4, "side", pa.array([1, 1, 0, 0], pa.int8()))
    pq.write_table(table, path)
    q: list[QuarantineRow] = []
    assert read_offer_events(path, q) == [good, full]
    assert [(r.line, r.field) for r in q] == [(2, "action"), (3, "side")]
    assert q[0].file == str(path) and "9" in q[0].reason and '"action":9' in q[0].raw
    with pytest.raises(DataError) as info:
        read_offer_events(path)
    assert (info.value.line, info.value.field) == (2, "action")
    pq.write_table(table.drop_columns(["bids"]), path)
    with pytest.raises(DataError, match="lacks columns"):
        read_offer_events(path)


def test_write_rejects_values_that_do_not_fit(tmp_path: Path) -> None:
    bad = OfferBookEvent(
        ts_event=1,
        ts_init=1,
        symbol="X",
        action=OfferAction.ADD,
        side=BookSide.BID,
        position=0,
        agent=2**40,
    )
    with pytest.raises(DataError):
        write_offer_events([bad], tmp_path / "bad.parquet")
