"""Risk manager and kill switch: the gate every actionable decision passes.

Entries (orders that open or increase exposure, including the new side of a
reversal) are approved only when *all* of these hold:

* the kill-switch file does not exist (checked on every call to :meth:`check`);
* the resulting position stays within ``max_position`` lots;
* the local time (America/Sao_Paulo) is inside ``[trading_start, trading_end)`` and
  inside the instrument's trading hours for that day;
* the day's net realized P&L (after fees) is above ``−daily_loss_limit_brl``;
* fewer than ``max_trades_per_day`` entries were recorded today;
* at least ``min_seconds_between_trades`` passed since the last recorded entry;
* no pause is running (``max_consecutive_losses`` losing round trips in a row start a
  pause of ``pause_minutes_after_losses``; the loss counter restarts with the pause).

Orders that only reduce the position are always approved (reducing risk is never
blocked). HOLD decisions are not approved (there is nothing to trade). Daily
counters reset when the local date of ``now_ns`` changes.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import msgspec

from quantumtrader.core.errors import ConfigError
from quantumtrader.core.timeutil import NS_PER_MINUTE, NS_PER_SECOND, local_to_utc_ns, ns_to_local
from quantumtrader.model.instruments import InstrumentSpec
from quantumtrader.model.signals import Action, Decision

__all__ = ["RiskConfig", "RiskManager", "RiskState", "RiskVerdict"]

log = logging.getLogger(__name__)


def _seconds(hhmm: str, name: str) -> int:
    try:
        hh, mm = hhmm.split(":")
        h, m = int(hh), int(mm)
    except ValueError as exc:
        raise ConfigError(f"risk: {name} must be HH:MM, got {hhmm!r}") from exc
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ConfigError(f"risk: {name} out of range: {hhmm!r}")
    return h * 3600 + m * 60


class RiskConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Limits of :class:`RiskManager` (defaults are the seed's).

    Attributes
    ----------
    max_position
        Largest absolute position, in lots (one lot is ``spec.lot_size`` contracts:
        1 for WDO/WIN, 5 for DOL/IND).
    daily_loss_limit_brl
        When the day's net realized P&L (after fees) reaches ``−limit`` BRL, no new
        entries that day.
    max_trades_per_day
        Entries per local day.
    min_seconds_between_trades
        Seconds between two entries.
    trading_start, trading_end
        Local ``HH:MM``; entries only in ``[start, end)``.
    flatten_time
        Local ``HH:MM`` after which the engine flattens (see :meth:`RiskManager.must_flatten`).
    max_consecutive_losses
        Losing round trips in a row that start a pause.
    pause_minutes_after_losses
        Length of that pause, minutes.
    kill_switch_path
        File whose existence blocks entries and makes the engine flatten; relative
        paths resolve against the working directory; empty string disables it.
    """

    max_position: int = 1
    daily_loss_limit_brl: float = 300.0
    max_trades_per_day: int = 10
    min_seconds_between_trades: int = 60
    trading_start: str = "09:15"
    trading_end: str = "17:30"
    flatten_time: str = "18:00"
    max_consecutive_losses: int = 3
    pause_minutes_after_losses: int = 30
    kill_switch_path: str = "STOP_TRADING"

    def __post_init__(self) -> None:
        start = _seconds(self.trading_start, "trading_start")
        end = _seconds(self.trading_end, "trading_end")
        flat = _seconds(self.flatten_time, "flatten_time")
        if not start < end <= flat:
            raise ConfigError("risk: need trading_start < trading_end <= flatten_time")
        if self.max_position < 1 or self.max_trades_per_day < 0:
            raise ConfigError("risk: max_position must be >= 1 and max_trades_per_day >= 0")
        if self.daily_loss_limit_brl <= 0:
            raise ConfigError("risk: daily_loss_limit_brl must be > 0")
        if self.min_seconds_between_trades < 0 or self.pause_minutes_after_losses < 0:
            raise ConfigError("risk: durations must be >= 0")
        if self.max_consecutive_losses < 1:
            raise ConfigError("risk: max_consecutive_losses must be >= 1")


class RiskVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """Outcome of :meth:`RiskManager.check`; ``reasons`` lists every failed rule."""

    approved: bool
    reasons: tuple[str, ...] = ()


class RiskState(msgspec.Struct, frozen=True, kw_only=True):
    """Summary of the manager's state (for logs, reports and the dashboard)."""

    day: dt.date | None
    daily_net_pnl_brl: float
    trades_today: int
    consecutive_losses: int
    paused_until_ns: int | None
    last_entry_ns: int | None
    kill_switch: bool
    entries_blocked_by_loss: bool


class RiskManager:
    """Enforces :class:`RiskConfig` on decisions; fed by entries and closed trades.

    Parameters
    ----------
    config
        The limits.
    spec
        Instrument; its trading hours bound the entry window and ``lot_size`` the
        quantity.

    Notes
    -----
    The engine must call :meth:`record_entry` after each entry it submits and
    :meth:`record_close` with each round trip's net P&L; the limits count those.
    """

    def __init__(self, config: RiskConfig, spec: InstrumentSpec) -> None:
        self.config = config
        self.spec = spec
        self._start_s = _seconds(config.trading_start, "trading_start")
        self._end_s = _seconds(config.trading_end, "trading_end")
        self._flatten_s = _seconds(config.flatten_time, "flatten_time")
        self._day: dt.date | None = None
        self._daily_net = 0.0
        self._trades = 0
        self._losses = 0
        self._paused_until: int | None = None
        self._last_entry: int | None = None

    # -- day bookkeeping -------------------------------------------------------------
    def _roll(self, now_ns: int) -> dt.date:
        day = ns_to_local(now_ns).date()
        if day != self._day:
            if self._day is not None:
                log.info("risk: new day %s (was %s), daily limits reset", day, self._day)
            self._day = day
            self._daily_net = 0.0
            self._trades = 0
            self._losses = 0
            self._paused_until = None
        return day

    def kill_switch_active(self) -> bool:
        """True when the kill-switch file exists (checked now, on the filesystem)."""
        path = self.config.kill_switch_path
        return bool(path) and Path(path).exists()

    def must_flatten(self, now_ns: int) -> bool:
        """True at or after ``flatten_time`` (local) or while the kill switch is on."""
        day = ns_to_local(now_ns).date()
        return now_ns >= local_to_utc_ns(day, self._flatten_s) or self.kill_switch_active()

    def _window(self, day: dt.date) -> tuple[int, int]:
        hours = self.spec.hours_on(day)
        start = max(self._start_s, hours.open_seconds())
        end = min(self._end_s, hours.close_seconds())
        if end <= start:
            return 0, 0
        return local_to_utc_ns(day, start), local_to_utc_ns(day, end)

    # -- the gate ----------------------------------------------------------------------
    def check(self, decision: Decision, now_ns: int, position: int, qty: int) -> RiskVerdict:
        """Whether ``decision`` may be executed now with ``qty`` contracts.

        Parameters
        ----------
        decision
            The coordinator's decision.
        now_ns
            Market time, ns UTC.
        position
            Current signed position, contracts.
        qty
            Contracts the order would trade (> 0).

        Returns
        -------
        RiskVerdict
            ``approved`` and the reasons of every rule that failed (or the reason
            of approval).
        """
        cfg = self.config
        day = self._roll(now_ns)
        if decision.action is Action.HOLD:
            return RiskVerdict(approved=False, reasons=("hold: nothing to trade",))
        if qty <= 0 or qty % max(self.spec.lot_size, 1):
            return RiskVerdict(approved=False, reasons=(f"invalid qty {qty}",))
        sign = 1 if decision.action is Action.BUY else -1
        after = position + sign * qty
        if abs(after) <= abs(position) and after * position >= 0:
            return RiskVerdict(approved=True, reasons=("reduces the position",))
        reasons: list[str] = []
        if self.kill_switch_active():
            reasons.append(f"kill switch {cfg.kill_switch_path!r} present")
        limit = cfg.max_position * max(self.spec.lot_size, 1)
        if abs(after) > limit:
            reasons.append(f"position {after} would exceed max_position {limit} contracts")
        start, end = self._window(day)
        if not start <= now_ns < end:
            reasons.append(
                f"outside entry hours {cfg.trading_start}-{cfg.trading_end} "
                f"(local {ns_to_local(now_ns):%H:%M:%S})"
            )
        if self._daily_net <= -cfg.daily_loss_limit_brl:
            reasons.append(
                f"daily loss limit reached ({self._daily_net:.2f} <= "
                f"-{cfg.daily_loss_limit_brl:.2f} BRL)"
            )
        if self._trades >= cfg.max_trades_per_day:
            reasons.append(f"max_trades_per_day {cfg.max_trades_per_day} reached")
        if self._last_entry is not None:
            gap = now_ns - self._last_entry
            if gap < cfg.min_seconds_between_trades * NS_PER_SECOND:
                reasons.append(
                    f"{gap / NS_PER_SECOND:.1f} s since last entry "
                    f"< {cfg.min_seconds_between_trades} s"
                )
        if self._paused_until is not None and now_ns < self._paused_until:
            reasons.append(
                f"paused after {cfg.max_consecutive_losses} consecutive losses until "
                f"{ns_to_local(self._paused_until):%H:%M:%S}"
            )
        if reasons:
            return RiskVerdict(approved=False, reasons=tuple(reasons))
        return RiskVerdict(approved=True, reasons=("within limits",))

    # -- feedback ----------------------------------------------------------------------
    def record_entry(self, now_ns: int) -> None:
        """Count an entry submitted at ``now_ns`` (ns UTC)."""
        self._roll(now_ns)
        self._trades += 1
        self._last_entry = now_ns

    def record_close(self, now_ns: int, net_pnl_brl: float) -> None:
        """Account a closed round trip's net P&L (BRL, after fees) at ``now_ns``.

        A loss (``net < 0``) extends the losing streak; reaching
        ``max_consecutive_losses`` starts the pause and restarts the streak. A
        non-negative result ends the streak.
        """
        self._roll(now_ns)
        self._daily_net += net_pnl_brl
        if net_pnl_brl < 0:
            self._losses += 1
            if self._losses >= self.config.max_consecutive_losses:
                pause = self.config.pause_minutes_after_losses * NS_PER_MINUTE
                log.info("risk: %d consecutive losses, pausing entries", self._losses)
                self._paused_until = now_ns + pause
                self._losses = 0
        else:
            self._losses = 0
        if self._daily_net <= -self.config.daily_loss_limit_brl:
            log.info("risk: daily loss limit reached (%.2f BRL)", self._daily_net)

    def state(self) -> RiskState:
        """A summary of the current counters."""
        return RiskState(
            day=self._day,
            daily_net_pnl_brl=self._daily_net,
            trades_today=self._trades,
            consecutive_losses=self._losses,
            paused_until_ns=self._paused_until,
            last_entry_ns=self._last_entry,
            kill_switch=self.kill_switch_active(),
            entries_blocked_by_loss=self._daily_net <= -self.config.daily_loss_limit_brl,
        )
