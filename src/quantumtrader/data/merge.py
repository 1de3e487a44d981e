"""Merge trades and book deltas of one or many symbols into one ``(ts_event, seq)`` stream.

The replay consumes :class:`EventChunk` s: columnar slices of the merged stream (a few
tens of thousands of events each), so a day, or many days, is never loaded at once.
Each input stream (one kind of one symbol) must already be in ``(ts_event, seq)``
order, which is how readers and the lake store them. Streams are merged with a
cut-off rule: at every step all buffered rows up to the smallest *last* key among the
streams' buffers are emitted, sorted by ``(ts_event, seq, stream)``; the stream that
held that key is then refilled. Ties between streams (equal time and sequence, which
only happens across sources or symbols) go to the stream listed first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from quantumtrader.core.errors import DataError
from quantumtrader.data.lake import PART_FILE, Lake

__all__ = [
    "KIND_BOOK",
    "KIND_TRADE",
    "EventChunk",
    "chunks_from_table",
    "iter_lake_events",
    "merge_streams",
]

Array = np.ndarray[Any, Any]
KIND_TRADE = 0
KIND_BOOK = 1
_COLS = ("kind", "sym", "ts", "seq", "price", "size", "side", "action", "flags")
_DTYPES = {
    "kind": np.int8,
    "sym": np.int16,
    "ts": np.int64,
    "seq": np.int64,
    "price": np.float64,
    "size": np.float64,
    "side": np.int8,
    "action": np.int8,
    "flags": np.int16,
}


class EventChunk:
    """A columnar slice of the merged event stream, shape ``(n,)`` per column.

    Attributes
    ----------
    symbols
        Symbol names; ``sym`` indexes them.
    kind
        :data:`KIND_TRADE` or :data:`KIND_BOOK`.
    ts, seq
        ``ts_event`` (int64 ns UTC) and the source's sequence.
    price, size
        Points; trade quantity or book size (signed change for ``CHANGE`` deltas).
    side
        Trade aggressor (+1/-1/0) or book side (+1 bid, -1 ask, 0 both).
    action
        Trade kind for trades, :class:`~quantumtrader.model.book.BookAction` for deltas.
    flags
        Book delta flags (0 for trades).
    """

    __slots__ = ("action", "flags", "kind", "price", "seq", "side", "size", "sym", "symbols", "ts")
    symbols: tuple[str, ...]
    kind: Array
    sym: Array
    ts: Array
    seq: Array
    price: Array
    size: Array
    side: Array
    action: Array
    flags: Array

    def __init__(self, symbols: tuple[str, ...], cols: dict[str, Array]) -> None:
        self.symbols = symbols
        n = len(cols["ts"])
        for name in _COLS:
            arr = np.ascontiguousarray(cols[name], dtype=_DTYPES[name])
            if arr.shape != (n,):
                raise ValueError(f"column {name} has shape {arr.shape}, expected ({n},)")
            setattr(self, name, arr)

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def columns(self) -> dict[str, Array]:
        """The columns by name."""
        return {name: getattr(self, name) for name in _COLS}

    def take(self, idx: Array | slice) -> EventChunk:
        """Rows ``idx`` as a new chunk."""
        return EventChunk(self.symbols, {k: v[idx] for k, v in self.columns().items()})


def _from_batch(
    batch: pa.RecordBatch | pa.Table, kind: int, sym: int, symbols: tuple[str, ...]
) -> EventChunk:
    n = batch.num_rows

    def col(name: str) -> Array:
        c = batch.column(name)
        if pa.types.is_timestamp(c.type):
            c = c.cast(pa.int64())
        return np.asarray(c.to_numpy(zero_copy_only=False))

    if kind == KIND_TRADE:
        cols = {
            "size": col("qty"),
            "side": col("aggressor"),
            "action": col("trade_kind"),
            "flags": np.zeros(n, dtype=np.int16),
        }
    else:
        cols = {
            "size": col("size"),
            "side": col("side"),
            "action": col("action"),
            "flags": col("flags"),
        }
    cols.update(
        kind=np.full(n, kind, dtype=np.int8),
        sym=np.full(n, sym, dtype=np.int16),
        ts=col("ts_event"),
        seq=col("seq"),
        price=col("price"),
    )
    return EventChunk(symbols, cols)


def chunks_from_table(
    table: pa.Table,
    kind: int,
    symbol: str,
    symbols: tuple[str, ...] | None = None,
    batch_rows: int = 65_536,
) -> Iterator[EventChunk]:
    """Slice an in-memory trade or book table into chunks (already in ``(ts, seq)`` order).

    Parameters
    ----------
    table
        Rows with :data:`~quantumtrader.model.arrow.TRADE_SCHEMA` (``kind=KIND_TRADE``)
        or :data:`~quantumtrader.model.book_arrow.BOOK_SCHEMA` (``kind=KIND_BOOK``).
    symbol, symbols
        The rows' symbol and the symbol tuple chunks index (default ``(symbol,)``).
    batch_rows
        Rows per chunk.
    """
    syms = symbols or (symbol,)
    sym = syms.index(symbol)
    for batch in table.to_batches(max_chunksize=batch_rows):
        if batch.num_rows:
            yield _from_batch(batch, kind, sym, syms)


def _concat(parts: list[EventChunk]) -> EventChunk:
    return EventChunk(
        parts[0].symbols,
        {name: np.concatenate([getattr(p, name) for p in parts]) for name in _COLS},
    )


def _prefix(chunk: EventChunk, cut_ts: int, cut_seq: int) -> int:
    """Number of leading rows with ``(ts, seq) <= (cut_ts, cut_seq)``."""
    lo = int(np.searchsorted(chunk.ts, cut_ts, side="left"))
    hi = int(np.searchsorted(chunk.ts, cut_ts, side="right"))
    return lo + int(np.searchsorted(chunk.seq[lo:hi], cut_seq, side="right"))


def merge_streams(streams: Sequence[Iterable[EventChunk]]) -> Iterator[EventChunk]:
    """Merge ordered chunk streams into one ordered stream of chunks.

    Parameters
    ----------
    streams
        Each yields chunks in ``(ts, seq)`` order; all share one ``symbols`` tuple.

    Yields
    ------
    EventChunk
        Non-empty chunks; concatenated they are all input rows sorted by
        ``(ts, seq, stream index)``.

    Raises
    ------
    DataError
        If a stream goes back in time.
    """
    its = [iter(s) for s in streams]
    bufs: list[EventChunk | None] = [None] * len(its)
    last: list[tuple[int, int] | None] = [None] * len(its)

    def refill(k: int) -> None:
        for chunk in its[k]:
            if len(chunk) == 0:
                continue
            first = (int(chunk.ts[0]), int(chunk.seq[0]))
            prev = last[k]
            if prev is not None and first < prev:
                raise DataError(f"event stream {k} goes back in time at ts={first[0]}")
            bufs[k] = chunk
            return
        bufs[k] = None

    for k in range(len(its)):
        refill(k)
    while True:
        live = [k for k in range(len(its)) if bufs[k] is not None]
        if not live:
            return
        ends = {k: (int(bufs[k].ts[-1]), int(bufs[k].seq[-1])) for k in live}  # type: ignore[union-attr]
        cut = min(ends.values())
        parts: list[EventChunk] = []
        owners: list[Array] = []
        for k in live:
            buf = bufs[k]
            if buf is None:
                continue
            m = _prefix(buf, *cut)
            if m == 0:
                continue
            parts.append(buf.take(slice(0, m)))
            owners.append(np.full(m, k, dtype=np.int32))
            last[k] = (int(buf.ts[m - 1]), int(buf.seq[m - 1]))
            if m == len(buf):
                refill(k)
            else:
                bufs[k] = buf.take(slice(m, None))
        if len(parts) == 1:
            yield parts[0]
            continue
        merged = _concat(parts)
        order = np.lexsort((np.concatenate(owners), merged.seq, merged.ts))
        yield merged.take(order)


def _partition_batches(
    lake: Lake, kind_name: str, symbol: str, day: dt.date, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    part = lake.partition_dir(symbol, day, kind_name) / PART_FILE
    if not part.is_file():
        return
    pf = pq.ParquetFile(part)
    yield from pf.iter_batches(batch_size=batch_rows)


def _partition_chunks(
    lake: Lake, kind_name: str, sym: int, syms: tuple[str, ...], *, day: dt.date, batch_rows: int
) -> Iterator[EventChunk]:
    kind = KIND_TRADE if kind_name == "trades" else KIND_BOOK
    for batch in _partition_batches(lake, kind_name, syms[sym], day, batch_rows):
        if batch.num_rows:
            yield _from_batch(batch, kind, sym, syms)


def iter_lake_events(
    lake: Lake,
    symbols: Sequence[str],
    days: Sequence[dt.date],
    *,
    kinds: Sequence[str] = ("trades", "book"),
    batch_rows: int = 65_536,
) -> Iterator[EventChunk]:
    """Stream the merged trades and book deltas of ``symbols`` over ``days`` from a lake.

    Days are replayed in order (partitions of different days do not overlap in time);
    within a day the ``(symbol, kind)`` partitions are merged by ``(ts_event, seq)``,
    reading ``batch_rows`` rows at a time from each, so memory stays bounded.

    Raises
    ------
    DataError
        If no partition exists for any requested symbol, day and kind.
    """
    syms = tuple(symbols)
    have = {
        (day, s, kind_name)
        for day in days
        for s, symbol in enumerate(syms)
        for kind_name in kinds
        if (lake.partition_dir(symbol, day, kind_name) / PART_FILE).is_file()
    }
    if not have:
        raise DataError(
            f"lake {lake.root} has no {'/'.join(kinds)} partitions for "
            f"{', '.join(syms)} on {', '.join(d.isoformat() for d in days)}"
        )
    for day in sorted(days):
        streams: list[Iterator[EventChunk]] = []
        for s in range(len(syms)):
            for kind_name in kinds:
                if (day, s, kind_name) not in have:
                    continue
                streams.append(
                    _partition_chunks(lake, kind_name, s, syms, day=day, batch_rows=batch_rows)
                )
        yield from merge_streams(streams)
