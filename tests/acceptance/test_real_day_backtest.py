"""Golden backtest of the real B3 day (DOLZ18, 2018-11-05), pinned by value.

The figures are an in-sample replay of one day with untuned seed parameters: they
pin behaviour, they are not evidence of an edge.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from quantumtrader.cli.backtest import run_backtest
from quantumtrader.cli.config import BacktestConfig, load_config
from quantumtrader.data import iter_days
from quantumtrader.engine import ReplayResult
from quantumtrader.execution import SimulatedBroker
from quantumtrader.model import OrderSide, spec_for
from quantumtrader.reports import Metrics

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


def _config() -> BacktestConfig:
    path = Path(str(resources.files("quantumtrader.cli").joinpath("demo_dol.toml")))
    return load_config(path)


@pytest.fixture(scope="module")
def day(b3_day_file: Path):  # type: ignore[no-untyped-def]
    return next(iter(iter_days(b3_day_file)))


@pytest.fixture(scope="module")
def run(day) -> tuple[ReplayResult, Metrics]:  # type: ignore[no-untyped-def]
    return run_backtest(day.table, day.symbol, _config())


def test_pinned_metrics(run: tuple[ReplayResult, Metrics]) -> None:
    result, m = run
    assert result.symbol == "DOLZ18"
    assert result.n_events == 31_259
    assert m.trades == 10
    assert m.gross_pnl_brl == -1875.0
    assert m.costs_brl == 440.0  # 20 fills x 5 contracts x R$4.40
    assert m.net_pnl_brl == -2315.0
    assert m.slippage_brl == 2125.0
    assert m.win_rate == 0.3
    assert m.max_drawdown_brl == 4823.0
    assert m.open_position == 0
    exits = [rt.exit_reason for rt in result.round_trips]
    assert exits == ["stop"] * 3 + ["take"] * 2 + ["stop"] * 4 + ["take"]
    first = result.round_trips[0]
    # Entry at the next trade (3712.5) + 1 tick of slippage; stop 4 points below the fill,
    # hit and filled 1 tick worse.
    assert (first.side, first.qty, first.entry_price, first.exit_price) == (
        OrderSide.BUY,
        5,
        3713.0,
        3708.5,
    )
    assert first.net_brl == -4.5 * 50 * 5 - 10 * 4.40
    assert len(result.decisions) == 1060
    assert result.hold_decisions == 32_190
    assert result.signal_counts["orderflow"] == {"buy": 5220, "sell": 6980, "hold": 320_300}
    assert result.signal_counts["trend"] == {"buy": 44_890, "sell": 16_730, "hold": 270_880}


def test_rerun_is_byte_identical(day, run: tuple[ReplayResult, Metrics]) -> None:  # type: ignore[no-untyped-def]
    again, _ = run_backtest(day.table, day.symbol, _config())
    assert again.to_json() == run[0].to_json()


def test_engine_record_agrees_with_broker(day) -> None:  # type: ignore[no-untyped-def]
    """The broker's books and the engine's record of the same fills agree, trip by trip."""
    from quantumtrader.agents import Coordinator, OrderFlowSpecialist, TrendSpecialist
    from quantumtrader.engine import ReplayEngine
    from quantumtrader.risk import RiskManager

    cfg = _config()
    spec = spec_for(day.symbol)
    broker = SimulatedBroker(spec, cfg.broker)
    engine = ReplayEngine(
        symbol=day.symbol,
        spec=spec,
        specialists=[OrderFlowSpecialist(cfg.orderflow), TrendSpecialist(cfg.trend)],
        coordinator=Coordinator(cfg.coordinator),
        risk=RiskManager(cfg.risk, spec),
        broker=broker,
        config=cfg.replay,
    )
    result = engine.run(day.table)
    assert broker.position(day.symbol) == result.open_position == 0
    assert broker.realized_net == pytest.approx(sum(r.net_brl for r in result.round_trips))
    assert [r.net_brl for r in broker.round_trips()] == pytest.approx(
        [r.net_brl for r in result.round_trips]
    )
    assert sum(int(f.side) * f.qty for f in result.fills) == 0
