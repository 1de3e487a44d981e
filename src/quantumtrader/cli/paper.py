"""The paper-trading workflow: a run folder, Valkey, the four processes, the result.

``run_paper`` is what ``quantumtrader paper`` calls; tests and benchmarks call it too.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from quantumtrader.bus import BusConfig, Status, StreamsConfig, ValkeyConfig
from quantumtrader.bus.runtime import RunContext
from quantumtrader.bus.valkey_server import ValkeyService
from quantumtrader.cli.config import BacktestConfig, read_toml_config
from quantumtrader.core.errors import BusError, ConfigError
from quantumtrader.engine import ReplayResult
from quantumtrader.engine.live.agents_stage import AgentsConfig, run_agents
from quantumtrader.engine.live.features_stage import FeaturesConfig, run_features
from quantumtrader.engine.live.feed import FeedConfig, run_feed
from quantumtrader.engine.live.supervisor import StageSpec, Supervisor
from quantumtrader.execution.paper import ExecutionConfig, run_execution

__all__ = ["PaperConfig", "PaperRun", "load_paper_config", "run_paper"]

log = logging.getLogger(__name__)


class PaperConfig(BacktestConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The backtest tables plus ``[bus]``, ``[streams]``, ``[valkey]`` and ``[features]``."""

    bus: BusConfig = msgspec.field(default_factory=BusConfig)
    streams: StreamsConfig = msgspec.field(default_factory=StreamsConfig)
    valkey: ValkeyConfig = msgspec.field(default_factory=ValkeyConfig)
    features: FeaturesConfig = msgspec.field(default_factory=FeaturesConfig)


def load_paper_config(path: Path | None) -> PaperConfig:
    """Read a paper-trading TOML file (``None``: the defaults).

    Raises
    ------
    ConfigError
        If the file is missing, not TOML, or has unknown or mistyped keys.
    """
    return read_toml_config(path, PaperConfig)


class PaperRun:
    """A prepared run: call :meth:`start`, then :meth:`poll` until False, then :meth:`stop`.

    Parameters
    ----------
    trades
        One symbol's trades (:data:`~quantumtrader.model.arrow.TRADE_SCHEMA`).
    symbol
        Its contract code.
    config
        :class:`PaperConfig`.
    run_dir
        Folder of the run (created): ``feed.parquet``, ``valkey/``, ``spool/``, ``logs/``,
        ``result.json``.
    speed
        Market seconds per wall second; 0 = as fast as possible.
    """

    def __init__(
        self,
        trades: pa.Table,
        symbol: str,
        config: PaperConfig,
        run_dir: Path,
        *,
        speed: float = 0.0,
    ) -> None:
        if speed < 0:
            raise ConfigError(f"speed must be > 0 or 'max', got {speed}")
        self.symbol = symbol
        self.config = config
        self.run_dir = run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        self.trades_path = run_dir / "feed.parquet"
        pq.write_table(trades, self.trades_path)
        self.valkey = ValkeyService(config.valkey, run_dir)
        self.speed = speed
        self.supervisor: Supervisor | None = None

    def start(self) -> None:
        """Start Valkey (embedded unless configured) and the processes."""
        self.valkey.start()
        cfg = self.config
        run = RunContext(
            symbol=self.symbol,
            run_dir=str(self.run_dir),
            valkey_url=self.valkey.url,
            bus=cfg.bus,
            streams=cfg.streams,
            valkey=cfg.valkey,
        )
        agents = AgentsConfig(
            replay=cfg.replay,
            risk=cfg.risk,
            orderflow=cfg.orderflow,
            trend=cfg.trend,
            coordinator=cfg.coordinator,
            instruments=cfg.instruments,
            slippage_ticks=cfg.broker.slippage_ticks,
        )
        stages = [
            StageSpec(
                "execution",
                run_execution,
                ExecutionConfig(broker=cfg.broker, instruments=cfg.instruments),
            ),
            StageSpec("features", run_features, cfg.features),
            StageSpec("agents", run_agents, agents, restart=False),
            StageSpec(
                "feed", run_feed, FeedConfig(trades_path=str(self.trades_path), speed=self.speed)
            ),
        ]
        self.supervisor = Supervisor(run, stages)
        try:
            self.supervisor.start()
        except BaseException:
            self.valkey.stop()
            raise

    def poll(self, timeout_ms: int = 100) -> bool:
        """Watch the run; False once it is over (see :attr:`error`)."""
        if self.supervisor is None:
            return False
        return self.supervisor.poll(timeout_ms)

    @property
    def status(self) -> dict[str, Status]:
        """Latest report of each process."""
        return {} if self.supervisor is None else self.supervisor.status

    @property
    def error(self) -> str:
        """Why the run stopped early ("" when it did not)."""
        return "" if self.supervisor is None else self.supervisor.error

    def stop(self) -> None:
        """Stop every process (each flushes its writer), then the embedded Valkey."""
        try:
            if self.supervisor is not None:
                self.supervisor.stop()
        finally:
            self.valkey.stop()

    def result(self) -> ReplayResult:
        """The agents' :class:`ReplayResult` (``result.json``).

        Raises
        ------
        BusError
            If the run did not finish (no result was written).
        """
        path = self.run_dir / "result.json"
        if not path.exists():
            raise BusError(f"the paper run did not finish: no {path}")
        return msgspec.json.decode(path.read_bytes(), type=ReplayResult)


def run_paper(
    trades: pa.Table,
    symbol: str,
    config: PaperConfig,
    run_dir: Path,
    *,
    speed: float = 0.0,
    on_status: Callable[[dict[str, Status]], None] | None = None,
    timeout_s: float | None = None,
) -> ReplayResult:
    """Run a paper session to the end of the trades and return the agents' result.

    Raises
    ------
    BusError
        If a process fails (the message names its log) or ``timeout_s`` passes.
    """
    run = PaperRun(trades, symbol, config, run_dir, speed=speed)
    run.start()
    started = dt.datetime.now()
    try:
        while run.poll(100):
            if on_status is not None:
                on_status(run.status)
            if timeout_s is not None and (dt.datetime.now() - started).total_seconds() > timeout_s:
                raise BusError(f"paper run did not finish within {timeout_s:.0f} s")
        if on_status is not None:
            on_status(run.status)
        if run.error:
            raise BusError(run.error)
    finally:
        run.stop()
    return run.result()
