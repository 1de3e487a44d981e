"""merge_streams: bounded-memory merge of ordered chunk streams by (ts_event, seq)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantumtrader.core import DataError
from quantumtrader.data.merge import KIND_BOOK, KIND_TRADE, EventChunk, merge_streams

Arr = np.ndarray[Any, Any]
SYMS = ("A", "B", "C")


def _chunk(ts: list[int], seq: list[int], sym: int, kind: int) -> EventChunk:
    n = len(ts)
    return EventChunk(
        SYMS,
        {
            "kind": np.full(n, kind),
            "sym": np.full(n, sym),
            "ts": np.asarray(ts),
            "seq": np.asarray(seq),
            "price": np.arange(n, dtype=float),
            "size": np.ones(n),
            "side": np.ones(n),
            "action": np.zeros(n),
            "flags": np.zeros(n),
        },
    )


def _stream(keys: list[tuple[int, int]], sym: int, kind: int, cuts: list[int]) -> list[EventChunk]:
    keys = sorted(keys)
    bounds = sorted({0, len(keys), *[c % (len(keys) + 1) for c in cuts]})
    out = []
    for a, b in itertools.pairwise(bounds):
        part = keys[a:b]
        out.append(_chunk([k[0] for k in part], [k[1] for k in part], sym, kind))
    return out


keys_st = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 20)), max_size=60)


@given(
    st.lists(st.tuples(keys_st, st.lists(st.integers(0, 100), max_size=5)), min_size=1, max_size=4)
)
def test_merge_equals_global_sort(spec: list[tuple[list[tuple[int, int]], list[int]]]) -> None:
    streams = [_stream(keys, k % 3, k % 2, cuts) for k, (keys, cuts) in enumerate(spec)]
    expected = sorted(
        (int(t), int(q), k)
        for k, s in enumerate(streams)
        for c in s
        for t, q in zip(c.ts, c.seq, strict=True)
    )
    got = []
    for chunk in merge_streams(streams):
        assert len(chunk) > 0
        got.extend(zip(chunk.ts.tolist(), chunk.seq.tolist(), chunk.sym.tolist(), strict=True))
    assert [(t, q) for t, q, _ in got] == [(t, q) for t, q, _ in expected]
    assert sorted(s for _, _, s in got) == sorted(k % 3 for _, _, k in expected)


def test_ties_go_to_the_first_stream_and_kinds_are_kept() -> None:
    trades = [_chunk([5, 5], [1, 3], 0, KIND_TRADE)]
    book = [_chunk([5, 5], [1, 2], 0, KIND_BOOK)]
    out = list(merge_streams([trades, book]))
    merged = EventChunk(
        SYMS, {k: np.concatenate([c.columns()[k] for c in out]) for k in out[0].columns()}
    )
    assert merged.seq.tolist() == [1, 1, 2, 3]
    assert merged.kind.tolist() == [KIND_TRADE, KIND_BOOK, KIND_BOOK, KIND_TRADE]


def test_stream_going_back_in_time_is_an_error() -> None:
    bad = [_chunk([5, 6], [0, 1], 0, KIND_TRADE), _chunk([1], [2], 0, KIND_TRADE)]
    with pytest.raises(DataError, match="back in time"):
        list(merge_streams([bad, [_chunk([100], [0], 1, KIND_TRADE)]]))
