"""Market time: local B3 wall-clock times to UTC nanoseconds.

B3 trades on ``America/Sao_Paulo`` local time, which observed daylight saving time
until 2019 (for example UTC−02:00 from 2018-11-04 to 2019-02-16). Conversions go
through the IANA database (``zoneinfo``), never a fixed offset.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "B3_TZ",
    "NS_PER_DAY",
    "NS_PER_MINUTE",
    "NS_PER_SECOND",
    "local_midnight_ns",
    "local_to_utc_ns",
    "ns_to_local",
    "ns_to_utc",
]

B3_TZ = ZoneInfo("America/Sao_Paulo")
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_DAY = 86_400 * NS_PER_SECOND


@lru_cache(maxsize=4096)
def local_midnight_ns(day: dt.date) -> int:
    """UTC nanoseconds of local midnight (America/Sao_Paulo) starting ``day``.

    Parameters
    ----------
    day
        Calendar date in Brazil.

    Returns
    -------
    int
        Nanoseconds since the Unix epoch, UTC.
    """
    # Brazil's DST transitions happened at local midnight, so midnight itself may not
    # exist; zoneinfo resolves the gap forward (fold=0), matching the first valid instant.
    local = dt.datetime(day.year, day.month, day.day, tzinfo=B3_TZ)
    return int(local.timestamp()) * NS_PER_SECOND


@lru_cache(maxsize=4096)
def _utc_offset_seconds(day: dt.date, second_of_day: int) -> int:
    hh, rem = divmod(second_of_day, 3600)
    mm, ss = divmod(rem, 60)
    local = dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=B3_TZ)
    off = local.utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def local_to_utc_ns(day: dt.date, second_of_day: int, nanos: int = 0) -> int:
    """Convert a local B3 date and time of day to UTC nanoseconds.

    Parameters
    ----------
    day
        Local calendar date.
    second_of_day
        Seconds since local midnight, ``0 <= s < 86400``.
    nanos
        Sub-second part in nanoseconds.

    Returns
    -------
    int
        Nanoseconds since the Unix epoch, UTC.

    Raises
    ------
    ValueError
        If ``second_of_day`` is outside ``[0, 86400)``.
    """
    if not 0 <= second_of_day < 86_400:
        raise ValueError(f"second_of_day out of range: {second_of_day}")
    # Offsets are constant within trading hours (transitions happen at midnight), so the
    # offset at the hour is enough and caches well.
    offset = _utc_offset_seconds(day, (second_of_day // 3600) * 3600)
    epoch_day = (day - dt.date(1970, 1, 1)).days
    return (epoch_day * 86_400 + second_of_day - offset) * NS_PER_SECOND + nanos


def ns_to_utc(ns: int) -> dt.datetime:
    """UTC datetime (microsecond precision) of a nanosecond timestamp."""
    return dt.datetime.fromtimestamp(ns / NS_PER_SECOND, tz=dt.UTC)


def ns_to_local(ns: int) -> dt.datetime:
    """America/Sao_Paulo datetime (microsecond precision) of a nanosecond timestamp."""
    return ns_to_utc(ns).astimezone(B3_TZ)
