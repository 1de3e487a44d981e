"""Coordinator: turns the specialists' latest signals into one decision per timer.

Flow consensus over the *fresh* signals ``S`` (same symbol, ``now − ts ≤ staleness``),
each with weight ``w`` (``weights[agent_id]``, default ``default_weight``)::

    W             = Σ_{s∈S} w_s                        (HOLD signals count in W)
    buy_strength  = Σ_{s∈S, BUY}  w_s · confidence_s / W
    sell_strength = Σ_{s∈S, SELL} w_s · confidence_s / W
    direction     = sign(buy_strength − sell_strength)  (+1, −1 or 0)
    strength      = |buy_strength − sell_strength|      (0..1)

Decision: BUY (SELL) when ``direction`` is +1 (−1), at least one fresh BUY (SELL)
signal agrees with it, and ``strength ≥ min_strength``; HOLD otherwise.

Strong consensus: when ``strength > strong_consensus`` (0.7) the decision's
confidence is boosted by ``strong_boost`` (``confidence = min(strength + boost, 1)``,
else ``confidence = strength``); with ``require_strong=True`` a BUY/SELL additionally
needs a strong consensus. HOLD decisions carry confidence 0.
"""

from __future__ import annotations

import msgspec

from quantumtrader.agents.base import AgentBase, AgentConfig, MarketView
from quantumtrader.core.errors import ConfigError
from quantumtrader.model.signals import Action, Decision, Signal

__all__ = ["Consensus", "Coordinator", "CoordinatorConfig", "consensus"]


class CoordinatorConfig(AgentConfig, frozen=True, kw_only=True):
    """Configuration of :class:`Coordinator`.

    Attributes
    ----------
    agent_id
        Default ``"coordinator"``.
    cadence_ms
        Timer period, ms (default 1000).
    staleness_ms
        Signals older than this are ignored, ms (default 2000).
    min_strength
        Minimum consensus strength for BUY/SELL, in ``[0, 1]`` (default 0.5).
    strong_consensus
        Strength above which the consensus counts as strong (default 0.7).
    strong_boost
        Confidence added to a decision backed by a strong consensus (default 0.1).
    require_strong
        When True, BUY/SELL needs a strong consensus (default False).
    weights
        Per-agent weight by agent id (≥ 0); missing ids get ``default_weight``.
    default_weight
        Weight of agents not in ``weights`` (default 1).
    """

    agent_id: str = "coordinator"
    cadence_ms: int = 1000
    staleness_ms: int = 2000
    min_strength: float = 0.5
    strong_consensus: float = 0.7
    strong_boost: float = 0.1
    require_strong: bool = False
    weights: dict[str, float] = msgspec.field(default_factory=dict)
    default_weight: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.staleness_ms < 0:
            raise ConfigError(f"{self.agent_id}: staleness_ms must be >= 0")
        for name in ("min_strength", "strong_consensus", "strong_boost"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{self.agent_id}: {name} must be in [0, 1], got {value}")
        if self.default_weight < 0 or any(w < 0 for w in self.weights.values()):
            raise ConfigError(f"{self.agent_id}: weights must be >= 0")


class Consensus(msgspec.Struct, frozen=True, kw_only=True):
    """Flow consensus figures (see the module docstring)."""

    buy_strength: float
    sell_strength: float
    direction: int
    strength: float
    fresh: tuple[Signal, ...]

    def as_dict(self) -> dict[str, float]:
        """The four figures ``Decision.consensus`` carries."""
        return {
            "buy_strength": self.buy_strength,
            "sell_strength": self.sell_strength,
            "direction": float(self.direction),
            "strength": self.strength,
        }


def consensus(
    signals: list[Signal], now_ns: int, config: CoordinatorConfig, symbol: str | None = None
) -> Consensus:
    """Weighted flow consensus of the fresh signals.

    Parameters
    ----------
    signals
        Candidate signals (any order).
    now_ns
        Market time, ns UTC.
    config
        Staleness limit and weights.
    symbol
        When given, signals of other symbols are ignored.

    Returns
    -------
    Consensus
        Strengths in ``[0, 1]``; all zero when no signal is fresh or weights sum to 0.
    """
    limit = config.staleness_ms * 1_000_000
    fresh = tuple(
        sorted(
            (
                s
                for s in signals
                if now_ns - s.ts <= limit and (symbol is None or s.symbol == symbol)
            ),
            key=lambda s: s.agent_id,
        )
    )
    total = buy = sell = 0.0
    for s in fresh:
        w = config.weights.get(s.agent_id, config.default_weight)
        total += w
        conf = min(max(s.confidence, 0.0), 1.0)
        if s.action is Action.BUY:
            buy += w * conf
        elif s.action is Action.SELL:
            sell += w * conf
    if total <= 0.0:
        zero = 0.0
        return Consensus(
            buy_strength=zero, sell_strength=zero, direction=0, strength=zero, fresh=fresh
        )
    buy, sell = buy / total, sell / total
    direction = 1 if buy > sell else (-1 if sell > buy else 0)
    return Consensus(
        buy_strength=buy,
        sell_strength=sell,
        direction=direction,
        strength=abs(buy - sell),
        fresh=fresh,
    )


class Coordinator(AgentBase[CoordinatorConfig]):
    """Emits exactly one :class:`~quantumtrader.model.signals.Decision` per timer.

    Parameters
    ----------
    config
        :class:`CoordinatorConfig`.
    """

    def __init__(self, config: CoordinatorConfig | None = None) -> None:
        super().__init__(config or CoordinatorConfig())

    def decide(self, now_ns: int, view: MarketView) -> Decision:
        """The decision for ``view.signals`` at ``now_ns`` without counting it."""
        cfg = self.config
        candidates = [s for k, s in view.signals.items() if k != cfg.agent_id]
        cons = consensus(candidates, now_ns, cfg, symbol=view.symbol)
        want = {1: Action.BUY, -1: Action.SELL}.get(cons.direction, Action.HOLD)
        aligned = [s for s in cons.fresh if s.action is want and want is not Action.HOLD]
        strong = cons.strength > cfg.strong_consensus
        reasons = [
            f"{s.agent_id}: {s.action.value} {s.confidence:.2f} ({s.reason})" for s in cons.fresh
        ]
        summary = (
            f"consensus buy={cons.buy_strength:.2f} sell={cons.sell_strength:.2f} "
            f"strength={cons.strength:.2f}"
        )
        if not cons.fresh:
            why = "no fresh signals"
        elif want is Action.HOLD:
            why = "no direction"
        elif not aligned:
            why = f"no {want.value} signal agrees"
        elif cons.strength < cfg.min_strength:
            why = f"strength below {cfg.min_strength:g}"
        elif cfg.require_strong and not strong:
            why = f"consensus not strong (≤ {cfg.strong_consensus:g})"
        else:
            why = ""
        if why:
            action, confidence = Action.HOLD, 0.0
            reasons.insert(0, f"hold: {why}; {summary}")
        else:
            action = want
            confidence = min(cons.strength + cfg.strong_boost, 1.0) if strong else cons.strength
            tag = " strong" if strong else ""
            reasons.insert(0, f"{want.value}:{tag} {summary}, {len(aligned)} agreeing")
        return Decision(
            ts=now_ns,
            symbol=view.symbol,
            action=action,
            confidence=confidence,
            reasons=tuple(reasons),
            consensus=cons.as_dict(),
            signals=tuple(s.agent_id for s in cons.fresh),
        )

    def on_timer(self, now_ns: int, view: MarketView) -> list[Signal | Decision]:
        """One decision per timer (HOLD included)."""
        decision = self.decide(now_ns, view)
        self.stats.count(decision.action, now_ns)
        return [decision]
