"""Book-correctness checks against venue-published books: LOBSTER rows and Binance quotes.

:func:`match_lobster` rebuilds the book of a LOBSTER file from its seed and deltas and
compares it after every message with LOBSTER's own orderbook row (levels 1..L, price and
size). :func:`match_bbo` (from :mod:`.validate_bbo`, re-exported here) replays Binance
depth and compares the top of the book with every ``bookTicker`` quote whose update id
pins a book state the diffs reveal.

Both rebuild with :class:`~quantumtrader.book.orderbook.OrderBook`. The per-message
L-level comparison of LOBSTER runs in a small numba replay of its own (an independent
oracle over a dense tick array; the book's Python ``depth`` is far too slow to call after
each of 150k messages); the :class:`OrderBook` replays the same updates in one batch and
its best bid and ask after every message must agree with the oracle's (counted in
:attr:`LobsterMatch.book_disagreements`, which must be 0), and so must its full depth at
the end. The reader's own book stream (with its sync corrections) is replayed both by
the oracle (every level after every message) and by :class:`OrderBook` (best bid and ask
after every message, full depth at 2,000 sampled messages and the end).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from quantumtrader.book._lobster_oracle import final_depth, run_replay
from quantumtrader.book.ladder import NO_ASK, NO_BID
from quantumtrader.book.orderbook import OrderBook
from quantumtrader.book.validate_bbo import BBO_CLASSES, BboMatch, MarketLike, match_bbo
from quantumtrader.core.errors import DataError
from quantumtrader.model.book import F_LAST, F_SYNC, BookAction, BookSnapshot
from quantumtrader.model.instruments import spec_for

__all__ = [
    "BBO_CLASSES",
    "MISMATCH_CLASSES",
    "BboMatch",
    "LobsterLike",
    "LobsterMatch",
    "MarketLike",
    "match_bbo",
    "match_lobster",
]

logger = logging.getLogger(__name__)

Array = npt.NDArray[Any]

LOBSTER_PRICE_SCALE = 10_000  # USD x 10,000 in LOBSTER files
LOBSTER_DUMMY = 9_999_999_999  # price of an empty LOBSTER level
MISMATCH_CLASSES = ("size", "missing_level", "phantom_level")
DEPTH_SAMPLES = 2_000  # messages whose full OrderBook depth the stream check compares


class LobsterLike(Protocol):
    """What :func:`match_lobster` reads of a :class:`~quantumtrader.data.lobster.LobsterData`."""

    @property
    def market(self) -> MarketLike: ...
    @property
    def reference(self) -> Array: ...
    @property
    def levels(self) -> int: ...
    @property
    def path(self) -> str: ...


class LobsterMatch(msgspec.Struct, frozen=True, kw_only=True):
    """How well the rebuilt book matches LOBSTER's orderbook file after every message.

    Three replays are measured. **Messages only** (``*_messages``): seed + the message
    deltas (``CHANGE``, not flagged ``F_SYNC``), nothing else. **Stream**
    (``*_stream``): seed + every delta of ``market.book`` as the reader wrote it; with
    the reader's sync corrections (``read_lobster(sync=True)``) it must match every row.
    **Window re-entry sync** (``*_synced``): a level-L file only carries messages
    that touched the first L levels (SOURCE.md quirk 3), so a price level that enters
    the visible window from beyond depth L was never (or not since it last left the
    window) described by the messages. In this replay, whenever the reference row shows
    a price on a side that the previous row did not show, its size is taken from the
    reference (``syncs`` counts the levels whose size differed from ours); and a level
    of ours that lies inside the reference window without being shown, and was not shown
    in the previous row either, is removed (``phantoms_removed``). Levels the previous row
    showed are never touched, so every remaining mismatch is a real error of the reader
    or the book.

    On the 2012-06-21 samples the messages-only replay diverges within the first 64
    messages of every file and rarely recovers: a level pushed out of the window and then
    cancelled out of sight stays in our book for good (``phantom_level`` dominates), and a
    level that was never inside the window is missing (its executions are clamped). The
    synced replay matches every level of every row, and so does the reader's synced
    stream (its ``SET`` corrections equal ``syncs``, its ``DELETE`` ones
    ``phantoms_removed``, with the default ``beyond="keep"``).

    Mismatch classes, counted per (message, side, level) where the level differs:
    ``size`` (same price, different size); ``missing_level`` (the reference level is not
    in our book, so ours shows a worse price or nothing); ``phantom_level`` (our book has
    a level the reference does not, so ours shows a better price or an extra level).

    Attributes
    ----------
    symbol, levels, file_levels
        Instrument, levels compared (1..``levels``) and ``L`` of the file.
    n_messages
        Messages (rows) compared.
    rows_ok_messages, rows_ok_synced
        Rows where every compared level matches on both sides.
    level_rate_messages, level_rate_synced
        Per level ``k`` (shape ``(levels,)``): fraction of rows where level ``k`` matches
        on both sides (price and size).
    classes_messages, classes_synced
        Mismatch counts per class.
    syncs, phantoms_removed
        Window re-entry corrections of the synced replay.
    clamped_messages, clamped_synced
        ``CHANGE`` updates that would have driven a level below zero (clamped at 0).
    first_mismatch_messages, first_mismatch_synced
        First message row (0-based) with a mismatch in each replay, -1 if none.
    book_disagreements
        Messages after which :class:`OrderBook`'s best bid or ask differs from the
        oracle replay, plus 1 per replay whose final depth differs (messages-only and
        window-sync replays).
    rows_ok_stream, level_rate_stream, classes_stream, clamped_stream, first_mismatch_stream
        As the fields above, for the stream replay (oracle, every level, every row).
    stream_corrections
        Deltas flagged ``F_SYNC`` in the stream.
    stream_book_disagreements
        The stream replayed through :class:`OrderBook`: messages after which its best bid
        or ask differs from the reference row, plus sampled messages (and the last)
        whose depth at levels ``1..levels`` differs.
    stream_depth_checks
        Messages whose full depth was compared (up to 2,000 spread over the file, and
        the last).
    stream_crossed
        ``F_LAST`` deltas after which :class:`OrderBook` is crossed or locked (best bid
        >= best ask).
    """

    symbol: str
    levels: int
    file_levels: int
    n_messages: int
    rows_ok_messages: int
    rows_ok_synced: int
    level_rate_messages: tuple[float, ...]
    level_rate_synced: tuple[float, ...]
    classes_messages: dict[str, int]
    classes_synced: dict[str, int]
    syncs: int
    phantoms_removed: int
    clamped_messages: int
    clamped_synced: int
    first_mismatch_messages: int
    first_mismatch_synced: int
    book_disagreements: int
    rows_ok_stream: int
    level_rate_stream: tuple[float, ...]
    classes_stream: dict[str, int]
    clamped_stream: int
    first_mismatch_stream: int
    stream_corrections: int
    stream_book_disagreements: int
    stream_depth_checks: int
    stream_crossed: int

    @property
    def rate_messages(self) -> float:
        """Fraction of rows fully matching with messages only."""
        return self.rows_ok_messages / self.n_messages if self.n_messages else 1.0

    @property
    def rate_synced(self) -> float:
        """Fraction of rows fully matching with the window re-entry sync."""
        return self.rows_ok_synced / self.n_messages if self.n_messages else 1.0

    @property
    def rate_stream(self) -> float:
        """Fraction of rows fully matching when the stream is replayed as read."""
        return self.rows_ok_stream / self.n_messages if self.n_messages else 1.0


def _ref_arrays(data: LobsterLike, tick_units: int, lo: int) -> tuple[Array, Array]:
    """Reference rows as window indices and sizes, shape (n, 2, L) (side 0 bid, 1 ask)."""
    ref = data.reference
    px = np.stack([ref[:, 2::4], ref[:, 0::4]], axis=1)
    sz = np.stack([ref[:, 3::4], ref[:, 1::4]], axis=1).astype(np.float64)
    empty = (sz <= 0) | (np.abs(px) == LOBSTER_DUMMY)
    if np.any(px[~empty] % tick_units):
        raise DataError("reference book has prices off the tick grid", path=data.path)
    idx = np.where(empty, 0, px // tick_units - lo)
    return np.ascontiguousarray(idx, dtype=np.int64), np.where(empty, 0.0, sz)


def _seed_ticks(seed: BookSnapshot, tick: float) -> tuple[Array, Array, Array, Array]:
    bt = np.rint(np.asarray(seed.bid_prices, dtype=np.float64) / tick).astype(np.int64)
    at = np.rint(np.asarray(seed.ask_prices, dtype=np.float64) / tick).astype(np.int64)
    bs = np.asarray(seed.bid_sizes, dtype=np.float64)
    az = np.asarray(seed.ask_sizes, dtype=np.float64)
    return bt, bs, at, az


def _cross_check(
    *,
    symbol: str,
    tick: float,
    lo: int,
    seed: BookSnapshot,
    deltas: tuple[Array, Array, Array, Array],
    ops: Array,
    oracle_best: Array,
    final: Array,
) -> int:
    """Replay seed + deltas (+ sync ops) through :class:`OrderBook`; count disagreements."""
    d_row, d_side, d_idx, d_size = deltas
    n = oracle_best.shape[0]
    # Interleave: a row's delta first, then its sync writes.
    rows = np.concatenate([d_row, ops[:, 0].astype(np.int64)])
    order = np.argsort(
        rows * 2 + np.concatenate([np.zeros(len(d_row)), np.ones(len(ops))]), kind="stable"
    )
    side_code = np.concatenate([d_side, ops[:, 1].astype(np.int64)])[order]
    side = np.where(side_code == 0, 1, -1).astype(np.int64)
    action = np.concatenate(
        [np.full(len(d_row), BookAction.CHANGE), np.full(len(ops), BookAction.SET)]
    )[order].astype(np.int64)
    ticks = np.concatenate([d_idx, ops[:, 2].astype(np.int64)])[order] + lo
    size = np.concatenate([d_size, ops[:, 3]])[order]
    book = OrderBook(symbol, tick)
    book.load_snapshot(seed)
    ob = np.empty(len(side), dtype=np.int64)
    oa = np.empty(len(side), dtype=np.int64)
    book.apply_arrays(side, action, ticks * tick, size, out_best_bid=ob, out_best_ask=oa)
    rows = rows[order]
    # Best after each message row: value after the row's last update, else carried on.
    have = np.zeros(n, dtype=bool)
    last = np.full(n, -1, dtype=np.int64)
    last[rows] = np.arange(len(rows))
    have[rows] = True
    pos = np.maximum.accumulate(np.where(have, last, -1))
    bb = np.where(pos >= 0, ob[np.maximum(pos, 0)], _seed_best(seed, tick, 0))
    ba = np.where(pos >= 0, oa[np.maximum(pos, 0)], _seed_best(seed, tick, 1))
    ob_idx = np.where(oracle_best[:, 0] >= 0, oracle_best[:, 0] + lo, NO_BID)
    oa_idx = np.where(oracle_best[:, 1] >= 0, oracle_best[:, 1] + lo, NO_ASK)
    bad = int(np.count_nonzero((bb != ob_idx) | (ba != oa_idx)))
    L = final.shape[1]
    bpx, bsz, apx, asz = book.depth(L)
    mine = np.stack([np.rint(bpx / tick), bsz, np.rint(apx / tick), asz])
    if not np.allclose(np.nan_to_num(mine, nan=-1.0), np.nan_to_num(final, nan=-1.0)):
        bad += 1
    return bad


def _seed_best(seed: BookSnapshot, tick: float, side: int) -> int:
    prices = seed.bid_prices if side == 0 else seed.ask_prices
    if not prices:
        return NO_BID if side == 0 else NO_ASK
    t = np.rint(np.asarray(prices) / tick).astype(np.int64)
    return int(t.max()) if side == 0 else int(t.min())


def _stream_check(
    *,
    symbol: str,
    tick: float,
    lo: int,
    seed: BookSnapshot,
    stream: dict[str, Array],
    ref_idx: Array,
    ref_size: Array,
    n_cmp: int,
) -> tuple[int, int, int]:
    """Replay the stream through :class:`OrderBook` and compare it with the reference.

    ``stream`` holds the book table's ``side``, ``action``, ``price``, ``size``,
    ``flags`` and message ``row`` arrays. Returns (disagreements, depth checks, crossed):
    rows whose best bid or ask differs from the reference row, plus sampled rows whose
    depth ``1..n_cmp`` differs; the number of sampled rows; ``F_LAST`` deltas after
    which the book is crossed or locked.
    """
    n = ref_idx.shape[0]
    row = stream["row"]
    m = len(row)
    book = OrderBook(symbol, tick)
    book.load_snapshot(seed)
    ob = np.empty(m, dtype=np.int64)
    oa = np.empty(m, dtype=np.int64)
    want_px = np.where(ref_size > 0.0, ref_idx + lo, np.nan)[:, :, :n_cmp]
    want_sz = ref_size[:, :, :n_cmp]
    samples = np.unique(np.r_[np.linspace(0, n - 1, min(n, DEPTH_SAMPLES)).astype(np.int64), n - 1])
    ends = np.searchsorted(row, samples, side="right")
    bad = 0
    start = 0
    for r, end in zip(samples.tolist(), ends.tolist(), strict=True):
        if end > start:
            part = slice(start, end)
            book.apply_arrays(
                stream["side"][part],
                stream["action"][part],
                stream["price"][part],
                stream["size"][part],
                out_best_bid=ob[part],
                out_best_ask=oa[part],
            )
            start = end
        bpx, bsz, apx, asz = book.depth(n_cmp)
        mine = np.stack([np.rint(bpx / tick), bsz, np.rint(apx / tick), asz])
        want = np.stack([want_px[r, 0], want_sz[r, 0], want_px[r, 1], want_sz[r, 1]])
        if not np.array_equal(mine, want, equal_nan=True):
            bad += 1
    # Best after each row: value after the row's last delta, else carried on.
    last = np.full(n, -1, dtype=np.int64)
    tail = np.flatnonzero(np.r_[row[1:] != row[:-1], True]) if m else np.zeros(0, np.int64)
    last[row[tail]] = tail
    pos = np.maximum.accumulate(last)
    bb = np.where(pos >= 0, ob[np.maximum(pos, 0)] if m else 0, _seed_best(seed, tick, 0))
    ba = np.where(pos >= 0, oa[np.maximum(pos, 0)] if m else 0, _seed_best(seed, tick, 1))
    ref_bb = np.where(ref_size[:, 0, 0] > 0.0, ref_idx[:, 0, 0] + lo, NO_BID)
    ref_ba = np.where(ref_size[:, 1, 0] > 0.0, ref_idx[:, 1, 0] + lo, NO_ASK)
    bad += int(np.count_nonzero((bb != ref_bb) | (ba != ref_ba)))
    fin = (stream["flags"] & F_LAST) != 0
    x, y = ob[fin], oa[fin]
    crossed = int(np.count_nonzero((x != NO_BID) & (y != NO_ASK) & (x >= y)))
    return bad, len(samples), crossed


def _stream_arrays(data: LobsterLike, tick: float) -> dict[str, Array]:
    """The book table as arrays, checked to be a LOBSTER reader stream."""
    tb = data.market.book
    out = {
        name: tb.column(name).to_numpy()
        for name in ("side", "action", "price", "size", "seq", "flags")
    }
    corr = (out["flags"] & F_SYNC) != 0
    seq, action = out["seq"], out["action"]
    if (
        np.any(seq[~corr] % 3 != 1)
        or np.any(action[~corr] != BookAction.CHANGE)
        or np.any(seq[corr] % 3 != 2)
        or np.any(~np.isin(action[corr], (BookAction.SET, BookAction.DELETE)))
    ):
        raise DataError(
            "book rows are not a LOBSTER stream (CHANGE at seq = 3*row + 1, F_SYNC "
            "SET/DELETE at seq = 3*row + 2)",
            path=data.path,
        )
    out["row"] = (seq // 3).astype(np.int64)
    out["corr"] = corr
    out["tick"] = np.rint(out["price"] / tick).astype(np.int64)
    return out


def match_lobster(data: LobsterLike, *, levels: int | None = None) -> LobsterMatch:
    """Rebuild a LOBSTER book from its seed and deltas and compare it after every message.

    Parameters
    ----------
    data
        A :class:`~quantumtrader.data.lobster.LobsterData` (message deltas with
        ``seq = 3·row + 1``, sync corrections flagged ``F_SYNC`` with ``seq = 3·row + 2``,
        the seed, the reference rows of shape ``(n, 4·L)``).
    levels
        Levels compared, ``1..levels`` (default: all ``L`` of the file).

    Returns
    -------
    LobsterMatch
        Match rates and mismatch classes of the messages-only replay, of the replay with
        window re-entry sync and of the stream as read.

    Raises
    ------
    ValueError
        If ``levels`` is not within ``1..L``.
    DataError
        If the data has no seed, the book rows are not a LOBSTER reader stream, or a
        reference price is off the tick grid.

    References
    ----------
    LOBSTER sample files ReadMe (2013): orderbook row *k* is the book after message *k*.
    """
    market = data.market
    L = int(data.levels)
    n_cmp = L if levels is None else int(levels)
    if not 1 <= n_cmp <= L:
        raise ValueError(f"levels must be within 1..{L}, got {levels}")
    seed = market.seed
    if seed is None:
        raise DataError("LOBSTER data without a seed book", path=data.path)
    tick = spec_for(market.symbol).tick_size
    tick_units = round(tick * LOBSTER_PRICE_SCALE)
    st = _stream_arrays(data, tick)
    d_row, d_tick, corr = st["row"], st["tick"], st["corr"]
    d_side = np.where(st["side"] == 1, 0, 1).astype(np.int64)
    d_action = st["action"].astype(np.int64)
    d_size = np.where(d_action == BookAction.DELETE, 0.0, st["size"]).astype(np.float64)
    bt, bs, at, az = _seed_ticks(seed, tick)
    ref = data.reference
    ref_px = ref[:, np.r_[0 : 4 * L : 2]]
    ref_ok = (np.abs(ref_px) != LOBSTER_DUMMY) & (ref[:, np.r_[1 : 4 * L : 2]] > 0)
    all_ticks = np.concatenate([bt, at, d_tick, ref_px[ref_ok] // tick_units])
    lo, hi = int(all_ticks.min()) - 1, int(all_ticks.max()) + 1
    ref_idx, ref_size = _ref_arrays(data, tick_units, lo)
    n = ref_idx.shape[0]
    p = max(len(bt), len(at), 1)
    prev0_idx = np.zeros((2, p), dtype=np.int64)
    prev0_size = np.zeros((2, p))
    prev0_idx[0, : len(bt)], prev0_size[0, : len(bs)] = bt - lo, bs
    prev0_idx[1, : len(at)], prev0_size[1, : len(az)] = at - lo, az
    start = (bt - lo, bs, at - lo, az, hi - lo + 1)
    refs = (ref_idx, ref_size, prev0_idx, prev0_size)
    msg = ~corr
    deltas = (d_row[msg], d_side[msg], d_tick[msg] - lo, d_size[msg])
    results = {}
    for sync in (False, True):
        row_ok, level_ok, classes, counters, out_best, ops, book = run_replay(
            start, (*deltas, d_action[msg]), refs, n_cmp, sync=sync
        )
        bad = _cross_check(
            symbol=market.symbol,
            tick=tick,
            lo=lo,
            seed=seed,
            deltas=deltas,
            ops=ops,
            oracle_best=out_best,
            final=final_depth(book, lo, L),
        )
        results[sync] = (row_ok, level_ok, classes, counters, bad)
    row_a, lvl_a, cls_a, cnt_a, bad_a = results[False]
    row_b, lvl_b, cls_b, cnt_b, bad_b = results[True]
    row_c, lvl_c, cls_c, cnt_c, *_ = run_replay(
        start, (d_row, d_side, d_tick - lo, d_size, d_action), refs, n_cmp, sync=False
    )
    stream = {k: st[k] for k in ("side", "action", "price", "size", "flags", "row")}
    bad_c, checks_c, crossed_c = _stream_check(
        symbol=market.symbol,
        tick=tick,
        lo=lo,
        seed=seed,
        stream=stream,
        ref_idx=ref_idx,
        ref_size=ref_size,
        n_cmp=n_cmp,
    )
    logger.info(
        "%s L=%d: %d messages, rows matching %d (messages only) / %d (synced, %d syncs) "
        "/ %d (stream, %d corrections)",
        market.symbol,
        L,
        n,
        int(row_a.sum()),
        int(row_b.sum()),
        int(cnt_b[1]),
        int(row_c.sum()),
        int(corr.sum()),
    )
    return LobsterMatch(
        symbol=market.symbol,
        levels=n_cmp,
        file_levels=L,
        n_messages=n,
        rows_ok_messages=int(row_a.sum()),
        rows_ok_synced=int(row_b.sum()),
        level_rate_messages=_level_rates(lvl_a, n),
        level_rate_synced=_level_rates(lvl_b, n),
        classes_messages=dict(zip(MISMATCH_CLASSES, cls_a.tolist(), strict=True)),
        classes_synced=dict(zip(MISMATCH_CLASSES, cls_b.tolist(), strict=True)),
        syncs=int(cnt_b[1]),
        phantoms_removed=int(cnt_b[2]),
        clamped_messages=int(cnt_a[0]),
        clamped_synced=int(cnt_b[0]),
        first_mismatch_messages=_first_false(row_a),
        first_mismatch_synced=_first_false(row_b),
        book_disagreements=bad_a + bad_b,
        rows_ok_stream=int(row_c.sum()),
        level_rate_stream=_level_rates(lvl_c, n),
        classes_stream=dict(zip(MISMATCH_CLASSES, cls_c.tolist(), strict=True)),
        clamped_stream=int(cnt_c[0]),
        first_mismatch_stream=_first_false(row_c),
        stream_corrections=int(corr.sum()),
        stream_book_disagreements=bad_c,
        stream_depth_checks=checks_c,
        stream_crossed=crossed_c,
    )


def _first_false(ok: Array) -> int:
    """Index of the first False, -1 if none."""
    return int(np.argmin(ok)) if not ok.all() else -1


def _level_rates(level_ok: Array, n: int) -> tuple[float, ...]:
    """Rows matching at each level (both sides) as fractions of ``n``."""
    return tuple(float(v) / n if n else 1.0 for v in level_ok)
