"""B3 futures contract codes and expiries.

Codes are root + month letter + two-digit year (``WDOU25``). Business days and
holidays come from ``exchange_calendars`` (``BVMF``).

* WDO/DOL list every month and expire on the first business day of the contract
  month; the traded (front) contract on a date is the one with the earliest expiry
  strictly after that date, so throughout August 2025 it is ``WDOU25``.
* WIN/IND list even months and expire on the Wednesday closest to the 15th of the
  contract month (the next business day if that is a holiday); the front contract
  is the one with the earliest expiry on or after the date.

References
----------
B3, contract specifications of "Futuro de Reais por Dolar Comercial" and "Futuro de
Ibovespa" (vencimento).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from quantumtrader.core.errors import ConfigError
from quantumtrader.model.instruments import spec_for

__all__ = ["MONTH_CODES", "contract_code", "expiry", "parse_contract"]

MONTH_CODES = "FGHJKMNQUVXZ"


@lru_cache(maxsize=1)
def _calendar() -> Any:
    import exchange_calendars as xcals  # noqa: PLC0415 - heavy import, paid on first use

    return xcals.get_calendar("BVMF", start="2000-01-03")


def _is_business_day(day: dt.date) -> bool:
    cal = _calendar()
    if not cal.first_session.date() <= day <= cal.last_session.date():
        raise ConfigError(
            f"{day} is outside the BVMF calendar "
            f"({cal.first_session.date()} .. {cal.last_session.date()})"
        )
    return bool(cal.is_session(day.isoformat()))


def _next_business_day(day: dt.date) -> dt.date:
    while not _is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def expiry(root: str, year: int, month: int) -> dt.date:
    """Expiry (last trading day) of a contract.

    Parameters
    ----------
    root
        ``WDO``, ``DOL``, ``WIN`` or ``IND``.
    year, month
        Contract month.

    Raises
    ------
    ConfigError
        If the root is unknown or the month is not listed (odd month for WIN/IND).
    """
    spec = spec_for(root)
    if spec.roll == "monthly":
        return _next_business_day(dt.date(year, month, 1))
    if spec.roll == "even_months":
        if month % 2:
            raise ConfigError(f"{root} lists only even months; got month {month}")
        fifteenth = dt.date(year, month, 15)
        # Wednesday closest to the 15th: weekday() of Wednesday is 2.
        delta = (2 - fifteenth.weekday() + 3) % 7 - 3
        return _next_business_day(fifteenth + dt.timedelta(days=delta))
    raise ConfigError(f"{root}: unknown roll rule {spec.roll!r}")


def _months_from(year: int, month: int) -> Any:
    while True:
        yield year, month
        month += 1
        if month > 12:
            year, month = year + 1, 1


def contract_code(root: str, day: dt.date) -> str:
    """Front (traded) contract code of ``root`` on ``day``.

    Examples
    --------
    >>> import datetime as dt
    >>> contract_code("WDO", dt.date(2025, 8, 11))
    'WDOU25'
    >>> contract_code("DOL", dt.date(2018, 11, 5))
    'DOLZ18'
    """
    spec = spec_for(root)
    for year, month in _months_from(day.year, day.month):
        if spec.roll == "even_months" and month % 2:
            continue
        exp = expiry(spec.root, year, month)
        if exp > day or (spec.roll == "even_months" and exp == day):
            return f"{spec.root}{MONTH_CODES[month - 1]}{year % 100:02d}"
    raise AssertionError("unreachable")  # pragma: no cover - the loop always returns


def parse_contract(code: str) -> tuple[str, int, int]:
    """Split ``WDOU25`` into ``("WDO", 2025, 9)``.

    Raises
    ------
    ConfigError
        If ``code`` is not root + month letter + two digits.
    """
    if len(code) != 6 or code[3] not in MONTH_CODES or not code[4:].isdigit():
        raise ConfigError(f"not a B3 futures contract code: {code!r}")
    return code[:3].upper(), 2000 + int(code[4:]), MONTH_CODES.index(code[3]) + 1
