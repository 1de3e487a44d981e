"""The unit a parser yields: one instrument's trades and rejects for one trading day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

__all__ = ["DayBatch"]


@dataclass(frozen=True, slots=True)
class DayBatch:
    """Parsed content of one ``(symbol, day)`` from one source file.

    Attributes
    ----------
    symbol
        Contract code or continuous series as written in the file (``DOLZ18``).
    day
        Local (America/Sao_Paulo) trading date.
    table
        :data:`~quantumtrader.model.arrow.TRADE_SCHEMA` table, shape ``(n, 15)``,
        rows in ``seq`` order.
    quarantine
        :data:`~quantumtrader.data.quarantine.QUARANTINE_SCHEMA` table of the lines
        rejected while reading this day, sorted by line.
    source
        The file the batch came from, as given to the parser.
    """

    symbol: str
    day: dt.date
    table: pa.Table
    quarantine: pa.Table
    source: str = ""

    @property
    def rows_read(self) -> int:
        """Input lines attributed to this batch (``stored + quarantined``)."""
        return int(self.table.num_rows + self.quarantine.num_rows)

    @property
    def rows_quarantined(self) -> int:
        """Lines rejected."""
        return int(self.quarantine.num_rows)
