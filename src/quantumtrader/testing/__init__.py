"""Conformance checks and real-data fixtures shared by the tests of every package.

This package sits outside the layers (DESIGN.md section 2): it may import any layer,
and no layer imports it.
"""

from quantumtrader.testing.feature_data import b3_day_input, binance_input, shared_data_dir

__all__ = ["b3_day_input", "binance_input", "shared_data_dir"]
