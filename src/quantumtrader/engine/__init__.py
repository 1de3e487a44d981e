"""Layer 6: the replay engine, its clock and the engine's own ledger."""

from quantumtrader.engine.clock import TimerSchedule
from quantumtrader.engine.config import ReplayConfig
from quantumtrader.engine.ledger import Ledger, RoundTripRecord
from quantumtrader.engine.replay import ReplayEngine, ReplayResult, RiskEvent

__all__ = [
    "Ledger",
    "ReplayConfig",
    "ReplayEngine",
    "ReplayResult",
    "RiskEvent",
    "RoundTripRecord",
    "TimerSchedule",
]
