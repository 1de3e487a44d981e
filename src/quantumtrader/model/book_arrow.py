"""Columnar (Arrow) form of book deltas and quotes, and the lossless round trip.

The lake stores book deltas under ``kind=book`` and quotes under ``kind=quotes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa

from quantumtrader.model.arrow import TS_TYPE, structs_to_table, table_columns
from quantumtrader.model.book import BookAction, BookDelta, BookSide, Quote

__all__ = [
    "BOOK_FIELDS",
    "BOOK_SCHEMA",
    "QUOTE_FIELDS",
    "QUOTE_SCHEMA",
    "book_arrays",
    "deltas_to_table",
    "quotes_to_table",
    "table_to_deltas",
    "table_to_quotes",
]

BOOK_SCHEMA = pa.schema(
    [
        pa.field("ts_event", TS_TYPE, nullable=False),
        pa.field("ts_init", TS_TYPE, nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("side", pa.int8(), nullable=False),
        pa.field("action", pa.int8(), nullable=False),
        pa.field("price", pa.float64(), nullable=False),
        pa.field("size", pa.float64(), nullable=False),
        pa.field("order_id", pa.int64(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("update_id", pa.int64(), nullable=False),
        pa.field("flags", pa.int16(), nullable=False),
    ],
    metadata={b"quantumtrader.kind": b"book", b"quantumtrader.schema_version": b"1"},
)
BOOK_FIELDS: tuple[str, ...] = tuple(BOOK_SCHEMA.names)

QUOTE_SCHEMA = pa.schema(
    [
        pa.field("ts_event", TS_TYPE, nullable=False),
        pa.field("ts_init", TS_TYPE, nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("bid_price", pa.float64(), nullable=False),
        pa.field("bid_size", pa.float64(), nullable=False),
        pa.field("ask_price", pa.float64(), nullable=False),
        pa.field("ask_size", pa.float64(), nullable=False),
        pa.field("update_id", pa.int64(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
    ],
    metadata={b"quantumtrader.kind": b"quotes", b"quantumtrader.schema_version": b"1"},
)
QUOTE_FIELDS: tuple[str, ...] = tuple(QUOTE_SCHEMA.names)

_ENUMS = ("side", "action")


def deltas_to_table(deltas: Iterable[BookDelta]) -> pa.Table:
    """Convert book deltas to an Arrow table with :data:`BOOK_SCHEMA` (one row each)."""
    return structs_to_table(deltas, BOOK_SCHEMA, _ENUMS)


def table_to_deltas(table: pa.Table) -> list[BookDelta]:
    """Convert a :data:`BOOK_SCHEMA` table back to :class:`BookDelta` structs.

    Raises
    ------
    ValueError
        If a required column is missing.
    """
    c = table_columns(table, BOOK_FIELDS, "book")
    return [
        BookDelta(
            ts_event=c["ts_event"][i],
            ts_init=c["ts_init"][i],
            symbol=c["symbol"][i],
            side=BookSide(c["side"][i]),
            action=BookAction(c["action"][i]),
            price=c["price"][i],
            size=c["size"][i],
            order_id=c["order_id"][i],
            seq=c["seq"][i],
            update_id=c["update_id"][i],
            flags=c["flags"][i],
        )
        for i in range(table.num_rows)
    ]


def quotes_to_table(quotes: Iterable[Quote]) -> pa.Table:
    """Convert quotes to an Arrow table with :data:`QUOTE_SCHEMA`."""
    return structs_to_table(quotes, QUOTE_SCHEMA)


def table_to_quotes(table: pa.Table) -> list[Quote]:
    """Convert a :data:`QUOTE_SCHEMA` table back to :class:`Quote` structs.

    Raises
    ------
    ValueError
        If a required column is missing.
    """
    c = table_columns(table, QUOTE_FIELDS, "quote")
    return [Quote(**{n: c[n][i] for n in QUOTE_FIELDS}) for i in range(table.num_rows)]


def book_arrays(table: pa.Table) -> dict[str, np.ndarray[Any, Any]]:
    """The numeric columns the book kernels consume, as contiguous numpy arrays.

    Returns ``ts`` (int64 ns), ``side`` (int8), ``action`` (int8), ``price`` (float64
    points), ``size`` (float64), ``seq`` (int64) and ``flags`` (int16), shape ``(n,)``.
    """
    return {
        "ts": np.ascontiguousarray(table.column("ts_event").cast(pa.int64()).to_numpy()),
        "side": np.ascontiguousarray(table.column("side").to_numpy(), dtype=np.int8),
        "action": np.ascontiguousarray(table.column("action").to_numpy(), dtype=np.int8),
        "price": np.ascontiguousarray(table.column("price").to_numpy(), dtype=np.float64),
        "size": np.ascontiguousarray(table.column("size").to_numpy(), dtype=np.float64),
        "seq": np.ascontiguousarray(table.column("seq").to_numpy(), dtype=np.int64),
        "flags": np.ascontiguousarray(table.column("flags").to_numpy(), dtype=np.int16),
    }
