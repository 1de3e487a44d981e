"""Columnar (Arrow) form of the events, and the lossless round trip.

Timestamps are stored as ``timestamp[ns, tz=UTC]`` so DuckDB, Polars and pandas read
them as instants; enums as their int8 values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from quantumtrader.model.events import Aggressor, Trade, TradeKind

__all__ = ["TRADE_FIELDS", "TRADE_SCHEMA", "table_to_trades", "trade_arrays", "trades_to_table"]

TS_TYPE = pa.timestamp("ns", tz="UTC")

TRADE_SCHEMA = pa.schema(
    [
        pa.field("ts_event", TS_TYPE, nullable=False),
        pa.field("ts_init", TS_TYPE, nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("price", pa.float64(), nullable=False),
        pa.field("qty", pa.int64(), nullable=False),
        pa.field("aggressor", pa.int8(), nullable=False),
        pa.field("trade_kind", pa.int8(), nullable=False),
        pa.field("aggressor_inferred", pa.bool_(), nullable=False),
        pa.field("buy_agent_id", pa.int32(), nullable=True),
        pa.field("buy_agent", pa.string(), nullable=False),
        pa.field("sell_agent_id", pa.int32(), nullable=True),
        pa.field("sell_agent", pa.string(), nullable=False),
        pa.field("trade_id", pa.int64(), nullable=True),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("after_hours", pa.bool_(), nullable=False),
    ],
    metadata={b"quantumtrader.kind": b"trades", b"quantumtrader.schema_version": b"1"},
)
TRADE_FIELDS: tuple[str, ...] = tuple(TRADE_SCHEMA.names)


def structs_to_table(rows: Iterable[Any], schema: pa.Schema, enums: Sequence[str] = ()) -> pa.Table:
    """Arrow table of ``schema`` from structs with one attribute per column (one row each).

    ``timestamp`` columns take int ns; the ``enums`` columns take int enums (stored as
    their int values).
    """
    names = schema.names
    cols: dict[str, list[Any]] = {n: [] for n in names}
    for r in rows:
        for n in names:
            cols[n].append(getattr(r, n))
    arrays = []
    for field in schema:
        values = cols[field.name]
        if field.type == TS_TYPE:
            arrays.append(pa.array(values, type=pa.int64()).cast(TS_TYPE))
        elif field.name in enums:
            arrays.append(pa.array([int(v) for v in values], type=field.type))
        else:
            arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def table_columns(table: pa.Table, fields: Sequence[str], what: str) -> dict[str, list[Any]]:
    """``fields`` of ``table`` as Python lists (``ts_event``/``ts_init`` as int ns).

    Raises
    ------
    ValueError
        If a required column is missing.
    """
    missing = [n for n in fields if n not in table.column_names]
    if missing:
        raise ValueError(f"{what} table lacks columns {missing}")
    out: dict[str, list[Any]] = {}
    for n in fields:
        col = table.column(n)
        if n in ("ts_event", "ts_init"):
            out[n] = col.cast(pa.int64()).to_numpy().tolist()
        else:
            out[n] = col.to_pylist()
    return out


def trades_to_table(trades: Iterable[Trade]) -> pa.Table:
    """Convert trades to an Arrow table with :data:`TRADE_SCHEMA`.

    Parameters
    ----------
    trades
        Any iterable of :class:`~quantumtrader.model.events.Trade`.

    Returns
    -------
    pyarrow.Table
        One row per trade, in the given order.
    """
    return structs_to_table(trades, TRADE_SCHEMA, ("aggressor", "trade_kind"))


def table_to_trades(table: pa.Table) -> list[Trade]:
    """Convert an Arrow table with :data:`TRADE_SCHEMA` columns back to trades.

    Raises
    ------
    ValueError
        If a required column is missing.
    """
    cols = table_columns(table, TRADE_FIELDS, "trade")
    out: list[Trade] = []
    for i in range(table.num_rows):
        out.append(
            Trade(
                ts_event=cols["ts_event"][i],
                ts_init=cols["ts_init"][i],
                symbol=cols["symbol"][i],
                price=cols["price"][i],
                qty=cols["qty"][i],
                aggressor=Aggressor(cols["aggressor"][i]),
                trade_kind=TradeKind(cols["trade_kind"][i]),
                aggressor_inferred=cols["aggressor_inferred"][i],
                buy_agent_id=cols["buy_agent_id"][i],
                buy_agent=cols["buy_agent"][i],
                sell_agent_id=cols["sell_agent_id"][i],
                sell_agent=cols["sell_agent"][i],
                trade_id=cols["trade_id"][i],
                seq=cols["seq"][i],
                after_hours=cols["after_hours"][i],
            )
        )
    return out


def trade_arrays(table: pa.Table) -> dict[str, np.ndarray[Any, Any]]:
    """The numeric columns kernels consume, as contiguous numpy arrays.

    Returns ``ts`` (int64 ns), ``price`` (float64), ``qty`` (float64 contracts) and
    ``side`` (int8: +1 buy, -1 sell, 0 none), each of shape ``(n,)``.
    """
    return {
        "ts": np.ascontiguousarray(table.column("ts_event").cast(pa.int64()).to_numpy()),
        "price": np.ascontiguousarray(table.column("price").to_numpy(), dtype=np.float64),
        "qty": np.ascontiguousarray(table.column("qty").to_numpy(), dtype=np.float64),
        "side": np.ascontiguousarray(table.column("aggressor").to_numpy(), dtype=np.int8),
    }
