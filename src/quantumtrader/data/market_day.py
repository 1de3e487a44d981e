"""The common result of every order-book source reader.

Each reader (LOBSTER, Binance, Sierra Chart, B3 level 1, ProfitDLL recordings) turns its
files into one :class:`MarketData`: trades with :data:`~quantumtrader.model.arrow.TRADE_SCHEMA`,
book deltas with :data:`~quantumtrader.model.book_arrow.BOOK_SCHEMA`, venue quotes with
:data:`~quantumtrader.model.book_arrow.QUOTE_SCHEMA`, and the rows it could not accept.
Trades and deltas of one source share one ``seq`` counter, so ``(ts_event, seq)`` is the
venue's order.
"""

from __future__ import annotations

import datetime as dt

import msgspec
import pyarrow as pa

from quantumtrader.model.book import BookSnapshot

__all__ = ["MarketData"]


class MarketData(msgspec.Struct, kw_only=True):
    """Trades, book deltas and quotes read from one source for one symbol.

    Attributes
    ----------
    source
        Reader name: ``lobster``, ``binance``, ``sierra``, ``b3_l1``, ``profitdll``.
    symbol
        Instrument, as :func:`~quantumtrader.model.instruments.spec_for` knows it.
    days
        UTC dates (B3: São Paulo dates) covered, ascending.
    trades, book, quotes
        Arrow tables (possibly empty, never ``None``) with the model schemas.
    quarantine
        Rejected rows with :data:`~quantumtrader.data.quarantine.QUARANTINE_SCHEMA`.
    seed
        Book before the first delta when the source starts from a known state that is
        not itself in ``book`` (LOBSTER's pre-market book), else ``None``.
    rows_read
        Input rows (lines or messages) read; ``rows_read`` equals the rows turned into
        events plus quarantined rows plus ``rows_skipped``.
    rows_skipped
        Rows deliberately not turned into events, with the reason in ``notes``
        (for example Binance diffs older than the REST snapshot).
    notes
        Human-readable facts about the read (mismatch classes, skipped rows).
    """

    source: str
    symbol: str
    days: list[dt.date]
    trades: pa.Table
    book: pa.Table
    quotes: pa.Table
    quarantine: pa.Table
    seed: BookSnapshot | None = None
    rows_read: int = 0
    rows_skipped: int = 0
    notes: list[str] = msgspec.field(default_factory=list)
