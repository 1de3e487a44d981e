"""Real sample data as :class:`~quantumtrader.features.inputs.FeatureInput` (for tests, benchmarks).

The data live in ``../shared/data`` beside the repository (``QUANTUMTRADER_SHARED_DATA``
overrides); loaders return None when a folder is absent so callers can skip with a
reason.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from quantumtrader.data.binance import read_binance
from quantumtrader.data.merge import KIND_BOOK, KIND_TRADE, chunks_from_table, merge_streams
from quantumtrader.data.reader import read_days
from quantumtrader.engine.feature_input import iter_feature_inputs
from quantumtrader.features.group import GroupContext
from quantumtrader.features.inputs import FeatureInput
from quantumtrader.model.instruments import spec_for

__all__ = ["b3_day_input", "binance_input", "concat_inputs", "shared_data_dir"]

B3_DAY = "b3_dol_tt_20181105/DOLZ18_Trade_05-11-2018.csv"
BINANCE = "binance_raw_l2_20240808"


def shared_data_dir() -> Path:
    """``../shared/data`` beside the repository, or ``$QUANTUMTRADER_SHARED_DATA``."""
    env = os.environ.get("QUANTUMTRADER_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3].parent / "shared" / "data"


@functools.lru_cache(maxsize=1)
def b3_day_input() -> tuple[FeatureInput, GroupContext] | None:
    """The real 2018-11-05 DOLZ18 day (31,259 trades with broker codes), or None if absent."""
    path = shared_data_dir() / B3_DAY
    if not path.is_file():
        return None
    batch = read_days(path)[0]
    return FeatureInput.from_trade_table(batch.table), GroupContext.for_symbol(batch.symbol)


def concat_inputs(parts: list[FeatureInput]) -> FeatureInput:
    """One input from consecutive parts (book rows re-indexed)."""

    offs = np.cumsum([0] + [p.lv.shape[0] for p in parts])
    return FeatureInput(
        kind=np.concatenate([p.kind for p in parts]),
        ts=np.concatenate([p.ts for p in parts]),
        price=np.concatenate([p.price for p in parts]),
        qty=np.concatenate([p.qty for p in parts]),
        side=np.concatenate([p.side for p in parts]),
        buyer=np.concatenate([p.buyer for p in parts]),
        seller=np.concatenate([p.seller for p in parts]),
        brow=np.concatenate(
            [np.where(p.brow >= 0, p.brow + o, -1) for p, o in zip(parts, offs, strict=False)]
        ),
        lv=np.concatenate([p.lv for p in parts]),
    )


@functools.lru_cache(maxsize=4)
def binance_input(
    market: str = "usdm", symbol: str = "btcusdt"
) -> tuple[FeatureInput, GroupContext] | None:
    """Binance trades + top-10 book frames of 2024-08-08 (``usdm`` or ``spot``), or None.

    ``usdm btcusdt``: 21,313 trades and 6,548 book messages (BTCUSDT-PERP).
    """
    folder = shared_data_dir() / BINANCE / market
    paths = sorted(folder.glob(f"{symbol}_*.gz"))
    if not paths:
        return None
    md = read_binance(paths)
    spec = spec_for(md.symbol)
    chunks = merge_streams(
        [
            chunks_from_table(md.trades, KIND_TRADE, md.symbol),
            chunks_from_table(md.book, KIND_BOOK, md.symbol),
        ]
    )
    parts = list(iter_feature_inputs(chunks, spec.tick_size, md.symbol))
    return concat_inputs(parts), GroupContext.for_symbol(md.symbol)
