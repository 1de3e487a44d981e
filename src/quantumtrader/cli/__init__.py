"""Layer 8 (entry point): the ``quantumtrader`` command and the backtest workflow."""

from quantumtrader.cli.app import app, main

__all__ = ["app", "main"]
