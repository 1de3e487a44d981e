"""Shared test configuration: hypothesis profiles and the real sample data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI runs on 2 shared cores with cold numba caches: time limits per example would
# only measure the machine, so deadlines are off.
settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("ci", parent=settings.get_profile("default"), max_examples=60)
settings.load_profile("ci" if os.environ.get("CI") else "default")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def sample_dir() -> Path:
    """Folder of the real B3 day (``QUANTUMTRADER_SAMPLE_DATA`` overrides)."""
    env = os.environ.get("QUANTUMTRADER_SAMPLE_DATA")
    return Path(env) if env else SHARED_DATA / "b3_dol_tt_20181105"


@pytest.fixture(scope="session")
def b3_day_file() -> Path:
    """The real 2018-11-05 DOLZ18 Profit export; skips when the data is absent."""
    folder = sample_dir()
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not files:
        pytest.skip(f"real B3 sample data not found in {folder} (set QUANTUMTRADER_SAMPLE_DATA)")
    return files[0]


def need_dataset(name: str) -> Path:
    """Folder ``../shared/data/<name>``; skips the calling test when it is absent."""
    folder = SHARED_DATA / name
    if not folder.is_dir():
        pytest.skip(f"sample data {name!r} not found in {SHARED_DATA}")
    return folder


@pytest.fixture(scope="session")
def lobster_dir() -> Path:
    """LOBSTER NASDAQ 2012-06-21 sample zips (skips when absent)."""
    return need_dataset("lobster_nasdaq_20120621")


@pytest.fixture(scope="session")
def binance_dir() -> Path:
    """Binance raw L2 + trades capture of 2024-08-08 (skips when absent)."""
    return need_dataset("binance_raw_l2_20240808")


@pytest.fixture(scope="session")
def sierra_dir() -> Path:
    """CME ES Sierra Chart per-trade depth export (skips when absent)."""
    return need_dataset("cme_es_sierra_tbt")


@pytest.fixture(scope="session")
def wdo_l1_dir() -> Path:
    """B3 WDO level-1 poll sample of 2025-08-11 (skips when absent)."""
    return need_dataset("b3_wdo_l1_book_20250811")
