"""OfferBook: hand-computed books for every action, guards, snapshots, and invariants."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.book.offers import OfferBook, OfferBookSnapshot, SnapshotPolicy, rebuild
from quantumtrader.core.errors import ConfigError, DataError
from quantumtrader.data.profitdll import pack_offer_array, parse_offer_array
from quantumtrader.model.book import (
    F_LAST,
    BookAction,
    BookDelta,
    BookSide,
    Offer,
    OfferAction,
    OfferBookEvent,
    PriceLevel,
)

SYM = "WDOFUT"
BID, ASK = BookSide.BID, BookSide.ASK
A = OfferAction


def ev(
    action: OfferAction, side: BookSide, position: int, seq: int = 0, **kw: Any
) -> OfferBookEvent:
    return OfferBookEvent(
        ts_event=1_000 + seq,
        ts_init=2_000 + seq,
        symbol=kw.pop("symbol", SYM),
        action=action,
        side=side,
        position=position,
        seq=seq,
        **kw,
    )


def add(
    side: BookSide, pos: int, price: float, qty: int, oid: int, *, agent: int = 1, seq: int = 0
) -> OfferBookEvent:
    return ev(A.ADD, side, pos, seq, price=price, qty=qty, offer_id=oid, agent=agent)


def rows(deltas: list[BookDelta]) -> list[tuple[int, float, float, int]]:
    return [(int(d.side), d.price, d.size, d.flags) for d in deltas]


def ids(book: OfferBook, side: BookSide) -> list[int]:
    return [o.offer_id for o in book.offers(side)]


def built() -> OfferBook:
    """Bids in list order (worst first) [2 @4999.5 x2, 3 @5000 x3, 1 @5000 x5];
    asks [11 @5001.5 x6, 10 @5001 x4]."""
    b = OfferBook(SYM, 0.5)
    for e in (
        add(BID, 0, 5000.0, 5, 1, agent=3),
        add(BID, 1, 4999.5, 2, 2, agent=8),
        add(BID, 1, 5000.0, 3, 3, agent=8),
        add(ASK, 0, 5001.0, 4, 10, agent=3),
        add(ASK, 1, 5001.5, 6, 11, agent=5),
    ):
        b.apply(e)
    return b


def test_add_inserts_counted_from_the_end() -> None:
    b = OfferBook(SYM, 0.5)
    d = b.apply(add(BID, 0, 5000.0, 5, 1, seq=7))
    assert d == [
        BookDelta(
            ts_event=1007,
            ts_init=2007,
            symbol=SYM,
            side=BID,
            action=BookAction.SET,
            price=5000.0,
            size=5.0,
            order_id=1,
            seq=7,
            flags=F_LAST,
        )
    ]
    # position 1 of a 1-element list -> index 0 (worse end); position n is the far end
    assert rows(b.apply(add(BID, 1, 4999.5, 2, 2))) == [(1, 4999.5, 2.0, F_LAST)]
    assert ids(b, BID) == [2, 1]
    # position 1 of [2, 1] -> index 1, i.e. behind offer 1 at the same price
    assert rows(b.apply(add(BID, 1, 5000.0, 3, 3))) == [(1, 5000.0, 8.0, F_LAST)]
    assert ids(b, BID) == [2, 3, 1]
    assert b.offer_at(BID, 0) == Offer(price=5000.0, qty=5, agent=1, offer_id=1)
    assert b.offer_at(BID, 2) is not None and b.offer_at(BID, 2).offer_id == 2  # type: ignore[union-attr]
    assert b.offer_at(BID, 3) is None
    assert b.levels(BID) == [
        PriceLevel(price=5000.0, qty=8, count=2),
        PriceLevel(price=4999.5, qty=2, count=1),
    ]
    assert b.order_violations == 0


def test_built_book_levels_queue_and_agents() -> None:
    b = built()
    assert b.levels(ASK) == [
        PriceLevel(price=5001.0, qty=4, count=1),
        PriceLevel(price=5001.5, qty=6, count=1),
    ]
    assert b.best(BID) == PriceLevel(price=5000.0, qty=8, count=2)
    assert b.best(ASK) == PriceLevel(price=5001.0, qty=4, count=1)
    assert (b.depth(BID), b.depth(ASK)) == (3, 2)
    assert b.queue_ahead(BID, 1) == 0
    assert b.queue_ahead(BID, 3) == 5
    assert b.queue_ahead(BID, 2) == 0
    assert b.queue_ahead(BID, 99) is None
    # agent 8: 2 + 3 = 5, agent 3: 5 -> tie broken by agent id
    assert b.top_agents(BID) == [(3, 5), (8, 5)]
    assert b.top_agents(BID, 1) == [(3, 5)]
    assert b.top_agents(ASK) == [(5, 6), (3, 4)]


def test_edit_is_a_quantity_delta_and_overwrites_fields() -> None:
    b = built()
    d = b.apply(ev(A.EDIT, BID, 1, 5, qty=-1))  # offer 3: 3 -> 2
    assert rows(d) == [(1, 5000.0, 7.0, F_LAST)]
    assert d[0].order_id == 3 and d[0].seq == 5
    assert b.offers(BID)[1].qty == 2
    assert b.apply(ev(A.EDIT, BID, 0, agent=99, offer_id=77)) == []  # no level changes size
    assert b.offer_at(BID, 0) == Offer(price=5000.0, qty=5, agent=99, offer_id=77)
    assert b.apply(ev(A.EDIT, BID, 0, qty=4)) and b.offer_at(BID, 0).qty == 9  # type: ignore[union-attr]
    # a price overwrite moves the offer: both levels change, best first, F_LAST on the last
    d = b.apply(ev(A.EDIT, BID, 1, price=4999.5))
    assert rows(d) == [(1, 5000.0, 9.0, 0), (1, 4999.5, 4.0, F_LAST)]
    assert b.levels(BID) == [
        PriceLevel(price=5000.0, qty=9, count=1),
        PriceLevel(price=4999.5, qty=4, count=2),
    ]
    # an edit down to exactly zero keeps the offer; the level total is 0
    d = b.apply(ev(A.EDIT, BID, 0, qty=-9))
    assert rows(d) == [(1, 5000.0, 0.0, F_LAST)]
    assert b.levels(BID)[0] == PriceLevel(price=5000.0, qty=0, count=1)


def test_delete_and_delete_from() -> None:
    b = built()
    d = b.apply(ev(A.DELETE, BID, 0))  # removes offer 1 (index 2)
    assert rows(d) == [(1, 5000.0, 3.0, F_LAST)] and d[0].order_id == 1
    assert ids(b, BID) == [2, 3]
    d = b.apply(ev(A.DELETE_FROM, BID, 0))  # truncate to n-1-0 = 1 element
    assert rows(d) == [(1, 5000.0, 0.0, F_LAST)]
    assert ids(b, BID) == [2]
    assert b.levels(BID) == [PriceLevel(price=4999.5, qty=2, count=1)]
    # delete-from at the far end (position n-1) empties the side
    d = b.apply(ev(A.DELETE_FROM, ASK, 1))
    assert rows(d) == [(-1, 5001.0, 0.0, 0), (-1, 5001.5, 0.0, F_LAST)]
    assert b.offers(ASK) == [] and b.levels(ASK) == []
    # delete at the far end
    b2 = built()
    b2.apply(ev(A.DELETE, BID, 2))
    assert ids(b2, BID) == [3, 1]
    # delete-from the middle removes positions 0..1
    b3 = built()
    assert rows(b3.apply(ev(A.DELETE_FROM, BID, 1))) == [(1, 5000.0, 0.0, F_LAST)]
    assert ids(b3, BID) == [2]


def test_add_at_both_ends() -> None:
    b = built()
    b.apply(add(BID, 3, 4998.0, 1, 4))  # position n -> index 0 (worst end)
    b.apply(add(BID, 0, 5000.5, 1, 5))  # position 0 -> new top
    assert ids(b, BID) == [4, 2, 3, 1, 5]
    assert b.best(BID) == PriceLevel(price=5000.5, qty=1, count=1)
    assert b.order_violations == 0


def test_out_of_range_positions_are_counted_not_applied() -> None:
    b = built()
    before = (b.offers(BID), b.offers(ASK))
    bad = [
        ev(A.DELETE, BID, 3, 1),
        ev(A.DELETE, BID, -1, 2),
        ev(A.EDIT, ASK, 2, 3, qty=1),
        ev(A.DELETE_FROM, ASK, 5, 4),
        add(BID, 4, 4990.0, 1, 9, seq=5),  # n = 3, so 4 is past the end
        ev(A.EDIT, BID, 0, 6, qty=-6),  # 5 - 6 < 0
        add(BID, 0, 5000.25, 1, 9, seq=7),  # off the 0.5 grid
        ev(A.ADD, BID, 0, 8, qty=1),  # no price
        ev(A.ADD, BookSide.BOTH, 0, 9, qty=1, price=5000.0),
        ev(A.DELETE, BID, 0, 10, symbol="DOLFUT"),
    ]
    for e in bad:
        assert b.apply(e) == []
    assert (b.offers(BID), b.offers(ASK)) == before
    assert b.error_counts == {"position": 5, "qty": 1, "price": 2, "side": 1, "symbol": 1}
    assert b.n_errors == 10
    assert [i.seq for i in b.issues] == list(range(1, 11))
    assert b.issues[0].field == "position" and "outside [0, 2]" in b.issues[0].reason
    assert b.events_applied == 5 + 10


def test_strict_mode_raises_and_leaves_book_unchanged() -> None:
    b = built()
    b.strict = True
    before = b.offers(BID)
    with pytest.raises(DataError, match="position 7") as info:
        b.apply(ev(A.DELETE, BID, 7, 3))
    assert info.value.field == "position"
    assert b.offers(BID) == before and b.error_counts == {"position": 1}


def test_full_book_list_order_and_changed_levels_only() -> None:
    b = built()
    bids = (
        Offer(price=4999.0, qty=1, agent=4, offer_id=20),
        Offer(price=4999.5, qty=2, agent=8, offer_id=2),
        Offer(price=5000.0, qty=6, agent=3, offer_id=21),
    )
    asks = (
        Offer(price=5001.5, qty=6, agent=5, offer_id=11),
        Offer(price=5001.0, qty=1, agent=3, offer_id=10),
    )
    d = b.apply(ev(A.FULL_BOOK, BookSide.BOTH, 0, 9, bids=bids, asks=asks))
    # 4999.5 and 5001.5 unchanged; 5000: 8 -> 6; 4999 new; 5001: 4 -> 1
    assert rows(d) == [(1, 5000.0, 6.0, 0), (1, 4999.0, 1.0, 0), (-1, 5001.0, 1.0, F_LAST)]
    assert all(x.order_id == 0 and x.seq == 9 for x in d)
    assert b.offers(BID) == list(bids) and b.offer_at(BID, 0) == bids[-1]
    assert b.order_violations == 0
    # an empty full book clears everything
    d = b.apply(ev(A.FULL_BOOK, BookSide.BOTH, 0, 10))
    assert [x.size for x in d] == [0.0] * 5 and d[-1].flags == F_LAST
    assert b.levels(BID) == [] and b.levels(ASK) == []


def test_full_book_position_order_option() -> None:
    bids = (
        Offer(price=5000.0, qty=1, agent=1, offer_id=1),
        Offer(price=4999.5, qty=2, agent=1, offer_id=2),
    )
    b = OfferBook(SYM, 0.5, full_book_order="position")
    b.apply(ev(A.FULL_BOOK, BookSide.BOTH, 0, bids=bids))
    assert b.offer_at(BID, 0) == bids[0] and ids(b, BID) == [2, 1]
    assert b.order_violations == 0
    # the same array read as list order is best-first, i.e. out of the assumed order
    b2 = OfferBook(SYM, 0.5)
    b2.apply(ev(A.FULL_BOOK, BookSide.BOTH, 0, bids=bids))
    assert b2.order_violations == 1
    # a bad entry rejects the whole full book
    assert (
        b.apply(
            ev(A.FULL_BOOK, BookSide.BOTH, 0, asks=(Offer(price=1.2, qty=1, agent=0, offer_id=0),))
        )
        == []
    )
    assert b.error_counts == {"asks": 1} and ids(b, BID) == [2, 1]
    with pytest.raises(ConfigError):
        OfferBook(SYM, 0.5, full_book_order="best")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        OfferBook(SYM, 0.0)
    assert OfferBook("WINFUT").tick_size == 5.0  # from the instrument spec


def test_order_violation_counted() -> None:
    b = built()
    b.apply(add(BID, 0, 4999.0, 1, 30))  # new "top" below the best bid
    assert b.order_violations == 1
    assert b.levels(BID)[0].price == 5000.0  # levels are sorted regardless


def test_full_book_from_packed_bytes() -> None:
    """The DLL byte arrays, parsed, feed a FULL_BOOK event."""
    bids = [Offer(price=4999.5, qty=2, agent=8, offer_id=2, date="06/10/2020 16:54:52.003")]
    asks = [Offer(price=5001.0, qty=4, agent=3, offer_id=10, date="06/10/2020 16:54:52.010")]
    pb, _, _ = parse_offer_array(pack_offer_array(bids))
    pa_, flags, _ = parse_offer_array(pack_offer_array(asks, flags=0))
    b = OfferBook(SYM, 0.5)
    b.apply(ev(A.FULL_BOOK, BookSide.BOTH, 0, bids=tuple(pb), asks=tuple(pa_)))
    assert b.offers(BID) == bids and b.offers(ASK) == asks and flags == 0


def test_snapshot_round_trip_and_policy() -> None:
    b = built()
    snap = b.snapshot()
    assert isinstance(snap, OfferBookSnapshot)
    assert (snap.events_applied, snap.seq, snap.ts_event) == (5, 0, 1000)
    r = OfferBook.from_snapshot(snap, tick_size=0.5)
    assert r.offers(BID) == b.offers(BID) and r.levels(ASK) == b.levels(ASK)
    events = [add(BID, 0, 5000.0 + 0.5 * i, 1, i, seq=i) for i in range(10)]
    _, snaps = rebuild(events, SnapshotPolicy(every_events=3), tick_size=0.5)
    assert [s.events_applied for s in snaps] == [3, 6, 9]
    _, snaps = rebuild(events, SnapshotPolicy(every_ns=4), tick_size=0.5)  # ts 1000..1009
    assert [s.ts_event for s in snaps] == [1004, 1008]
    with pytest.raises(ConfigError):
        SnapshotPolicy(every_events=0)
    assert rebuild([], SnapshotPolicy(every_events=1)) == ([], [])


# -- properties -------------------------------------------------------------------------


@st.composite
def event_streams(draw: st.DrawFn) -> list[OfferBookEvent]:
    """Random event streams, mostly valid; built against a shadow book to know the sizes."""
    shadow = OfferBook(SYM, 0.5)
    out: list[OfferBookEvent] = []
    n_events = draw(st.integers(1, 60))
    for seq in range(1, n_events + 1):
        side = draw(st.sampled_from([BID, ASK]))
        n = shadow.depth(side)
        kind = draw(st.sampled_from(["add"] * 4 + ["edit"] * 3 + ["del", "delfrom", "full", "bad"]))
        base = {
            "ts_event": 10 * seq,
            "ts_init": 10 * seq + 1,
            "symbol": SYM,
            "side": side,
            "seq": seq,
        }
        tick = st.integers(9990, 10010)
        if kind == "add" or (n == 0 and kind in ("edit", "del", "delfrom")):
            e = OfferBookEvent(
                action=A.ADD,
                position=draw(st.integers(0, n)),
                qty=draw(st.integers(0, 9)),
                agent=draw(st.integers(1, 4)),
                offer_id=seq,
                price=draw(tick) * 0.5,
                **base,
            )
        elif kind == "edit":
            pos = draw(st.integers(0, n - 1))
            cur = shadow.offer_at(side, pos)
            assert cur is not None
            e = OfferBookEvent(
                action=A.EDIT,
                position=pos,
                qty=draw(st.none() | st.integers(-cur.qty, 5)),
                agent=draw(st.none() | st.integers(1, 4)),
                price=draw(st.none() | tick.map(lambda t: t * 0.5)),
                **base,
            )
        elif kind in ("del", "delfrom"):
            act = A.DELETE if kind == "del" else A.DELETE_FROM
            e = OfferBookEvent(action=act, position=draw(st.integers(0, n - 1)), **base)
        elif kind == "full":
            offers = st.builds(
                Offer,
                price=tick.map(lambda t: t * 0.5),
                qty=st.integers(0, 9),
                agent=st.integers(1, 4),
                offer_id=st.integers(0, 10**6),
            )
            e = OfferBookEvent(
                action=A.FULL_BOOK,
                position=0,
                bids=tuple(draw(st.lists(offers, max_size=6))),
                asks=tuple(draw(st.lists(offers, max_size=6))),
                **base,
            )
        else:  # out of range, must be rejected
            e = OfferBookEvent(action=A.DELETE, position=n + draw(st.integers(0, 3)), **base)
        shadow.apply(e)
        out.append(e)
    return out


def _sum_offers(book: OfferBook, side: BookSide) -> dict[float, tuple[int, int]]:
    agg: dict[float, list[int]] = defaultdict(lambda: [0, 0])
    for o in book.offers(side):
        agg[o.price][0] += o.qty
        agg[o.price][1] += 1
    return {p: (q, c) for p, (q, c) in agg.items()}


@settings(max_examples=150, deadline=None)
@given(event_streams())
def test_levels_equal_sum_of_offers_and_deltas_rebuild_them(events: list[OfferBookEvent]) -> None:
    book = OfferBook(SYM, 0.5)
    mirror: dict[tuple[int, float], float] = {}
    n_bad = 0
    for e in events:
        before = dict(mirror)
        n_bad += e.action == A.DELETE and e.position >= book.depth(e.side)
        deltas = book.apply(e)
        for d in deltas:
            assert d.action == BookAction.SET and d.size >= 0 and d.seq == e.seq
            key = (int(d.side), d.price)
            assert mirror.get(key, 0.0) != d.size  # only levels that changed
            if d.size:
                mirror[key] = d.size
            else:
                mirror.pop(key, None)
        if deltas:
            assert [d.flags for d in deltas] == [0] * (len(deltas) - 1) + [F_LAST]
        else:
            assert mirror == before
        for side in (BID, ASK):
            levels = book.levels(side)
            assert {lv.price: (lv.qty, lv.count) for lv in levels} == _sum_offers(book, side)
            prices = [lv.price for lv in levels]
            assert prices == sorted(prices, reverse=side is BID)
            assert all(o.qty >= 0 for o in book.offers(side))
        expected = {
            (int(s), lv.price): float(lv.qty) for s in (BID, ASK) for lv in book.levels(s) if lv.qty
        }
        assert mirror == expected
    assert book.error_counts == ({"position": n_bad} if n_bad else {})
    assert book.events_applied == len(events)


@settings(max_examples=80, deadline=None)
@given(event_streams(), st.integers(1, 7))
def test_snapshot_plus_rest_equals_full_replay(events: list[OfferBookEvent], every: int) -> None:
    deltas, snaps = rebuild(events, SnapshotPolicy(every_events=every), tick_size=0.5)
    full = OfferBook(SYM, 0.5)
    for e in events:
        full.apply(e)
    assert len(snaps) == len(events) // every
    for snap in snaps:
        book = OfferBook.from_snapshot(snap, tick_size=0.5)
        rest: list[BookDelta] = []
        for e in events[snap.events_applied :]:
            rest.extend(book.apply(e))
        assert book.offers(BID) == full.offers(BID)
        assert book.offers(ASK) == full.offers(ASK)
        assert book.levels(BID) == full.levels(BID) and book.levels(ASK) == full.levels(ASK)
        assert rest == deltas[len(deltas) - len(rest) :]
