"""Layer 6: the simulated broker and the simulated exchange (matching, queue, latency, fees).

:class:`SimulatedBroker` is the foundation's trade-driven broker; :class:`SimulatedExchange`
matches against the order book with queue position and latency and falls back to the
same trade-based rules for symbols without book data.
"""

from quantumtrader.execution.account import Account, fee_of, multiplier
from quantumtrader.execution.exchange import SimulatedExchange
from quantumtrader.execution.exchange_config import ExchangeConfig
from quantumtrader.execution.latency import (
    ConstantLatency,
    EmpiricalLatency,
    LatencyModel,
    build_latency,
)
from quantumtrader.execution.queue import (
    QUEUE_MODELS,
    LogProbQueue,
    PowerProbQueue,
    QueueModel,
    RiskAverseQueue,
    queue_after_change,
    queue_model,
)
from quantumtrader.execution.simulated import SimBrokerConfig, SimulatedBroker

__all__ = [
    "QUEUE_MODELS",
    "Account",
    "ConstantLatency",
    "EmpiricalLatency",
    "ExchangeConfig",
    "LatencyModel",
    "LogProbQueue",
    "PowerProbQueue",
    "QueueModel",
    "RiskAverseQueue",
    "SimBrokerConfig",
    "SimulatedBroker",
    "SimulatedExchange",
    "build_latency",
    "fee_of",
    "multiplier",
    "queue_after_change",
    "queue_model",
]
