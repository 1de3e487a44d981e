"""Feature inputs from merged trade + level-2 streams: book deltas become top-K frames.

The feature layer does not hold a book (``features`` and ``book`` are siblings); this
module runs :class:`~quantumtrader.book.OrderBook` over the book rows of merged
:class:`~quantumtrader.data.merge.EventChunk` s and hands the features one frame per venue
message (the deltas up to each ``F_LAST``), interleaved with the trades in replay order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from quantumtrader.book import OrderBook
from quantumtrader.data.merge import KIND_BOOK, KIND_TRADE, EventChunk
from quantumtrader.features.group import K_LEVELS
from quantumtrader.features.inputs import FeatureInput

__all__ = ["chunk_feature_input", "iter_feature_inputs"]

Array = np.ndarray[Any, Any]


def chunk_feature_input(chunk: EventChunk, book: OrderBook, k: int = K_LEVELS) -> FeatureInput:
    """Apply the chunk's book rows to ``book``; return its trades and message-end frames.

    Parameters
    ----------
    chunk
        Merged events of one symbol in replay order.
    book
        The symbol's book, carried from chunk to chunk.
    k
        Levels per side in each frame.

    Raises
    ------
    DataError
        If a book row is invalid (:meth:`OrderBook.apply_arrays`).
    """
    is_book = chunk.kind == KIND_BOOK
    rows = np.flatnonzero(is_book)
    out_row, frames = book.apply_frames(
        chunk.side[rows], chunk.action[rows], chunk.price[rows], chunk.size[rows],
        chunk.flags[rows], k,
    )  # fmt: skip
    brow = np.full(len(chunk), -1, dtype=np.int64)
    brow[rows] = out_row
    keep = (chunk.kind == KIND_TRADE) | (brow >= 0)
    n = int(np.count_nonzero(keep))
    none = np.full(n, -1, dtype=np.int64)
    trade = chunk.kind[keep] == KIND_TRADE
    return FeatureInput(
        kind=np.where(trade, 0, 1).astype(np.int8),
        ts=chunk.ts[keep],
        price=np.where(trade, chunk.price[keep], np.nan),
        qty=np.where(trade, chunk.size[keep], 0.0),
        side=np.where(trade, chunk.side[keep], 0).astype(np.int8),
        buyer=none,
        seller=none,
        brow=brow[keep],
        lv=frames,
    )


def iter_feature_inputs(
    chunks: Iterable[EventChunk], tick_size: float, symbol: str, k: int = K_LEVELS
) -> Iterator[FeatureInput]:
    """Feature inputs of ``symbol`` from a merged chunk stream (other symbols skipped).

    One :class:`OrderBook` is kept across chunks, so frames are exact at chunk borders.
    """
    book = OrderBook(symbol, tick_size)
    for chunk in chunks:
        if symbol not in chunk.symbols:
            continue
        own = chunk.sym == chunk.symbols.index(symbol)
        part = chunk if bool(own.all()) else chunk.take(np.flatnonzero(own))
        if len(part):
            yield chunk_feature_input(part, book, k)
