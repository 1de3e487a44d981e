"""Bracket (stop + take) prices and trigger rules of the simulated broker.

Prices are points; ``tick`` is the instrument's tick size. Distances are whole ticks:
the stop distance rounds *down* (``max(1, ⌊stop_points/tick⌋)`` ticks, so the stop is
never further from the entry than asked) and the take distance rounds *up*
(``max(1, ⌈take_points/tick⌉)`` ticks, so the target is never closer than asked).
"""

from __future__ import annotations

import math
from typing import Literal

from quantumtrader.model.orders import Order, OrderSide, OrderType

__all__ = ["bracket_prices", "trigger_price"]


def bracket_prices(
    entry_side: OrderSide,
    fill_price: float,
    tick: float,
    stop_points: float | None,
    take_points: float | None,
) -> tuple[float | None, float | None]:
    """Stop and take prices of a bracket around an entry fill.

    Parameters
    ----------
    entry_side
        Side of the entry (``BUY`` opens a long: stop below, take above).
    fill_price
        Entry fill price, points.
    tick
        Tick size, points.
    stop_points, take_points
        Requested distances, points (``None`` for no leg).

    Returns
    -------
    tuple
        ``(stop, take)`` in points; ``None`` for a missing leg.

    Examples
    --------
    >>> bracket_prices(OrderSide.BUY, 5000.0, 0.5, 1.7, 1.2)
    (4998.5, 5001.5)
    """
    s = int(entry_side)
    stop = take = None
    if stop_points is not None:
        stop = fill_price - s * max(1, math.floor(stop_points / tick + 1e-9)) * tick
    if take_points is not None:
        take = fill_price + s * max(1, math.ceil(take_points / tick - 1e-9)) * tick
    return stop, take


def trigger_price(
    child: Order,
    trade_price: float,
    tick: float,
    slippage_ticks: int,
    limit_fill: Literal["through", "touch"],
) -> float | None:
    """Fill price of a bracket child against a trade at ``trade_price``, or ``None``.

    A STOP triggers when the trade prints at or through its price (``≤`` for a sell
    stop, ``≥`` for a buy stop) and fills at the trade price plus ``slippage_ticks``
    ticks against us. A LIMIT fills at its own price when the trade prints strictly
    through it (``"through"``) or at it (``"touch"``). Comparisons allow 10⁻⁶ tick.
    """
    level = child.price if child.price is not None else math.nan
    eps = tick * 1e-6
    sell = child.side is OrderSide.SELL
    if child.order_type is OrderType.STOP:
        hit = trade_price <= level + eps if sell else trade_price >= level - eps
        return trade_price + slippage_ticks * tick * int(child.side) if hit else None
    if limit_fill == "touch":
        hit = trade_price >= level - eps if sell else trade_price <= level + eps
    else:
        hit = trade_price > level + eps if sell else trade_price < level - eps
    return level if hit else None
