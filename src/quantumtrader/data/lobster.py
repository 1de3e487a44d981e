"""LOBSTER message and orderbook files (NASDAQ TotalView-ITCH rebuilt by LOBSTER).

One LOBSTER download of one ticker and day holds two header-less CSV files:
``<SYM>_<date>_<start>_<end>_message_<L>.csv`` (time, type, order id, size, price,
direction) and ``..._orderbook_<L>.csv`` (ask price, ask size, bid price, bid size for
levels 1..L; row *k* is the book after message *k*). :func:`read_lobster` reads them in
place from the zip archive LOBSTER ships (or from the unpacked message file with its
orderbook file beside it) and turns the messages into events:

==========  ===============================================================
type        events
==========  ===============================================================
1           book delta ``CHANGE +size`` at the order's price (``order_id``)
2, 3        book delta ``CHANGE -size`` (partial cancel, full delete)
4           a :class:`~quantumtrader.model.events.Trade` (aggressor opposite
            to the resting side) and a ``CHANGE -size`` delta flagged
            :data:`~quantumtrader.model.book.F_EXEC`
5           a trade only (hidden order: the displayed book does not change)
7           nothing (trading halt indicator): counted as skipped, noted
==========  ===============================================================

Replayable book (``sync=True``, the default): a level-L file only holds the messages that
touched the first L levels (SOURCE.md quirk 3), so the message deltas alone soon drift
from LOBSTER's book (phantom levels, levels of unknown size entering the window). After
every message the reader therefore appends correction deltas flagged
:data:`~quantumtrader.model.book.F_SYNC` (``SET`` to the reference size, ``DELETE`` of a
level the reference row does not show; :mod:`quantumtrader.data._lobster_sync`), so that
seed + stream give exactly orderbook row *k* after message *k* at levels 1..L, never
crossed. Levels that leave the visible window (worse than the row's L-th price) are
unknown from then on: by default they keep their last known size, unverified, and are
corrected when they come back (so depth beyond L is a best effort, with stale levels far
from the market); ``beyond="drop"`` deletes them instead, so the book is exactly the
orderbook row. ``sync=False`` gives the message deltas only (to measure the drift).

Ordering: trades and deltas share one counter derived from the message row
``r`` (0-based): a trade has ``seq = 3·r``, the message's book delta ``seq = 3·r + 1``
and its sync corrections ``seq = 3·r + 2`` (all of them; they touch distinct levels, so
their order among themselves does not change the book). The row is ``seq // 3``, an
execution's trade comes just before the book change it causes, and ``F_LAST`` marks the
last delta of each row.

Times are seconds after midnight in New York local time with 9 decimals (a few rows carry
sub-nanosecond digits, which are rounded half up); they are parsed from the decimal text
(never through a float) and converted to UTC ns with the IANA zone ``America/New_York``.
Prices are USD × 10,000 in the files and USD in events.

References
----------
LOBSTER sample files ReadMe (version of 2013-09-01), ``LOBSTER_SampleFiles_ReadMe.txt``;
``../shared/data/lobster_nasdaq_20120621/SOURCE.md``.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import zipfile
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from quantumtrader.core.errors import DataError
from quantumtrader.core.timeutil import NS_PER_SECOND
from quantumtrader.data._checks import Check, apply_checks, quarantine_frame
from quantumtrader.data._lines import lines_frame
from quantumtrader.data._lobster_stream import (
    DUMMY_PRICE,
    LOBSTER_PRICE_SCALE,
    Messages,
    book_table,
    message_sync,
    seed_book,
)
from quantumtrader.data._lobster_sync import SYNC_CLASSES
from quantumtrader.data.market_day import MarketData
from quantumtrader.data.quarantine import quarantine_table
from quantumtrader.model.arrow import TRADE_SCHEMA, TS_TYPE
from quantumtrader.model.book_arrow import QUOTE_SCHEMA
from quantumtrader.model.events import TradeKind
from quantumtrader.model.instruments import spec_for

__all__ = [
    "DUMMY_PRICE",
    "LOBSTER_FIELDS",
    "LOBSTER_PRICE_SCALE",
    "NY_TZ",
    "SYNC_CLASSES",
    "LobsterData",
    "read_lobster",
]

logger = logging.getLogger(__name__)

NY_TZ = ZoneInfo("America/New_York")
LOBSTER_FIELDS = ("time", "type", "order_id", "size", "price", "direction")
"""Message-file field names in file order (used in quarantine rows)."""

_MEMBER = re.compile(
    r"(?:^|/)(?P<sym>[A-Za-z.\-]+)_(?P<day>\d{4}-\d{2}-\d{2})_\d+_\d+_"
    r"(?P<kind>message|orderbook)_(?P<lvl>\d+)\.csv$"
)
_TIME = r"^\d{1,5}(\.\d+)?$"
_BOOK_TYPES = (1, 2, 3, 4)
_TYPES = (1, 2, 3, 4, 5, 7)


class LobsterData(msgspec.Struct, kw_only=True):
    """What :func:`read_lobster` returns: the events plus LOBSTER's own rebuilt book.

    Attributes
    ----------
    market
        Trades and book deltas (``source="lobster"``); ``market.seed`` is the book
        before message 1.
    reference
        The orderbook file, int64, shape ``(n_messages, 4·levels)``: for level
        ``i = 0..levels-1`` the columns ``4i..4i+3`` are ask price, ask size, bid price,
        bid size, prices in USD × 10,000 (empty levels: ±9,999,999,999 and size 0).
        Row ``r`` is the book after message ``r``.
    levels
        ``L``, the number of levels in ``reference``.
    msg_type
        Message type per row, int8 shape ``(n_messages,)``; 0 for a quarantined row.
    path
        Label of the message file (``archive.zip!member`` for a zip).
    sync
        Whether ``market.book`` holds the sync corrections.
    corrections
        Sync corrections per class of :data:`SYNC_CLASSES` (zeros when ``sync`` is
        False).
    clamped
        Message deltas that would drive a level of the synced book below zero (the
        order book clamps them at 0; a correction follows). 0 when ``sync`` is False.
    """

    market: MarketData
    reference: npt.NDArray[np.int64]
    levels: int
    msg_type: npt.NDArray[np.int8]
    path: str
    sync: bool = True
    corrections: dict[str, int] = msgspec.field(default_factory=dict)
    clamped: int = 0


def _members(path: Path) -> tuple[str, bytes, bytes, re.Match[str]]:
    """Label, message bytes, orderbook bytes and the message file-name match."""
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                names = [(n, _MEMBER.search(n)) for n in zf.namelist()]
                msgs = [(n, m) for n, m in names if m and m["kind"] == "message"]
                if len(msgs) != 1:
                    raise DataError(
                        f"expected one LOBSTER message file in the archive, found {len(msgs)}",
                        path=str(path),
                    )
                name, found = msgs[0]
                if found is None:  # pragma: no cover - filtered above
                    raise DataError("no LOBSTER message file", path=str(path))
                ob_name = name.replace("_message_", "_orderbook_")
                if ob_name not in zf.namelist():
                    raise DataError(f"archive lacks {ob_name}", path=str(path))
                return f"{path}!{name}", zf.read(name), zf.read(ob_name), found
        match = _MEMBER.search(path.name)
        if match is None or match["kind"] != "message":
            raise DataError(
                "not a LOBSTER zip or message file (<SYM>_<date>_<start>_<end>_message_<L>.csv)",
                path=str(path),
            )
        ob_path = path.with_name(path.name.replace("_message_", "_orderbook_"))
        return str(path), path.read_bytes(), ob_path.read_bytes(), match
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read LOBSTER file: {exc}", path=str(path)) from exc


def _checks(tick_units: int) -> list[Check]:
    typ, size, price = pl.col("type"), pl.col("size"), pl.col("price")
    visible = typ.is_in(_BOOK_TYPES)
    executed = typ.is_in((1, 2, 3, 4, 5))
    return [
        (pl.col("body") == "", "line", pl.lit("blank line")),
        (
            pl.col("f5").is_null() | pl.col("f6").is_not_null(),
            "fields",
            pl.format(
                "expected 6 ','-separated fields, found {}",
                pl.col("body").str.count_matches(",", literal=True) + 1,
            ),
        ),
        (
            ~pl.col("f0").str.contains(_TIME) | (pl.col("sec") >= 86_400),
            "time",
            pl.format("bad time '{}' (expected seconds after midnight)", pl.col("f0")),
        ),
        (
            typ.is_null() | ~typ.is_in(_TYPES),
            "type",
            pl.format("unknown message type '{}'", pl.col("f1")),
        ),
        (
            pl.col("order_id").is_null() | (pl.col("order_id") < 0),
            "order_id",
            pl.format("bad order id '{}'", pl.col("f2")),
        ),
        (
            size.is_null() | (executed & (size <= 0)),
            "size",
            pl.format("size '{}' must be an integer > 0", pl.col("f3")),
        ),
        (
            price.is_null() | (executed & (price <= 0)),
            "price",
            pl.format("price '{}' must be an integer > 0", pl.col("f4")),
        ),
        (
            visible & (price % tick_units != 0),
            "price",
            pl.format("price '{}' is off the tick grid", pl.col("f4")),
        ),
        (
            ~pl.col("direction").is_in((-1, 1)).fill_null(value=False),
            "direction",
            pl.format("direction '{}' must be 1 or -1", pl.col("f5")),
        ),
    ]


def _parse_messages(data: bytes, tick_units: int) -> pl.DataFrame:
    """Split and type the message file; adds ``q_field``/``q_reason`` for bad rows."""
    df = lines_frame(data, 1, "auto")
    body = pl.col("raw").str.strip_chars_end("\r\n")
    df = df.with_columns(body.alias("body"))
    df = df.with_columns(
        pl.col("body")
        .str.split_exact(",", 6)
        .struct.rename_fields([f"f{i}" for i in range(7)])
        .alias("parts")
    ).unnest("parts")
    time_parts = pl.col("f0").str.split_exact(".", 1)
    # Digits past the 9th (sub-nanosecond, e.g. '43002.632812672004' in AMZN level 5)
    # are rounded half up to the nanosecond.
    frac_txt = time_parts.struct.field("field_1").fill_null("")
    as_int = {
        "type": "f1",
        "order_id": "f2",
        "size": "f3",
        "price": "f4",
        "direction": "f5",
    }
    df = df.with_columns(
        time_parts.struct.field("field_0").cast(pl.Int64, strict=False).alias("sec"),
        (
            frac_txt.str.slice(0, 9).str.pad_end(9, "0").cast(pl.Int64, strict=False)
            + (frac_txt.str.slice(9, 1) >= "5").cast(pl.Int64)
        ).alias("frac"),
        (frac_txt.str.len_chars() > 9).alias("sub_ns"),
        *(pl.col(src).cast(pl.Int64, strict=False).alias(dst) for dst, src in as_int.items()),
    )
    return apply_checks(df, _checks(tick_units))


def _utc_ns(day: dt.date, sec: npt.NDArray[np.int64], frac: npt.NDArray[np.int64]) -> Any:
    """UTC ns of New York local ``day`` + ``sec`` seconds + ``frac`` ns (vectorised)."""
    offsets = np.empty(24, dtype=np.int64)
    for hour in range(24):
        off = dt.datetime(day.year, day.month, day.day, hour, tzinfo=NY_TZ).utcoffset()
        offsets[hour] = int(off.total_seconds()) if off is not None else 0
    epoch_day = (day - dt.date(1970, 1, 1)).days
    local = epoch_day * 86_400 + sec
    return (local - offsets[np.clip(sec // 3600, 0, 23)]) * NS_PER_SECOND + frac


def _read_reference(data: bytes, levels: int, n_rows: int, label: str) -> Any:
    """The orderbook file as int64 ``(n_rows, 4·levels)``."""
    n_cols = 4 * levels
    names = [f"c{j}" for j in range(n_cols)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.int64())),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataError(f"orderbook file: {exc}", path=label) from exc
    if table.num_rows != n_rows:
        raise DataError(
            f"orderbook file has {table.num_rows} rows, message file {n_rows}", path=label
        )
    if any(table.column(j).null_count for j in range(n_cols)):
        raise DataError("orderbook file has empty fields", path=label)
    ref = np.empty((n_rows, n_cols), dtype=np.int64)
    for j in range(n_cols):
        ref[:, j] = table.column(j).to_numpy()
    return ref


def _ts_col(ts: npt.NDArray[np.int64]) -> pa.Array:
    return pa.array(ts, type=pa.int64()).cast(TS_TYPE)


def _row_times(lines: npt.NDArray[np.int64], ts: npt.NDArray[np.int64], n: int) -> Any:
    """Time of every row: its message's, else the last earlier good message's (else the
    first good message's); ``lines`` are the 1-based lines of the good rows."""
    pos = np.full(n, -1, dtype=np.int64)
    pos[lines - 1] = np.arange(len(lines))
    pos = np.maximum.accumulate(pos)
    if not len(ts):
        return np.zeros(n, dtype=np.int64)
    return ts[np.maximum(pos, 0)]


def _trade_table(g: pl.DataFrame, ts: npt.NDArray[np.int64], symbol: str) -> pa.Table:
    n = g.height
    arrays = [
        _ts_col(ts),
        _ts_col(ts),
        pa.array([symbol] * n, type=pa.string()),
        pa.array(g["price"].to_numpy() / LOBSTER_PRICE_SCALE),
        pa.array(g["size"].to_numpy()),
        pa.array((-g["direction"].to_numpy()).astype(np.int8)),
        pa.array(np.full(n, int(TradeKind.REGULAR), dtype=np.int8)),
        pa.array(np.zeros(n, dtype=bool)),
        pa.nulls(n, pa.int32()),
        pa.array([""] * n, type=pa.string()),
        pa.nulls(n, pa.int32()),
        pa.array([""] * n, type=pa.string()),
        pa.nulls(n, pa.int64()),
        pa.array(3 * (g["line"].to_numpy() - 1)),
        pa.array(np.zeros(n, dtype=bool)),
    ]
    return pa.Table.from_arrays(arrays, schema=TRADE_SCHEMA)


def read_lobster(
    path: Path, *, sync: bool = True, beyond: Literal["keep", "drop"] = "keep"
) -> LobsterData:
    """Read one LOBSTER ticker-day into trades, book deltas, a seed book and the reference.

    Parameters
    ----------
    path
        A LOBSTER zip holding one ``..._message_<L>.csv`` and its ``..._orderbook_<L>.csv``
        (read in place, not unpacked), or the message CSV itself with the orderbook CSV
        in the same folder. Symbol, date and ``L`` come from the member names.
    sync
        Append the sync corrections (``SET``/``DELETE`` deltas flagged ``F_SYNC``) that
        make seed + book stream equal the orderbook file after every message, at every
        level 1..L. ``False``: the message deltas only.
    beyond
        With ``sync``: what happens to levels outside the visible range (worse than the
        row's L-th price). ``"keep"``: they keep their last known size (unverified) and
        are corrected when they come back; ``"drop"``: they are deleted, so the book is
        exactly the orderbook row.

    Returns
    -------
    LobsterData
        ``market.book``: one ``CHANGE`` delta per type 1–4 message (``F_EXEC`` for
        type 4, ``seq = 3·row + 1``), then that row's corrections (``seq = 3·row + 2``),
        ``F_LAST`` on the row's last delta; ``market.trades``: one trade per type 4/5
        message (``seq = 3·row``); ``market.seed``: the book before message 1;
        ``reference``: the orderbook file. Bad message rows are quarantined with their
        line and field; with ``sync`` their book effect arrives as corrections, stamped
        with the previous good message's time.

    Raises
    ------
    DataError
        If the files cannot be read, are not named like LOBSTER files, the orderbook file
        is malformed or its row count differs from the message file's; with ``sync``,
        also if a shown orderbook level is off the tick grid or has a negative size.
    ValueError
        If ``beyond`` is neither ``"keep"`` nor ``"drop"``.

    References
    ----------
    LOBSTER sample files ReadMe (2013); Huang & Polak, "LOBSTER: Limit Order Book
    Reconstruction System" (2011), SSRN 1977207.
    """
    if beyond not in {"keep", "drop"}:
        raise ValueError(f"beyond must be 'keep' or 'drop', got {beyond!r}")
    path = Path(path)
    label, msg_bytes, ob_bytes, match = _members(path)
    symbol = match["sym"].upper()
    levels = int(match["lvl"])
    if levels < 1:
        raise DataError(f"bad level count {levels} in the file name", path=label)
    day = dt.date.fromisoformat(match["day"])
    spec = spec_for(symbol)
    tick_units = round(spec.tick_size * LOBSTER_PRICE_SCALE)
    df = _parse_messages(msg_bytes, tick_units)
    n = df.height
    ob_label = label.replace("_message_", "_orderbook_")
    ref = _read_reference(ob_bytes, levels, n, ob_label)
    bad_mask = df["q_reason"].is_not_null()
    good = df.filter(~bad_mask)
    bad = df.filter(bad_mask)
    ts_all = _utc_ns(day, good["sec"].to_numpy(), good["frac"].to_numpy())
    good = good.with_columns(pl.Series("ts", ts_all, dtype=pl.Int64))
    typ = good["type"]
    book_rows = good.filter(typ.is_in(_BOOK_TYPES))
    trade_rows = good.filter(typ.is_in((4, 5)))
    n_halt = int((typ == 7).sum())
    msg_type = np.zeros(n, dtype=np.int8)
    msg_type[good["line"].to_numpy() - 1] = typ.to_numpy()

    first = good.row(0, named=True) if good.height and good["line"][0] == 1 else None
    seed_ts = int(ts_all[0]) if good.height else 0
    seed, seed_note, seed_levels = seed_book(first, ref, levels, seed_ts, symbol)
    msgs = Messages(
        row=book_rows["line"].to_numpy() - 1,
        kind=book_rows["type"].to_numpy(),
        direction=book_rows["direction"].to_numpy(),
        price=book_rows["price"].to_numpy(),
        size=book_rows["size"].to_numpy(),
        order_id=book_rows["order_id"].to_numpy(),
    )
    ops = (
        message_sync(msgs, ref, seed_levels, tick_units=tick_units, label=ob_label, beyond=beyond)
        if sync
        else None
    )
    counts = {t: int((typ == t).sum()) for t in _TYPES}
    notes = [
        "seq: trade = 3*row, message delta = 3*row + 1, sync corrections = 3*row + 2 "
        "(row = 0-based message index)",
        seed_note,
        "message types: " + ", ".join(f"{t}: {c}" for t, c in counts.items()),
        f"{counts[5]} hidden executions (type 5) are trades without a book change",
    ]
    corrections = dict.fromkeys(SYNC_CLASSES, 0)
    if ops is not None:
        corrections = ops.counts()
        notes.append(
            f"sync: {len(ops.row)} corrections ("
            + ", ".join(f"{c} {v}" for c, v in corrections.items())
            + f"); {ops.clamped} message deltas clamped at 0; levels beyond depth {levels}: "
            + ("dropped" if beyond == "drop" else "kept, unverified")
        )
    else:
        notes.append("sync off: message deltas only (they drift from the orderbook file)")
    n_sub_ns = int(good["sub_ns"].sum())
    if n_sub_ns:
        notes.append(f"{n_sub_ns} times had more than 9 decimals (rounded to the ns)")
    if n_halt:
        notes.append(f"{n_halt} trading-halt messages (type 7) skipped")
    if bad.height:
        notes.append(f"{bad.height} message rows quarantined")
        logger.warning("%s: %d message rows quarantined", label, bad.height)
    days = sorted(
        {
            dt.datetime.fromtimestamp(int(t) // NS_PER_SECOND, tz=dt.UTC).date()
            for t in (ts_all.min(), ts_all.max())
        }
        if good.height
        else {day}
    )
    ts_row = _row_times(good["line"].to_numpy(), ts_all, n)
    market = MarketData(
        source="lobster",
        symbol=symbol,
        days=days,
        trades=_trade_table(trade_rows, trade_rows["ts"].to_numpy(), symbol),
        book=book_table(msgs, ops, ts_row, symbol=symbol, tick_units=tick_units),
        quotes=QUOTE_SCHEMA.empty_table(),
        quarantine=quarantine_table(quarantine_frame(bad, label)),
        seed=seed,
        rows_read=n,
        rows_skipped=n_halt,
        notes=notes,
    )
    logger.debug(
        "%s: %d messages, %d deltas (%d corrections), %d trades",
        label,
        n,
        market.book.num_rows,
        0 if ops is None else len(ops.row),
        len(trade_rows),
    )
    return LobsterData(
        market=market,
        reference=ref,
        levels=levels,
        msg_type=msg_type,
        path=label,
        sync=sync,
        corrections=corrections,
        clamped=0 if ops is None else ops.clamped,
    )
