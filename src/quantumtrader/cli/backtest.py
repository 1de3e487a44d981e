"""The backtest workflow: load trades, wire the components, replay, report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import msgspec
import pyarrow as pa

from quantumtrader.agents import Coordinator, OrderFlowSpecialist, TrendSpecialist
from quantumtrader.cli.config import BacktestConfig
from quantumtrader.core.errors import DataError
from quantumtrader.data import Lake, iter_days
from quantumtrader.engine import ReplayEngine, ReplayResult
from quantumtrader.execution import SimulatedBroker
from quantumtrader.model.instruments import spec_for
from quantumtrader.reports import Metrics, compute_metrics, write_html_report
from quantumtrader.risk import RiskManager

__all__ = ["BacktestOutput", "load_trades", "run_backtest", "write_outputs"]


class BacktestOutput(msgspec.Struct, kw_only=True):
    """Result, metrics and where they were written."""

    result: ReplayResult
    metrics: Metrics
    report: Path | None = None
    result_json: Path | None = None


def load_trades(
    data: Path, symbol: str | None, day: dt.date | None
) -> tuple[str, dt.date, pa.Table, int]:
    """Trades of one symbol and day from a Profit export or a lake folder.

    Returns
    -------
    (symbol, day, table, quarantined)

    Raises
    ------
    DataError
        If ``data`` does not exist, or the selection is empty or ambiguous (the
        message lists what is available).
    """
    if not data.exists():
        raise DataError(f"no such file or folder: {data}")
    if data.is_dir():
        lake = Lake(data)
        parts = [
            p
            for p in lake.partitions("trades")
            if (symbol is None or p.symbol == symbol) and (day is None or p.day == day)
        ]
        if not parts:
            have = ", ".join(f"{p.symbol}/{p.day}" for p in lake.partitions("trades")) or "none"
            raise DataError(f"{data}: no trades for symbol={symbol} date={day} (lake has: {have})")
        if len(parts) > 1:
            opts = ", ".join(f"{p.symbol}/{p.day}" for p in parts)
            raise DataError(f"{data}: choose one with --symbol/--date among {opts}")
        p = parts[0]
        return p.symbol, p.day, lake.read_trades(p.symbol, p.day), p.quarantined
    batches = [
        b
        for b in iter_days(data)
        if (symbol is None or b.symbol == symbol) and (day is None or b.day == day)
    ]
    if not batches:
        raise DataError(f"{data}: no trades for symbol={symbol} date={day}")
    if len(batches) > 1:
        opts = ", ".join(f"{b.symbol}/{b.day}" for b in batches)
        raise DataError(f"{data}: several days in this file; choose with --symbol/--date: {opts}")
    b = batches[0]
    return b.symbol, b.day, b.table, len(b.quarantine)


def run_backtest(
    trades: pa.Table,
    symbol: str,
    config: BacktestConfig,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ReplayResult, Metrics]:
    """Replay ``trades`` through the agent hierarchy with the simulated broker.

    Parameters
    ----------
    trades
        One symbol's trades (:data:`~quantumtrader.model.arrow.TRADE_SCHEMA`).
    symbol
        Contract code; its root selects the instrument spec.
    config
        :class:`BacktestConfig`.
    progress
        Optional ``(done, total)`` callback.
    """
    spec = spec_for(symbol, config.instruments)
    engine = ReplayEngine(
        symbol=symbol,
        spec=spec,
        specialists=[OrderFlowSpecialist(config.orderflow), TrendSpecialist(config.trend)],
        coordinator=Coordinator(config.coordinator),
        risk=RiskManager(config.risk, spec),
        broker=SimulatedBroker(spec, config.broker),
        config=config.replay,
        slippage_ticks=config.broker.slippage_ticks,
    )
    result = engine.run(trades, progress=progress)
    return result, compute_metrics(result, spec.point_value)


def write_outputs(
    result: ReplayResult, metrics: Metrics, out_dir: Path, title: str
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``result.json`` (canonical, byte-stable) to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = write_html_report(result, metrics, out_dir / "report.html", title)
    result_json = out_dir / "result.json"
    result_json.write_bytes(result.to_json())
    return report, result_json
