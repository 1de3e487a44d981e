"""``quantumtrader paper``: the multi-process paper-trading system with a live status line."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.live import Live
from rich.text import Text

from quantumtrader.bus import Status
from quantumtrader.core.errors import BusError, ConfigError

__all__ = ["paper", "parse_speed", "status_line"]

console = Console()


def parse_speed(value: str) -> float:
    """``max`` → 0 (as fast as possible), else a positive multiple of market speed.

    Raises
    ------
    ConfigError
        If ``value`` is neither ``max`` nor a positive number.
    """
    if value.strip().lower() == "max":
        return 0.0
    try:
        speed = float(value)
    except ValueError:
        speed = -1.0
    if not speed > 0:
        raise ConfigError(f"--speed must be a positive number or 'max', got {value!r}")
    return speed


class _Rate:
    def __init__(self) -> None:
        self.last: tuple[float, int] | None = None
        self.rate = 0.0

    def update(self, events: int) -> float:
        now = time.monotonic()
        if self.last is not None and now - self.last[0] >= 0.5:
            self.rate = (events - self.last[1]) / (now - self.last[0])
            self.last = (now, events)
        elif self.last is None:
            self.last = (now, events)
        return self.rate


def status_line(status: dict[str, Status], rate: float, currency: str = "BRL") -> Text:
    """One line: events/s, lag, decisions, position, P&L, drops, spool, per-stage progress."""
    agents = status.get("agents")
    feed = status.get("feed")
    ex = status.get("execution")
    drops = sum(s.drops for s in status.values())
    spooled = sum(s.spooled for s in status.values())
    malformed = sum(s.malformed for s in status.values())
    t = Text()
    fed = feed.events if feed else 0
    done = agents.events if agents else 0
    t.append(f"feed {fed:,} ev  agents {done:,} ev  {rate:,.0f} ev/s  ")
    if agents is not None:
        t.append(f"lag {agents.lag_ns / 1e6:.2f} ms  ")
        if agents.last_ts:
            when = dt.datetime.fromtimestamp(agents.last_ts / 1e9, dt.UTC)
            t.append(f"market {when:%H:%M:%S} UTC  ")
        t.append(f"decisions {agents.decisions}  orders {agents.orders}  ")
    if ex is not None:
        t.append(f"fills {ex.fills}  ")
        t.append(f"pos {ex.position:+d}  ")
        style = "green" if ex.pnl >= 0 else "red"
        t.append(f"P&L {ex.pnl:+,.2f} {currency}  ", style=style)
    t.append(f"drops {drops}", style="yellow" if drops else "")
    if malformed:
        t.append(f"  malformed {malformed}", style="yellow")
    if spooled:
        t.append(f"  spooled {spooled}", style="yellow")
    return t


def paper(  # noqa: PLR0917 - typer maps one parameter per CLI option
    replay: Annotated[
        Path,
        typer.Option(
            "--replay",
            help="Data to replay in market time: a Profit 'Times & Trades' export or a lake.",
        ),
    ],
    speed: Annotated[
        str,
        typer.Option(help="Market seconds per wall second (1 = real time, 10 = 10×) or 'max'."),
    ] = "1",
    symbol: Annotated[str | None, typer.Option(help="Contract when DATA has several.")] = None,
    date: Annotated[str | None, typer.Option(help="Day YYYY-MM-DD when DATA has several.")] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="TOML: the backtest tables plus [bus] (host, ports, hwm), [streams] "
            "(MAXLEN, TTL), [valkey] (url, password, TLS) and [features]."
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Parent folder of the run folder (logs, spool, Valkey data).")
    ] = Path("runs"),
    port_base: Annotated[
        int | None,
        typer.Option(help="Shift every bus port so the first is this one (default 5555)."),
    ] = None,
    source: Annotated[
        str, typer.Option(help="Market-data source: 'replay' (ProfitDLL live feed: later).")
    ] = "replay",
) -> None:
    """Paper trading: feed, features, agents and execution as processes over ZeroMQ + Valkey.

    The feed replays DATA in market time; the features process publishes the feature
    vectors; the agents (specialists, coordinator, risk) decide; the execution process
    fills orders with the simulated broker. Everything is persisted to Valkey streams —
    a private embedded valkey-server in the run folder unless VALKEY_URL or [valkey] url
    is set. Ctrl-C stops every process cleanly, flushing what they hold. At 'max' speed
    the decisions and fills equal those of `quantumtrader backtest` on the same data.
    """
    from quantumtrader.cli.app import _parse_date  # noqa: PLC0415 - avoid an import cycle
    from quantumtrader.cli.backtest import load_trades  # noqa: PLC0415
    from quantumtrader.cli.paper import PaperRun, load_paper_config  # noqa: PLC0415
    from quantumtrader.model.instruments import spec_for  # noqa: PLC0415
    from quantumtrader.reports import HONESTY_NOTE, compute_metrics, metrics_rows  # noqa: PLC0415

    if source != "replay":
        raise ConfigError(
            f"--source {source!r} is not available yet; only 'replay' (the ProfitDLL live "
            "feed plugs in here)"
        )
    mult = parse_speed(speed)
    cfg = load_paper_config(config)
    if port_base is not None:
        cfg = msgspec.structs.replace(
            cfg, bus=msgspec.structs.replace(cfg.bus, ports=cfg.bus.ports.shifted(port_base))
        )
    sym, day, trades, quarantined = load_trades(replay, symbol, _parse_date(date))
    spec = spec_for(sym, cfg.instruments)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = out / f"paper_{sym}_{day}_{stamp}"
    console.print(
        f"paper run of {sym} {day}: {trades.num_rows:,} trades ({quarantined} quarantined), "
        f"speed {'max' if mult == 0 else f'{mult:g}x'}, run folder {run_dir}"
    )
    run = PaperRun(trades, sym, cfg, run_dir, speed=mult)
    rate = _Rate()
    interrupted = False
    run.start()
    console.print(f"valkey: {run.valkey.url}  bus: {cfg.bus.host} ports {cfg.bus.ports.ticks}+")
    try:
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            try:
                while run.poll(200):
                    agents = run.status.get("agents")
                    live.update(
                        status_line(
                            run.status, rate.update(agents.events if agents else 0), spec.currency
                        )
                    )
            except KeyboardInterrupt:
                interrupted = True
            live.update(status_line(run.status, rate.rate, spec.currency))
    finally:
        console.print("stopping: flushing every process…")
        run.stop()
    if run.error:
        raise BusError(run.error)
    if interrupted:
        console.print(f"[yellow]interrupted; streams and logs are in {run_dir}[/yellow]")
        raise typer.Exit(130)
    result = run.result()
    metrics = compute_metrics(result, spec.multiplier)
    for k, v in metrics_rows(metrics, result.currency):
        console.print(f"  {k:<28} {v:>14}")
    console.print(f"[yellow]{HONESTY_NOTE}[/yellow]")
    console.print(
        f"result: {run_dir / 'result.json'} (sha256 {result.digest()[:16]}…); "
        f"logs: {run_dir / 'logs'}"
    )
