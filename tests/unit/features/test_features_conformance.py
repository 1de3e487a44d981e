"""Conformance of every registered feature group on the real data (DESIGN.md section 5).

Runs each check of :mod:`quantumtrader.testing.conformance` for each group on the real
B3 DOL day (trades with broker codes, no book) and on the Binance BTCUSDT-PERP level-2
capture (trades and top-10 book frames), then the whole default set together.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pytest

from quantumtrader.features.engine import FeatureEngine
from quantumtrader.features.group import GroupContext
from quantumtrader.features.groups import GROUP_CLASSES
from quantumtrader.features.inputs import FeatureInput
from quantumtrader.testing import b3_day_input, binance_input
from quantumtrader.testing import conformance as cf

DATASETS = {
    "b3": b3_day_input,
    "binance": functools.partial(binance_input, "usdm", "btcusdt"),
}
GROUPS = [*GROUP_CLASSES, None]  # None: every group at once


def _data(name: str) -> tuple[FeatureInput, GroupContext]:
    got = DATASETS[name]()
    if got is None:
        pytest.skip(f"sample data for {name!r} not found in ../shared/data")
    inp, ctx = got
    return inp, ctx


def _factory(group: str | None, ctx: GroupContext) -> Callable[[], FeatureEngine]:
    groups = None if group is None else [group]
    return lambda: FeatureEngine(groups, ctx=ctx)


@pytest.mark.parametrize("data", list(DATASETS))
@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g or "all")
def test_stream_equals_batch_and_values(group: str | None, data: str) -> None:
    inp, ctx = _data(data)
    make = _factory(group, ctx)
    cf.check_stream_equals_batch(make, inp)
    eng = make()
    cf.check_values(eng, cf.batch_matrix(eng, inp))


@pytest.mark.parametrize("data", list(DATASETS))
@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g or "all")
def test_reset_clone_pickle_determinism(group: str | None, data: str) -> None:
    inp, ctx = _data(data)
    make = _factory(group, ctx)
    cf.check_reset(make, inp)
    cf.check_clone_and_pickle(make, inp)
    cf.check_determinism(make, inp)


@pytest.mark.parametrize("data", list(DATASETS))
@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g or "all")
def test_no_lookahead(group: str | None, data: str) -> None:
    inp, ctx = _data(data)
    cf.check_no_lookahead(_factory(group, ctx), inp)


def test_checks_catch_a_lookahead_bug() -> None:
    """The no-look-ahead check fails on an engine whose past depends on the future."""
    got = b3_day_input()
    if got is None:
        pytest.skip("real B3 sample data not found in ../shared/data")
    inp, ctx = got

    class Peeking:
        """Signs every trade by the direction of the whole input's volume: a look-ahead."""

        def __init__(self) -> None:
            self.e = FeatureEngine(["flow"], ctx=ctx)
            self.names = self.e.names

        def run(self, x: FeatureInput, **kw: object) -> object:
            side = np.full_like(x.side, 1 if x.qty.sum() > inp.qty.sum() else -1)
            y = FeatureInput(kind=x.kind, ts=x.ts, price=x.price, qty=x.qty, side=side,
                             buyer=x.buyer, seller=x.seller, brow=x.brow, lv=x.lv)  # fmt: skip
            return self.e.run(y, **kw)  # type: ignore[arg-type]

    with pytest.raises(AssertionError, match="future-changed"):
        cf.check_no_lookahead(Peeking, inp)  # type: ignore[arg-type]
