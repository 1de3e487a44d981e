"""The command line: help, clear one-line errors, import → ls → backtest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., tuple[int, str, str]]  # the `cli` fixture of conftest.py


def test_help_teaches_the_commands(
    cli: Cli,
) -> None:
    code, out, _ = cli("--help")
    assert code == 0
    for word in ("backtest", "data", "demo", "instruments"):
        assert word in out


def test_missing_file_is_one_line_exit_1(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("backtest", str(tmp_path / "nope.csv"))
    assert code == 1
    assert "no such file" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_config_key_is_reported(
    cli: Cli,
    tmp_path: Path,
    b3_day_file: Path,
) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[risk]\nmax_positon = 2\n")
    code, _, err = cli("backtest", str(b3_day_file), "--config", str(cfg))
    assert code == 1
    assert "max_positon" in err
    assert "Traceback" not in err


def test_demo_without_data_says_how(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUANTUMTRADER_SAMPLE_DATA", str(tmp_path / "absent"))
    code, _, err = cli("demo")
    assert code == 1
    assert "--data" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_import_ls_backtest_round(
    cli: Cli,
    tmp_path: Path,
    b3_day_file: Path,
) -> None:
    lake = tmp_path / "lake"
    code, out, _ = cli("data", "import", str(b3_day_file), "--lake", str(lake))
    assert code == 0
    assert "31,259" in out
    code, out, _ = cli("data", "ls", "--lake", str(lake))
    assert code == 0
    assert "DOLZ18" in out
    assert "2018-11-05" in out
    code, _, err = cli("backtest", str(lake), "--date", "2018-11-06")
    assert code == 1
    assert "DOLZ18/2018-11-05" in err  # tells what the lake has
    out_dir = tmp_path / "results"
    code, out, _ = cli("backtest", str(lake), "--out", str(out_dir))
    assert code == 0
    assert "not evidence of an edge" in out
    report = (out_dir / "DOLZ18_2018-11-05" / "report.html").read_text()
    assert "Not evidence of an edge" in report
    assert "<script src=" not in report or "cdn" not in report  # plotly.js is embedded
    assert "Plotly" in report
    result = json.loads((out_dir / "DOLZ18_2018-11-05" / "result.json").read_text())
    assert result["n_events"] == 31_259
