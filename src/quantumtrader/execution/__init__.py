"""Layer 6: the simulated broker (its accounting is :mod:`quantumtrader.model.positions`)."""

from quantumtrader.execution.simulated import SimBrokerConfig, SimulatedBroker

__all__ = ["SimBrokerConfig", "SimulatedBroker"]
