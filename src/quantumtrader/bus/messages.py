"""Bus-only messages: the reliable order channel and process status.

Market and trading events travel as the model's own structs (:class:`Trade`,
:class:`Order`, :class:`Fill`…); these are the few messages that exist only because
the system runs as several processes.
"""

from __future__ import annotations

import msgspec

from quantumtrader.model.orders import Fill, Order, OrderUpdate

__all__ = ["Cancel", "EndOfStream", "Status", "Step", "StepResult", "Submit"]


class Submit(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Submit ``order`` before the market event ``at_seq`` is applied.

    Attributes
    ----------
    cmd_id
        Id of the command, increasing per client; a resent command keeps its id, so
        the execution process applies it once.
    at_seq
        Feed sequence number of the first market event the order may trade against.
    order
        The order.
    tick_wall_ns
        Publication wall time of the trade whose arrival fired the decision (0 when
        unknown), for end-to-end latency measurements only.
    """

    cmd_id: int
    at_seq: int
    order: Order
    tick_wall_ns: int = 0


class Cancel(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Cancel a working order before market event ``at_seq`` (see :class:`Submit`)."""

    cmd_id: int
    at_seq: int
    order_id: str
    ts: int


class Step(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Apply market events up to and including ``seq``.

    With ``reply`` the execution process answers with a :class:`StepResult`; without,
    the step only lets it apply (and forget) market events while nothing is working.
    """

    cmd_id: int
    seq: int
    reply: bool = True


class StepResult(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The answer to a :class:`Submit`, :class:`Cancel` or :class:`Step`.

    Attributes
    ----------
    cmd_id
        The command answered.
    ok
        False when the command was refused (``error`` says why); nothing changed then.
    error
        Why it was refused.
    seq
        Market event applied last.
    fills, updates
        Fills and order updates of that event (and of commands applied with it).
    position
        Signed position of the symbol after it, contracts.
    working
        Working orders of the symbol after it.
    """

    cmd_id: int
    seq: int
    ok: bool = True
    error: str = ""
    fills: list[Fill] = msgspec.field(default_factory=list)
    updates: list[OrderUpdate] = msgspec.field(default_factory=list)
    position: int = 0
    working: list[Order] = msgspec.field(default_factory=list)


class EndOfStream(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The feed has published its last market event.

    Attributes
    ----------
    symbol
        Instrument.
    last_seq
        Sequence number of the last market event (-1 when none was published).
    last_ts
        Its ``ts_event``, ns UTC.
    """

    symbol: str
    last_seq: int
    last_ts: int


class Status(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """A process's periodic report to the supervisor.

    Attributes
    ----------
    stage
        ``feed``, ``features``, ``agents`` or ``execution``.
    pid
        Operating-system process id.
    wall_ns
        Wall-clock time of the report, ns (for display only).
    events
        Market events processed so far.
    last_seq, last_ts
        Last market event processed and its ``ts_event`` (ns UTC).
    lag_ns
        Wall-clock delay between that event's publication and its processing, ns.
    decisions, orders, fills
        Counts so far (agents: actionable decisions and orders sent; execution: orders
        accepted and fills).
    position
        Signed position, contracts.
    pnl
        Realized net plus unrealized P&L in the instrument's currency.
    drops
        Market-data messages lost by this process's subscribers (recovered from the
        streams) plus publisher send failures.
    malformed
        Messages rejected by the decoder.
    spooled
        Stream entries waiting in the local spool (Valkey unreachable).
    done
        True when the process has finished its work.
    """

    stage: str
    pid: int
    wall_ns: int
    events: int = 0
    last_seq: int = -1
    last_ts: int = 0
    lag_ns: int = 0
    decisions: int = 0
    orders: int = 0
    fills: int = 0
    position: int = 0
    pnl: float = 0.0
    drops: int = 0
    malformed: int = 0
    spooled: int = 0
    done: bool = False
