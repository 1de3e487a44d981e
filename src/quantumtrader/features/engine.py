"""FeatureEngine: every configured feature group, one code path for stream and batch.

The stream path (:meth:`FeatureEngine.update_trade`, :meth:`~FeatureEngine.update_book`,
:meth:`~FeatureEngine.snapshot`) calls each group's numba kernels once per event; the
batch path (:meth:`FeatureEngine.run`) calls each group's compiled loop, which calls the
very same kernels, over a columnar :class:`~quantumtrader.features.inputs.FeatureInput`
and samples the features at given timestamps, every N ns, after every trade or after
every event. Both paths advance the same state, so a replay may switch between them.

A snapshot is O(1) in the number of events seen: every group keeps running sums and
emits from them, so there is no need for the seed's 5-second feature cache.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from quantumtrader.core import ConfigError, DataError
from quantumtrader.features.group import FeatureDoc, Group, GroupContext
from quantumtrader.features.groups import GROUP_CLASSES
from quantumtrader.features.inputs import KIND_TRADE, FeatureInput
from quantumtrader.features.state import State, ensure_room

__all__ = ["FeatureEngine", "interval_ends"]

Array = np.ndarray[Any, Any]
_STREAM_ROOM = 1024  # ring room ensured per stream refill
_CHUNK = 1 << 14  # batch events per compiled call: rings hold at most window + chunk entries


def interval_ends(ts: Array, every_ns: int) -> Array:
    """Sample times of time bars: ``(k + 1) every_ns - 1`` for every interval holding an event.

    Parameters
    ----------
    ts
        int64 ``(n,)`` event times, ns UTC, non-decreasing.
    every_ns
        Bar length, ns (> 0).

    Returns
    -------
    numpy.ndarray
        int64 ``(m,)`` increasing: the last nanosecond of each active interval, so a
        sample holds exactly the events of its interval and before (quiet intervals,
        nights and weekends, produce no rows).

    Raises
    ------
    ValueError
        If ``every_ns <= 0``.
    """
    if every_ns <= 0:
        raise ValueError(f"every_ns must be > 0, got {every_ns}")
    ends = (np.asarray(ts, dtype=np.int64) // every_ns + 1) * every_ns - 1
    if ends.shape[0] > 1 and bool(np.all(ends[1:] >= ends[:-1])):  # sorted input: no hashing
        return ends[np.r_[True, ends[1:] != ends[:-1]]]
    return np.unique(ends)


class FeatureEngine:
    """A configured set of feature groups (all by default), updated by trades and books.

    Parameters
    ----------
    groups
        Group names (see :data:`~quantumtrader.features.groups.GROUP_CLASSES`) or
        :class:`Group` instances, in output order; None for every group.
    ctx
        Instrument context (tick size, size buckets, session cut). Either ``ctx`` or
        ``tick_size`` must be given.
    tick_size
        Shortcut for ``GroupContext(tick_size=...)``.
    params
        Constructor parameters per group name, e.g. ``{"flow": {"vap_windows": (30,)}}``.

    Raises
    ------
    ConfigError
        If a group name is unknown, parameters are invalid or two groups emit the same
        feature name.
    """

    def __init__(
        self,
        groups: Sequence[str | Group] | None = None,
        *,
        ctx: GroupContext | None = None,
        tick_size: float | None = None,
        params: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        if ctx is None:
            if tick_size is None:
                raise ConfigError("FeatureEngine needs ctx= or tick_size=")
            ctx = GroupContext(tick_size=tick_size)
        self.ctx = ctx
        params = dict(params or {})
        chosen: list[Group] = []
        for g in GROUP_CLASSES if groups is None else groups:
            if isinstance(g, Group):
                chosen.append(g)
                continue
            cls = GROUP_CLASSES.get(g)
            if cls is None:
                raise ConfigError(f"unknown feature group {g!r}; known: {', '.join(GROUP_CLASSES)}")
            try:
                chosen.append(cls(ctx, **dict(params.pop(g, {}))))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"feature group {g!r}: {exc}") from exc
        if params:
            raise ConfigError(f"parameters for groups not in the set: {', '.join(params)}")
        self.groups: tuple[Group, ...] = tuple(chosen)
        self._docs = tuple(d for g in self.groups for d in g.docs())
        names = [d.name for d in self._docs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"feature names emitted twice: {', '.join(dup)}")
        self._names = tuple(names)
        self._index = {n: k for k, n in enumerate(names)}
        bounds = np.cumsum([0] + [g.n_out for g in self.groups])
        self._slices = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        self._book_groups = tuple(k for k, g in enumerate(self.groups) if g.uses_book)
        self._trade_groups = tuple(k for k, g in enumerate(self.groups) if g.uses_trades)
        self.reset()

    # ------------------------------------------------------------------ metadata
    @property
    def names(self) -> tuple[str, ...]:
        """Feature names, shape ``(n_features,)`` order of :meth:`snapshot`."""
        return self._names

    @property
    def docs(self) -> tuple[FeatureDoc, ...]:
        """Catalogue entry of every feature, in output order."""
        return self._docs

    @property
    def n_features(self) -> int:
        """Number of features."""
        return len(self._names)

    @property
    def last_ts(self) -> int | None:
        """``ts_event`` of the last event fed (ns UTC), None before the first."""
        return self._last_ts

    def index(self, name: str) -> int:
        """Position of ``name`` in the snapshot vector.

        Raises
        ------
        KeyError
            If no configured group emits ``name``.
        """
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"no feature {name!r} in this engine") from None

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Return to the freshly constructed state."""
        self._states: list[State] = [g.new_state() for g in self.groups]
        self._room = 0
        self._last_ts: int | None = None
        self._out = np.full(self.n_features, np.nan)

    def clone(self) -> FeatureEngine:
        """Independent deep copy (same values from here on for the same events)."""
        return copy.deepcopy(self)

    def _refill(self, n: int) -> None:
        self._states = [ensure_room(s, n) for s in self._states]
        self._room = n

    def _check_ts(self, ts: int) -> None:
        if self._last_ts is not None and ts < self._last_ts:
            raise DataError(
                f"event at {ts} ns is earlier than the previous event ({self._last_ts} ns)",
                field="ts_event",
            )

    # ------------------------------------------------------------------ stream
    def update_trade(  # noqa: PLR0917 - the fields of one trade
        self, ts: int, price: float, qty: float, side: int, buyer: int = -1, seller: int = -1
    ) -> None:
        """Feed one trade: ns UTC, points, quantity units, aggressor (+1/-1/0), brokers.

        Raises
        ------
        DataError
            If ``ts`` is earlier than the previous event's.
        """
        self._check_ts(ts)
        if self._room <= 0:
            self._refill(_STREAM_ROOM)
        self._room -= 1
        self._last_ts = ts
        states = self._states
        for k in self._trade_groups:
            f, i = states[k]
            self.groups[k].trade(f, i, ts, price, qty, side, buyer, seller)

    def update_book(self, ts: int, lv: Array) -> None:
        """Feed the book after one venue message.

        Parameters
        ----------
        ts
            ``ts_event`` of the message, ns UTC.
        lv
            float64 ``(4, K)``: bid prices, bid sizes, ask prices, ask sizes, best first;
            NaN price and 0 size for empty levels.

        Raises
        ------
        DataError
            If ``ts`` is earlier than the previous event's.
        """
        self._check_ts(ts)
        if self._room <= 0:
            self._refill(_STREAM_ROOM)
        self._room -= 1
        self._last_ts = ts
        states = self._states
        for k in self._book_groups:
            f, i = states[k]
            self.groups[k].book(f, i, ts, lv)

    def snapshot(self, ts: int | None = None) -> Array:
        """Every feature as of ``ts`` (default: the last event's time), shape ``(n_features,)``.

        O(1) in the number of events seen. Values use only events with
        ``ts_event <= ts``; windows are ``(ts - W, ts]``.

        Raises
        ------
        DataError
            If ``ts`` is earlier than the last event fed.
        """
        if ts is None:
            ts = self._last_ts if self._last_ts is not None else 0
        else:
            self._check_ts(ts)
        out = self._out
        for g, (f, i), sl in zip(self.groups, self._states, self._slices, strict=True):
            g.emit(f, i, ts, out[sl])
        return out.copy()

    def get(self, name: str, ts: int | None = None) -> float | None:
        """One feature as of ``ts``; None while it is NaN (warm-up)."""
        v = float(self.snapshot(ts)[self.index(name)])
        return None if np.isnan(v) else v

    # ------------------------------------------------------------------ batch
    def run(
        self,
        inp: FeatureInput,
        *,
        at: Array | None = None,
        every_ns: int | None = None,
        each: str | None = None,
    ) -> pl.DataFrame:
        """Feed ``inp`` through the batch path and return features at sample times.

        Exactly one way of sampling: ``at`` (int64 ns, non-decreasing, each >= the
        previous event time), ``every_ns`` (time bars: one sample at the last nanosecond
        of every interval ``[k every_ns, (k + 1) every_ns)`` that holds an event, see
        :func:`interval_ends`), or ``each`` = ``"trade"`` (after every trade) /
        ``"event"`` (after every event). A sample at ``t`` is taken after every event
        with ``ts_event <= t``.

        Returns
        -------
        polars.DataFrame
            Column ``ts`` (Datetime ns UTC, the sample time) then the features (Float64,
            NaN during warm-up), one row per sample.

        Raises
        ------
        ValueError
            If the sampling arguments are missing, ambiguous or out of order.
        DataError
            If ``inp`` starts before the last event already fed.
        """
        sts, spos = self._samples(inp, at, every_ns, each)
        if inp.n:
            self._check_ts(int(inp.ts[0]))
        cols = np.empty((self.n_features, sts.shape[0]))  # column-major: a zero-copy frame
        out = cols.T  # (n_samples, n_features) view; every cell is written by a group
        for start in range(0, max(inp.n, 1), _CHUNK):
            stop = min(start + _CHUNK, inp.n)
            part = inp.slice(start, stop) if (start, stop) != (0, inp.n) else inp
            last = stop >= inp.n
            lo = int(np.searchsorted(spos, start, side="left"))
            hi = sts.shape[0] if last else int(np.searchsorted(spos, stop, side="left"))
            self._run_chunk(part, spos[lo:hi] - start, sts[lo:hi], out[lo:hi])
        if inp.n:
            self._last_ts = int(inp.ts[-1])
        if sts.shape[0]:
            self._last_ts = max(self._last_ts or 0, int(sts[-1]))
        if sts.shape[0]:
            frame = pl.from_numpy(cols, schema=list(self._names), orient="col")
        else:
            frame = pl.DataFrame(schema=dict.fromkeys(self._names, pl.Float64))
        ts_col = pl.Series("ts", sts, dtype=pl.Int64).cast(pl.Datetime("ns", "UTC"))
        return frame.insert_column(0, ts_col)

    def _run_chunk(self, part: FeatureInput, spos: Array, sts: Array, out: Array) -> None:
        self._refill(part.n)
        self._room = 0  # stream refills from here on
        cols = (part.kind, part.ts, part.price, part.qty, part.side, part.buyer, part.seller,
                part.brow, part.lv)  # fmt: skip
        for k, g in enumerate(self.groups):
            f, i = self._states[k]
            buf = np.empty((sts.shape[0], g.n_out))  # row-major: emits write one cache run
            g.run(f, i, *cols, spos, sts, buf)
            out[:, self._slices[k]] = buf  # one blocked transpose into the column-major frame

    def _samples(
        self, inp: FeatureInput, at: Array | None, every_ns: int | None, each: str | None
    ) -> tuple[Array, Array]:
        given = sum(x is not None for x in (at, every_ns, each))
        if given != 1:
            raise ValueError("give exactly one of at=, every_ns=, each='trade'|'event'")
        ts = inp.ts
        if each is not None:
            if each == "event":
                idx = np.arange(inp.n, dtype=np.int64)
            elif each == "trade":
                idx = np.flatnonzero(inp.kind == KIND_TRADE).astype(np.int64)
            else:
                raise ValueError(f"each must be 'trade' or 'event', got {each!r}")
            return ts[idx].copy(), idx + 1
        if every_ns is not None:
            at = interval_ends(ts, every_ns)
        a = np.ascontiguousarray(at, dtype=np.int64)
        if a.size > 1 and np.any(np.diff(a) < 0):
            raise ValueError("sample times must be non-decreasing")
        if a.size and self._last_ts is not None and a[0] < self._last_ts:
            raise ValueError("sample times must not precede the last event already fed")
        return a, np.searchsorted(ts, a, side="right").astype(np.int64)
