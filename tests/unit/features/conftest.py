"""Fixtures for the feature tests: the real B3 DOL day, loaded by a small local reader.

The data package's parser is written elsewhere; this helper only needs the four columns
kernels consume (``ts`` int64 ns UTC, ``price``, ``qty`` float64, ``side`` int8).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

DAY_DIR = "b3_dol_tt_20181105"
DAY_FILE = "DOLZ18_Trade_05-11-2018.csv"
UTC_OFFSET = dt.timedelta(hours=2)  # BRST (UTC-02:00) on 2018-11-05


def _day_path() -> Path:
    """The CSV: ``$QUANTUMTRADER_SAMPLE_DATA`` (the day folder) or ../shared/data/<day>."""
    env = os.environ.get("QUANTUMTRADER_SAMPLE_DATA")
    if env:
        return Path(env) / DAY_FILE
    return Path(__file__).resolve().parents[3].parent / "shared" / "data" / DAY_DIR / DAY_FILE


def load_dol_day(path: Path) -> dict[str, np.ndarray[Any, Any]]:
    """Read the Profit export (latin-1, ';', newest first) into execution-order arrays."""
    lines = path.read_bytes().decode("latin-1").splitlines()
    lines.reverse()
    ts, price, qty, side = [], [], [], []
    for line in lines:
        if not line.strip():
            continue
        f = line.split(";")
        d, m, y = (int(x) for x in f[1].split("/"))
        hh, mm, ss = (int(x) for x in f[2].split(":"))
        local = dt.datetime(y, m, d, hh, mm, ss, tzinfo=dt.UTC)
        ts.append(int((local + UTC_OFFSET).timestamp()) * 1_000_000_000)
        price.append(float(f[4].replace(",", ".")))
        qty.append(float(int(f[5])))
        side.append(1 if f[7] == "Comprador" else -1 if f[7] == "Vendedor" else 0)
    return {
        "ts": np.asarray(ts, dtype=np.int64),
        "price": np.asarray(price, dtype=np.float64),
        "qty": np.asarray(qty, dtype=np.float64),
        "side": np.asarray(side, dtype=np.int8),
    }


@pytest.fixture(scope="session")
def dol_day() -> dict[str, np.ndarray[Any, Any]]:
    """The 31,259 trades of DOLZ18 on 2018-11-05 in execution order."""
    path = _day_path()
    if not path.exists():
        pytest.skip(f"sample data not found at {path} (set QUANTUMTRADER_SAMPLE_DATA)")
    return load_dol_day(path)


@pytest.fixture(scope="session")
def dol_candles(dol_day: dict[str, np.ndarray[Any, Any]]) -> pl.DataFrame:
    """One-minute candles of the real day (batch path)."""
    from quantumtrader.features import candles_batch

    return candles_batch(dol_day["ts"], dol_day["price"], dol_day["qty"], dol_day["side"])
