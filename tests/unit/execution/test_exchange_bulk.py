"""on_book_arrays (one kernel call per batch) equals on_book per delta, consumed liquidity too."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from quantumtrader.execution import ExchangeConfig, SimulatedExchange
from quantumtrader.model import F_LAST, BookAction, BookDelta, BookSide, Order, OrderSide, spec_for

SYM = "WDOU25"
SPEC = spec_for("WDO")
PRICES = [4998.5 + 0.5 * k for k in range(9)]  # 4998.5 .. 5002.5


def _exchange() -> SimulatedExchange:
    ex = SimulatedExchange(SPEC, ExchangeConfig())
    for side, px, sz in [
        (BookSide.BID, 5000.0, 10),
        (BookSide.BID, 4999.5, 20),
        (BookSide.ASK, 5000.5, 3),
        (BookSide.ASK, 5001.0, 4),
        (BookSide.ASK, 5001.5, 10),
    ]:
        ex.on_book(
            BookDelta(
                ts_event=1, ts_init=1, symbol=SYM, side=side, action=BookAction.SET,
                price=px, size=sz,
            )
        )  # fmt: skip
    # A market buy of 6 takes 5000.5 x3 and 5001.0 x3: both levels are remembered.
    ex.submit(Order(order_id="m", ts=5, symbol=SYM, side=OrderSide.BUY, qty=6))
    fills = ex.advance(5)
    assert [(f.price, f.qty) for f in fills] == [(5000.5, 3), (5001.0, 3)]
    return ex


deltas_st = st.lists(
    st.tuples(
        st.sampled_from([BookSide.BID, BookSide.ASK]),
        st.sampled_from([BookAction.SET, BookAction.CHANGE, BookAction.DELETE, BookAction.CLEAR]),
        st.sampled_from(PRICES),
        st.integers(-6, 12),
    ),
    max_size=40,
)


@given(deltas_st)
def test_batch_equals_one_by_one(rows: list[tuple[BookSide, BookAction, float, int]]) -> None:
    one, batch = _exchange(), _exchange()
    clean = []
    for side, action, raw_price, raw_size in rows:
        size = abs(raw_size) if action == BookAction.SET else raw_size
        price = raw_price
        if action == BookAction.CLEAR:
            price, size = 0.0, 0
        clean.append((side, action, price, size))
    for side, action, price, size in clean:
        one.on_book(
            BookDelta(
                ts_event=7, ts_init=7, symbol=SYM, side=side, action=action, price=price,
                size=float(size), flags=F_LAST,
            )
        )  # fmt: skip
    if clean:
        cols = list(zip(*clean, strict=True))
        batch.on_book_arrays(
            SYM,
            np.asarray([int(s) for s in cols[0]], dtype=np.int8),
            np.asarray([int(a) for a in cols[1]], dtype=np.int8),
            np.asarray(cols[2], dtype=np.float64),
            np.asarray(cols[3], dtype=np.float64),
            np.full(len(clean), F_LAST, dtype=np.int16),
        )
    for got, want in zip(batch.book(SYM).depth(10), one.book(SYM).depth(10), strict=True):
        np.testing.assert_array_equal(got, want)
    # consumed liquidity: the remembered levels evolve exactly as with per-delta updates
    assert batch._syms[SYM].taken == one._syms[SYM].taken
    # and a following market order takes the same quantities in both
    for ex in (one, batch):
        ex.submit(Order(order_id="n", ts=8, symbol=SYM, side=OrderSide.BUY, qty=4))
    assert [(f.price, f.qty) for f in one.advance(8)] == [
        (f.price, f.qty) for f in batch.advance(8)
    ]
