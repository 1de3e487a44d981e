"""Layer 5: the agent protocol, specialists and the coordinator."""

from quantumtrader.agents.base import (
    Agent,
    AgentBase,
    AgentConfig,
    AgentContext,
    AgentStats,
    Feedback,
    MarketView,
    SignalSpecialist,
    feature,
)
from quantumtrader.agents.coordinator import Consensus, Coordinator, CoordinatorConfig, consensus
from quantumtrader.agents.orderflow import OrderFlowConfig, OrderFlowSpecialist
from quantumtrader.agents.trend import TrendConfig, TrendSpecialist

__all__ = [
    "Agent",
    "AgentBase",
    "AgentConfig",
    "AgentContext",
    "AgentStats",
    "Consensus",
    "Coordinator",
    "CoordinatorConfig",
    "Feedback",
    "MarketView",
    "OrderFlowConfig",
    "OrderFlowSpecialist",
    "SignalSpecialist",
    "TrendConfig",
    "TrendSpecialist",
    "consensus",
    "feature",
]
