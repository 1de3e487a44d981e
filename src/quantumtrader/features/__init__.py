"""Layer 3: order-flow and candle features, stream and batch (DESIGN.md sections 1, 5, 8).

Every feature's numeric core is a numba kernel over flat arrays; stream objects call
it once per event and batch functions loop the same kernel over a day's columns, so
the two agree exactly. :class:`FeatureEngine` runs the feature library (groups of
:mod:`quantumtrader.features.groups`, catalogued in ``docs/features.md``) in the stream
and the batch path; :class:`FeatureSet` is the foundation's compact set the replay's
specialists read, and :func:`compute_batch` its batch twin.
"""

from quantumtrader.features.candles import CANDLE_COLUMNS, Candle, CandleBuilder, candles_batch
from quantumtrader.features.delta import CumulativeDelta, cum_delta_batch
from quantumtrader.features.engine import FeatureEngine, interval_ends
from quantumtrader.features.featureset import (
    CONTEXT_COLUMNS,
    FeatureBatch,
    FeatureSet,
    compute_batch,
    compute_batch_full,
)
from quantumtrader.features.group import FeatureDoc, Group, GroupContext
from quantumtrader.features.inputs import KIND_BOOK, KIND_TRADE, FeatureInput
from quantumtrader.features.ofi import DEFAULT_OFI_WINDOWS, ofi_batch, ofi_names
from quantumtrader.features.ofi_stream import OrderFlowImbalance, TradeOFI
from quantumtrader.features.protocol import CandleFeature, Feature, TradeFeature
from quantumtrader.features.registry import FeatureInfo, registry
from quantumtrader.features.ta_kernels import atr_batch, dmi_batch, ema_batch, rsi_batch
from quantumtrader.features.ta_stream import ADX, ATR, EMA, RSI, MinusDI, PlusDI

__all__ = [
    "ADX",
    "ATR",
    "CANDLE_COLUMNS",
    "CONTEXT_COLUMNS",
    "DEFAULT_OFI_WINDOWS",
    "EMA",
    "KIND_BOOK",
    "KIND_TRADE",
    "RSI",
    "Candle",
    "CandleBuilder",
    "CandleFeature",
    "CumulativeDelta",
    "Feature",
    "FeatureBatch",
    "FeatureDoc",
    "FeatureEngine",
    "FeatureInfo",
    "FeatureInput",
    "FeatureSet",
    "Group",
    "GroupContext",
    "MinusDI",
    "OrderFlowImbalance",
    "PlusDI",
    "TradeFeature",
    "TradeOFI",
    "atr_batch",
    "candles_batch",
    "compute_batch",
    "compute_batch_full",
    "cum_delta_batch",
    "dmi_batch",
    "ema_batch",
    "interval_ends",
    "ofi_batch",
    "ofi_names",
    "registry",
    "rsi_batch",
]
