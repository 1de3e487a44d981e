"""Queue-position models for resting limit orders on an aggregated (level-2) book.

A simulated order is not in the replayed book, so its place in the level's queue is
estimated. ``front`` is the displayed quantity ahead of the order (quantity units):

* on entry it is the displayed size of the level (the order joins at the back);
* a trade at the order's price removes its quantity from ``front`` (fills come from
  the head of the queue); the part beyond ``front`` fills the order;
* a level *decrease* that trades do not explain is a cancellation somewhere in the
  queue. With ``prev`` and ``new`` the level's size before and after the book update
  and ``traded`` the quantity traded at the price since the level last changed, the
  cancelled quantity is ``c = prev − new − traded`` (subtracting ``traded`` avoids
  counting an execution twice: once as a trade, once as the level shrinking). The
  quantity behind the order is ``back = max(prev − traded − front, 0)``, and the share
  of ``c`` that was ahead is ``p = f(front) / (f(front) + f(back))`` for the model's
  ``f``; what the back cannot hold also comes from the front::

      ahead = p·c + max((1 − p)·c − back, 0)
      front ← clamp(front − ahead, 0, new)

* a level *increase* adds to the back: ``front ← min(front, new)``.

Models: ``power`` (``f(x) = xⁿ``; ``n = 1`` is proportional, larger ``n`` puts
cancellations further from whichever side is larger), ``log`` (``f(x) = ln(1 + x)``)
and ``risk_averse`` (cancellations are always behind the order; only trades advance it).

References
----------
.. [1] E. Rigtorp, "Estimating order queue position", 2013,
   https://rigtorp.se/2013/06/08/estimating-order-queue-position.html.
.. [2] N. Kim, *hftbacktest* documentation, "Queue models" (RiskAdverseQueueModel,
   ProbQueueModel with power and logarithmic probability functions).
"""

from __future__ import annotations

import math
from typing import Protocol

from quantumtrader.core.errors import ConfigError

__all__ = [
    "QUEUE_MODELS",
    "LogProbQueue",
    "PowerProbQueue",
    "QueueModel",
    "RiskAverseQueue",
    "queue_after_change",
    "queue_model",
]

#: Names accepted by :func:`queue_model`.
QUEUE_MODELS = ("power", "log", "risk_averse")


class QueueModel(Protocol):
    """Probability that a cancellation in a level was ahead of our order."""

    description: str

    def ahead_share(self, front: float, back: float) -> float:
        """Share in ``[0, 1]`` of a cancellation that came from the ``front`` quantity."""


class PowerProbQueue:
    """``p = frontⁿ / (frontⁿ + backⁿ)``.

    Examples
    --------
    >>> PowerProbQueue(2.0).ahead_share(10.0, 20.0)
    0.2
    """

    def __init__(self, power: float = 2.0) -> None:
        if not (math.isfinite(power) and power > 0):
            raise ConfigError(f"queue power must be a finite number > 0, got {power}")
        self.power = power
        self.description = f"power queue n={power:g}"

    def ahead_share(self, front: float, back: float) -> float:
        """Power-law share of a cancellation that was ahead."""
        a = front**self.power
        b = back**self.power
        return a / (a + b) if a + b > 0 else 0.0


class LogProbQueue:
    """``p = ln(1 + front) / (ln(1 + front) + ln(1 + back))``."""

    description = "log queue"

    def ahead_share(self, front: float, back: float) -> float:
        """Logarithmic share of a cancellation that was ahead."""
        a = math.log1p(front)
        b = math.log1p(back)
        return a / (a + b) if a + b > 0 else 0.0


class RiskAverseQueue:
    """Cancellations never advance the order (``p = 0``)."""

    description = "risk-averse queue"

    def ahead_share(self, front: float, back: float) -> float:
        """Always 0."""
        return 0.0


def queue_model(name: str, power: float = 2.0) -> QueueModel:
    """The queue model called ``name`` (one of :data:`QUEUE_MODELS`).

    Raises
    ------
    ConfigError
        If the name is unknown or the power is not a positive number.
    """
    if name == "power":
        return PowerProbQueue(power)
    if name == "log":
        return LogProbQueue()
    if name == "risk_averse":
        return RiskAverseQueue()
    raise ConfigError(f"unknown queue model {name!r}; expected one of {', '.join(QUEUE_MODELS)}")


def queue_after_change(
    model: QueueModel, front: float, prev: float, new: float, traded: float
) -> float:
    """Quantity ahead of the order after its level changed from ``prev`` to ``new``.

    Parameters
    ----------
    model
        Share of a cancellation that was ahead.
    front
        Quantity ahead before the change (already reduced by ``traded``).
    prev, new
        Displayed size of the level before and after the book update.
    traded
        Quantity traded at the price since the level last changed.

    Returns
    -------
    float
        The new ``front``, in ``[0, new]``.

    Examples
    --------
    >>> queue_after_change(PowerProbQueue(2.0), 10.0, 30.0, 24.0, 0.0)
    8.8
    """
    cancel = prev - new - traded
    if cancel <= 0.0:
        return max(0.0, min(front, new))
    back = max(prev - traded - front, 0.0)
    p = model.ahead_share(front, back)
    ahead = p * cancel + max((1.0 - p) * cancel - back, 0.0)
    return max(0.0, min(front - ahead, new))
