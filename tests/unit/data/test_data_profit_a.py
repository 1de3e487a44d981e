"""Format A on the real B3 day (DOLZ18, 2018-11-05)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from quantumtrader.core.errors import DataError
from quantumtrader.core.timeutil import ns_to_local
from quantumtrader.data import DayBatch, detect_format, iter_days
from quantumtrader.model.events import Aggressor, TradeKind


def test_detects_format_a(sample_a: Path) -> None:
    assert detect_format(sample_a) == "A"


def test_counts_match_source(real_day: DayBatch) -> None:
    t = real_day.table
    assert real_day.symbol == "DOLZ18"
    assert real_day.day == dt.date(2018, 11, 5)
    assert t.num_rows == 31_259
    assert real_day.rows_quarantined == 0
    assert pc.sum(t["qty"]).as_py() == 289_620
    side = t["aggressor"].to_numpy()
    kind = t["trade_kind"].to_numpy()
    assert (side == Aggressor.BUY).sum() == 15_041
    assert (side == Aggressor.SELL).sum() == 15_241
    assert ((side == Aggressor.NONE) & (kind == TradeKind.DIRECT)).sum() == 950
    assert ((side == Aggressor.NONE) & (kind == TradeKind.AUCTION)).sum() == 27
    assert pc.min(t["price"]).as_py() == 3698.5
    assert pc.max(t["price"]).as_py() == 3740.0


def test_first_and_last_trade_times(real_day: DayBatch) -> None:
    ts = real_day.table["ts_event"].cast("int64").to_numpy()
    first = dt.datetime(2018, 11, 5, 11, 0, 49, tzinfo=dt.UTC)  # 09:00:49 BRST (UTC-2)
    assert int(ts[0]) == int(first.timestamp()) * 10**9
    assert ns_to_local(int(ts[0])).strftime("%H:%M:%S") == "09:00:49"
    assert ns_to_local(int(ts[-1])).strftime("%H:%M:%S") == "18:14:59"
    assert real_day.table["ts_init"].equals(real_day.table["ts_event"])


def test_seq_and_order(real_day: DayBatch) -> None:
    t = real_day.table
    seq = t["seq"].to_numpy()
    ts = t["ts_event"].cast("int64").to_numpy()
    assert np.array_equal(seq, np.arange(t.num_rows))
    assert (np.diff(ts) >= 0).all()


def test_reverse_file_order_within_second(real_day: DayBatch, sample_a: Path) -> None:
    # The last line of the file is the first trade of the day; the first line the last.
    lines = sample_a.read_bytes().decode("latin-1").splitlines()
    last = lines[-1].split(";")
    first_trade = real_day.table.slice(0, 1).to_pylist()[0]
    assert first_trade["buy_agent_id"] == int(last[3].split(" - ")[0])
    assert first_trade["qty"] == int(last[5])
    top = lines[0].split(";")
    last_trade = real_day.table.slice(real_day.table.num_rows - 1).to_pylist()[0]
    assert last_trade["price"] == float(top[4].replace(",", "."))
    assert last_trade["buy_agent"] == "UBS BRASIL CCTVM S/A"
    assert last_trade["buy_agent_id"] == 8


def test_duplicates_kept(real_day: DayBatch, sample_a: Path) -> None:
    lines = sample_a.read_bytes().splitlines()
    assert len(lines) - len(set(lines)) > 0
    assert real_day.table.num_rows == len(lines)


def test_broker_with_dash_in_name(real_day: DayBatch) -> None:
    names = set(real_day.table["buy_agent"].to_pylist()) | set(
        real_day.table["sell_agent"].to_pylist()
    )
    assert names & {"CLEAR CORRETORA - GRUPO XP", "RICO INVESTIMENTOS - GRUPO XP"}
    assert "Concórdia S.A. CVMCC" in names  # latin-1 decoded
    assert real_day.table["buy_agent_id"].null_count == 0


def test_progress_bytes(sample_a: Path) -> None:
    seen: list[int] = []
    list(iter_days(sample_a, on_bytes=seen.append))
    assert sum(seen) == sample_a.stat().st_size


def test_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        detect_format(tmp_path / "nope.csv")
    junk = tmp_path / "junk.csv"
    junk.write_text("hello;world\n1;2\n")
    with pytest.raises(DataError, match=r"junk\.csv"):
        detect_format(junk)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        detect_format(empty)


def test_unknown_root_raises(tmp_path: Path, sample_a: Path) -> None:
    data = sample_a.read_bytes().replace(b"DOLZ18;", b"ABCZ18;")
    f = tmp_path / "abc.csv"
    f.write_bytes(data)
    with pytest.raises(DataError, match=r"abc\.csv.*unknown instrument root"):
        list(iter_days(f))
