"""Instrument specs and user overrides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from quantumtrader.core import ConfigError
from quantumtrader.model import load_instruments, spec_for


def test_shipped_specs_match_design() -> None:
    specs = load_instruments()
    assert (specs["WDO"].tick_size, specs["WDO"].point_value) == (0.5, 10.0)
    assert (specs["DOL"].tick_size, specs["DOL"].point_value) == (0.5, 50.0)
    assert (specs["WIN"].tick_size, specs["WIN"].point_value) == (5.0, 0.2)
    assert (specs["IND"].tick_size, specs["IND"].point_value) == (5.0, 1.0)
    for spec in specs.values():
        assert spec.fee_source
        assert spec.fee_per_contract == pytest.approx(
            spec.fee_exchange + spec.fee_registration + spec.fee_brokerage
        )


def test_override_changes_only_given_keys(tmp_path: Path) -> None:
    f = tmp_path / "my.toml"
    f.write_text("[WDO]\nfee_brokerage = 0.5\n")
    spec = spec_for("WDOU25", str(f))
    assert spec.fee_brokerage == 0.5
    assert spec.tick_size == 0.5


def test_bad_override_is_a_config_error(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("[WDO]\ntick_size = 'half'\n")
    with pytest.raises(ConfigError, match="WDO"):
        load_instruments(str(f))
    with pytest.raises(ConfigError, match="not found"):
        load_instruments(str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="unknown instrument root"):
        spec_for("XYZ")


def test_rounding_and_hours() -> None:
    spec = spec_for("WDO")
    assert spec.round_to_tick(5000.26) == 5000.5
    assert spec.to_ticks(5000.5) == 10001
    h = spec.hours_on(dt.date(2018, 11, 5))
    assert (h.open_seconds(), h.close_seconds()) == (9 * 3600, 18 * 3600 + 15 * 60)
