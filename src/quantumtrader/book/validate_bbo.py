"""Book check against venue quotes: the replayed top of book vs Binance ``bookTicker``.

:func:`match_bbo` replays the book deltas of a source message by message with
:class:`~quantumtrader.book.orderbook.OrderBook` and compares the best bid and ask with
every quote whose update id pins a book state that the diffs reveal.
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from quantumtrader.book.orderbook import OrderBook
from quantumtrader.model.book import F_LAST, BookSnapshot
from quantumtrader.model.instruments import spec_for

__all__ = ["BBO_CLASSES", "BboMatch", "MarketLike", "match_bbo"]

Array = npt.NDArray[Any]


class MarketLike(Protocol):
    """What the checks read of a :class:`~quantumtrader.data.market_day.MarketData`
    (``book`` cannot import ``data``: they are siblings on layer 3)."""

    @property
    def symbol(self) -> str: ...
    @property
    def book(self) -> pa.Table: ...
    @property
    def quotes(self) -> pa.Table: ...
    @property
    def seed(self) -> BookSnapshot | None: ...


BBO_CLASSES = (
    "equal",
    "mismatch_price",
    "mismatch_size",
    "inside_diff",
    "before_sync",
    "after_end",
)


class BboMatch(msgspec.Struct, frozen=True, kw_only=True):
    """How the replayed top of book compares with the venue's best bid/offer quotes.

    The book is replayed in ``seq`` order one venue message at a time (rows up to each
    ``F_LAST``); after each message the book is the venue's book at that message's update
    id ``u``. A quote (Binance ``bookTicker``, carrying its own ``u``) is **comparable**
    when some message ends exactly at the quote's ``u``: then every diff with
    ``u <= quote.u`` is applied and none beyond, whatever order the two streams arrived
    in. Every quote falls in exactly one class:

    ``equal``
        Comparable, and best bid and ask price and size all equal the quote.
    ``mismatch_price``
        Comparable, and a best price differs.
    ``mismatch_size``
        Comparable, prices equal, a best size differs.
    ``inside_diff``
        ``u`` lies strictly between the ids two consecutive messages end at: the quote
        shows the book in the middle of the next diff's ``[U, u]`` range, which the diffs
        never reveal (a diff aggregates every update in its range; futures ``@depth@0ms``
        and spot ``@depth@100ms`` diffs span many updates, so most quotes fall here).
        Book rows carry only ``u``, not the next diff's first id ``U``, so a quote with
        an id in a gap between two diffs would be counted here too; the 2024-08-08
        captures have none (checked against the raw ``U`` of every diff).
    ``before_sync``
        ``u`` is older than the first known book state (the REST snapshot).
    ``after_end``
        ``u`` is newer than the last diff applied (the depth stream ended first).

    Attributes
    ----------
    symbol
        Instrument.
    n_quotes, n_states
        Quotes classified; book states (messages) replayed.
    classes
        Count per class (keys :data:`BBO_CLASSES`); they sum to ``n_quotes``.
    n_early
        Comparable quotes that arrived before the depth message that produced their
        state (compared all the same: the state is pinned by the update id).
    mismatch_seqs
        ``seq`` of the first (at most 20) mismatching quotes, for inspection.
    """

    symbol: str
    n_quotes: int
    n_states: int
    classes: dict[str, int]
    n_early: int
    mismatch_seqs: tuple[int, ...]

    @property
    def n_comparable(self) -> int:
        """Quotes whose update id pins a replayed book state."""
        c = self.classes
        return c["equal"] + c["mismatch_price"] + c["mismatch_size"]

    @property
    def rate(self) -> float:
        """Fraction of comparable quotes equal to the replayed top of book."""
        n = self.n_comparable
        return self.classes["equal"] / n if n else 1.0


def _book_states(data: MarketLike, tick: float) -> tuple[Array, Array, Array]:
    """Replay ``data.book`` message by message: (update id, seq, top (n, 4)) per message.

    ``top`` columns: best bid tick, bid size, best ask tick, ask size (NO_BID / NO_ASK and
    0 for an empty side).
    """
    tb = data.book
    seq = tb.column("seq").to_numpy()
    order = np.argsort(seq, kind="stable")
    side = tb.column("side").to_numpy().astype(np.int64)[order]
    action = tb.column("action").to_numpy().astype(np.int64)[order]
    price = tb.column("price").to_numpy().astype(np.float64)[order]
    size = tb.column("size").to_numpy().astype(np.float64)[order]
    uid = tb.column("update_id").to_numpy()[order]
    seq = seq[order]
    ends = np.flatnonzero(tb.column("flags").to_numpy()[order] & F_LAST) + 1
    book = OrderBook(data.symbol, tick)
    top = np.zeros((len(ends), 4))
    start = 0
    for m, end in enumerate(ends.tolist()):
        book.apply_arrays(side[start:end], action[start:end], price[start:end], size[start:end])
        top[m] = (
            book.best_bid_tick(),
            book.best_bid_size(),
            book.best_ask_tick(),
            book.best_ask_size(),
        )
        start = end
    last = ends - 1
    return uid[last], seq[last], top


def match_bbo(data: MarketLike) -> BboMatch:
    """Compare the replayed top of book with every venue quote that a book state pins.

    Parameters
    ----------
    data
        A :class:`~quantumtrader.data.market_day.MarketData` with book deltas (``update_id``
        and ``F_LAST`` per venue message, e.g. from
        :func:`~quantumtrader.data.binance.read_binance`) and quotes with ``update_id``.

    Returns
    -------
    BboMatch
        Counts per class (see :class:`BboMatch`).

    References
    ----------
    Binance API documentation, "How to manage a local order book correctly" (diff and
    bookTicker update ids share one sequence per symbol).
    """
    tick = spec_for(data.symbol).tick_size
    uid, st_seq, top = _book_states(data, tick)
    # States by update id; for equal ids the later state wins (a re-applied straddling diff).
    order = np.argsort(uid, kind="stable")
    keys = uid[order]
    q = data.quotes
    q_u = q.column("update_id").to_numpy()
    q_seq = q.column("seq").to_numpy()
    quote = np.stack(
        [
            np.rint(q.column("bid_price").to_numpy() / tick),
            q.column("bid_size").to_numpy(),
            np.rint(q.column("ask_price").to_numpy() / tick),
            q.column("ask_size").to_numpy(),
        ],
        axis=1,
    )
    k = np.searchsorted(keys, q_u, side="right") - 1
    kk = np.maximum(k, 0)
    found = (k >= 0) & (keys[kk] == q_u) if len(keys) else np.zeros(len(q_u), dtype=bool)
    state = order[kk] if len(keys) else kk
    ours = top[state] if len(keys) else np.zeros_like(quote)
    price_bad = (ours[:, 0] != quote[:, 0]) | (ours[:, 2] != quote[:, 2])
    size_bad = (ours[:, 1] != quote[:, 1]) | (ours[:, 3] != quote[:, 3])
    before = k < 0
    after = ~found & ~before & (q_u > (keys[-1] if len(keys) else 0))
    cls = {
        "equal": found & ~price_bad & ~size_bad,
        "mismatch_price": found & price_bad,
        "mismatch_size": found & ~price_bad & size_bad,
        "inside_diff": ~found & ~before & ~after,
        "before_sync": ~found & before,
        "after_end": after,
    }
    bad = np.flatnonzero(cls["mismatch_price"] | cls["mismatch_size"])
    n_early = int(np.count_nonzero(found & (q_seq < st_seq[state]))) if len(keys) else 0
    return BboMatch(
        symbol=data.symbol,
        n_quotes=len(q_u),
        n_states=len(uid),
        classes={c: int(np.count_nonzero(cls[c])) for c in BBO_CLASSES},
        n_early=n_early,
        mismatch_seqs=tuple(int(s) for s in q_seq[bad[:20]]),
    )
