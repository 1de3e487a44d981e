"""A capture crossing midnight: each later day's book partition starts with a snapshot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa

from quantumtrader.book import OrderBook
from quantumtrader.data import Lake, import_market_data, read_binance
from quantumtrader.data.book_import import carry_day_snapshots
from quantumtrader.model import (
    F_SNAPSHOT,
    BookAction,
    BookDelta,
    BookSide,
    book_arrays,
    deltas_to_table,
    spec_for,
)


def _book(table: pa.Table, symbol: str) -> OrderBook:
    book = OrderBook(symbol, spec_for(symbol).tick_size)
    a = book_arrays(table)
    book.apply_arrays(a["side"], a["action"], a["price"], a["size"])
    return book


def _d(  # noqa: PLR0917 - a compact row builder for hand-made books
    ts: int, side: BookSide, action: BookAction, price: float, size: float, seq: int
) -> BookDelta:
    return BookDelta(
        ts_event=ts,
        ts_init=ts,
        symbol="ES",
        side=side,
        action=action,
        price=price,
        size=size,
        seq=seq,
    )


def test_hand_built_days_carry_the_aggregated_book() -> None:
    day = 86_400 * 10**9
    t0 = 19_000 * day
    d1 = deltas_to_table(
        [
            _d(t0 + 5, BookSide.BID, BookAction.SET, 100.0, 3, 0),
            _d(t0 + 6, BookSide.ASK, BookAction.CHANGE, 100.25, 2, 1),
            _d(t0 + 7, BookSide.ASK, BookAction.CHANGE, 100.25, 5, 2),
            _d(t0 + 8, BookSide.BID, BookAction.SET, 99.75, 4, 3),
            _d(t0 + 9, BookSide.BID, BookAction.DELETE, 100.0, 0, 4),
        ]
    )
    d2 = deltas_to_table([_d(t0 + day + 1, BookSide.ASK, BookAction.SET, 100.5, 1, 10)])
    days = {dt.date(2022, 1, 8): d1, dt.date(2022, 1, 9): d2}
    out = carry_day_snapshots(days, "ES")
    assert out[dt.date(2022, 1, 8)] is d1
    rows = out[dt.date(2022, 1, 9)].to_pylist()
    assert [(r["side"], r["action"], r["price"], r["size"]) for r in rows] == [
        (0, BookAction.CLEAR, 0.0, 0.0),
        (-1, BookAction.SET, 100.25, 7.0),
        (1, BookAction.SET, 99.75, 4.0),
        (-1, BookAction.SET, 100.5, 1.0),
    ]
    assert all(r["flags"] & F_SNAPSHOT for r in rows[:3])
    day_start = pa.scalar(t0 + day, pa.int64()).cast(pa.timestamp("ns", tz="UTC")).as_py()
    assert rows[0]["ts_event"] == day_start
    assert [r["seq"] for r in rows] == [7, 8, 9, 10]


def test_binance_spot_second_day_replays_alone(tmp_path: Path, binance_dir: Path) -> None:
    files = sorted((binance_dir / "spot").glob("btcusdt_*.gz"))
    md = read_binance(files)
    lake = Lake(tmp_path / "lake")
    import_market_data(md, lake)
    days = [p.day for p in lake.partitions("book") if p.symbol == md.symbol]
    assert days == [dt.date(2024, 8, 8), dt.date(2024, 8, 9)]
    second = lake.read_book(md.symbol, days[1])
    assert second.column("action")[0].as_py() == BookAction.CLEAR
    whole = _book(pa.concat_tables([lake.read_book(md.symbol, days[0]), second]), md.symbol)
    alone = _book(second, md.symbol)
    for got, want in zip(alone.depth(50), whole.depth(50), strict=True):
        np.testing.assert_array_equal(got, want)
    assert alone.best_bid() < alone.best_ask()
