"""Order-flow specialist: trades with a short and a longer order-flow imbalance.

The OFI features are normalised aggressor-volume imbalances over a trailing window of
market time, ``(buy volume − sell volume) / (buy volume + sell volume)`` in ``[−1, 1]``
(``ofi_1m``, ``ofi_5m``); ``ofi_1m_velocity`` is the change of ``ofi_1m`` per unit
time (only its sign matters here).

Rule (defaults are the seed's):

* BUY when ``ofi_1m > threshold`` and ``ofi_5m > threshold`` (both windows agree on
  buying pressure) and ``ofi_1m_velocity > 0`` (the short imbalance is still rising);
* SELL in the mirror case (``< −threshold`` and velocity ``< 0``);
* HOLD otherwise, including while any input is not warm.

Confidence of BUY/SELL is ``min(2·|ofi_1m|, 1)`` — it uses the fast window ``ofi_1m``
(the configured ``fast`` feature), so an imbalance of 0.5 or more is full confidence.
HOLD signals carry confidence 0.

References
----------
Cont, R., Kukanov, A. and Stoikov, S. (2014), "The price impact of order book
events", *Journal of Financial Econometrics* 12(1), 47–88 (order-flow imbalance).
"""

from __future__ import annotations

from quantumtrader.agents.base import AgentConfig, MarketView, SignalSpecialist, feature
from quantumtrader.core.errors import ConfigError
from quantumtrader.model.signals import Action, Signal

__all__ = ["OrderFlowConfig", "OrderFlowSpecialist"]


class OrderFlowConfig(AgentConfig, frozen=True, kw_only=True):
    """Configuration of :class:`OrderFlowSpecialist`.

    Attributes
    ----------
    agent_id
        Default ``"orderflow"``.
    cadence_ms
        Timer period, ms (default 100).
    threshold
        Minimum absolute imbalance on both windows, dimensionless in ``(0, 1)``
        (default 0.3). The comparison is strict.
    fast, slow
        Feature names of the short and the long imbalance (``ofi_1m``, ``ofi_5m``).
    velocity
        Feature name of the fast imbalance's velocity (``ofi_1m_velocity``).
    require_velocity
        When False the velocity condition is skipped (velocity is still reported).
    confidence_scale
        Confidence is ``min(confidence_scale·|fast|, 1)`` (default 2).
    """

    agent_id: str = "orderflow"
    cadence_ms: int = 100
    threshold: float = 0.3
    fast: str = "ofi_1m"
    slow: str = "ofi_5m"
    velocity: str = "ofi_1m_velocity"
    require_velocity: bool = True
    confidence_scale: float = 2.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"{self.agent_id}: threshold must be in (0, 1), got {self.threshold}")
        if self.confidence_scale <= 0.0:
            raise ConfigError(f"{self.agent_id}: confidence_scale must be > 0")


class OrderFlowSpecialist(SignalSpecialist[OrderFlowConfig]):
    """Emits one BUY, SELL or HOLD signal per timer from the OFI features.

    Parameters
    ----------
    config
        :class:`OrderFlowConfig`; defaults reproduce the seed rule.

    Examples
    --------
    >>> from quantumtrader.agents.base import MarketView
    >>> agent = OrderFlowSpecialist(OrderFlowConfig())
    >>> view = MarketView("WDOU25", features={
    ...     "ofi_1m": 0.42, "ofi_5m": 0.35, "ofi_1m_velocity": 0.01})
    >>> [s.action.value for s in agent.on_timer(0, view)]
    ['buy']
    """

    reads_book = False  # features only

    def __init__(self, config: OrderFlowConfig | None = None) -> None:
        super().__init__(config or OrderFlowConfig())

    def evaluate(self, now_ns: int, view: MarketView) -> Signal:
        """The signal for ``view`` at ``now_ns`` without counting it."""
        cfg = self.config
        fast = feature(view, cfg.fast)
        slow = feature(view, cfg.slow)
        vel = feature(view, cfg.velocity)
        meta = {cfg.fast: fast, cfg.slow: slow, cfg.velocity: vel}
        metadata = {k: v for k, v in meta.items() if v is not None}
        symbol = view.symbol

        def hold(reason: str) -> Signal:
            return Signal(
                ts=now_ns,
                agent_id=cfg.agent_id,
                symbol=symbol,
                action=Action.HOLD,
                confidence=0.0,
                reason=reason,
                metadata=metadata,
            )

        missing = [k for k, v in meta.items() if v is None]
        if cfg.require_velocity is False and missing == [cfg.velocity]:
            missing = []
        if missing or fast is None or slow is None:
            return hold(f"not warm: {', '.join(missing)}")
        text = f"{cfg.fast}={fast:.2f} {cfg.slow}={slow:.2f}"
        if fast > cfg.threshold and slow > cfg.threshold:
            action = Action.BUY
        elif fast < -cfg.threshold and slow < -cfg.threshold:
            action = Action.SELL
        else:
            return hold(f"{text} no agreement beyond ±{cfg.threshold:g}")
        rising = vel is not None and vel > 0.0
        falling = vel is not None and vel < 0.0
        agrees = rising if action is Action.BUY else falling
        word = "rising" if rising else ("falling" if falling else "flat")
        if cfg.require_velocity and not agrees:
            return hold(f"{text} velocity {word} against {action.value}")
        confidence = min(cfg.confidence_scale * abs(fast), 1.0)
        return Signal(
            ts=now_ns,
            agent_id=cfg.agent_id,
            symbol=symbol,
            action=action,
            confidence=confidence,
            reason=f"{text} velocity {word}",
            metadata=metadata,
        )
