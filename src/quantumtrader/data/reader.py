"""Read a Profit export into per-day batches, without a lake (used by the backtest)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from quantumtrader.data._lines import DEFAULT_CHUNK_BYTES
from quantumtrader.data.batch import DayBatch
from quantumtrader.data.detect import detect_format
from quantumtrader.data.profit_a import read_profit_a
from quantumtrader.data.profit_b_stream import iter_profit_b

__all__ = ["iter_days", "read_days"]


def iter_days(
    path: Path,
    *,
    tolerance_minutes: int = 60,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[DayBatch]:
    """Parse a Profit trades export (format auto-detected) one trading day at a time.

    Parameters
    ----------
    path
        Format A or B file.
    tolerance_minutes
        Minutes a print may fall outside the instrument's trading hours before it is
        quarantined.
    chunk_bytes
        Streaming chunk size for format B (format A files are one day and read whole).
    on_bytes
        Progress callback, called with the number of bytes consumed since the last call.

    Yields
    ------
    DayBatch
        One per ``(symbol, day)``: trades in execution (``seq``) order and the rejected
        lines. ``rows_read == trades.num_rows + quarantine.num_rows``.

    Raises
    ------
    DataError
        If the file is missing, unreadable, in no known format, has no valid row, or
        its instrument root is unknown (one line naming the file).

    Examples
    --------
    >>> for batch in iter_days(Path("DOLZ18_Trade_05-11-2018.csv")):  # doctest: +SKIP
    ...     print(batch.symbol, batch.day, batch.table.num_rows)
    DOLZ18 2018-11-05 31259
    """
    path = Path(path)
    fmt = detect_format(path)
    if fmt == "A":
        batches = read_profit_a(path, tolerance_minutes=tolerance_minutes)
        if on_bytes is not None:
            on_bytes(path.stat().st_size)
        yield from batches
    else:
        yield from iter_profit_b(
            path, tolerance_minutes=tolerance_minutes, chunk_bytes=chunk_bytes, on_bytes=on_bytes
        )


def read_days(path: Path, *, tolerance_minutes: int = 60) -> list[DayBatch]:
    """All batches of a file at once (convenience over :func:`iter_days`; small files)."""
    return list(iter_days(path, tolerance_minutes=tolerance_minutes))
