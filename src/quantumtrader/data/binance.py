"""Binance raw websocket captures (hftbacktest collector format): depth, trades, bookTicker.

Each line of a gzip file is ``<local_receive_time_ns> <JSON>``; the JSON is a combined-stream
message ``{"stream": "<sym>@<kind>", "data": {...}}`` or, once, a REST depth snapshot
(``lastUpdateId``, ``bids``, ``asks``). :func:`read_binance` replays the files of one symbol
concatenated (``seq`` = line index across the files) and turns them into a
:class:`~quantumtrader.data.market_day.MarketData`:

* REST snapshot → ``CLEAR(BOTH)`` + one ``SET`` per level, flagged ``F_SNAPSHOT`` (the last
  row also ``F_LAST``), ``update_id = lastUpdateId``.
* depth diff (``@depth@0ms`` futures, ``@depth@100ms`` spot) → one ``SET`` per level (size 0
  deletes), ``update_id = u``, ``F_LAST`` on the message's last row, synchronised as
  :class:`DiffSync` describes.
* trade → :class:`~quantumtrader.model.events.Trade` (``m`` true: the buyer was the maker,
  so the seller was the aggressor), ``trade_id = t``, ``ts_event`` from ``T``.
* bookTicker → :class:`~quantumtrader.model.book.Quote` with ``update_id = u``.

``ts_event`` is the exchange time (ms → ns: ``E`` of depth and futures bookTicker, ``T`` of
trades); spot bookTicker and the spot REST snapshot carry none, so they use the local
receive time (about 1.27 s *before* the exchange clock in these captures). ``ts_init`` is
the local receive time. Sizes are integer multiples of the instrument's ``qty_unit``;
a level, trade or quote that is not (or whose price is off the tick grid) is quarantined
with its line. A diff line with such a level is quarantined as a whole line, but its
valid levels are still applied so one odd level does not leave the rest of the book stale.

References
----------
Binance spot and USDⓈ-M futures API documentation, "How to manage a local order book
correctly"; hftbacktest (https://github.com/nkaz001/hftbacktest) collector format;
``../shared/data/binance_raw_l2_20240808/SOURCE.md``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from quantumtrader.core.errors import DataError
from quantumtrader.core.timeutil import NS_PER_SECOND
from quantumtrader.data.binance_depth import (
    DepthLevels,
    DiffSync,
    book_table,
    off_grid,
    parse_decimals,
    to_units,
)
from quantumtrader.data.market_day import MarketData
from quantumtrader.data.quarantine import QuarantineRow, quarantine_table
from quantumtrader.model.arrow import TRADE_SCHEMA, TS_TYPE
from quantumtrader.model.book_arrow import QUOTE_SCHEMA
from quantumtrader.model.events import TradeKind
from quantumtrader.model.instruments import InstrumentSpec, spec_for

__all__ = ["BinanceMarket", "DiffSync", "read_binance"]

logger = logging.getLogger(__name__)

BinanceMarket = Literal["spot", "usdm"]
"""``spot`` (Binance spot) or ``usdm`` (USDⓈ-M perpetual futures, symbol ``<SYM>-PERP``)."""

NS_PER_MS = 1_000_000
Array = npt.NDArray[Any]
_NO_RAW = msgspec.Raw(b"")


class _Data(msgspec.Struct):
    """Union of the fields of the trade, depth and bookTicker payloads (others ignored)."""

    E: int = 0
    T: int = 0
    U: int = -1
    u: int = -1
    pu: int = -1
    t: int = -1
    p: str = ""
    q: str = ""
    m: bool = False
    b: msgspec.Raw = _NO_RAW  # level list (depth) or quoted price (bookTicker)
    a: msgspec.Raw = _NO_RAW
    B: str = ""
    A: str = ""


class _Msg(msgspec.Struct):
    """One line's JSON: a combined-stream message or a REST snapshot."""

    stream: str = ""
    data: _Data | None = None
    lastUpdateId: int = -1  # noqa: N815 - Binance field name
    E: int = 0
    bids: msgspec.Raw = _NO_RAW
    asks: msgspec.Raw = _NO_RAW


_ONE = msgspec.json.Decoder(_Msg, strict=False)
_PAIRS = msgspec.json.Decoder(list[tuple[int, _Msg]], strict=False)
_KINDS = ("snapshot", "depth", "trade", "bookTicker")


class _Lines:
    """Decoded messages of all files in replay order, grouped by kind.

    ``seq[j]``, ``ts[j]`` and ``msg[j]`` describe accepted message ``j``; ``by_kind`` maps
    each kind to its message indices and ``depth_like`` lists snapshots and diffs.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.files: list[tuple[int, str, bytes]] = []  # (first seq, label, text)
        self.seq: list[int] = []
        self.ts: list[int] = []
        self.msg: list[_Msg] = []
        self.by_kind: dict[str, list[int]] = {k: [] for k in _KINDS}
        self.depth_like: list[int] = []
        self.quarantine: list[QuarantineRow] = []
        self.n_read = 0
        self._split: dict[int, list[bytes]] = {}
        self._stream_kind: dict[str, str] = {}

    def where(self, seq: int) -> tuple[str, int, bytes]:
        """File label, 1-based line number and raw text of line ``seq``."""
        f = max(i for i, (first, _, _) in enumerate(self.files) if first <= seq)
        first, label, text = self.files[f]
        if f not in self._split:
            self._split[f] = text.split(b"\n")
        return label, seq - first + 1, self._split[f][seq - first]

    def bad(self, seq: int, field: str, reason: str) -> None:
        label, line, raw = self.where(seq)
        text = raw.decode("utf-8", "replace").rstrip("\r")
        self.quarantine.append(
            QuarantineRow(file=label, line=line, field=field, reason=reason, raw=text)
        )

    def bad_msg(self, j: int, field: str, reason: str) -> None:
        self.bad(self.seq[j], field, reason)

    def kind_of(self, stream: str) -> str:
        kind = self._stream_kind.get(stream)
        if kind is None:
            sym, _, suffix = stream.partition("@")
            kind = "depth" if suffix.startswith("depth") else suffix
            ok = sym == self.base and kind in _KINDS[1:]
            self._stream_kind[stream] = kind = kind if ok else ""
        return kind

    def add(self, seq: int, ts: int, msg: _Msg) -> None:
        """Classify and check one decoded message; keep it or quarantine its line."""
        if msg.lastUpdateId >= 0:
            kind, problem = "snapshot", ""
        else:
            kind = self.kind_of(msg.stream)
            d = msg.data
            problem = "" if kind and d is not None else f"unexpected stream {msg.stream!r}"
            if problem or d is None:
                pass
            elif kind == "depth" and (d.U < 0 or d.u < d.U or not (d.b and d.a)):
                problem = "depth diff lacks U/u or its b/a level lists"
            elif kind == "trade" and (d.t < 0 or not d.p or not d.q or d.T <= 0):
                problem = "trade lacks t, p, q or T"
            elif kind == "bookTicker" and (d.u < 0 or not (d.b and d.B and d.a and d.A)):
                problem = "bookTicker lacks u, b, B, a or A"
        if problem:
            self.bad(seq, "stream" if "stream" in problem else kind, problem)
            return
        j = len(self.msg)
        self.seq.append(seq)
        self.ts.append(ts)
        self.msg.append(msg)
        self.by_kind[kind].append(j)
        if kind in ("snapshot", "depth"):
            self.depth_like.append(j)

    def read(self, path: Path) -> None:
        """Decode one gzip file and append its messages."""
        try:
            text = gzip.decompress(path.read_bytes())
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"cannot read gzip file: {exc}", path=str(path)) from exc
        body = text[:-1] if text.endswith(b"\n") else text
        n = body.count(b"\n") + 1 if body else 0
        seq0 = self.n_read
        self.files.append((seq0, str(path), text))
        self.n_read += n
        pairs = None
        # Fast path: one space per line (the separator), so the whole file becomes one
        # JSON array of [time, message] pairs decoded in a single call.
        if n and body.count(b" ") == n:
            try:
                pairs = _PAIRS.decode(
                    b"[[" + body.replace(b" ", b",").replace(b"\n", b"],[") + b"]]"
                )
            except msgspec.DecodeError:
                pairs = None
        if pairs is not None and len(pairs) == n and min(t for t, _ in pairs) >= 0:
            for i, (ts, msg) in enumerate(pairs):
                self.add(seq0 + i, ts, msg)
            return
        for i, raw in enumerate(body.split(b"\n") if n else []):
            head, _, js = raw.partition(b" ")
            if not head.isdigit() or not js:
                self.bad(seq0 + i, "local_receive_time_ns", "expected '<ns> <JSON>'")
                continue
            try:
                msg = _ONE.decode(js)
            except msgspec.DecodeError as exc:
                self.bad(seq0 + i, "json", f"invalid message: {exc}")
                continue
            self.add(seq0 + i, int(head), msg)


def _ts(values: Array) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), pa.int64()).cast(TS_TYPE)


def _floats(texts: Sequence[str]) -> Array:
    """Decimal strings to float64 (NaN where a string is not a number)."""
    try:
        return np.array(texts, dtype=np.float64).reshape(-1)
    except ValueError:
        out = np.full(len(texts), np.nan)
        for i, t in enumerate(texts):
            try:
                out[i] = float(t)
            except ValueError:
                continue
        return out


def _payloads(lines: _Lines, kind: str) -> tuple[list[int], list[_Data]]:
    """Message indices and payloads of one kind (``add`` guarantees a payload)."""
    idx, data = [], []
    for j in lines.by_kind[kind]:
        d = lines.msg[j].data
        if d is not None:
            idx.append(j)
            data.append(d)
    return idx, data


def _trade_table(lines: _Lines, spec: InstrumentSpec, symbol: str) -> pa.Table:
    idx, d = _payloads(lines, "trade")
    price = _floats([x.p for x in d])
    qty, bad_q = to_units(_floats([x.q for x in d]), spec)
    bad_q |= ~(qty > 0)
    bad_p = off_grid(price, spec)
    for k in np.flatnonzero(bad_q | bad_p).tolist():
        x = d[k]
        if bad_q[k]:
            lines.bad_msg(
                idx[k], "q", f"quantity {x.q!r} is not a positive multiple of {spec.qty_unit}"
            )
        else:
            lines.bad_msg(idx[k], "p", f"price {x.p!r} is off the {spec.tick_size} grid")
    sel = np.flatnonzero(~(bad_q | bad_p))
    dd = [d[k] for k in sel.tolist()]
    n = len(dd)
    arrays = [
        _ts(np.array([x.T for x in dd], dtype=np.int64) * NS_PER_MS),
        _ts(np.array([lines.ts[idx[k]] for k in sel], dtype=np.int64)),
        pa.array([symbol] * n, pa.string()),
        pa.array(price[sel]),
        pa.array(qty[sel].astype(np.int64)),
        # m = "buyer is the maker": the seller hit the bid (Aggressor.SELL = -1).
        pa.array(np.array([-1 if x.m else 1 for x in dd], dtype=np.int8)),
        pa.array(np.full(n, int(TradeKind.REGULAR), dtype=np.int8)),
        pa.array(np.zeros(n, dtype=bool)),
        pa.nulls(n, pa.int32()),
        pa.array([""] * n, pa.string()),
        pa.nulls(n, pa.int32()),
        pa.array([""] * n, pa.string()),
        pa.array(np.array([x.t for x in dd], dtype=np.int64)),
        pa.array(np.array([lines.seq[idx[k]] for k in sel], dtype=np.int64)),
        pa.array(np.zeros(n, dtype=bool)),
    ]
    return pa.Table.from_arrays(arrays, schema=TRADE_SCHEMA)


def _quote_table(lines: _Lines, spec: InstrumentSpec, symbol: str, futures: bool) -> pa.Table:
    idx, d = _payloads(lines, "bookTicker")
    values, counts, _ = parse_decimals([r for x in d for r in (x.b, x.a)])
    one = (counts == 1).reshape(-1, 2).all(axis=1)
    px = np.full((len(d), 2), np.nan)
    px[one] = values[np.repeat(np.repeat(one, 2), counts)].reshape(-1, 2)
    sz, bad_units = to_units(_floats([t for x in d for t in (x.B, x.A)]).reshape(-1, 2), spec)
    bad_px = np.any(off_grid(px, spec), axis=1)
    bad_sz = np.any(bad_units, axis=1)
    for k in np.flatnonzero(bad_px | bad_sz).tolist():
        x = d[k]
        what = f"size not a multiple of {spec.qty_unit}" if bad_sz[k] else "price off the grid"
        reason = f"bid {bytes(x.b).decode()} x {x.B} / ask {bytes(x.a).decode()} x {x.A}: {what}"
        lines.bad_msg(idx[k], "B/A" if bad_sz[k] else "b/a", reason)
    sel = np.flatnonzero(~(bad_px | bad_sz))
    local = np.array([lines.ts[idx[k]] for k in sel], dtype=np.int64)
    exch = np.array([d[k].E for k in sel], dtype=np.int64) * NS_PER_MS
    ts = np.where(exch > 0, exch, local) if futures else local
    arrays = [
        _ts(ts),
        _ts(local),
        pa.array([symbol] * len(sel), pa.string()),
        pa.array(px[sel, 0]),
        pa.array(sz[sel, 0]),
        pa.array(px[sel, 1]),
        pa.array(sz[sel, 1]),
        pa.array(np.array([d[k].u for k in sel], dtype=np.int64)),
        pa.array(np.array([lines.seq[idx[k]] for k in sel], dtype=np.int64)),
    ]
    return pa.Table.from_arrays(arrays, schema=QUOTE_SCHEMA)


def _market_of(paths: Sequence[Path], market: str | None) -> str:
    if market is None:
        found = {p.parent.name.lower() for p in paths}
        if len(found) != 1 or not found <= {"spot", "usdm"}:
            raise DataError(
                f"cannot infer the market from the folders {sorted(found)}; "
                "pass market='spot' or 'usdm'",
                path=str(paths[0]),
            )
        market = found.pop()
    if market not in ("spot", "usdm"):
        raise DataError(f"unknown Binance market {market!r} (spot or usdm)")
    return market


def read_binance(paths: Sequence[Path], *, market: BinanceMarket | None = None) -> MarketData:
    """Read the capture files of one Binance symbol into trades, book deltas and quotes.

    Parameters
    ----------
    paths
        ``<sym>_<yyyymmdd>.gz`` files of one symbol in replay order (e.g. the 0808 then
        the 0809 spot file); they are replayed as one stream.
    market
        ``"spot"`` or ``"usdm"``; inferred from the files' folder name when omitted.
        The symbol is ``<SYM>`` on spot and ``<SYM>-PERP`` on usdm.

    Returns
    -------
    MarketData
        ``book``: snapshot and synchronised diff rows in application order (``seq``
        non-decreasing; diffs that arrived before the snapshot are applied after it and
        carry its ``seq``); ``trades`` and ``quotes`` in line order; rejected lines in
        ``quarantine``; ``rows_skipped`` counts the diffs the synchronisation discards.

    Raises
    ------
    DataError
        If a file cannot be read, the market or symbol cannot be determined, the first
        diff after the snapshot does not straddle it, or the diff chain has a gap (the
        message names the file and line).

    References
    ----------
    Binance spot and USDⓈ-M futures API documentation, "How to manage a local order
    book correctly".
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise DataError("read_binance needs at least one file")
    mkt = _market_of(paths, market)
    futures = mkt == "usdm"
    bases = {p.name.split("_", 1)[0].split(".", 1)[0].lower() for p in paths}
    if len(bases) != 1:
        raise DataError(f"one symbol per call, got {sorted(bases)}", path=str(paths[0]))
    base = bases.pop()
    symbol = f"{base.upper()}-PERP" if futures else base.upper()
    spec = spec_for(symbol)
    lines = _Lines(base)
    for path in paths:
        lines.read(path)
    depth_msgs = [lines.msg[j] for j in lines.depth_like]
    levels = DepthLevels(
        [(m.bids, m.asks) if m.data is None else (m.data.b, m.data.a) for m in depth_msgs],
        spec,
        lambda k, field, reason: lines.bad_msg(lines.depth_like[k], field, reason),
    )
    sync = DiffSync(futures=futures, locate=lambda seq: lines.where(seq)[:2])
    for k, j in enumerate(lines.depth_like):
        msg, seq, ts_local = lines.msg[j], lines.seq[j], lines.ts[j]
        if msg.data is None:
            own = msg.E * NS_PER_MS if futures and msg.E else ts_local
            sync.snapshot(k, msg.lastUpdateId, own, ts_local, seq)
        else:
            d = msg.data
            sync.diff(
                k,
                first_id=d.U,
                last_id=d.u,
                prev_id=d.pu,
                ts=d.E * NS_PER_MS,
                ts_init=ts_local,
                seq=seq,
            )
    sync.finish()
    n_empty = sum(1 for k, *_, snap in sync.plan if not snap and levels.count[k] == 0)
    book = book_table(levels, sync.plan, symbol)
    trades = _trade_table(lines, spec, symbol)
    quotes = _quote_table(lines, spec, symbol, futures)
    notes = [
        f"market {mkt}; files replayed as one stream: {', '.join(p.name for p in paths)}",
        "seq = line index across the files; diffs that arrived before the REST snapshot "
        "are applied after it with the snapshot's seq",
        *sync.notes(),
    ]
    if n_empty:
        notes.append(f"{n_empty} depth diffs without levels (no rows)")
    if not futures:
        notes.append(
            "spot bookTicker and REST snapshot carry no exchange time: their ts_event is the "
            "local receive time (about 1.27 s before the exchange clock in these captures)"
        )
    n_bad = len(lines.quarantine)
    if n_bad:
        notes.append(f"{n_bad} lines quarantined (valid levels of quarantined diffs applied)")
        logger.warning("%s: %d lines quarantined", symbol, n_bad)
    stamps: list[int] = []
    for table in (book, trades, quotes):
        if table.num_rows:
            ts = pc.cast(table.column("ts_event"), pa.int64())
            stamps += [pc.min(ts).as_py(), pc.max(ts).as_py()]
    days = sorted({dt.datetime.fromtimestamp(t // NS_PER_SECOND, tz=dt.UTC).date() for t in stamps})
    return MarketData(
        source="binance",
        symbol=symbol,
        days=days,
        trades=trades,
        book=book,
        quotes=quotes,
        quarantine=quarantine_table(lines.quarantine),
        rows_read=lines.n_read,
        rows_skipped=sync.n_skipped + n_empty,
        notes=notes,
    )
