"""Order-entry and response latency models of the simulated exchange (market time, ns).

Two delays matter for an order's life (the third, feed latency, delays what the
strategy *sees* and is applied by the engine, see
:attr:`~quantumtrader.execution.exchange_config.ExchangeConfig.feed_latency_ns`):

* **entry latency** — an order, cancel or modify sent at ``ts`` reaches the exchange
  at ``ts + entry``; it is matched against the book as it is then;
* **response latency** — an ack, fill or cancel that happens at exchange time ``t``
  is reported to the strategy at ``t + response``.

:class:`ConstantLatency` uses fixed delays. :class:`EmpiricalLatency` draws each delay
independently and uniformly from measured samples with a seeded
:class:`numpy.random.Generator`, so a replay with the same seed and the same call
sequence draws the same delays.

References
----------
.. [1] N. Kim, *hftbacktest* documentation, "Latency models" (constant, and
   interpolated from measured order latencies), https://hftbacktest.readthedocs.io/.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from quantumtrader.core.errors import ConfigError

__all__ = ["ConstantLatency", "EmpiricalLatency", "LatencyModel", "build_latency"]


class LatencyModel(Protocol):
    """Source of order-entry and response delays, ns."""

    description: str

    def entry_ns(self) -> int:
        """Delay from the strategy to the exchange of the next order message, ns."""

    def response_ns(self) -> int:
        """Delay from the exchange to the strategy of the next report, ns."""


class ConstantLatency:
    """Fixed delays.

    Parameters
    ----------
    entry_ns, response_ns
        Order-entry and response delays, ns (≥ 0).

    Raises
    ------
    ConfigError
        If a delay is negative.

    Examples
    --------
    >>> lat = ConstantLatency(1_000_000, 500_000)
    >>> lat.entry_ns(), lat.response_ns()
    (1000000, 500000)
    """

    def __init__(self, entry_ns: int = 0, response_ns: int = 0) -> None:
        if entry_ns < 0 or response_ns < 0:
            raise ConfigError(f"latencies must be >= 0 ns, got {entry_ns} and {response_ns}")
        self._entry = int(entry_ns)
        self._response = int(response_ns)
        self.description = f"latency entry {_ms(entry_ns)} / response {_ms(response_ns)}"

    def entry_ns(self) -> int:
        """The fixed entry delay, ns."""
        return self._entry

    def response_ns(self) -> int:
        """The fixed response delay, ns."""
        return self._response


class EmpiricalLatency:
    """Delays drawn uniformly, with replacement, from measured samples.

    Parameters
    ----------
    entry_samples, response_samples
        Measured delays, ns, shape ``(n,)`` with ``n ≥ 1`` each (a one-element
        sample is a constant delay).
    seed
        Seed of the generator; the same seed gives the same sequence of draws.

    Raises
    ------
    ConfigError
        If a sample is empty or holds a negative delay.
    """

    def __init__(
        self, entry_samples: Sequence[int], response_samples: Sequence[int], *, seed: int = 0
    ) -> None:
        self._entry = _samples("entry", entry_samples)
        self._response = _samples("response", response_samples)
        self._rng = np.random.default_rng(seed)
        self.description = (
            f"latency entry ~{_ms(float(np.median(self._entry)))} / response "
            f"~{_ms(float(np.median(self._response)))} (empirical medians, seed {seed})"
        )

    def entry_ns(self) -> int:
        """One draw from the entry samples, ns."""
        return _draw(self._rng, self._entry)

    def response_ns(self) -> int:
        """One draw from the response samples, ns."""
        return _draw(self._rng, self._response)


def build_latency(
    entry_ns: int,
    response_ns: int,
    entry_samples: Sequence[int] = (),
    response_samples: Sequence[int] = (),
    *,
    seed: int = 0,
) -> LatencyModel:
    """The latency model of a configuration.

    Constant delays unless samples are given; a leg without samples then uses its
    constant as a one-element sample.

    Returns
    -------
    LatencyModel
        :class:`ConstantLatency` or :class:`EmpiricalLatency`.
    """
    if not entry_samples and not response_samples:
        return ConstantLatency(entry_ns, response_ns)
    return EmpiricalLatency(
        entry_samples or (entry_ns,), response_samples or (response_ns,), seed=seed
    )


def _samples(name: str, values: Sequence[int]) -> np.ndarray[Any, np.dtype[np.int64]]:
    arr = np.asarray(values, dtype=np.int64)
    if arr.ndim != 1 or arr.size == 0:
        raise ConfigError(f"{name} latency samples must be a non-empty list of ns")
    if (arr < 0).any():
        raise ConfigError(f"{name} latency samples must be >= 0 ns, got min {int(arr.min())}")
    return arr


def _draw(rng: np.random.Generator, arr: np.ndarray[Any, np.dtype[np.int64]]) -> int:
    if arr.size == 1:
        return int(arr[0])
    return int(arr[int(rng.integers(arr.size))])


def _ms(ns: float) -> str:
    return f"{ns / 1e6:g} ms"
