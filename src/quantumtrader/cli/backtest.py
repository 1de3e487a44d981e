"""The backtest workflow: load trades, wire the components, replay, report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pyarrow as pa

from quantumtrader.agents import Coordinator, OrderFlowSpecialist, TrendSpecialist
from quantumtrader.cli.config import BacktestConfig
from quantumtrader.core.errors import DataError
from quantumtrader.data import Lake, iter_days
from quantumtrader.data.book_import import book_with_seed, detect_book_source, read_book_source
from quantumtrader.data.market_day import MarketData
from quantumtrader.data.merge import (
    KIND_BOOK,
    KIND_TRADE,
    EventChunk,
    chunks_from_table,
    iter_lake_events,
    merge_streams,
)
from quantumtrader.engine import ReplayEngine, ReplayResult
from quantumtrader.execution import SimulatedBroker, SimulatedExchange
from quantumtrader.model.instruments import spec_for
from quantumtrader.model.orders import Broker
from quantumtrader.reports import Metrics, compute_metrics, write_html_report
from quantumtrader.risk import RiskManager

__all__ = [
    "BacktestOutput",
    "EventSource",
    "build_engine",
    "load_events",
    "load_trades",
    "market_chunks",
    "run_backtest",
    "run_event_backtest",
    "write_outputs",
]


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
    engine = build_engine(symbol, config, SimulatedBroker(spec, config.broker))
    result = engine.run(trades, progress=progress)
    return result, compute_metrics(result, spec.multiplier)


def build_engine(symbol: str, config: BacktestConfig, broker: Broker) -> ReplayEngine:
    """The seed's agent hierarchy (order-flow and trend specialists, coordinator, risk)."""
    spec = spec_for(symbol, config.instruments)
    return ReplayEngine(
        symbol=symbol,
        spec=spec,
        specialists=[OrderFlowSpecialist(config.orderflow), TrendSpecialist(config.trend)],
        coordinator=Coordinator(config.coordinator),
        risk=RiskManager(config.risk, spec),
        broker=broker,
        config=config.replay,
        slippage_ticks=config.broker.slippage_ticks,
    )


class EventSource(msgspec.Struct, kw_only=True):
    """A trade + order-book selection ready to replay.

    Attributes
    ----------
    symbol
        Instrument the agents trade.
    days
        Days covered.
    total
        Events (trades and book deltas) in the selection.
    quarantined
        Rows the import or reader rejected.
    chunks
        Callable returning a fresh iterator of merged :class:`EventChunk` s.
    label
        Where the events come from, for messages.
    """

    symbol: str
    days: list[dt.date]
    total: int
    quarantined: int
    chunks: Callable[[], Iterator[EventChunk]]
    label: str


def market_chunks(data: MarketData) -> Callable[[], Iterator[EventChunk]]:
    """A factory of merged trade + book chunk streams over an in-memory read.

    A LOBSTER-style seed book is replayed first, as snapshot deltas.
    """
    book = book_with_seed(data)

    def make() -> Iterator[EventChunk]:
        return merge_streams(
            [
                chunks_from_table(data.trades, KIND_TRADE, data.symbol),
                chunks_from_table(book, KIND_BOOK, data.symbol),
            ]
        )

    return make


def load_events(data: Path, symbol: str | None, day: dt.date | None) -> EventSource | None:
    """Trades and book deltas of one symbol from an order-book source file or a lake.

    Returns ``None`` when ``data`` has no order-book data for the selection (a Profit
    export, or a lake without ``kind=book`` partitions for it): the caller then runs
    the trade replay. A lake selection without ``day`` replays every day of the symbol.

    Raises
    ------
    DataError
        If the selection is empty or ambiguous (the message lists what is available).
    """
    if not data.exists():
        raise DataError(f"no such file or folder: {data}")
    if data.is_dir():
        lake = Lake(data)
        books = [
            p
            for p in lake.partitions("book")
            if (symbol is None or p.symbol == symbol) and (day is None or p.day == day)
        ]
        if not books:
            return None
        syms = sorted({p.symbol for p in books})
        if len(syms) > 1:
            raise DataError(f"{data}: choose one with --symbol among {', '.join(syms)}")
        days = sorted(p.day for p in books)
        trades = [p for p in lake.partitions("trades") if p.symbol == syms[0] and p.day in days]
        total = sum(p.rows for p in books) + sum(p.rows for p in trades)
        return EventSource(
            symbol=syms[0],
            days=days,
            total=total,
            quarantined=sum(p.quarantined for p in books),
            chunks=lambda: iter_lake_events(lake, [syms[0]], days),
            label=f"lake {data}",
        )
    if detect_book_source(data) is None:
        return None
    reads = [m for m in read_book_source([data]) if symbol is None or m.symbol == symbol]
    if not reads:
        raise DataError(f"{data}: no book data for symbol={symbol}")
    m = reads[0]
    return EventSource(
        symbol=m.symbol,
        days=m.days,
        total=m.trades.num_rows + m.book.num_rows + (0 if m.seed is None else 1),
        quarantined=m.quarantine.num_rows,
        chunks=market_chunks(m),
        label=f"{m.source} file {data.name}",
    )


def run_event_backtest(
    source: EventSource,
    config: BacktestConfig,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ReplayResult, Metrics]:
    """Replay trades and book deltas through the agent hierarchy and the simulated exchange.

    The exchange (``[exchange]`` table of the config) matches against the replayed
    book: market orders walk the depth, limits queue, latencies apply.
    """
    spec = spec_for(source.symbol, config.instruments)
    engine = build_engine(source.symbol, config, SimulatedExchange(spec, config.exchange))
    result = engine.run_events(source.chunks(), progress=progress, total=source.total)
    return result, compute_metrics(result, spec.multiplier)


def write_outputs(
    result: ReplayResult, metrics: Metrics, out_dir: Path, title: str
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``result.json`` (canonical, byte-stable) to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = write_html_report(result, metrics, out_dir / "report.html", title)
    result_json = out_dir / "result.json"
    result_json.write_bytes(result.to_json())
    return report, result_json
