"""Starts, watches and stops the processes of a paper-trading run.

Each stage is a function run in its own process (``spawn``: a fresh interpreter, no
inherited sockets). The consumers start first; the feed starts once each of them has
reported (so nothing is published before they subscribe — and what is missed anyway
is read back from the streams). A stage killed by a signal is restarted (up to
``max_restarts`` times): it catches up from the streams. A stage that exits with an
error stops the run; its log (``<run>/logs/<stage>.log``) has the traceback.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import zmq

from quantumtrader.bus import Status
from quantumtrader.bus.runtime import RunContext
from quantumtrader.bus.status import StatusCollector
from quantumtrader.core.errors import BusError

__all__ = ["StageSpec", "Supervisor"]

log = logging.getLogger(__name__)

StageTarget = Callable[[RunContext, Any, Any], None]


@dataclass
class StageSpec:
    """One process of the run.

    Attributes
    ----------
    name
        ``feed``, ``features``, ``agents`` or ``execution``.
    target
        Module-level function ``(run, config, go)``.
    config
        Its configuration (a picklable msgspec struct).
    restart
        Restart the stage when a signal kills it.
    """

    name: str
    target: StageTarget
    config: Any
    restart: bool = True
    restarts: int = field(default=0, init=False)


def _stage_main(target: StageTarget, run: RunContext, config: Any, name: str) -> None:
    logs = Path(run.run_dir) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=logs / f"{name}.log",
        level=logging.INFO,
        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s",
        force=True,
    )
    try:
        target(run, config, None)
    except Exception:
        logging.getLogger(name).exception("%s failed", name)
        raise SystemExit(1) from None


class Supervisor:
    """Runs the stages of one paper-trading run (see the module docstring).

    Parameters
    ----------
    run
        The shared :class:`RunContext`.
    stages
        The processes; the one named ``feed`` starts last.
    max_restarts
        Restarts allowed per stage.
    finish_stage
        The run is over when this stage reports ``done``.
    """

    def __init__(
        self,
        run: RunContext,
        stages: list[StageSpec],
        *,
        max_restarts: int = 3,
        finish_stage: str = "agents",
    ) -> None:
        self.run = run
        self.stages = {s.name: s for s in stages}
        self.max_restarts = max_restarts
        self.finish_stage = finish_stage
        self.procs: dict[str, BaseProcess] = {}
        self.mp = mp.get_context("spawn")
        self.zmq: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.collector = StatusCollector(self.zmq, run.bus.endpoint("status"))
        self.error = ""
        self.stopping = False
        self.stopped = False

    @property
    def status(self) -> dict[str, Status]:
        """Latest report of each stage."""
        return self.collector.latest

    def _spawn(self, name: str) -> None:
        s = self.stages[name]
        p = self.mp.Process(
            target=_stage_main, args=(s.target, self.run, s.config, name), name=f"qt-{name}"
        )
        p.start()
        self.procs[name] = p

    def start(self, ready_timeout_s: float = 120.0) -> None:
        """Start the consumers, wait for their first report, then start the feed.

        Raises
        ------
        BusError
            If a consumer does not report within ``ready_timeout_s`` or dies.
        """
        consumers = [n for n in self.stages if n != "feed"]
        for n in consumers:
            self._spawn(n)
        deadline = time.monotonic() + ready_timeout_s
        while any(n not in self.status for n in consumers):
            self.collector.poll(50)
            for n in consumers:
                p = self.procs[n]
                if not p.is_alive() and n not in self.status:
                    self.stop()
                    raise BusError(f"stage {n} exited at start; see {self._log(n)}")
            if time.monotonic() > deadline:
                self.stop()
                raise BusError(f"stages did not start within {ready_timeout_s:.0f} s")
        time.sleep(0.3)  # let the subscriptions reach the publishers
        if "feed" in self.stages:
            self._spawn("feed")

    def _log(self, name: str) -> Path:
        return Path(self.run.run_dir) / "logs" / f"{name}.log"

    def poll(self, timeout_ms: int = 100) -> bool:
        """Collect reports and watch the processes; False once the run is over."""
        self.collector.poll(timeout_ms)
        for name, p in list(self.procs.items()):
            if p.is_alive() or p.exitcode is None:
                continue
            code = p.exitcode
            st = self.status.get(name)
            if code == 0 or (st is not None and st.done):
                continue
            spec = self.stages[name]
            if (
                code < 0
                and spec.restart
                and spec.restarts < self.max_restarts
                and not self.stopping
            ):
                spec.restarts += 1
                log.warning("stage %s killed by signal %d; restarting", name, -code)
                self.status.pop(name, None)
                self._spawn(name)
            else:
                self.error = f"stage {name} exited with code {code}; see {self._log(name)}"
                return False
        fin = self.status.get(self.finish_stage)
        return not (fin is not None and fin.done)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to a stage (fault tests; the supervisor restarts it)."""
        p = self.procs[name]
        if p.pid is not None:
            os.kill(p.pid, sig)

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM every stage (feed first), wait for each to flush and exit, then
        SIGKILL what is left. Calling it again does nothing."""
        if self.stopped:
            return
        self.stopped = True
        self.stopping = True
        order = ["feed", "features", "agents", "execution"]
        names = sorted(self.procs, key=lambda n: order.index(n) if n in order else 99)
        for n in names:
            p = self.procs[n]
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for n in names:
            p = self.procs[n]
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                log.warning("stage %s did not stop in time; killing it", n)
                p.kill()
                p.join(5)
        self.collector.poll(0)
        self.collector.close()
        self.zmq.destroy(linger=0)
