"""Bad lines go to quarantine with line numbers and reasons; good lines are all stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantumtrader.data import DayBatch, read_days, write_profit_b
from quantumtrader.data.quarantine import quarantine_rows

GOOD_A = "DOLZ18;05/11/2018;10:00:00;8 - UBS BRASIL CCTVM S/A;3733,50;5;3 - XP;Comprador"
GARBAGE_A = [
    (b"DOLZ18;05/11/2018;10:00:00;8 - UBS;3733,50;5\r\n", "fields", "found 6"),
    (b"DOLZ18;05/11/2018;10:00:00;8 - UBS;abc;5;3 - XP;Comprador\r\n", "price", "not a number"),
    (b"DOLZ18;05/11/2018;10:00:00;8 - UBS;3733,25;5;3 - XP;Comprador\r\n", "price", "tick"),
    (b"DOLZ18;05/11/2018;10:00:00;8 - UBS;3733,50;0;3 - XP;Comprador\r\n", "qty", "> 0"),
    (b"DOLZ18;05/11/2018;10:00:00;8 - UBS;3733,50;5;3 - XP;Talvez\r\n", "aggressor", "Talvez"),
    (b"\x00\xff\xfe\x13binary\x9c junk\r\n", "fields", "found 1"),
    (b"DOLZ18;05/11/2018;03:00:00;8 - UBS;3733,50;5;3 - XP;Vendedor\r\n", "time", "outside"),
    (b"DOLZ18;06/11/2018;10:00:00;8 - UBS;3733,50;5;3 - XP;Vendedor\r\n", "date", "differs"),
    (b"DOLZ18;05/11/2018;25:00:00;8 - UBS;3733,50;5;3 - XP;Vendedor\r\n", "time", "bad time"),
    (b"DOLZ18;05/11/2018;10:00:00;8 - UBS;-1,00;5;3 - XP;Vendedor\r\n", "price", "> 0"),
    (b"DOLZ18;05/11/2018;10:00:00;8 - UBS;3733,50;2.5;3 - XP;Vendedor\r\n", "qty", "integer"),
]


def test_garbage_in_format_a(a_lines: Callable[[], list[bytes]], tmp_path: Path) -> None:
    lines = a_lines()
    positions = []
    for i, (junk, _, _) in enumerate(GARBAGE_A):
        pos = 1000 + 997 * i
        lines.insert(pos, junk)
        positions.append(pos + 1)  # 1-based line number after insertion
    f = tmp_path / "dirty.csv"
    f.write_bytes(b"".join(lines))
    (b,) = read_days(f)
    assert b.table.num_rows == 31_259
    q = quarantine_rows(b.quarantine)
    assert [r.line for r in q] == positions
    for r, (junk, field, text) in zip(q, GARBAGE_A, strict=True):
        assert r.field == field, r
        assert text in r.reason, r
        assert r.file == str(f)
        assert r.raw == junk.rstrip(b"\r\n").decode("latin-1")
    assert b.rows_read == len(lines)


def test_garbage_in_format_b(real_day: DayBatch, tmp_path: Path) -> None:
    f = tmp_path / "b.csv"
    write_profit_b(real_day.table, f)
    lines = f.read_bytes().splitlines(keepends=True)
    junk = [
        (b"DOLZ18,20181105,100000,1,3733.5\n", "fields"),
        (b"DOLZ18,20181105,100000,1,3733.3,5,1,XP,BTG,AggressorBuyer,N\n", "price"),
        (b"DOLZ18,20181105,100000,1,3733.5,0,1,XP,BTG,AggressorBuyer,N\n", "qty"),
        (b"DOLZ18,20181105,100000,1,3733.5,5,1,XP,BTG,Surveillance,N\n", "trade_type"),
        (b"DOLZ18,20181105,30000,1,3733.5,5,1,XP,BTG,AggressorBuyer,N\n", "time"),
        (b"\xde\xad\xbe\xef\x00,,\n", "fields"),
        (b"DOLZ18,20181105,100000,x,3733.5,5,1,XP,BTG,AggressorBuyer,N\n", "trade_number"),
        (b"DOLZ18,20181105,100000,1,3733.5,5,1,XP,BTG,AggressorBuyer,X\n", "aft"),
        (b"DOLZ18,20181332,100000,1,3733.5,5,1,XP,BTG,AggressorBuyer,N\n", "date"),
    ]
    for i, (j, _) in enumerate(junk):
        lines.insert(500 + 3001 * i, j)
    f.write_bytes(b"".join(lines))
    (b,) = list(read_days(f))
    assert b.table.num_rows == 31_259
    q = quarantine_rows(b.quarantine)
    assert [r.line for r in q] == [501 + 3001 * i for i in range(len(junk))]
    assert [r.field for r in q] == [field for _, field in junk]


_FIELD = st.text(  # no lone surrogates: a UTF-8 file cannot hold them
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12
)


@st.composite
def a_rows(draw: st.DrawFn) -> str:
    good = [
        "DOLZ18",
        "05/11/2018",
        draw(st.sampled_from(["09:00:01", "12:34:56", "18:14:59", "03:00:00", "99:00:00"])),
        draw(st.sampled_from(["8 - UBS", "UBS", "x - y", ""])),
        draw(st.sampled_from(["3733,50", "3733,25", "0", "abc", "1.234,50", "3733.5"])),
        draw(st.sampled_from(["5", "0", "-5", "1.000", "2,5", "x"])),
        "3 - XP",
        draw(st.sampled_from(["Comprador", "Vendedor", "Direto", "Leilão", "?", "LEILÃO"])),
    ]
    if draw(st.booleans()):
        i = draw(st.integers(0, 7))
        good[i] = draw(_FIELD)
    fields = good[: draw(st.integers(6, 8))] if draw(st.booleans()) else good
    return ";".join(fields)


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(a_rows(), min_size=1, max_size=30))
def test_random_rows_never_crash(rows: list[str], tmp_path: Path) -> None:
    f = tmp_path / "h.csv"
    f.write_bytes(("\r\n".join([GOOD_A, *rows, GOOD_A]) + "\r\n").encode("latin-1", "replace"))
    batches = read_days(f)
    assert len(batches) == 1
    b = batches[0]
    assert b.rows_read == len(rows) + 2
    assert b.table.num_rows >= 2
    lines = sorted(r.line for r in quarantine_rows(b.quarantine))
    assert len(set(lines)) == len(lines)
    assert all(2 <= n <= len(rows) + 1 for n in lines)


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.one_of(
            st.builds(
                lambda t, n, p, q, ty, aft: f"WDOFUT,20250811,{t},{n},{p},{q},1,XP,BTG,{ty},{aft}",
                st.integers(0, 250000),
                st.integers(-2, 10**6),
                st.sampled_from(["5436.5", "5436.25", "0", "nan", "x", "-1"]),
                st.integers(-1, 100),
                st.sampled_from(["AggressorBuyer", "AggressorSeller", "Auction", "RLP", "Foo"]),
                st.sampled_from(["N", "S", "", "Z"]),
            ),
            _FIELD,
        ),
        max_size=40,
    )
)
def test_random_b_rows_accounting(rows: list[str], tmp_path: Path) -> None:
    good = "WDOFUT,20250811,100000,1,5436.5,1,54365,XP,BTG,AggressorBuyer,N"
    f = tmp_path / "h.csv"
    text = (
        "\n".join(
            [
                "<ticker>,<date>,<time>,<trade_number>,<price>,<qty>,<vol>,"
                "<buy_agent>,<sell_agent>,<trade_type>,<aft>",
                good,
                *rows,
            ]
        )
        + "\n"
    )
    f.write_bytes(text.encode("utf-8"))
    batches = read_days(f)
    assert sum(b.rows_read for b in batches) == len(rows) + 1
    for b in batches:
        assert b.table["seq"].to_pylist() == list(range(b.table.num_rows))
