"""The Parquet lake (DESIGN.md section 4).

Layout::

    root/kind=trades/symbol=DOLZ18/date=2018-11-05/part.parquet
    root/kind=trades/symbol=DOLZ18/date=2018-11-05/quarantine.parquet

``part.parquet`` holds one ``(symbol, day)`` with
:data:`~quantumtrader.model.arrow.TRADE_SCHEMA`, rows in ``seq`` order;
``quarantine.parquet`` (always present, possibly empty) the rejected input lines with
:data:`~quantumtrader.data.quarantine.QUARANTINE_SCHEMA`. Writes are atomic per file
(temporary name in the same directory, then :func:`os.replace`) and a re-import of a
day replaces both files, so importing the same input twice yields identical bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from quantumtrader.core.errors import DataError
from quantumtrader.data.quarantine import QUARANTINE_SCHEMA, QuarantineRow, quarantine_table
from quantumtrader.model.arrow import TRADE_SCHEMA

__all__ = ["KINDS", "Lake", "PartitionInfo"]

logger = logging.getLogger(__name__)

KINDS = ("trades", "book")
"""Partition kinds the lake knows (``book`` is reserved for level-2 data)."""

PART_FILE = "part.parquet"
QUARANTINE_FILE = "quarantine.parquet"
_SYMBOL = re.compile(r"^[A-Za-z0-9_]+$")
_DATE_DIR = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")


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


def _atomic_write(table: pa.Table, final: Path) -> Path:
    """Write ``table`` next to ``final`` under a temporary name; return that name."""
    tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex}")
    try:
        pq.write_table(table, tmp, compression="zstd", row_group_size=1 << 20)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return tmp


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
            If ``kind`` is unknown or ``symbol`` is not alphanumeric.
        """
        if kind not in KINDS:
            raise DataError(f"unknown partition kind {kind!r} (known: {', '.join(KINDS)})")
        if not _SYMBOL.match(symbol):
            raise DataError(f"invalid symbol for a lake partition: {symbol!r}")
        return self.root / f"kind={kind}" / f"symbol={symbol}" / f"date={day.isoformat()}"

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
            Trades with :data:`TRADE_SCHEMA` columns, in ``seq`` order, shape ``(n, 15)``.
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
        try:
            trades = table.select(list(TRADE_SCHEMA.names)).cast(TRADE_SCHEMA)
        except (KeyError, ValueError, pa.ArrowInvalid) as exc:
            raise DataError(f"trade table does not match TRADE_SCHEMA: {exc}") from exc
        others = set(trades.column("symbol").unique().to_pylist()) - {symbol}
        if others:
            raise DataError(f"partition {symbol} {day} given rows of {sorted(others)}")
        quarantine = quarantine_table(quarantine_rows)
        pdir = self.partition_dir(symbol, day)
        created = not pdir.exists()
        pdir.mkdir(parents=True, exist_ok=True)
        part, qfile = pdir / PART_FILE, pdir / QUARANTINE_FILE
        tmps: list[Path] = []
        try:
            tmps.append(_atomic_write(quarantine, qfile))
            tmps.append(_atomic_write(trades, part))
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
        logger.debug("wrote %s (%d rows, %d quarantined)", part, trades.num_rows, len(quarantine))
        return PartitionInfo(
            kind="trades",
            symbol=symbol,
            day=day,
            rows=trades.num_rows,
            quarantined=quarantine.num_rows,
            path=part,
            bytes=part.stat().st_size,
        )

    def _missing(self, symbol: str, day: dt.date) -> DataError:
        have = [f"{p.symbol} {p.day}" for p in self.partitions("trades")]
        listing = ", ".join(have[:10]) + (f" (+{len(have) - 10} more)" if len(have) > 10 else "")
        return DataError(
            f"no trades partition for {symbol} {day} in lake {self.root}; "
            f"available: {listing or 'none'}"
        )

    def read_trades(self, symbol: str, day: dt.date) -> pa.Table:
        """Trades of one ``(symbol, day)`` with :data:`TRADE_SCHEMA`, in ``seq`` order.

        Raises
        ------
        DataError
            If the partition does not exist (the message lists what does).
        """
        part = self.partition_dir(symbol, day) / PART_FILE
        if not part.is_file():
            raise self._missing(symbol, day)
        return pq.read_table(part, schema=TRADE_SCHEMA)

    def quarantine(self, symbol: str, day: dt.date) -> pa.Table:
        """Quarantined lines of one ``(symbol, day)`` with :data:`QUARANTINE_SCHEMA`.

        Raises
        ------
        DataError
            If the partition does not exist.
        """
        pdir = self.partition_dir(symbol, day)
        if not (pdir / PART_FILE).is_file():
            raise self._missing(symbol, day)
        qfile = pdir / QUARANTINE_FILE
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
        if kind not in KINDS:
            raise DataError(f"unknown partition kind {kind!r} (known: {', '.join(KINDS)})")
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
