"""The configuration shown in the README is valid and equals the defaults."""

from __future__ import annotations

from pathlib import Path

from quantumtrader.cli.config import BacktestConfig, load_config

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_config_block_is_the_defaults(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("```toml") + len("```toml")
    block = text[start : text.index("```", start)]
    cfg = tmp_path / "readme.toml"
    cfg.write_text(block, encoding="utf-8")
    assert load_config(cfg) == BacktestConfig()
