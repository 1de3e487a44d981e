"""Market-time timers."""

from __future__ import annotations

import pytest

from quantumtrader.engine import TimerSchedule

MS = 1_000_000


def test_timers_fire_in_time_then_declared_order() -> None:
    sched = TimerSchedule({"spec": 100 * MS, "coord": 1000 * MS})
    sched.start(0)
    due = sched.due(1000 * MS + 1)
    times = [t for t, _ in due]
    assert times == sorted(times)
    assert due[-2:] == [(1000 * MS, "spec"), (1000 * MS, "coord")]
    assert sum(1 for _, n in due if n == "spec") == 10
    # Nothing is fired twice, and a timer at the event's own instant waits for it.
    assert sched.due(1000 * MS + 1) == []
    assert sched.due(1100 * MS) == []
    assert sched.due(1100 * MS + 1) == [(1100 * MS, "spec")]


def test_alignment_is_independent_of_start() -> None:
    a, b = TimerSchedule({"x": 100 * MS}), TimerSchedule({"x": 100 * MS})
    a.start(5 * MS)
    b.start(55 * MS)
    assert a.due(10**9) == b.due(10**9)


def test_rejects_non_positive_cadence() -> None:
    with pytest.raises(ValueError, match="cadence"):
        TimerSchedule({"x": 0})
