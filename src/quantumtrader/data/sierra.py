"""CME trades with a depth-of-market state per trade, as Sierra Chart exports them.

Layout (``;``-separated, one header row, LF or CRLF, the last row may lack its
newline; see ``../shared/data/cme_es_sierra_tbt/SOURCE.md``)::

    Date;Time;Sequence;DepthSequence;Price;Volume;TradeType;AskPrice;BidPrice;AskSize;
    BidSize;TotalAskDepth;TotalBidDepth;AskDOMPrice;BidDOMPrice;AskDOM_0;BidDOM_0;...

``Time`` is ``HH:MM:SS.<µs>`` with the microseconds **not zero-padded** (``.5000`` is
5,000 µs). ``TradeType`` is the aggressor (1 = at the bid, seller-initiated; 2 = at the
ask, buyer-initiated). Level ``k`` of the DOM sits at ``AskDOMPrice + k·tick`` /
``BidDOMPrice − k·tick`` with size ``AskDOM_k`` / ``BidDOM_k`` (20 or 40 levels).
Columns other than these (an export's own derived columns) are ignored.

Events, all numbered by one ``seq`` counter in ``Sequence`` order (the file itself need
not be sorted). For each row, in this order:

1. when ``DepthSequence`` differs from the previous row's, the DOM as a snapshot:
   ``CLEAR(BOTH)`` then one ``SET`` per level with size > 0 (asks level 0..L−1, then
   bids), all flagged :data:`F_SNAPSHOT`, the last one also :data:`F_LAST`;
2. a :class:`~quantumtrader.model.book.Quote` of the row's own ``Ask/BidPrice`` and
   ``Ask/BidSize`` (``update_id`` = ``DepthSequence``);
3. the trade (``trade_id`` = ``Sequence``).

The depth state comes before the trade because Sierra attaches to a trade the book it
held when the trade printed, so a replay sees the book the aggressor hit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pyarrow as pa

from quantumtrader.core.errors import DataError
from quantumtrader.core.timeutil import NS_PER_DAY, NS_PER_SECOND
from quantumtrader.data._lines import lines_frame
from quantumtrader.data.market_day import MarketData
from quantumtrader.data.quarantine import QuarantineRow, quarantine_table
from quantumtrader.model.arrow import TRADE_SCHEMA, TS_TYPE
from quantumtrader.model.book import F_LAST, F_SNAPSHOT, BookAction, BookSide
from quantumtrader.model.book_arrow import BOOK_SCHEMA, QUOTE_SCHEMA
from quantumtrader.model.events import Aggressor, TradeKind
from quantumtrader.model.instruments import spec_for

__all__ = ["SIERRA_FIELDS", "SIERRA_HEADER", "read_sierra"]

logger = logging.getLogger(__name__)

Array = np.ndarray[Any, Any]

SIERRA_HEADER = "Date;Time;Sequence;DepthSequence"
"""How the header row of a Sierra Chart trade-and-depth export starts."""

SIERRA_FIELDS = (
    "Date",
    "Time",
    "Sequence",
    "DepthSequence",
    "Price",
    "Volume",
    "TradeType",
    "AskPrice",
    "BidPrice",
    "AskSize",
    "BidSize",
    "AskDOMPrice",
    "BidDOMPrice",
)
"""Columns the reader needs besides ``AskDOM_k``/``BidDOM_k``."""

_PRICES = ("Price", "AskPrice", "BidPrice", "AskDOMPrice", "BidDOMPrice")
_TIME = r"^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$"
_GRID_EPS = 1e-6
_CHICAGO = ZoneInfo("America/Chicago")


# -- helpers shared with the B3 level-1 reader ------------------------------------


class _Rejects:
    """The first failed check of each row: row index -> (field, reason)."""

    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, dtype=bool)
        self.why: dict[int, tuple[str, str]] = {}

    def add(self, fail: Array, field: str, reason: Callable[[int], str]) -> None:
        """Reject the rows of ``fail`` not rejected yet, with ``reason(row)``."""
        fail = np.asarray(fail, dtype=bool)
        for i in np.flatnonzero(fail & ~self.bad).tolist():
            self.why[i] = (field, reason(i))
        self.bad |= fail

    def rows(self, file: str, lines: Array, raw: pl.Series) -> list[QuarantineRow]:
        """Quarantine rows of the rejected input lines."""
        return [
            QuarantineRow(file=file, line=int(lines[i]), field=f, reason=r, raw=raw[i])
            for i, (f, r) in sorted(self.why.items())
        ]


def _read_table_text(path: Path, sep: str) -> tuple[list[str], pl.DataFrame]:
    """Header names and body rows of a delimited text file.

    Returns
    -------
    tuple
        The header's field names and a frame with ``line`` (1-based, int64), ``raw``
        (the line without CR/LF) and ``n_fields`` (separator count + 1), one row per
        body line.

    Raises
    ------
    DataError
        If the file cannot be read or is empty.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from exc
    if not data.strip():
        raise DataError("empty file", path=str(path))
    frame = lines_frame(data, 1, "auto").with_columns(pl.col("raw").str.strip_chars_end("\r\n"))
    header = str(frame["raw"][0]).lstrip("\ufeff").split(sep)
    body = frame.slice(1).with_columns(
        (pl.col("raw").str.count_matches(sep, literal=True) + 1).alias("n_fields")
    )
    return header, body


def _cells(body: pl.DataFrame, header: list[str], sep: str, path: Path) -> pl.DataFrame:
    """One string column per header field (null where a short line has no such field)."""
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise DataError(f"duplicate header columns {dup}", path=str(path), line=1)
    split = body.select(pl.col("raw").str.split_exact(sep, len(header) - 1).alias("s"))
    return split.select(pl.col("s").struct.rename_fields(header)).unnest("s")


def _shape_checks(rej: _Rejects, body: pl.DataFrame, n_fields: int, sep: str) -> None:
    raw = body["raw"]
    rej.add(raw.str.strip_chars().eq("").to_numpy(), "line", lambda _: "blank line")
    nf = body["n_fields"].to_numpy()
    rej.add(
        nf != n_fields,
        "fields",
        lambda i: f"expected {n_fields} '{sep}'-separated fields, found {nf[i]}",
    )


def _say(template: str, text: pl.Series) -> Callable[[int], str]:
    """A reason builder: ``template`` with the row's cell quoted in place of ``{}``."""
    return lambda i: template.format(repr(text[i]))


def _ints(text: pl.Series) -> tuple[Array, Array]:
    """Integer values (0 where bad) and the mask of cells that are not integers."""
    v = text.cast(pl.Int64, strict=False)
    return v.fill_null(0).to_numpy(), v.is_null().to_numpy()


def _floats(text: pl.Series) -> tuple[Array, Array]:
    """Float values (0 where bad) and the mask of cells that are not finite numbers."""
    v = text.cast(pl.Float64, strict=False)
    bad = (v.is_null() | ~v.is_finite().fill_null(False)).to_numpy()
    return np.where(bad, 0.0, v.fill_null(0.0).to_numpy()), bad


def _off_grid(price: Array, tick: float) -> Array:
    ticks = price / tick
    return np.abs(ticks - np.round(ticks)) > _GRID_EPS


def _ts_column(values: Array) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), pa.int64()).cast(TS_TYPE)


def _utc_days(ts: Array) -> list[dt.date]:
    """Distinct UTC dates of ns timestamps, ascending."""
    epoch = dt.date(1970, 1, 1)
    return [epoch + dt.timedelta(days=int(d)) for d in np.unique(ts // NS_PER_DAY)]


def _symbol_column(symbol: str, n: int) -> pa.Array:
    """``symbol`` repeated ``n`` times, built from buffers (no per-row Python objects)."""
    data = symbol.encode()
    if n * len(data) >= 2**31 - 1:
        return pa.array([symbol] * n, pa.string())
    offsets = np.arange(n + 1, dtype=np.int32) * len(data)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data * n))


def _book_table(symbol: str, cols: dict[str, Array]) -> pa.Table:
    """A :data:`BOOK_SCHEMA` table from numpy columns (``order_id`` is 0)."""
    n = len(cols["seq"])
    return pa.Table.from_arrays(
        [
            _ts_column(cols["ts"]),
            _ts_column(cols["ts"]),
            _symbol_column(symbol, n),
            pa.array(cols["side"], pa.int8()),
            pa.array(cols["action"], pa.int8()),
            pa.array(cols["price"], pa.float64()),
            pa.array(cols["size"], pa.float64()),
            pa.array(np.zeros(n, dtype=np.int64), pa.int64()),
            pa.array(cols["seq"], pa.int64()),
            pa.array(cols["update_id"], pa.int64()),
            pa.array(cols["flags"], pa.int16()),
        ],
        schema=BOOK_SCHEMA,
    )


def _quote_table(symbol: str, cols: dict[str, Array]) -> pa.Table:
    """A :data:`QUOTE_SCHEMA` table from numpy columns."""
    n = len(cols["seq"])
    return pa.Table.from_arrays(
        [
            _ts_column(cols["ts"]),
            _ts_column(cols["ts"]),
            _symbol_column(symbol, n),
            *(
                pa.array(cols[c], pa.float64())
                for c in ("bid_price", "bid_size", "ask_price", "ask_size")
            ),
            pa.array(cols["update_id"], pa.int64()),
            pa.array(cols["seq"], pa.int64()),
        ],
        schema=QUOTE_SCHEMA,
    )


# -- Sierra -----------------------------------------------------------------------


def _dom_levels(header: list[str], path: Path) -> int:
    n = 0
    while f"AskDOM_{n}" in header and f"BidDOM_{n}" in header:
        n += 1
    if n == 0:
        raise DataError("no AskDOM_0/BidDOM_0 columns in the header", path=str(path), line=1)
    return n


def _times(cells: pl.DataFrame) -> tuple[Array, Array, Array]:
    """ns UTC per row, and the masks of bad ``Date`` and bad ``Time`` cells."""
    days = cells["Date"].str.to_date("%Y-%m-%d", strict=False)
    bad_date = days.is_null().to_numpy()
    g = cells["Time"].str.extract_groups(_TIME).struct.unnest()
    hh, mm, ss = (g[c].cast(pl.Int64).fill_null(0).to_numpy() for c in ("1", "2", "3"))
    us = g["4"].cast(pl.Int64).fill_null(0).to_numpy()
    bad_time = g["1"].is_null().to_numpy() | (hh > 23) | (mm > 59) | (ss > 59)
    sod = (hh * 60 + mm) * 60 + ss
    epoch_day = days.cast(pl.Int64).fill_null(0).to_numpy()
    ts = epoch_day * NS_PER_DAY + sod * NS_PER_SECOND + us * 1000
    return ts, bad_date, bad_time


def _zone_note(cells: pl.DataFrame, ts: Array, good: Array) -> str:
    """Whether the export's own ``Datetime`` column (Chicago time) confirms UTC ``Time``."""
    base = "Time read as UTC (Sierra Chart does not state the export's zone)"
    first = np.flatnonzero(good)
    if "Datetime" not in cells.columns or len(first) == 0:
        return (
            base + "; unverified: no Datetime column to check against. If the export "
            "used exchange time (US/Central), every time is off by Chicago's UTC offset"
        )
    i = int(first[0])
    try:
        local = dt.datetime.strptime(str(cells["Datetime"][i])[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return base + f"; unverified: Datetime {cells['Datetime'][i]!r} is not readable"
    utc = dt.datetime.fromtimestamp(int(ts[i]) // NS_PER_SECOND, tz=dt.UTC)
    diff_h = round((utc.replace(tzinfo=None) - local).total_seconds() / 3600)
    off = utc.astimezone(_CHICAGO).utcoffset()
    chicago_h = -round(off.total_seconds() / 3600) if off is not None else 0
    if diff_h == chicago_h:
        return base + f"; confirmed: the export's Datetime column is Time - {diff_h} h (Chicago)"
    return base + f"; the export's Datetime column is Time - {diff_h} h, Chicago is -{chicago_h} h"


def _check_rows(
    rej: _Rejects, cells: pl.DataFrame, header: list[str], levels: int, tick: float
) -> dict[str, Array]:
    """Validate the used columns in header order; return their parsed values."""
    ts, bad_date, bad_time = _times(cells)
    dom = {f"{s}DOM_{k}" for s in ("Ask", "Bid") for k in range(levels)}
    out: dict[str, Array] = {"ts": ts}
    for name in header:
        text = cells[name]
        if name == "Date":
            rej.add(bad_date, name, _say("bad date {} (expected YYYY-MM-DD)", text))
        elif name == "Time":
            rej.add(bad_time, name, _say("bad time {} (expected HH:MM:SS.µs)", text))
        elif name in _PRICES:
            v, bad = _floats(text)
            rej.add(bad, name, _say("price {} is not a number", text))
            rej.add(v <= 0, name, _say("price {} must be > 0", text))
            rej.add(_off_grid(v, tick), name, _say(f"price {{}} is not on the {tick} grid", text))
            out[name] = v
        elif name in SIERRA_FIELDS or name in dom:
            v, bad = _ints(text)
            rej.add(bad, name, _say("{} is not an integer", text))
            if name == "TradeType":
                unknown = (v != 1) & (v != 2)
                rej.add(unknown, name, _say("unknown TradeType {} (expected 1 or 2)", text))
            elif name == "Volume":
                rej.add(v <= 0, name, _say("volume {} must be > 0", text))
            elif name not in ("Sequence", "DepthSequence"):
                rej.add(v < 0, name, _say("size {} must be >= 0", text))
            out[name] = v
    return out


def _events(
    v: dict[str, Array], levels: int, tick: float, symbol: str
) -> tuple[pa.Table, pa.Table, pa.Table, int]:
    """Trades, book deltas and quotes of rows already sorted by ``Sequence``."""
    m = len(v["ts"])
    ts, dseq = v["ts"], v["DepthSequence"]
    changed = np.ones(m, dtype=bool)
    changed[1:] = dseq[1:] != dseq[:-1]
    ask = np.stack([v[f"AskDOM_{k}"] for k in range(levels)], axis=1).reshape(m, levels)
    bid = np.stack([v[f"BidDOM_{k}"] for k in range(levels)], axis=1).reshape(m, levels)
    sizes = np.concatenate([ask, bid], axis=1)
    present = (sizes > 0) & changed[:, None]
    n_set = present.sum(axis=1)
    n_book = np.where(changed, 1 + n_set, 0)
    per_row = n_book + 2
    base = np.cumsum(per_row) - per_row
    quote_seq = base + n_book
    # A snapshot row's deltas: CLEAR at seq base, SETs at base+1.. in row-major order
    # (asks level 0..L-1, then bids); scattered straight to their place in seq order.
    r, c = np.nonzero(present)
    rank = np.arange(len(r)) - (np.cumsum(n_set) - n_set)[r]
    clear_rows = np.flatnonzero(changed)
    book_off = np.cumsum(n_book) - n_book
    pos_clear, pos_set = book_off[clear_rows], book_off[r] + 1 + rank
    n_total = int(n_book.sum())

    def scatter(at_clear: Any, at_set: Any, dtype: Any) -> Array:
        out = np.empty(n_total, dtype=dtype)
        out[pos_clear] = at_clear
        out[pos_set] = at_set
        return out

    level = c % levels
    is_ask = c < levels
    price = np.where(is_ask, v["AskDOMPrice"][r] + level * tick, v["BidDOMPrice"][r] - level * tick)
    row_of = scatter(clear_rows, r, np.int64)
    flags = np.full(n_total, F_SNAPSHOT, dtype=np.int16)
    flags[pos_clear + n_book[clear_rows] - 1] |= F_LAST
    book_table = _book_table(
        symbol,
        {
            "ts": ts[row_of],
            "side": scatter(BookSide.BOTH, np.where(is_ask, BookSide.ASK, BookSide.BID), np.int8),
            "action": scatter(BookAction.CLEAR, BookAction.SET, np.int8),
            "price": scatter(0.0, np.round(price, 9), np.float64),
            "size": scatter(0.0, sizes[r, c], np.float64),
            "seq": scatter(base[clear_rows], base[r] + 1 + rank, np.int64),
            "update_id": dseq[row_of],
            "flags": flags,
        },
    )
    quotes = _quote_table(
        symbol,
        {
            "ts": ts,
            "bid_price": v["BidPrice"],
            "bid_size": v["BidSize"].astype(np.float64),
            "ask_price": v["AskPrice"],
            "ask_size": v["AskSize"].astype(np.float64),
            "update_id": dseq,
            "seq": quote_seq,
        },
    )
    null_ids = pa.nulls(m, pa.int32())
    trades = pa.Table.from_arrays(
        [
            _ts_column(ts),
            _ts_column(ts),
            _symbol_column(symbol, m),
            pa.array(v["Price"], pa.float64()),
            pa.array(v["Volume"], pa.int64()),
            pa.array(np.where(v["TradeType"] == 1, Aggressor.SELL, Aggressor.BUY), pa.int8()),
            pa.array(np.full(m, TradeKind.REGULAR), pa.int8()),
            pa.array(np.zeros(m, dtype=bool), pa.bool_()),
            null_ids,
            _symbol_column("", m),
            null_ids,
            _symbol_column("", m),
            pa.array(v["Sequence"], pa.int64()),
            pa.array(quote_seq + 1, pa.int64()),
            pa.array(np.zeros(m, dtype=bool), pa.bool_()),
        ],
        schema=TRADE_SCHEMA,
    )
    return trades, book_table, quotes, len(clear_rows)


def read_sierra(path: Path, *, symbol: str = "ES") -> MarketData:
    """Read a Sierra Chart trade-and-depth export.

    Parameters
    ----------
    path
        The ``;``-separated text export.
    symbol
        Instrument of the rows (the export does not name it); its spec gives the
        tick grid (ES: 0.25 points).

    Returns
    -------
    MarketData
        ``source="sierra"``: one trade and one quote per accepted row, a depth
        snapshot (``CLEAR`` + ``SET`` rows, ``2·L + 1`` at most) per change of
        ``DepthSequence``; ``days`` are the UTC dates of the rows; ``rows_skipped``
        is 0. Rejected rows (wrong field count, unparsable number, price ≤ 0 or off
        the tick grid, unknown ``TradeType``, negative size) are in ``quarantine``
        with their line and field.

    Raises
    ------
    DataError
        If the file cannot be read, the header is not a Sierra export, or a needed
        column is missing.
    ConfigError
        If ``symbol`` has no instrument spec.

    References
    ----------
    Sierra Chart, "Time and Sales" and "Market Depth Historical Data" documentation;
    the format notes of ``../shared/data/cme_es_sierra_tbt/SOURCE.md``.
    """
    path = Path(path)
    tick = spec_for(symbol).tick_size
    header, body = _read_table_text(path, ";")
    if not ";".join(header).startswith(SIERRA_HEADER):
        raise DataError(
            f"not a Sierra Chart export: header must start with {SIERRA_HEADER!r}",
            path=str(path),
            line=1,
        )
    missing = [f for f in SIERRA_FIELDS if f not in header]
    if missing:
        raise DataError(f"header lacks columns {missing}", path=str(path), line=1)
    levels = _dom_levels(header, path)
    cells = _cells(body, header, ";", path)
    rej = _Rejects(body.height)
    _shape_checks(rej, body, len(header), ";")
    values = _check_rows(rej, cells, header, levels, tick)
    good = ~rej.bad
    quarantine = quarantine_table(rej.rows(str(path), body["line"].to_numpy(), body["raw"]))
    notes = [_zone_note(cells, values["ts"], good)]

    seq_good = values["Sequence"][good]
    order = np.argsort(seq_good, kind="stable")
    backsteps = int(np.count_nonzero(np.diff(seq_good) < 0))
    if backsteps:
        notes.append(f"file not in Sequence order ({backsteps} backward steps): sorted by it")
    dups = len(seq_good) - len(np.unique(seq_good))
    if dups:
        notes.append(f"{dups} rows repeat an earlier Sequence (kept, in file order)")
    sorted_v = {k: a[good][order] for k, a in values.items()}
    if np.any(np.diff(sorted_v["ts"]) < 0):
        notes.append("times go backwards in Sequence order (kept; seq follows Sequence)")
    trades, book, quotes, n_snap = _events(sorted_v, levels, tick, symbol)
    notes.append(
        f"{n_snap} depth snapshots ({levels} DOM levels a side) for {trades.num_rows} trades; "
        "per row: snapshot (when DepthSequence changed), then quote, then trade"
    )
    ignored = [
        h for h in header if h not in SIERRA_FIELDS and not h.startswith(("AskDOM_", "BidDOM_"))
    ]
    if ignored:
        notes.append(f"columns ignored: {', '.join(ignored)}")
    days = _utc_days(sorted_v["ts"])
    logger.debug("read %s: %d rows, %d quarantined", path, body.height, quarantine.num_rows)
    return MarketData(
        source="sierra",
        symbol=symbol,
        days=days,
        trades=trades,
        book=book,
        quotes=quotes,
        quarantine=quarantine,
        rows_read=body.height,
        rows_skipped=0,
        notes=notes,
    )
