"""Feature library benchmarks (``make bench``): batch throughput and stream latency.

Prints rates; asserts nothing. Targets: batch >= 5 M events/s per core for the full set,
stream update <= 20 µs p99 per event.

Data: the real B3 DOLZ18 day (31,259 trades with broker codes, no book) and the Binance
BTCUSDT-PERP level-2 capture of 2024-08-08 (21,313 trades + 6,548 book messages as top-10
frames), both from ``../shared/data``. Batch figures run one core (numba is single
threaded here) and count trades + book messages per second of wall time, best of
``--repeat``; the B3 day is replayed ``--copies`` times back to back (shifted by whole
days) so a run lasts long enough to time.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from typing import Any

import numpy as np

from quantumtrader.features.engine import FeatureEngine
from quantumtrader.features.group import GroupContext
from quantumtrader.features.groups import GROUP_CLASSES
from quantumtrader.features.inputs import KIND_TRADE, FeatureInput
from quantumtrader.testing import b3_day_input, binance_input
from quantumtrader.testing.feature_data import concat_inputs

DAY_NS = 86_400 * 10**9
Array = np.ndarray[Any, Any]


def _shifted(inp: FeatureInput, copies: int) -> FeatureInput:
    parts = []
    for k in range(copies):
        parts.append(
            FeatureInput(
                kind=inp.kind,
                ts=inp.ts + k * DAY_NS,
                price=inp.price,
                qty=inp.qty,
                side=inp.side,
                buyer=inp.buyer,
                seller=inp.seller,
                brow=inp.brow,
                lv=inp.lv,
            )
        )
    return concat_inputs(parts)


def _batch_rate(
    groups: list[str] | None, ctx: GroupContext, inp: FeatureInput, **sample: Any
) -> float:
    best = float("inf")
    FeatureEngine(groups, ctx=ctx).run(inp.slice(0, min(inp.n, 2000)), **sample)  # compile
    for _ in range(REPEAT):
        eng = FeatureEngine(groups, ctx=ctx)
        t = time.perf_counter()
        eng.run(inp, **sample)
        best = min(best, time.perf_counter() - t)
    return inp.n / best


def _stream_latency(ctx: GroupContext, inp: FeatureInput) -> tuple[Array, Array]:
    eng = FeatureEngine(ctx=ctx)
    upd = np.empty(inp.n)
    snap = np.empty(inp.n)
    clock = time.perf_counter_ns
    kind, ts, price, qty, side = (inp.kind, inp.ts.tolist(), inp.price.tolist(),
                                  inp.qty.tolist(), inp.side.tolist())  # fmt: skip
    buyer, seller, brow = inp.buyer.tolist(), inp.seller.tolist(), inp.brow.tolist()
    for e in range(inp.n):
        t0 = clock()
        if kind[e] == KIND_TRADE:
            eng.update_trade(ts[e], price[e], qty[e], side[e], buyer[e], seller[e])
        else:
            eng.update_book(ts[e], inp.lv[brow[e]])
        t1 = clock()
        eng.snapshot(ts[e])
        t2 = clock()
        upd[e] = t1 - t0
        snap[e] = t2 - t1
    return upd / 1e3, snap / 1e3


REPEAT = 3


def main() -> None:
    global REPEAT  # noqa: PLW0603 - a script's setting
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--copies", type=int, default=10, help="B3 day copies for batch runs")
    args = ap.parse_args()
    REPEAT = args.repeat
    b3 = b3_day_input()
    bn = binance_input("usdm", "btcusdt")
    if b3 is None or bn is None:
        print("skip: sample data not found in ../shared/data")
        sys.exit(0)
    print(f"machine: {platform.machine()}, {platform.python_version()}, one core per run")
    n_all = FeatureEngine(ctx=b3[1]).n_features
    print(f"features: {n_all} in {len(GROUP_CLASSES)} groups")
    for label, (inp, ctx), copies in (
        ("B3 DOLZ18 day", b3, args.copies),
        ("Binance BTCUSDT-PERP L2", bn, 3),
    ):
        big = _shifted(inp, copies)
        print(f"\n{label}: {inp.n:,} events ({inp.n_trades:,} trades), x{copies} = {big.n:,}")
        for name, sample in (("1 s bars", {"every_ns": 10**9}), ("every event", {"each": "event"})):
            rate = _batch_rate(None, ctx, big, **sample)
            print(f"  batch, full set, sampled {name:<12} {rate / 1e6:6.2f} M events/s")
        for g in GROUP_CLASSES:
            rate = _batch_rate([g], ctx, big, every_ns=10**9)
            print(f"    group {g:<10} (1 s bars)          {rate / 1e6:6.2f} M events/s")
        upd, snap = _stream_latency(ctx, inp)
        p = np.percentile
        print(f"  stream update, full set: p50 {p(upd, 50):.1f} µs, p99 {p(upd, 99):.1f} µs, "
              f"max {upd.max():.0f} µs")  # fmt: skip
        print(f"  snapshot ({n_all} values):  p50 {p(snap, 50):.1f} µs, p99 {p(snap, 99):.1f} µs")


if __name__ == "__main__":
    main()
