"""Write a trade table as a Profit format-B file (test and benchmark helper).

Used to build format-B files from real format-A data (several days by shifting
dates, large files by repetition). What a format-A trade loses on the way:

* broker codes (format B has short names only): ``buy_agent_id``/``sell_agent_id``
  read back as ``None``; names keep their text with any ``,`` replaced by a space;
* ``trade_id``: format B needs a trade number, so trades without one get ``seq + 1``
  (per day) and read back with that ``trade_id``;
* ``TradeKind.DIRECT`` is written as ``CrossTrade`` (ProfitDLL's name for a direct
  trade) and reads back unchanged; auctions as ``Auction``, RLP as ``RLP``.

Sub-second timestamps are truncated to the second, as in real exports.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa

from quantumtrader.core.errors import DataError
from quantumtrader.core.timeutil import B3_TZ
from quantumtrader.data.profit_b import B_FIELDS
from quantumtrader.model.events import Aggressor, TradeKind
from quantumtrader.model.instruments import spec_for

__all__ = ["write_profit_b"]


def _trade_type() -> pl.Expr:
    side, kind = pl.col("aggressor"), pl.col("trade_kind")
    return (
        pl.when(side == int(Aggressor.BUY))
        .then(pl.lit("AggressorBuyer"))
        .when(side == int(Aggressor.SELL))
        .then(pl.lit("AggressorSeller"))
        .when(kind == int(TradeKind.AUCTION))
        .then(pl.lit("Auction"))
        .when(kind == int(TradeKind.RLP))
        .then(pl.lit("RLP"))
        .when(kind == int(TradeKind.DIRECT))
        .then(pl.lit("CrossTrade"))
        .otherwise(None)
    )


def write_profit_b(
    trades: pa.Table,
    path: Path,
    *,
    brackets: bool = True,
    newline: str = "\n",
    zero_pad_time: bool = False,
) -> int:
    """Write trades as a format-B export.

    Parameters
    ----------
    trades
        Table with :data:`~quantumtrader.model.arrow.TRADE_SCHEMA` columns, any number
        of days and symbols; rows are written ordered by ``(ts_event, seq)``.
    path
        Output file (overwritten), UTF-8.
    brackets
        Write the header as ``<ticker>,...`` (Profit's form) or ``ticker,...``.
    newline
        Line terminator.
    zero_pad_time
        ``093015`` instead of Profit's ``93015`` before 10:00.

    Returns
    -------
    int
        Number of data lines written.

    Raises
    ------
    DataError
        If a symbol's instrument root is unknown (``vol`` needs its point value).
    ValueError
        If a trade has no aggressor and a kind format B cannot express.
    """
    df = pl.from_arrow(trades)
    if not isinstance(df, pl.DataFrame):
        raise TypeError("trades must be a table")
    symbols = df["symbol"].unique().to_list()
    pv: dict[str, float] = {}
    for sym in symbols:
        try:
            pv[sym] = spec_for(sym).point_value
        except Exception as exc:
            raise DataError(f"cannot write format B for {sym!r}: {exc}", path=str(path)) from exc
    local = pl.col("ts_event").dt.convert_time_zone(B3_TZ.key)
    hms = (
        local.dt.hour().cast(pl.Int32) * 10_000
        + local.dt.minute().cast(pl.Int32) * 100
        + local.dt.second().cast(pl.Int32)
    )
    tnum = pl.col("trade_id").fill_null(pl.col("seq") + 1)
    out = df.sort(["ts_event", "seq"], maintain_order=True).select(
        pl.col("symbol").alias("ticker"),
        local.dt.strftime("%Y%m%d").alias("date"),
        (hms.cast(pl.String).str.zfill(6) if zero_pad_time else hms.cast(pl.String)).alias("time"),
        tnum.cast(pl.String).alias("trade_number"),
        pl.col("price").cast(pl.String).alias("price"),
        pl.col("qty").cast(pl.String).alias("qty"),
        (pl.col("price") * pl.col("qty") * pl.col("symbol").replace_strict(pv))
        .round(2)
        .cast(pl.String)
        .alias("vol"),
        pl.col("buy_agent").str.replace_all(",", " ", literal=True).alias("buy_agent"),
        pl.col("sell_agent").str.replace_all(",", " ", literal=True).alias("sell_agent"),
        _trade_type().alias("trade_type"),
        pl.when(pl.col("after_hours")).then(pl.lit("S")).otherwise(pl.lit("N")).alias("aft"),
    )
    missing = out["trade_type"].null_count()
    if missing:
        raise ValueError(f"{missing} trades have no aggressor and no auction/RLP/direct kind")
    header = ",".join(f"<{n}>" if brackets else n for n in B_FIELDS)
    with path.open("wb") as fh:
        fh.write((header + newline).encode())
        out.write_csv(fh, include_header=False, quote_style="never", line_terminator=newline)
    return out.height
