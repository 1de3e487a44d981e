"""Format B: round trip from the real day, several days, time without leading zero."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest

from quantumtrader.core.errors import DataError
from quantumtrader.data import DayBatch, detect_format, iter_days, read_days, write_profit_b
from quantumtrader.model.arrow import table_to_trades


def test_round_trip_equals_format_a(real_day: DayBatch, tmp_path: Path) -> None:
    f = tmp_path / "b.csv"
    write_profit_b(real_day.table, f)
    assert detect_format(f) == "B"
    batches = read_days(f)
    assert len(batches) == 1
    b = batches[0]
    assert b.rows_quarantined == 0
    assert (b.symbol, b.day) == (real_day.symbol, real_day.day)
    a_trades = table_to_trades(real_day.table)
    b_trades = table_to_trades(b.table)
    assert len(a_trades) == len(b_trades) == 31_259
    for x, y in zip(a_trades, b_trades, strict=True):
        # Documented losses: broker codes (B has names only); trade_id = seq + 1.
        assert y.trade_id == x.seq + 1
        assert (
            msgspec.structs.replace(x, buy_agent_id=None, sell_agent_id=None, trade_id=y.trade_id)
            == y
        )


def test_leading_zero_optional_and_header_variants(real_day: DayBatch, tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    padded = tmp_path / "padded.csv"
    write_profit_b(real_day.table, plain, brackets=True)
    write_profit_b(real_day.table, padded, brackets=False, zero_pad_time=True, newline="\r\n")
    assert b",90049," in plain.read_bytes()
    assert b",090049," in padded.read_bytes()
    upper = tmp_path / "upper.csv"
    upper.write_bytes(padded.read_bytes().replace(b"ticker,date", b"TICKER,DATE", 1))
    ref = read_days(plain)[0].table
    for f in (padded, upper):
        got = read_days(f)[0]
        assert got.rows_quarantined == 0
        assert got.table.equals(ref)


def test_multi_day_file_splits_per_day(
    real_day: DayBatch, tmp_path: Path, shift_days: Callable[[pa.Table, int], pa.Table]
) -> None:
    days = [0, 1, 2, 7]
    table = pa.concat_tables([shift_days(real_day.table, k) for k in days])
    f = tmp_path / "multi.csv"
    write_profit_b(table, f)
    # a tiny chunk size forces days to straddle chunks
    batches = list(iter_days(f, chunk_bytes=256 * 1024))
    assert [b.day for b in batches] == [real_day.day + dt.timedelta(days=k) for k in days]
    for b in batches:
        assert b.table.num_rows == 31_259
        assert b.rows_quarantined == 0
        assert b.table["seq"].to_pylist() == list(range(31_259))
        assert b.table["trade_id"].to_pylist() == list(range(1, 31_260))


def test_trade_number_orders_within_second(tmp_path: Path) -> None:
    f = tmp_path / "order.csv"
    f.write_text(
        "ticker,date,time,trade_number,price,qty,vol,buy_agent,sell_agent,trade_type,aft\n"
        "WDOFUT,20250811,93015,12,5436.5,2,108730.0,XP,BTG,AggressorBuyer,N\n"
        "WDOFUT,20250811,93015,10,5436.0,1,54360.0,XP,BTG,AggressorSeller,N\n"
        "WDOFUT,20250811,93014,11,5436.0,1,54360.0,XP,BTG,RLP,S\n"
    )
    (b,) = read_days(f)
    rows = b.table.to_pylist()
    assert [r["trade_id"] for r in rows] == [11, 10, 12]
    assert [r["seq"] for r in rows] == [0, 1, 2]
    assert rows[0]["after_hours"] is True
    assert rows[0]["trade_kind"] == 4  # RLP
    # 2025-08-11 is outside DST: 09:30:14 local = 12:30:14 UTC
    ts = rows[0]["ts_event"]
    assert ts == dt.datetime(2025, 8, 11, 12, 30, 14, tzinfo=dt.UTC)


def test_missing_header_is_refused(tmp_path: Path) -> None:
    from quantumtrader.data import iter_profit_b

    f = tmp_path / "nohdr.csv"
    f.write_text("WDOFUT,20250811,93015,12,5436.5,2,108730.0,XP,BTG,AggressorBuyer,N\n")
    with pytest.raises(DataError, match="header"):
        list(iter_profit_b(f))
