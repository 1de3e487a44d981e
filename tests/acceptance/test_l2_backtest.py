"""Level-2 backtests on real data, pinned by value: LOBSTER AMZN (a full NASDAQ session) and
Binance BTCUSDT-PERP, through the seed's agents and the simulated exchange.

The figures pin behaviour with untuned parameters; they are not evidence of an edge.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from quantumtrader.cli.backtest import build_engine, market_chunks
from quantumtrader.cli.config import BacktestConfig
from quantumtrader.data import (
    Lake,
    import_market_data,
    iter_lake_events,
    read_binance,
    read_lobster,
)
from quantumtrader.data.market_day import MarketData
from quantumtrader.engine import ReplayResult
from quantumtrader.execution import SimulatedExchange
from quantumtrader.model import spec_for
from quantumtrader.risk import RiskConfig

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


def _engine(symbol: str, cfg: BacktestConfig):  # type: ignore[no-untyped-def]
    return build_engine(symbol, cfg, SimulatedExchange(spec_for(symbol), cfg.exchange))


@pytest.fixture(scope="module")
def amzn(lobster_dir: Path) -> MarketData:
    return read_lobster(lobster_dir / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip").market


@pytest.fixture(scope="module")
def amzn_run(amzn: MarketData) -> ReplayResult:
    return _engine("AMZN", BacktestConfig()).run_events(market_chunks(amzn)())


def test_lobster_pinned(amzn_run: ReplayResult) -> None:
    r = amzn_run
    assert r.fill_model == "book"
    assert (r.n_events, r.book_events) == PINNED_AMZN["events"]
    assert (len(r.decisions), r.hold_decisions) == PINNED_AMZN["decisions"]
    assert [(f.order_id, f.tag, int(f.side), f.qty, f.price) for f in r.fills] == PINNED_AMZN[
        "fills"
    ]


def test_lobster_from_the_lake_in_small_batches_is_identical(
    amzn: MarketData, amzn_run: ReplayResult, tmp_path: Path
) -> None:
    lake = Lake(tmp_path / "lake")
    import_market_data(amzn, lake)
    chunks = iter_lake_events(lake, ["AMZN"], amzn.days, batch_rows=3_000)
    again = _engine("AMZN", BacktestConfig()).run_events(chunks)
    assert again.to_json() == amzn_run.to_json()


def test_binance_perp_pinned_and_deterministic(binance_dir: Path) -> None:
    md = read_binance([binance_dir / "usdm" / "btcusdt_20240808.gz"])
    risk = RiskConfig(trading_start="00:00", trading_end="23:58", flatten_time="23:59")
    cfg = BacktestConfig(risk=risk)
    a = _engine(md.symbol, cfg).run_events(market_chunks(md)())
    b = _engine(md.symbol, cfg).run_events(market_chunks(md)())
    assert a.digest() == b.digest()
    assert (a.n_events, a.book_events) == PINNED_PERP["events"]
    assert [(f.tag, int(f.side), f.qty, f.price) for f in a.fills] == PINNED_PERP["fills"]
    # one unit is 0.001 BTC: the 4-point loss is 0.004 USDT before fees, not 4 USDT
    [trip] = a.round_trips
    assert trip.gross_brl == pytest.approx(-0.004)
    fast_cfg = msgspec.structs.replace(
        cfg, exchange=msgspec.structs.replace(cfg.exchange, mode="fast")
    )
    fast = _engine(md.symbol, fast_cfg).run_events(market_chunks(md)())
    # Market entries and exits walk the same book in both modes.
    assert [(f.tag, f.price) for f in fast.fills] == [(f.tag, f.price) for f in a.fills]


# AMZN: 11,419 trades + 66,043 book deltas (55,070 order-level changes, 10,970 window
# syncs, 3 seed deltas). One long entry; neither the 4-point stop nor the 8-point take is
# reached before the close, so the position is open at the end.
PINNED_AMZN: dict[str, object] = {
    "events": (77_462, 66_043),
    "decisions": (2_707, 20_692),
    "fills": [("O000001", "entry", 1, 1, 224.24)],
}
# BTCUSDT-PERP: a short entry walks the bids (61800.0); the stop 4 points above triggers on
# a trade at 61804.0 and fills no better than it, though the depth feed still shows 61800.1.
PINNED_PERP: dict[str, object] = {
    "events": (466_576, 445_263),
    "fills": [("entry", -1, 1, 61800.0), ("stop", 1, 1, 61804.0)],
}


def test_two_symbols_merged_from_the_lake_leave_the_traded_one_unchanged(
    amzn: MarketData, amzn_run: ReplayResult, lobster_dir: Path, tmp_path: Path
) -> None:
    goog = read_lobster(lobster_dir / "LOBSTER_SampleFile_GOOG_2012-06-21_1.zip").market
    lake = Lake(tmp_path / "lake")
    import_market_data(amzn, lake)
    import_market_data(goog, lake)
    chunks = iter_lake_events(lake, ["AMZN", "GOOG"], amzn.days, batch_rows=20_000)
    both = _engine("AMZN", BacktestConfig()).run_events(chunks)
    goog_rows = sum(
        p.rows for k in ("trades", "book") for p in lake.partitions(k) if p.symbol == "GOOG"
    )
    # GOOG's events reach the exchange only; AMZN's agents, orders and fills are unchanged.
    assert both.fills == amzn_run.fills
    assert both.decisions == amzn_run.decisions
    assert both.equity == amzn_run.equity
    assert both.signal_counts == amzn_run.signal_counts
    assert both.n_events == amzn_run.n_events + goog_rows
    assert both.book_events > amzn_run.book_events
