"""Binance depth: level lists parsed to arrays, the diff synchronisation, the book rows.

Used by :func:`quantumtrader.data.binance.read_binance`. Level lists (``[["61800.20",
"0.014"], ...]``) are kept as raw JSON by the decoder and parsed here by one numba pass
over all of them (the decimal text is read exactly: an integer mantissa divided by a
power of ten, which IEEE division rounds correctly). :class:`DiffSync` decides which
diffs apply and in what order; :func:`book_table` turns the plan into book rows.

References
----------
Binance spot and USDⓈ-M futures API documentation, "How to manage a local order book
correctly".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from numba import njit

from quantumtrader.core.errors import DataError
from quantumtrader.model.arrow import TS_TYPE
from quantumtrader.model.book import F_LAST, F_SNAPSHOT, BookAction, BookSide
from quantumtrader.model.book_arrow import BOOK_SCHEMA
from quantumtrader.model.instruments import InstrumentSpec

__all__ = [
    "QTY_TOL",
    "TICK_TOL",
    "DepthLevels",
    "DiffSync",
    "PlanRow",
    "book_table",
    "off_grid",
    "parse_decimals",
    "to_units",
]

Array = npt.NDArray[Any]
QTY_TOL = 1e-9
"""Tolerance of ``size / qty_unit`` around an integer, relative to ``max(1, |units|)``."""
TICK_TOL = 1e-6
"""Tolerance of ``price / tick_size`` around an integer, ticks."""
_MAX_DIGITS = 18  # int64 mantissa


@njit(cache=True)
def _parse_segments(
    buf: Array, starts: Array, out: Array, counts: Array, arrays: Array
) -> int:  # pragma: no cover - compiled
    """Parse the decimal numbers (quoted or bare) of each segment ``[starts[k], starts[k+1])``.

    Writes the values to ``out`` in order (NaN for a token that is not a plain decimal),
    the count per segment to ``counts`` and whether the segment is a JSON array to
    ``arrays``; returns the total count.
    """
    n = 0
    for k in range(starts.shape[0] - 1):
        i = starts[k]
        end = starts[k + 1]
        j = i
        while j < end and buf[j] == 32:
            j += 1
        arrays[k] = j < end and buf[j] == 91  # '['
        c = 0
        while i < end:
            ch = buf[i]
            quoted = ch == 34  # '"'
            if not (quoted or 45 <= ch <= 46 or 48 <= ch <= 57):  # " - . 0-9
                i += 1
                continue
            if quoted:
                i += 1
            neg = False
            mant = 0
            digits = 0
            frac = -1
            ok = True
            while i < end:
                ch = buf[i]
                if 48 <= ch <= 57:
                    if mant > 0 or ch != 48:
                        digits += 1
                    mant = mant * 10 + (ch - 48)
                    if frac >= 0:
                        frac += 1
                elif ch == 46 and frac < 0:
                    frac = 0
                elif ch == 45 and mant == 0 and frac < 0 and not neg:
                    neg = True
                elif quoted and ch == 34:
                    i += 1
                    break
                elif quoted:
                    ok = False
                else:
                    break
                i += 1
            if digits > _MAX_DIGITS or frac > 22:
                ok = False
            v = float(mant)
            if frac > 0:
                v = v / 10.0**frac
            out[n] = (-v if neg else v) if ok else np.nan
            n += 1
            c += 1
        counts[k] = c
    return n


def parse_decimals(segments: Sequence[Any]) -> tuple[Array, Array, Array]:
    """Parse every decimal number of each JSON fragment (bytes-like), in order.

    Parameters
    ----------
    segments
        Raw JSON fragments, e.g. level lists ``[["61800.20","0.014"]]`` or a quoted
        number ``"61800.20"``.

    Returns
    -------
    values, counts, is_array
        float64 ``(sum(counts),)`` (NaN for a token that is not a plain decimal), int64
        ``(len(segments),)`` numbers per fragment, bool ``(len(segments),)`` whether the
        fragment is a JSON array.

    Examples
    --------
    >>> v, c, a = parse_decimals([b'[["61800.20","0.014"]]', b'"7"', b"[]"])
    >>> v.tolist(), c.tolist(), a.tolist()
    ([61800.2, 0.014, 7.0], [2, 1, 0], [True, False, True])
    """
    lengths = np.fromiter((len(memoryview(s)) for s in segments), np.int64, len(segments))
    starts = np.zeros(len(segments) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    buf = np.frombuffer(b"".join(segments), dtype=np.uint8)
    out = np.empty(max(int(starts[-1]) // 2 + 1, 1))
    counts = np.zeros(len(segments), dtype=np.int64)
    arrays = np.zeros(len(segments), dtype=np.bool_)
    n = _parse_segments(buf, starts, out, counts, arrays)
    return out[:n].copy(), counts, arrays


def to_units(values: Array, spec: InstrumentSpec) -> tuple[Array, Array]:
    """Sizes in quantity units (rounded) and a mask of the non-integral or negative ones."""
    x = values / spec.qty_unit
    r = np.rint(x)
    with np.errstate(invalid="ignore"):
        bad = (np.abs(x - r) > QTY_TOL * np.maximum(1.0, np.abs(x))) | ~(x >= 0)
    return r, bad


def off_grid(prices: Array, spec: InstrumentSpec) -> Array:
    """Mask of prices that are not positive multiples of the tick size."""
    q = prices / spec.tick_size
    with np.errstate(invalid="ignore"):
        bad: Array = (np.abs(q - np.rint(q)) > TICK_TOL) | ~(prices > 0)
    return bad


class DepthLevels:
    """All levels of the snapshots and diffs of one replay, flattened.

    Parameters
    ----------
    books
        Per message ``(bids, asks)`` raw JSON level lists.
    spec
        Instrument (tick size and quantity unit).
    bad
        Called as ``bad(k, field, reason)`` for a message ``k`` with rejected levels; its
        valid levels are kept (``ok``).

    Attributes
    ----------
    start
        int64 ``(n_messages + 1,)``: message ``k`` owns rows ``start[k]:start[k+1]``.
    count
        int64 ``(n_messages,)`` levels per message (bids first, then asks).
    side, price, size, ok
        Per level: int8 ``BookSide``, float64 points, float64 quantity units, valid flag.
    """

    def __init__(
        self,
        books: Sequence[tuple[Any, Any]],
        spec: InstrumentSpec,
        bad: Callable[[int, str, str], None],
    ) -> None:
        values, counts, arrays = parse_decimals([x for pair in books for x in pair])
        per = counts.reshape(-1, 2)
        # A level is [price, size]: a list must hold an even count of numbers.
        malformed = ~arrays.reshape(-1, 2).all(axis=1) | (per % 2 != 0).any(axis=1)
        nb, na = per[:, 0] // 2, per[:, 1] // 2
        self.count = nb + na
        self.start = np.zeros(len(books) + 1, dtype=np.int64)
        np.cumsum(self.count, out=self.start[1:])
        arr = values[: 2 * int(self.count.sum())].reshape(-1, 2) if not malformed.any() else None
        if arr is None:  # rare: drop the numbers of malformed lists, keep the rest aligned
            keep = np.repeat(~np.repeat(malformed, 2), counts)
            arr = values[keep].reshape(-1, 2)
            self.count = np.where(malformed, 0, self.count)
            self.start[1:] = np.cumsum(self.count)
            nb, na = np.where(malformed, 0, nb), np.where(malformed, 0, na)
            for k in np.flatnonzero(malformed).tolist():
                bad(k, "b/a", "level lists are not [[price, size], ...] arrays")
        side_per = np.tile(np.array([1, -1], dtype=np.int8), len(books))
        self.side = np.repeat(side_per, np.ravel(np.stack([nb, na]), order="F"))
        self.price = arr[:, 0]
        self.size, bad_size = to_units(arr[:, 1], spec)
        bad_px = off_grid(self.price, spec)
        self.ok = ~(bad_size | bad_px)
        owner = np.repeat(np.arange(len(books)), self.count)
        for k in np.unique(owner[~self.ok]).tolist():
            lo, hi = int(self.start[k]), int(self.start[k + 1])
            j = lo + int(np.argmin(self.ok[lo:hi]))
            what = "off the tick grid" if bad_px[j] else f"not a multiple of {spec.qty_unit}"
            n_bad = int((~self.ok[lo:hi]).sum())
            reason = f"level {arr[j, 0]!r} size {arr[j, 1]!r}: {what} ({n_bad} level(s) dropped)"
            bad(k, "b" if self.side[j] > 0 else "a", reason)


def _ts(values: Array) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), pa.int64()).cast(TS_TYPE)


def book_table(lv: DepthLevels, plan: Sequence[PlanRow], symbol: str) -> pa.Table:
    """Book rows of the planned messages in plan order (a snapshot starts with a CLEAR).

    Returns
    -------
    pyarrow.Table
        :data:`~quantumtrader.model.book_arrow.BOOK_SCHEMA`: ``SET`` rows of the valid
        levels (``F_SNAPSHOT`` on snapshot rows, ``F_LAST`` on each message's last row).
    """
    p = np.array(plan, dtype=np.int64).reshape(-1, 6)
    msg, snap = p[:, 0], p[:, 5].astype(bool)
    lens = lv.count[msg] + snap  # + 1 CLEAR row per snapshot
    total = int(lens.sum())
    which = np.repeat(np.arange(len(p)), lens)  # plan row of each output row
    first = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    offset = np.arange(total) - first[which]
    is_clear = snap[which] & (offset == 0)
    src = np.where(is_clear, 0, lv.start[msg][which] + offset - snap[which])
    keep = is_clear | (lv.ok[src] if total else is_clear)
    which, src, is_clear = which[keep], src[keep], is_clear[keep]
    n = len(which)
    flags = np.where(snap[which], F_SNAPSHOT, 0).astype(np.int16)
    if n:
        last = np.ones(n, dtype=bool)
        last[:-1] = which[1:] != which[:-1]
        flags[last] |= F_LAST
    arrays = [
        _ts(p[which, 1]),
        _ts(p[which, 2]),
        pa.array([symbol] * n, pa.string()),
        pa.array(np.where(is_clear, BookSide.BOTH, lv.side[src]).astype(np.int8)),
        pa.array(np.where(is_clear, BookAction.CLEAR, BookAction.SET).astype(np.int8)),
        pa.array(np.where(is_clear, 0.0, lv.price[src])),
        pa.array(np.where(is_clear, 0.0, lv.size[src])),
        pa.array(np.zeros(n, dtype=np.int64)),
        pa.array(p[which, 3]),
        pa.array(p[which, 4]),
        pa.array(flags),
    ]
    return pa.Table.from_arrays(arrays, schema=BOOK_SCHEMA)


PlanRow = tuple[int, int, int, int, int, bool]
"""``(message index, ts_event, ts_init, seq, update_id, is_snapshot)`` of one applied message."""


class DiffSync:
    """Binance's depth-diff synchronisation, as a plan of the messages to apply.

    Diffs that arrive before the REST snapshot are buffered and replayed right after it
    (with the snapshot's ``seq``). After a snapshot with ``lastUpdateId = L``, diffs that
    are older are discarded (futures ``u < L``, spot ``u <= L``); the first applied diff
    must straddle ``L`` (futures ``U <= L <= u``, spot ``U <= L + 1 <= u``), and every
    later diff must continue the chain (futures ``pu`` = previous ``u``, spot ``U`` =
    previous ``u + 1``). The snapshot's ``ts_event`` is lowered to the first applied
    diff's when that is earlier: the book at ``L`` existed no later than that diff.

    Parameters
    ----------
    futures
        USDⓈ-M futures rules (``pu`` chain) when True, spot rules otherwise.
    locate
        Maps a line's ``seq`` to ``(file, 1-based line)`` for error messages.

    Attributes
    ----------
    plan
        :data:`PlanRow` per applied message, in application order.
    n_skipped
        Diffs discarded (older than the snapshot, or never synchronised).

    References
    ----------
    Binance API documentation, "How to manage a local order book correctly" (spot
    WebSocket streams; USDⓈ-M futures WebSocket market streams).

    Examples
    --------
    >>> sync = DiffSync(futures=False)
    >>> ids = {"prev_id": -1, "ts_init": 0}
    >>> sync.diff(0, first_id=5, last_id=9, ts=1, seq=0, **ids)  # before the snapshot
    >>> sync.snapshot(1, 10, 2, 2, 1)  # lastUpdateId 10: the buffered diff is old
    >>> sync.diff(2, first_id=11, last_id=14, ts=3, seq=2, **ids)  # straddles 10 + 1
    >>> [(k, seq, uid) for k, _, _, seq, uid, _ in sync.plan], sync.n_skipped
    ([(1, 1, 10), (2, 2, 14)], 1)
    """

    def __init__(
        self, *, futures: bool, locate: Callable[[int], tuple[str, int]] | None = None
    ) -> None:
        self.futures = futures
        self.locate = locate
        self.plan: list[PlanRow] = []
        self.last_id = -1
        self.prev_u = -1
        self.snap_at = -1
        self.buffered: list[tuple[int, int, int, int, int, int, int]] = []
        self.n_snapshots = 0
        self.n_old = 0
        self.n_early = 0
        self.n_skipped = 0
        self.n_unsynced = 0

    def snapshot(self, k: int, last_id: int, ts: int, ts_init: int, seq: int) -> None:
        """A REST snapshot (message ``k``, line ``seq``) with ``lastUpdateId = last_id``."""
        self.n_snapshots += 1
        self.plan.append((k, ts, ts_init, seq, last_id, True))
        self.snap_at = len(self.plan) - 1
        self.last_id, self.prev_u = last_id, -1
        pending, self.buffered = self.buffered, []
        self.n_early += len(pending)
        for k_, u_first, u_last, u_prev, ts_, init_, own_seq in pending:
            self._apply(
                k_,
                first_id=u_first,
                last_id=u_last,
                prev_id=u_prev,
                ts=ts_,
                ts_init=init_,
                seq=own_seq,
                out_seq=seq,
            )

    def diff(
        self,
        k: int,
        *,
        first_id: int,
        last_id: int,
        prev_id: int,
        ts: int,
        ts_init: int,
        seq: int,
    ) -> None:
        """A depth diff (message ``k``, line ``seq``) with ``U``, ``u`` and ``pu`` (-1 on spot).

        Raises
        ------
        DataError
            If the first diff after a snapshot does not straddle it or the chain breaks.
        """
        if self.last_id < 0:
            self.buffered.append((k, first_id, last_id, prev_id, ts, ts_init, seq))
        else:
            self._apply(
                k,
                first_id=first_id,
                last_id=last_id,
                prev_id=prev_id,
                ts=ts,
                ts_init=ts_init,
                seq=seq,
                out_seq=seq,
            )

    def _error(self, seq: int, field: str, message: str) -> DataError:
        path, line = self.locate(seq) if self.locate else (None, None)
        return DataError(message, path=path, line=line, field=field)

    def _apply(
        self,
        k: int,
        *,
        first_id: int,
        last_id: int,
        prev_id: int,
        ts: int,
        ts_init: int,
        seq: int,
        out_seq: int,
    ) -> None:
        if self.prev_u < 0:
            old = last_id < self.last_id if self.futures else last_id <= self.last_id
            if old:
                self.n_old += 1
                self.n_skipped += 1
                return
            target = self.last_id if self.futures else self.last_id + 1
            if not first_id <= target <= last_id:
                raise self._error(
                    seq,
                    "U",
                    f"first diff after the snapshot (lastUpdateId {self.last_id}) does not "
                    f"straddle it: U={first_id} u={last_id}",
                )
            sk, sts, sinit, sseq, suid, _ = self.plan[self.snap_at]
            self.plan[self.snap_at] = (sk, min(sts, ts), sinit, sseq, suid, True)
        elif self.futures and prev_id != self.prev_u:
            raise self._error(
                seq, "pu", f"depth gap: pu={prev_id} but the previous diff ended at u={self.prev_u}"
            )
        elif not self.futures and first_id != self.prev_u + 1:
            raise self._error(
                seq, "U", f"depth gap: U={first_id} but the previous diff ended at u={self.prev_u}"
            )
        self.prev_u = last_id
        self.plan.append((k, ts, ts_init, out_seq, last_id, False))

    def finish(self) -> None:
        """Count the diffs still buffered (no snapshot followed them) as skipped."""
        self.n_unsynced += len(self.buffered)
        self.n_skipped += len(self.buffered)
        self.buffered = []

    def notes(self) -> list[str]:
        """Human-readable facts about the synchronisation."""
        out = [
            f"{self.n_snapshots} REST snapshot(s); {self.n_old} depth diffs older than the "
            f"snapshot discarded; {self.n_early} diffs arrived before it (buffered)"
        ]
        if self.n_snapshots == 0:
            out.append("no REST snapshot: the book cannot be built")
        if self.n_unsynced:
            out.append(f"{self.n_unsynced} depth diffs never synchronised (skipped)")
        return out
