"""The lake: layout, idempotent and atomic writes, reads; the importer's report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quantumtrader.core.errors import DataError
from quantumtrader.data import (
    QUARANTINE_SCHEMA,
    DayBatch,
    Lake,
    QuarantineRow,
    import_files,
    write_profit_b,
)
from quantumtrader.model.arrow import TRADE_SCHEMA

DAY = dt.date(2018, 11, 5)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_import_real_day(sample_a: Path, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    seen: list[tuple[int, int]] = []
    report = import_files([sample_a], lake, progress=lambda d, t: seen.append((d, t)))
    assert report.read == report.stored == 31_259
    assert report.quarantined == 0
    (row,) = report.rows
    assert (row.symbol, row.day, row.read) == ("DOLZ18", DAY, 31_259)
    assert seen[-1] == (sample_a.stat().st_size, sample_a.stat().st_size)
    part = tmp_path / "lake/kind=trades/symbol=DOLZ18/date=2018-11-05/part.parquet"
    assert part.is_file()
    assert (part.parent / "quarantine.parquet").is_file()
    t = lake.read_trades("DOLZ18", DAY)
    assert t.schema.equals(TRADE_SCHEMA)
    assert t.num_rows == 31_259
    assert t["seq"].to_pylist() == list(range(31_259))
    (info,) = lake.partitions()
    assert (info.kind, info.symbol, info.day, info.rows, info.quarantined) == (
        "trades",
        "DOLZ18",
        DAY,
        31_259,
        0,
    )
    assert info.bytes == part.stat().st_size
    assert lake.quarantine("DOLZ18", DAY).num_rows == 0


def test_import_is_idempotent(sample_a: Path, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    import_files([sample_a], lake)
    first = _files(lake.root)
    report = import_files([sample_a, sample_a], lake)
    assert report.stored == 2 * 31_259  # counted per file processed ...
    assert _files(lake.root) == first  # ... but stored once, byte-identical
    assert lake.read_trades("DOLZ18", DAY).num_rows == 31_259


def test_reimport_replaces_day_and_quarantine(real_day: DayBatch, tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    bad = [QuarantineRow(file="x", line=3, field="price", reason="r", raw="junk")]
    lake.write_trades("DOLZ18", DAY, real_day.table, bad)
    assert lake.quarantine("DOLZ18", DAY).num_rows == 1
    lake.write_trades("DOLZ18", DAY, real_day.table.slice(0, 10))
    assert lake.read_trades("DOLZ18", DAY).num_rows == 10
    assert lake.quarantine("DOLZ18", DAY).schema.equals(QUARANTINE_SCHEMA)
    assert lake.quarantine("DOLZ18", DAY).num_rows == 0


@pytest.mark.parametrize("fail_on", [1, 2])
def test_write_is_atomic(
    real_day: DayBatch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_on: int
) -> None:
    lake = Lake(tmp_path)
    real_write = pq.write_table
    calls = {"n": 0}

    def flaky(table: pa.Table, where: object, **kw: object) -> None:
        calls["n"] += 1
        real_write(table.slice(0, 1), where, **kw)  # leave a partial temp file behind
        if calls["n"] == fail_on:
            raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", flaky)
    with pytest.raises(OSError, match="disk full"):
        lake.write_trades("DOLZ18", DAY, real_day.table)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert lake.partitions() == []
    # an existing partition survives a failed re-import untouched
    monkeypatch.setattr(pq, "write_table", real_write)
    lake.write_trades("DOLZ18", DAY, real_day.table)
    before = _files(tmp_path)
    calls["n"] = 0
    monkeypatch.setattr(pq, "write_table", flaky)
    with pytest.raises(OSError):
        lake.write_trades("DOLZ18", DAY, real_day.table.slice(0, 5))
    assert _files(tmp_path) == before


def test_read_missing_lists_available(real_day: DayBatch, tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    with pytest.raises(DataError, match="available: none"):
        lake.read_trades("DOLZ18", DAY)
    lake.write_trades("DOLZ18", DAY, real_day.table)
    with pytest.raises(DataError, match="DOLZ18 2018-11-05"):
        lake.read_trades("DOLZ18", DAY + dt.timedelta(days=1))
    with pytest.raises(DataError, match="invalid symbol"):
        lake.read_trades("../x", DAY)
    with pytest.raises(DataError, match="rows of"):
        lake.write_trades("WDOZ18", DAY, real_day.table)


def test_import_multi_day_b(
    real_day: DayBatch, tmp_path: Path, shift_days: Callable[[pa.Table, int], pa.Table]
) -> None:
    f = tmp_path / "multi.csv"
    write_profit_b(pa.concat_tables([shift_days(real_day.table, k) for k in (0, 1, 2)]), f)
    lake = Lake(tmp_path / "lake")
    report = import_files([f], lake)
    assert [r.day for r in report.rows] == [DAY + dt.timedelta(days=k) for k in (0, 1, 2)]
    assert all(r.read == r.stored + r.quarantined for r in report.rows)
    assert [p.rows for p in lake.partitions()] == [31_259] * 3


def test_import_errors_name_the_file(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    with pytest.raises(DataError, match=r"missing\.csv: file not found"):
        import_files([tmp_path / "missing.csv"], lake)
    odd = tmp_path / "odd.txt"
    odd.write_text("just some text\n")
    with pytest.raises(DataError, match=r"odd\.txt"):
        import_files([odd], lake)
    assert not (tmp_path / "lake").exists()
