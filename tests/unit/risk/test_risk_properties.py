"""Property: no sequence of decisions and outcomes lets an entry break a limit."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.core.timeutil import local_to_utc_ns, ns_to_local
from quantumtrader.model import Action, Decision, spec_for
from quantumtrader.risk import RiskConfig, RiskManager

SEC = 1_000_000_000
START = local_to_utc_ns(dt.date(2025, 8, 11), 9 * 3600)

step = st.tuples(
    st.one_of(st.integers(0, 120), st.integers(0, 3 * 3600)),  # seconds until this step
    st.sampled_from([Action.BUY, Action.SELL, Action.HOLD]),
    st.integers(min_value=1, max_value=3),  # qty
    st.one_of(st.none(), st.floats(min_value=-250.0, max_value=150.0)),  # close with net P&L
    st.booleans(),  # toggle the kill switch
)


@settings(max_examples=200, deadline=None)
@given(st.lists(step, max_size=80), st.integers(min_value=1, max_value=2))
def test_no_sequence_exceeds_limits(
    steps: list[tuple[int, Action, int, float | None, bool]], max_position: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        flag = Path(tmp) / "STOP"
        cfg = RiskConfig(max_position=max_position, kill_switch_path=str(flag))
        rm = RiskManager(cfg, spec_for("WDO"))
        now = START
        position = 0
        entries: dict[dt.date, list[int]] = {}
        closes: dict[dt.date, list[tuple[int, float]]] = {}
        for gap, action, qty, pnl, toggle in steps:
            now += gap * SEC
            if toggle:
                if flag.exists():
                    flag.unlink()
                else:
                    flag.touch()
            local = ns_to_local(now)
            day = local.date()
            decision = Decision(ts=now, symbol="WDOU25", action=action, confidence=1.0)
            verdict = rm.check(decision, now, position, qty)
            sign = {Action.BUY: 1, Action.SELL: -1, Action.HOLD: 0}[action]
            after = position + sign * qty
            is_entry = abs(after) > abs(position) or after * position < 0
            if verdict.approved:
                assert action is not Action.HOLD
                assert abs(after) <= max_position
                if is_entry:
                    # Independent model of every limit.
                    assert not flag.exists()
                    assert (9, 15) <= (local.hour, local.minute) < (17, 30)
                    today = entries.setdefault(day, [])
                    assert len(today) < cfg.max_trades_per_day
                    if entries and any(entries.values()):
                        last = max(t for ts in entries.values() for t in ts)
                        assert now - last >= cfg.min_seconds_between_trades * SEC
                    day_closes = closes.get(day, [])
                    assert sum(p for _, p in day_closes) > -cfg.daily_loss_limit_brl
                    streak, pause_end = 0, None
                    for t, p in day_closes:
                        streak = streak + 1 if p < 0 else 0
                        if streak >= cfg.max_consecutive_losses:
                            pause_end, streak = t + cfg.pause_minutes_after_losses * 60 * SEC, 0
                    assert pause_end is None or now >= pause_end
                    today.append(now)
                    rm.record_entry(now)
                position = after
            assert abs(position) <= max_position
            if pnl is not None and position != 0:
                rm.record_close(now, pnl)
                closes.setdefault(day, []).append((now, pnl))
                position = 0
