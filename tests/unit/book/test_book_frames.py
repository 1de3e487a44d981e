"""Top-of-book frames: equal to OrderBook.depth() after every message, on hand and real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantumtrader.book import OrderBook
from quantumtrader.data.binance import read_binance
from quantumtrader.model.book import F_LAST, BookAction, BookSide
from quantumtrader.model.book_arrow import book_arrays

SET, DEL = int(BookAction.SET), int(BookAction.DELETE)
BID, ASK = int(BookSide.BID), int(BookSide.ASK)


def _depth_rows(  # noqa: PLR0917 - the columns of a delta table
    book: OrderBook, side, action, price, size, flags, k
):  # type: ignore[no-untyped-def]
    """Reference: apply one delta at a time and read depth() at each F_LAST."""
    ref = []
    for s, a, p, z, f in zip(side, action, price, size, flags, strict=True):
        book._apply_one(int(s), int(a), book.to_tick(float(p)), float(z))
        if f & F_LAST:
            ref.append(np.stack(book.depth(k)))
    return np.asarray(ref).reshape(-1, 4, k)


def test_hand_built_messages() -> None:
    side = np.array([BID, BID, ASK, ASK, BID, ASK])
    action = np.array([SET, SET, SET, SET, DEL, SET])
    price = np.array([10.0, 9.5, 10.5, 12.0, 10.0, 10.5])
    size = np.array([3.0, 4.0, 5.0, 1.0, 0.0, 0.0])
    flags = np.array([0, 0, 0, F_LAST, F_LAST, F_LAST])
    book = OrderBook("WDOF26", 0.5)
    rows, frames = book.apply_frames(side, action, price, size, flags, 3)
    assert rows.tolist() == [-1, -1, -1, 0, 1, 2]
    np.testing.assert_array_equal(frames[0, 0], [10.0, 9.5, np.nan])
    np.testing.assert_array_equal(frames[0, 1], [3.0, 4.0, 0.0])
    np.testing.assert_array_equal(frames[0, 2], [10.5, 12.0, np.nan])
    np.testing.assert_array_equal(frames[1, 0], [9.5, np.nan, np.nan])  # 10.0 deleted
    np.testing.assert_array_equal(frames[2, 2], [12.0, np.nan, np.nan])  # SET 0 empties 10.5
    assert book.best_bid() == 9.5


def test_binance_frames_equal_depth(binance_dir: Path) -> None:
    md = read_binance(sorted((binance_dir / "usdm").glob("ethusdt_*.gz")))
    cols = book_arrays(md.book)
    n = cols["side"].shape[0]
    args = [cols[c][:n] for c in ("side", "action", "price", "size", "flags")]
    fast = OrderBook(md.symbol, 0.01, capacity_ticks=64)  # small window: forces moves
    rows, frames = fast.apply_frames(*args, 10)
    ref = _depth_rows(OrderBook(md.symbol, 0.01, capacity_ticks=64), *args, 10)
    assert frames.shape[0] == int(np.count_nonzero(args[4] & F_LAST)) > 1000
    np.testing.assert_array_equal(frames, ref)
    assert (rows >= 0).sum() == frames.shape[0]


def test_invalid_rows_are_refused_before_anything_applies() -> None:
    book = OrderBook("WDOF26", 0.5)
    with pytest.raises(Exception, match="row 0: invalid price"):
        book.apply_frames(np.array([BID]), np.array([SET]), np.array([10.2]), np.array([1.0]),
                          np.array([F_LAST]), 5)  # fmt: skip
    assert np.isnan(book.best_bid())
