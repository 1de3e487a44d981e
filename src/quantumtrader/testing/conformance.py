"""Conformance checks every feature group must pass (DESIGN.md section 5).

Each check takes a factory of fresh :class:`~quantumtrader.features.engine.FeatureEngine`
s and a :class:`~quantumtrader.features.inputs.FeatureInput` (the real B3 day, the
Binance level-2 capture) and raises ``AssertionError`` naming the feature, the row and
both values at the first disagreement:

* :func:`check_stream_equals_batch`: the stream path (``update_*`` then ``snapshot``
  after every event) equals the batch path (``run(each="event")``) bit for bit;
* :func:`check_reset`: ``reset()`` after some events equals a fresh engine;
* :func:`check_clone_and_pickle`: a clone and a pickle round trip taken mid-stream go
  on exactly like the original;
* :func:`check_determinism`: two fresh runs give identical bytes;
* :func:`check_no_lookahead`: changing every event after a cut leaves every sample at
  or before the cut unchanged;
* :func:`check_values`: no infinities, and NaN only in features whose catalogue entry
  documents when they are NaN.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import numpy as np

from quantumtrader.features.engine import FeatureEngine
from quantumtrader.features.inputs import KIND_TRADE, FeatureInput

__all__ = [
    "EngineFactory",
    "batch_matrix",
    "check_clone_and_pickle",
    "check_determinism",
    "check_no_lookahead",
    "check_reset",
    "check_stream_equals_batch",
    "check_values",
    "stream_matrix",
]

Array = np.ndarray[Any, Any]
EngineFactory = Callable[[], FeatureEngine]


def _feed(engine: FeatureEngine, inp: FeatureInput, e: int) -> None:
    ts = int(inp.ts[e])
    if inp.kind[e] == KIND_TRADE:
        engine.update_trade(
            ts, float(inp.price[e]), float(inp.qty[e]), int(inp.side[e]),
            int(inp.buyer[e]), int(inp.seller[e]),
        )  # fmt: skip
    else:
        engine.update_book(ts, inp.lv[inp.brow[e]])


def stream_matrix(engine: FeatureEngine, inp: FeatureInput, start: int = 0) -> Array:
    """Stream path: feed events ``start..n-1``, a snapshot after each.

    Returns float64 ``(n - start, n_features)``.
    """
    rows = np.empty((inp.n - start, engine.n_features))
    for e in range(start, inp.n):
        _feed(engine, inp, e)
        rows[e - start] = engine.snapshot(int(inp.ts[e]))
    return rows


def batch_matrix(engine: FeatureEngine, inp: FeatureInput) -> Array:
    """Batch path sampled after every event, ``(n, n_features)``."""
    return engine.run(inp, each="event").drop("ts").to_numpy()


def _first_diff(a: Array, b: Array, names: tuple[str, ...], what: str) -> None:
    if a.shape != b.shape:
        raise AssertionError(f"{what}: shapes {a.shape} and {b.shape} differ")
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    if same.all():
        return
    bad = np.argwhere(~same)
    r, c = (int(x) for x in bad[0])
    cols = sorted({names[int(k)] for k in bad[:, 1]})
    raise AssertionError(
        f"{what}: {bad.shape[0]} values differ in {len(cols)} features "
        f"({', '.join(cols[:8])}{'...' if len(cols) > 8 else ''}); first at row {r}, "
        f"{names[c]}: {a[r, c]!r} vs {b[r, c]!r}"
    )


def check_stream_equals_batch(make: EngineFactory, inp: FeatureInput) -> None:
    """Stream after every event == batch ``each="event"``, bit for bit."""
    eng = make()
    _first_diff(stream_matrix(eng, inp), batch_matrix(make(), inp), eng.names, "stream vs batch")


def check_reset(make: EngineFactory, inp: FeatureInput) -> None:
    """Feeding half the events then ``reset()`` behaves as a fresh engine."""
    eng = make()
    eng.run(inp.slice(0, inp.n // 2), each="event")
    eng.reset()
    _first_diff(batch_matrix(eng, inp), batch_matrix(make(), inp), eng.names, "reset vs fresh")


def check_clone_and_pickle(make: EngineFactory, inp: FeatureInput) -> None:
    """A clone and a pickle round trip taken mid-stream continue exactly like the original."""
    half = inp.n // 2
    eng = make()
    eng.run(inp.slice(0, half), each="event")
    twin = eng.clone()
    thawed = pickle.loads(pickle.dumps(eng))
    rest = inp.slice(half, inp.n)
    ref = batch_matrix(eng, rest)
    _first_diff(batch_matrix(twin, rest), ref, eng.names, "clone vs original")
    _first_diff(stream_matrix(thawed, rest), ref, eng.names, "unpickled (stream) vs original")


def check_determinism(make: EngineFactory, inp: FeatureInput) -> None:
    """Two fresh batch runs give byte-identical results."""
    a, b = batch_matrix(make(), inp), batch_matrix(make(), inp)
    if a.tobytes() != b.tobytes():
        _first_diff(a, b, make().names, "run vs rerun")
        raise AssertionError("run vs rerun: equal values but different bytes (NaN payloads)")


def _perturbed(inp: FeatureInput, cut: int) -> FeatureInput:
    """Every event after ``cut`` changed: prices moved, sizes doubled, sides flipped."""
    price = inp.price.copy()
    qty = inp.qty.copy()
    side = inp.side.copy()
    lv = inp.lv.copy()
    buyer, seller = inp.buyer.copy(), inp.seller.copy()
    buyer[cut + 1 :], seller[cut + 1 :] = inp.seller[cut + 1 :], inp.buyer[cut + 1 :]
    price[cut + 1 :] += 7.0 * np.nanmax(
        np.abs(np.diff(inp.price[inp.kind == KIND_TRADE])), initial=1.0
    )
    qty[cut + 1 :] *= 2.0
    side[cut + 1 :] = -side[cut + 1 :]
    later = inp.brow[cut + 1 :]
    rows = later[later >= 0]
    if rows.size:
        lv[rows, 1] *= 3.0
        lv[rows, 3] *= 0.5
    return FeatureInput(
        kind=inp.kind, ts=inp.ts, price=price, qty=qty, side=side, buyer=buyer,
        seller=seller, brow=inp.brow, lv=lv,
    )  # fmt: skip


def check_no_lookahead(make: EngineFactory, inp: FeatureInput, n_samples: int = 400) -> None:
    """Samples taken at times ``<= ts[cut]`` do not change when later events change.

    The cut is the last event of a timestamp group in the middle of the input (events
    sharing the cut's timestamp are all "past"), and the samples are spread over the
    past; every later event gets another price, size, side, brokers and book sizes.
    """
    cut = inp.n // 2
    while cut + 1 < inp.n and inp.ts[cut + 1] == inp.ts[cut]:
        cut += 1
    at = np.unique(np.linspace(inp.ts[0], inp.ts[cut], n_samples).astype(np.int64))
    eng = make()
    a = make().run(inp, at=at).drop("ts").to_numpy()
    b = make().run(_perturbed(inp, cut), at=at).drop("ts").to_numpy()
    _first_diff(a, b, eng.names, "original vs future-changed input")


def check_values(engine: FeatureEngine, values: Array) -> None:
    """No infinities; NaN only where the feature's ``warmup`` says when it is NaN."""
    for k, doc in enumerate(engine.docs):
        col = values[:, k]
        if np.isinf(col).any():
            r = int(np.flatnonzero(np.isinf(col))[0])
            raise AssertionError(f"{doc.name}: infinite value at row {r}")
        if np.isnan(col).any() and "nan" not in doc.warmup.lower():
            r = int(np.flatnonzero(np.isnan(col))[0])
            raise AssertionError(
                f"{doc.name}: NaN at row {r} but its catalogue entry does not say when "
                f"(warmup: {doc.warmup!r})"
            )
