"""Stateful property test of OrderBook: consistent updates keep every book invariant.

The machine applies consistent level updates (bids below the best ask, asks above the
best bid) one delta at a time and checks, after each step, the book against two plain
dicts: sizes never negative, best bid = max bid and best ask = min ask, never crossed,
the same levels; and that the last snapshot plus the deltas after it, replayed as one
batch into a fresh book, equals the full replay and the live book.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from quantumtrader.book import NO_ASK, NO_BID, OrderBook
from quantumtrader.model.book import BookAction, BookDelta, BookSide, BookSnapshot

TICK = 0.5
ORIGIN = 10_940  # WDO 5470.0
SPAN = 600  # ticks either side of ORIGIN; wider than the largest window below


class BookMachine(RuleBasedStateMachine):
    """OrderBook vs. a dict reference under consistent updates."""

    @initialize(cap=st.sampled_from([4, 16, 64]))
    def start(self, cap: int) -> None:
        self.book = OrderBook("WDOU25", TICK, capacity_ticks=cap, max_capacity_ticks=512)
        self.ref: dict[int, dict[int, float]] = {1: {}, -1: {}}
        self.log: list[tuple[int, int, float, float]] = []  # side, action, price, size
        self.checkpoint: tuple[BookSnapshot, int] | None = None

    # ------------------------------------------------------------------ helpers
    def _apply(self, side: int, action: int, tick: int, size: float) -> None:
        price = tick * TICK
        self.book.apply(
            BookDelta(
                ts_event=len(self.log),
                ts_init=len(self.log),
                symbol="WDOU25",
                side=BookSide(side),
                action=BookAction(action),
                price=price,
                size=size,
            )
        )
        self.log.append((side, action, price, size))
        if action == BookAction.CLEAR:
            for s in (1, -1):
                if side in (0, s):
                    self.ref[s].clear()
            return
        levels = self.ref[side]
        new = size if action == BookAction.SET else levels.get(tick, 0.0) + size
        if action == BookAction.DELETE or new <= 0.0:
            levels.pop(tick, None)
        else:
            levels[tick] = new

    def _ref_best(self) -> tuple[int, int]:
        return max(self.ref[1], default=NO_BID), min(self.ref[-1], default=NO_ASK)

    # ------------------------------------------------------------------ rules
    @rule(offset=st.integers(-SPAN, SPAN), size=st.integers(1, 50), change=st.booleans())
    def add_bid(self, offset: int, size: int, change: bool) -> None:
        tick = min(ORIGIN + offset, self._ref_best()[1] - 1)
        self._apply(1, BookAction.CHANGE if change else BookAction.SET, tick, float(size))

    @rule(offset=st.integers(-SPAN, SPAN), size=st.integers(1, 50), change=st.booleans())
    def add_ask(self, offset: int, size: int, change: bool) -> None:
        tick = max(ORIGIN + offset, self._ref_best()[0] + 1)
        self._apply(-1, BookAction.CHANGE if change else BookAction.SET, tick, float(size))

    @precondition(lambda self: self.ref[1] or self.ref[-1])
    @rule(data=st.data())
    def reduce_level(self, data: st.DataObject) -> None:
        side = data.draw(st.sampled_from([s for s in (1, -1) if self.ref[s]]))
        tick = data.draw(st.sampled_from(sorted(self.ref[side])))
        have = self.ref[side][tick]
        how = data.draw(st.sampled_from(["change", "set0", "delete"]))
        if how == "change":
            self._apply(side, BookAction.CHANGE, tick, -float(data.draw(st.integers(1, int(have)))))
        elif how == "set0":
            self._apply(side, BookAction.SET, tick, 0.0)
        else:
            self._apply(side, BookAction.DELETE, tick, 0.0)

    @rule(side=st.sampled_from([1, -1, 0]))
    def clear(self, side: int) -> None:
        self._apply(side, BookAction.CLEAR, 0, 0.0)

    @rule()
    def take_snapshot(self) -> None:
        self.checkpoint = (self.book.snapshot(len(self.log), 0, len(self.log)), len(self.log))

    # ------------------------------------------------------------------ invariants
    @invariant()
    def sizes_never_negative(self) -> None:
        levels, _ = self.book.arrays
        assert (levels >= 0.0).all()
        _, bsz, _, asz = self.book.depth(self.book.n_levels())
        assert (bsz >= 0.0).all() and (asz >= 0.0).all()

    @invariant()
    def best_levels_match_the_reference(self) -> None:
        bb, ba = self._ref_best()
        assert (self.book.best_bid_tick(), self.book.best_ask_tick()) == (bb, ba)
        assert self.book.best_bid_size() == self.ref[1].get(bb, 0.0)
        assert self.book.best_ask_size() == self.ref[-1].get(ba, 0.0)
        assert not self.book.is_crossed()
        assert self.book.n_levels(BookSide.BID) == len(self.ref[1])
        assert self.book.n_levels(BookSide.ASK) == len(self.ref[-1])

    @invariant()
    def depth_matches_the_reference(self) -> None:
        bp, bs, ap, asz = self.book.depth(10)
        for px, sz, side in ((bp, bs, 1), (ap, asz, -1)):
            want = sorted(self.ref[side].items(), reverse=side == 1)[:10]
            got = [(round(p / TICK), s) for p, s in zip(px, sz, strict=True) if not math.isnan(p)]
            assert got == want

    @invariant()
    def snapshot_plus_deltas_equals_full_replay(self) -> None:
        if self.checkpoint is None or not self.log:
            return
        snap, start = self.checkpoint
        full = OrderBook("WDOU25", TICK, capacity_ticks=8, max_capacity_ticks=512)
        resumed = OrderBook("WDOU25", TICK)
        resumed.load_snapshot(snap)
        for book, rows in ((full, self.log), (resumed, self.log[start:])):
            if rows:
                arr = np.array(rows, dtype=float)
                book.apply_arrays(
                    arr[:, 0].astype(int), arr[:, 1].astype(int), arr[:, 2], arr[:, 3]
                )
        want = self.book.snapshot(0, 0, 0)
        assert full.snapshot(0, 0, 0) == want
        assert resumed.snapshot(0, 0, 0) == want


BookMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40)
TestOrderBookStateful = BookMachine.TestCase
