"""Layer 5: the risk manager and kill switch."""

from quantumtrader.risk.manager import RiskConfig, RiskManager, RiskState, RiskVerdict

__all__ = ["RiskConfig", "RiskManager", "RiskState", "RiskVerdict"]
