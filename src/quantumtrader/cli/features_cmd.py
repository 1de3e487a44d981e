"""``quantumtrader features``: compute the feature library over data, list it, write its docs."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from quantumtrader.core.errors import ConfigError, DataError
from quantumtrader.data.lake import Lake
from quantumtrader.data.reader import iter_days
from quantumtrader.engine.feature_input import iter_feature_inputs
from quantumtrader.features.catalogue import catalogue_markdown
from quantumtrader.features.engine import FeatureEngine, interval_ends
from quantumtrader.features.group import GroupContext
from quantumtrader.features.groups import GROUP_CLASSES
from quantumtrader.features.inputs import FeatureInput
from quantumtrader.model.instruments import spec_for

__all__ = ["compute_features", "features_app", "parse_every"]

Array = np.ndarray[Any, Any]
_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000}

features_app = typer.Typer(
    help=(
        "The order-flow feature library: compute it over a Profit export, an order-book "
        "capture or a lake; list the features; write the catalogue."
    ),
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)


def parse_every(text: str) -> int | str:
    """``trade``, ``event`` or a duration (``500ms``, ``1s``, ``5m``) in ns.

    Raises
    ------
    ConfigError
        If the text is neither.
    """
    if text in ("trade", "event"):
        return text
    m = re.fullmatch(r"(\d+)(ns|us|ms|s|m)", text.strip())
    if not m or int(m.group(1)) == 0:
        raise ConfigError(
            f"--every {text!r}: use 'trade', 'event' or a duration like 100ms, 1s, 5m"
        )
    return int(m.group(1)) * _UNITS[m.group(2)]


def _trade_inputs(
    data: Path, symbol: str | None, day: dt.date | None
) -> tuple[str, int, Callable[[], Iterator[FeatureInput]]]:
    """Trades-only inputs (Profit export or trades lake), one per day, in order."""
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
        syms = sorted({p.symbol for p in parts})
        if len(syms) > 1:
            raise DataError(f"{data}: choose one with --symbol among {', '.join(syms)}")
        parts.sort(key=lambda p: p.day)

        def from_lake() -> Iterator[FeatureInput]:
            for p in parts:
                yield FeatureInput.from_trade_table(lake.read_trades(p.symbol, p.day))

        return syms[0], sum(p.rows for p in parts), from_lake
    batches = [
        b
        for b in iter_days(data)
        if (symbol is None or b.symbol == symbol) and (day is None or b.day == day)
    ]
    if not batches:
        raise DataError(f"{data}: no trades for symbol={symbol} date={day}")
    syms = sorted({b.symbol for b in batches})
    if len(syms) > 1:
        raise DataError(f"{data}: choose one with --symbol among {', '.join(syms)}")
    return (
        syms[0],
        sum(b.table.num_rows for b in batches),
        lambda: (FeatureInput.from_trade_table(b.table) for b in batches),
    )


def compute_features(
    inputs: Iterator[FeatureInput],
    engine: FeatureEngine,
    every: int | str,
    on_events: Callable[[int], None] | None = None,
) -> pl.DataFrame:
    """Run ``engine`` over consecutive inputs and sample it; one frame for the whole span.

    ``every`` is ``"trade"``, ``"event"`` or a bar length in ns (one row at the end of
    every interval that holds an event; an interval cut by an input border is sampled
    once, after both parts).
    """
    frames: list[pl.DataFrame] = []
    pending: FeatureInput | None = None
    carried = np.zeros(0, dtype=np.int64)

    def flush(inp: FeatureInput, next_first: int | None) -> None:
        nonlocal carried
        if isinstance(every, str):
            frames.append(engine.run(inp, each=every))
        else:
            pool = np.unique(np.concatenate([carried, interval_ends(inp.ts, every)]))
            cut = pool.shape[0] if next_first is None else int(np.searchsorted(pool, next_first))
            frames.append(engine.run(inp, at=pool[:cut]))
            carried = pool[cut:]
        if on_events is not None:
            on_events(inp.n)

    for inp in inputs:
        if inp.n == 0:
            continue
        if pending is not None:
            flush(pending, int(inp.ts[0]))
        pending = inp
    if pending is not None:
        flush(pending, None)
    if not frames:
        return pl.DataFrame({"ts": pl.Series([], dtype=pl.Datetime("ns", "UTC"))})
    return pl.concat(frames)


EveryOpt = Annotated[
    str,
    typer.Option(
        "--every",
        help="Sampling: a bar length (100ms, 1s, 1m: one row per bar holding events), "
        "'trade' (after every trade) or 'event' (after every trade and book message).",
    ),
]


@features_app.command("compute")
def features_compute(  # noqa: PLR0917 - typer maps one parameter per CLI option
    data: Annotated[
        Path,
        typer.Argument(help="Profit export, order-book capture (Binance, LOBSTER, ...) or lake."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")],
    symbol: Annotated[
        str | None, typer.Option(help="Symbol to compute (when DATA has several).")
    ] = None,
    date: Annotated[str | None, typer.Option(help="Only this day (YYYY-MM-DD).")] = None,
    every: EveryOpt = "1s",
    groups: Annotated[
        str | None,
        typer.Option(help=f"Comma-separated groups (default all: {', '.join(GROUP_CLASSES)})."),
    ] = None,
    book: Annotated[
        bool, typer.Option("--book/--no-book", help="Use order-book data when DATA has it.")
    ] = True,
) -> None:
    """Compute features over DATA and write one row per sample to a Parquet file.

    Columns: ts (sample time, UTC), symbol, then every feature (Float64, NaN during
    warm-up; see docs/features.md). A value at ts uses only events with ts_event <= ts.
    Book features need order-book data (a Binance/LOBSTER/Sierra capture or a lake with
    kind=book); on trades-only data they are NaN.

    Example: quantumtrader features compute DOLZ18_Trade_05-11-2018.csv -o dol.parquet --every 1s
    """
    from quantumtrader.cli.app import _parse_date, _progress  # noqa: PLC0415 - shared helpers
    from quantumtrader.cli.backtest import load_events  # noqa: PLC0415 - heavy import

    if not data.exists():
        raise DataError(f"no such file or folder: {data}")
    step = parse_every(every)
    day = _parse_date(date)
    chosen = None if groups is None else [g.strip() for g in groups.split(",") if g.strip()]
    source = load_events(data, symbol, day) if book else None
    if source is not None:
        sym, total = source.symbol, source.total
        spec = spec_for(sym)

        def inputs() -> Iterator[FeatureInput]:
            return iter_feature_inputs(source.chunks(), spec.tick_size, sym)

        label = f"features {sym} ({source.label})"
    else:
        sym, total, inputs = _trade_inputs(data, symbol, day)
        label = f"features {sym} (trades)"
    engine = FeatureEngine(chosen, ctx=GroupContext.for_symbol(sym))
    with _progress(label, total) as prog:
        task = prog.tasks[0].id
        frame = compute_features(inputs(), engine, step, lambda n: prog.advance(task, n))
        prog.update(task, completed=total)
    frame = frame.insert_column(1, pl.lit(sym).alias("symbol"))
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(out)
    err_console.print(
        f"wrote {out}: {frame.height:,} rows x {engine.n_features} features "
        f"({len(engine.groups)} groups) for {sym}"
    )


@features_app.command("list")
def features_list(
    group: Annotated[str | None, typer.Option(help="Only this group.")] = None,
) -> None:
    """List the features with units and window (the full catalogue is docs/features.md)."""
    engine = FeatureEngine(None if group is None else [group], ctx=GroupContext(tick_size=0.5))
    table = Table(title=f"{engine.n_features} features")
    for col in ("name", "group", "units", "window", "inputs"):
        table.add_column(col)
    for d in engine.docs:
        table.add_row(d.name, d.group, d.units, d.window, d.inputs)
    console.print(table)


@features_app.command("docs")
def features_docs(
    out: Annotated[Path, typer.Option("--out", "-o", help="Markdown file to write.")] = Path(
        "docs/features.md"
    ),
) -> None:
    """Write the feature catalogue (every feature's formula, units, window and source)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(catalogue_markdown(), encoding="utf-8")
    err_console.print(f"wrote {out}")
