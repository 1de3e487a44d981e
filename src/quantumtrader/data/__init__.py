"""Layer 3 data: Profit trade parsers, order-book source readers, the Parquet lake, import.

Imports only :mod:`quantumtrader.core` and :mod:`quantumtrader.model`.
"""

from quantumtrader.data.b3_l1 import read_b3_l1
from quantumtrader.data.batch import DayBatch
from quantumtrader.data.binance import BinanceMarket, read_binance
from quantumtrader.data.book_import import (
    BOOK_SOURCES,
    book_with_seed,
    detect_book_source,
    import_market_data,
    read_book_source,
    seed_deltas,
)
from quantumtrader.data.detect import ProfitFormat, detect_format
from quantumtrader.data.importer import ImportReport, ImportRow, import_files
from quantumtrader.data.lake import KINDS, Lake, PartitionInfo
from quantumtrader.data.lobster import LobsterData, read_lobster
from quantumtrader.data.market_day import MarketData
from quantumtrader.data.merge import (
    KIND_BOOK,
    KIND_TRADE,
    EventChunk,
    chunks_from_table,
    iter_lake_events,
    merge_streams,
)
from quantumtrader.data.profit_a import A_FIELDS, read_profit_a
from quantumtrader.data.profit_b import B_FIELDS, B_HEADER, is_b_header
from quantumtrader.data.profit_b_stream import iter_profit_b
from quantumtrader.data.profit_b_writer import write_profit_b
from quantumtrader.data.profitdll import (
    OFFER_EVENT_SCHEMA,
    pack_offer_array,
    parse_offer_array,
    parse_price_array,
    read_offer_events,
    write_offer_events,
)
from quantumtrader.data.quarantine import (
    QUARANTINE_SCHEMA,
    QuarantineRow,
    empty_quarantine,
    quarantine_rows,
    quarantine_table,
)
from quantumtrader.data.reader import iter_days, read_days
from quantumtrader.data.sierra import read_sierra

__all__ = [
    "A_FIELDS",
    "BOOK_SOURCES",
    "B_FIELDS",
    "B_HEADER",
    "KINDS",
    "KIND_BOOK",
    "KIND_TRADE",
    "OFFER_EVENT_SCHEMA",
    "QUARANTINE_SCHEMA",
    "BinanceMarket",
    "DayBatch",
    "EventChunk",
    "ImportReport",
    "ImportRow",
    "Lake",
    "LobsterData",
    "MarketData",
    "PartitionInfo",
    "ProfitFormat",
    "QuarantineRow",
    "book_with_seed",
    "chunks_from_table",
    "detect_book_source",
    "detect_format",
    "empty_quarantine",
    "import_files",
    "import_market_data",
    "is_b_header",
    "iter_days",
    "iter_lake_events",
    "iter_profit_b",
    "merge_streams",
    "pack_offer_array",
    "parse_offer_array",
    "parse_price_array",
    "quarantine_rows",
    "quarantine_table",
    "read_b3_l1",
    "read_binance",
    "read_book_source",
    "read_days",
    "read_lobster",
    "read_offer_events",
    "read_profit_a",
    "read_sierra",
    "seed_deltas",
    "write_offer_events",
    "write_profit_b",
]
