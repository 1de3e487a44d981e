"""Order-book sources into the lake: recognise a file, read it, store it per day.

Four sources are known (``source`` names as in :class:`MarketData`):

* ``lobster`` — a LOBSTER zip (``LOBSTER_SampleFile_*.zip`` or any zip holding a
  ``*_message_<L>.csv``) or a message CSV itself;
* ``binance`` — a gzip capture whose first line is ``<receive ns> {json}``;
* ``sierra`` — a Sierra Chart export whose header starts ``Date;Time;Sequence;DepthSequence``;
* ``b3_l1`` — a B3 level-1 poll CSV whose header starts ``timestamp,bid_price_1``.

A read's trades, book deltas and quotes are split by day — the São Paulo date for B3
symbols (roots WDO, DOL, WIN, IND), the UTC date otherwise — and each non-empty kind is
written as one lake partition per ``(symbol, day)``. Writing replaces a partition, so
importing the same input twice stores it once.
"""

from __future__ import annotations

import datetime as dt
import gzip
import importlib
import itertools
import logging
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from quantumtrader.core.errors import DataError
from quantumtrader.core.timeutil import NS_PER_DAY, local_midnight_ns
from quantumtrader.data.b3_l1 import B3_L1_HEADER, read_b3_l1
from quantumtrader.data.lake import KINDS, Lake, PartitionInfo
from quantumtrader.data.market_day import MarketData
from quantumtrader.data.sierra import SIERRA_HEADER, read_sierra
from quantumtrader.model.book import (
    F_LAST,
    F_SNAPSHOT,
    BookAction,
    BookDelta,
    BookSide,
    BookSnapshot,
)
from quantumtrader.model.book_arrow import BOOK_SCHEMA, deltas_to_table
from quantumtrader.model.instruments import root_of

__all__ = [
    "B3_ROOTS",
    "BOOK_SOURCES",
    "book_with_seed",
    "detect_book_source",
    "import_market_data",
    "read_book_source",
    "seed_deltas",
    "split_by_day",
]

logger = logging.getLogger(__name__)

B3_ROOTS = frozenset({"WDO", "DOL", "WIN", "IND"})
"""Roots whose partitions are keyed by the São Paulo date."""

BOOK_SOURCES = ("lobster", "binance", "sierra", "b3_l1")
"""Source names :func:`detect_book_source` returns."""

_LOBSTER_ZIP = re.compile(r"^LOBSTER_SampleFile_.*\.zip$")
_LOBSTER_MESSAGE = re.compile(r"_message_\d+\.csv$")
_BINANCE_LINE = re.compile(rb"^\d+ (\{.*)$", re.DOTALL)
_PROBE_BYTES = 1 << 20
_EPOCH = dt.date(1970, 1, 1)


# -- days -------------------------------------------------------------------------


def _day_numbers(ts: np.ndarray[Any, Any], b3: bool) -> np.ndarray[Any, Any]:
    """Epoch day numbers of ns UTC timestamps: UTC dates, or São Paulo dates when ``b3``."""
    utc = ts // NS_PER_DAY
    if not b3 or len(ts) == 0:
        return utc
    first, last = int(utc.min()) - 1, int(utc.max()) + 1
    midnights = np.array(
        [local_midnight_ns(_EPOCH + dt.timedelta(days=d)) for d in range(first, last + 2)],
        dtype=np.int64,
    )
    return first + np.searchsorted(midnights, ts, side="right") - 1


def split_by_day(table: pa.Table, symbol: str) -> dict[dt.date, pa.Table]:
    """Rows of ``table`` grouped by the partition day of their ``ts_event``.

    Parameters
    ----------
    table
        Any table with a ``ts_event`` column (ns UTC timestamps).
    symbol
        Decides the calendar: São Paulo dates for :data:`B3_ROOTS`, UTC otherwise.

    Returns
    -------
    dict
        Day -> rows of that day in their original order, ascending days; empty for an
        empty table.
    """
    if table.num_rows == 0:
        return {}
    ts = table.column("ts_event").cast(pa.int64()).to_numpy()
    days = _day_numbers(ts, root_of(symbol) in B3_ROOTS)
    out: dict[dt.date, pa.Table] = {}
    for d in np.unique(days).tolist():
        out[_EPOCH + dt.timedelta(days=d)] = table.filter(pa.array(days == d))
    return out


# -- seed -------------------------------------------------------------------------


def seed_deltas(seed: BookSnapshot) -> pa.Table:
    """A seed book as snapshot deltas that replay before the source's first event.

    ``CLEAR(BOTH)`` then one ``SET`` per level (asks, then bids), all
    :data:`F_SNAPSHOT`, the last also :data:`F_LAST`, at ``seed.ts_event``; their
    ``seq`` run up to ``seed.seq`` (events after the seed have larger ``seq``).

    Returns
    -------
    pyarrow.Table
        :data:`~quantumtrader.model.book_arrow.BOOK_SCHEMA`, ``1 + levels`` rows.
    """
    levels = [
        (BookSide.ASK, p, s) for p, s in zip(seed.ask_prices, seed.ask_sizes, strict=True)
    ] + [(BookSide.BID, p, s) for p, s in zip(seed.bid_prices, seed.bid_sizes, strict=True)]
    levels = [lv for lv in levels if lv[2] > 0]
    first, n = seed.seq - len(levels), len(levels)

    def delta(k: int, side: BookSide, action: BookAction, price: float, size: float) -> BookDelta:
        return BookDelta(
            ts_event=seed.ts_event,
            ts_init=seed.ts_init,
            symbol=seed.symbol,
            side=side,
            action=action,
            price=price,
            size=size,
            seq=first + k,
            flags=F_SNAPSHOT | (F_LAST if k == n else 0),
        )

    deltas = [delta(0, BookSide.BOTH, BookAction.CLEAR, 0.0, 0.0)]
    deltas += [
        delta(k, side, BookAction.SET, price, size)
        for k, (side, price, size) in enumerate(levels, start=1)
    ]
    return deltas_to_table(deltas)


def book_with_seed(data: MarketData) -> pa.Table:
    """``data.book`` (:data:`BOOK_SCHEMA`), preceded by the seed book's snapshot deltas if any.

    This is the book stream a replay applies: for LOBSTER the pre-open book first
    (:func:`seed_deltas`), then the messages.
    """
    book = data.book.select(list(BOOK_SCHEMA.names)).cast(BOOK_SCHEMA)
    if data.seed is None:
        return book
    return pa.concat_tables([seed_deltas(data.seed), book])


# -- day boundaries ----------------------------------------------------------------


def _day_start_ns(day: dt.date, b3: bool) -> int:
    if b3:
        return int(local_midnight_ns(day))
    return (day - _EPOCH).days * NS_PER_DAY


def carry_day_snapshots(book_days: dict[dt.date, pa.Table], symbol: str) -> dict[dt.date, pa.Table]:
    """Start every day after the first with a snapshot of the book at the day boundary.

    A capture that crosses midnight (Binance) has its book snapshot only on the first
    day; without a leading snapshot a later day's partition could not be replayed on
    its own. The book is aggregated per price level from the deltas (``SET``,
    ``CHANGE``, ``DELETE``, ``CLEAR``) and stored as ``CLEAR`` + ``SET`` rows with
    :data:`F_SNAPSHOT`, stamped at the day's first instant with ``seq`` values just
    below the day's first event, so a replay of consecutive days is unchanged.

    Parameters
    ----------
    book_days
        Book rows per day, ascending days, each in ``(ts_event, seq)`` order.
    symbol
        Instrument (B3 roots use São Paulo days).

    Returns
    -------
    dict
        The same days, later days with their snapshot rows first.
    """
    days = sorted(book_days)
    if len(days) < 2:
        return book_days
    b3 = root_of(symbol) in B3_ROOTS
    levels: dict[int, dict[float, float]] = {int(BookSide.BID): {}, int(BookSide.ASK): {}}
    out = {days[0]: book_days[days[0]]}
    for prev, day in itertools.pairwise(days):
        t = book_days[prev]
        cols = [t.column(c).to_numpy() for c in ("side", "action", "price", "size")]
        for side, action, price, size in zip(*cols, strict=True):
            a, sd = int(action), int(side)
            if a == BookAction.CLEAR:
                for k, side_levels in levels.items():
                    if sd in (int(BookSide.BOTH), k):
                        side_levels.clear()
                continue
            book = levels[sd]
            p = float(price)
            new = float(size) if a == BookAction.SET else 0.0
            if a == BookAction.CHANGE:
                new = book.get(p, 0.0) + float(size)
            if new > 0.0:
                book[p] = new
            else:
                book.pop(p, None)
        table = book_days[day]
        first_seq = int(table.column("seq")[0].as_py()) if table.num_rows else 0
        bids = sorted(levels[int(BookSide.BID)].items(), reverse=True)
        asks = sorted(levels[int(BookSide.ASK)].items())
        seed = BookSnapshot(
            ts_event=_day_start_ns(day, b3),
            ts_init=_day_start_ns(day, b3),
            symbol=symbol,
            seq=first_seq - 1,
            bid_prices=tuple(p for p, _ in bids),
            bid_sizes=tuple(q for _, q in bids),
            ask_prices=tuple(p for p, _ in asks),
            ask_sizes=tuple(q for _, q in asks),
        )
        snap = seed_deltas(seed)
        out[day] = pa.concat_tables([snap, table.select(snap.column_names).cast(snap.schema)])
    return out


# -- import -----------------------------------------------------------------------


def import_market_data(data: MarketData, lake: Lake) -> list[PartitionInfo]:
    """Store one read in the lake, one partition per non-empty ``(kind, symbol, day)``.

    A seed book (``data.seed``) is stored as leading snapshot deltas
    (:func:`seed_deltas`), and every book day after the first starts with a snapshot
    of the book at the day boundary (:func:`carry_day_snapshots`), so each day can be
    replayed on its own. The quarantined rows carry no time, so they are stored with
    the first day's book partition (the first trades partition when there is no book,
    else the first quotes partition).

    Parameters
    ----------
    data
        A reader's result.
    lake
        Target lake; existing partitions of the same keys are replaced.

    Returns
    -------
    list of PartitionInfo
        Written partitions, by kind (``trades``, ``book``, ``quotes``) then day.

    Raises
    ------
    DataError
        If rows were quarantined but there is no event to store them with, or a table
        does not fit the lake (schema, symbol).
    """
    tables = {"trades": data.trades, "book": book_with_seed(data), "quotes": data.quotes}
    parts = {kind: split_by_day(tables[kind], data.symbol) for kind in KINDS}
    parts["book"] = carry_day_snapshots(parts["book"], data.symbol)
    home = next((kind for kind in ("book", "trades", "quotes") if parts[kind]), None)
    if home is None:
        if data.quarantine.num_rows:
            raise DataError(
                f"{data.source} {data.symbol}: all {data.quarantine.num_rows} rows quarantined "
                "and no event to store them with"
            )
        return []
    home_day = min(parts[home])
    writers = {"trades": lake.write_trades, "book": lake.write_book, "quotes": lake.write_quotes}
    out: list[PartitionInfo] = []
    for kind in KINDS:
        for day, table in parts[kind].items():
            quarantine = data.quarantine if (kind, day) == (home, home_day) else ()
            out.append(writers[kind](data.symbol, day, table, quarantine))
    logger.info(
        "imported %s %s: %s",
        data.source,
        data.symbol,
        ", ".join(f"{p.kind} {p.day} {p.rows}" for p in out),
    )
    return out


# -- detection and reading --------------------------------------------------------


def _first_line(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(_PROBE_BYTES)
    return head.split(b"\n", 1)[0].decode("latin-1").lstrip("\ufeff\xef\xbb\xbf").rstrip("\r")


def _is_binance(path: Path) -> bool:
    try:
        with gzip.open(path, "rb") as fh:
            line = fh.readline(_PROBE_BYTES)
    except (OSError, EOFError):
        return False
    m = _BINANCE_LINE.match(line.rstrip(b"\r\n"))
    if m is None:
        return False
    if not line.endswith(b"\n"):
        return True  # a line longer than the probe: the prefix has to do
    try:
        msgspec.json.decode(m.group(1))
    except msgspec.DecodeError:
        return False
    return True


def detect_book_source(path: Path) -> str | None:
    """Recognise an order-book source file without reading it whole.

    Parameters
    ----------
    path
        A file.

    Returns
    -------
    str or None
        One of :data:`BOOK_SOURCES`, or ``None`` when the file is none of them
        (directories included).

    Raises
    ------
    DataError
        If ``path`` does not exist or cannot be read.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    if not path.is_file():
        return None
    name = path.name
    try:
        if name.endswith(".zip"):
            if _LOBSTER_ZIP.match(name):
                return "lobster"
            try:
                with zipfile.ZipFile(path) as zf:
                    members = zf.namelist()
            except zipfile.BadZipFile:
                return None
            return "lobster" if any(_LOBSTER_MESSAGE.search(m) for m in members) else None
        if name.endswith(".gz"):
            return "binance" if _is_binance(path) else None
        if _LOBSTER_MESSAGE.search(name):
            return "lobster"
        first = _first_line(path)
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from exc
    if first.startswith(SIERRA_HEADER):
        return "sierra"
    if first.startswith(B3_L1_HEADER):
        return "b3_l1"
    return None


def _binance_key(path: Path) -> tuple[str, str]:
    """One Binance symbol and market: same folder (``spot``/``usdm``), same name prefix."""
    return str(path.resolve().parent), path.name.split("_", 1)[0].lower()


def read_book_source(paths: Iterable[Path], *, sierra_symbol: str = "ES") -> list[MarketData]:
    """Detect and read order-book source files.

    Binance files of one symbol and market (same folder, same ``<symbol>_`` name
    prefix) are read together, ordered by name, since a day's capture continues the
    previous one's book. Every other file is one read.

    Parameters
    ----------
    paths
        Files of any of the :data:`BOOK_SOURCES`.
    sierra_symbol
        Instrument of Sierra Chart exports (they do not name it).

    Returns
    -------
    list of MarketData
        One per read, in the order of each read's first file in ``paths``.

    Raises
    ------
    DataError
        If a file is missing, unreadable or of no known source (the message names
        it), or a reader rejects it.
    """
    reads: dict[tuple[str, ...], list[Path]] = {}
    for raw in paths:
        path = Path(raw)
        source = detect_book_source(path)
        if source is None:
            raise DataError(
                "not a known order-book source (LOBSTER zip, Binance capture, "
                "Sierra Chart export, B3 level-1 CSV)",
                path=str(path),
            )
        key: tuple[str, ...] = (
            ("binance", *_binance_key(path)) if source == "binance" else (source, str(path))
        )
        reads.setdefault(key, []).append(path)
    out: list[MarketData] = []
    for key, files in reads.items():
        out.append(_read_one(key[0], files, sierra_symbol))
    return out


def _read_one(source: str, files: Sequence[Path], sierra_symbol: str) -> MarketData:
    if source == "sierra":
        return read_sierra(files[0], symbol=sierra_symbol)
    if source == "b3_l1":
        return read_b3_l1(files[0])
    # The LOBSTER and Binance readers load only when such a file is read.
    if source == "lobster":
        from quantumtrader.data.lobster import read_lobster  # noqa: PLC0415

        result = read_lobster(files[0])
        market = getattr(result, "market", None) or getattr(result, "data", None)
    else:
        binance = importlib.import_module("quantumtrader.data.binance")
        market = binance.read_binance(sorted(set(files), key=lambda p: p.name))
    if not isinstance(market, MarketData):
        raise DataError(f"the {source} reader returned {type(market).__name__}", path=str(files[0]))
    return market
