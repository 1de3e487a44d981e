"""Layer 8: metrics and HTML reports."""

from quantumtrader.reports.html import HONESTY_NOTE, metrics_rows, write_html_report
from quantumtrader.reports.metrics import Metrics, compute_metrics, max_drawdown

__all__ = [
    "HONESTY_NOTE",
    "Metrics",
    "compute_metrics",
    "max_drawdown",
    "metrics_rows",
    "write_html_report",
]
