"""The feature registry: what each feature means, its units, window and source."""

from __future__ import annotations

from typing import Literal

import msgspec

from quantumtrader.features.ofi import DEFAULT_OFI_WINDOWS, ofi_names

__all__ = ["FeatureInfo", "registry"]

WILDER = (
    "J. W. Wilder, New Concepts in Technical Trading Systems, Trend Research (1978); "
    "parity with TA-Lib (https://ta-lib.org)"
)
OFI_REF = (
    "Chordia & Subrahmanyam, J. Financial Economics 72 (2004) 485-518 (trade imbalance); "
    "Cont, Kukanov & Stoikov, J. Financial Econometrics 12(1) (2014) 47-88 (OFI; theirs "
    "is book-based, this is the trade-based variant)"
)


class FeatureInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Metadata of one registered feature.

    Attributes
    ----------
    name
        Feature name as it appears in snapshots and batch frames.
    description
        One-line definition.
    units
        Units of the value.
    window
        Window or warm-up, in words (event time for trade features, candles otherwise).
    inputs
        ``"trades"`` (updated on every trade) or ``"candles"`` (on closed 1-minute bars).
    reference
        Paper, book or URL the definition follows.
    """

    name: str
    description: str
    units: str
    window: str
    inputs: Literal["trades", "candles"]
    reference: str


def _ofi_infos(w: int) -> list[FeatureInfo]:
    value, vel, acc = ofi_names(w)
    window = f"trailing {w} min of event time, (t - {w}m, t]"
    return [
        FeatureInfo(
            name=value,
            description="(buy - sell) / (buy + sell) aggressor volume; 0 when none",
            units="dimensionless, [-1, 1]",
            window=window,
            inputs="trades",
            reference=OFI_REF,
        ),
        FeatureInfo(
            name=vel,
            description=f"{value} now minus {value} at the end of the previous active second",
            units="OFI units per active second",
            window=window + "; defined from the second active second",
            inputs="trades",
            reference=OFI_REF,
        ),
        FeatureInfo(
            name=acc,
            description=f"{vel} now minus {vel} at the end of the previous active second",
            units="OFI units per active second squared",
            window=window + "; defined from the third active second",
            inputs="trades",
            reference=OFI_REF,
        ),
    ]


def registry(
    ofi_windows: tuple[int, ...] = DEFAULT_OFI_WINDOWS,
    ema_periods: tuple[int, int] = (9, 21),
    rsi_period: int = 14,
    atr_period: int = 14,
    adx_period: int = 14,
) -> tuple[FeatureInfo, ...]:
    """Every feature of a :class:`~quantumtrader.features.FeatureSet` with these parameters.

    The order is the column order of ``FeatureSet.snapshot()`` and ``compute_batch``.
    """
    infos = [
        FeatureInfo(
            name="cum_delta",
            description="sum of qty * side (buy +1, sell -1, none 0) since reset",
            units="contracts",
            window="since reset (session)",
            inputs="trades",
            reference="Order-flow delta; trade sign as in Lee & Ready, J. Finance 46 (1991)",
        )
    ]
    for w in ofi_windows:
        infos.extend(_ofi_infos(w))
    for n in ema_periods:
        infos.append(
            FeatureInfo(
                name=f"ema_{n}",
                description=f"EMA of the 1-minute close, k = 2/({n}+1), SMA-seeded",
                units="points",
                window=f"{n} closed 1-minute candles (first value at candle {n - 1})",
                inputs="candles",
                reference="TA-Lib EMA (https://ta-lib.org), SMA seed of the first N closes",
            )
        )
    dmi_window = f"{adx_period} candles, Wilder smoothing (first value at candle {adx_period})"
    infos += [
        FeatureInfo(
            name=f"rsi_{rsi_period}",
            description="Wilder RSI of the 1-minute close, 100 G / (G + L)",
            units="percent, [0, 100]",
            window=f"{rsi_period} candles, Wilder smoothing (first value at candle {rsi_period})",
            inputs="candles",
            reference=WILDER,
        ),
        FeatureInfo(
            name=f"atr_{atr_period}",
            description="Wilder average true range of 1-minute candles",
            units="points",
            window=f"{atr_period} candles, Wilder smoothing (first value at candle {atr_period})",
            inputs="candles",
            reference=WILDER,
        ),
        FeatureInfo(
            name=f"adx_{adx_period}",
            description="Wilder average directional index, smoothed 100 |+DI - -DI| / (+DI + -DI)",
            units="percent, [0, 100]",
            window=f"{adx_period} candles, first value at candle {2 * adx_period - 1}",
            inputs="candles",
            reference=WILDER,
        ),
        FeatureInfo(
            name=f"plus_di_{adx_period}",
            description="Wilder +DI, 100 * smoothed +DM / smoothed TR",
            units="percent, [0, 100]",
            window=dmi_window,
            inputs="candles",
            reference=WILDER,
        ),
        FeatureInfo(
            name=f"minus_di_{adx_period}",
            description="Wilder -DI, 100 * smoothed -DM / smoothed TR",
            units="percent, [0, 100]",
            window=dmi_window,
            inputs="candles",
            reference=WILDER,
        ),
    ]
    return tuple(infos)
