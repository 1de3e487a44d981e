"""``quantumtrader features``: compute on the real B3 day and on Binance L2, list, docs."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from quantumtrader.cli.features_cmd import compute_features, parse_every
from quantumtrader.core import ConfigError
from quantumtrader.features.engine import FeatureEngine
from quantumtrader.testing import b3_day_input

Cli = Callable[..., tuple[int, str, str]]  # the `cli` fixture of conftest.py

S = 1_000_000_000


def test_compute_b3_day_one_row_per_active_second(
    cli: Cli, b3_day_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dol.parquet"
    code, _, err = cli("features", "compute", str(b3_day_file), "--out", str(out), "--every", "1s")
    assert code == 0, err
    frame = pl.read_parquet(out)
    got = b3_day_input()
    assert got is not None
    inp, ctx = got
    seconds = np.unique(inp.ts // S)
    assert frame.height == seconds.shape[0]
    assert frame.columns[:2] == ["ts", "symbol"]
    assert frame["symbol"].unique().to_list() == ["DOLZ18"]
    assert frame.width - 2 == FeatureEngine(ctx=ctx).n_features
    # the last row is the session's end state: cum delta = sum(qty * side) of the day
    assert frame["cum_delta"][-1] == float(np.sum(inp.qty * inp.side))
    assert f"{frame.height:,} rows" in err


def test_chunk_borders_do_not_change_samples(b3_day_file: Path) -> None:
    got = b3_day_input()
    if got is None:
        pytest.skip("real B3 sample data not found in ../shared/data")
    inp, ctx = got
    whole = compute_features(iter([inp]), FeatureEngine(["flow"], ctx=ctx), S)
    cuts = [0, 5, 777, 778, 12_000, 20_001, inp.n]  # cuts inside one-second intervals
    parts = (inp.slice(a, b) for a, b in itertools.pairwise(cuts))
    chunked = compute_features(parts, FeatureEngine(["flow"], ctx=ctx), S)
    assert whole.equals(chunked, null_equal=True)
    per_trade = compute_features(iter([inp]), FeatureEngine(["flow"], ctx=ctx), "trade")
    assert per_trade.height == inp.n


def test_compute_binance_l2_has_book_features(cli: Cli, binance_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "btc.parquet"
    src = binance_dir / "usdm" / "btcusdt_20240808.gz"
    code, _, err = cli("features", "compute", str(src), "-o", str(out), "--every", "1s",
                       "--groups", "flow,liquidity")  # fmt: skip
    assert code == 0, err
    frame = pl.read_parquet(out)
    assert frame["symbol"].unique().to_list() == ["BTCUSDT-PERP"]
    book_cols = [c for c in frame.columns if c.startswith(("liq_", "book_ofi"))]
    assert book_cols
    assert frame.select(book_cols).drop_nans().height > 0.9 * frame.height


def test_bad_options_end_in_one_line(cli: Cli, b3_day_file: Path, tmp_path: Path) -> None:
    code, _, err = cli("features", "compute", str(b3_day_file), "-o", str(tmp_path / "x.parquet"),
                       "--every", "soon")  # fmt: skip
    assert code == 1
    assert "--every 'soon'" in err and "Traceback" not in err
    code, _, err = cli("features", "compute", str(b3_day_file), "-o", str(tmp_path / "x.parquet"),
                       "--groups", "flow,nope")  # fmt: skip
    assert code == 1 and "unknown feature group 'nope'" in err
    code, _, err = cli("features", "compute", str(tmp_path / "missing.csv"), "-o", "x.parquet")
    assert code == 1 and "no such file" in err


def test_parse_every() -> None:
    assert parse_every("trade") == "trade"
    assert parse_every("250ms") == 250_000_000
    assert parse_every("5m") == 300 * S
    with pytest.raises(ConfigError):
        parse_every("0s")


def test_list_and_docs(cli: Cli, tmp_path: Path) -> None:
    code, out, _ = cli("features", "list", "--group", "flow")
    assert code == 0 and "cum_delta" in out and "ofi_5m" in out
    target = tmp_path / "features.md"
    code, _, err = cli("features", "docs", "--out", str(target))
    assert code == 0, err
    text = target.read_text()
    assert text.startswith("# Feature catalogue") and "`ofi_60m_acceleration`" in text
