"""Fixtures for the data-layer tests: the real B3 sample day and small file builders."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from quantumtrader.data import DayBatch, read_days

SAMPLE_NAME = "DOLZ18_Trade_05-11-2018.csv"


def sample_dir() -> Path:
    env = os.environ.get("QUANTUMTRADER_SAMPLE_DATA")
    if env:
        p = Path(env)
        return p if p.is_dir() else p.parent
    return Path(__file__).parents[3].parent / "shared" / "data" / "b3_dol_tt_20181105"


@pytest.fixture(scope="session")
def sample_a() -> Path:
    """The real format-A file (skips when absent)."""
    path = sample_dir() / SAMPLE_NAME
    if not path.is_file():
        pytest.skip(f"real sample data not found at {path} (set QUANTUMTRADER_SAMPLE_DATA)")
    return path


@pytest.fixture(scope="session")
def real_day(sample_a: Path) -> DayBatch:
    """The parsed real day."""
    return read_days(sample_a)[0]


def shift_days(table: pa.Table, days: int) -> pa.Table:
    """The same trades ``days`` later (UTC shift; fine away from DST changes)."""
    shift = pa.scalar(days * 86_400 * 10**9, pa.duration("ns"))
    out = table.set_column(0, "ts_event", pc.add(table["ts_event"], shift))
    return out.set_column(1, "ts_init", pc.add(table["ts_init"], shift))


@pytest.fixture(name="shift_days")
def shift_days_fixture() -> Callable[[pa.Table, int], pa.Table]:
    """:func:`shift_days` as a fixture (test modules do not import conftest)."""
    return shift_days


@pytest.fixture
def a_lines(sample_a: Path) -> Callable[[], list[bytes]]:
    """Returns the raw lines (with CRLF) of the real file."""
    return lambda: sample_a.read_bytes().splitlines(keepends=True)
