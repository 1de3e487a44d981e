"""Contract codes and expiries against the BVMF calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from quantumtrader.core import ConfigError
from quantumtrader.model import contract_code, expiry, parse_contract


@pytest.mark.parametrize("day", [dt.date(2025, 8, d) for d in (1, 4, 11, 15, 29)])
def test_wdo_front_contract_in_august_2025_is_u25(day: dt.date) -> None:
    assert contract_code("WDO", day) == "WDOU25"


def test_dol_sample_day() -> None:
    assert contract_code("DOL", dt.date(2018, 11, 5)) == "DOLZ18"


def test_wdo_expiry_skips_holidays() -> None:
    # 2018-11-01 is a Thursday and a business day; 2018-11-02 (Finados) is a holiday.
    assert expiry("WDO", 2018, 11) == dt.date(2018, 11, 1)
    # 2026-01-01 is a holiday: the January contract expires on the 2nd.
    assert expiry("WDO", 2026, 1) == dt.date(2026, 1, 2)


def test_win_even_months_wednesday_closest_to_15th() -> None:
    assert expiry("WIN", 2025, 8) == dt.date(2025, 8, 13)
    assert contract_code("WIN", dt.date(2025, 8, 13)) == "WINQ25"
    assert contract_code("WIN", dt.date(2025, 8, 14)) == "WINV25"
    assert contract_code("IND", dt.date(2025, 7, 1)) == "INDQ25"
    with pytest.raises(ConfigError):
        expiry("WIN", 2025, 9)


def test_parse_contract() -> None:
    assert parse_contract("WDOU25") == ("WDO", 2025, 9)
    with pytest.raises(ConfigError):
        parse_contract("WDO25")
