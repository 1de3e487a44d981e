"""Market-time timers for the replay (DESIGN.md section 1: nothing reads the wall clock)."""

from __future__ import annotations

__all__ = ["TimerSchedule"]


class TimerSchedule:
    """Periodic timers at fixed cadences in market time.

    Timers are aligned to multiples of their cadence since the epoch, so a replay
    that starts at a different event still fires at the same instants.

    Parameters
    ----------
    cadences_ns
        ``name -> period`` in nanoseconds, each > 0. Timers due at the same instant fire
        in this mapping's order (specialists before the coordinator that reads them).

    Raises
    ------
    ValueError
        If a cadence is not positive.
    """

    def __init__(self, cadences_ns: dict[str, int]) -> None:
        for name, period in cadences_ns.items():
            if period <= 0:
                raise ValueError(f"timer {name!r}: cadence must be > 0 ns, got {period}")
        self._period = dict(cadences_ns)
        self._rank = {name: i for i, name in enumerate(cadences_ns)}
        self._next: dict[str, int] = {}

    def start(self, t0_ns: int) -> None:
        """Arm every timer at its first multiple of the cadence strictly after ``t0_ns``."""
        self._next = {n: (t0_ns // p + 1) * p for n, p in self._period.items()}

    def next_time(self) -> int:
        """Instant of the earliest pending firing, ns (call :meth:`start` first)."""
        return min(self._next.values())

    def due(self, until_ns: int) -> list[tuple[int, str]]:
        """Pop all firings with time < ``until_ns`` in ``(time, name)`` order.

        Timers fire before an event that is strictly later; an event at exactly the
        timer's instant is processed first (the timer sees it).
        """
        out: list[tuple[int, str]] = []
        for name, first in self._next.items():
            p = self._period[name]
            t = first
            while t < until_ns:
                out.append((t, name))
                t += p
            self._next[name] = t
        out.sort(key=lambda item: (item[0], self._rank[item[1]]))
        return out
