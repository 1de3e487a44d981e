"""Unchanged-view timers of view-pure specialists equal recomputing them."""

from __future__ import annotations

import pytest

from quantumtrader.agents import MarketView, OrderFlowSpecialist, TrendSpecialist


@pytest.mark.parametrize("make", [OrderFlowSpecialist, TrendSpecialist])
def test_repeated_unchanged_timers_equal_recomputing(make: type) -> None:
    view = MarketView(
        "WDOU25",
        features={
            "ofi_1m": 0.5,
            "ofi_5m": 0.4,
            "ofi_1m_velocity": 0.1,
            "ema_9": 101.0,
            "ema_21": 100.0,
            "adx_14": 30.0,
            "plus_di_14": 25.0,
            "minus_di_14": 10.0,
        },
        last_price=101.5,
    )
    slow, fast = make(), make()
    first = slow.on_timer(100, view)
    assert fast.on_timer(100, view) == first
    for t in (200, 300, 400, 500):
        expected = slow.on_timer(t, view)
    got = fast.on_timer_unchanged(500, view, 4)
    assert got == expected
    assert got[0].ts == 500 and got[0].action is first[0].action
    assert fast.stats == slow.stats
    assert fast.stats.timers == 5


def test_repeats_need_a_first_timer() -> None:
    agent = OrderFlowSpecialist()
    with pytest.raises(ValueError, match="earlier on_timer"):
        agent.on_timer_unchanged(1, MarketView("WDOU25"), 3)
    assert agent.on_timer_unchanged(1, MarketView("WDOU25"))[0].action.value == "hold"
