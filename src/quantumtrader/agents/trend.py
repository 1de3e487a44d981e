"""Trend specialist: EMA alignment confirmed by trend strength (ADX).

Rule (defaults are the seed's):

* BUY when ``ema_9 > ema_21`` and ``last_price > ema_9`` and ``adx_14 > 25``;
* SELL when ``ema_9 < ema_21`` and ``last_price < ema_9`` and ``adx_14 > 25``;
* HOLD otherwise, including while any input is not warm.

Confidence of BUY/SELL grows linearly with ADX above the threshold::

    confidence = clip((adx − adx_threshold) / (adx_full − adx_threshold), floor, 1)

with ``adx_full = 50`` and ``floor = 0.1`` by default, so ADX 30 gives 0.2 and ADX ≥ 50
gives 1. The last price is the ``last_price`` feature when present, else
``MarketView.last_price``.

References
----------
Wilder, J. W. (1978), *New Concepts in Technical Trading Systems*, Trend Research
(ADX, +DI, −DI).
"""

from __future__ import annotations

import math

from quantumtrader.agents.base import AgentConfig, MarketView, SignalSpecialist, feature
from quantumtrader.core.errors import ConfigError
from quantumtrader.model.signals import Action, Signal

__all__ = ["TrendConfig", "TrendSpecialist"]


class TrendConfig(AgentConfig, frozen=True, kw_only=True):
    """Configuration of :class:`TrendSpecialist`.

    Attributes
    ----------
    agent_id
        Default ``"trend"``.
    cadence_ms
        Timer period, ms (default 100).
    fast_ema, slow_ema, adx
        Feature names (``ema_9``, ``ema_21``, ``adx_14``).
    adx_threshold
        ADX must be strictly above this (default 25).
    adx_full
        ADX at which confidence reaches 1 (default 50, > ``adx_threshold``).
    confidence_floor
        Lowest confidence of a BUY/SELL signal, in ``[0, 1]`` (default 0.1).
    require_di
        When True, BUY also needs ``plus_di_14 > minus_di_14`` and SELL the reverse.
    """

    agent_id: str = "trend"
    cadence_ms: int = 100
    fast_ema: str = "ema_9"
    slow_ema: str = "ema_21"
    adx: str = "adx_14"
    adx_threshold: float = 25.0
    adx_full: float = 50.0
    confidence_floor: float = 0.1
    require_di: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.adx_full <= self.adx_threshold:
            raise ConfigError(f"{self.agent_id}: adx_full must exceed adx_threshold")
        if not 0.0 <= self.confidence_floor <= 1.0:
            raise ConfigError(f"{self.agent_id}: confidence_floor must be in [0, 1]")


class TrendSpecialist(SignalSpecialist[TrendConfig]):
    """Emits one BUY, SELL or HOLD signal per timer from EMAs and ADX.

    Parameters
    ----------
    config
        :class:`TrendConfig`; defaults reproduce the seed rule.
    """

    reads_book = False  # features only

    def __init__(self, config: TrendConfig | None = None) -> None:
        super().__init__(config or TrendConfig())

    def confidence(self, adx: float) -> float:
        """Confidence for trend strength ``adx`` (ADX points), in ``[floor, 1]``."""
        cfg = self.config
        raw = (adx - cfg.adx_threshold) / (cfg.adx_full - cfg.adx_threshold)
        return min(max(raw, cfg.confidence_floor), 1.0)

    def evaluate(self, now_ns: int, view: MarketView) -> Signal:
        """The signal for ``view`` at ``now_ns`` without counting it."""
        cfg = self.config
        fast = feature(view, cfg.fast_ema)
        slow = feature(view, cfg.slow_ema)
        adx = feature(view, cfg.adx)
        price = feature(view, "last_price")
        if price is None and not math.isnan(view.last_price):
            price = float(view.last_price)
        inputs = {cfg.fast_ema: fast, cfg.slow_ema: slow, cfg.adx: adx, "last_price": price}
        if cfg.require_di:
            inputs["plus_di_14"] = feature(view, "plus_di_14")
            inputs["minus_di_14"] = feature(view, "minus_di_14")
        metadata = {k: v for k, v in inputs.items() if v is not None}

        def out(action: Action, confidence: float, reason: str) -> Signal:
            return Signal(
                ts=now_ns,
                agent_id=cfg.agent_id,
                symbol=view.symbol,
                action=action,
                confidence=confidence,
                reason=reason,
                metadata=metadata,
            )

        missing = [k for k, v in inputs.items() if v is None]
        if missing or fast is None or slow is None or adx is None or price is None:
            return out(Action.HOLD, 0.0, f"not warm: {', '.join(missing)}")
        text = (
            f"{cfg.fast_ema}={fast:.2f} {cfg.slow_ema}={slow:.2f} price={price:.2f} "
            f"{cfg.adx}={adx:.1f}"
        )
        if fast > slow and price > fast:
            action = Action.BUY
        elif fast < slow and price < fast:
            action = Action.SELL
        else:
            return out(Action.HOLD, 0.0, f"{text} EMAs not aligned")
        if adx <= cfg.adx_threshold:
            return out(Action.HOLD, 0.0, f"{text} weak trend (≤ {cfg.adx_threshold:g})")
        if cfg.require_di:
            plus, minus = metadata["plus_di_14"], metadata["minus_di_14"]
            if (plus > minus) != (action is Action.BUY) or plus == minus:
                return out(Action.HOLD, 0.0, f"{text} DI disagrees")
        side = "up" if action is Action.BUY else "down"
        return out(action, self.confidence(adx), f"{text} aligned {side}")
