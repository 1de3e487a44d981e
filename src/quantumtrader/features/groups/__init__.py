"""The feature groups, in catalogue order (see :mod:`quantumtrader.features.group`)."""

from __future__ import annotations

from quantumtrader.features.group import Group
from quantumtrader.features.groups.flow import FlowGroup
from quantumtrader.features.groups.footprint import FootprintGroup
from quantumtrader.features.groups.liquidity import LiquidityGroup
from quantumtrader.features.groups.micro import MicroGroup
from quantumtrader.features.groups.tape import TapeGroup
from quantumtrader.features.groups.technical import TechnicalGroup

__all__ = [
    "GROUP_CLASSES",
    "FlowGroup",
    "FootprintGroup",
    "LiquidityGroup",
    "MicroGroup",
    "TapeGroup",
    "TechnicalGroup",
]

GROUP_CLASSES: dict[str, type[Group]] = {
    g.name: g
    for g in (FlowGroup, TapeGroup, FootprintGroup, LiquidityGroup, MicroGroup, TechnicalGroup)
}
