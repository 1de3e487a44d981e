"""Paper trading on the real B3 day: parity with the backtest, and the fault cases.

Each test runs the four real processes over real ZeroMQ sockets on 127.0.0.1 and a
real embedded valkey-server, at max speed, on the full 2018-11-05 DOLZ18 day.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest

from quantumtrader.bus.reader import read_after
from quantumtrader.cli.backtest import load_trades, run_backtest
from quantumtrader.cli.paper import PaperConfig, PaperRun
from quantumtrader.engine import ReplayResult
from quantumtrader.model.orders import Fill
from quantumtrader.model.signals import Decision

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _free_base(n: int = 9) -> int:
    """A run of ``n`` consecutive free loopback ports."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n >= 65535:
            continue
        ok = True
        for p in range(base, base + n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port range")


@pytest.fixture(scope="module")
def day(b3_day_file: Path) -> tuple[str, pa.Table, ReplayResult]:
    sym, _, trades, _ = load_trades(b3_day_file, None, None)
    result, _ = run_backtest(trades, sym, PaperConfig())
    return sym, trades, result


def _config() -> PaperConfig:
    cfg = PaperConfig()
    bus = msgspec.structs.replace(
        cfg.bus, ports=cfg.bus.ports.shifted(_free_base()), status_every_ms=20
    )
    return msgspec.structs.replace(cfg, bus=bus)


def _run(
    tmp_path: Path,
    day: tuple[str, pa.Table, ReplayResult],
    during: Callable[[PaperRun], None] | None = None,
) -> tuple[PaperRun, ReplayResult, dict[str, list[object]]]:
    """Run to the end, calling ``during`` on each poll; return the run, result, streams."""
    sym, trades, _ = day
    run = PaperRun(trades, sym, _config(), tmp_path / "run", speed=0.0)
    run.start()
    streams: dict[str, list[object]] = {}
    try:
        deadline = time.monotonic() + 600
        while run.poll(10):
            if during is not None:
                during(run)
            assert time.monotonic() < deadline, "paper run did not finish"
        assert run.error == ""
        assert run.supervisor is not None
        run.supervisor.stop()
        client = run.valkey.client()
        st = run.config.streams
        for name, key in (
            ("decisions", st.agent_decisions.name()),
            ("fills", st.fills.name(sym)),
            ("orders", st.orders.name(sym)),
            ("market", st.market_data.name(sym)),
        ):
            streams[name] = [m for _, m in read_after(client, key, count=200_000)]
    finally:
        run.stop()
    return run, run.result(), streams


def _same_trading(paper: ReplayResult, backtest: ReplayResult) -> None:
    assert paper.decisions == backtest.decisions
    assert paper.fills == backtest.fills
    assert paper.round_trips == backtest.round_trips
    assert paper.risk_events == backtest.risk_events


def _persisted(streams: dict[str, list[object]], result: ReplayResult) -> None:
    decisions = [m for m in streams["decisions"] if isinstance(m, Decision)]
    assert decisions == result.decisions  # every decision persisted once, in order
    fills = [m for m in streams["fills"] if isinstance(m, Fill)]
    assert fills == result.fills


def test_paper_at_max_speed_equals_the_backtest(
    tmp_path: Path, day: tuple[str, pa.Table, ReplayResult]
) -> None:
    run, result, streams = _run(tmp_path, day)
    _same_trading(result, day[2])
    assert len(result.decisions) > 100 and result.fills
    _persisted(streams, result)
    assert len(streams["market"]) == day[1].num_rows + 1  # every trade and the end marker
    agents = run.status["agents"]
    assert agents.done and agents.events == day[1].num_rows
    assert agents.drops == 0 and agents.malformed == 0


def test_valkey_restart_mid_run_loses_nothing(
    tmp_path: Path, day: tuple[str, pa.Table, ReplayResult]
) -> None:
    restarted: list[int] = []

    def during(run: PaperRun) -> None:
        agents = run.status.get("agents")
        if not restarted and agents is not None and agents.events > 8_000:
            assert run.valkey.embedded is not None
            run.valkey.embedded.restart()
            restarted.append(agents.events)

    _, result, streams = _run(tmp_path, day, during)
    assert restarted, "the run ended before Valkey could be restarted"
    _same_trading(result, day[2])
    _persisted(streams, result)
    assert len(streams["market"]) == day[1].num_rows + 1


def test_killed_features_process_catches_up_from_the_stream(
    tmp_path: Path, day: tuple[str, pa.Table, ReplayResult]
) -> None:
    killed: list[int] = []

    def during(run: PaperRun) -> None:
        st = run.status.get("features")
        if not killed and st is not None and st.events > 5_000:
            assert run.supervisor is not None
            run.supervisor.kill("features")
            killed.append(st.events)

    run, result, streams = _run(tmp_path, day, during)
    assert killed
    assert run.supervisor is not None and run.supervisor.stages["features"].restarts == 1
    _same_trading(result, day[2])
    _persisted(streams, result)
    log = (tmp_path / "run" / "logs" / "features.log").read_text()
    assert log.count("recovered") >= 1 or "resum" in log


def test_killed_execution_restores_and_reconciles_before_new_orders(
    tmp_path: Path, day: tuple[str, pa.Table, ReplayResult]
) -> None:
    killed: list[tuple[int, int]] = []

    def during(run: PaperRun) -> None:
        ex = run.status.get("execution")
        if not killed and ex is not None and ex.orders >= 1:
            assert run.supervisor is not None
            run.supervisor.kill("execution")
            killed.append((ex.orders, ex.position))

    run, result, streams = _run(tmp_path, day, during)
    assert killed
    assert run.supervisor is not None and run.supervisor.stages["execution"].restarts == 1
    _same_trading(result, day[2])
    _persisted(streams, result)
    log = (tmp_path / "run" / "logs" / "execution.log").read_text()
    assert "restored through seq" in log
    assert "reconciliation failed" not in log
