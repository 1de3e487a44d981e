"""The event-stream replay equals the trade replay on trades-only data (real B3 day)."""

from __future__ import annotations

import itertools
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from quantumtrader.agents import Coordinator, OrderFlowSpecialist, TrendSpecialist
from quantumtrader.cli.config import BacktestConfig, load_config
from quantumtrader.core import DataError
from quantumtrader.data import iter_days
from quantumtrader.data.merge import KIND_TRADE, EventChunk, chunks_from_table
from quantumtrader.engine import ReplayEngine
from quantumtrader.execution import SimulatedBroker
from quantumtrader.model import spec_for
from quantumtrader.risk import RiskManager


def _config() -> BacktestConfig:
    path = Path(str(resources.files("quantumtrader.cli").joinpath("demo_dol.toml")))
    return load_config(path)


def _engine(symbol: str, cfg: BacktestConfig, feed_latency_ns: int | None = None) -> ReplayEngine:
    spec = spec_for(symbol)
    return ReplayEngine(
        symbol=symbol,
        spec=spec,
        specialists=[OrderFlowSpecialist(cfg.orderflow), TrendSpecialist(cfg.trend)],
        coordinator=Coordinator(cfg.coordinator),
        risk=RiskManager(cfg.risk, spec),
        broker=SimulatedBroker(spec, cfg.broker),
        config=cfg.replay,
        slippage_ticks=cfg.broker.slippage_ticks,
        feed_latency_ns=feed_latency_ns,
    )


@pytest.fixture(scope="module")
def day_table(b3_day_file: Path) -> tuple[str, pa.Table]:
    day = next(iter(iter_days(b3_day_file)))
    table = day.table.sort_by([("ts_event", "ascending"), ("seq", "ascending")])
    return day.symbol, table


def _ragged_chunks(symbol: str, table: pa.Table, seed: int) -> list[EventChunk]:
    whole = next(chunks_from_table(table, KIND_TRADE, symbol, batch_rows=table.num_rows))
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, len(whole)), size=40, replace=False)).tolist()
    bounds = [0, *cuts, len(whole)]
    return [whole.take(slice(a, b)) for a, b in itertools.pairwise(bounds)]


@pytest.mark.slow
def test_event_replay_is_byte_identical_to_trade_replay(day_table: tuple[str, pa.Table]) -> None:
    symbol, table = day_table
    cfg = _config()
    ref = _engine(symbol, cfg).run(table)
    got = _engine(symbol, cfg).run_events(_ragged_chunks(symbol, table, 3))
    assert len(ref.fills) > 0
    assert got.fill_model == "trades" and got.book_events == 0
    assert got.to_json() == ref.to_json()


@pytest.mark.slow
def test_feed_latency_delays_what_agents_see(day_table: tuple[str, pa.Table]) -> None:
    symbol, table = day_table
    cfg = _config()
    base = _engine(symbol, cfg).run_events(_ragged_chunks(symbol, table, 5))
    late = _engine(symbol, cfg, 2_000_000_000).run_events(_ragged_chunks(symbol, table, 5))
    # Same timer instants, but each timer sees the market 2 s earlier: decisions differ.
    assert late.n_events == base.n_events
    assert [d.ts for d in late.decisions] != [d.ts for d in base.decisions]


def test_empty_stream_and_missing_symbol_are_errors(day_table: tuple[str, pa.Table]) -> None:
    symbol, table = day_table
    cfg = _config()
    with pytest.raises(DataError, match="no events"):
        _engine(symbol, cfg).run_events([])
    other = list(chunks_from_table(table.slice(0, 100), KIND_TRADE, "XYZ", symbols=("XYZ",)))
    with pytest.raises(DataError, match="no trade of"):
        _engine(symbol, cfg).run_events(other)
