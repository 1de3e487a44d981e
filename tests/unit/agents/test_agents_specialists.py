"""Order-flow and trend specialists on hand-made views."""

from __future__ import annotations

import math

import pytest

from quantumtrader.agents import (
    Agent,
    AgentContext,
    MarketView,
    OrderFlowConfig,
    OrderFlowSpecialist,
    TrendConfig,
    TrendSpecialist,
)
from quantumtrader.core.errors import ConfigError
from quantumtrader.model import Action, Signal, spec_for

NOW = 1_754_917_200_000_000_000


def view(**features: float | None) -> MarketView:
    return MarketView("WDOU25", ts=NOW, last_price=5500.0, features=features)


def one(agent: OrderFlowSpecialist | TrendSpecialist, v: MarketView) -> Signal:
    out = agent.on_timer(NOW, v)
    assert len(out) == 1
    sig = out[0]
    assert isinstance(sig, Signal)
    assert sig.ts == NOW
    assert sig.symbol == "WDOU25"
    assert 0.0 <= sig.confidence <= 1.0
    return sig


class TestOrderFlow:
    def test_protocol_and_cadence(self) -> None:
        agent = OrderFlowSpecialist()
        assert isinstance(agent, Agent)
        assert agent.agent_id == "orderflow"
        assert agent.cadence_ns == 100_000_000
        agent.on_start(AgentContext(symbol="WDOU25", spec=spec_for("WDO")))
        agent.on_stop()

    def test_buy(self) -> None:
        sig = one(OrderFlowSpecialist(), view(ofi_1m=0.42, ofi_5m=0.35, ofi_1m_velocity=0.02))
        assert sig.action is Action.BUY
        assert sig.confidence == pytest.approx(0.84)
        assert sig.reason == "ofi_1m=0.42 ofi_5m=0.35 velocity rising"
        assert sig.metadata == {"ofi_1m": 0.42, "ofi_5m": 0.35, "ofi_1m_velocity": 0.02}

    def test_sell_confidence_capped(self) -> None:
        sig = one(OrderFlowSpecialist(), view(ofi_1m=-0.8, ofi_5m=-0.4, ofi_1m_velocity=-0.1))
        assert sig.action is Action.SELL
        assert sig.confidence == 1.0
        assert "velocity falling" in sig.reason

    @pytest.mark.parametrize(
        ("f1", "f5", "vel"),
        [
            (0.42, 0.2, 0.1),  # 5m below threshold
            (0.42, -0.35, 0.1),  # disagree in sign
            (0.3, 0.5, 0.1),  # exactly at threshold is not beyond it
            (0.42, 0.35, -0.01),  # velocity against the buy
            (0.42, 0.35, 0.0),  # flat velocity
            (-0.42, -0.35, 0.01),  # velocity against the sell
        ],
    )
    def test_hold(self, f1: float, f5: float, vel: float) -> None:
        sig = one(OrderFlowSpecialist(), view(ofi_1m=f1, ofi_5m=f5, ofi_1m_velocity=vel))
        assert sig.action is Action.HOLD
        assert sig.confidence == 0.0

    def test_not_warm(self) -> None:
        sig = one(OrderFlowSpecialist(), view(ofi_1m=0.5, ofi_5m=None, ofi_1m_velocity=math.nan))
        assert sig.action is Action.HOLD
        assert "not warm" in sig.reason
        assert "ofi_5m" in sig.reason
        assert sig.metadata == {"ofi_1m": 0.5}

    def test_velocity_optional(self) -> None:
        agent = OrderFlowSpecialist(OrderFlowConfig(require_velocity=False))
        sig = one(agent, view(ofi_1m=0.42, ofi_5m=0.35, ofi_1m_velocity=-0.1))
        assert sig.action is Action.BUY
        sig = one(agent, view(ofi_1m=0.42, ofi_5m=0.35))
        assert sig.action is Action.BUY

    def test_counts(self) -> None:
        agent = OrderFlowSpecialist()
        one(agent, view(ofi_1m=0.42, ofi_5m=0.35, ofi_1m_velocity=0.02))
        one(agent, view())
        assert (agent.stats.timers, agent.stats.buys, agent.stats.holds) == (2, 1, 1)

    @pytest.mark.parametrize("kw", [{"threshold": 0.0}, {"threshold": 1.0}, {"cadence_ms": 0}])
    def test_bad_config(self, kw: dict[str, float]) -> None:
        with pytest.raises(ConfigError):
            OrderFlowConfig(**kw)  # type: ignore[arg-type]


class TestTrend:
    def test_buy(self) -> None:
        agent = TrendSpecialist()
        assert agent.cadence_ns == 100_000_000
        sig = one(agent, view(ema_9=5499.0, ema_21=5495.0, adx_14=37.5, last_price=5500.0))
        assert sig.action is Action.BUY
        assert sig.confidence == pytest.approx(0.5)
        assert "aligned up" in sig.reason
        assert sig.metadata["adx_14"] == 37.5

    def test_sell_with_view_price(self) -> None:
        v = view(ema_9=5501.0, ema_21=5505.0, adx_14=60.0)
        sig = one(TrendSpecialist(), v)
        assert sig.action is Action.SELL
        assert sig.confidence == 1.0
        assert sig.metadata["last_price"] == 5500.0

    def test_confidence_floor(self) -> None:
        sig = one(TrendSpecialist(), view(ema_9=5499.0, ema_21=5495.0, adx_14=25.5))
        assert sig.action is Action.BUY
        assert sig.confidence == pytest.approx(0.1)

    @pytest.mark.parametrize(
        "feats",
        [
            {"ema_9": 5499.0, "ema_21": 5495.0, "adx_14": 25.0},  # ADX not above 25
            {"ema_9": 5501.0, "ema_21": 5495.0, "adx_14": 40.0},  # price below ema_9
            {"ema_9": 5495.0, "ema_21": 5499.0, "adx_14": 40.0},  # ema_9 < ema_21, price above
            {"ema_9": 5499.0, "ema_21": None, "adx_14": 40.0},  # not warm
        ],
    )
    def test_hold(self, feats: dict[str, float | None]) -> None:
        sig = one(TrendSpecialist(), view(**feats))
        assert sig.action is Action.HOLD
        assert sig.confidence == 0.0

    def test_no_price_holds(self) -> None:
        v = MarketView("WDOU25", features={"ema_9": 1.0, "ema_21": 0.5, "adx_14": 40.0})
        assert one(TrendSpecialist(), v).action is Action.HOLD

    def test_require_di(self) -> None:
        agent = TrendSpecialist(TrendConfig(require_di=True))
        base = {"ema_9": 5499.0, "ema_21": 5495.0, "adx_14": 40.0}
        assert one(agent, view(**base, plus_di_14=30.0, minus_di_14=10.0)).action is Action.BUY
        assert one(agent, view(**base, plus_di_14=10.0, minus_di_14=30.0)).action is Action.HOLD

    def test_bad_config(self) -> None:
        with pytest.raises(ConfigError):
            TrendConfig(adx_threshold=30.0, adx_full=20.0)
