"""The dense ladder kernels of quantumtrader.book.ladder, driven directly on flat arrays."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from quantumtrader.book import ladder as lad

SET, CHANGE, DELETE, CLEAR = 0, 1, 2, 3
BID, ASK, BOTH = 1, -1, 0


def fresh(capacity: int = 16, base: int = 100) -> tuple[np.ndarray, np.ndarray]:
    return lad.new_ladder(capacity, base)


def bests(meta: np.ndarray) -> tuple[int, int, int, int]:
    return (
        int(meta[lad.M_BEST_BID]),
        int(meta[lad.M_BEST_ASK]),
        int(meta[lad.M_N_BID]),
        int(meta[lad.M_N_ASK]),
    )


def test_new_ladder_layout() -> None:
    levels, meta = fresh(8, -3)
    assert levels.shape == (2, 8) and levels.dtype == np.float64 and not levels.any()
    assert meta.shape == (lad.META_LEN,) and meta.dtype == np.int64
    assert meta[lad.M_BASE] == -3
    assert bests(meta) == (lad.NO_BID, lad.NO_ASK, 0, 0)
    with pytest.raises(ValueError, match="capacity"):
        lad.new_ladder(0, 0)


def test_set_change_delete_and_best_levels() -> None:
    levels, meta = fresh()
    assert lad.apply_level(levels, meta, BID, SET, 105, 3.0) == lad.OK
    assert lad.apply_level(levels, meta, BID, SET, 103, 2.0) == lad.OK
    assert lad.apply_level(levels, meta, ASK, SET, 108, 4.0) == lad.OK
    assert lad.apply_level(levels, meta, ASK, SET, 110, 1.0) == lad.OK
    assert bests(meta) == (105, 108, 2, 2)
    assert levels[lad.BID_ROW, 5] == 3.0 and levels[lad.ASK_ROW, 8] == 4.0
    # Improvement is O(1): new best bid and best ask.
    assert lad.apply_level(levels, meta, BID, SET, 106, 1.0) == lad.OK
    assert lad.apply_level(levels, meta, ASK, CHANGE, 107, 5.0) == lad.OK
    assert bests(meta) == (106, 107, 3, 3)
    # CHANGE adds to an existing level, SET replaces it; counts do not change.
    assert lad.apply_level(levels, meta, BID, CHANGE, 105, 2.5) == lad.OK
    assert lad.apply_level(levels, meta, ASK, SET, 110, 7.0) == lad.OK
    assert levels[lad.BID_ROW, 5] == 5.5 and levels[lad.ASK_ROW, 10] == 7.0
    assert bests(meta) == (106, 107, 3, 3)
    # Emptying the best level scans to the next one; gaps are skipped.
    assert lad.apply_level(levels, meta, BID, DELETE, 106, np.nan) == lad.OK
    assert bests(meta)[0] == 105
    assert lad.apply_level(levels, meta, BID, SET, 105, 0.0) == lad.OK  # SET 0 == DELETE
    assert bests(meta) == (103, 107, 1, 3)
    assert lad.apply_level(levels, meta, ASK, CHANGE, 107, -5.0) == lad.OK
    assert lad.apply_level(levels, meta, ASK, DELETE, 108, 0.0) == lad.OK
    assert bests(meta) == (103, 110, 1, 1)
    # Deleting a non-best or an empty level keeps the best; the last level empties a side.
    assert lad.apply_level(levels, meta, ASK, DELETE, 109, 0.0) == lad.OK
    assert lad.apply_level(levels, meta, BID, DELETE, 103, 0.0) == lad.OK
    assert bests(meta) == (lad.NO_BID, 110, 0, 1)
    assert lad.size_at_tick(levels, meta, ASK, 110) == 7.0
    assert lad.size_at_tick(levels, meta, BID, 110) == 0.0


def test_change_below_zero_clamps_and_counts() -> None:
    levels, meta = fresh()
    lad.apply_level(levels, meta, BID, SET, 104, 2.0)
    assert lad.apply_level(levels, meta, BID, CHANGE, 104, -3.0) == lad.CLAMPED
    assert levels[lad.BID_ROW, 4] == 0.0 and meta[lad.M_N_BID] == 0
    assert meta[lad.M_BEST_BID] == lad.NO_BID
    # On an empty level inside and outside the window: still a clamp, no growth needed.
    assert lad.apply_level(levels, meta, ASK, CHANGE, 110, -1.0) == lad.CLAMPED
    assert lad.apply_level(levels, meta, ASK, CHANGE, 5000, -1.0) == lad.CLAMPED
    assert meta[lad.M_N_CLAMPED] == 3
    # A float residue within SIZE_EPS empties the level without counting a clamp.
    lad.apply_level(levels, meta, BID, SET, 104, 0.3)
    assert lad.apply_level(levels, meta, BID, CHANGE, 104, -0.1 - 0.2) == lad.OK
    assert meta[lad.M_N_BID] == 0 and meta[lad.M_N_CLAMPED] == 3


def test_need_grow_leaves_the_book_untouched() -> None:
    levels, meta = fresh()
    lad.apply_level(levels, meta, BID, SET, 105, 1.0)
    before = levels.copy(), meta.copy()
    assert lad.apply_level(levels, meta, ASK, SET, 116, 1.0) == lad.NEED_GROW  # base + cap
    assert meta[lad.M_GROW_TICK] == 116
    assert lad.apply_level(levels, meta, BID, CHANGE, 99, 2.0) == lad.NEED_GROW
    assert meta[lad.M_GROW_TICK] == 99
    np.testing.assert_array_equal(levels, before[0])
    np.testing.assert_array_equal(
        np.delete(meta, lad.M_GROW_TICK), np.delete(before[1], lad.M_GROW_TICK)
    )
    # Removing outside the window needs nothing.
    assert lad.apply_level(levels, meta, BID, DELETE, 10_000, 0.0) == lad.OK
    assert lad.apply_level(levels, meta, BID, SET, -10_000, 0.0) == lad.OK
    assert bests(meta) == (105, lad.NO_ASK, 1, 0)


def test_far_levels_hand_out_of_window_updates_to_the_caller() -> None:
    levels, meta = fresh()
    meta[lad.M_N_FAR_ASK] = 1  # the caller keeps one ask outside the window
    assert lad.apply_level(levels, meta, ASK, DELETE, 500, 0.0) == lad.NEED_GROW
    assert lad.apply_level(levels, meta, ASK, CHANGE, 500, -1.0) == lad.NEED_GROW
    assert lad.apply_level(levels, meta, BID, DELETE, 500, 0.0) == lad.OK  # other side
    assert lad.apply_level(levels, meta, ASK, CLEAR, 0, 0.0) == lad.NEED_GROW
    assert lad.apply_level(levels, meta, BOTH, CLEAR, 0, 0.0) == lad.NEED_GROW
    assert lad.apply_level(levels, meta, BID, CLEAR, 0, 0.0) == lad.OK
    assert meta[lad.M_N_CLAMPED] == 0


def test_invalid_updates_return_error_codes() -> None:
    levels, meta = fresh()
    assert lad.apply_level(levels, meta, 0, SET, 105, 1.0) == lad.BAD_SIDE
    assert lad.apply_level(levels, meta, 2, CLEAR, 0, 0.0) == lad.BAD_SIDE
    assert lad.apply_level(levels, meta, BID, 7, 105, 1.0) == lad.BAD_ACTION
    assert lad.apply_level(levels, meta, BID, SET, 105, -1.0) == lad.BAD_SIZE
    assert lad.apply_level(levels, meta, BID, CHANGE, 105, np.nan) == lad.BAD_SIZE
    assert lad.apply_level(levels, meta, BID, SET, 105, np.inf) == lad.BAD_SIZE
    assert not levels.any() and bests(meta) == (lad.NO_BID, lad.NO_ASK, 0, 0)


def test_clear_each_side_and_both() -> None:
    levels, meta = fresh()
    for t, s in ((101, 1.0), (104, 2.0), (106, 3.0)):
        lad.apply_level(levels, meta, BID, SET, t, s)
    for t, s in ((108, 1.0), (113, 2.0)):
        lad.apply_level(levels, meta, ASK, SET, t, s)
    assert lad.apply_level(levels, meta, BID, CLEAR, 0, 0.0) == lad.OK
    assert bests(meta) == (lad.NO_BID, 108, 0, 2) and not levels[lad.BID_ROW].any()
    lad.apply_level(levels, meta, BID, SET, 102, 1.0)
    assert lad.apply_level(levels, meta, BOTH, CLEAR, 123456, np.nan) == lad.OK
    assert bests(meta) == (lad.NO_BID, lad.NO_ASK, 0, 0) and not levels.any()


def test_locked_and_crossed_levels_are_kept() -> None:
    levels, meta = fresh()
    lad.apply_level(levels, meta, BID, SET, 107, 5.0)
    lad.apply_level(levels, meta, ASK, SET, 107, 3.0)
    assert bests(meta) == (107, 107, 1, 1)
    lad.apply_level(levels, meta, BID, SET, 109, 1.0)
    assert bests(meta) == (109, 107, 2, 1)
    assert lad.size_at_tick(levels, meta, BID, 107) == 5.0
    assert lad.size_at_tick(levels, meta, ASK, 107) == 3.0


def test_apply_batch_stops_at_need_grow_and_records_bests() -> None:
    levels, meta = fresh()
    side = np.array([BID, ASK, BID, ASK, BID], dtype=np.int64)
    action = np.array([SET, SET, CHANGE, SET, DELETE], dtype=np.int64)
    tick = np.array([105, 109, 106, 200, 105], dtype=np.int64)
    size = np.array([2.0, 1.0, 4.0, 1.0, 0.0])
    ob = np.full(5, -7, dtype=np.int64)
    oa = np.full(5, -7, dtype=np.int64)
    assert lad.apply_batch(levels, meta, side, action, tick, size, ob, oa) == (3, lad.NEED_GROW)
    assert meta[lad.M_GROW_TICK] == 200
    np.testing.assert_array_equal(ob, [105, 105, 106, -7, -7])
    np.testing.assert_array_equal(oa, [lad.NO_ASK, 109, 109, -7, -7])
    # Resume after moving the window, from the row that was not applied.
    base, cap = lad.plan_window(levels, meta, 200, 1 << 10)
    levels, meta = lad.move_window(levels, meta, base, cap)
    k, st = lad.apply_batch(levels, meta, side[3:], action[3:], tick[3:], size[3:], ob[3:], oa[3:])
    assert (k, st) == (2, lad.OK)
    np.testing.assert_array_equal(ob, [105, 105, 106, 106, 106])
    np.testing.assert_array_equal(oa, [lad.NO_ASK, 109, 109, 109, 109])
    assert lad.size_at_tick(levels, meta, ASK, 200) == 1.0
    assert lad.size_at_tick(levels, meta, BID, 105) == 0.0
    # Empty output arrays skip recording; an invalid row stops the batch.
    e = np.zeros(0, dtype=np.int64)
    bad = np.array([BID, 0], dtype=np.int64)
    two = np.array([SET, SET], dtype=np.int64)
    got = lad.apply_batch(levels, meta, bad, two, np.array([150, 151]), np.ones(2), e, e)
    assert got == (1, lad.BAD_SIDE)
    assert meta[lad.M_BEST_BID] == 150


def test_depth_side_and_walk_side() -> None:
    levels, meta = fresh(32, 90)
    for t, s in ((100, 1.0), (98, 2.0), (95, 3.0)):
        lad.apply_level(levels, meta, BID, SET, t, s)
    for t, s in ((101, 4.0), (103, 5.0)):
        lad.apply_level(levels, meta, ASK, SET, t, s)
    ticks, sizes = np.zeros(5, dtype=np.int64), np.zeros(5)
    assert lad.depth_side(levels, meta, BID, ticks, sizes) == 3
    np.testing.assert_array_equal(ticks[:3], [100, 98, 95])
    np.testing.assert_array_equal(sizes[:3], [1.0, 2.0, 3.0])
    assert lad.depth_side(levels, meta, ASK, ticks[:1], sizes[:1]) == 1
    assert (ticks[0], sizes[0]) == (101, 4.0)
    # Take 6.5 from the asks: 4 at 101, 2.5 at 103.
    wt, wq = np.zeros(4, dtype=np.int64), np.zeros(4)
    assert lad.walk_side(levels, meta, ASK, 6.5, wt, wq) == 2
    np.testing.assert_array_equal(wt[:2], [101, 103])
    np.testing.assert_array_equal(wq[:2], [4.0, 2.5])
    # More than the side holds: every level; nothing for qty <= 0; book unchanged.
    assert lad.walk_side(levels, meta, BID, 100.0, wt, wq) == 3
    np.testing.assert_array_equal(wq[:3], [1.0, 2.0, 3.0])
    assert lad.walk_side(levels, meta, BID, 0.0, wt, wq) == 0
    assert lad.walk_side(levels, meta, BID, np.nan, wt, wq) == 0
    assert levels[lad.BID_ROW].sum() == 6.0 and levels[lad.ASK_ROW].sum() == 9.0


def test_occupied_range_plan_and_move_window() -> None:
    levels, meta = fresh(16, 100)
    assert lad.occupied_range(levels, meta) == (1, 0)
    lad.apply_level(levels, meta, BID, SET, 101, 1.0)
    lad.apply_level(levels, meta, BID, SET, 104, 1.0)
    lad.apply_level(levels, meta, ASK, SET, 106, 2.0)
    lad.apply_level(levels, meta, ASK, SET, 112, 3.0)
    assert lad.occupied_range(levels, meta) == (101, 112)
    # Span 101..120 = 20 ticks > 16 / 2: the window doubles twice (64 >= 2 * 20).
    assert lad.plan_window(levels, meta, 120, 1 << 10) == (101 - (64 - 20) // 2, 64)
    # Span 99..112 = 14 ticks fits half of 32 after one doubling.
    assert lad.plan_window(levels, meta, 99, 1 << 10) == (99 - (32 - 14) // 2, 32)
    # Beyond the maximum: None (the caller keeps the level far).
    assert lad.plan_window(levels, meta, 10_000, 1 << 10) is None
    new_levels, new_meta = lad.move_window(levels, meta, 90, 64)
    assert new_meta[lad.M_BASE] == 90 and new_levels.shape == (2, 64)
    assert bests(new_meta) == bests(meta)
    for side, t, s in ((BID, 101, 1.0), (BID, 104, 1.0), (ASK, 106, 2.0), (ASK, 112, 3.0)):
        assert lad.size_at_tick(new_levels, new_meta, side, t) == s
    assert new_levels.sum() == levels.sum() == 7.0


def test_ticks_checked_converts_and_reports_the_first_bad_row() -> None:
    side = np.array([1, -1, 0, 1], dtype=np.int64)
    action = np.array([SET, CHANGE, CLEAR, DELETE], dtype=np.int64)
    price = np.array([60000.01, 60000.05, np.nan, 59999.99])
    size = np.array([1.5, -2.0, np.nan, np.nan])
    out = np.zeros(4, dtype=np.int64)
    assert lad.ticks_checked(side, action, price, size, 0.01, out) == (-1, 0)
    np.testing.assert_array_equal(out, [6_000_001, 6_000_005, 0, 5_999_999])
    cases = [
        (1, "action", {"action": [SET, 9, CLEAR, DELETE]}),
        (0, "side", {"side": [0, -1, 0, 1]}),
        (3, "price", {"price": [60000.01, 60000.05, np.nan, 59999.995]}),
        (0, "price", {"price": [np.inf, 60000.05, np.nan, 59999.99]}),
        (0, "size", {"size": [-1.0, -2.0, np.nan, np.nan]}),
        (1, "size", {"size": [1.0, np.nan, np.nan, np.nan]}),
    ]
    for row, field, change in cases:
        cols = {"side": side, "action": action, "price": price, "size": size}
        cols.update({k: np.asarray(v, dtype=cols[k].dtype) for k, v in change.items()})
        bad, code = lad.ticks_checked(
            cols["side"], cols["action"], cols["price"], cols["size"], 0.01, out
        )
        assert (bad, lad.BAD_FIELDS[code]) == (row, field)


@njit
def _user_kernel(levels: np.ndarray, meta: np.ndarray, n: int) -> np.ndarray:
    """Ordinary njit code (with reference counting) that drives the ladder kernels."""
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        lad.apply_level(levels, meta, 1, 0, 100 + i, 1.0 + i)
        out[i] = meta[lad.M_BEST_BID]
    return out


def test_kernels_are_callable_from_other_numba_code() -> None:
    levels, meta = fresh(16, 96)
    np.testing.assert_array_equal(_user_kernel(levels, meta, 4), [100, 101, 102, 103])
    assert meta[lad.M_N_BID] == 4 and levels[lad.BID_ROW, 7] == 4.0
