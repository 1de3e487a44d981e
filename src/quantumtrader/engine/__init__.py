"""Layer 6: the replay engine and its market-time clock."""

from quantumtrader.engine.clock import TimerSchedule
from quantumtrader.engine.config import ReplayConfig
from quantumtrader.engine.replay import ReplayEngine, ReplayResult, RiskEvent

__all__ = [
    "ReplayConfig",
    "ReplayEngine",
    "ReplayResult",
    "RiskEvent",
    "TimerSchedule",
]
