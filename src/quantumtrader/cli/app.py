"""The ``quantumtrader`` command.

Every user mistake (bad file, bad option, bad config) ends in one line on stderr and
exit code 1; a traceback means a bug.
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
from quantumtrader.cli.features_cmd import features_app
from quantumtrader.cli.paper_cmd import paper
from quantumtrader.core.errors import QuantumTraderError

if TYPE_CHECKING:
    from quantumtrader.engine import ReplayResult
    from quantumtrader.reports import Metrics

__all__ = ["ExchangeMode", "app", "main"]


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's usage-error base class, and the one of typer's bundled click copy if any."""
    errors: list[type[Exception]] = [click.ClickException]
    try:
        bundled = importlib.import_module("typer._click.exceptions")
    except ImportError:  # older typer releases use click itself
        return tuple(errors)
    errors.append(bundled.ClickException)
    return tuple(errors)


_ABORT = (click.exceptions.Abort, typer.Abort)
_EXIT = (click.exceptions.Exit, typer.Exit)
_USAGE = _usage_errors()


class ExchangeMode(enum.StrEnum):
    """Simulated exchange modes (``--mode``)."""

    ACCURATE = "accurate"
    FAST = "fast"


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
data_app = typer.Typer(
    help="Import Profit exports and order-book captures into the Parquet lake and list it."
)
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
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Profit exports (format A or B) and/or order-book sources: LOBSTER zips, "
            "Binance captures (*.gz), Sierra Chart depth exports, B3 level-1 CSVs."
        ),
    ],
    lake: LakeOpt = Path("lake"),
    sierra_symbol: Annotated[
        str, typer.Option(help="Instrument of Sierra Chart exports (they do not name it).")
    ] = "ES",
) -> None:
    """Import trade exports and order-book captures (formats auto-detected) into the lake.

    Import is idempotent (a day's partition is replaced, never duplicated) and atomic.
    Rows that fail validation go to quarantine.parquet next to their partition.
    Book sources fill kind=book (and kind=quotes, kind=trades) partitions; Binance files
    of one symbol (e.g. spot btcusdt_20240808.gz + btcusdt_20240809.gz) are read as one
    capture, so pass them together.
    """
    from quantumtrader.data import (  # noqa: PLC0415 - fast --help
        Lake,
        detect_book_source,
        import_files,
        import_market_data,
        read_book_source,
    )

    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise QuantumTraderError(f"no such file: {missing[0]}")
    book_files = [p for p in paths if detect_book_source(p) is not None]
    trade_files = [p for p in paths if p not in book_files]
    store = Lake(lake)
    if trade_files:
        total = sum(p.stat().st_size for p in trade_files)
        with _progress("importing trades", total) as prog:
            task = prog.task_ids[0]
            report = import_files(
                trade_files, store, progress=lambda done, _t: prog.update(task, completed=done)
            )
        table = Table(title=f"Trade import into {lake}")
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
    if book_files:
        with _progress("reading book sources", len(book_files)) as prog:
            reads = read_book_source(book_files, sierra_symbol=sierra_symbol)
            prog.update(prog.task_ids[0], completed=len(book_files))
        table = Table(title=f"Book import into {lake}")
        for col in ("source", "symbol", "kind", "date", "rows", "quarantined"):
            table.add_column(col, justify="right" if col in ("rows", "quarantined") else "left")
        for md in reads:
            for part in import_market_data(md, store):
                table.add_row(
                    md.source,
                    part.symbol,
                    part.kind,
                    str(part.day),
                    f"{part.rows:,}",
                    f"{part.quarantined:,}",
                )
            for note in md.notes:
                logging.getLogger(__name__).info("%s %s: %s", md.source, md.symbol, note)
        console.print(table)
        for md in reads:
            if md.book.num_rows == 0 and md.source != "lobster":
                console.print(
                    f"[yellow]{md.source} {md.symbol}: no order book stored[/yellow] — "
                    + "; ".join(n for n in md.notes if "cannot" in n or "never" in n)
                )
            if md.quarantine.num_rows:
                console.print(
                    f"[yellow]{md.source} {md.symbol}: {md.quarantine.num_rows:,} rows "
                    "quarantined[/yellow] (see quarantine.parquet; -v lists the reader's notes)"
                )


@data_app.command("ls")
def data_ls(lake: LakeOpt = Path("lake")) -> None:
    """List the lake's partitions with row and quarantine counts."""
    from quantumtrader.data import Lake  # noqa: PLC0415 - fast --help

    store = Lake(lake)
    parts = [p for kind in ("trades", "book", "quotes") for p in store.partitions(kind)]
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


def _summary(result: ReplayResult, metrics: Metrics, title: str, out_dir: Path) -> None:
    from quantumtrader.cli.backtest import write_outputs  # noqa: PLC0415
    from quantumtrader.reports import HONESTY_NOTE, metrics_rows  # noqa: PLC0415

    report, result_json = write_outputs(result, metrics, out_dir, f"QuantumTrader backtest {title}")
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in metrics_rows(metrics, result.currency):
        table.add_row(k, v)
    console.print(table)
    console.print(f"fill model: {result.fill_model} — {result.fill_model_note}")
    console.print(f"[yellow]{HONESTY_NOTE}[/yellow]")
    console.print(f"report: {report}\nresult: {result_json} (sha256 {result.digest()[:16]}…)")


def _backtest(
    data: Path,
    symbol: str | None,
    date: str | None,
    config: Path | None,
    out: Path,
    *,
    book: bool = True,
    mode: str | None = None,
) -> None:
    import msgspec  # noqa: PLC0415

    from quantumtrader.cli.backtest import (  # noqa: PLC0415
        load_events,
        load_trades,
        run_backtest,
        run_event_backtest,
    )
    from quantumtrader.cli.config import load_config  # noqa: PLC0415

    cfg = load_config(config)
    if mode is not None:
        cfg = msgspec.structs.replace(
            cfg, exchange=msgspec.structs.replace(cfg.exchange, mode=mode)
        )
    day = _parse_date(date)
    if not book and data.is_file():
        from quantumtrader.data import detect_book_source  # noqa: PLC0415

        if detect_book_source(data) is not None:
            raise QuantumTraderError(
                f"{data}: --no-book replays trades from a Profit export or a lake; import "
                f"this order-book file first (quantumtrader data import {data}) and run "
                "`quantumtrader backtest LAKE --no-book`"
            )
    source = load_events(data, symbol, day) if book else None
    if source is not None:
        span = f"{source.days[0]}" + (f"..{source.days[-1]}" if len(source.days) > 1 else "")
        with _progress(f"replaying {source.symbol} {span} (trades + book)", source.total) as prog:
            task = prog.task_ids[0]
            result, metrics = run_event_backtest(
                source, cfg, progress=lambda done, _t: prog.update(task, completed=done)
            )
        title = (
            f"{source.symbol} {span} — {result.n_events:,} events, {result.book_events:,} book "
            f"deltas ({source.quarantined} quarantined)"
        )
        _summary(result, metrics, title, out / f"{source.symbol}_{span}")
        return
    sym, tday, trades, quarantined = load_trades(data, symbol, day)
    with _progress(f"replaying {sym} {tday}", trades.num_rows) as prog:
        task = prog.task_ids[0]
        result, metrics = run_backtest(
            trades, sym, cfg, progress=lambda done, _t: prog.update(task, completed=done)
        )
    title = f"{sym} {tday} — {result.n_events:,} trades ({quarantined} quarantined)"
    _summary(result, metrics, title, out / f"{sym}_{tday}")


@app.command()
def backtest(  # noqa: PLR0917 - typer maps one parameter per CLI option
    data: Annotated[
        Path,
        typer.Argument(
            help="A Profit export, an order-book source file (LOBSTER zip, Binance capture, "
            "Sierra Chart export, B3 level-1 CSV), or a lake folder."
        ),
    ],
    symbol: Annotated[
        str | None, typer.Option(help="Contract, e.g. WDOU25 (needed when DATA has several).")
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            help="Day YYYY-MM-DD (needed when DATA has several trade days; a lake with book "
            "data replays every day of the symbol when omitted)."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="Backtest TOML ([replay], [risk], [broker], [exchange], [orderflow], [trend], "
            "[coordinator])."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for report.html and result.json.")] = Path(
        "results"
    ),
    book: Annotated[
        bool,
        typer.Option(
            "--book/--no-book",
            help="Use order-book data when DATA has it (simulated exchange); --no-book "
            "forces the trade-based fill model.",
        ),
    ] = True,
    mode: Annotated[
        ExchangeMode | None,
        typer.Option(
            help="Simulated exchange mode: accurate (queue position + latency) or fast "
            "(no queue, no latency; for parameter searches). Overrides [exchange] mode.",
        ),
    ] = None,
) -> None:
    """Replay data through specialists → coordinator → risk → simulated broker or exchange.

    With order-book data (a book source file, or kind=book partitions in the lake) the
    simulated exchange matches against the replayed book: market orders walk the depth,
    limit orders queue, latencies apply. Without it, fills come from the trades and the
    report says so. Prints a summary and writes an offline HTML report and a byte-stable
    result.json.
    """
    _backtest(data, symbol, date, config, out, book=book, mode=None if mode is None else mode.value)


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


app.add_typer(features_app, name="features")
app.command()(paper)


def main() -> None:
    """Entry point: run the app, turning user errors into one line and exit code 1."""
    try:
        app(standalone_mode=False)
    except QuantumTraderError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True, markup=True)
        sys.exit(1)
    except _ABORT:
        err_console.print("aborted")
        sys.exit(130)
    except _EXIT as exc:
        sys.exit(exc.exit_code)
    except _USAGE as exc:
        exc.show()  # type: ignore[attr-defined]  # both copies of ClickException have it
        sys.exit(int(getattr(exc, "exit_code", 2)))
