"""Coordinator consensus math and decisions."""

from __future__ import annotations

import pytest

from quantumtrader.agents import Coordinator, CoordinatorConfig, MarketView, consensus
from quantumtrader.core.errors import ConfigError
from quantumtrader.model import Action, Decision, Signal

NOW = 1_754_917_200_000_000_000
SEC = 1_000_000_000


def sig(agent: str, action: Action, conf: float, age_s: float = 0.0, sym: str = "WDOU25") -> Signal:
    return Signal(
        ts=NOW - int(age_s * SEC),
        agent_id=agent,
        symbol=sym,
        action=action,
        confidence=conf,
        reason=f"{agent} says {action.value}",
    )


def decide(coord: Coordinator, *signals: Signal) -> Decision:
    v = MarketView("WDOU25", ts=NOW, signals={s.agent_id: s for s in signals})
    out = coord.on_timer(NOW, v)
    assert len(out) == 1
    d = out[0]
    assert isinstance(d, Decision)
    assert set(d.consensus) == {"buy_strength", "sell_strength", "direction", "strength"}
    return d


def test_consensus_math() -> None:
    cfg = CoordinatorConfig(weights={"a": 2.0})
    c = consensus(
        [sig("a", Action.BUY, 0.9), sig("b", Action.SELL, 0.6), sig("c", Action.HOLD, 0.0)],
        NOW,
        cfg,
    )
    assert c.buy_strength == pytest.approx(2 * 0.9 / 4)
    assert c.sell_strength == pytest.approx(0.6 / 4)
    assert c.direction == 1
    assert c.strength == pytest.approx(0.3)


def test_stale_and_foreign_signals_ignored() -> None:
    c = consensus(
        [sig("a", Action.BUY, 1.0, age_s=2.5), sig("b", Action.SELL, 0.8, sym="WINV25")],
        NOW,
        CoordinatorConfig(),
        symbol="WDOU25",
    )
    assert c.fresh == ()
    assert (c.buy_strength, c.sell_strength, c.direction, c.strength) == (0.0, 0.0, 0, 0.0)
    # exactly at the staleness limit is still fresh
    c = consensus([sig("a", Action.BUY, 1.0, age_s=2.0)], NOW, CoordinatorConfig())
    assert c.direction == 1


def test_buy_decision() -> None:
    d = decide(Coordinator(), sig("of", Action.BUY, 0.8), sig("tr", Action.BUY, 0.4))
    assert d.action is Action.BUY
    assert d.consensus["buy_strength"] == pytest.approx(0.6)
    assert d.consensus["direction"] == 1.0
    assert d.confidence == pytest.approx(0.6)
    assert d.signals == ("of", "tr")
    assert d.reasons[0].startswith("buy:")
    assert any("of: buy 0.80" in r for r in d.reasons)


def test_strong_consensus_boost() -> None:
    d = decide(Coordinator(), sig("of", Action.SELL, 0.9), sig("tr", Action.SELL, 0.8))
    assert d.action is Action.SELL
    assert d.consensus["direction"] == -1.0
    assert d.consensus["strength"] == pytest.approx(0.85)
    assert d.confidence == pytest.approx(0.95)
    assert "strong" in d.reasons[0]


def test_require_strong() -> None:
    coord = Coordinator(CoordinatorConfig(require_strong=True))
    d = decide(coord, sig("of", Action.BUY, 0.8), sig("tr", Action.BUY, 0.4))
    assert d.action is Action.HOLD
    assert "not strong" in d.reasons[0]


@pytest.mark.parametrize(
    "signals",
    [
        (),
        (sig("of", Action.BUY, 0.8), sig("tr", Action.HOLD, 0.0)),  # 0.4 < 0.5
        (sig("of", Action.BUY, 0.8), sig("tr", Action.SELL, 0.8)),  # no direction
        (sig("of", Action.BUY, 1.0, age_s=3.0),),  # stale
    ],
)
def test_hold(signals: tuple[Signal, ...]) -> None:
    d = decide(Coordinator(), *signals)
    assert d.action is Action.HOLD
    assert d.confidence == 0.0
    assert d.reasons[0].startswith("hold:")


def test_own_signal_ignored_and_cadence() -> None:
    coord = Coordinator()
    assert coord.cadence_ns == SEC
    d = decide(coord, sig("coordinator", Action.BUY, 1.0))
    assert d.action is Action.HOLD


@pytest.mark.parametrize(
    "kw", [{"min_strength": 1.5}, {"weights": {"a": -1.0}}, {"staleness_ms": -1}]
)
def test_bad_config(kw: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        CoordinatorConfig(**kw)  # type: ignore[arg-type]
