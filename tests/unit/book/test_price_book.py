"""PriceBook: hand-computed books for every action, guards, and invariants."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.book.pricebook import PriceBook
from quantumtrader.core.errors import DataError
from quantumtrader.data.profitdll import pack_price_array, parse_price_array
from quantumtrader.model.book import (
    F_LAST,
    BookAction,
    BookDelta,
    BookSide,
    OfferAction,
    PriceBookEvent,
    PriceLevel,
)

SYM = "WDOFUT"
BID, ASK = BookSide.BID, BookSide.ASK
A = OfferAction


def ev(
    action: OfferAction, side: BookSide, position: int, seq: int = 0, **kw: Any
) -> PriceBookEvent:
    return PriceBookEvent(
        ts_event=100 + seq,
        ts_init=200 + seq,
        symbol=SYM,
        action=action,
        side=side,
        position=position,
        seq=seq,
        **kw,
    )


def lv(price: float, qty: int, count: int) -> PriceLevel:
    return PriceLevel(price=price, qty=qty, count=count)


def rows(deltas: list[BookDelta]) -> list[tuple[int, float, float, int]]:
    return [(int(d.side), d.price, d.size, d.flags) for d in deltas]


def built(**kw: Any) -> PriceBook:
    """Bids (list order) [4999.5 x4 (1), 5000 x10 (3)]; asks [5001 x7 (2), 5000.5 x2 (1)]."""
    b = PriceBook(SYM, 0.5, **kw)
    for e in (
        ev(A.ADD, BID, 0, 1, price=5000.0, qty=10, count=3),
        ev(A.ADD, BID, 1, 2, price=4999.5, qty=4, count=1),
        ev(A.ADD, ASK, 0, 3, price=5001.0, qty=7, count=2),
        ev(A.ADD, ASK, 0, 4, price=5000.5, qty=2, count=1),
    ):
        b.apply(e)
    return b


def test_add_and_levels() -> None:
    b = PriceBook(SYM, 0.5)
    d = b.apply(ev(A.ADD, BID, 0, 1, price=5000.0, qty=10, count=3))
    assert d == [
        BookDelta(
            ts_event=101,
            ts_init=201,
            symbol=SYM,
            side=BID,
            action=BookAction.SET,
            price=5000.0,
            size=10.0,
            seq=1,
            flags=F_LAST,
        )
    ]
    b = built()
    assert b.entries(BID) == [lv(4999.5, 4, 1), lv(5000.0, 10, 3)]
    assert b.entries(ASK) == [lv(5001.0, 7, 2), lv(5000.5, 2, 1)]
    assert b.level_at(ASK, 0) == lv(5000.5, 2, 1) and b.level_at(ASK, 2) is None
    assert b.levels(BID) == [lv(5000.0, 10, 3), lv(4999.5, 4, 1)]
    assert b.levels(ASK) == [lv(5000.5, 2, 1), lv(5001.0, 7, 2)]
    assert b.order_violations == 0


def test_edit_absolute_by_default_and_delta_as_option() -> None:
    b = built()
    assert rows(b.apply(ev(A.EDIT, BID, 0, qty=12, count=4))) == [(1, 5000.0, 12.0, F_LAST)]
    assert b.level_at(BID, 0) == lv(5000.0, 12, 4)
    assert b.apply(ev(A.EDIT, BID, 0, count=5)) == []  # count only: no size change
    assert b.levels(BID)[0] == lv(5000.0, 12, 5)
    d = built(edit_is_delta=True)
    assert rows(d.apply(ev(A.EDIT, BID, 0, qty=2, count=1))) == [(1, 5000.0, 12.0, F_LAST)]
    assert d.level_at(BID, 0) == lv(5000.0, 12, 4)
    # an EDIT with a price moves the level
    assert rows(b.apply(ev(A.EDIT, ASK, 1, price=5002.0))) == [
        (-1, 5001.0, 0.0, 0),
        (-1, 5002.0, 7.0, F_LAST),
    ]


def test_delete_and_delete_from() -> None:
    b = built()
    assert rows(b.apply(ev(A.DELETE, ASK, 0))) == [(-1, 5000.5, 0.0, F_LAST)]
    assert b.entries(ASK) == [lv(5001.0, 7, 2)]
    assert rows(b.apply(ev(A.DELETE_FROM, BID, 0))) == [(1, 5000.0, 0.0, F_LAST)]
    assert b.entries(BID) == [lv(4999.5, 4, 1)]
    b = built()
    assert rows(b.apply(ev(A.DELETE_FROM, BID, 1))) == [
        (1, 5000.0, 0.0, 0),
        (1, 4999.5, 0.0, F_LAST),
    ]
    assert b.levels(BID) == []


def test_full_book_and_bytes() -> None:
    b = built()
    bids = (lv(4999.0, 3, 1), lv(4999.5, 4, 1), lv(5000.0, 9, 2))
    asks = (lv(5001.0, 7, 2), lv(5000.5, 2, 1))
    d = b.apply(ev(A.FULL_BOOK, BookSide.BOTH, 0, 5, bids=bids, asks=asks))
    assert rows(d) == [(1, 5000.0, 9.0, 0), (1, 4999.0, 3.0, F_LAST)]
    assert b.entries(BID) == list(bids)
    raw = pack_price_array(list(bids))
    assert len(raw) == 8 + 3 * 20
    p = PriceBook(SYM, 0.5, full_book_order="position")
    p.apply(ev(A.FULL_BOOK, BookSide.BOTH, 0, bids=tuple(reversed(parse_price_array(raw)))))
    assert p.entries(BID) == list(bids) and p.order_violations == 0


def test_guards_and_strict() -> None:
    b = built()
    before = (b.entries(BID), b.entries(ASK))
    bad = [
        ev(A.DELETE, BID, 2, 1),
        ev(A.EDIT, ASK, -1, 2, qty=1),
        ev(A.ADD, BID, 3, 3, price=4998.0, qty=1, count=1),
        ev(A.ADD, BID, 0, 4, price=4998.0, qty=1),  # no count
        ev(A.EDIT, BID, 0, 5, qty=-1),
        ev(A.ADD, BID, 0, 6, price=4998.1, qty=1, count=1),
    ]
    for e in bad:
        assert b.apply(e) == []
    assert (b.entries(BID), b.entries(ASK)) == before
    assert b.error_counts == {"position": 3, "count": 1, "qty": 1, "price": 1}
    b.strict = True
    with pytest.raises(DataError) as info:
        b.apply(ev(A.DELETE_FROM, ASK, 2))
    assert info.value.field == "position"


def test_duplicate_price_is_a_violation_and_summed() -> None:
    b = built()
    b.apply(ev(A.ADD, BID, 0, price=5000.0, qty=1, count=1))
    assert b.order_violations == 1
    assert b.levels(BID)[0] == lv(5000.0, 11, 4)


@st.composite
def streams(draw: st.DrawFn) -> list[PriceBookEvent]:
    shadow = PriceBook(SYM, 0.5)
    out = []
    for seq in range(1, draw(st.integers(1, 40)) + 1):
        side = draw(st.sampled_from([BID, ASK]))
        n = shadow.depth(side)
        kind = draw(st.sampled_from(["add", "add", "edit", "del", "delfrom", "full"]))
        base = {"ts_event": seq, "ts_init": seq, "symbol": SYM, "side": side, "seq": seq}
        price = st.integers(9990, 10010).map(lambda t: t * 0.5)
        if kind == "add" or n == 0:
            e = PriceBookEvent(
                action=A.ADD,
                position=draw(st.integers(0, n)),
                price=draw(price),
                qty=draw(st.integers(0, 50)),
                count=draw(st.integers(0, 5)),
                **base,
            )
        elif kind == "edit":
            e = PriceBookEvent(
                action=A.EDIT,
                position=draw(st.integers(0, n - 1)),
                qty=draw(st.none() | st.integers(0, 50)),
                count=draw(st.none() | st.integers(0, 5)),
                **base,
            )
        elif kind == "full":
            levels = st.lists(
                st.builds(PriceLevel, price=price, qty=st.integers(0, 9), count=st.integers(0, 3)),
                max_size=5,
            )
            e = PriceBookEvent(
                action=A.FULL_BOOK,
                position=0,
                bids=tuple(draw(levels)),
                asks=tuple(draw(levels)),
                **base,
            )
        else:
            act = A.DELETE if kind == "del" else A.DELETE_FROM
            e = PriceBookEvent(action=act, position=draw(st.integers(0, n - 1)), **base)
        shadow.apply(e)
        out.append(e)
    return out


@settings(max_examples=120, deadline=None)
@given(streams())
def test_levels_equal_sum_of_entries(events: list[PriceBookEvent]) -> None:
    book = PriceBook(SYM, 0.5)
    mirror: dict[tuple[int, float], float] = {}
    for e in events:
        for d in book.apply(e):
            assert d.size >= 0
            key = (int(d.side), d.price)
            assert mirror.get(key, 0.0) != d.size
            if d.size:
                mirror[key] = d.size
            else:
                mirror.pop(key, None)
        for side in (BID, ASK):
            agg: dict[float, list[int]] = defaultdict(lambda: [0, 0])
            for x in book.entries(side):
                agg[x.price][0] += x.qty
                agg[x.price][1] += x.count
            assert {x.price: (x.qty, x.count) for x in book.levels(side)} == {
                p: tuple(v) for p, v in agg.items()
            }
    assert book.n_errors == 0
    assert mirror == {
        (int(s), x.price): float(x.qty) for s in (BID, ASK) for x in book.levels(s) if x.qty
    }
