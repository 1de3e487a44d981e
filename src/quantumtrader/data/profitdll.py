"""ProfitDLL offer-book data: full-book byte arrays, callback dates, and a Parquet recording.

Full-book arrays (``pArraySell``/``pArrayBuy`` of the offer-book callback; little-endian,
no padding; ``../shared/reference/profitdll.md`` section 5.6)::

    @0  Q      int32   number of entries
    @4  size   int32   total bytes of the array (what the examples pass to FreePointer)
    @8  Q entries, each walked by its own date length T:
        price  float64
        qty    int32 (V1) | int64 (V2)
        agent  int32
        offer  int64
        T      uint16  date length in bytes
        date   T single-byte characters ("DD/MM/YYYY HH:MM:SS.ZZZ")
    trailer flags  uint32  (OB_LAST_PACKET = 1: last page of a multi-page full book)

so an entry is ``26 + T`` (V1) or ``30 + T`` (V2) bytes. T is read unsigned (the Delphi
client reads a ``Word``; the C++ client a ``short``). Legacy price-book arrays have the
same header and entries ``price float64, qty int32|int64, count int32|uint32`` (16 / 20
bytes) and no documented trailer. :func:`pack_offer_array` writes ``size`` as the whole
array including the trailer; parsers do not check it (its exact meaning is unverified).

Callback dates are B3 local time (unverified, ``profitdll.md`` section 5.5); parse them
only when ``bHasDate`` is set, because the DLL leaves stale text in ``pwcDate`` otherwise
(:func:`offer_event_time`).

The recording format (:data:`OFFER_EVENT_SCHEMA`) keeps one row per callback so a
collector can store the raw stream and a replay can rebuild the book later.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from quantumtrader.core.errors import DataError
from quantumtrader.core.timeutil import local_to_utc_ns
from quantumtrader.data.quarantine import QuarantineRow
from quantumtrader.model.arrow import TS_TYPE, table_columns
from quantumtrader.model.book import BookSide, Offer, OfferAction, OfferBookEvent, PriceLevel

__all__ = [
    "OB_LAST_PACKET",
    "OFFER_EVENT_SCHEMA",
    "OFFER_STRUCT",
    "offer_event_time",
    "pack_offer_array",
    "pack_price_array",
    "parse_dll_date",
    "parse_offer_array",
    "parse_price_array",
    "read_offer_events",
    "write_offer_events",
]

logger = logging.getLogger(__name__)

OB_LAST_PACKET = 1
"""Trailer flag of a full-book array: last page of a multi-page full book."""

_HEADER = struct.Struct("<ii")
_FLAGS = struct.Struct("<I")
# (field name, struct format) of the fixed part of an offer entry, per version.
_OFFER_FIELDS = {
    1: (("price", "d"), ("qty", "i"), ("agent", "i"), ("offer_id", "q"), ("date_len", "H")),
    2: (("price", "d"), ("qty", "q"), ("agent", "i"), ("offer_id", "q"), ("date_len", "H")),
}
_OFFER_FIXED = {
    v: struct.Struct("<" + "".join(f for _, f in fs)) for v, fs in _OFFER_FIELDS.items()
}
_PRICE_FIELDS = {
    1: (("price", "d"), ("qty", "i"), ("count", "i")),
    2: (("price", "d"), ("qty", "q"), ("count", "I")),
}
_PRICE_FIXED = {
    v: struct.Struct("<" + "".join(f for _, f in fs)) for v, fs in _PRICE_FIELDS.items()
}


def _check_version(version: int) -> None:
    if version not in (1, 2):
        raise ValueError(f"ProfitDLL array version must be 1 or 2, got {version!r}")


def _truncated(buf: bytes, off: int, fields: Sequence[tuple[str, str]], what: str) -> DataError:
    """The error for an entry starting at ``off`` that does not fit: name the first field."""
    pos = off
    for name, fmt in fields:
        size = struct.calcsize("<" + fmt)
        if pos + size > len(buf):
            return DataError(
                f"{what} truncated at byte {pos}: field {name!r} needs {size} bytes, "
                f"{len(buf) - pos} left of {len(buf)}",
                field=name,
            )
        pos += size
    return DataError(f"{what} truncated at byte {off}", field=fields[-1][0])


def _header(buf: bytes, what: str) -> int:
    if len(buf) < _HEADER.size:
        field = "count" if len(buf) < 4 else "size"
        raise DataError(
            f"{what} truncated at byte {0 if field == 'count' else 4}: header needs "
            f"{_HEADER.size} bytes, got {len(buf)}",
            field=field,
        )
    q, _size = _HEADER.unpack_from(buf, 0)
    if q < 0:
        raise DataError(f"{what}: negative entry count {q} at byte 0", field="count")
    return int(q)


def parse_offer_array(buf: bytes, version: int = 2) -> tuple[list[Offer], int, int]:
    """Decode one full-book offer array.

    Parameters
    ----------
    buf
        The array's bytes (may extend past its end).
    version
        1 (``TOfferBookCallback``: int32 quantity) or 2 (``...V2``: int64 quantity).

    Returns
    -------
    offers : list of Offer
        In array order (the DLL's order; see :mod:`quantumtrader.book.offers`).
    flags : int
        Trailer flags (:data:`OB_LAST_PACKET`).
    consumed : int
        Bytes read, trailer included.

    Raises
    ------
    DataError
        If the buffer ends inside the header, an entry or the trailer (message gives the
        byte offset, ``field`` the field), or the entry count is negative.
    ValueError
        If ``version`` is not 1 or 2.
    """
    _check_version(version)
    what = f"offer array V{version}"
    q = _header(buf, what)
    fixed = _OFFER_FIXED[version]
    off = _HEADER.size
    offers: list[Offer] = []
    for _ in range(q):
        if off + fixed.size > len(buf):
            raise _truncated(buf, off, _OFFER_FIELDS[version], what)
        price, qty, agent, offer_id, t = fixed.unpack_from(buf, off)
        off += fixed.size
        if off + t > len(buf):
            raise DataError(
                f"{what} truncated at byte {off}: field 'date' needs {t} bytes, "
                f"{len(buf) - off} left of {len(buf)}",
                field="date",
            )
        date = bytes(buf[off : off + t]).decode("latin-1")
        off += t
        offers.append(Offer(price=price, qty=qty, agent=agent, offer_id=offer_id, date=date))
    if off + _FLAGS.size > len(buf):
        raise DataError(
            f"{what} truncated at byte {off}: field 'flags' needs 4 bytes, "
            f"{len(buf) - off} left of {len(buf)}",
            field="flags",
        )
    (flags,) = _FLAGS.unpack_from(buf, off)
    return offers, int(flags), off + _FLAGS.size


def pack_offer_array(
    offers: Sequence[Offer], flags: int = OB_LAST_PACKET, version: int = 2
) -> bytes:
    """Encode offers as a full-book array (inverse of :func:`parse_offer_array`).

    Raises
    ------
    DataError
        If a value does not fit its field (V1 quantity beyond int32, agent beyond int32,
        a date that is not single-byte text or longer than 65535 bytes), naming the field.
    ValueError
        If ``version`` is not 1 or 2.
    """
    _check_version(version)
    fixed = _OFFER_FIXED[version]
    parts = [b""]
    for i, o in enumerate(offers):
        try:
            date = o.date.encode("latin-1")
        except UnicodeEncodeError as exc:
            raise DataError(f"offer {i}: date {o.date!r} is not single-byte", field="date") from exc
        if len(date) > 0xFFFF:
            raise DataError(f"offer {i}: date longer than 65535 bytes", field="date")
        values = (o.price, o.qty, o.agent, o.offer_id, len(date))
        for (name, fmt), v in zip(_OFFER_FIELDS[version], values, strict=True):
            try:
                struct.pack("<" + fmt, v)
            except struct.error as exc:
                raise DataError(f"offer {i}: {name} {v!r} does not fit", field=name) from exc
        parts.append(fixed.pack(*values) + date)
    try:
        trailer = _FLAGS.pack(flags)
    except struct.error as exc:
        raise DataError(f"flags {flags!r} do not fit uint32", field="flags") from exc
    body = b"".join(parts)
    total = _HEADER.size + len(body) + _FLAGS.size
    return _HEADER.pack(len(offers), total) + body + trailer


def parse_price_array(buf: bytes, version: int = 2) -> list[PriceLevel]:
    """Decode one legacy price-book full array (header + fixed 16/20-byte entries).

    Raises
    ------
    DataError
        On truncation (byte offset and field in the message) or a negative count.
    ValueError
        If ``version`` is not 1 or 2.
    """
    _check_version(version)
    what = f"price array V{version}"
    q = _header(buf, what)
    fixed = _PRICE_FIXED[version]
    off = _HEADER.size
    out: list[PriceLevel] = []
    for _ in range(q):
        if off + fixed.size > len(buf):
            raise _truncated(buf, off, _PRICE_FIELDS[version], what)
        price, qty, count = fixed.unpack_from(buf, off)
        off += fixed.size
        out.append(PriceLevel(price=price, qty=qty, count=count))
    return out


def pack_price_array(levels: Sequence[PriceLevel], version: int = 2) -> bytes:
    """Encode levels as a legacy price-book array (inverse of :func:`parse_price_array`).

    Raises
    ------
    DataError
        If a value does not fit its field.
    """
    _check_version(version)
    fixed = _PRICE_FIXED[version]
    body = []
    for i, lv in enumerate(levels):
        try:
            body.append(fixed.pack(lv.price, lv.qty, lv.count))
        except struct.error as exc:
            raise DataError(f"level {i}: {lv!r} does not fit V{version}", field="qty") from exc
    data = b"".join(body)
    return _HEADER.pack(len(levels), _HEADER.size + len(data)) + data


_DATE_RE = re.compile(r"(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})")


def parse_dll_date(text: str) -> int:
    """Parse a callback date ``DD/MM/YYYY HH:MM:SS.ZZZ`` (B3 local time) to ns UTC.

    Raises
    ------
    DataError
        If the text does not match the format or is not a valid date and time
        (``field="date"``).

    Examples
    --------
    >>> parse_dll_date("06/10/2020 16:54:52.003")  # UTC-3, no DST in 2020
    1602014092003000000
    """
    m = _DATE_RE.fullmatch(text.strip())
    if m is None:
        raise DataError(f"date {text!r} is not DD/MM/YYYY HH:MM:SS.ZZZ", field="date")
    dd, mo, yy, hh, mi, ss, ms = (int(g) for g in m.groups())
    try:
        day = dt.date(yy, mo, dd)
    except ValueError as exc:
        raise DataError(f"date {text!r}: {exc}", field="date") from exc
    if hh > 23 or mi > 59 or ss > 59:
        raise DataError(f"date {text!r}: bad time of day", field="date")
    return local_to_utc_ns(day, hh * 3600 + mi * 60 + ss, ms * 1_000_000)


def offer_event_time(has_date: bool, date: str | None, recv_ns: int) -> int:
    """``ts_event`` of a callback: its date when ``bHasDate`` is set, else ``recv_ns``.

    The DLL leaves ``pwcDate`` pointing at an earlier event's text when ``bHasDate`` is 0
    (field report, ``profitdll.md`` section 5.6), so the text is ignored then.

    Raises
    ------
    DataError
        If ``has_date`` is set and the date does not parse.
    """
    if not has_date or date is None:
        return recv_ns
    return parse_dll_date(date)


OFFER_STRUCT = pa.struct(
    [
        pa.field("price", pa.float64(), nullable=False),
        pa.field("qty", pa.int64(), nullable=False),
        pa.field("agent", pa.int32(), nullable=False),
        pa.field("offer_id", pa.int64(), nullable=False),
        pa.field("date", pa.string(), nullable=False),
    ]
)
"""One full-book entry (:class:`~quantumtrader.model.book.Offer`)."""

OFFER_EVENT_SCHEMA = pa.schema(
    [
        pa.field("ts_event", TS_TYPE, nullable=False),
        pa.field("ts_init", TS_TYPE, nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("action", pa.int8(), nullable=False),
        pa.field("side", pa.int8(), nullable=False),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("qty", pa.int64(), nullable=True),
        pa.field("agent", pa.int32(), nullable=True),
        pa.field("offer_id", pa.int64(), nullable=True),
        pa.field("price", pa.float64(), nullable=True),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("bids", pa.list_(pa.field("item", OFFER_STRUCT, nullable=False)), nullable=False),
        pa.field("asks", pa.list_(pa.field("item", OFFER_STRUCT, nullable=False)), nullable=False),
    ],
    metadata={b"quantumtrader.kind": b"offer_events", b"quantumtrader.schema_version": b"1"},
)
"""Arrow schema of recorded offer-book callbacks (one row per :class:`OfferBookEvent`).

``action`` is :class:`~quantumtrader.model.book.OfferAction`, ``side`` is
:class:`~quantumtrader.model.book.BookSide` (1 bid, -1 ask; 0 only on a full book);
``qty``/``agent``/``offer_id``/``price`` are null when the callback's ``bHas*`` flag was 0;
``bids``/``asks`` hold the full-book arrays in the DLL's order (empty otherwise)."""

_SCALARS = ("ts_event", "ts_init", "symbol", "action", "side", "position")
_OPTIONAL = ("qty", "agent", "offer_id", "price")


def _offer_dicts(offers: Iterable[Offer]) -> list[dict[str, Any]]:
    return [
        {"price": o.price, "qty": o.qty, "agent": o.agent, "offer_id": o.offer_id, "date": o.date}
        for o in offers
    ]


def write_offer_events(events: Iterable[OfferBookEvent], path: str | Path) -> int:
    """Write offer-book events to a Parquet file with :data:`OFFER_EVENT_SCHEMA`.

    Returns
    -------
    int
        Rows written.

    Raises
    ------
    DataError
        If a value does not fit its column (e.g. an agent id beyond int32).
    """
    cols: dict[str, list[Any]] = {n: [] for n in OFFER_EVENT_SCHEMA.names}
    for ev in events:
        for n in (*_SCALARS, *_OPTIONAL, "seq"):
            cols[n].append(getattr(ev, n))
        cols["bids"].append(_offer_dicts(ev.bids))
        cols["asks"].append(_offer_dicts(ev.asks))
    arrays = []
    try:
        for field in OFFER_EVENT_SCHEMA:
            values = cols[field.name]
            if field.type == TS_TYPE:
                arrays.append(pa.array(values, type=pa.int64()).cast(TS_TYPE))
            elif field.name in ("action", "side"):
                arrays.append(pa.array([int(v) for v in values], type=field.type))
            else:
                arrays.append(pa.array(values, type=field.type))
    except (pa.ArrowInvalid, OverflowError) as exc:
        raise DataError(f"cannot store offer events: {exc}", path=str(path)) from exc
    table = pa.Table.from_arrays(arrays, schema=OFFER_EVENT_SCHEMA)
    pq.write_table(table, str(path))
    return int(table.num_rows)


_VALID_ACTIONS = frozenset(int(a) for a in OfferAction)


def _row_problem(action: int, side: int) -> tuple[str, str] | None:
    if action not in _VALID_ACTIONS:
        return "action", f"unknown action {action}"
    if side not in (BookSide.BID, BookSide.ASK):
        if side == BookSide.BOTH and action == OfferAction.FULL_BOOK:
            return None
        return "side", f"unknown side {side} for action {action}"
    return None


def read_offer_events(
    path: str | Path, quarantine: list[QuarantineRow] | None = None
) -> list[OfferBookEvent]:
    """Read offer-book events written by :func:`write_offer_events` (lossless).

    Parameters
    ----------
    path
        Parquet file.
    quarantine
        Where rows with an unknown ``action`` or ``side`` go (``line`` = 1-based row
        number, ``raw`` = the row as JSON). ``None``: the first such row raises.

    Returns
    -------
    list of OfferBookEvent
        The valid rows, in file order.

    Raises
    ------
    DataError
        If a column is missing, or a row is bad and ``quarantine`` is ``None``.
    """
    table = pq.read_table(str(path))
    missing = [n for n in OFFER_EVENT_SCHEMA.names if n not in table.column_names]
    if missing:
        raise DataError(
            f"offer-event file lacks columns {missing}", path=str(path), field=missing[0]
        )
    c = table_columns(table, OFFER_EVENT_SCHEMA.names, "offer-event")
    out: list[OfferBookEvent] = []
    n_bad = 0
    for i in range(table.num_rows):
        problem = _row_problem(c["action"][i], c["side"][i])
        if problem is not None:
            field, reason = problem
            if quarantine is None:
                raise DataError(reason, path=str(path), line=i + 1, field=field)
            n_bad += 1
            raw = msgspec.json.encode({n: c[n][i] for n in OFFER_EVENT_SCHEMA.names}).decode()
            quarantine.append(
                QuarantineRow(file=str(path), line=i + 1, field=field, reason=reason, raw=raw)
            )
            continue
        out.append(
            OfferBookEvent(
                ts_event=c["ts_event"][i],
                ts_init=c["ts_init"][i],
                symbol=c["symbol"][i],
                action=OfferAction(c["action"][i]),
                side=BookSide(c["side"][i]),
                position=c["position"][i],
                qty=c["qty"][i],
                agent=c["agent"][i],
                offer_id=c["offer_id"][i],
                price=c["price"][i],
                bids=tuple(Offer(**d) for d in c["bids"][i]),
                asks=tuple(Offer(**d) for d in c["asks"][i]),
                seq=c["seq"][i],
            )
        )
    if n_bad:
        logger.warning("%s: %d offer-event rows quarantined", path, n_bad)
    return out
