"""FeatureEngine: configuration errors, sampling, chunking, and the foundation's values."""

from __future__ import annotations

import numpy as np
import pytest

from quantumtrader.core import ConfigError, DataError
from quantumtrader.features import FeatureSet
from quantumtrader.features import engine as engine_mod
from quantumtrader.features.engine import FeatureEngine, interval_ends
from quantumtrader.features.group import GroupContext
from quantumtrader.features.inputs import FeatureInput
from quantumtrader.testing import b3_day_input

S = 1_000_000_000


def _tape() -> FeatureInput:
    ts = np.array([0, 0, 1, 3, 3, 7, 12, 60, 61, 200], dtype=np.int64) * S + 10**18
    price = np.array([100, 100.5, 100, 101, 101, 100.5, 100, 99.5, 100, 100.5])
    qty = np.array([1, 2, 3, 1, 5, 2, 1, 4, 1, 1], dtype=np.float64)
    side = np.array([1, 1, -1, 1, -1, 0, -1, 1, 1, -1], dtype=np.int8)
    return FeatureInput.from_trades(ts, price, qty, side)


def test_configuration_errors() -> None:
    with pytest.raises(ConfigError, match="unknown feature group 'nope'"):
        FeatureEngine(["nope"], tick_size=0.5)
    with pytest.raises(ConfigError, match="ctx= or tick_size="):
        FeatureEngine(["flow"])
    with pytest.raises(ConfigError, match="feature group 'flow'"):
        FeatureEngine(["flow"], tick_size=0.5, params={"flow": {"ofi_windows": (0,)}})
    with pytest.raises(ConfigError, match="not in the set: tape"):
        FeatureEngine(["flow"], tick_size=0.5, params={"tape": {}})
    with pytest.raises(ConfigError, match=r"emitted twice: .*cum_delta"):
        FeatureEngine(["flow", "flow"], tick_size=0.5)


def test_hand_computed_flow_values_and_get() -> None:
    eng = FeatureEngine(["flow"], tick_size=0.5, params={"flow": {"ofi_windows": (1,)}})
    assert eng.names[:4] == ("cum_delta", "ofi_1m", "ofi_1m_velocity", "ofi_1m_acceleration")
    inp = _tape()
    for k in range(5):  # trades at 0 s, 0 s, 1 s, 3 s, 3 s
        eng.update_trade(int(inp.ts[k]), float(inp.price[k]), float(inp.qty[k]), int(inp.side[k]))
    # buys 1 + 2 + 1 = 4, sells 3 + 5 = 8 -> delta -4, OFI (4 - 8) / 12
    assert eng.get("cum_delta") == -4.0
    assert eng.get("ofi_1m") == pytest.approx(-1 / 3)
    # 61 s later the window (t - 60 s, t] is empty: OFI 0, delta stays (session)
    later = int(inp.ts[4]) + 61 * S
    assert eng.get("ofi_1m", later) == 0.0
    assert eng.get("cum_delta", later) == -4.0
    with pytest.raises(DataError, match="earlier than the previous event"):
        eng.update_trade(int(inp.ts[0]), 100.0, 1.0, 1)
    with pytest.raises(KeyError, match="no feature 'x'"):
        eng.index("x")
    fresh = FeatureEngine(["flow"], tick_size=0.5)
    assert fresh.get("ofi_1m_velocity") is None  # NaN before two active seconds


def test_sampling_modes() -> None:
    inp = _tape()
    eng = FeatureEngine(["flow"], tick_size=0.5)
    assert eng.run(inp, each="trade").height == inp.n
    ends = interval_ends(inp.ts, 10 * S)
    assert list((ends + 1 - 10**18) // S) == [10, 20, 70, 210]
    bars = FeatureEngine(["flow"], tick_size=0.5).run(inp, every_ns=10 * S)
    assert bars["ts"].cast(int).to_list() == list(ends)
    # the 10 s bar holds trades at 0..7 s: delta 1 + 2 - 3 + 1 - 5 = -4
    assert bars["cum_delta"].to_list()[:2] == [-4.0, -5.0]
    at = np.array([inp.ts[0] - 1, inp.ts[2]], dtype=np.int64)
    before = FeatureEngine(["flow"], tick_size=0.5).run(inp, at=at)
    assert before["cum_delta"].to_list() == [0.0, 0.0]  # nothing yet; then 1 + 2 - 3
    with pytest.raises(ValueError, match="exactly one"):
        eng.run(inp, each="trade", every_ns=S)
    with pytest.raises(ValueError, match="non-decreasing"):
        FeatureEngine(["flow"], tick_size=0.5).run(inp, at=np.array([5, 1]))
    with pytest.raises(ValueError, match="'trade' or 'event'"):
        FeatureEngine(["flow"], tick_size=0.5).run(inp, each="bar")
    with pytest.raises(ValueError, match="every_ns must be > 0"):
        interval_ends(inp.ts, 0)


def test_input_validation_names_the_row() -> None:
    ts = np.array([3, 2], dtype=np.int64)
    with pytest.raises(DataError, match="row 1: ts 2 is earlier"):
        FeatureInput.from_trades(ts, np.ones(2), np.ones(2), np.ones(2))
    good = _tape()
    with pytest.raises(DataError, match="column price has shape"):
        FeatureInput(kind=good.kind, ts=good.ts, price=good.price[:3], qty=good.qty,
                     side=good.side, buyer=good.buyer, seller=good.seller, brow=good.brow,
                     lv=good.lv)  # fmt: skip
    kind = good.kind.copy()
    kind[4] = 1
    with pytest.raises(DataError, match="row 4: book row -1 outside"):
        FeatureInput(kind=kind, ts=good.ts, price=good.price, qty=good.qty, side=good.side,
                     buyer=good.buyer, seller=good.seller, brow=good.brow,
                     lv=np.zeros((1, 4, 10)))  # fmt: skip


def test_chunked_batch_equals_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    got = b3_day_input()
    if got is None:
        pytest.skip("real B3 sample data not found in ../shared/data")
    inp, ctx = got
    whole = FeatureEngine(ctx=ctx).run(inp, every_ns=S)
    monkeypatch.setattr(engine_mod, "_CHUNK", 777)
    chunked = FeatureEngine(ctx=ctx).run(inp, every_ns=S)
    assert whole.equals(chunked, null_equal=True)


def test_flow_group_equals_the_foundation_feature_set() -> None:
    got = b3_day_input()
    if got is None:
        pytest.skip("real B3 sample data not found in ../shared/data")
    inp, ctx = got
    frame = FeatureEngine(["flow"], ctx=ctx).run(inp, each="trade")
    fs = FeatureSet()
    names = [n for n in frame.columns if n in fs.names]
    assert len(names) == 16
    want = np.empty((inp.n, len(names)))
    for k in range(inp.n):
        fs.update_trade(int(inp.ts[k]), float(inp.price[k]), float(inp.qty[k]), int(inp.side[k]))
        snap = fs.snapshot()
        want[k] = [np.nan if snap[n] is None else snap[n] for n in names]
    got_m = frame.select(names).to_numpy()
    assert np.array_equal(got_m, want, equal_nan=True)


def test_context_from_instrument_spec() -> None:
    b3 = GroupContext.for_symbol("WDOF26")
    assert (b3.tick_size, b3.session_offset_ns) == (0.5, -3 * 3600 * S)
    btc = GroupContext.for_symbol("BTCUSDT-PERP")
    assert (btc.tick_size, btc.session_offset_ns, btc.size_buckets[0]) == (0.1, 0, 10.0)


def test_no_samples_gives_an_empty_frame_with_every_column() -> None:
    inp = _tape()
    eng = FeatureEngine(["flow"], tick_size=0.5)
    frame = eng.run(inp, at=np.zeros(0, dtype=np.int64))
    assert frame.height == 0 and frame.columns == ["ts", *eng.names]
    assert eng.get("cum_delta") == -1.0  # the events were still consumed
