"""The command line with order-book data: import book sources, backtest with the exchange."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

Cli = Callable[..., tuple[int, str, str]]  # the `cli` fixture of conftest.py


def test_import_sierra_then_backtest_lake_with_the_exchange(
    cli: Cli,
    tmp_path: Path,
    sierra_dir: Path,
) -> None:
    lake, out = tmp_path / "lake", tmp_path / "out"
    code, text, err = cli("data", "import", str(sierra_dir / "tbt.txt"), "--lake", str(lake))
    assert code == 0, err
    assert "49,491" in text and "2,026" in text  # book deltas and trades of tbt.txt
    code, text, _ = cli("data", "ls", "--lake", str(lake))
    assert code == 0 and "book" in text and "quotes" in text
    code, text, err = cli("backtest", str(lake), "--symbol", "ES", "--out", str(out))
    assert code == 0, err
    assert "fill model: book" in text
    result = json.loads((out / "ES_2022-01-24" / "result.json").read_text())
    assert result["book_events"] == 49_491
    assert result["n_events"] == 49_491 + 2_026
    assert result["fill_model"] == "book"
    assert result["currency"] == "USD"
    assert "USD " in text and "R$" not in text  # money in the instrument's currency
    html = (out / "ES_2022-01-24" / "report.html").read_text()
    assert "Fill model: book" in html and "Equity, USD" in html


def test_backtest_book_file_directly_fast_mode(
    cli: Cli,
    tmp_path: Path,
    sierra_dir: Path,
) -> None:
    out = tmp_path / "out"
    code, text, err = cli(
        "backtest",
        str(sierra_dir / "2023_06_29.txt"),
        "--mode",
        "fast",
        "--out",
        str(out),
    )
    assert code == 0, err
    assert "fast: no queue, no latency" in text.replace("\n", " ")
    result = json.loads((out / "ES_2023-06-29" / "result.json").read_text())
    assert result["book_events"] == 14_637


def test_no_book_on_a_book_file_says_what_to_do(
    cli: Cli,
    tmp_path: Path,
    sierra_dir: Path,
) -> None:
    code, _, err = cli("backtest", str(sierra_dir / "tbt.txt"), "--no-book")
    assert code == 1
    assert "data import" in err and "--no-book" in err
    lake = tmp_path / "lake"
    cli("data", "import", str(sierra_dir / "tbt.txt"), "--lake", str(lake))
    code, text, err = cli("backtest", str(lake), "--no-book", "--out", str(tmp_path / "o"))
    assert code == 0, err
    assert "fill model: trades" in text


def test_bad_mode_and_unknown_book_file_are_clear_errors(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("backtest", str(tmp_path), "--mode", "slow")
    assert code == 2 and "slow" in err
    bogus = tmp_path / "x.gz"
    bogus.write_bytes(b"not gzip")
    code, _, err = cli("data", "import", str(bogus), "--lake", str(tmp_path))
    assert code == 1
    assert "x.gz" in err and len(err.strip().splitlines()) <= 3
