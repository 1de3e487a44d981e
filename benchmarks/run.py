"""Throughput benchmarks on the real B3 sample day (``make bench``).

Prints rates; asserts nothing. Targets for later work (issue tracker): import
>= 2 M rows/s, batch features >= 5 M events/s per core.

Data: ``../shared/data/b3_dol_tt_20181105`` (DOLZ18, 2018-11-05, 31,259 trades) or
``QUANTUMTRADER_SAMPLE_DATA``. The format-B figure replays that real day shifted over
``--days`` consecutive dates (the sample set has one B3 day; this is stated in the output).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from quantumtrader.cli.backtest import run_backtest
from quantumtrader.cli.config import load_config
from quantumtrader.data import iter_days, write_profit_b
from quantumtrader.features import FeatureSet, compute_batch
from quantumtrader.model import trade_arrays

DAY_NS = 86_400 * 10**9


def _sample() -> Path:
    env = os.environ.get("QUANTUMTRADER_SAMPLE_DATA")
    folder = (
        Path(env) if env else Path(__file__).resolve().parents[2] / "shared/data/b3_dol_tt_20181105"
    )
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not files:
        print(f"skip: no sample data in {folder} (set QUANTUMTRADER_SAMPLE_DATA)")
        sys.exit(0)
    return files[0]


def _best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up (numba compile, caches)
    return min(_timed(fn) for _ in range(repeat))


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=20, help="days in the synthetic format-B file")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    path = _sample()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"data: {path.name}")

    day = next(iter(iter_days(path)))
    n = day.table.num_rows
    t = _best(lambda: list(iter_days(path)), args.repeat)
    print(
        f"import format A (parse, validate):     {n / t:>12,.0f} rows/s"
        f"  ({n:,} rows, {t * 1e3:.0f} ms)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "wdofut_b.csv"
        tables = []
        for k in range(args.days):
            shifted = day.table.set_column(
                0,
                "ts_event",
                pc.add(day.table.column("ts_event").cast(pa.int64()), k * DAY_NS).cast(
                    day.table.schema.field("ts_event").type
                ),
            )
            tables.append(shifted)
        rows = write_profit_b(pa.concat_tables(tables), big)
        size = big.stat().st_size
        t = _best(lambda: sum(b.rows_read for b in iter_days(big)), 1)
        print(
            f"import format B (streaming, {args.days} days): {rows / t:>10,.0f} rows/s  "
            f"({rows:,} rows, {size / 1e6:.0f} MB; the real day repeated over shifted dates)"
        )

    cols = trade_arrays(day.table)
    ts, price, qty, side = cols["ts"], cols["price"], cols["qty"], cols["side"]
    t = _best(lambda: compute_batch(ts, price, qty, side), args.repeat)
    print(f"features batch (all, 1 core):          {n / t:>12,.0f} events/s")

    fs = FeatureSet()
    lat = np.empty(n, dtype=np.int64)
    tsl, pl_, ql, sl = ts.tolist(), price.tolist(), qty.tolist(), side.tolist()
    fs.update_trade(tsl[0], pl_[0], ql[0], sl[0])
    fs.reset()
    clock = time.perf_counter_ns
    t0 = clock()
    for i in range(n):
        a = clock()
        fs.update_trade(tsl[i], pl_[i], ql[i], sl[i])
        lat[i] = clock() - a
    total = (clock() - t0) / 1e9
    print(
        f"features stream (update per trade):    {n / total:>12,.0f} events/s  "
        f"(p50 {np.percentile(lat, 50) / 1e3:.1f} µs, p99 {np.percentile(lat, 99) / 1e3:.1f} µs)"
    )

    cfg = load_config(Path(str(resources.files("quantumtrader.cli").joinpath("demo_dol.toml"))))
    times = [_timed(lambda: run_backtest(day.table, day.symbol, cfg)) for _ in range(2)]
    t = statistics.median(times)
    timers = int(
        (
            day.table.column("ts_event").cast(pa.int64())[-1].as_py()
            - day.table.column("ts_event").cast(pa.int64())[0].as_py()
        )
        / 1e8
    )
    print(
        f"replay (features + agents + risk + broker): {n / t:>8,.0f} events/s  "
        f"({t:.2f} s for the day; ~{timers:,} specialist timer ticks x 2 agents at 100 ms)"
    )


if __name__ == "__main__":
    main()
