"""Paper and live trading: the stages of the multi-process system and their supervisor."""

from quantumtrader.engine.live.agents_stage import AgentsConfig, run_agents
from quantumtrader.engine.live.features_stage import FeaturesConfig, run_features
from quantumtrader.engine.live.feed import FeedConfig, run_feed
from quantumtrader.engine.live.remote import RemoteBroker, RemoteFeatures
from quantumtrader.engine.live.supervisor import StageSpec, Supervisor

__all__ = [
    "AgentsConfig",
    "FeaturesConfig",
    "FeedConfig",
    "RemoteBroker",
    "RemoteFeatures",
    "StageSpec",
    "Supervisor",
    "run_agents",
    "run_features",
    "run_feed",
]
