"""The agents' side of the bus: a broker and a feature set that live in other processes.

:class:`RemoteBroker` implements the :class:`~quantumtrader.model.orders.Broker`
protocol over the reliable channel to the execution process, so the replay session
drives it exactly as it drives the simulated broker in a backtest: orders submitted by
timers that fire before trade ``n`` are applied before trade ``n``, and trade ``n``'s
fills come back before the next timer. While the symbol is flat with nothing working
nothing can fill, so trades are not waited for; a one-way step every
:attr:`RemoteBroker.idle_step` trades lets the execution process apply them.

:class:`RemoteFeatures` stands in for the agents' :class:`FeatureSet`: its values are
the ``agents`` feature vectors the features process published for the same trade.
"""

from __future__ import annotations

from quantumtrader.bus import Cancel, ReliableClient, Step, StepResult, Submit
from quantumtrader.core.errors import BrokerError
from quantumtrader.model.events import Trade
from quantumtrader.model.orders import Fill, Order, OrderUpdate

__all__ = ["RemoteBroker", "RemoteFeatures"]


class RemoteBroker:
    """Broker protocol over a :class:`ReliableClient` (see the module docstring).

    Parameters
    ----------
    client
        Connected to the execution process's ROUTER.
    symbol
        The symbol traded.
    idle_step
        Trades between one-way steps while idle.

    Attributes
    ----------
    current_seq, current_wall_ns
        Feed sequence number and publication wall time of the next trade; set by the
        agents' loop before the timers that precede it fire.
    orders, calls
        Orders submitted, and commands that waited for an answer.
    """

    def __init__(self, client: ReliableClient, symbol: str, *, idle_step: int = 1024) -> None:
        self.client = client
        self.symbol = symbol
        self.idle_step = idle_step
        self.current_seq = 0
        self.current_wall_ns = 0
        self.orders = 0
        self.calls = 0
        self._position = 0
        self._working: list[Order] = []
        self._updates: list[OrderUpdate] = []
        self._since_step = 0

    def _call(self, cmd: Submit | Cancel | Step) -> StepResult:
        self.calls += 1
        r = self.client.call(cmd)
        if r.ok:
            self._position = r.position
            self._working = list(r.working)
            self._updates.extend(r.updates)
        return r

    def submit(self, order: Order) -> None:
        """Send ``order`` and wait until the execution process persisted and applied it.

        Raises
        ------
        BrokerError
            If the execution process refused it (the message is its reason).
        """
        cmd = Submit(
            cmd_id=self.client.next_id(),
            at_seq=self.current_seq,
            order=order,
            tick_wall_ns=self.current_wall_ns,
        )
        r = self._call(cmd)
        if not r.ok:
            raise BrokerError(f"order {order.order_id} refused: {r.error}")
        self.orders += 1

    def cancel(self, order_id: str, ts: int) -> None:
        """Cancel a working order (no-op when already done)."""
        r = self._call(
            Cancel(cmd_id=self.client.next_id(), at_seq=self.current_seq, order_id=order_id, ts=ts)
        )
        if not r.ok:
            raise BrokerError(f"cancel of {order_id} refused: {r.error}")

    def modify(
        self, order_id: str, ts: int, *, price: float | None = None, qty: int | None = None
    ) -> None:
        """Not supported by the paper execution process.

        Raises
        ------
        BrokerError
            Always.
        """
        raise BrokerError(f"modify of {order_id}: the paper broker accepts submit and cancel")

    def on_trade(self, trade: Trade) -> list[Fill]:
        """Trade ``trade.seq``'s fills (waits for the execution process unless idle)."""
        if self._position == 0 and not self._working:
            self._since_step += 1
            if self._since_step >= self.idle_step:
                self._since_step = 0
                self.client.send(Step(cmd_id=self.client.next_id(), seq=trade.seq, reply=False))
            return []
        self._since_step = 0
        r = self._call(Step(cmd_id=self.client.next_id(), seq=trade.seq))
        if not r.ok:
            raise BrokerError(f"step {trade.seq} refused: {r.error}")
        return list(r.fills)

    def drain(self) -> list[OrderUpdate]:
        """Order updates received since the last call."""
        out, self._updates = self._updates, []
        return out

    def position(self, symbol: str) -> int:
        """Signed position as of the last answer, contracts."""
        return self._position if symbol == self.symbol else 0

    def working_orders(self, symbol: str) -> list[Order]:
        """Working orders as of the last answer."""
        return list(self._working) if symbol == self.symbol else []


class RemoteFeatures:
    """The agents' feature set, fed by published ``agents`` vectors.

    The agents' loop sets :attr:`values` to trade ``n``'s vector before the session
    sees trade ``n``; :meth:`snapshot` then returns it, as ``FeatureSet.snapshot`` would
    after ``update_trade``.
    """

    def __init__(self) -> None:
        self.values: dict[str, float | None] = {}

    def update_trade(self, ts: int, price: float, qty: float, side: int) -> bool:
        """No-op: the features process did the update."""
        return False

    def snapshot(self) -> dict[str, float | None]:
        """The latest vector's values by name."""
        return self.values

    def flush(self) -> bool:
        """No-op (candles are the features process's)."""
        return False

    def candle_rows(self) -> list[tuple[int, float, float, float, float, float]]:
        """No candles in the agents process."""
        return []
