"""Local B3 time to UTC across daylight saving time (America/Sao_Paulo)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from quantumtrader.data import B_HEADER, read_days

HEADER = B_HEADER + "\n"


@pytest.mark.parametrize(
    ("date", "utc_hour"),
    [
        ("20181105", 12),  # DST (UTC-2): 10:00 local = 12:00 UTC
        ("20181102", 13),  # before DST began on 2018-11-04 (UTC-3)
        ("20190215", 12),  # last trading day of that DST period
        ("20190218", 13),  # after DST ended on 2019-02-17
        ("20250811", 13),  # no DST since 2019
    ],
)
def test_dst_offsets(tmp_path: Path, date: str, utc_hour: int) -> None:
    f = tmp_path / "d.csv"
    f.write_text(HEADER + f"WDOFUT,{date},100000,1,5000.0,1,50000,A,B,AggressorBuyer,N\n")
    (b,) = read_days(f)
    ts = b.table["ts_event"][0].as_py()
    d = dt.date(int(date[:4]), int(date[4:6]), int(date[6:]))
    assert ts == dt.datetime(d.year, d.month, d.day, utc_hour, 0, tzinfo=dt.UTC)


def test_a_file_off_dst(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_bytes(
        "WDOQ25;11/08/2025;09:00:01;3 - XP;5436,50;2;8 - UBS;Leilão\r\n".encode("latin-1")
    )
    (b,) = read_days(f)
    assert b.table["ts_event"][0].as_py() == dt.datetime(2025, 8, 11, 12, 0, 1, tzinfo=dt.UTC)
    assert b.table["trade_kind"][0].as_py() == 2
