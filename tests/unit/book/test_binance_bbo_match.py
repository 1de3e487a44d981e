"""Top-of-book vs bookTicker: every quote class on a hand-built stream, then the six real
Binance capture files (measured figures)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import pytest

from quantumtrader.book.validate import BBO_CLASSES, BboMatch, match_bbo
from quantumtrader.data.binance import read_binance
from quantumtrader.data.market_day import MarketData
from quantumtrader.data.quarantine import empty_quarantine
from quantumtrader.model.arrow import trades_to_table
from quantumtrader.model.book import (
    F_LAST,
    F_SNAPSHOT,
    BookAction,
    BookDelta,
    BookSide,
    Quote,
)
from quantumtrader.model.book_arrow import deltas_to_table, quotes_to_table

SYM = "BTCUSDT"
BID, ASK = BookSide.BID, BookSide.ASK


def delta(side: BookSide, level: tuple[float, float], seq: int, uid: int, flags: int) -> BookDelta:
    price, size = level
    action = BookAction.CLEAR if side == BookSide.BOTH else BookAction.SET
    return BookDelta(
        ts_event=seq,
        ts_init=seq,
        symbol=SYM,
        side=side,
        action=action,
        price=price,
        size=size,
        seq=seq,
        update_id=uid,
        flags=flags,
    )


def quote(u: int, seq: int, bid: tuple[float, float], ask: tuple[float, float]) -> Quote:
    return Quote(
        ts_event=seq,
        ts_init=seq,
        symbol=SYM,
        bid_price=bid[0],
        bid_size=bid[1],
        ask_price=ask[0],
        ask_size=ask[1],
        update_id=u,
        seq=seq,
    )


def hand_data() -> MarketData:
    snap = F_SNAPSHOT
    deltas = [
        delta(BookSide.BOTH, (0.0, 0.0), 1, 100, snap),
        delta(BID, (10.00, 5), 1, 100, snap),
        delta(ASK, (10.01, 7), 1, 100, snap | F_LAST),
        delta(BID, (10.00, 6), 3, 105, F_LAST),
        delta(ASK, (10.01, 0), 5, 110, 0),
        delta(ASK, (10.02, 4), 5, 110, F_LAST),
    ]
    quotes = [
        quote(90, 0, (10.00, 1), (10.01, 1)),  # before the snapshot's id
        quote(100, 2, (10.00, 5), (10.01, 7)),  # equal to the snapshot
        quote(103, 2, (10.00, 5), (10.01, 7)),  # inside the next diff's range
        quote(105, 4, (10.00, 6), (10.01, 7)),  # equal
        quote(110, 4, (10.00, 6), (10.02, 4)),  # equal, arrived before its diff
        quote(110, 6, (10.00, 6), (10.02, 9)),  # size differs
        quote(105, 6, (9.99, 6), (10.01, 7)),  # price differs
        quote(120, 7, (10.00, 6), (10.02, 4)),  # beyond the last diff
    ]
    return MarketData(
        source="binance",
        symbol=SYM,
        days=[dt.date(2024, 8, 8)],
        trades=trades_to_table([]),
        book=deltas_to_table(deltas),
        quotes=quotes_to_table(quotes),
        quarantine=empty_quarantine(),
    )


def test_every_class_on_a_hand_built_stream() -> None:
    m = match_bbo(hand_data())
    assert m.classes == {
        "equal": 3,
        "mismatch_price": 1,
        "mismatch_size": 1,
        "inside_diff": 1,
        "before_sync": 1,
        "after_end": 1,
    }
    assert (m.n_quotes, m.n_states, m.n_comparable, m.n_early) == (8, 3, 5, 1)
    assert m.rate == 0.6
    assert m.mismatch_seqs == (6, 6)


def test_no_quotes_no_states() -> None:
    data = hand_data()
    empty = MarketData(
        source="binance",
        symbol=SYM,
        days=[],
        trades=data.trades,
        book=data.book.slice(0, 0),
        quotes=data.quotes,
        quarantine=data.quarantine,
    )
    m = match_bbo(empty)
    assert m.n_states == 0
    assert m.classes["before_sync"] == 8 and m.n_comparable == 0 and m.rate == 1.0


# ----------------------------------------------------------------------------- real data

FILES = {
    "BTCUSDT-PERP": ("usdm", "btcusdt", ("20240808",)),
    "ETHUSDT-PERP": ("usdm", "ethusdt", ("20240808",)),
    "BTCUSDT": ("spot", "btcusdt", ("20240808", "20240809")),
    "ETHUSDT": ("spot", "ethusdt", ("20240808", "20240809")),
}
# Measured: equal, inside_diff, before_sync, after_end, early (comparable quotes that
# arrived before the diff that pins their state: spot depth@100ms always comes later).
MEASURED = {
    "BTCUSDT-PERP": (629, 65_427, 33, 0, 503),
    "ETHUSDT-PERP": (551, 53_409, 32, 0, 471),
    "BTCUSDT": (1_072, 72_101, 1, 0, 1_072),
    "ETHUSDT": (1_056, 57_696, 3, 3, 1_056),
}


@lru_cache(maxsize=4)
def _match(folder: str, symbol: str) -> BboMatch:
    market, sym, days = FILES[symbol]
    return match_bbo(read_binance([Path(folder) / market / f"{sym}_{d}.gz" for d in days]))


@pytest.mark.parametrize("symbol", sorted(FILES))
def test_real_top_of_book_equals_every_comparable_quote(binance_dir: Path, symbol: str) -> None:
    m = _match(str(binance_dir), symbol)
    equal, inside, before, after, early = MEASURED[symbol]
    assert m.rate >= 0.999
    assert m.classes == {
        "equal": equal,
        "mismatch_price": 0,
        "mismatch_size": 0,
        "inside_diff": inside,
        "before_sync": before,
        "after_end": after,
    }
    assert sum(m.classes[c] for c in BBO_CLASSES) == m.n_quotes
    assert m.n_early == early
    assert m.mismatch_seqs == ()
