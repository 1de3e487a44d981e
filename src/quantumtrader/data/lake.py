"""The Parquet lake (DESIGN.md section 4).

Layout::

    root/kind=trades/symbol=DOLZ18/date=2018-11-05/part.parquet
    root/kind=trades/symbol=DOLZ18/date=2018-11-05/quarantine.parquet
    root/kind=book/symbol=BTCUSDT-PERP/date=2024-08-08/part.parquet
    root/kind=quotes/symbol=WDOU25/date=2025-08-11/part.parquet

``part.parquet`` holds one ``(kind, symbol, day)``: trades with
:data:`~quantumtrader.model.arrow.TRADE_SCHEMA`, book deltas with
:data:`~quantumtrader.model.book_arrow.BOOK_SCHEMA` or venue quotes with
:data:`~quantumtrader.model.book_arrow.QUOTE_SCHEMA`, rows sorted by
``(ts_event, seq)`` (the replay order; for one source this is its ``seq`` order).
``quarantine.parquet`` (always present, possibly empty) holds the rejected input lines
with :data:`~quantumtrader.data.quarantine.QUARANTINE_SCHEMA`. Writes are atomic per
file (temporary name in the same directory, then :func:`os.replace`) and a re-import
of a day replaces both files, so importing the same input twice yields identical bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from quantumtrader.core.errors import DataError
from quantumtrader.data.quarantine import QUARANTINE_SCHEMA, QuarantineRow, quarantine_table
from quantumtrader.model.arrow import TRADE_SCHEMA
from quantumtrader.model.book_arrow import BOOK_SCHEMA, QUOTE_SCHEMA

__all__ = ["DEFAULT_BATCH_ROWS", "KINDS", "SCHEMAS", "Lake", "PartitionInfo"]

logger = logging.getLogger(__name__)

KINDS = ("trades", "book", "quotes")
"""Partition kinds the lake knows: trades, level-2 book deltas, venue top-of-book quotes."""

SCHEMAS: dict[str, pa.Schema] = {
    "trades": TRADE_SCHEMA,
    "book": BOOK_SCHEMA,
    "quotes": QUOTE_SCHEMA,
}
"""Arrow schema of each partition kind."""

DEFAULT_BATCH_ROWS = 65_536
"""Rows per record batch of the ``iter_*_batches`` readers."""

PART_FILE = "part.parquet"
QUARANTINE_FILE = "quarantine.parquet"
# Letters, digits and '_', with single '-' between them (BTCUSDT-PERP): no '/', '.', spaces.
_SYMBOL = re.compile(r"^[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*$")
_DATE_DIR = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_ROW_GROUP = {"trades": 1 << 20, "book": 1 << 18, "quotes": 1 << 18}
_NAMES = {
    "trades": ("trade", "TRADE_SCHEMA"),
    "book": ("book", "BOOK_SCHEMA"),
    "quotes": ("quote", "QUOTE_SCHEMA"),
}
_SIDES = (-1, 0, 1)
_ACTIONS = (0, 1, 2, 3)


class PartitionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One stored partition.

    Attributes
    ----------
    kind, symbol, day
        Partition keys.
    rows
        Stored rows.
    quarantined
        Rows in the partition's quarantine file.
    path
        The ``part.parquet`` file.
    bytes
        Size of ``part.parquet`` on disk.
    """

    kind: str
    symbol: str
    day: dt.date
    rows: int
    quarantined: int
    path: Path
    bytes: int


def _atomic_write(table: pa.Table, final: Path, row_group_size: int = 1 << 20) -> Path:
    """Write ``table`` next to ``final`` under a temporary name; return that name."""
    tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex}")
    try:
        pq.write_table(table, tmp, compression="zstd", row_group_size=row_group_size)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return tmp


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise DataError(f"unknown partition kind {kind!r} (known: {', '.join(KINDS)})")


def _in_replay_order(table: pa.Table) -> pa.Table:
    """``table`` sorted by ``(ts_event, seq)`` (stable; a no-op when already sorted)."""
    if table.num_rows < 2:
        return table
    ts = table.column("ts_event").cast(pa.int64()).to_numpy()
    seq = table.column("seq").to_numpy()
    dts, dseq = np.diff(ts), np.diff(seq)
    if bool(np.all((dts > 0) | ((dts == 0) & (dseq >= 0)))):
        return table
    return table.take(pa.array(np.lexsort((seq, ts))))


def _conform(kind: str, symbol: str, day: dt.date, table: pa.Table) -> pa.Table:
    """Select and cast ``table`` to the kind's schema, check it, sort it for storage."""
    schema = SCHEMAS[kind]
    try:
        out = table.select(list(schema.names)).cast(schema)
    except (KeyError, ValueError, pa.ArrowInvalid) as exc:
        what, name = _NAMES[kind]
        raise DataError(f"{what} table does not match {name}: {exc}") from exc
    others = set(out.column("symbol").unique().to_pylist()) - {symbol}
    if others:
        raise DataError(f"partition {symbol} {day} given rows of {sorted(others)}")
    if kind == "book" and out.num_rows:
        side = out.column("side").to_numpy()
        action = out.column("action").to_numpy()
        if not bool(np.isin(side, _SIDES).all()):
            raise DataError(f"book partition {symbol} {day}: side outside {_SIDES}")
        if not bool(np.isin(action, _ACTIONS).all()):
            raise DataError(f"book partition {symbol} {day}: action outside {_ACTIONS}")
    return _in_replay_order(out)


class Lake:
    """Partitioned Parquet store rooted at ``root``.

    Parameters
    ----------
    root
        Directory of the lake (created on first write).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def partition_dir(self, symbol: str, day: dt.date, kind: str = "trades") -> Path:
        """Directory of one partition.

        Raises
        ------
        DataError
            If ``kind`` is unknown or ``symbol`` is not letters, digits, ``_`` and
            inner ``-`` (no ``/``, ``.`` or spaces).
        """
        _check_kind(kind)
        if not _SYMBOL.match(symbol):
            raise DataError(f"invalid symbol for a lake partition: {symbol!r}")
        return self.root / f"kind={kind}" / f"symbol={symbol}" / f"date={day.isoformat()}"

    # -- writing -----------------------------------------------------------------

    def _write(
        self,
        kind: str,
        symbol: str,
        day: dt.date,
        table: pa.Table,
        quarantine_rows: pa.Table | Iterable[QuarantineRow],
    ) -> PartitionInfo:
        pdir = self.partition_dir(symbol, day, kind)
        rows = _conform(kind, symbol, day, table)
        quarantine = quarantine_table(quarantine_rows)
        created = not pdir.exists()
        pdir.mkdir(parents=True, exist_ok=True)
        part, qfile = pdir / PART_FILE, pdir / QUARANTINE_FILE
        tmps: list[Path] = []
        try:
            tmps.append(_atomic_write(quarantine, qfile))
            tmps.append(_atomic_write(rows, part, _ROW_GROUP[kind]))
            os.replace(tmps[0], qfile)
            os.replace(tmps[1], part)
        except BaseException:
            for tmp in tmps:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            if created:
                with contextlib.suppress(OSError):
                    pdir.rmdir()
            raise
        logger.debug("wrote %s (%d rows, %d quarantined)", part, rows.num_rows, len(quarantine))
        return PartitionInfo(
            kind=kind,
            symbol=symbol,
            day=day,
            rows=rows.num_rows,
            quarantined=quarantine.num_rows,
            path=part,
            bytes=part.stat().st_size,
        )

    def write_trades(
        self,
        symbol: str,
        day: dt.date,
        table: pa.Table,
        quarantine_rows: pa.Table | Iterable[QuarantineRow] = (),
    ) -> PartitionInfo:
        """Store (or replace) the trades of one ``(symbol, day)`` atomically.

        Parameters
        ----------
        symbol, day
            Partition keys; every row of ``table`` must carry ``symbol``.
        table
            Trades with :data:`TRADE_SCHEMA` columns, shape ``(n, 15)``; stored sorted
            by ``(ts_event, seq)``.
        quarantine_rows
            Rejected lines of this day (table or structs); an empty file is written
            when there are none, replacing any earlier quarantine.

        Returns
        -------
        PartitionInfo

        Raises
        ------
        DataError
            If the table does not match the schema or holds another symbol.
        """
        return self._write("trades", symbol, day, table, quarantine_rows)

    def write_book(
        self,
        symbol: str,
        day: dt.date,
        table: pa.Table,
        quarantine_rows: pa.Table | Iterable[QuarantineRow] = (),
    ) -> PartitionInfo:
        """Store (or replace) the book deltas of one ``(symbol, day)`` atomically.

        Parameters
        ----------
        symbol, day
            Partition keys; every row of ``table`` must carry ``symbol``.
        table
            Deltas with :data:`BOOK_SCHEMA` columns, shape ``(n, 11)``; stored sorted
            by ``(ts_event, seq)``.
        quarantine_rows
            Rejected input rows of this day's book source (see :meth:`write_trades`).

        Returns
        -------
        PartitionInfo

        Raises
        ------
        DataError
            If the table does not match the schema, holds another symbol, or has a
            ``side``/``action`` outside the :class:`~quantumtrader.model.book.BookSide`
            and :class:`~quantumtrader.model.book.BookAction` values.
        """
        return self._write("book", symbol, day, table, quarantine_rows)

    def write_quotes(
        self,
        symbol: str,
        day: dt.date,
        table: pa.Table,
        quarantine_rows: pa.Table | Iterable[QuarantineRow] = (),
    ) -> PartitionInfo:
        """Store (or replace) the venue quotes of one ``(symbol, day)`` atomically.

        ``table`` has :data:`QUOTE_SCHEMA` columns, shape ``(n, 9)``; stored sorted by
        ``(ts_event, seq)``. Other parameters, returns and errors as :meth:`write_trades`.
        """
        return self._write("quotes", symbol, day, table, quarantine_rows)

    # -- reading -----------------------------------------------------------------

    def _missing(self, symbol: str, day: dt.date, kind: str = "trades") -> DataError:
        have = [f"{p.symbol} {p.day}" for p in self.partitions(kind)]
        listing = ", ".join(have[:10]) + (f" (+{len(have) - 10} more)" if len(have) > 10 else "")
        return DataError(
            f"no {kind} partition for {symbol} {day} in lake {self.root}; "
            f"available: {listing or 'none'}"
        )

    def _part(self, kind: str, symbol: str, day: dt.date) -> Path:
        part = self.partition_dir(symbol, day, kind) / PART_FILE
        if not part.is_file():
            raise self._missing(symbol, day, kind)
        return part

    def read_trades(self, symbol: str, day: dt.date) -> pa.Table:
        """Trades of one ``(symbol, day)`` with :data:`TRADE_SCHEMA`, in ``(ts_event, seq)`` order.

        Raises
        ------
        DataError
            If the partition does not exist (the message lists what does).
        """
        return pq.read_table(self._part("trades", symbol, day), schema=TRADE_SCHEMA)

    def read_book(self, symbol: str, day: dt.date) -> pa.Table:
        """Book deltas of one ``(symbol, day)``, :data:`BOOK_SCHEMA`, in ``(ts_event, seq)`` order.

        Raises
        ------
        DataError
            If the partition does not exist (the message lists what does).
        """
        return pq.read_table(self._part("book", symbol, day), schema=BOOK_SCHEMA)

    def read_quotes(self, symbol: str, day: dt.date) -> pa.Table:
        """Quotes of one ``(symbol, day)`` with :data:`QUOTE_SCHEMA`, in ``(ts_event, seq)`` order.

        Raises
        ------
        DataError
            If the partition does not exist (the message lists what does).
        """
        return pq.read_table(self._part("quotes", symbol, day), schema=QUOTE_SCHEMA)

    def iter_batches(
        self, kind: str, symbol: str, day: dt.date, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """Stream one partition as record batches in stored ``(ts_event, seq)`` order.

        Only one Parquet row group (at most 2**18 book/quote or 2**20 trade rows) is
        held in memory at a time.

        Parameters
        ----------
        kind
            One of :data:`KINDS`.
        symbol, day
            Partition keys.
        batch_rows
            Rows per batch (the last batch may be shorter), ``>= 1``.

        Yields
        ------
        pyarrow.RecordBatch
            With the kind's schema (:data:`SCHEMAS`).

        Raises
        ------
        DataError
            If the partition does not exist or ``batch_rows < 1``.
        """
        if batch_rows < 1:
            raise DataError(f"batch_rows must be >= 1, got {batch_rows}")
        part = self._part(kind, symbol, day)
        schema = SCHEMAS[kind]
        return _batches(part, schema, batch_rows)

    def iter_trade_batches(
        self, symbol: str, day: dt.date, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """Trades of one ``(symbol, day)`` as record batches; see :meth:`iter_batches`."""
        return self.iter_batches("trades", symbol, day, batch_rows)

    def iter_book_batches(
        self, symbol: str, day: dt.date, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """Book deltas of one ``(symbol, day)`` as record batches; see :meth:`iter_batches`."""
        return self.iter_batches("book", symbol, day, batch_rows)

    def iter_quote_batches(
        self, symbol: str, day: dt.date, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """Quotes of one ``(symbol, day)`` as record batches; see :meth:`iter_batches`."""
        return self.iter_batches("quotes", symbol, day, batch_rows)

    def quarantine(self, symbol: str, day: dt.date, kind: str = "trades") -> pa.Table:
        """Quarantined lines stored with one partition, with :data:`QUARANTINE_SCHEMA`.

        Raises
        ------
        DataError
            If the partition does not exist.
        """
        qfile = self._part(kind, symbol, day).parent / QUARANTINE_FILE
        if not qfile.is_file():
            return QUARANTINE_SCHEMA.empty_table()
        return pq.read_table(qfile, schema=QUARANTINE_SCHEMA)

    def partitions(self, kind: str = "trades") -> list[PartitionInfo]:
        """All complete partitions of ``kind``, sorted by ``(symbol, day)``.

        Raises
        ------
        DataError
            If ``kind`` is unknown.
        """
        _check_kind(kind)
        base = self.root / f"kind={kind}"
        out: list[PartitionInfo] = []
        if not base.is_dir():
            return out
        for sdir in sorted(base.glob("symbol=*")):
            symbol = sdir.name.removeprefix("symbol=")
            for ddir in sorted(sdir.iterdir()):
                m = _DATE_DIR.match(ddir.name)
                part = ddir / PART_FILE
                if m is None or not part.is_file():
                    continue
                qfile = ddir / QUARANTINE_FILE
                nq = pq.ParquetFile(qfile).metadata.num_rows if qfile.is_file() else 0
                out.append(
                    PartitionInfo(
                        kind=kind,
                        symbol=symbol,
                        day=dt.date.fromisoformat(m.group(1)),
                        rows=pq.ParquetFile(part).metadata.num_rows,
                        quarantined=nq,
                        path=part,
                        bytes=part.stat().st_size,
                    )
                )
        return out


def _batches(part: Path, schema: pa.Schema, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Record batches of ``part`` cast to ``schema`` (the file stays open while iterating)."""
    with pq.ParquetFile(part) as pf:
        for batch in pf.iter_batches(batch_size=batch_rows):
            yield batch if batch.schema.equals(schema) else batch.cast(schema)
