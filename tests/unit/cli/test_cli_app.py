"""The command line: help, clear one-line errors, import → ls → backtest."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from quantumtrader.cli import main


def _run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["quantumtrader", *args])
    monkeypatch.setenv("COLUMNS", "200")
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_help_teaches_the_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(monkeypatch, capsys, "--help")
    assert code == 0
    for word in ("backtest", "data", "demo", "instruments"):
        assert word in out


def test_missing_file_is_one_line_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = _run(monkeypatch, capsys, "backtest", str(tmp_path / "nope.csv"))
    assert code == 1
    assert "no such file" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_config_key_is_reported(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    b3_day_file: Path,
) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[risk]\nmax_positon = 2\n")
    code, _, err = _run(monkeypatch, capsys, "backtest", str(b3_day_file), "--config", str(cfg))
    assert code == 1
    assert "max_positon" in err
    assert "Traceback" not in err


def test_demo_without_data_says_how(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUANTUMTRADER_SAMPLE_DATA", str(tmp_path / "absent"))
    code, _, err = _run(monkeypatch, capsys, "demo")
    assert code == 1
    assert "--data" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_import_ls_backtest_round(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    b3_day_file: Path,
) -> None:
    lake = tmp_path / "lake"
    code, out, _ = _run(
        monkeypatch, capsys, "data", "import", str(b3_day_file), "--lake", str(lake)
    )
    assert code == 0
    assert "31,259" in out
    code, out, _ = _run(monkeypatch, capsys, "data", "ls", "--lake", str(lake))
    assert code == 0
    assert "DOLZ18" in out
    assert "2018-11-05" in out
    code, _, err = _run(monkeypatch, capsys, "backtest", str(lake), "--date", "2018-11-06")
    assert code == 1
    assert "DOLZ18/2018-11-05" in err  # tells what the lake has
    out_dir = tmp_path / "results"
    code, out, _ = _run(monkeypatch, capsys, "backtest", str(lake), "--out", str(out_dir))
    assert code == 0
    assert "not evidence of an edge" in out
    report = (out_dir / "DOLZ18_2018-11-05" / "report.html").read_text()
    assert "Not evidence of an edge" in report
    assert "<script src=" not in report or "cdn" not in report  # plotly.js is embedded
    assert "Plotly" in report
    result = json.loads((out_dir / "DOLZ18_2018-11-05" / "result.json").read_text())
    assert result["n_events"] == 31_259
