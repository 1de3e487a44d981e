"""The ``quantumtrader`` command.

Every user mistake (bad file, bad option, bad config) ends in one line on stderr and
exit code 1; a traceback means a bug.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from quantumtrader import __version__
from quantumtrader.core.errors import QuantumTraderError

__all__ = ["app", "main"]

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="quantumtrader",
    help=(
        "Order-flow trading of B3 futures (WDO, WIN, DOL, IND).\n\n"
        "Start with `quantumtrader demo`. Import Profit 'Times & Trades' exports with "
        "`quantumtrader data import FILE`, then `quantumtrader backtest lake/`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Import Profit exports into the Parquet lake and list it.")
app.add_typer(data_app, name="data")

LakeOpt = Annotated[
    Path,
    typer.Option(
        "--lake",
        envvar="QUANTUMTRADER_LAKE",
        help="Parquet lake folder (kind=trades/symbol=…/date=…).",
    ),
]


@contextmanager
def _progress(label: str, unit_total: int | None = None) -> Iterator[Progress]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    ) as prog:
        prog.add_task(label, total=unit_total)
        yield prog


def _version(value: bool) -> None:
    if value:
        console.print(f"quantumtrader {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
    )


@data_app.command("import")
def data_import(
    paths: Annotated[list[Path], typer.Argument(help="Profit export files (format A or B).")],
    lake: LakeOpt = Path("lake"),
) -> None:
    """Import Profit 'Times & Trades' exports (format auto-detected) into the lake.

    Import is idempotent (a day's partition is replaced, never duplicated) and atomic.
    Rows that fail validation go to quarantine.parquet next to their partition.
    """
    from quantumtrader.data import Lake, import_files  # noqa: PLC0415 - fast --help

    store = Lake(lake)
    total = sum(p.stat().st_size for p in paths if p.is_file())
    with _progress("importing", total) as prog:
        task = prog.task_ids[0]
        report = import_files(
            paths, store, progress=lambda done, _t: prog.update(task, completed=done)
        )
    table = Table(title=f"Import into {lake}")
    for col in ("file", "symbol", "date", "read", "stored", "quarantined"):
        table.add_column(
            col, justify="right" if col in ("read", "stored", "quarantined") else "left"
        )
    for row in report.rows:
        table.add_row(
            Path(row.file).name,
            row.symbol,
            str(row.day),
            f"{row.read:,}",
            f"{row.stored:,}",
            f"{row.quarantined:,}",
        )
    table.add_row(
        "total", "", "", f"{report.read:,}", f"{report.stored:,}", f"{report.quarantined:,}"
    )
    console.print(table)


@data_app.command("ls")
def data_ls(lake: LakeOpt = Path("lake")) -> None:
    """List the lake's partitions with row and quarantine counts."""
    from quantumtrader.data import Lake  # noqa: PLC0415 - fast --help

    parts = Lake(lake).partitions("trades")
    if not parts:
        console.print(f"{lake}: empty (import files with `quantumtrader data import FILE`)")
        return
    table = Table(title=f"Lake {lake}")
    for col in ("kind", "symbol", "date", "rows", "quarantined", "MB"):
        table.add_column(col)
    for p in parts:
        table.add_row(
            p.kind,
            p.symbol,
            str(p.day),
            f"{p.rows:,}",
            f"{p.quarantined:,}",
            f"{p.bytes / 1e6:.2f}",
        )
    console.print(table)


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from exc


def _backtest(
    data: Path, symbol: str | None, date: str | None, config: Path | None, out: Path
) -> None:
    from quantumtrader.cli.backtest import load_trades, run_backtest, write_outputs  # noqa: PLC0415
    from quantumtrader.cli.config import load_config  # noqa: PLC0415
    from quantumtrader.reports import HONESTY_NOTE, metrics_rows  # noqa: PLC0415

    cfg = load_config(config)
    sym, day, trades, quarantined = load_trades(data, symbol, _parse_date(date))
    with _progress(f"replaying {sym} {day}", trades.num_rows) as prog:
        task = prog.task_ids[0]
        result, metrics = run_backtest(
            trades, sym, cfg, progress=lambda done, _t: prog.update(task, completed=done)
        )
    target = out / f"{sym}_{day}"
    report, result_json = write_outputs(
        result, metrics, target, f"QuantumTrader backtest {sym} {day}"
    )
    table = Table(
        title=f"Backtest {sym} {day} — {result.n_events:,} trades ({quarantined} quarantined)"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in metrics_rows(metrics):
        table.add_row(k, v)
    console.print(table)
    console.print(f"[yellow]{HONESTY_NOTE}[/yellow]")
    console.print(f"report: {report}\nresult: {result_json} (sha256 {result.digest()[:16]}…)")


@app.command()
def backtest(
    data: Annotated[Path, typer.Argument(help="A Profit export file, or a lake folder.")],
    symbol: Annotated[
        str | None, typer.Option(help="Contract, e.g. WDOU25 (needed when DATA has several).")
    ] = None,
    date: Annotated[
        str | None, typer.Option(help="Trading day YYYY-MM-DD (needed when DATA has several).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="Backtest TOML ([replay], [risk], [broker], [orderflow], [trend], [coordinator])."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for report.html and result.json.")] = Path(
        "results"
    ),
) -> None:
    """Replay one day through specialists → coordinator → risk → simulated broker.

    Prints a summary and writes an offline HTML report (price with entries/exits,
    equity net of costs, drawdown, signals per agent) and a byte-stable result.json.
    """
    _backtest(data, symbol, date, config, out)


@app.command()
def demo(
    data: Annotated[Path | None, typer.Option(help="Folder or file with a Profit export.")] = None,
    lake: LakeOpt = Path("lake"),
    out: Annotated[Path, typer.Option(help="Folder for the report.")] = Path("results"),
) -> None:
    """Import the real B3 sample day into the lake and backtest it.

    Looks in --data, else $QUANTUMTRADER_SAMPLE_DATA, else ../shared/data/b3_dol_tt_20181105.
    """
    from quantumtrader.data import Lake, import_files  # noqa: PLC0415 - fast --help

    src = data or Path(
        os.environ.get("QUANTUMTRADER_SAMPLE_DATA", "../shared/data/b3_dol_tt_20181105")
    )
    files = sorted(src.glob("*.csv")) + sorted(src.glob("*.txt")) if src.is_dir() else [src]
    files = [f for f in files if f.is_file()]
    if not files:
        raise QuantumTraderError(
            f"no Profit export found at {src}; run `quantumtrader demo --data PATH` "
            "with a 'Times & Trades' export (or set QUANTUMTRADER_SAMPLE_DATA)"
        )
    store = Lake(lake)
    report = import_files(files, store)
    console.print(
        f"imported {report.stored:,} trades ({report.quarantined:,} quarantined) into {lake}"
    )
    row = report.rows[0]
    config: Path | None = None
    if row.symbol.startswith("DOL"):
        config = Path(str(resources.files("quantumtrader.cli").joinpath("demo_dol.toml")))
        console.print(f"config: {config} (risk limits scaled to one DOL lot)")
    _backtest(lake, row.symbol, row.day.isoformat(), config, out)


@app.command()
def instruments(
    file: Annotated[Path | None, typer.Option("--instruments", help="Override TOML.")] = None,
) -> None:
    """Show instrument specs, fees per contract and where each default comes from."""
    from quantumtrader.model import contract_code, load_instruments  # noqa: PLC0415

    table = Table(title="Instruments (fees: BRL per contract per side)")
    for col in ("root", "tick", "BRL/pt", "lot", "fees", "front today", "fee source"):
        table.add_column(col)
    today = dt.date.today()
    for root, s in load_instruments(str(file) if file else None).items():
        table.add_row(
            root,
            f"{s.tick_size:g}",
            f"{s.point_value:g}",
            str(s.lot_size),
            f"{s.fee_per_contract:.2f}",
            contract_code(root, today),
            s.fee_source,
        )
    console.print(table)


def main() -> None:
    """Entry point: run the app, turning user errors into one line and exit code 1."""
    try:
        app(standalone_mode=False)
    except QuantumTraderError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True, markup=True)
        sys.exit(1)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
