"""Layer 3 data: Profit trade parsers, the Parquet lake, quarantine and import.

Imports only :mod:`quantumtrader.core` and :mod:`quantumtrader.model`.
"""

from quantumtrader.data.batch import DayBatch
from quantumtrader.data.detect import ProfitFormat, detect_format
from quantumtrader.data.importer import ImportReport, ImportRow, import_files
from quantumtrader.data.lake import KINDS, Lake, PartitionInfo
from quantumtrader.data.profit_a import A_FIELDS, read_profit_a
from quantumtrader.data.profit_b import B_FIELDS, B_HEADER, is_b_header
from quantumtrader.data.profit_b_stream import iter_profit_b
from quantumtrader.data.profit_b_writer import write_profit_b
from quantumtrader.data.quarantine import (
    QUARANTINE_SCHEMA,
    QuarantineRow,
    empty_quarantine,
    quarantine_rows,
    quarantine_table,
)
from quantumtrader.data.reader import iter_days, read_days

__all__ = [
    "A_FIELDS",
    "B_FIELDS",
    "B_HEADER",
    "KINDS",
    "QUARANTINE_SCHEMA",
    "DayBatch",
    "ImportReport",
    "ImportRow",
    "Lake",
    "PartitionInfo",
    "ProfitFormat",
    "QuarantineRow",
    "detect_format",
    "empty_quarantine",
    "import_files",
    "is_b_header",
    "iter_days",
    "iter_profit_b",
    "quarantine_rows",
    "quarantine_table",
    "read_days",
    "read_profit_a",
    "write_profit_b",
]
