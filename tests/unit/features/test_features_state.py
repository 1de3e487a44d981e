"""Flat group state: layout, ring growth and multi-window sums against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantumtrader.features.ring import (
    mw_commit,
    mw_expire,
    mw_push,
    ring_count,
    ring_pop,
    ring_push,
    ring_seq_fo,
)
from quantumtrader.features.state import RH_CAP, StateBuilder, ensure_room, ring_header


def _mw_state(
    windows: list[int], cap: int = 2
) -> tuple[tuple[np.ndarray, np.ndarray], int, int, int]:
    b = StateBuilder(n_rings=1)
    b.ring(0, nf=2, ni=1, cap=cap)
    wins = b.i(len(windows))
    tails = b.i(len(windows))
    sums = b.f(2 * len(windows))
    f, i = b.build()
    i[wins : wins + len(windows)] = windows
    return (f, i), wins, tails, sums


def test_builder_layout_and_errors() -> None:
    b = StateBuilder(n_rings=2)
    b.ring(0, nf=1, ni=1, cap=3)
    b.ring(1, nf=2, ni=0, cap=4)
    x = b.f(2, fill=1.5)
    y = b.i(1, fill=7)
    f, i = b.build()
    assert i[0] == 2
    assert (f[x], f[x + 1], i[y]) == (1.5, 1.5, 7)
    assert f.shape[0] == 2 + 3 * 1 + 4 * 2
    assert i.shape[0] == 1 + 16 + 1 + 3
    with pytest.raises(ValueError, match="ring index"):
        b.ring(2, nf=1, ni=0)
    with pytest.raises(ValueError, match="every ring"):
        StateBuilder(n_rings=1).build()


def test_push_pop_and_growth_keep_logical_order() -> None:
    b = StateBuilder(n_rings=1)
    b.ring(0, nf=1, ni=0, cap=3)
    f, i = b.build()
    for v in (1.0, 2.0, 3.0):
        row = ring_push(i, 0)
        f[int(i[ring_header(0)]) + row] = v
    ring_pop(i, 0)  # drop 1.0 -> holds 2, 3, head at row 1
    row = ring_push(i, 0)
    f[int(i[ring_header(0)]) + row] = 4.0  # wraps to row 0
    assert ring_count(i, 0) == 3
    # full (the caller was supposed to ensure room): the oldest entry (2.0, row 1) makes room
    assert ring_push(i, 0) == 1
    assert ring_count(i, 0) == 3
    f, i = b.build()
    for v in (2.0, 3.0, 4.0):
        f[int(i[ring_header(0)]) + ring_push(i, 0)] = v
    ring_pop(i, 0)
    f[int(i[ring_header(0)]) + ring_push(i, 0)] = 5.0
    g, j = ensure_room((f, i), 4)
    assert j[ring_header(0) + RH_CAP] == 7  # max(2 * 3, 3 + 4)
    held = [g[ring_seq_fo(j, 0, s)] for s in range(1, 4)]
    assert held == [3.0, 4.0, 5.0]
    same = ensure_room((g, j), 4)
    assert same[0] is g and same[1] is j


@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.floats(-100, 100, allow_nan=False), st.booleans()),
        min_size=1,
        max_size=80,
    )
)
def test_multi_window_sums_match_brute_force(events: list[tuple[int, float, bool]]) -> None:
    windows = [5, 17, 60]
    (f, i), wins, tails, sums = _mw_state(windows)
    t = 0
    seen: list[tuple[int, float]] = []
    for dt_, v, probe in events:
        t += dt_
        f, i = ensure_room((f, i), 1)
        if probe:  # an emit-style expiry at a later time, no push
            mw_expire(f, i, 0, 2, 3, sums, tails, wins, t)
        else:
            mw_expire(f, i, 0, 2, 3, sums, tails, wins, t)
            fo = mw_push(i, 0, t)
            f[fo], f[fo + 1] = v, 1.0
            mw_commit(f, 2, 3, sums, fo)
            seen.append((t, v))
        for w, length in enumerate(windows):
            inside = [x for ts, x in seen if ts > t - length]
            assert f[sums + 2 * w] == pytest.approx(sum(inside), abs=1e-9)
            assert f[sums + 2 * w + 1] == len(inside)
    assert ring_count(i, 0) == len([1 for ts, _ in seen if ts > t - max(windows)])
