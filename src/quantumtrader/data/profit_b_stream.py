"""Streaming reader of format-B files: bounded memory, one trading day at a time.

A chunk of lines (default 64 MiB) is parsed and validated with vectorized Polars
expressions; valid rows accumulate per ``(symbol, day)``. Files are chronological, so
once a chunk's dominant day is later than an open day, that day is complete and is
yielded. Memory therefore holds about one chunk plus one trading day.

Rows whose day was already yielded (a non-chronological file) are quarantined, not
dropped, into the batch of the day being read. Rejected rows are filed under their
own ``(symbol, day)`` when that day has valid rows in reach, else under the day being
read, so every input line is counted in exactly one batch.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

from quantumtrader.core.errors import DataError
from quantumtrader.data._checks import (
    day_of,
    mode_value,
    reference_checks,
    split_good_bad,
    to_trade_table,
)
from quantumtrader.data._lines import DEFAULT_CHUNK_BYTES, iter_byte_chunks, lines_frame
from quantumtrader.data.batch import DayBatch
from quantumtrader.data.profit_b import is_b_header, parse_b_lines
from quantumtrader.data.quarantine import empty_quarantine, quarantine_table

__all__ = ["iter_profit_b"]

logger = logging.getLogger(__name__)

Key = tuple[str, dt.date]

_KEEP = (
    "line",
    "ts_event",
    "order_key",
    "symbol",
    "price",
    "qty",
    "aggressor",
    "trade_kind",
    "buy_agent_id",
    "buy_agent",
    "sell_agent_id",
    "sell_agent",
    "trade_id",
    "after_hours",
)
_VOL_REL_TOL = 0.005


class _Splitter:
    """Accumulates one file's rows per (symbol, day) and releases finished days."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.good: dict[Key, list[pl.DataFrame]] = {}
        self.bad: dict[Key, list[pl.DataFrame]] = {}
        self.flushed: set[dt.date] = set()
        self.current: Key | None = None
        self.pending_bad: list[pl.DataFrame] = []

    def add(self, good: pl.DataFrame, bad: pl.DataFrame) -> list[DayBatch]:
        if good.height:
            day = day_of(mode_value(good["day"]))
            sym = mode_value(good.filter(pl.col("day") == day)["symbol"])
            self.current = (str(sym), day)
            if self.pending_bad:
                self.bad.setdefault(self.current, []).extend(self.pending_bad)
                self.pending_bad = []
            for (s, d), part in good.partition_by(["symbol", "day"], as_dict=True).items():
                self.good.setdefault((str(s), day_of(d)), []).append(part.select(_KEEP))
        if bad.height:
            self._file_bad(bad)
        if not good.height or self.current is None:
            return []
        done = sorted((k for k in self.good if k[1] < self.current[1]), key=lambda k: (k[1], k[0]))
        return [self._flush(k) for k in done]

    def _file_bad(self, bad: pl.DataFrame) -> None:
        q = [
            pl.lit(self.src, dtype=pl.String).alias("file"),
            pl.col("line"),
            pl.col("q_field").alias("field"),
            pl.col("q_reason").alias("reason"),
            pl.col("raw").str.strip_chars_end("\r\n"),
        ]
        if self.current is None:
            self.pending_bad.append(bad.select(q))
            return
        cur_s, cur_d = self.current
        pairs = pl.DataFrame(
            {"symbol": [k[0] for k in self.good], "day": [k[1] for k in self.good]},
            schema={"symbol": pl.String, "day": pl.Date},
        ).with_columns(pl.lit(value=True).alias("_hit"))
        hit = pl.col("_hit").fill_null(value=False)
        routed = bad.join(pairs, on=["symbol", "day"], how="left", maintain_order="left").select(
            pl.when(hit).then(pl.col("symbol")).otherwise(pl.lit(cur_s)).alias("_ks"),
            pl.when(hit).then(pl.col("day")).otherwise(pl.lit(cur_d)).alias("_kd"),
            *q,
        )
        for (s, d), part in routed.partition_by(["_ks", "_kd"], as_dict=True).items():
            self.bad.setdefault((str(s), day_of(d)), []).append(part.drop("_ks", "_kd"))

    def _flush(self, key: Key) -> DayBatch:
        good = pl.concat(self.good.pop(key))
        bads = self.bad.pop(key, [])
        self.flushed.add(key[1])
        q = quarantine_table(pl.concat(bads)) if bads else empty_quarantine()
        batch = DayBatch(
            source=self.src, symbol=key[0], day=key[1], table=to_trade_table(good), quarantine=q
        )
        logger.info(
            "%s: %s %s: %d trades, %d quarantined",
            self.src,
            key[0],
            key[1],
            batch.table.num_rows,
            batch.rows_quarantined,
        )
        return batch

    def finish(self) -> list[DayBatch]:
        if self.pending_bad:
            first = pl.concat(self.pending_bad).sort("line").row(0, named=True)
            raise DataError(
                f"no valid trade row (first problem: {first['reason']})",
                path=self.src,
                line=int(first["line"]),
                field=first["field"],
            )
        keys = sorted(self.good, key=lambda k: (k[1], k[0]))
        return [self._flush(k) for k in keys]


def iter_profit_b(
    path: Path,
    *,
    tolerance_minutes: int = 60,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[DayBatch]:
    """Stream a format-B file, yielding one :class:`DayBatch` per ``(symbol, day)``.

    Parameters
    ----------
    path
        The export (header line first).
    tolerance_minutes
        Minutes a print may fall outside the instrument's trading hours.
    chunk_bytes
        Bytes parsed at a time; peak memory is about a few times this plus one day.
    on_bytes
        Progress callback, called with bytes consumed since the previous call.

    Yields
    ------
    DayBatch
        In chronological order of days for a chronological file.

    Raises
    ------
    DataError
        If the file is unreadable, lacks the header, has no valid row although it has
        data lines, or its main ticker has an unknown instrument root.
    """
    src = str(path)
    splitter = _Splitter(src)
    primary: str | None = None
    vol_bad = 0
    for chunk, first_line in iter_byte_chunks(path, chunk_bytes, on_bytes):
        lines = lines_frame(chunk, first_line, "auto")
        if first_line == 1:
            if lines.height == 0 or not is_b_header(lines["raw"][0]):
                raise DataError("missing format-B header line", path=src, line=1)
            lines = lines.slice(1)
        df = parse_b_lines(lines)
        if primary is None:
            sym = mode_value(df.filter(pl.col("q_reason").is_null())["symbol"])
            primary = None if sym is None else str(sym)
        df = reference_checks(
            df, path=src, tolerance_s=tolerance_minutes * 60, primary=primary, symbol_field="ticker"
        )
        if splitter.flushed:
            late = pl.col("q_reason").is_null() & pl.col("day").is_in(sorted(splitter.flushed))
            df = df.with_columns(
                pl.when(late).then(pl.lit("date")).otherwise(pl.col("q_field")).alias("q_field"),
                pl.when(late)
                .then(pl.format("date '{}' is out of chronological order (day done)", "date"))
                .otherwise(pl.col("q_reason"))
                .alias("q_reason"),
            )
        good, bad = split_good_bad(df)
        expected = pl.col("price") * pl.col("qty") * pl.col("_pv")
        vol_bad += good.select(
            (
                pl.col("vol").is_null()
                | ((pl.col("vol") - expected).abs() > _VOL_REL_TOL * expected + 0.01)
            ).sum()
        ).item()
        yield from splitter.add(good, bad)
    yield from splitter.finish()
    if vol_bad:
        logger.warning(
            "%s: %d rows whose vol differs from price*qty*point_value by more than %.1f%%",
            src,
            vol_bad,
            _VOL_REL_TOL * 100,
        )
