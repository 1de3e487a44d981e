"""The execution process of paper trading: live data, simulated fills, restart-safe.

:class:`ExecutionService` owns a :class:`SimulatedBroker` and serves the agents'
commands on the reliable channel (:mod:`quantumtrader.bus.reliable`):

* ``Submit``/``Cancel`` with ``at_seq``: apply every market trade before ``at_seq``
  (the agents were idle through them), then the command.
* ``Step(seq)``: apply the trades up to ``seq`` and answer with the fills of ``seq``.

Trades come from ``md.trade.<SYM>`` in feed order (holes read back from
``market_data:<SYM>``). So the broker sees the same trades and the same commands at the
same points as in a backtest, and produces the same fills.

Everything is journaled before it is answered (``exec_journal:<SYM>``): each command,
then each answer that carried fills or updates. Accepted commands and order updates also
go to ``orders:<SYM>`` and fills to ``fills:<SYM>``. A restarted service
(:meth:`ExecutionService.restore`) replays the journal against the market-data stream
to rebuild the broker, checks every journaled answer against the rebuilt one, and
reconciles the position recorded in ``fills:<SYM>`` and the working orders recorded in
the journal with the broker's before it accepts any new order; a mismatch halts order
entry (every new order is refused with the reason).
"""

from __future__ import annotations

import logging
import math
import time
from multiprocessing.synchronize import Event
from pathlib import Path

import msgspec
import numpy as np

from quantumtrader.bus import (
    Cancel,
    ReliableServer,
    Status,
    Step,
    StepResult,
    Submit,
)
from quantumtrader.bus.codec import Message
from quantumtrader.bus.feeds import trade_inbox
from quantumtrader.bus.reader import read_after
from quantumtrader.bus.runtime import RunContext, StageRuntime
from quantumtrader.core.errors import BrokerError
from quantumtrader.execution.simulated import SimBrokerConfig, SimulatedBroker
from quantumtrader.model.events import Trade
from quantumtrader.model.instruments import spec_for
from quantumtrader.model.orders import Fill, Order
from quantumtrader.model.positions import Ledger

__all__ = ["ExecutionConfig", "ExecutionService", "run_execution"]

log = logging.getLogger(__name__)


class ExecutionConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The simulated broker's configuration and the instruments file."""

    broker: SimBrokerConfig = msgspec.field(default_factory=SimBrokerConfig)
    instruments: str | None = None


class ExecutionService:
    """The broker side of the reliable channel (see the module docstring).

    Parameters
    ----------
    rt
        The process's runtime (sockets, Valkey, writer).
    cfg
        :class:`ExecutionConfig`.

    Attributes
    ----------
    cursor
        Last market trade applied to the broker (-1 before the first).
    halted
        Why order entry is halted ("" when it is not).
    reconciled
        What the last restore found (position and working orders), for the log.
    """

    def __init__(self, rt: StageRuntime, cfg: ExecutionConfig) -> None:
        self.rt = rt
        run = rt.run
        self.symbol = run.symbol
        self.spec = spec_for(run.symbol, cfg.instruments)
        self.broker = SimulatedBroker(self.spec, cfg.broker)
        self.cursor = -1
        self.halted = ""
        self.reconciled = ""
        self.n_orders = 0
        self.n_fills = 0
        st = run.streams
        self.k_journal = st.exec_journal.name(run.symbol)
        self.k_orders = st.orders.name(run.symbol)
        self.k_fills = st.fills.name(run.symbol)
        self.client = rt.client()
        self.inbox = trade_inbox(rt)
        self.results: dict[int, StepResult] = {}
        self.latency: list[int] = []
        self.last_price = float("nan")

    # -- market ---------------------------------------------------------------------------
    def advance(self, seq: int) -> list[Fill]:
        """Apply market trades up to ``seq``; return their fills."""
        fills: list[Fill] = []
        while self.cursor < seq:
            msg = self.inbox.get(self.cursor + 1, stop=self.rt.stop_requested)
            if not isinstance(msg, Trade):
                break  # end of the feed, or stopping
            self.cursor += 1
            self.last_price = msg.price
            fills.extend(self.broker.on_trade(msg))
        return fills

    # -- commands ---------------------------------------------------------------------------
    def handle(self, cmd: Message) -> StepResult | None:
        """Apply one command; the answer (``None`` for a one-way step)."""
        if isinstance(cmd, Step):
            return self._step(cmd)
        if isinstance(cmd, Submit | Cancel):
            return self._command(cmd)
        return None

    def _state(self, cmd_id: int, **kw: object) -> StepResult:
        return msgspec.structs.replace(
            StepResult(
                cmd_id=cmd_id,
                seq=self.cursor,
                position=self.broker.position(self.symbol),
                working=self.broker.working_orders(self.symbol),
            ),
            **kw,
        )

    def _step(self, cmd: Step) -> StepResult | None:
        done = self.results.get(cmd.cmd_id)
        if done is not None:
            return done
        if cmd.seq <= self.cursor and cmd.reply:
            return self._state(cmd.cmd_id)  # resent after a restart: nothing happened at seq
        fills = self.advance(cmd.seq)
        updates = self.broker.drain()
        res = self._state(cmd.cmd_id, fills=fills, updates=updates)
        if fills or updates:
            self._persist_result(res)
        if not cmd.reply:
            return None
        self._remember(res)
        return res

    def _command(self, cmd: Submit | Cancel) -> StepResult:
        done = self.results.get(cmd.cmd_id)
        if done is not None:
            return done
        w = self.rt.writer
        if isinstance(cmd, Submit) and cmd.tick_wall_ns:
            self.latency.append(time.time_ns() - cmd.tick_wall_ns)
        if isinstance(cmd, Submit) and self.halted:
            res = self._state(cmd.cmd_id, ok=False, error=self.halted)
            self._remember(res)
            return res
        # persisted before it is acted on
        w.add(self.k_journal, self.rt.run.streams.exec_journal, cmd)
        w.add_now(self.k_orders, self.rt.run.streams.orders, cmd)
        res = self._apply(cmd)
        self._persist_result(res)
        self._remember(res)
        return res

    def _apply(self, cmd: Submit | Cancel) -> StepResult:
        fills = self.advance(cmd.at_seq - 1)  # idle trades: nothing can fill
        try:
            if isinstance(cmd, Submit):
                self.broker.submit(cmd.order)
                self.n_orders += 1
            else:
                self.broker.cancel(cmd.order_id, cmd.ts)
        except BrokerError as exc:
            return self._state(cmd.cmd_id, ok=False, error=str(exc), fills=fills)
        return self._state(cmd.cmd_id, fills=fills, updates=self.broker.drain())

    def _remember(self, res: StepResult) -> None:
        self.results[res.cmd_id] = res
        if len(self.results) > 4096:
            for k in sorted(self.results)[:2048]:
                del self.results[k]

    def _persist_result(self, res: StepResult) -> None:
        st = self.rt.run.streams
        w = self.rt.writer
        for f in res.fills:
            w.add(self.k_fills, st.fills, f)
        for u in res.updates:
            w.add(self.k_orders, st.orders, u)
        w.add_now(self.k_journal, st.exec_journal, res)
        self.n_fills += len(res.fills)

    # -- restart ----------------------------------------------------------------------------
    def restore(self) -> bool:
        """Rebuild the broker from the journal and reconcile it (see the module docstring).

        Returns True when there was something to restore. Sets :attr:`halted` on a
        mismatch.
        """
        journal = [m for _, m in read_after(self.client, self.k_journal, count=10_000_000)]
        if not journal:
            return False
        working: dict[str, Order] = {}
        problems: list[str] = []
        unanswered: dict[int, StepResult] = {}
        for rec in journal:
            if isinstance(rec, Submit | Cancel):
                res = self._apply(rec)
                unanswered[rec.cmd_id] = res
                self.results[rec.cmd_id] = res
                if isinstance(rec, Submit):
                    working[rec.order.order_id] = rec.order
                else:
                    working.pop(rec.order_id, None)
            elif isinstance(rec, StepResult):
                res_cmd = unanswered.pop(rec.cmd_id, None)
                if res_cmd is not None:
                    res = res_cmd
                else:
                    fills = self.advance(rec.seq)
                    res = self._state(rec.cmd_id, fills=fills, updates=self.broker.drain())
                if (res.fills, res.updates, res.ok) != (rec.fills, rec.updates, rec.ok):
                    problems.append(f"journal answer {rec.cmd_id} at seq {rec.seq} differs")
                working = {o.order_id: o for o in rec.working}
                self.results[rec.cmd_id] = rec
                self.n_fills += len(rec.fills)
        for res in unanswered.values():  # applied, but the crash came before the answer
            self._persist_result(res)
            working = {o.order_id: o for o in res.working}
        ledger = Ledger(self.symbol, self.spec)
        for _, f in read_after(self.client, self.k_fills, count=10_000_000):
            if isinstance(f, Fill):
                ledger.apply(f)
        pos = self.broker.position(self.symbol)
        have = {o.order_id for o in self.broker.working_orders(self.symbol)}
        if ledger.position != pos:
            problems.append(f"position in {self.k_fills} is {ledger.position}, broker has {pos}")
        if set(working) != have:
            problems.append(
                f"working orders in the journal {sorted(working)} differ from the broker's "
                f"{sorted(have)}"
            )
        self.reconciled = (
            f"restored through seq {self.cursor}: position {pos}, working {sorted(have)}"
        )
        if problems:
            self.halted = "reconciliation failed: " + "; ".join(problems)
            log.error("execution: %s", self.halted)
        else:
            log.info("execution: %s", self.reconciled)
        return True


def run_execution(run: RunContext, cfg: ExecutionConfig, go: Event | None = None) -> None:
    """Process entry point: restore, then serve commands until stopped."""
    del go
    rt = StageRuntime("execution", run)
    server = ReliableServer(rt.zmq, run.bus.endpoint("orders"))
    svc = ExecutionService(rt, cfg)
    try:
        svc.restore()
        rt.report(_status(rt, svc), force=True)
        while not rt.stop_requested():
            got = server.recv(5)
            if got is not None:
                peer, cmd = got
                res = svc.handle(cmd)
                if res is not None:
                    server.reply(peer, res)
            else:
                svc.inbox.pump(0)
                rt.writer.poll()
            if rt.status.due():
                rt.report(_status(rt, svc))
        rt.report(msgspec.structs.replace(_status(rt, svc), done=True), force=True)
    finally:
        if svc.latency:
            folder = Path(run.run_dir) / "latency"
            folder.mkdir(parents=True, exist_ok=True)
            np.save(folder / "tick_to_order.npy", np.asarray(svc.latency, dtype=np.int64))
        server.close()
        svc.inbox.sub.close()
        rt.close()


def _status(rt: StageRuntime, svc: ExecutionService) -> Status:
    b = svc.broker
    pnl = b.realized_net
    if not math.isnan(svc.last_price):
        pnl += b.unrealized(svc.last_price, svc.symbol)
    return rt.base_status(
        events=svc.cursor + 1,
        last_seq=svc.cursor,
        orders=svc.n_orders,
        fills=svc.n_fills,
        position=b.position(svc.symbol),
        pnl=pnl,
        drops=svc.inbox.sub.drops,
        malformed=svc.inbox.sub.malformed,
    )
