"""Layer 6: the simulated broker and its accounting."""

from quantumtrader.execution.accounting import Ledger, RoundTrip, exit_reason
from quantumtrader.execution.simulated import SimBrokerConfig, SimulatedBroker

__all__ = ["Ledger", "RoundTrip", "SimBrokerConfig", "SimulatedBroker", "exit_reason"]
