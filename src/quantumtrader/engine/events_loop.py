"""The replay loop over a merged trade + order-book event stream.

Events arrive as :class:`~quantumtrader.data.merge.EventChunk` s in ``(ts_event, seq)``
order. The loop cuts each chunk at the agents' timer instants. A segment between two
timers is processed in bulk, inside compiled kernels, when nothing can fill (the
engine's symbol is flat and has no working or in-flight order): book deltas go to the
broker's order book in one call and trades to the feature set in one call. Otherwise
every event is handed to the broker one by one, exactly as in the trade replay, so
fills, queue positions and latencies are simulated event by event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from quantumtrader.core.errors import DataError
from quantumtrader.data.merge import KIND_BOOK, KIND_TRADE, EventChunk
from quantumtrader.engine.result import TRADES_FILL_NOTE, ReplayResult
from quantumtrader.engine.session import ReplaySession
from quantumtrader.model.book import BookAction, BookDelta, BookSide
from quantumtrader.model.events import Aggressor, Trade, TradeKind

if TYPE_CHECKING:
    from quantumtrader.engine.replay import ReplayEngine

__all__ = ["run_events"]

Array = np.ndarray[Any, Any]


class _Loop:
    def __init__(self, engine: ReplayEngine) -> None:
        self.e = engine
        broker = engine.broker
        self.on_book: Callable[[BookDelta], Any] | None = getattr(broker, "on_book", None)
        self.on_book_arrays: Callable[..., Any] | None = getattr(broker, "on_book_arrays", None)
        self.book_of: Callable[[str], Any] | None = getattr(broker, "book", None)
        self.n_book = 0
        self.bulk_events = 0
        empty = np.zeros(0, dtype=bool)
        self.is_book: Array = empty
        self.mine_trade: Array = empty
        self.cum_book: Array = np.zeros(1, dtype=np.int64)
        self.cum_mine_book: Array = self.cum_book
        self.cum_mine_trade: Array = self.cum_book
        self.single = True

    def start_chunk(self, c: EventChunk, me: int) -> None:
        """Per-chunk masks and running counts, so each segment costs O(1) to classify."""
        self.is_book = c.kind == KIND_BOOK
        self.mine_trade = (~self.is_book) & (c.sym == me)
        zero = np.zeros(1, dtype=np.int64)
        self.cum_book = np.concatenate([zero, np.cumsum(self.is_book)])
        self.cum_mine_book = np.concatenate([zero, np.cumsum(self.is_book & (c.sym == me))])
        self.cum_mine_trade = np.concatenate([zero, np.cumsum(self.mine_trade)])
        self.single = len(c.symbols) == 1

    def segment(self, run: ReplaySession, c: EventChunk, i: int, j: int, me: int) -> None:
        """Process events ``i..j`` of ``c`` (no timer falls between them)."""
        n_book = int(self.cum_book[j] - self.cum_book[i])
        self.n_book += n_book
        if self.cum_mine_book[j] > self.cum_mine_book[i]:
            run.book_changed()
        if run.idle() and (self.on_book_arrays is not None or n_book == 0):
            self._bulk(run, c, i, j, me=me, n_book=n_book)
        else:
            self._one_by_one(run, c, i, j, me)
        if run.book is None and self.book_of is not None:
            run.book = self.book_of(self.e.symbol)

    def _bulk(
        self, run: ReplaySession, c: EventChunk, i: int, j: int, *, me: int, n_book: int
    ) -> None:
        self.bulk_events += j - i
        n_mine = int(self.cum_mine_trade[j] - self.cum_mine_trade[i])
        if self.on_book_arrays is not None and n_book:
            if n_book == j - i and self.single:  # only book rows of one symbol: plain views
                self.on_book_arrays(
                    c.symbols[0], c.side[i:j], c.action[i:j], c.price[i:j], c.size[i:j],
                    c.flags[i:j],
                )  # fmt: skip
            else:
                is_book = self.is_book[i:j]
                sym = c.sym[i:j]
                for s in np.unique(sym[is_book]).tolist():
                    m = is_book & (sym == s)
                    self.on_book_arrays(
                        c.symbols[s],
                        c.side[i:j][m],
                        c.action[i:j][m],
                        c.price[i:j][m],
                        c.size[i:j][m],
                        c.flags[i:j][m],
                    )
        if n_mine:
            mine = self.mine_trade[i:j]
            ts = c.ts[i:j][mine]
            price = c.price[i:j][mine]
            self.e.features.update_trades(ts, price, c.size[i:j][mine], c.side[i:j][mine])
            run.mark(int(ts[-1]), float(price[-1]))

    def _one_by_one(self, run: ReplaySession, c: EventChunk, i: int, j: int, me: int) -> None:
        broker = self.e.broker
        symbols = c.symbols
        for k in range(i, j):
            t = int(c.ts[k])
            s = int(c.sym[k])
            if c.kind[k] == KIND_TRADE:
                if s == me:
                    run.trade(
                        t,
                        float(c.price[k]),
                        int(c.size[k]),
                        int(c.side[k]),
                        int(c.action[k]),
                        seq=int(c.seq[k]),
                    )
                else:
                    trade = Trade(
                        ts_event=t,
                        ts_init=t,
                        symbol=symbols[s],
                        price=float(c.price[k]),
                        qty=int(c.size[k]),
                        aggressor=Aggressor(int(c.side[k])),
                        trade_kind=TradeKind(int(c.action[k])),
                        seq=int(c.seq[k]),
                    )
                    run.on_fills(broker.on_trade(trade))
            elif self.on_book is not None:
                delta = BookDelta(
                    ts_event=t,
                    ts_init=t,
                    symbol=symbols[s],
                    side=BookSide(int(c.side[k])),
                    action=BookAction(int(c.action[k])),
                    price=float(c.price[k]),
                    size=float(c.size[k]),
                    seq=int(c.seq[k]),
                    flags=int(c.flags[k]),
                )
                run.on_fills(self.on_book(delta))


def run_events(
    engine: ReplayEngine,
    chunks: Iterable[EventChunk],
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> ReplayResult:
    """Replay a merged event stream through ``engine`` (see the module docstring).

    Parameters
    ----------
    engine
        The engine (its symbol is the one the agents trade; other symbols' events only
        reach the broker).
    chunks
        :class:`EventChunk` s in ``(ts_event, seq)`` order.
    progress
        Optional ``(done, total)`` callback after each chunk.
    total
        Expected number of events, for the progress callback (0 if unknown).

    Returns
    -------
    ReplayResult
        With ``book_events`` and the broker's fill model.

    Raises
    ------
    DataError
        If the stream is empty, has no trade of the engine's symbol, or goes back in time.
    """
    loop = _Loop(engine)
    run: ReplaySession | None = None
    n = 0
    last_ts = 0
    n_mine = 0
    for chunk in chunks:
        m = len(chunk)
        if m == 0:
            continue
        ts = chunk.ts
        if (m > 1 and bool(np.any(ts[1:] < ts[:-1]))) or int(ts[0]) < last_ts:
            raise DataError(f"event stream goes back in time near ts={int(ts[0])}")
        if run is None:
            run = engine.session(int(ts[0]))
        me = chunk.symbols.index(engine.symbol) if engine.symbol in chunk.symbols else -1
        loop.start_chunk(chunk, me)
        n_mine += int(loop.cum_mine_trade[-1])
        i = 0
        while i < m:
            cut = run.next_timer() - run.feed_latency_ns
            j = int(np.searchsorted(ts, cut, side="right"))
            if j > i:
                loop.segment(run, chunk, i, j, me)
                i = j
            if i < m:
                run.fire_due(int(ts[i]))
        n += m
        last_ts = int(ts[-1])
        if progress is not None:
            progress(n, max(total, n))
    if run is None:
        raise DataError(f"no events to replay for {engine.symbol}")
    if n_mine == 0:
        raise DataError(
            f"the event stream has no trade of {engine.symbol}: a backtest needs trades "
            "(this data holds only order-book events)"
        )
    fill_model = "trades"
    note = TRADES_FILL_NOTE
    fm = getattr(engine.broker, "fill_model", None)
    if callable(fm):
        fill_model = str(fm(engine.symbol))
        note = str(getattr(engine.broker, "fill_model_note", note))
    return run.finish(
        last_ts, n, book_events=loop.n_book, fill_model=fill_model, fill_model_note=note
    )
