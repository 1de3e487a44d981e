"""Cumulative delta: hand case, stream == batch on the real day, reset, protocol."""

from __future__ import annotations

from typing import Any

import numpy as np

from quantumtrader.features import CumulativeDelta, TradeFeature, cum_delta_batch


def test_hand_case_and_reset() -> None:
    d = CumulativeDelta()
    assert d.name == "cum_delta"
    assert isinstance(d, TradeFeature)
    assert d.get() is None
    assert not d.ready
    for ts, q, s in [(0, 5.0, 1), (1, 2.0, -1), (2, 100.0, 0), (3, 1.0, 1)]:
        d.update(ts, 10.0, q, s)
    assert d.get() == 4.0
    assert d.ready
    d.reset()
    assert d.get() is None
    d.update(0, 10.0, 5.0, -1)
    assert d.get() == -5.0


def test_stream_equals_batch_real_day(dol_day: dict[str, np.ndarray[Any, Any]]) -> None:
    batch = cum_delta_batch(dol_day["qty"], dol_day["side"])
    d = CumulativeDelta()
    stream = []
    for ts, p, q, s in zip(
        dol_day["ts"].tolist(), dol_day["price"].tolist(), dol_day["qty"].tolist(),
        dol_day["side"].tolist(), strict=True,
    ):  # fmt: skip
        d.update(ts, p, q, s)
        stream.append(d.get())
    assert np.array_equal(np.asarray(stream), batch)
    # Comprador 119,000 contracts, Vendedor 119,800 (SOURCE.md)
    assert batch[-1] == 119_000 - 119_800
