"""Reading Valkey streams back: time travel by market time, catch-up, Polars frames.

Entry ids are ``<ms>-<k>`` of the message's market time (:mod:`quantumtrader.bus.streams`),
so a time range is an ``XRANGE`` over ms ids, refined by each message's exact time.

Malformed entries (no ``m`` field, or a payload the codec rejects) are skipped with a
warning naming the key and id, never raised. Every reading function takes an optional
:class:`ReadStats` that counts them (and keeps their ids); :func:`malformed_total`
is the count of this process, for status reports.

References
----------
``XRANGE`` (exclusive ``(`` ranges since Redis 6.2): https://valkey.io/commands/xrange/
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import polars as pl
import valkey

from quantumtrader.bus.codec import Message, decode
from quantumtrader.bus.streams import message_ts
from quantumtrader.core.errors import BusError
from quantumtrader.model.feature_vector import FeatureVector

__all__ = [
    "PAGE",
    "ReadStats",
    "last_entry",
    "malformed_total",
    "read_after",
    "read_frame",
    "read_range",
    "to_polars",
]

log = logging.getLogger(__name__)

PAGE = 10_000
"""Entries fetched per ``XRANGE`` call."""

_NS_PER_MS = 1_000_000
_malformed_total = 0


@dataclass(slots=True)
class ReadStats:
    """Counts of a read.

    Attributes
    ----------
    entries
        Entries fetched from the server (before the time filter).
    malformed
        Entries skipped because they could not be decoded.
    malformed_ids
        ``(key, id)`` of those entries.
    """

    entries: int = 0
    malformed: int = 0
    malformed_ids: list[tuple[str, str]] = field(default_factory=list)


def malformed_total() -> int:
    """Malformed entries skipped by this process so far (all keys, all reads)."""
    return _malformed_total


def _decode_entries(
    key: str, raw: list[tuple[bytes, dict[bytes, bytes]]], stats: ReadStats | None
) -> list[tuple[str, Message]]:
    global _malformed_total  # noqa: PLW0603 - a process-wide counter by design
    out: list[tuple[str, Message]] = []
    for raw_id, fields in raw:
        entry_id = raw_id.decode()
        payload = fields.get(b"m")
        try:
            if payload is None:
                raise BusError("no 'm' field")
            out.append((entry_id, decode(payload)))
        except BusError as exc:
            _malformed_total += 1
            if stats is not None:
                stats.malformed += 1
                stats.malformed_ids.append((key, entry_id))
            log.warning("stream %s entry %s skipped: %s", key, entry_id, exc)
    if stats is not None:
        stats.entries += len(raw)
    return out


def _xrange(
    client: valkey.Valkey, key: str, lo: str, hi: str, count: int
) -> list[tuple[bytes, dict[bytes, bytes]]]:
    try:
        raw: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(  # type: ignore[assignment]
            key, lo, hi, count=count
        )
    except valkey.exceptions.ValkeyError as exc:
        raise BusError(f"XRANGE {key} {lo} {hi}: {exc}") from exc
    return raw


def read_range(
    client: valkey.Valkey,
    key: str,
    start_ns: int | None = None,
    end_ns: int | None = None,
    *,
    count: int | None = None,
    stats: ReadStats | None = None,
) -> list[tuple[str, Message]]:
    """Entries of ``key`` whose market time is in ``[start_ns, end_ns]``, in id order.

    Parameters
    ----------
    client
        Valkey client (bytes responses).
    key
        Stream key.
    start_ns, end_ns
        Inclusive bounds on :func:`message_ts`, ns UTC; ``None`` is open. The server
        range is ``start_ns // 1e6`` .. ``end_ns // 1e6`` (whole ms), then each message
        is filtered by its exact time.
    count
        At most this many messages (the first ones).
    stats
        Counts fetched and malformed entries, when given.

    Returns
    -------
    list of (id, message)

    Raises
    ------
    BusError
        If the server fails (a malformed entry is skipped, not raised).

    Notes
    -----
    An entry whose market time went backwards has the id of the latest ms seen
    before it, so it is found by that id's range.
    """
    lo = "-" if start_ns is None else f"{max(start_ns, 0) // _NS_PER_MS}-0"
    hi = "+" if end_ns is None else str(end_ns // _NS_PER_MS)
    if end_ns is not None and end_ns < 0:
        return []
    out: list[tuple[str, Message]] = []
    while count is None or len(out) < count:
        raw = _xrange(client, key, lo, hi, PAGE)
        for entry_id, msg in _decode_entries(key, raw, stats):
            ts = message_ts(msg)
            if (start_ns is None or ts >= start_ns) and (end_ns is None or ts <= end_ns):
                out.append((entry_id, msg))
        if len(raw) < PAGE:
            break
        lo = "(" + raw[-1][0].decode()
    return out if count is None else out[:count]


def read_after(
    client: valkey.Valkey,
    key: str,
    after_id: str = "0-0",
    count: int = 10_000,
    *,
    stats: ReadStats | None = None,
) -> list[tuple[str, Message]]:
    """Up to ``count`` entries of ``key`` with id above ``after_id`` (catch-up).

    Malformed entries are skipped (and counted), so fewer than ``count`` messages may
    come back although more follow: continue from the id of the last one read, or
    from ``stats.malformed_ids`` when only malformed entries came back.

    Raises
    ------
    BusError
        If the server fails.
    """
    raw = _xrange(client, key, "(" + after_id, "+", count)
    return _decode_entries(key, raw, stats)


def last_entry(
    client: valkey.Valkey, key: str, *, stats: ReadStats | None = None
) -> tuple[str, Message] | None:
    """The newest decodable entry of ``key``, or ``None`` when there is none.

    Raises
    ------
    BusError
        If the server fails.
    """
    hi = "+"
    while True:
        try:
            raw: list[tuple[bytes, dict[bytes, bytes]]] = client.xrevrange(  # type: ignore[assignment]
                key, hi, "-", count=16
            )
        except valkey.exceptions.ValkeyError as exc:
            raise BusError(f"XREVRANGE {key}: {exc}") from exc
        decoded = _decode_entries(key, raw, stats)
        if decoded:
            return decoded[0]
        if len(raw) < 16:
            return None
        hi = "(" + raw[-1][0].decode()


def _row(msg: Message, features: set[str]) -> dict[str, Any]:
    row: dict[str, Any] = msgspec.to_builtins(msg)  # enums -> values, tag -> "type"
    if isinstance(msg, FeatureVector):
        values = row.pop("values")
        for name, value in values.items():
            column = f"values.{name}" if name in row else name
            row[column] = value
            features.add(column)
    for name, value in row.items():
        if isinstance(value, dict) and not value:
            row[name] = None  # an empty struct has no Polars dtype
    return row


def _nested_clashes(frames: list[pl.DataFrame]) -> set[str]:
    """Columns that are nested in one frame and of another type in another."""
    dtypes: dict[str, set[pl.DataType]] = {}
    for frame in frames:
        for name, dtype in frame.schema.items():
            dtypes.setdefault(name, set()).add(dtype)
    return {
        name
        for name, kinds in dtypes.items()
        if len(kinds) > 1 and any(k.is_nested() for k in kinds)
    }


def to_polars(messages: Sequence[Message]) -> pl.DataFrame:
    """One row per message, one column per struct field.

    Enums become their values, the tag of each message is the ``type`` column, and a
    :class:`FeatureVector`'s ``values`` become one Float64 column per feature (named
    ``values.<name>`` if it clashes with a field). Messages of several types give
    the union of their columns (null where a type has no such field; a column whose
    types differ takes their common supertype, e.g. string). Nested structs, dicts
    and tuples become Polars structs and lists.
    """
    if not messages:
        return pl.DataFrame()
    groups: dict[type, list[dict[str, Any]]] = {}
    features: set[str] = set()
    for i, msg in enumerate(messages):
        row = _row(msg, features)
        row["__row"] = i
        groups.setdefault(type(msg), []).append(row)
    frames = [pl.from_dicts(rows, infer_schema_length=None) for rows in groups.values()]
    clash = _nested_clashes(frames)
    if clash:  # e.g. StepResult.fills (list of structs) and Status.fills (int)
        for rows in groups.values():
            for row in rows:
                for c in clash & row.keys():
                    if isinstance(row[c], list | dict):
                        row[c] = msgspec.json.encode(row[c]).decode()
        frames = [pl.from_dicts(rows, infer_schema_length=None) for rows in groups.values()]
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    first = ["type"]
    frame = frame.sort("__row").drop("__row")
    # a feature that is None in every row would otherwise be a Null column
    schema = frame.schema
    frame = frame.with_columns(pl.col(c).cast(pl.Float64) for c in features if schema[c] == pl.Null)
    return frame.select(first + [c for c in frame.columns if c not in first])


def read_frame(
    client: valkey.Valkey,
    key: str,
    start_ns: int | None = None,
    end_ns: int | None = None,
    *,
    stats: ReadStats | None = None,
) -> pl.DataFrame:
    """:func:`read_range` as a :func:`to_polars` frame with the entry ``id`` first.

    Raises
    ------
    BusError
        If the server fails.
    """
    entries = read_range(client, key, start_ns, end_ns, stats=stats)
    if not entries:
        return pl.DataFrame(schema={"id": pl.String})
    frame = to_polars([msg for _id, msg in entries])
    return frame.insert_column(0, pl.Series("id", [entry_id for entry_id, _msg in entries]))
