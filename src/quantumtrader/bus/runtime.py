"""What every bus process has: a ZeroMQ context, Valkey, a stream writer, status, stop.

A stage of the paper-trading system (feed, features, agents, execution) is a function
run in its own process; it builds a :class:`StageRuntime` from the :class:`RunContext`
the supervisor hands it. SIGTERM and SIGINT set :attr:`StageRuntime.stopping`, and the
stage's loop ends, flushing its writer, at the next check.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path
from types import FrameType

import msgspec
import valkey
import zmq

from quantumtrader.bus.config import BusConfig, StreamsConfig, ValkeyConfig
from quantumtrader.bus.messages import Status
from quantumtrader.bus.status import StatusReporter
from quantumtrader.bus.streams import StreamWriter
from quantumtrader.bus.valkey_server import connect

__all__ = ["RunContext", "StageRuntime"]

log = logging.getLogger(__name__)


class RunContext(msgspec.Struct, frozen=True, kw_only=True):
    """What every stage of one run shares.

    Attributes
    ----------
    symbol
        Instrument traded.
    run_dir
        Folder of the run (spools, logs, embedded Valkey data).
    valkey_url
        The Valkey server every stage uses (the embedded one's URL when embedded).
    bus, streams, valkey
        Configuration tables.
    """

    symbol: str
    run_dir: str
    valkey_url: str
    bus: BusConfig = msgspec.field(default_factory=BusConfig)
    streams: StreamsConfig = msgspec.field(default_factory=StreamsConfig)
    valkey: ValkeyConfig = msgspec.field(default_factory=ValkeyConfig)


class StageRuntime:
    """Sockets, Valkey client, writer and status of one stage process.

    Parameters
    ----------
    name
        Stage name (``feed``, ``features``, ``agents``, ``execution``).
    run
        :class:`RunContext`.
    handle_signals
        Install SIGTERM/SIGINT handlers (only in the stage's main thread).
    """

    def __init__(self, name: str, run: RunContext, *, handle_signals: bool = True) -> None:
        self.name = name
        self.run = run
        self.zmq: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.stopping = False
        spool = Path(run.run_dir) / "spool" / f"{name}.spool"
        spool.parent.mkdir(parents=True, exist_ok=True)
        self.writer = StreamWriter(
            self.client, spool, batch=run.valkey.batch, flush_ms=run.valkey.flush_ms
        )
        self.status = StatusReporter(self.zmq, run.bus.endpoint("status"), run.bus.status_every_ms)
        if handle_signals:
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("%s: signal %d, stopping", self.name, signum)
        self.stopping = True

    def stop_requested(self) -> bool:
        """True once SIGTERM/SIGINT arrived."""
        return self.stopping

    def client(self) -> valkey.Valkey:
        """A new Valkey client of the run's server."""
        return connect(self.run.valkey_url, self.run.valkey)

    def report(self, status: Status, *, force: bool = False) -> None:
        """Send ``status`` if one is due (or ``force``)."""
        if force or self.status.due():
            self.status.send(status)

    def base_status(self, **fields: object) -> Status:
        """A :class:`Status` of this stage with ``fields`` set."""
        return msgspec.structs.replace(
            Status(stage=self.name, pid=os.getpid(), wall_ns=time.time_ns()),
            spooled=self.writer.spooled,
            **fields,
        )

    def close(self) -> None:
        """Flush the writer and close every socket."""
        try:
            self.writer.close()
        finally:
            self.status.close()
            self.zmq.destroy(linger=500)
