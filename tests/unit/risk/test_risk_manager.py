"""Each risk limit, the kill switch and the daily reset."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from quantumtrader.core.errors import ConfigError
from quantumtrader.core.timeutil import local_to_utc_ns
from quantumtrader.model import Action, Decision, spec_for
from quantumtrader.risk import RiskConfig, RiskManager

DAY = dt.date(2025, 8, 11)
SEC = 1_000_000_000


def at(hhmm: str, day: dt.date = DAY, sec: int = 0) -> int:
    h, m = hhmm.split(":")
    return local_to_utc_ns(day, int(h) * 3600 + int(m) * 60 + sec)


def dec(action: Action = Action.BUY) -> Decision:
    return Decision(ts=0, symbol="WDOU25", action=action, confidence=0.8)


@pytest.fixture
def rm(tmp_path: Path) -> RiskManager:
    cfg = RiskConfig(kill_switch_path=str(tmp_path / "STOP_TRADING"))
    return RiskManager(cfg, spec_for("WDO"))


def test_approves_within_limits(rm: RiskManager) -> None:
    v = rm.check(dec(), at("10:00"), 0, 1)
    assert v.approved
    assert v.reasons == ("within limits",)
    assert rm.check(dec(Action.SELL), at("10:00"), 0, 1).approved


def test_hold_and_bad_qty(rm: RiskManager) -> None:
    assert not rm.check(dec(Action.HOLD), at("10:00"), 0, 1).approved
    assert not rm.check(dec(), at("10:00"), 0, 0).approved
    assert not rm.check(dec(), at("10:00"), 0, -1).approved


def test_max_position(rm: RiskManager) -> None:
    v = rm.check(dec(), at("10:00"), 1, 1)
    assert not v.approved
    assert "max_position" in v.reasons[0]
    assert not rm.check(dec(), at("10:00"), 0, 2).approved
    # reversal from +1 to -1 is within max_position 1
    assert rm.check(dec(Action.SELL), at("10:00"), 1, 2).approved
    assert not rm.check(dec(Action.SELL), at("10:00"), 1, 3).approved


def test_reduction_always_allowed(rm: RiskManager, tmp_path: Path) -> None:
    (tmp_path / "STOP_TRADING").touch()
    v = rm.check(dec(Action.SELL), at("20:00"), 1, 1)
    assert v.approved
    assert v.reasons == ("reduces the position",)


@pytest.mark.parametrize(
    ("hhmm", "ok"),
    [("09:14", False), ("09:15", True), ("17:29", True), ("17:30", False), ("18:05", False)],
)
def test_trading_window(rm: RiskManager, hhmm: str, ok: bool) -> None:
    v = rm.check(dec(), at(hhmm), 0, 1)
    assert v.approved is ok
    if not ok:
        assert "outside entry hours" in v.reasons[0]


def test_window_bounded_by_instrument_hours(tmp_path: Path) -> None:
    cfg = RiskConfig(
        trading_start="08:00",
        trading_end="18:30",
        flatten_time="18:45",
        kill_switch_path="",
    )
    rm = RiskManager(cfg, spec_for("WDO"))  # WDO hours 09:00-18:15
    assert not rm.check(dec(), at("08:30"), 0, 1).approved
    assert rm.check(dec(), at("09:00"), 0, 1).approved
    assert not rm.check(dec(), at("18:20"), 0, 1).approved
    assert not rm.kill_switch_active()


def test_daily_loss_limit(rm: RiskManager) -> None:
    rm.record_close(at("10:00"), -200.0)
    assert rm.check(dec(), at("10:30"), 0, 1).approved
    rm.record_close(at("10:31"), -100.0)
    v = rm.check(dec(), at("11:30"), 0, 1)
    assert not v.approved
    assert "daily loss limit" in v.reasons[0]
    rm.record_close(at("11:31"), +500.0)  # net back above the limit: entries allowed again
    assert rm.check(dec(), at("11:32"), 0, 1).approved
    assert rm.state().daily_net_pnl_brl == pytest.approx(200.0)


def test_max_trades_per_day(rm: RiskManager) -> None:
    t = at("09:30")
    for _ in range(10):
        assert rm.check(dec(), t, 0, 1).approved
        rm.record_entry(t)
        rm.record_close(t + 30 * SEC, 1.0)
        t += 61 * SEC
    v = rm.check(dec(), t, 0, 1)
    assert not v.approved
    assert "max_trades_per_day" in v.reasons[0]
    assert rm.state().trades_today == 10


def test_min_seconds_between_trades(rm: RiskManager) -> None:
    rm.record_entry(at("10:00"))
    assert not rm.check(dec(), at("10:00", sec=59), 0, 1).approved
    assert rm.check(dec(), at("10:01"), 0, 1).approved


def test_consecutive_losses_pause(rm: RiskManager) -> None:
    rm.record_close(at("10:00"), -10.0)
    rm.record_close(at("10:05"), -10.0)
    rm.record_close(at("10:06"), 0.0)  # breaks the streak
    rm.record_close(at("10:07"), -10.0)
    rm.record_close(at("10:08"), -10.0)
    assert rm.check(dec(), at("10:09"), 0, 1).approved
    rm.record_close(at("10:10"), -10.0)  # third in a row: pause 30 minutes
    v = rm.check(dec(), at("10:39", sec=59), 0, 1)
    assert not v.approved
    assert "paused" in v.reasons[0]
    assert rm.state().consecutive_losses == 0
    assert rm.check(dec(), at("10:40"), 0, 1).approved


def test_kill_switch(rm: RiskManager, tmp_path: Path) -> None:
    assert not rm.kill_switch_active()
    assert not rm.must_flatten(at("10:00"))
    flag = tmp_path / "STOP_TRADING"
    flag.touch()
    assert rm.kill_switch_active()
    assert rm.must_flatten(at("10:00"))
    v = rm.check(dec(), at("10:00"), 0, 1)
    assert not v.approved
    assert "kill switch" in v.reasons[0]
    assert rm.state().kill_switch
    flag.unlink()
    assert rm.check(dec(), at("10:00"), 0, 1).approved


def test_flatten_time(rm: RiskManager) -> None:
    assert not rm.must_flatten(at("17:59"))
    assert rm.must_flatten(at("18:00"))


def test_new_day_resets(rm: RiskManager) -> None:
    t = at("10:00")
    rm.record_entry(t)
    rm.record_close(t, -400.0)
    for _ in range(3):
        rm.record_close(t, -1.0)
    assert not rm.check(dec(), at("11:00"), 0, 1).approved
    nxt = at("09:30", DAY + dt.timedelta(days=1))
    v = rm.check(dec(), nxt, 0, 1)
    assert v.approved, v.reasons
    s = rm.state()
    assert s.day == DAY + dt.timedelta(days=1)
    assert (s.trades_today, s.daily_net_pnl_brl, s.consecutive_losses) == (0, 0.0, 0)
    assert s.paused_until_ns is None


def test_reasons_accumulate(rm: RiskManager) -> None:
    rm.record_entry(at("17:29", sec=30))
    v = rm.check(dec(), at("17:30"), 1, 1)
    assert len(v.reasons) == 3


@pytest.mark.parametrize(
    "kw",
    [
        {"trading_start": "17:00", "trading_end": "10:00"},
        {"trading_end": "18:30"},
        {"trading_start": "9h15"},
        {"trading_start": "25:00"},
        {"max_position": 0},
        {"daily_loss_limit_brl": 0.0},
        {"max_consecutive_losses": 0},
    ],
)
def test_bad_config(kw: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        RiskConfig(**kw)  # type: ignore[arg-type]
