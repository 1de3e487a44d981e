"""Binance capture reader: hand-built streams (snapshot sync, chain checks, units,
quarantine) and the six real hftbacktest capture files (counts from SOURCE.md)."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.core.errors import DataError
from quantumtrader.data.binance import read_binance
from quantumtrader.data.binance_depth import parse_decimals
from quantumtrader.data.market_day import MarketData
from quantumtrader.model.book import F_LAST, F_SNAPSHOT
from quantumtrader.model.instruments import spec_for

MS = 1_000_000
T0 = 1_723_161_255_000_000_000  # local receive time of line 1 (ns)
EX = T0 // MS  # an exchange time (ms) near T0


def write_capture(path: Path, messages: Sequence[Any]) -> Path:
    """One gzip capture: ``<ns> <JSON>`` per line (str items are written verbatim)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, m in enumerate(messages):
        body = m if isinstance(m, str) else msgspec.json.encode(m).decode()
        lines.append(body if isinstance(m, str) and m.startswith("!") else f"{T0 + i} {body}")
    path.write_bytes(gzip.compress("".join(x.lstrip("!") + "\n" for x in lines).encode()))
    return path


def stream(kind: str, data: dict[str, Any], sym: str = "btcusdt") -> dict[str, Any]:
    return {"stream": f"{sym}@{kind}", "data": data}


def fut_depth(ids: tuple[int, int, int], E: int, b: list[Any], a: list[Any]) -> dict[str, Any]:
    U, u, pu = ids  # first id, last id, previous last id
    data = {"e": "depthUpdate", "E": E, "T": E, "s": "BTCUSDT", "U": U, "u": u, "pu": pu}
    return stream("depth@0ms", {**data, "b": b, "a": a})


FUTURES = [
    fut_depth((100, 105, 99), 1000, [["100.0", "1.000"]], []),  # old: u < 110, discarded
    fut_depth((106, 112, 105), 1010, [["100.0", "2.000"]], [["100.5", "0.500"]]),  # straddles
    stream(
        "trade",
        {"e": "trade", "E": 1015, "T": 1014, "s": "BTCUSDT", "t": 7, "p": "100.5", "q": "0.014"}
        | {"X": "MARKET", "m": True},
    ),
    stream(
        "bookTicker",
        {"e": "bookTicker", "u": 112, "s": "BTCUSDT", "b": "100.0", "B": "2.000"}
        | {"a": "100.5", "A": "0.500", "T": 1016, "E": 1016},
    ),
    {
        "lastUpdateId": 110,
        "E": 1020,
        "T": 1019,
        "bids": [["100.0", "1.500"], ["99.9", "3.000"]],
        "asks": [["100.5", "0.700"]],
    },
    fut_depth((113, 120, 112), 1030, [["99.9", "0.000"]], [["100.6", "1.000"]]),
    fut_depth((121, 125, 120), 1040, [], [["100.5", "0.001"]]),
]


@pytest.fixture
def futures(tmp_path: Path) -> MarketData:
    return read_binance([write_capture(tmp_path / "usdm" / "btcusdt_20240808.gz", FUTURES)])


def test_futures_book_rows(futures: MarketData) -> None:
    assert futures.symbol == "BTCUSDT-PERP"
    b = futures.book.to_pydict()
    assert b["action"] == [3, 0, 0, 0, 0, 0, 0, 0, 0]  # CLEAR, then SETs
    assert b["side"] == [0, 1, 1, -1, 1, -1, 1, -1, -1]
    assert b["price"] == [0.0, 100.0, 99.9, 100.5, 100.0, 100.5, 99.9, 100.6, 100.5]
    # Sizes in units of 0.001 BTC; "0.000" deletes.
    assert b["size"] == [0.0, 1500.0, 3000.0, 700.0, 2000.0, 500.0, 0.0, 1000.0, 1.0]
    snap, last = F_SNAPSHOT, F_LAST
    assert b["flags"] == [snap, snap, snap, snap | last, 0, last, 0, last, last]
    assert b["update_id"] == [110] * 4 + [112, 112, 120, 120, 125]
    # The buffered diff (line 2) is applied after the snapshot with the snapshot's seq.
    assert b["seq"] == [4, 4, 4, 4, 4, 4, 5, 5, 6]
    ts = pc.cast(futures.book.column("ts_event"), "int64").to_pylist()
    # Snapshot time lowered to the first applied diff's E (1010 ms < its own 1020 ms).
    assert ts == [1010 * MS] * 6 + [1030 * MS] * 2 + [1040 * MS]
    init = pc.cast(futures.book.column("ts_init"), "int64").to_pylist()
    assert init == [T0 + 4] * 4 + [T0 + 1] * 2 + [T0 + 5] * 2 + [T0 + 6]


def test_futures_counts(futures: MarketData) -> None:
    assert (futures.rows_read, futures.rows_skipped, futures.quarantine.num_rows) == (7, 1, 0)
    assert any("1 depth diffs older than the snapshot discarded" in n for n in futures.notes)
    assert futures.source == "binance"


def test_futures_trade_and_quote(futures: MarketData) -> None:
    t = futures.trades.to_pylist()[0]
    assert (t["price"], t["qty"], t["aggressor"], t["trade_id"], t["seq"]) == (100.5, 14, -1, 7, 2)
    assert t["ts_event"].value == 1014 * MS and t["ts_init"].value == T0 + 2
    q = futures.quotes.to_pylist()[0]
    assert (q["bid_price"], q["bid_size"], q["ask_price"], q["ask_size"]) == (
        100.0,
        2000,
        100.5,
        500,
    )
    assert (q["update_id"], q["seq"], q["ts_event"].value) == (112, 3, 1016 * MS)


def spot_depth(U: int, u: int, E: int, b: list[Any], a: list[Any]) -> dict[str, Any]:
    return stream(
        "depth@100ms", {"e": "depthUpdate", "E": E, "s": "BTCUSDT", "U": U, "u": u, "b": b, "a": a}
    )


SPOT_0808 = [
    spot_depth(10, 20, EX + 1000, [["50000.00", "0.00100000"]], []),  # u <= 20: discarded
    {
        "lastUpdateId": 20,
        "bids": [["50000.00", "0.00200000"]],
        "asks": [["50000.01", "0.01000000"]],
    },
    spot_depth(21, 25, EX + 1300, [["50000.00", "0.00300000"]], []),  # straddles 21
    stream(
        "bookTicker",
        {
            "u": 25,
            "s": "BTCUSDT",
            "b": "50000.00",
            "B": "0.00300000",
            "a": "50000.01",
            "A": "0.01000000",
        },
    ),
]
SPOT_0809 = [
    spot_depth(26, 30, EX + 1400, [], [["50000.01", "0.00000000"]]),
    stream(
        "trade",
        {"e": "trade", "E": 2300, "s": "BTCUSDT", "t": 9, "p": "50000.00", "q": "0.00012000"}
        | {"T": 2299, "m": False, "M": True},
    ),
]


def test_spot_two_files_replayed_as_one(tmp_path: Path) -> None:
    a = write_capture(tmp_path / "spot" / "btcusdt_20240808.gz", SPOT_0808)
    b = write_capture(tmp_path / "spot" / "btcusdt_20240809.gz", SPOT_0809)
    m = read_binance([a, b])
    assert m.symbol == "BTCUSDT"
    book = m.book.to_pydict()
    assert book["size"] == [0.0, 2000.0, 10000.0, 3000.0, 0.0]  # units of 0.000001 BTC
    assert book["seq"] == [1, 1, 1, 2, 4]  # the 0809 file continues the line count
    assert book["update_id"] == [20, 20, 20, 25, 30]
    ts = pc.cast(m.book.column("ts_event"), "int64").to_pylist()
    assert ts[:3] == [T0 + 1] * 3  # spot snapshot: local receive time (no exchange time)
    assert ts[3:] == [(EX + 1300) * MS, (EX + 1400) * MS]
    q = m.quotes.to_pylist()[0]
    assert q["ts_event"].value == q["ts_init"].value == T0 + 3
    t = m.trades.to_pylist()[0]
    assert (t["qty"], t["aggressor"], t["seq"], t["trade_id"]) == (120, 1, 5, 9)
    assert (m.rows_read, m.rows_skipped) == (6, 1)
    assert any("local receive time" in n for n in m.notes)


def test_spot_chain_gap_names_file_and_line(tmp_path: Path) -> None:
    a = write_capture(tmp_path / "spot" / "btcusdt_20240808.gz", SPOT_0808)
    gap = [spot_depth(27, 30, EX + 1400, [], [])]
    b = write_capture(tmp_path / "spot" / "btcusdt_20240809.gz", gap)
    with pytest.raises(DataError, match=r"btcusdt_20240809\.gz:1 \[U\]: depth gap: U=27"):
        read_binance([a, b])


def test_futures_chain_gap_and_straddle(tmp_path: Path) -> None:
    bad = [*FUTURES[:6], fut_depth((121, 125, 119), 1040, [], [])]
    path = write_capture(tmp_path / "usdm" / "btcusdt_20240808.gz", bad)
    with pytest.raises(DataError, match=r":7 \[pu\]: depth gap: pu=119"):
        read_binance([path])
    late = [FUTURES[4], fut_depth((111, 115, 109), 1030, [], [])]  # starts after 110
    path = write_capture(tmp_path / "usdm" / "btcusdt_20240809.gz", late)
    with pytest.raises(DataError, match="does not straddle"):
        read_binance([path])


def test_bad_lines_are_quarantined(tmp_path: Path) -> None:
    msgs = [
        FUTURES[4],
        fut_depth((106, 112, 105), 1010, [["100.0", "2.0005"], ["99.8", "1.000"]], []),
        stream("trade", {"E": 1, "T": 1, "t": 8, "p": "100.5", "q": "0.0001", "m": False}),
        "!not-a-time {}",
        "{broken json",
        stream("kline_1m", {"E": 1}),
        stream("trade", {"E": 1, "T": 1, "t": 9, "p": "1.0", "q": "1.000", "m": False}, "ethusdt"),
        stream("trade", {"E": 1, "T": 1, "t": 10, "p": "100.55", "q": "1.000", "m": False}),
    ]
    m = read_binance([write_capture(tmp_path / "usdm" / "btcusdt_20240808.gz", msgs)])
    q = m.quarantine.to_pydict()
    assert q["line"] == [2, 3, 4, 5, 6, 7, 8]
    assert q["field"] == ["b", "q", "local_receive_time_ns", "json", "stream", "stream", "p"]
    assert "2.0005" in q["reason"][0] and "1 level(s) dropped" in q["reason"][0]
    assert q["raw"][2] == "not-a-time {}"
    # The quarantined diff's valid level (99.8) is still applied.
    assert m.book.to_pydict()["price"][-1] == 99.8
    assert m.trades.num_rows == 0
    assert m.rows_read == 8 == 1 + m.quarantine.num_rows + m.rows_skipped


def test_malformed_level_lists_are_quarantined(tmp_path: Path) -> None:
    odd = fut_depth((106, 112, 105), 1010, [], [])
    odd["data"]["b"] = "oops"  # not a level list
    odd3 = fut_depth((113, 114, 112), 1020, [["100.0"]], [["100.5", "1.000"]])  # odd count
    msgs = [FUTURES[4], odd, odd3, fut_depth((115, 116, 114), 1030, [["99.9", "1.000"]], [])]
    m = read_binance([write_capture(tmp_path / "usdm" / "btcusdt_20240808.gz", msgs)])
    q = m.quarantine.to_pydict()
    assert (q["line"], q["field"]) == ([2, 3], ["b/a", "b/a"])
    # The chain still holds (their ids count), their levels are not applied.
    b = m.book.to_pydict()
    assert b["price"] == [0.0, 100.0, 99.9, 100.5, 99.9]
    assert b["update_id"][-1] == 116


def test_parse_decimals_edge_cases() -> None:
    values, counts, arrays = parse_decimals(
        [b'[["-1.5","0.00000001"]]', b"[1, 2.50]", b'"1e5"', b'"12a"', b'"' + b"9" * 19 + b'"', b""]
    )
    assert counts.tolist() == [2, 2, 1, 1, 1, 0]
    assert arrays.tolist() == [True, True, False, False, False, False]
    assert values[:4].tolist() == [-1.5, 1e-08, 1.0, 2.5]
    assert np.isnan(values[4:]).all()


@settings(max_examples=200)
@given(
    st.integers(min_value=0, max_value=10**15 - 1),
    st.integers(min_value=0, max_value=8),
)
def test_parse_decimals_is_exact(mantissa: int, decimals: int) -> None:
    digits = str(mantissa).rjust(decimals + 1, "0")
    text = f"{digits[:-decimals]}.{digits[-decimals:]}" if decimals else digits
    values, _, _ = parse_decimals([f'["{text}"]'.encode()])
    assert values[0] == float(text)


def test_market_inference(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "raw" / "btcusdt_20240808.gz", FUTURES)
    with pytest.raises(DataError, match="market"):
        read_binance([path])
    assert read_binance([path], market="usdm").symbol == "BTCUSDT-PERP"
    other = write_capture(tmp_path / "raw" / "ethusdt_20240808.gz", [])
    with pytest.raises(DataError, match="one symbol"):
        read_binance([path, other], market="usdm")
    with pytest.raises(DataError, match="at least one"):
        read_binance([])


# ----------------------------------------------------------------------------- real data

# SOURCE.md: lines, trades, depth diffs, bookTicker, buyer-/seller-initiated trades.
REAL = {
    ("usdm", "btcusdt"): (("20240808",), 93_954, 21_313, 6_551, 66_089, 9_616, 11_697),
    ("usdm", "ethusdt"): (("20240808",), 74_655, 14_076, 6_586, 53_992, 6_984, 7_092),
    ("spot", "btcusdt"): (
        ("20240808", "20240809"),
        41_249 + 58_325,
        9_757 + 10_147,
        3_451 + 3_044,
        28_040 + 45_134,
        4_103 + 4_990,
        5_654 + 5_157,
    ),
    ("spot", "ethusdt"): (
        ("20240808", "20240809"),
        33_618 + 46_126,
        6_106 + 8_409,
        3_434 + 3_036,
        24_077 + 34_681,
        3_231 + 4_361,
        2_875 + 4_048,
    ),
}
# Measured: diffs discarded as older than the snapshot, depth lines quarantined because a
# level's size is finer than the spec's qty_unit (spot books carry one more decimal
# than the lot step in a few levels).
SKIPPED = {
    ("usdm", "btcusdt"): 4,
    ("usdm", "ethusdt"): 5,
    ("spot", "btcusdt"): 2,
    ("spot", "ethusdt"): 2,
}
ODD_LEVEL_LINES = {("spot", "btcusdt"): (7, 1e-5), ("spot", "ethusdt"): (3, 1e-4)}


@lru_cache(maxsize=4)
def _real(folder: str, market: str, sym: str) -> MarketData:
    days = REAL[market, sym][0]
    return read_binance([Path(folder) / market / f"{sym}_{d}.gz" for d in days])


@pytest.mark.parametrize(("market", "sym"), sorted(REAL))
def test_real_captures(binance_dir: Path, market: str, sym: str) -> None:
    m = _real(str(binance_dir), market, sym)
    _, lines, n_trades, n_diffs, n_quotes, buys, sells = REAL[market, sym]
    assert m.symbol == (f"{sym.upper()}-PERP" if market == "usdm" else sym.upper())
    assert m.rows_read == lines
    assert m.trades.num_rows == n_trades
    assert m.quotes.num_rows == n_quotes
    aggr = m.trades.column("aggressor").to_numpy()
    assert (int((aggr == 1).sum()), int((aggr == -1).sum())) == (buys, sells)
    ids = m.trades.column("trade_id").to_numpy()
    assert np.all(np.diff(ids) == 1)  # contiguous (SOURCE.md quirk 5)
    flags = m.book.column("flags").to_numpy()
    n_msgs = int(np.count_nonzero(flags & F_LAST))
    n_bad, unit = ODD_LEVEL_LINES.get((market, sym), (0, 0.0))
    if spec_for(m.symbol).qty_unit != unit:
        n_bad = 0  # a finer qty_unit makes every level integral
    assert m.quarantine.num_rows == n_bad
    assert m.rows_skipped == SKIPPED[market, sym]
    # Every diff is applied once, except the discarded ones; plus one snapshot.
    assert n_msgs == n_diffs - SKIPPED[market, sym] + 1
    assert m.rows_read == n_trades + n_quotes + n_diffs + 1
    seq = m.book.column("seq").to_numpy()
    assert np.all(np.diff(seq) >= 0)
    assert m.book.column("action").to_numpy()[0] == 3  # CLEAR first
    sizes = m.book.column("size").to_numpy()
    assert np.all(sizes == np.rint(sizes)) and np.all(sizes >= 0)
    ts = pc.cast(m.book.column("ts_event"), "int64").to_numpy()
    assert np.all(np.diff(ts) >= 0)
