"""Self-contained HTML backtest report (plotly, JavaScript embedded: works offline)."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from quantumtrader.core.timeutil import B3_TZ
from quantumtrader.engine.replay import ReplayResult
from quantumtrader.reports.metrics import Metrics

__all__ = ["HONESTY_NOTE", "metrics_rows", "write_html_report"]

HONESTY_NOTE = (
    "In-sample replay of the data shown, with default (untuned) parameters. Figures are net "
    "of modeled costs (fees per contract and slippage) but a single-day in-sample replay is "
    "not evidence of an edge: there is no out-of-sample period, no validation and one trial."
)


def _local(ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC).astimezone(B3_TZ).replace(tzinfo=None)


def money_prefix(currency: str) -> str:
    """How money is written: ``R$`` for BRL, else the currency code (``USD``, ``USDT``)."""
    return "R$" if currency == "BRL" else currency


def _fmt(value: float | int | None, kind: str = "brl", currency: str = "BRL") -> str:
    if value is None:
        return "n/a"
    if kind == "brl":
        return f"{money_prefix(currency)} {value:,.2f}"
    if kind == "pct":
        return f"{100 * value:.1f} %"
    if kind == "int":
        return f"{int(value):d}"
    return f"{value:.3f}"


def metrics_rows(m: Metrics, currency: str = "BRL") -> list[tuple[str, str]]:
    """``(label, formatted value)`` pairs shown by the CLI table and the HTML report.

    Money is written in ``currency`` (the instrument's; the metric fields keep their
    ``_brl`` names because B3 is the home market).
    """
    return [
        ("Net P&L (after fees and slippage)", _fmt(m.net_pnl_brl, currency=currency)),
        ("Gross P&L (after slippage, before fees)", _fmt(m.gross_pnl_brl, currency=currency)),
        ("Fees", _fmt(m.costs_brl, currency=currency)),
        ("Slippage cost (inside P&L)", _fmt(m.slippage_brl, currency=currency)),
        ("Round trips", _fmt(m.trades, "int")),
        ("Win rate", _fmt(m.win_rate, "pct")),
        ("Profit factor", _fmt(m.profit_factor, "num")),
        ("Average trade (net)", _fmt(m.avg_trade_brl, currency=currency)),
        ("Sharpe per trade (not annualized)", _fmt(m.sharpe_per_trade, "num")),
        ("Max drawdown", _fmt(m.max_drawdown_brl, currency=currency)),
        ("Exposure (time in a position)", _fmt(m.exposure, "pct")),
        ("Open position at end", _fmt(m.open_position, "int")),
    ]


def _figure(result: ReplayResult) -> go.Figure:
    fig = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        row_heights=[0.45, 0.2, 0.15, 0.2],
        subplot_titles=(
            f"{result.symbol} 1-minute close with entries and exits (local time)",
            f"Equity, {result.currency}, net of costs (realized + open)",
            f"Drawdown, {result.currency}",
            "Actionable signals per agent",
        ),
    )
    cx = [_local(c[0]) for c in result.candles]
    fig.add_trace(
        go.Candlestick(
            x=cx,
            open=[c[1] for c in result.candles],
            high=[c[2] for c in result.candles],
            low=[c[3] for c in result.candles],
            close=[c[4] for c in result.candles],
            name="price",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    for tag, symbol, color in (
        ("entry", "triangle-up", "#1f77b4"),
        ("take", "star", "#2ca02c"),
        ("stop", "x", "#d62728"),
        ("flatten", "square", "#7f7f7f"),
    ):
        fs = [f for f in result.fills if f.tag == tag]
        if not fs:
            continue
        fig.add_trace(
            go.Scatter(
                x=[_local(f.ts) for f in fs],
                y=[f.price for f in fs],
                mode="markers",
                name=f"{tag} fills",
                marker={"symbol": symbol, "size": 10, "color": color},
                text=[f"{f.order_id} {f.side.name} {f.qty} @ {f.price}" for f in fs],
            ),
            row=1,
            col=1,
        )
    # The curve starts flat at 0 at the first event, so an early loss shows as drawdown.
    ex = [_local(result.first_ts)] + [_local(e[0]) for e in result.equity]
    ey = [0.0] + [e[1] for e in result.equity]
    fig.add_trace(go.Scatter(x=ex, y=ey, name="equity", line={"color": "#1f77b4"}), row=2, col=1)
    peak = float("-inf")
    dd = []
    for v in ey:
        peak = max(peak, v)
        dd.append(v - peak)
    fig.add_trace(
        go.Scatter(x=ex, y=dd, name="drawdown", fill="tozeroy", line={"color": "#d62728"}),
        row=3,
        col=1,
    )
    agents = sorted({s.agent_id for s in result.signals})
    for action, color in (("buy", "#2ca02c"), ("sell", "#d62728")):
        ss = [s for s in result.signals if s.action.value == action]
        fig.add_trace(
            go.Scatter(
                x=[_local(s.ts) for s in ss],
                y=[s.agent_id for s in ss],
                mode="markers",
                marker={"size": 4, "color": color},
                name=f"{action} signals",
                text=[s.reason for s in ss],
            ),
            row=4,
            col=1,
        )
    fig.update_yaxes(categoryorder="array", categoryarray=agents, row=4, col=1)
    fig.update_layout(height=1100, xaxis_rangeslider_visible=False, template="plotly_white")
    return fig


def write_html_report(result: ReplayResult, metrics: Metrics, path: Path, title: str) -> Path:
    """Write the report to ``path`` (parents created) and return it.

    The page embeds plotly's JavaScript, so it opens without a network.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in metrics_rows(metrics, result.currency)
    )
    counts = "".join(
        f"<tr><th>{html.escape(agent)}</th><td>{c.get('buy', 0)}</td><td>{c.get('sell', 0)}</td>"
        f"<td>{c.get('hold', 0)}</td></tr>"
        for agent, c in sorted(result.signal_counts.items())
    )
    vetoes = sum(1 for r in result.risk_events if not r.approved)
    span = f"{_local(result.first_ts):%Y-%m-%d %H:%M:%S} – {_local(result.last_ts):%H:%M:%S}"
    body = _figure(result).to_html(full_html=False, include_plotlyjs=True)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
.note {{ background: #fff4e5; border-left: 4px solid #f0a030; padding: .8em 1em; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .3em .8em; text-align: left; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="note"><strong>Not evidence of an edge.</strong> {html.escape(HONESTY_NOTE)}</p>
<p>{result.n_events:,} events ({result.book_events:,} order-book deltas),
{html.escape(span)} (America/Sao_Paulo).
<strong>Fill model: {html.escape(result.fill_model)}</strong> —
{html.escape(result.fill_model_note)}.
Costs modeled: {money_prefix(result.currency)} {result.fee_per_contract:.2f} per contract per side,
slippage {result.slippage_ticks:g} tick(s) on market and stop fills.
{len(result.decisions)} actionable decisions ({vetoes} refused by risk or position),
{result.hold_decisions:,} hold decisions.</p>
<table>{rows}</table>
<h2>Signals per agent</h2>
<table><tr><th>agent</th><th>buy</th><th>sell</th><th>hold</th></tr>{counts}</table>
{body}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
