"""Local B3 time to UTC nanoseconds across daylight saving time."""

from __future__ import annotations

import datetime as dt

import pytest

from quantumtrader.core import (
    DataError,
    QuantumTraderError,
    local_to_utc_ns,
    ns_to_local,
)


def _utc(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp()) * 10**9


def test_dst_day_is_utc_minus_2() -> None:
    # 2018-11-05 was on Brazilian summer time (UTC-02:00).
    assert local_to_utc_ns(dt.date(2018, 11, 5), 9 * 3600) == _utc(2018, 11, 5, 11, 0, 0)


def test_standard_day_is_utc_minus_3() -> None:
    assert local_to_utc_ns(dt.date(2018, 11, 1), 9 * 3600) == _utc(2018, 11, 1, 12, 0, 0)
    assert local_to_utc_ns(dt.date(2025, 8, 11), 9 * 3600) == _utc(2025, 8, 11, 12, 0, 0)


def test_round_trip_and_range() -> None:
    ns = local_to_utc_ns(dt.date(2019, 1, 15), 10 * 3600 + 30 * 60 + 5, 250)
    local = ns_to_local(ns)
    assert (local.hour, local.minute, local.second) == (10, 30, 5)
    with pytest.raises(ValueError):
        local_to_utc_ns(dt.date(2019, 1, 15), 86_400)


def test_data_error_names_file_line_field() -> None:
    err = DataError("bad price", path="x.csv", line=7, field="price")
    assert str(err) == "x.csv:7 [price]: bad price"
    assert isinstance(err, QuantumTraderError)
