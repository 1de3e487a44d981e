"""Snapshot and restore round trips of the agents."""

from __future__ import annotations

import pytest

from quantumtrader.agents import (
    AgentContext,
    Coordinator,
    CoordinatorConfig,
    Feedback,
    MarketView,
    OrderFlowConfig,
    OrderFlowSpecialist,
    TrendConfig,
    TrendSpecialist,
)
from quantumtrader.agents.base import AgentBase
from quantumtrader.core.errors import ConfigError
from quantumtrader.model import spec_for

AGENTS: list[tuple[type[AgentBase], object]] = [  # type: ignore[type-arg]
    (OrderFlowSpecialist, OrderFlowConfig(agent_id="of2", threshold=0.25)),
    (TrendSpecialist, TrendConfig(adx_threshold=20.0, require_di=True)),
    (Coordinator, CoordinatorConfig(weights={"of2": 2.0}, min_strength=0.4)),
]


@pytest.mark.parametrize(("cls", "cfg"), AGENTS)
def test_round_trip(cls: type, cfg: object) -> None:
    agent = cls(cfg)
    agent.on_start(AgentContext(symbol="WDOU25", spec=spec_for("WDO")))
    view = MarketView(
        "WDOU25", ts=10, features={"ofi_1m": 0.5, "ofi_5m": 0.5, "ofi_1m_velocity": 1.0}
    )
    agent.on_timer(10, view)
    agent.on_feedback(Feedback(ts=20, pnl_brl=-12.5, order_id="o1", note="stop"))
    data = agent.snapshot()
    assert isinstance(data, bytes)
    fresh = cls()
    fresh.restore(data)
    assert fresh.config == cfg
    assert fresh.stats == agent.stats
    assert fresh.stats.feedback_pnl_brl == -12.5
    assert fresh.stats.timers == 1
    assert fresh.snapshot() == data
    assert fresh.on_timer(30, view)[0] == agent.on_timer(30, view)[0]


def test_wrong_kind_rejected() -> None:
    data = TrendSpecialist().snapshot()
    with pytest.raises(ConfigError):
        OrderFlowSpecialist().restore(data)
    with pytest.raises(ConfigError):
        Coordinator().restore(b"\x00garbage")
