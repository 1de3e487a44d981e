"""B3 top-of-book polls (a ProfitDLL collector's CSV of 5 book levels) to book deltas.

Layout (``,``-separated, one header row; see
``../shared/data/b3_wdo_l1_book_20250811/SOURCE.md``)::

    timestamp,bid_price_1,bid_vol_1,...,bid_price_5,bid_vol_5,ask_price_1,ask_vol_1,...,
    ask_vol_5,spread,mid_price,imbalance,symbol,...

``timestamp`` is ``YYYY-MM-DD HH:MM:SS[.ffffff]`` São Paulo wall-clock time. A level
with price 0 is empty. Columns other than ``timestamp``, ``symbol`` and the 20 level
columns are the collector's own derived values and are ignored.

Each row is a *poll* of the book (about every 52 ms) whether or not it changed, so
the reader emits events only for rows whose level state differs from the previous
accepted row: per side (bids, then asks) a ``DELETE`` for each price that left the
side, then a ``SET`` for each price that is new or whose size changed; the row's last
delta carries :data:`F_LAST`. The first row is a snapshot (``CLEAR(BOTH)`` + ``SET``
rows flagged :data:`F_SNAPSHOT`). Each emitting row is followed by a
:class:`~quantumtrader.model.book.Quote` of its level 1; one ``seq`` counter numbers
deltas and quotes. Unchanged polls are counted in ``rows_skipped``.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from quantumtrader.core.errors import DataError
from quantumtrader.core.timeutil import NS_PER_DAY, NS_PER_SECOND, local_to_utc_ns
from quantumtrader.data.market_day import MarketData
from quantumtrader.data.quarantine import quarantine_table
from quantumtrader.data.sierra import (
    _book_table,
    _cells,
    _floats,
    _off_grid,
    _quote_table,
    _read_table_text,
    _Rejects,
    _say,
    _shape_checks,
)
from quantumtrader.model.arrow import TRADE_SCHEMA
from quantumtrader.model.book import F_LAST, F_SNAPSHOT, BookAction, BookSide
from quantumtrader.model.instruments import spec_for

__all__ = ["B3_L1_HEADER", "B3_L1_LEVELS", "read_b3_l1"]

logger = logging.getLogger(__name__)

Array = np.ndarray[Any, Any]

B3_L1_HEADER = "timestamp,bid_price_1"
"""How the header row of a B3 level-1 poll CSV starts."""

B3_L1_LEVELS = 5
"""Book levels per side in the file (only level 1 is filled in the known sample)."""

_TS = r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$"
_SIDES = (("bid", BookSide.BID), ("ask", BookSide.ASK))
_LEVEL_COLS = tuple(
    f"{s}_{what}_{k}" for s, _ in _SIDES for k in range(1, 6) for what in ("price", "vol")
)
_EPOCH = dt.date(1970, 1, 1)


def _local_times(rej: _Rejects, text: pl.Series) -> tuple[Array, Array]:
    """Local epoch day and ns since local midnight per row; rejects bad timestamps."""
    g = text.str.extract_groups(_TS).struct.unnest()
    day = g["1"].str.to_date("%Y-%m-%d", strict=False)
    hh, mm, ss = (g[c].cast(pl.Int64).fill_null(0).to_numpy() for c in ("2", "3", "4"))
    frac = g["5"].str.pad_end(9, "0").cast(pl.Int64).fill_null(0).to_numpy()
    bad = day.is_null().to_numpy() | (hh > 23) | (mm > 59) | (ss > 59)
    rej.add(bad, "timestamp", _say("bad timestamp {} (expected YYYY-MM-DD HH:MM:SS.ffffff)", text))
    epoch_day = day.cast(pl.Int64).fill_null(0).to_numpy()
    return epoch_day, ((hh * 60 + mm) * 60 + ss) * NS_PER_SECOND + frac


def _to_utc(epoch_day: Array, ns_of_day: Array) -> Array:
    """São Paulo wall-clock times to UTC ns (offset looked up once per local hour)."""
    hour_key = epoch_day * 24 + ns_of_day // (3600 * NS_PER_SECOND)
    keys, inverse = np.unique(hour_key, return_inverse=True)
    offsets = np.empty(len(keys), dtype=np.int64)
    for j, key in enumerate(keys.tolist()):
        day = _EPOCH + dt.timedelta(days=key // 24)
        naive = (key // 24 * 86_400 + key % 24 * 3600) * NS_PER_SECOND
        offsets[j] = local_to_utc_ns(day, key % 24 * 3600) - naive
    return epoch_day * NS_PER_DAY + ns_of_day + offsets[inverse.reshape(-1)]


def _level_checks(
    rej: _Rejects, cells: pl.DataFrame, header: list[str], tick: float, symbol: str
) -> dict[str, Array]:
    """Per-cell checks in header order, then per-level consistency; parsed level columns."""
    out: dict[str, Array] = {}
    for name in header:
        text = cells[name]
        if name in _LEVEL_COLS:
            v, bad = _floats(text)
            rej.add(bad, name, _say("{} is not a number", text))
            rej.add(v < 0, name, _say("{} must be >= 0", text))
            if "_price_" in name:
                off = (v > 0) & _off_grid(v, tick)
                rej.add(off, name, _say(f"price {{}} is not on the {tick} grid", text))
            else:
                rej.add(np.abs(v - np.round(v)) > 1e-9, name, _say("size {} is not whole", text))
            out[name] = v
        elif name == "symbol":
            other = (text.str.strip_chars() != symbol).fill_null(True).to_numpy()
            rej.add(other, name, _say(f"symbol {{}} differs from the file's {symbol!r}", text))
    for s, sign in _SIDES:
        for k in range(1, B3_L1_LEVELS + 1):
            p, v = out[f"{s}_price_{k}"], out[f"{s}_vol_{k}"]
            vol_text = cells[f"{s}_vol_{k}"]
            rej.add((p == 0) & (v > 0), f"{s}_vol_{k}", _say("size {} at an empty level", vol_text))
            rej.add((p > 0) & (v == 0), f"{s}_vol_{k}", _say("size {} at a priced level", vol_text))
            if k == 1:
                continue
            prev = out[f"{s}_price_{k - 1}"]
            ptext = cells[f"{s}_price_{k}"]
            rej.add((p > 0) & (prev == 0), f"{s}_price_{k}", _say("{} after an empty level", ptext))
            worse = (p > 0) & (prev > 0) & (sign * (p - prev) >= 0)
            rej.add(worse, f"{s}_price_{k}", _say(f"{{}} not behind level {k - 1}", ptext))
    return out


def _levels(row: Array, side: int) -> dict[float, float]:
    """``price -> size`` of one side of a state row (layout of :func:`_state`)."""
    base = 0 if side == 0 else 2 * B3_L1_LEVELS
    prices = row[base : base + B3_L1_LEVELS]
    sizes = row[base + B3_L1_LEVELS : base + 2 * B3_L1_LEVELS]
    return {float(p): float(q) for p, q in zip(prices, sizes, strict=True) if p > 0}


def _state(v: dict[str, Array], good: Array) -> Array:
    """Accepted rows' levels, shape ``(m, 20)``: bid prices, bid sizes, ask prices, ask sizes."""
    cols = [
        v[f"{s}_{what}_{k}"][good]
        for s, _ in _SIDES
        for what in ("price", "vol")
        for k in range(1, B3_L1_LEVELS + 1)
    ]
    return np.stack(cols, axis=1).reshape(int(good.sum()), 4 * B3_L1_LEVELS)


_BOOK_KEYS = ("ts", "side", "action", "price", "size", "seq", "flags")
_QUOTE_KEYS = ("ts", "bid_price", "bid_size", "ask_price", "ask_size", "seq")


def _deltas(state: Array, ts: Array, changed: Array) -> tuple[dict[str, Array], dict[str, Array]]:
    """Book delta and quote columns (keys ``_BOOK_KEYS``/``_QUOTE_KEYS``) of the changed rows."""
    book: list[tuple[int, int, int, float, float, int, int]] = []
    quotes: list[tuple[int, float, float, float, float, int]] = []
    prev: list[dict[float, float]] = [{}, {}]
    for i in np.flatnonzero(changed).tolist():
        t, start = int(ts[i]), len(book)
        now = [_levels(state[i], 0), _levels(state[i], 1)]
        snap = not quotes
        flag = F_SNAPSHOT if snap else 0
        if snap:
            book.append((t, BookSide.BOTH, BookAction.CLEAR, 0.0, 0.0, 0, flag))
        for j, (_, side) in enumerate(_SIDES):
            gone = [] if snap else [p for p in prev[j] if p not in now[j]]
            book.extend((t, side, BookAction.DELETE, p, 0.0, 0, flag) for p in gone)
            book.extend(
                (t, side, BookAction.SET, p, q, 0, flag)
                for p, q in now[j].items()
                if snap or prev[j].get(p) != q
            )
        for k in range(start, len(book)):
            seq = len(quotes) + k
            last = F_LAST if k == len(book) - 1 else 0
            book[k] = (*book[k][:5], seq, book[k][6] | last)
        bid, ask = max(now[0], default=None), min(now[1], default=None)
        quotes.append(
            (
                t,
                np.nan if bid is None else bid,
                0.0 if bid is None else now[0][bid],
                np.nan if ask is None else ask,
                0.0 if ask is None else now[1][ask],
                len(quotes) + len(book),
            )
        )
        prev = now
    return _columns(book, _BOOK_KEYS), _columns(quotes, _QUOTE_KEYS)


def _columns(rows: list[tuple[Any, ...]], keys: tuple[str, ...]) -> dict[str, Array]:
    if not rows:
        return {k: np.zeros(0) for k in keys}
    return {k: np.asarray(col) for k, col in zip(keys, zip(*rows, strict=True), strict=True)}


def read_b3_l1(path: Path) -> MarketData:
    """Read a B3 level-1 poll CSV into book deltas and quotes.

    Parameters
    ----------
    path
        The CSV (header starting ``timestamp,bid_price_1``).

    Returns
    -------
    MarketData
        ``source="b3_l1"``, ``symbol`` from the ``symbol`` column, no trades; ``days``
        are São Paulo dates. ``rows_read`` = emitting rows + quarantined +
        ``rows_skipped`` (unchanged polls). Rejected rows (wrong field count, bad
        timestamp, unparsable or negative number, price off the tick grid, size
        without price or price without size, unordered levels, another symbol, time
        going backwards) are in ``quarantine`` with their line and field.

    Raises
    ------
    DataError
        If the file cannot be read, is not a level-1 poll CSV, lacks a column, or has
        no row with a symbol.
    ConfigError
        If the symbol's root has no instrument spec.
    """
    path = Path(path)
    header, body = _read_table_text(path, ",")
    if not ",".join(header).startswith(B3_L1_HEADER):
        raise DataError(
            f"not a B3 level-1 CSV: header must start with {B3_L1_HEADER!r}",
            path=str(path),
            line=1,
        )
    missing = [c for c in ("timestamp", *_LEVEL_COLS, "symbol") if c not in header]
    if missing:
        raise DataError(f"header lacks columns {missing}", path=str(path), line=1)
    cells = _cells(body, header, ",", path)
    rej = _Rejects(body.height)
    _shape_checks(rej, body, len(header), ",")
    names = cells["symbol"].filter(pl.Series(~rej.bad)).str.strip_chars()
    names = names.filter(names.ne("").fill_null(False))
    if names.is_empty():
        raise DataError("no data row with a symbol", path=str(path))
    symbol = str(names[0])
    tick = spec_for(symbol).tick_size
    epoch_day, ns_of_day = _local_times(rej, cells["timestamp"])
    values = _level_checks(rej, cells, header, tick, symbol)
    ts = _to_utc(epoch_day, ns_of_day)
    ok = np.flatnonzero(~rej.bad)
    before = np.maximum.accumulate(ts[ok])[:-1] if len(ok) else ts[ok]
    back = np.zeros(body.height, dtype=bool)
    back[ok[1:]] = ts[ok[1:]] < before
    rej.add(
        back, "timestamp", _say("time {} is earlier than the previous row's", cells["timestamp"])
    )

    good = ~rej.bad
    state = _state(values, good)
    ts_good = ts[good]
    m = len(ts_good)
    changed = np.ones(m, dtype=bool)
    changed[1:] = np.any(state[1:] != state[:-1], axis=1)
    book_cols, quote_cols = _deltas(state, ts_good, changed)
    book = _book_table(symbol, {**book_cols, "update_id": np.zeros(len(book_cols["seq"]))})
    quotes = _quote_table(symbol, {**quote_cols, "update_id": np.zeros(len(quote_cols["seq"]))})
    quarantine = quarantine_table(rej.rows(str(path), body["line"].to_numpy(), body["raw"]))
    notes = _notes(state, ts_good, changed, header)
    logger.debug("read %s: %d rows, %d quarantined", path, body.height, quarantine.num_rows)
    return MarketData(
        source="b3_l1",
        symbol=symbol,
        days=[_EPOCH + dt.timedelta(days=int(d)) for d in np.unique(epoch_day[good])],
        trades=TRADE_SCHEMA.empty_table(),
        book=book,
        quotes=quotes,
        quarantine=quarantine,
        rows_read=body.height,
        rows_skipped=int(m - changed.sum()),
        notes=notes,
    )


def _notes(state: Array, ts: Array, changed: Array, header: list[str]) -> list[str]:
    m = len(ts)
    gap = float(np.median(np.diff(ts))) / 1e6 if m > 1 else float("nan")
    bid, ask = state[:, 0], state[:, 2 * B3_L1_LEVELS]
    both = (bid > 0) & (ask > 0)
    locked, crossed = both & (bid == ask), both & (bid > ask)
    deep = np.any(state[:, 1:B3_L1_LEVELS] > 0, axis=1) | np.any(
        state[:, 2 * B3_L1_LEVELS + 1 : 3 * B3_L1_LEVELS] > 0, axis=1
    )
    notes = [
        "timestamps are São Paulo wall-clock time (America/Sao_Paulo), converted to UTC",
        f"poll of the book (median interval {gap:.1f} ms): the level state changed in "
        f"{max(int(changed.sum()) - 1, 0)} of {max(m - 1, 0)} steps; {m - int(changed.sum())} "
        "unchanged polls skipped; event timing inside a poll interval is lost",
        f"locked book (bid == ask) in {int(locked.sum())} polls "
        f"({int((locked & changed).sum())} emitted), kept as is",
        f"levels 2-{B3_L1_LEVELS} filled in {int(deep.sum())} polls",
    ]
    if crossed.any():
        notes.append(
            f"crossed book (bid > ask) in {int(crossed.sum())} polls "
            f"({int((crossed & changed).sum())} emitted), kept as is"
        )
    derived = [h for h in header if h not in ("timestamp", "symbol", *_LEVEL_COLS)]
    if derived:
        notes.append(f"derived columns ignored: {', '.join(derived)}")
    return notes
