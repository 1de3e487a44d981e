"""Shared fixture of the CLI tests: run ``quantumtrader`` in-process."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from quantumtrader.cli import main

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli(*args) -> (exit code, stdout, stderr)`` of ``quantumtrader *args`` (200 columns)."""

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["quantumtrader", *args])
        monkeypatch.setenv("COLUMNS", "200")
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run
