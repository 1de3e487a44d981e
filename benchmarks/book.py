"""Order-book and level-2 replay benchmarks on real data (``make bench``).

Prints rates; asserts nothing. Issue target: >= 3 M events/s for the full replay (book
upkeep + features + simulated fills + the agent hierarchy at its cadences).

Data (``../shared/data``): the LOBSTER NASDAQ full sessions of 2012-06-21 (GOOG with
10 levels, AAPL with 1 level) and the Binance BTCUSDT captures of 2024-08-08/09 (USD-M
perpetual and spot). Each dataset is skipped with a message when absent.

Figures per dataset:

* read: reader throughput (input rows/s, parsing the raw files);
* book: ``OrderBook.apply_arrays`` over every book delta (updates/s, best of 3);
* replay: ``ReplayEngine.run_events`` with the seed's agents (order-flow and trend
  specialists every 100 ms, coordinator every 1 s), risk, the feature set and the
  :class:`SimulatedExchange` in accurate mode (events/s = trades + book deltas over
  wall time). Two runs: "trading" (risk lets the agents trade all day, so orders are
  working most of the time and every event goes through the exchange's matching in
  Python) and "flat" (risk refuses every entry: book upkeep and features run in
  compiled bulk between timers, agents still run at their cadences);
* peak RSS of the process at the end (MB).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

from quantumtrader.book import OrderBook
from quantumtrader.cli.backtest import build_engine, market_chunks
from quantumtrader.cli.config import BacktestConfig
from quantumtrader.data.binance import read_binance
from quantumtrader.data.book_import import book_with_seed
from quantumtrader.data.lobster import read_lobster
from quantumtrader.data.market_day import MarketData
from quantumtrader.engine import ReplayResult
from quantumtrader.execution import SimulatedExchange
from quantumtrader.model import book_arrays, spec_for
from quantumtrader.risk import RiskConfig

SHARED = Path(
    os.environ.get("QUANTUMTRADER_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared/data")
)


def _datasets() -> list[tuple[str, Callable[[], MarketData]]]:
    lob = SHARED / "lobster_nasdaq_20120621"
    bn = SHARED / "binance_raw_l2_20240808"
    out: list[tuple[str, Callable[[], MarketData]]] = []
    for name in ("GOOG_2012-06-21_10", "AAPL_2012-06-21_1"):
        z = lob / f"LOBSTER_SampleFile_{name}.zip"
        if z.is_file():
            out.append((f"LOBSTER {name}", lambda z=z: read_lobster(z).market))
        else:
            print(f"skip: {z} not found")
    usdm = bn / "usdm/btcusdt_20240808.gz"
    spot = [bn / "spot/btcusdt_20240808.gz", bn / "spot/btcusdt_20240809.gz"]
    if usdm.is_file():
        out.append(("Binance BTCUSDT-PERP", lambda: read_binance([usdm])))
    else:
        print(f"skip: {usdm} not found")
    if all(p.is_file() for p in spot):
        out.append(("Binance BTCUSDT spot", lambda: read_binance(spot)))
    else:
        print(f"skip: {spot[0]} not found")
    return out


def _book_rate(md: MarketData, repeat: int) -> tuple[int, float]:
    a = book_arrays(book_with_seed(md))
    spec = spec_for(md.symbol)
    best = float("inf")
    for _ in range(repeat + 1):  # first run compiles / warms the cache
        book = OrderBook(md.symbol, spec.tick_size)
        t = time.perf_counter()
        book.apply_arrays(a["side"], a["action"], a["price"], a["size"])
        best = min(best, time.perf_counter() - t)
    return len(a["ts"]), best


def _bench_config(trading: bool = True) -> BacktestConfig:
    # Trading window open all day so the exchange also sees orders on the Binance
    # capture (23:54-00:05 UTC); the figures are speed, not trading results.
    risk = RiskConfig(
        trading_start="00:00",
        trading_end="23:58",
        flatten_time="23:59",
        max_trades_per_day=10 if trading else 0,
    )
    return BacktestConfig(risk=risk)


def _replay(md: MarketData, cfg: BacktestConfig, total: int) -> tuple[float, ReplayResult]:
    spec = spec_for(md.symbol)
    make = market_chunks(md)
    # A first pass warms the compiled kernels; then a fresh engine is timed.
    build_engine(md.symbol, cfg, SimulatedExchange(spec, cfg.exchange)).run_events(make())
    engine = build_engine(md.symbol, cfg, SimulatedExchange(spec, cfg.exchange))
    t = time.perf_counter()
    result = engine.run_events(make(), total=total)
    return time.perf_counter() - t, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}"
    )
    cfg, flat = _bench_config(), _bench_config(trading=False)
    for name, load in _datasets():
        t = time.perf_counter()
        md = load()
        t_read = time.perf_counter() - t
        n_rows = md.rows_read
        n_book, t_book = _book_rate(md, args.repeat)
        total = md.trades.num_rows + n_book
        t_replay, result = _replay(md, cfg, total)
        t_flat, _ = _replay(md, flat, total)
        print(
            f"{name}: read {n_rows:,} rows in {t_read:.2f} s "
            f"({n_rows / t_read / 1e3:,.0f} k rows/s); "
            f"book {n_book:,} deltas at {n_book / t_book / 1e6:,.1f} M updates/s; "
            f"replay {total:,} events ({md.trades.num_rows:,} trades): trading {t_replay:.2f} s = "
            f"{total / t_replay / 1e6:,.2f} M events/s, flat {t_flat:.2f} s = "
            f"{total / t_flat / 1e6:,.2f} M events/s; "
            f"{len(result.decisions)} decisions, {len(result.fills)} fills, "
            f"fill model {result.fill_model}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:,.0f} MB")


if __name__ == "__main__":
    main()
