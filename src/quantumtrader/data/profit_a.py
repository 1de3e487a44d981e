"""Profit "Times & Trades" export, format A (the per-day ``;`` export).

Layout (no header, ``;`` separated, latin-1, CRLF, newest line first)::

    DOLZ18;05/11/2018;18:14:59;8 - UBS BRASIL CCTVM S/A;3733,50;5;147 - ATIVA ...;Vendedor

Fields: ``asset, date (dd/mm/yyyy), time (HH:MM:SS local), buy_agent ("code - name"),
price (decimal comma), qty (contracts), sell_agent, aggressor`` with aggressor
``Comprador`` (BUY), ``Vendedor`` (SELL), ``Direto`` (NONE, direct trade) or ``Leilão``
(NONE, auction). Execution order is the reverse of file order, also within one
second. Exact duplicate lines are separate fills and are all kept.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import polars as pl

from quantumtrader.core.errors import DataError
from quantumtrader.data._checks import (
    Check,
    apply_checks,
    line_checks,
    map_unique,
    mode_value,
    number_checks,
    quarantine_frame,
    reference_checks,
    split_good_bad,
    to_trade_table,
)
from quantumtrader.data._lines import lines_frame
from quantumtrader.data.batch import DayBatch
from quantumtrader.data.quarantine import quarantine_table
from quantumtrader.model.events import Aggressor, TradeKind

__all__ = ["A_FIELDS", "A_SIDES", "parse_a_lines", "read_profit_a"]

logger = logging.getLogger(__name__)

A_FIELDS = ("asset", "date", "time", "buy_agent", "price", "qty", "sell_agent", "aggressor")
"""Field names of format A, in file order (used in quarantine rows)."""

A_SIDES: dict[str, tuple[Aggressor, TradeKind]] = {
    "comprador": (Aggressor.BUY, TradeKind.REGULAR),
    "vendedor": (Aggressor.SELL, TradeKind.REGULAR),
    "direto": (Aggressor.NONE, TradeKind.DIRECT),
    "leilão": (Aggressor.NONE, TradeKind.AUCTION),
    "leilao": (Aggressor.NONE, TradeKind.AUCTION),
}
"""Aggressor text (case-insensitive) -> (side, kind)."""


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        return None


def agent_exprs(col: str) -> list[pl.Expr]:
    """``"code - name"`` -> ``<col>_id`` (int32 or null) and ``<col>`` (name)."""
    whole = pl.col(col).str.strip_chars()
    parts = whole.str.splitn(" - ", 2)
    code = parts.struct.field("field_0").str.strip_chars().cast(pl.Int32, strict=False)
    name = parts.struct.field("field_1").str.strip_chars()
    has = code.is_not_null() & name.is_not_null()
    return [
        pl.when(has).then(code).otherwise(None).alias(f"{col}_id"),
        pl.when(has).then(name).otherwise(whole).fill_null("").alias(col),
    ]


def parse_a_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Syntactic parse of format-A lines (no instrument checks yet).

    Parameters
    ----------
    lines
        Frame with ``line`` and ``raw`` (see :func:`~quantumtrader.data._lines.lines_frame`).

    Returns
    -------
    polars.DataFrame
        The parsed frame described in :mod:`quantumtrader.data._checks`.
    """
    raw = pl.col("raw")
    names = {f"field_{i}": n for i, n in enumerate(A_FIELDS)}
    df = (
        lines.with_columns(
            raw.str.split_exact(";", len(A_FIELDS)).alias("_p"),
        )
        .unnest("_p")
        .rename(names)
        .with_columns(pl.col(n).str.strip_chars() for n in ("asset", "aggressor"))
    )
    df = df.with_columns(
        map_unique(df["date"], _parse_date, pl.Date()).alias("day"),
    )
    t = pl.col("time")
    hh = t.str.slice(0, 2).cast(pl.Int32, strict=False)
    mm = t.str.slice(3, 2).cast(pl.Int32, strict=False)
    ss = t.str.slice(6, 2).cast(pl.Int32, strict=False)
    valid_t = t.str.contains(r"^\d{2}:\d{2}:\d{2}$") & (hh < 24) & (mm < 60) & (ss < 60)
    p = pl.col("price")
    price_txt = pl.when(p.str.contains(",", literal=True)).then(
        p.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    )
    q = pl.col("qty")
    qty_txt = pl.when(q.str.contains(r"^\d{1,3}(\.\d{3})+$")).then(
        q.str.replace_all(".", "", literal=True)
    )
    agg = pl.col("aggressor").str.to_lowercase()
    keys = list(A_SIDES)
    df = df.with_columns(
        pl.col("asset").alias("symbol"),
        pl.when(valid_t).then(hh * 3600 + mm * 60 + ss).otherwise(None).alias("sod"),
        pl.col("time").alias("time_txt"),
        price_txt.otherwise(p).cast(pl.Float64, strict=False).alias("price_num"),
        pl.col("price").alias("price_txt"),
        qty_txt.otherwise(q).cast(pl.Int64, strict=False).alias("qty_num"),
        agg.replace_strict(
            keys, [int(A_SIDES[k][0]) for k in keys], default=None, return_dtype=pl.Int8
        ).alias("aggressor_num"),
        agg.replace_strict(
            keys, [int(A_SIDES[k][1]) for k in keys], default=None, return_dtype=pl.Int8
        ).alias("trade_kind"),
        *agent_exprs("buy_agent"),
        *agent_exprs("sell_agent"),
        pl.lit(None, dtype=pl.Int64).alias("trade_id"),
        pl.lit(value=False).alias("after_hours"),
        (-pl.col("line")).alias("order_key"),
    )
    checks: list[Check] = [
        *line_checks(
            n_fields=8,
            sep=";",
            last_field="aggressor",
            extra_field="field_8",
            asset_field="asset",
            date_format="dd/mm/yyyy",
            time_format="HH:MM:SS",
        ),
        *number_checks(),
        (
            pl.col("aggressor_num").is_null(),
            "aggressor",
            pl.format("unknown aggressor '{}'", pl.col("aggressor")),
        ),
    ]
    df = apply_checks(df, checks)
    return df.drop("field_8", "price", "qty", "aggressor").rename(
        {"price_num": "price", "qty_num": "qty", "aggressor_num": "aggressor"}
    )


def read_profit_a(path: Path, *, tolerance_minutes: int = 60) -> list[DayBatch]:
    """Parse a whole format-A file (one trading day, one asset).

    Parameters
    ----------
    path
        The export.
    tolerance_minutes
        Minutes a print may fall outside the instrument's trading hours.

    Returns
    -------
    list of DayBatch
        One batch (or none for an empty file). Rows whose date or asset differs from
        the file's (its most frequent valid values) are quarantined.

    Raises
    ------
    DataError
        If the file cannot be read, has no valid row, or its asset root is unknown.
    """
    src = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", path=src) from exc
    if not data:
        return []
    df = parse_a_lines(lines_frame(data, 1, "latin-1"))
    ok = df.filter(pl.col("q_reason").is_null())
    file_day = mode_value(ok["day"])
    primary = mode_value(ok["symbol"])
    if not isinstance(file_day, dt.date) or not isinstance(primary, str):
        first = df.row(0, named=True)
        raise DataError(
            f"no valid trade row (first problem: {first['q_reason']})",
            path=src,
            line=int(first["line"]),
            field=first["q_field"],
        )
    extra: list[Check] = [
        (
            pl.col("day") != pl.lit(file_day),
            "date",
            pl.format("date '{}' differs from the file's date {}", "date", pl.lit(str(file_day))),
        ),
        (
            pl.col("symbol") != pl.lit(primary),
            "asset",
            pl.format("asset '{}' differs from the file's asset {}", "symbol", pl.lit(primary)),
        ),
    ]
    df = apply_checks(df, extra)
    df = reference_checks(
        df, path=src, tolerance_s=tolerance_minutes * 60, primary=primary, symbol_field="asset"
    )
    good, bad = split_good_bad(df)
    batch = DayBatch(
        source=src,
        symbol=primary,
        day=file_day,
        table=to_trade_table(good),
        quarantine=quarantine_table(quarantine_frame(bad, src)),
    )
    logger.info(
        "%s: %s %s: %d trades, %d quarantined",
        src,
        primary,
        file_day,
        batch.table.num_rows,
        batch.rows_quarantined,
    )
    return [batch]
