"""Import Profit exports into the lake, with a per-day account of every input line."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from quantumtrader.core.errors import DataError
from quantumtrader.data.detect import detect_format
from quantumtrader.data.lake import Lake
from quantumtrader.data.reader import iter_days

__all__ = ["ImportReport", "ImportRow", "import_files"]

logger = logging.getLogger(__name__)


class ImportRow(msgspec.Struct, frozen=True, kw_only=True):
    """Outcome for one ``(file, symbol, day)``: ``read == stored + quarantined``."""

    file: str
    symbol: str
    day: dt.date
    read: int
    stored: int
    quarantined: int


class ImportReport(msgspec.Struct, frozen=True, kw_only=True):
    """What an import did, per ``(file, symbol, day)`` and in total."""

    rows: tuple[ImportRow, ...]

    @property
    def read(self) -> int:
        """Input lines read (header lines excluded)."""
        return sum(r.read for r in self.rows)

    @property
    def stored(self) -> int:
        """Trades written to the lake."""
        return sum(r.stored for r in self.rows)

    @property
    def quarantined(self) -> int:
        """Lines written to quarantine files."""
        return sum(r.quarantined for r in self.rows)

    @property
    def files(self) -> tuple[str, ...]:
        """Distinct source files, in import order."""
        return tuple(dict.fromkeys(r.file for r in self.rows))


def import_files(
    paths: Sequence[Path],
    lake: Lake,
    *,
    progress: Callable[[int, int], None] | None = None,
    tolerance_minutes: int = 60,
) -> ImportReport:
    """Parse Profit exports (format auto-detected) and store them in ``lake``.

    Each ``(symbol, day)`` found replaces that partition (idempotent re-import).
    Files are checked up front, so a missing or foreign file fails before anything is
    written.

    Parameters
    ----------
    paths
        Format A or B files.
    lake
        Destination.
    progress
        Called as ``progress(bytes_done, bytes_total)`` over all files.
    tolerance_minutes
        Minutes a print may fall outside the instrument's trading hours.

    Returns
    -------
    ImportReport

    Raises
    ------
    DataError
        One line naming the file: missing, unreadable, undetectable format, no valid
        row, or unknown instrument root.
    """
    files = [Path(p).resolve() for p in paths]
    sizes: list[int] = []
    for f in files:
        detect_format(f)
        sizes.append(f.stat().st_size)
    total = sum(sizes)
    done = 0

    def on_bytes(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(done, total), total)

    rows: list[ImportRow] = []
    for f, size in zip(files, sizes, strict=True):
        start = done
        for batch in iter_days(f, tolerance_minutes=tolerance_minutes, on_bytes=on_bytes):
            info = lake.write_trades(batch.symbol, batch.day, batch.table, batch.quarantine)
            row = ImportRow(
                file=str(f),
                symbol=batch.symbol,
                day=batch.day,
                read=batch.rows_read,
                stored=info.rows,
                quarantined=info.quarantined,
            )
            if row.read != row.stored + row.quarantined:
                raise DataError(f"internal accounting mismatch for {row}", path=str(f))
            rows.append(row)
        if done != start + size:  # the file changed size while read, or was empty
            on_bytes(start + size - done)
        logger.info("imported %s", f)
    return ImportReport(rows=tuple(rows))
