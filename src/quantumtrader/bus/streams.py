"""Writing Valkey streams: time-based ids, a pipelined writer and its local spool.

Entry ids are ``<ms>-<k>`` (market time in ms, counter within the ms): ``XRANGE`` by
time is time travel, and a replayed entry keeps its id, so one the server already
holds (id not above the stream's last) counts as a duplicate, never written twice.
Without Valkey, entries go to a spool file (fsynced) and are replayed in order later.

References
----------
Valkey streams and ``XADD`` ids: https://valkey.io/topics/streams-intro/
"""

from __future__ import annotations

import itertools
import logging
import os
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

import hiredis
import msgspec
import valkey

from quantumtrader.bus.codec import Message, encode
from quantumtrader.bus.config import StreamSpec
from quantumtrader.bus.messages import Cancel, EndOfStream, Status, Submit
from quantumtrader.core.errors import BusError
from quantumtrader.model.book import BookDelta, BookSnapshot, Quote
from quantumtrader.model.events import Trade
from quantumtrader.model.feature_vector import FeatureVector
from quantumtrader.model.orders import Fill, Order, OrderUpdate
from quantumtrader.model.signals import AgentPerformance, Decision, Signal

__all__ = ["IdGen", "Spool", "SpoolRecord", "StreamWriter", "message_ts", "parse_id"]

log = logging.getLogger(__name__)

_NS_PER_MS = 1_000_000
_RECONNECT_EVERY_S = 0.2
_REPLAY_CHUNK = 2048
_HEADER = struct.Struct("<II")  # body length, crc32 of the body
_OUTAGE = (valkey.exceptions.ConnectionError, valkey.exceptions.TimeoutError)


def parse_id(stream_id: str | bytes) -> tuple[int, int]:
    """``(ms, k)`` of a stream id ``"<ms>-<k>"``.

    Raises
    ------
    BusError
        If ``stream_id`` is not of that form.
    """
    text = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
    ms, sep, k = text.partition("-")
    if not sep or not ms.isdigit() or not k.isdigit():
        raise BusError(f"malformed stream id {text!r}")
    return int(ms), int(k)


class IdGen:
    """Strictly increasing stream ids from market timestamps.

    ``next(ts_ns)`` is ``<ts_ns // 1e6>-0`` when that ms is above the last id's, else
    the last ms with its counter incremented (same ms, or time going backwards). The
    first id is above ``0-0`` (which XADD refuses).
    """

    def __init__(self) -> None:
        self.ms = 0
        self.k = 0

    def next(self, ts_ns: int) -> str:
        """The id of an entry with market time ``ts_ns`` (ns UTC)."""
        ms = ts_ns // _NS_PER_MS
        if ms > self.ms:
            self.ms, self.k = ms, 0
        else:
            self.k += 1
        return f"{self.ms}-{self.k}"

    def resume(self, last_id: str | bytes) -> None:
        """Continue after ``last_id`` (never moves backwards)."""
        ms, k = parse_id(last_id)
        self.ms, self.k = max((self.ms, self.k), (ms, k))

    @property
    def last(self) -> str:
        """The last id handed out (or resumed from)."""
        return f"{self.ms}-{self.k}"


def message_ts(msg: Message) -> int:
    """Market time of ``msg``, ns UTC (0 for messages without one).

    ``ts_event`` of market data and feature vectors; ``ts`` of signals, decisions,
    agent performance and trading events; ``order.ts`` of a :class:`Submit`;
    ``wall_ns`` of a :class:`Status`; ``last_ts`` of an :class:`EndOfStream`.
    """
    if isinstance(msg, Trade | BookDelta | FeatureVector | Quote | BookSnapshot):
        return msg.ts_event
    if isinstance(msg, Signal | Decision | AgentPerformance | Order | Fill | OrderUpdate | Cancel):
        return msg.ts
    if isinstance(msg, Submit):
        return msg.order.ts
    if isinstance(msg, Status):
        return msg.wall_ns
    if isinstance(msg, EndOfStream):
        return msg.last_ts
    # a message type added to the union later: its market time by the usual names
    ts = getattr(msg, "ts_event", getattr(msg, "ts", 0))
    return ts if isinstance(ts, int) else 0


class SpoolRecord(NamedTuple):
    """One stream entry waiting to be written (also the spool's record)."""

    key: str
    id: str
    maxlen: int
    ttl_s: int
    payload: bytes


_REC_ENCODER = msgspec.msgpack.Encoder()
_REC_DECODER = msgspec.msgpack.Decoder(tuple[str, str, int, int, bytes])


class Spool:
    """Append-only file of :class:`SpoolRecord`, fsynced on every append.

    Each record is an 8-byte header (little-endian uint32 body length, uint32 CRC-32
    of the body) followed by the msgpack array ``[key, id, maxlen, ttl_s, payload]``.
    A torn last record (the process killed while appending) is detected by its
    length or CRC, logged and cut off when the spool is opened.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._size = 0
        self._fh: IO[bytes] | None = None
        if path.exists():
            self._recover()

    def _recover(self) -> None:
        size = self.path.stat().st_size
        end = 0
        count = 0
        with self.path.open("rb") as fh:
            for _rec, stop in self._scan(fh):
                end = stop
                count += 1
        if end < size:
            log.warning(
                "spool %s: dropped a torn record at byte %d (%d bytes after the last "
                "complete record; the process died while writing it)",
                self.path,
                end,
                size - end,
            )
            with self.path.open("r+b") as fh:
                fh.truncate(end)
                os.fsync(fh.fileno())
        self.count, self._size = count, end

    def _scan(self, fh: IO[bytes], limit: int | None = None) -> Iterator[tuple[SpoolRecord, int]]:
        """Records of ``fh`` with the offset after each, stopping at a torn one."""
        pos = 0
        while limit is None or pos < limit:
            head = fh.read(_HEADER.size)
            if len(head) < _HEADER.size:
                return
            length, crc = _HEADER.unpack(head)
            body = fh.read(length)
            if len(body) < length or zlib.crc32(body) != crc:
                return
            try:
                fields = _REC_DECODER.decode(body)
            except msgspec.DecodeError:
                return
            pos += _HEADER.size + length
            yield SpoolRecord(*fields), pos

    def append(self, records: list[SpoolRecord]) -> None:
        """Append ``records`` and fsync (they are persisted when this returns).

        Raises
        ------
        BusError
            If the file cannot be written (the spool keeps its earlier records).
        """
        if not records:
            return
        chunks: list[bytes] = []
        for rec in records:
            body = _REC_ENCODER.encode(tuple(rec))
            chunks.append(_HEADER.pack(len(body), zlib.crc32(body)))
            chunks.append(body)
        data = b"".join(chunks)
        try:
            if self._fh is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = self.path.open("ab")
            self._fh.write(data)
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError as exc:  # e.g. disk full: cut the partial write, keep the rest
            if self._fh is not None:
                self._fh.truncate(self._size)
            raise BusError(f"cannot write stream spool {self.path}: {exc}") from exc
        self._size += len(data)
        self.count += len(records)

    def records(self) -> Iterator[SpoolRecord]:
        """The records, oldest first."""
        if not self.count:
            return
        with self.path.open("rb") as fh:
            for rec, _stop in self._scan(fh, self._size):
                yield rec

    def clear(self) -> None:
        """Remove the spool file (all its records were written)."""
        self.close()
        self.path.unlink(missing_ok=True)
        self.count = self._size = 0

    def close(self) -> None:
        """Close the file (records stay)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class StreamWriter:
    """Pipelined ``XADD`` to many streams, spooled locally while Valkey is away.

    Parameters
    ----------
    connect
        Returns a client (called at start and after a connection error).
    spool_path
        Local spool file; entries left there by an earlier writer are replayed at
        construction when Valkey is reachable (else later, before any new entry).
    batch
        Entries buffered before they are sent as one (non-transactional) pipeline.
    flush_ms
        Longest an entry stays buffered, ms (checked in :meth:`add` and :meth:`poll`).

    Attributes
    ----------
    written
        Entries the server accepted.
    duplicates
        Entries the server already had (id not above the stream's last id).
    spooled
        Entries currently in the spool file.
    reconnects
        Successful replays of the spool after an outage.
    pipelines
        Pipelines sent.

    Notes
    -----
    Not thread-safe. While the spool is not empty every flush goes through it (order
    is kept); a reconnect is tried at most every 200 ms (:meth:`flush`, :meth:`close`
    at once). A refused password spools the entries and raises :class:`BusError`; a
    spooled entry refused for another reason raises it at every replay.
    A key's ids resume from the stream's ``last-generated-id`` at its first use (if
    Valkey is away then: at the next reconnect; entries of a replayed feed below
    that id count as duplicates).
    """

    def __init__(
        self,
        connect: Callable[[], valkey.Valkey],
        spool_path: Path,
        *,
        batch: int = 512,
        flush_ms: int = 20,
    ) -> None:
        if batch < 1:
            raise BusError(f"batch must be >= 1, got {batch}")
        self._connect = connect
        self._client: valkey.Valkey | None = None
        self._spool = Spool(Path(spool_path))
        self.batch = batch
        self.flush_ms = flush_ms
        self._buf: list[SpoolRecord] = []
        self._since = 0.0  # monotonic time of the oldest buffered entry
        self._ids: dict[str, IdGen] = {}
        self._unresumed: set[str] = set()
        self.written = 0
        self.duplicates = 0
        self.reconnects = 0
        self.pipelines = 0
        self._last_attempt = -1e9
        if self._spool.count:
            self._replay()

    @property
    def spooled(self) -> int:
        """Entries currently waiting in the spool file."""
        return self._spool.count

    @property
    def spool_path(self) -> Path:
        """The spool file."""
        return self._spool.path

    @property
    def buffered(self) -> int:
        """Entries in memory, not yet sent."""
        return len(self._buf)

    def add(
        self,
        key: str,
        spec: StreamSpec,
        msg: Message,
        ts_ns: int | None = None,
        *,
        payload: bytes | None = None,
    ) -> str:
        """Buffer an ``XADD key MAXLEN ~ spec.maxlen <id> m <msg>``; returns the id.

        ``ts_ns`` overrides :func:`message_ts` for the id. ``payload`` is ``encode(msg)``
        when the caller already has it (it was just published). The buffer is sent when
        it holds ``batch`` entries or its oldest entry is ``flush_ms`` old.

        Raises
        ------
        BusError
            If the server refuses an entry for a reason other than an outage.
        """
        entry_id = self._next_id(key, msg if ts_ns is None else ts_ns)
        if not self._buf:
            self._since = time.monotonic()
        body = encode(msg) if payload is None else payload
        self._buf.append(SpoolRecord(key, entry_id, spec.maxlen, spec.ttl_s, body))
        if len(self._buf) >= self.batch or self._due():
            self._flush(force=False)
        return entry_id

    def add_now(self, key: str, spec: StreamSpec, msg: Message, ts_ns: int | None = None) -> str:
        """:meth:`add`, then send everything buffered before returning.

        On return the entry is in Valkey or (Valkey unreachable) fsynced in the spool.
        """
        entry_id = self.add(key, spec, msg, ts_ns)
        self._flush(force=False)
        return entry_id

    def poll(self) -> None:
        """Time-based flush, and a reconnect + spool replay when one is due."""
        if self._due():
            self._flush(force=False)
        elif self._spool.count and self._may_attempt():
            self._replay()

    def flush(self) -> None:
        """Send everything buffered now (replaying the spool first, if any)."""
        self._flush(force=True)

    def close(self) -> None:
        """Flush; entries Valkey could not take stay in the spool (logged)."""
        self._flush(force=True)
        if self._spool.count:
            log.warning(
                "valkey unreachable: %d stream entries left in spool %s (replayed by the "
                "next writer on it)",
                self._spool.count,
                self._spool.path,
            )
        self._spool.close()
        self._drop_client()

    def _due(self) -> bool:
        return bool(self._buf) and time.monotonic() - self._since >= self.flush_ms / 1000.0

    def _may_attempt(self) -> bool:
        return time.monotonic() - self._last_attempt >= _RECONNECT_EVERY_S

    def _get_client(self) -> valkey.Valkey:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()  # type: ignore[no-untyped-call]
        self._client = None

    def _next_id(self, key: str, msg_or_ts: Message | int) -> str:
        gen = self._ids.get(key)
        if gen is None:
            gen = self._ids[key] = IdGen()
            if not self._spool.count:
                try:
                    self._resume(key, gen)
                except _OUTAGE:
                    self._drop_client()
                    self._unresumed.add(key)
            else:
                self._unresumed.add(key)
        ts = msg_or_ts if isinstance(msg_or_ts, int) else message_ts(msg_or_ts)
        return gen.next(ts)

    def _resume(self, key: str, gen: IdGen) -> None:
        try:
            info: dict[str, Any] = self._get_client().xinfo_stream(key)  # type: ignore[assignment]
        except valkey.exceptions.ResponseError as exc:
            if "no such key" in str(exc).lower():
                return
            raise BusError(f"XINFO STREAM {key}: {exc}") from exc
        gen.resume(info["last-generated-id"])

    def _flush(self, *, force: bool) -> None:
        records = self._buf
        if not records and not (force and self._spool.count):
            return
        self._buf = []
        if self._spool.count and (force or self._may_attempt()):
            self._replay()
        if self._spool.count:
            self._spool.append(records)
            return
        try:
            self._send(records)
        except _OUTAGE as exc:
            self._spool.append(records)  # persisted first, whatever the error
            self._outage(exc)

    def _outage(self, exc: Exception) -> None:
        if isinstance(exc, valkey.exceptions.AuthenticationError):
            raise BusError(f"valkey refused the password: {exc}") from exc
        if not self._spool.count:
            log.warning(
                "valkey unreachable (%s): spooling stream entries to %s", exc, self.spool_path
            )
        self._last_attempt = time.monotonic()
        self._drop_client()

    def _replay(self) -> None:
        """Resume pending keys and send the spool in order; truncate it when all sent."""
        self._last_attempt = time.monotonic()
        try:
            for key in sorted(self._unresumed):
                self._resume(key, self._ids[key])
                self._unresumed.discard(key)
            pending = self._spool.records()
            while chunk := list(itertools.islice(pending, _REPLAY_CHUNK)):
                self._send(chunk)
        except _OUTAGE as exc:
            self._outage(exc)
            return
        log.info("valkey reachable: replayed %d spooled entries", self._spool.count)
        self._spool.clear()
        self.reconnects += 1

    def _send(self, records: list[SpoolRecord]) -> None:
        """One pipeline: the XADDs, then EXPIRE of the touched keys that have a TTL.

        Commands are packed by hiredis and written in one send on a pooled
        connection; replies are read one per command (an error reply is kept, not
        raised, so the rest of the pipeline is still read).
        """
        pool = self._get_client().connection_pool
        pack = hiredis.pack_command  # its stub only allows 1-tuples, hence the ignores
        packed = [
            pack((b"XADD", r.key, b"MAXLEN", b"~", r.maxlen, r.id, b"m", r.payload))  # type: ignore[arg-type]
            for r in records
        ]
        ttls = {r.key: r.ttl_s for r in records if r.ttl_s > 0}
        packed += [pack((b"EXPIRE", k, t)) for k, t in ttls.items()]  # type: ignore[arg-type]
        conn = pool.get_connection("XADD")
        results: list[Any] = []
        try:
            conn.send_packed_command([b"".join(packed)])
            for _ in packed:
                try:
                    results.append(conn.read_response())
                except valkey.exceptions.ResponseError as exc:
                    results.append(exc)
        except BaseException:
            conn.disconnect()
            raise
        finally:
            pool.release(conn)
        self.pipelines += 1
        failures: list[str] = []
        for rec, res in zip(records, results, strict=False):
            if not isinstance(res, Exception):
                self.written += 1
            elif "equal or smaller" in str(res):  # already there: a replayed entry
                self.duplicates += 1
            else:
                failures.append(f"XADD {rec.key} {rec.id} failed: {res}")
        failures += [
            f"EXPIRE failed: {r}" for r in results[len(records) :] if isinstance(r, Exception)
        ]
        if failures:
            raise BusError(f"{failures[0]} ({len(failures)} command(s) failed)")
