"""Validation and table building shared by the Profit parsers.

A format parser turns raw lines into a *parsed frame* (Polars) with the columns
``line, raw, symbol, day, sod, time_txt, price, price_txt, qty, aggressor, trade_kind,
buy_agent_id, buy_agent, sell_agent_id, sell_agent, trade_id, after_hours, order_key,
q_field, q_reason``. ``q_field``/``q_reason`` hold the first failed syntactic check
(null when the row is fine so far). This module adds the checks that need the
instrument spec (known root, tick grid, trading hours), converts local times to UTC
nanoseconds, and builds the Arrow trade table and the quarantine frame.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import polars as pl
import pyarrow as pa

from quantumtrader.core.errors import ConfigError, DataError
from quantumtrader.core.timeutil import NS_PER_SECOND, local_to_utc_ns
from quantumtrader.model.arrow import TRADE_SCHEMA
from quantumtrader.model.instruments import InstrumentSpec, spec_for

__all__ = [
    "Check",
    "apply_checks",
    "day_of",
    "line_checks",
    "map_unique",
    "mode_value",
    "number_checks",
    "quarantine_frame",
    "reference_checks",
    "split_good_bad",
    "to_trade_table",
]

Check = tuple[pl.Expr, str, pl.Expr]
"""(failure condition, field name, reason) — the condition is true when the row fails."""

_TICK_EPS = 1e-6
_NOON = 12 * 3600


def line_checks(
    *,
    n_fields: int,
    sep: str,
    last_field: str,
    extra_field: str,
    asset_field: str,
    date_format: str,
    time_format: str,
) -> list[Check]:
    """Checks every Profit format shares for one line's shape, asset, date and time.

    Parameters
    ----------
    n_fields, sep
        Expected field count and separator (for the message).
    last_field, extra_field
        Columns of the last expected field (null when the line is short) and of the
        first field past it (non-null when the line is long).
    asset_field
        Name the format gives its symbol field (``asset``, ``ticker``).
    date_format, time_format
        Expected layouts, quoted in the reasons.
    """
    raw = pl.col("raw")
    return [
        (raw.str.strip_chars() == "", "line", pl.lit("blank line")),
        (
            pl.col(last_field).is_null() | pl.col(extra_field).is_not_null(),
            "fields",
            pl.format(
                f"expected {n_fields} '{sep}'-separated fields, found {{}}",
                raw.str.strip_chars_end("\r\n").str.count_matches(sep, literal=True) + 1,
            ),
        ),
        (pl.col("symbol") == "", asset_field, pl.lit(f"empty {asset_field}")),
        (
            pl.col("day").is_null(),
            "date",
            pl.format(f"bad date '{{}}' (expected {date_format})", pl.col("date")),
        ),
        (
            pl.col("sod").is_null(),
            "time",
            pl.format(f"bad time '{{}}' (expected {time_format})", pl.col("time")),
        ),
    ]


def number_checks() -> list[Check]:
    """Checks of the parsed ``price_num`` (points, > 0) and ``qty_num`` (contracts, > 0)."""
    price = pl.col("price_num")
    return [
        (
            price.is_null() | ~price.is_finite(),
            "price",
            pl.format("price '{}' is not a number", pl.col("price_txt")),
        ),
        (price <= 0, "price", pl.format("price '{}' must be > 0", pl.col("price_txt"))),
        (
            pl.col("qty_num").is_null(),
            "qty",
            pl.format("quantity '{}' is not an integer", pl.col("qty")),
        ),
        (pl.col("qty_num") <= 0, "qty", pl.format("quantity '{}' must be > 0", pl.col("qty"))),
    ]


def apply_checks(df: pl.DataFrame, checks: Sequence[Check]) -> pl.DataFrame:
    """Set ``q_field``/``q_reason`` of rows not yet rejected to their first failed check.

    Conditions are evaluated null-safe (null counts as "not failed") on every row,
    but the reason strings only on the failing rows, which keeps the good path fast.
    Adds the two columns (all null) when ``df`` lacks them.
    """
    n = df.height
    if "q_reason" not in df.columns:
        null = pl.Series([None] * n, dtype=pl.String)
        df = df.with_columns(null.alias("q_field"), null.alias("q_reason"))
    if not checks or n == 0:
        return df
    code: Any = pl.when(pl.col("q_reason").is_not_null()).then(pl.lit(None, dtype=pl.Int16))
    for i, (cond, _, _) in enumerate(checks):
        code = code.when(cond.fill_null(value=False)).then(pl.lit(i, dtype=pl.Int16))
    codes = df.select(code.otherwise(None).alias("c")).to_series()
    idx = codes.is_not_null().arg_true()
    if idx.len() == 0:
        return df
    sub = df[idx].with_columns(codes.gather(idx).alias("_code"))
    f_expr: Any = pl.when(pl.lit(value=False)).then(pl.lit(None, dtype=pl.String))
    r_expr: Any = pl.when(pl.lit(value=False)).then(pl.lit(None, dtype=pl.String))
    for i, (_, name, why) in enumerate(checks):
        f_expr = f_expr.when(pl.col("_code") == i).then(pl.lit(name))
        r_expr = r_expr.when(pl.col("_code") == i).then(why.cast(pl.String))
    out = sub.select(f_expr.alias("f"), r_expr.alias("r"))
    return df.with_columns(
        df["q_field"].scatter(idx, out["f"]),
        df["q_reason"].scatter(idx, out["r"]),
    )


def mode_value(series: pl.Series) -> object | None:
    """Most frequent non-null value (ties: the smallest), or ``None``."""
    s = series.drop_nulls()
    if s.len() == 0:
        return None
    counts = s.value_counts(sort=False)
    name = s.name
    counts = counts.sort(["count", name], descending=[True, False])
    value: object = counts[name][0]
    return value


@lru_cache(maxsize=256)
def _spec(symbol: str) -> InstrumentSpec | None:
    try:
        return spec_for(symbol)
    except ConfigError:
        return None


def _lookup(keys: pl.DataFrame, path: str, tolerance_s: int, primary: str | None) -> pl.DataFrame:
    rows: dict[str, list[object]] = {
        k: [] for k in ("symbol", "day", "_known", "_base", "_lo", "_hi", "_tick", "_grid", "_pv")
    }
    rows["_hours"] = []
    for symbol, day in keys.iter_rows():
        spec = _spec(symbol)
        if spec is None and symbol == primary:
            raise DataError(
                f"unknown instrument root of symbol {symbol!r}; add it to instruments.toml",
                path=path,
            )
        rows["symbol"].append(symbol)
        rows["day"].append(day)
        rows["_known"].append(spec is not None)
        if spec is None:
            for k in ("_base", "_lo", "_hi", "_tick", "_grid", "_pv", "_hours"):
                rows[k].append(None)
            continue
        try:
            hours = spec.hours_on(day)
        except ConfigError as exc:
            raise DataError(str(exc), path=path) from exc
        base = local_to_utc_ns(day, _NOON) - _NOON * NS_PER_SECOND
        rows["_base"].append(base)
        rows["_lo"].append(max(0, hours.open_seconds() - tolerance_s))
        rows["_hi"].append(min(86_399, hours.close_seconds() + tolerance_s))
        rows["_tick"].append(spec.tick_size)
        rows["_grid"].append(not spec.price_adjusted)
        rows["_pv"].append(spec.point_value)
        rows["_hours"].append(f"{hours.open}-{hours.close} ± {tolerance_s // 60} min")
    schema = {
        "symbol": pl.String,
        "day": pl.Date,
        "_known": pl.Boolean,
        "_base": pl.Int64,
        "_lo": pl.Int32,
        "_hi": pl.Int32,
        "_tick": pl.Float64,
        "_grid": pl.Boolean,
        "_pv": pl.Float64,
        "_hours": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def reference_checks(
    df: pl.DataFrame,
    *,
    path: str,
    tolerance_s: int,
    primary: str | None,
    symbol_field: str,
) -> pl.DataFrame:
    """Apply instrument checks and add ``ts_event`` (int64 ns UTC) and ``_pv``.

    Parameters
    ----------
    df
        Parsed frame (see module docstring), shape ``(n, k)``.
    path
        Source file, for error messages.
    tolerance_s
        Seconds by which a time may fall outside the instrument's trading hours.
    primary
        The file's main symbol; if its root is unknown, the whole file is refused.
    symbol_field
        Format name of the symbol field (``asset`` or ``ticker``) for quarantine rows.

    Raises
    ------
    DataError
        If ``primary`` has an unknown instrument root or no trading hours on a day.
    """
    ok = pl.col("q_reason").is_null()
    keys = df.filter(ok).select("symbol", "day").unique().sort("symbol", "day")
    look = _lookup(keys, path, tolerance_s, primary)
    df = df.join(look, on=["symbol", "day"], how="left", maintain_order="left")
    ratio = pl.col("price") / pl.col("_tick")
    checks: list[Check] = [
        (
            ~pl.col("_known"),
            symbol_field,
            pl.format("unknown instrument root of symbol '{}'", pl.col("symbol")),
        ),
        (
            pl.col("_grid") & ((ratio - ratio.round()).abs() > _TICK_EPS),
            "price",
            pl.format(
                "price '{}' is not a multiple of the tick size {}",
                pl.col("price_txt"),
                pl.col("_tick"),
            ),
        ),
        (
            (pl.col("sod") < pl.col("_lo")) | (pl.col("sod") > pl.col("_hi")),
            "time",
            pl.format(
                "time '{}' is outside trading hours {}", pl.col("time_txt"), pl.col("_hours")
            ),
        ),
    ]
    df = apply_checks(df, checks)
    ts = pl.col("_base") + pl.col("sod").cast(pl.Int64) * NS_PER_SECOND
    return df.with_columns(ts.alias("ts_event")).drop(
        "_known", "_base", "_lo", "_hi", "_tick", "_grid", "_hours"
    )


def split_good_bad(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a checked frame into (valid rows, quarantined rows)."""
    bad_mask = pl.col("q_reason").is_not_null()
    return df.filter(~bad_mask), df.filter(bad_mask)


def quarantine_frame(bad: pl.DataFrame, path: str) -> pl.DataFrame:
    """Quarantine rows (``file, line, field, reason, raw``) of a checked frame."""
    return bad.select(
        pl.lit(path, dtype=pl.String).alias("file"),
        pl.col("line"),
        pl.col("q_field").alias("field"),
        pl.col("q_reason").alias("reason"),
        pl.col("raw").str.strip_chars_end("\r\n"),
    )


def to_trade_table(good: pl.DataFrame) -> pa.Table:
    """Sort valid rows into execution order, number them and build the Arrow table.

    Parameters
    ----------
    good
        Valid rows of one ``(symbol, day)`` with ``ts_event`` and ``order_key``.

    Returns
    -------
    pyarrow.Table
        :data:`~quantumtrader.model.arrow.TRADE_SCHEMA`, rows in ``seq`` order
        (``seq`` 0-based, execution order ``(ts_event, order_key, line)``).
    """
    df = good.sort(["ts_event", "order_key", "line"]).with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("seq")
    )
    ts = pl.col("ts_event").cast(pl.Datetime("ns", "UTC"))
    out = df.select(
        ts.alias("ts_event"),
        ts.alias("ts_init"),
        pl.col("symbol"),
        pl.col("price"),
        pl.col("qty"),
        pl.col("aggressor").cast(pl.Int8),
        pl.col("trade_kind").cast(pl.Int8),
        pl.lit(value=False).alias("aggressor_inferred"),
        pl.col("buy_agent_id").cast(pl.Int32),
        pl.col("buy_agent").fill_null(""),
        pl.col("sell_agent_id").cast(pl.Int32),
        pl.col("sell_agent").fill_null(""),
        pl.col("trade_id").cast(pl.Int64),
        pl.col("seq"),
        pl.col("after_hours").cast(pl.Boolean),
    )
    return out.to_arrow().cast(TRADE_SCHEMA)


def day_of(value: object) -> dt.date:
    """Narrow a Polars date value to :class:`datetime.date` (raises on anything else)."""
    if not isinstance(value, dt.date):
        raise TypeError(f"expected a date, got {value!r}")
    return value


def map_unique(
    series: pl.Series, parse: Callable[[str], object | None], dtype: pl.DataType
) -> pl.Series:
    """Apply a Python parser to the distinct values of ``series`` only, then map back.

    Dates take few distinct values per file, so parsing them one by one in Python
    costs nothing per row. Values the parser rejects (returns ``None``) map to null.
    """
    uniq = series.drop_nulls().unique().to_list()
    keys: list[str] = []
    vals: list[object] = []
    for u in uniq:
        v = parse(u)
        if v is not None:
            keys.append(u)
            vals.append(v)
    if not keys:
        return pl.Series(series.name, [None] * series.len(), dtype=dtype)
    return series.replace_strict(keys, vals, default=None, return_dtype=dtype)
