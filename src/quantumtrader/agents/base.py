"""The agent protocol and what the engine hands to agents (DESIGN.md section 5).

An agent is driven by the engine's clock: every ``cadence_ns`` of market time the
engine calls :meth:`Agent.on_timer` with the current :class:`MarketView` and routes
the returned signals and decisions. Agents do no I/O and never read the wall clock;
everything they know arrives through ``on_start``, ``on_timer`` and ``on_feedback``.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping
from typing import ClassVar, Generic, Protocol, TypeVar, runtime_checkable

import msgspec

from quantumtrader.core.errors import ConfigError
from quantumtrader.model.instruments import InstrumentSpec
from quantumtrader.model.signals import Action, Decision, Signal

__all__ = [
    "Agent",
    "AgentBase",
    "AgentConfig",
    "AgentContext",
    "AgentStats",
    "Feedback",
    "MarketView",
    "SignalSpecialist",
    "feature",
]

NS_PER_MS = 1_000_000


class MarketView:
    """What an agent sees at a timer: a mutable snapshot the engine updates in place.

    Attributes
    ----------
    symbol
        Contract code.
    ts
        Market time of the snapshot, ns since the epoch, UTC.
    last_price
        Last traded price, points.
    features
        Feature name -> value (``ofi_1m``, ``ofi_5m_velocity``, ``ema_9``, ``adx_14``…);
        a value is ``None`` until the feature is warm.
    position
        Signed position, contracts.
    signals
        Latest :class:`~quantumtrader.model.signals.Signal` per agent id (read by the
        coordinator).
    best_bid, best_ask, best_bid_size, best_ask_size
        Top of the order book when the replay has book data (points, size units);
        ``nan`` without a book.
    """

    __slots__ = (
        "best_ask",
        "best_ask_size",
        "best_bid",
        "best_bid_size",
        "features",
        "last_price",
        "position",
        "signals",
        "symbol",
        "ts",
    )

    def __init__(
        self,
        symbol: str,
        *,
        ts: int = 0,
        last_price: float = math.nan,
        features: Mapping[str, float | None] | None = None,
        position: int = 0,
        signals: Mapping[str, Signal] | None = None,
    ) -> None:
        self.symbol = symbol
        self.ts = ts
        self.last_price = last_price
        self.features: Mapping[str, float | None] = {} if features is None else features
        self.position = position
        self.signals: Mapping[str, Signal] = {} if signals is None else signals
        self.best_bid = math.nan
        self.best_ask = math.nan
        self.best_bid_size = math.nan
        self.best_ask_size = math.nan

    def __repr__(self) -> str:
        return (
            f"MarketView(symbol={self.symbol!r}, ts={self.ts}, last_price={self.last_price}, "
            f"position={self.position}, features={len(self.features)}, "
            f"signals={len(self.signals)})"
        )


def feature(view: MarketView, name: str) -> float | None:
    """Value of feature ``name`` in ``view``; ``None`` when missing, not warm or NaN."""
    value = view.features.get(name)
    if value is None or math.isnan(value):
        return None
    return float(value)


class AgentContext(msgspec.Struct, frozen=True, kw_only=True):
    """Given to :meth:`Agent.on_start`: the instrument the agent trades."""

    symbol: str
    spec: InstrumentSpec


class Feedback(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Outcome the engine reports back to an agent.

    Attributes
    ----------
    ts
        Market time, ns UTC.
    pnl_brl
        Net P&L attributed to the agent, BRL (after fees).
    order_id
        Order the feedback concerns (empty when none).
    note
        Free text, e.g. the exit reason.
    """

    ts: int
    pnl_brl: float
    order_id: str = ""
    note: str = ""


@runtime_checkable
class Agent(Protocol):
    """What the engine needs from an agent."""

    @property
    def agent_id(self) -> str:
        """Unique id; keys ``MarketView.signals``."""

    @property
    def cadence_ns(self) -> int:
        """Timer period, ns of market time."""

    def on_start(self, ctx: AgentContext) -> None:
        """Called once before the first timer."""

    def on_timer(self, now_ns: int, view: MarketView) -> list[Signal | Decision]:
        """Called every ``cadence_ns``; returns signals or decisions (maybe none)."""

    def on_feedback(self, feedback: Feedback) -> None:
        """Outcome of earlier output (fills, P&L)."""

    def on_stop(self) -> None:
        """Called once after the last timer."""

    def snapshot(self) -> bytes:
        """State and config as msgpack bytes."""

    def restore(self, data: bytes) -> None:
        """Replace state and config with a :meth:`snapshot`."""


class AgentConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields every agent config has.

    Attributes
    ----------
    agent_id
        Unique id of the agent instance.
    cadence_ms
        Timer period, milliseconds of market time (> 0).
    """

    agent_id: str = "agent"
    cadence_ms: int = 100

    def __post_init__(self) -> None:
        if not self.agent_id:
            raise ConfigError("agent_id must not be empty")
        if self.cadence_ms <= 0:
            raise ConfigError(f"{self.agent_id}: cadence_ms must be > 0, got {self.cadence_ms}")


class AgentStats(msgspec.Struct, kw_only=True):
    """Running counters every agent keeps (part of its snapshot)."""

    timers: int = 0
    buys: int = 0
    sells: int = 0
    holds: int = 0
    last_ts: int | None = None
    feedback_count: int = 0
    feedback_pnl_brl: float = 0.0

    def count(self, action: Action, ts: int, n: int = 1) -> None:
        """Count ``n`` outputs of ``action``, the last at market time ``ts`` (ns)."""
        self.timers += n
        self.last_ts = ts
        if action is Action.BUY:
            self.buys += n
        elif action is Action.SELL:
            self.sells += n
        else:
            self.holds += n


class _Envelope(msgspec.Struct, kw_only=True):
    kind: str
    config: msgspec.Raw
    stats: AgentStats
    symbol: str | None = None


C = TypeVar("C", bound=AgentConfig)


class AgentBase(Generic[C]):
    """Shared plumbing: config, counters, context, snapshot and restore.

    Subclasses implement :meth:`on_timer`. The snapshot is msgpack of
    ``{kind, config, stats, symbol}``; restoring a snapshot of another agent class
    raises :class:`~quantumtrader.core.errors.ConfigError`.
    """

    def __init__(self, config: C) -> None:
        self.config: C = config
        self.stats = AgentStats()
        self.ctx: AgentContext | None = None
        self._symbol: str | None = None

    @property
    def agent_id(self) -> str:
        """Unique id of this agent (from the config)."""
        return self.config.agent_id

    @property
    def cadence_ns(self) -> int:
        """Timer period in ns (``config.cadence_ms`` × 10⁶)."""
        return self.config.cadence_ms * NS_PER_MS

    def on_start(self, ctx: AgentContext) -> None:
        """Remember the instrument."""
        self.ctx = ctx
        self._symbol = ctx.symbol

    def on_feedback(self, feedback: Feedback) -> None:
        """Accumulate the reported net P&L (BRL)."""
        self.stats.feedback_count += 1
        self.stats.feedback_pnl_brl += feedback.pnl_brl

    def on_stop(self) -> None:
        """Nothing to release (agents hold no resources)."""

    def snapshot(self) -> bytes:
        """State and config as msgpack bytes."""
        env = _Envelope(
            kind=type(self).__name__,
            config=msgspec.Raw(msgspec.msgpack.encode(self.config)),
            stats=self.stats,
            symbol=self._symbol,
        )
        return msgspec.msgpack.encode(env)

    def restore(self, data: bytes) -> None:
        """Replace config and state with those in ``data``.

        Raises
        ------
        ConfigError
            If ``data`` is not a snapshot of this agent class.
        """
        try:
            env = msgspec.msgpack.decode(data, type=_Envelope)
            config = msgspec.msgpack.decode(env.config, type=type(self.config))
        except msgspec.DecodeError as exc:
            raise ConfigError(f"{type(self).__name__}: bad snapshot: {exc}") from exc
        if env.kind != type(self).__name__:
            raise ConfigError(f"snapshot of a {env.kind} given to a {type(self).__name__}")
        self.config = config
        self.stats = env.stats
        self._symbol = env.symbol


class SignalSpecialist(AgentBase[C], abc.ABC):
    """A specialist whose signal is a pure function of the view (besides its timestamp).

    Subclasses implement :meth:`evaluate`. Because the output depends only on what the
    view holds, the engine may call :meth:`on_timer_unchanged` when nothing in the view
    changed since the previous timer (no trade, book change or fill): the previous
    signal is re-issued at ``now_ns`` and counted, exactly what :meth:`on_timer` would
    return, without recomputing it.
    """

    #: Whether :meth:`evaluate` reads the order book fields of the view (``best_bid``…).
    #: When False, book changes alone do not make the view "changed" for this agent.
    reads_book: ClassVar[bool] = True

    def __init__(self, config: C) -> None:
        super().__init__(config)
        self._last: Signal | None = None

    @abc.abstractmethod
    def evaluate(self, now_ns: int, view: MarketView) -> Signal:
        """The signal for ``view`` at ``now_ns`` without counting it."""

    def on_timer(self, now_ns: int, view: MarketView) -> list[Signal | Decision]:
        """One signal per timer (HOLD included, so stale opinions are replaced)."""
        signal = self.evaluate(now_ns, view)
        self.stats.count(signal.action, now_ns)
        self._last = signal
        return [signal]

    def on_timer_unchanged(
        self, now_ns: int, view: MarketView, repeats: int = 1
    ) -> list[Signal | Decision]:
        """:meth:`on_timer` for a view equal to the previous timer's (see the class doc).

        ``repeats`` timers in a row saw that same view, the last at ``now_ns``: they are
        all counted and the signal of the last one is returned.
        """
        last = self._last
        if last is None:
            if repeats != 1:
                raise ValueError("repeats > 1 needs an earlier on_timer call")
            return self.on_timer(now_ns, view)
        signal = msgspec.structs.replace(last, ts=now_ns)
        self.stats.count(signal.action, now_ns, repeats)
        self._last = signal
        return [signal]
