"""Profit trades export, format B (the ``<ticker>,<date>,...`` CSV, streamed).

Header (angle brackets and letter case optional)::

    <ticker>,<date>,<time>,<trade_number>,<price>,<qty>,<vol>,<buy_agent>,<sell_agent>,<trade_type>,<aft>
    WDOFUT,20250811,93015,1042,5436.5,2,108730.0,XP,BTG,AggressorBuyer,N

``date`` is YYYYMMDD, ``time`` HHMMSS local (the leading zero before 10:00 may be
lost), ``trade_number`` orders trades within a second, ``vol`` is BRL (soft-checked
only), agents are short names, ``trade_type`` is ``AggressorBuyer`` (BUY),
``AggressorSeller`` (SELL), ``Auction`` (NONE/AUCTION), ``RLP`` (NONE/RLP) or
``CrossTrade`` (NONE/DIRECT, ProfitDLL's name for a direct trade), and ``aft`` is
``N``/``S`` (after-hours flag). Files are chronological and can be many gigabytes;
they are read in bounded-memory chunks and split by trading day.
"""

from __future__ import annotations

import datetime as dt
import logging

import polars as pl

from quantumtrader.data._checks import (
    Check,
    apply_checks,
    line_checks,
    map_unique,
    number_checks,
)
from quantumtrader.model.events import Aggressor, TradeKind

__all__ = ["B_FIELDS", "B_HEADER", "B_TRADE_TYPES", "is_b_header", "parse_b_lines"]

logger = logging.getLogger(__name__)

B_FIELDS = (
    "ticker",
    "date",
    "time",
    "trade_number",
    "price",
    "qty",
    "vol",
    "buy_agent",
    "sell_agent",
    "trade_type",
    "aft",
)
"""Field names of format B, in file order (used in quarantine rows)."""

B_HEADER = ",".join(f"<{n}>" for n in B_FIELDS)
"""The header line as Profit writes it."""

B_TRADE_TYPES: dict[str, tuple[Aggressor, TradeKind]] = {
    "aggressorbuyer": (Aggressor.BUY, TradeKind.REGULAR),
    "aggressorseller": (Aggressor.SELL, TradeKind.REGULAR),
    "auction": (Aggressor.NONE, TradeKind.AUCTION),
    "rlp": (Aggressor.NONE, TradeKind.RLP),
    "crosstrade": (Aggressor.NONE, TradeKind.DIRECT),
}
"""``trade_type`` text (case-insensitive) -> (side, kind)."""


def is_b_header(line: str) -> bool:
    """True if ``line`` is a format-B header (brackets, case and spaces tolerated)."""
    norm = line.lstrip("\ufeff").strip().lower().replace("<", "").replace(">", "")
    return [p.strip() for p in norm.split(",")] == list(B_FIELDS)


def _parse_date(text: str) -> dt.date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def parse_b_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Syntactic parse of format-B data lines (no instrument checks yet).

    Parameters
    ----------
    lines
        Frame with ``line`` and ``raw``, header excluded.

    Returns
    -------
    polars.DataFrame
        The parsed frame described in :mod:`quantumtrader.data._checks`, plus ``vol``
        (float64 BRL, null when unparseable; never a reason to quarantine).
    """
    raw = pl.col("raw")
    names = {f"field_{i}": n for i, n in enumerate(B_FIELDS)}
    df = (
        lines.with_columns(
            raw.str.split_exact(",", len(B_FIELDS)).alias("_p"),
        )
        .unnest("_p")
        .rename(names)
        .with_columns(
            pl.col(n).str.strip_chars()
            for n in ("ticker", "buy_agent", "sell_agent", "trade_type", "aft")
        )
    )
    df = df.with_columns(map_unique(df["date"], _parse_date, pl.Date()).alias("day"))
    t = pl.col("time")
    v = t.cast(pl.Int32, strict=False)
    hh, mm, ss = v // 10_000, (v // 100) % 100, v % 100
    valid_t = t.str.contains(r"^\d{1,6}$") & (hh < 24) & (mm < 60) & (ss < 60)
    tt = pl.col("trade_type").str.to_lowercase()
    keys = list(B_TRADE_TYPES)
    aft = pl.col("aft").str.to_uppercase()
    df = df.with_columns(
        pl.col("ticker").alias("symbol"),
        pl.when(valid_t).then(hh * 3600 + mm * 60 + ss).otherwise(None).alias("sod"),
        pl.col("time").alias("time_txt"),
        pl.col("price").cast(pl.Float64, strict=False).alias("price_num"),
        pl.col("price").alias("price_txt"),
        pl.col("qty").cast(pl.Int64, strict=False).alias("qty_num"),
        pl.col("vol").cast(pl.Float64, strict=False).alias("vol_num"),
        pl.col("trade_number").cast(pl.Int64, strict=False).alias("trade_id"),
        tt.replace_strict(
            keys, [int(B_TRADE_TYPES[k][0]) for k in keys], default=None, return_dtype=pl.Int8
        ).alias("aggressor"),
        tt.replace_strict(
            keys, [int(B_TRADE_TYPES[k][1]) for k in keys], default=None, return_dtype=pl.Int8
        ).alias("trade_kind"),
        pl.lit(None, dtype=pl.Int32).alias("buy_agent_id"),
        pl.lit(None, dtype=pl.Int32).alias("sell_agent_id"),
        aft.replace_strict(["N", "S"], [False, True], default=None, return_dtype=pl.Boolean).alias(
            "after_hours"
        ),
        pl.col("trade_number").cast(pl.Int64, strict=False).alias("order_key"),
    )
    checks: list[Check] = [
        *line_checks(
            n_fields=11,
            sep=",",
            last_field="aft",
            extra_field="field_11",
            asset_field="ticker",
            date_format="YYYYMMDD",
            time_format="HHMMSS",
        ),
        (
            pl.col("trade_id").is_null() | (pl.col("trade_id") < 0),
            "trade_number",
            pl.format("trade number '{}' is not a non-negative integer", "trade_number"),
        ),
        *number_checks(),
        (
            pl.col("aggressor").is_null(),
            "trade_type",
            pl.format("unknown trade type '{}'", pl.col("trade_type")),
        ),
        (
            pl.col("after_hours").is_null(),
            "aft",
            pl.format("after-hours flag '{}' is not N or S", pl.col("aft")),
        ),
    ]
    df = apply_checks(df, checks)
    return df.drop("field_11", "price", "qty", "vol").rename(
        {"price_num": "price", "qty_num": "qty", "vol_num": "vol"}
    )
