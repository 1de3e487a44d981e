"""Bus benchmarks (``python benchmarks/bus.py``): PUB/SUB throughput and paper latency.

Prints rates; asserts nothing. Target: tick-to-decision and tick-to-order p99 <= 2 ms.

a. Publish throughput: the real B3 DOLZ18 trades of 2018-11-05 (``../shared/data``,
   or ``QUANTUMTRADER_SAMPLE_DATA``; synthetic trades when absent), cycled to
   ``--messages``, published as fast as possible by a :class:`Publisher` (``--hwm``,
   default 100k as in ``[bus]``) on 127.0.0.1 to a :class:`Subscriber` in another
   process that reads as fast as it can. Prints messages/s published and received,
   the subscriber's drops, and the per-message cost of ``encode`` + ``publish_bytes``.
b. End-to-end latency through the real paper pipeline (``run_paper``: feed, features,
   agents and execution processes over ZeroMQ, an embedded Valkey): the full day at
   max speed, and the busiest ``--window-s`` seconds of market time at real pace
   (speed 1.0). ``tick_to_decision`` is wall time from the publication of the trade
   whose arrival fired an actionable decision to that decision (agents process);
   ``tick_to_order`` from that publication to the order's arrival at the execution
   process. At max speed the feed outruns the consumers, so the figures there are
   mostly queueing behind the backlog, not processing time. The seed's agent config
   trades rarely; each run is repeated with an "active" config (:func:`active_config`)
   that trades as often as the risk rules allow.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import zmq

from quantumtrader.agents import CoordinatorConfig, OrderFlowConfig, TrendConfig
from quantumtrader.bus import BusConfig, EndOfStream, Ports, Publisher, Status, Subscriber
from quantumtrader.bus.codec import encode
from quantumtrader.cli.backtest import load_trades
from quantumtrader.cli.paper import PaperConfig, run_paper
from quantumtrader.engine import ReplayConfig
from quantumtrader.model.arrow import table_to_trades
from quantumtrader.model.events import Aggressor, Trade
from quantumtrader.risk import RiskConfig

TOPIC = "md.trade.DOLZ18"
SYNC = Status(stage="sync", pid=0, wall_ns=0)
TARGET_MS = 2.0


def _sample_file() -> Path | None:
    env = os.environ.get("QUANTUMTRADER_SAMPLE_DATA")
    folder = (
        Path(env) if env else Path(__file__).resolve().parents[2] / "shared/data/b3_dol_tt_20181105"
    )
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    return files[0] if files else None


def _synthetic(n: int) -> list[Trade]:
    rng = np.random.default_rng(7)
    steps = rng.integers(-1, 2, n).cumsum()
    t0 = 1_541_422_849_000_000_000
    return [
        Trade(
            ts_event=t0 + i * 10_000_000,
            ts_init=t0 + i * 10_000_000,
            symbol="DOLZ18",
            price=3700.0 + 0.5 * float(steps[i]),
            qty=5 * int(1 + i % 4),
            aggressor=Aggressor.BUY if steps[i] % 2 else Aggressor.SELL,
            seq=i,
        )
        for i in range(n)
    ]


# -- a. publish throughput --------------------------------------------------------------------


def _subscriber(endpoint: str, hwm: int, conn: Connection) -> None:
    """Child process: read everything until an EndOfStream, then report counts and times."""
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    sub = Subscriber(ctx, [endpoint], [TOPIC], hwm=hwm)
    while sub.recv(10) is None:  # the parent publishes SYNC until we are connected
        pass
    conn.send("joined")
    first = last = 0
    received0, drops0 = sub.received, sub.drops
    n_trades = 0
    while True:
        got = sub.recv(5_000)
        if got is None:
            break
        if isinstance(got.msg, Trade):
            last = time.time_ns()
            if not n_trades:
                first = last
            n_trades += 1
        elif isinstance(got.msg, EndOfStream):
            break
    conn.send(
        {
            "trades": n_trades,
            "received": sub.received - received0,
            "drops": sub.drops - drops0,
            "malformed": sub.malformed,
            "first_ns": first,
            "last_ns": last,
        }
    )
    sub.close()
    ctx.destroy(linger=0)


def bench_publish(trades: list[Trade], n: int, hwm: int, port: int) -> None:
    msgs = [trades[i % len(trades)] for i in range(n)]
    topic = TOPIC.encode()

    best_enc = min(_timed(lambda: [encode(m) for m in msgs]) for _ in range(3))
    print(f"  encode (msgspec msgpack):           {best_enc / n * 1e9:8.0f} ns/msg")

    endpoint = f"tcp://127.0.0.1:{port}"
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    pub = Publisher(ctx, endpoint, hwm=hwm)
    spawn = mp.get_context("spawn")
    parent, child = spawn.Pipe()
    proc = spawn.Process(target=_subscriber, args=(endpoint, hwm, child), daemon=True)
    proc.start()
    try:
        while not parent.poll(0.01):
            pub.publish(TOPIC, SYNC)
        parent.recv()
        time.sleep(0.2)  # the SYNC backlog drains
        start_ns = time.time_ns()
        t = time.perf_counter()
        for i, m in enumerate(msgs):
            pub.publish_bytes(topic, encode(m), i)
        pub_s = time.perf_counter() - t
        time.sleep(0.5)
        eos = EndOfStream(symbol="DOLZ18", last_seq=n - 1, last_ts=msgs[-1].ts_event)
        got: dict[str, int] | None = None
        for _ in range(50):  # the marker itself may meet a full queue: repeat it
            pub.publish(TOPIC, eos)
            if parent.poll(0.1):
                got = parent.recv()
                break
        proc.join(10)
    finally:
        if proc.is_alive():
            proc.terminate()
        pub.close()
        ctx.destroy(linger=0)
    if got is None:
        print("  subscriber did not report")
        return
    recv_s = (got["last_ns"] - start_ns) / 1e9 if got["trades"] else float("nan")
    print(f"  encode + publish_bytes:             {pub_s / n * 1e9:8.0f} ns/msg")
    print(
        f"  published {n:,} msgs in {pub_s:.2f} s:    {n / pub_s:>12,.0f} msgs/s"
        f"  (failed sends {pub.failed})"
    )
    print(
        f"  received  {got['trades']:,} msgs in {recv_s:.2f} s:    {got['trades'] / recv_s:>12,.0f}"
        f" msgs/s  (drops {got['drops']:,}, malformed {got['malformed']})"
    )


def _timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# -- b. paper pipeline latency ----------------------------------------------------------------


ACTIVE_NOTE = (
    "orderflow threshold 0.05 without velocity condition; trend ADX > 10 (full at 30); "
    "coordinator min_strength 0.05; risk: no wait between entries, 1000 entries/day, "
    "no loss pause or daily loss limit, no kill-switch file; brackets 1 point stop/take"
)


def active_config(base: PaperConfig) -> PaperConfig:
    """``base`` with the agents and risk set to trade as often as they can (:data:`ACTIVE_NOTE`)."""
    return msgspec.structs.replace(
        base,
        orderflow=OrderFlowConfig(threshold=0.05, require_velocity=False),
        trend=TrendConfig(adx_threshold=10.0, adx_full=30.0),
        coordinator=CoordinatorConfig(min_strength=0.05),
        risk=RiskConfig(
            max_trades_per_day=1000,
            min_seconds_between_trades=0,
            max_consecutive_losses=1000,
            pause_minutes_after_losses=0,
            daily_loss_limit_brl=1e9,
            kill_switch_path="",
        ),
        replay=ReplayConfig(stop_points=1.0, take_points=1.0),
    )


def busiest(table: pa.Table, window_s: float) -> tuple[pa.Table, int, int]:
    """Rows of the ``window_s`` seconds of market time holding the most trades."""
    ts = table.column("ts_event").cast(pa.int64()).to_numpy()
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    ends = np.searchsorted(ts, ts + int(window_s * 1e9), side="left")
    i = int(np.argmax(ends - np.arange(len(ts))))
    rows = order[i : int(ends[i])]
    return table.take(pa.array(rows)), int(ts[i]), int(ts[int(ends[i]) - 1])


def _stats(path: Path) -> str:
    if not path.exists():
        return "n 0 (no file)"
    a = np.load(path) / 1e6
    if not a.size:
        return "n 0"
    p50, p99 = np.percentile(a, [50, 99])
    ok = "met" if p99 <= TARGET_MS else "NOT met"
    return (
        f"n {a.size:>5,}  p50 {p50:9.3f}  p99 {p99:9.3f}  max {a.max():9.3f} ms"
        f"  (p99 <= {TARGET_MS:g} ms {ok})"
    )


def bench_paper(
    table: pa.Table, symbol: str, cfg: PaperConfig, *, speed: float, label: str, workdir: Path
) -> None:
    run_dir = workdir / label.replace(" ", "_")
    t = time.perf_counter()
    try:
        res = run_paper(table, symbol, cfg, run_dir, speed=speed, timeout_s=3600)
    except Exception as exc:  # a benchmark reports and goes on
        print(f"  {label}: failed: {exc}")
        return
    wall = time.perf_counter() - t
    actionable = sum(1 for d in res.decisions if d.action.value != "hold")
    print(
        f"  {label}: {table.num_rows:,} trades in {wall:.1f} s wall, "
        f"{len(res.decisions):,} decisions ({actionable:,} buy/sell), {len(res.fills):,} fills"
    )
    for name in ("tick_to_decision", "tick_to_order"):
        print(f"    {name:<17} {_stats(run_dir / 'latency' / f'{name}.npy')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=200_000, help="messages to publish")
    ap.add_argument("--hwm", type=int, default=100_000, help="high-water mark (both ends)")
    ap.add_argument("--window-s", type=float, default=60.0, help="real-pace slice, seconds")
    ap.add_argument("--port-base", type=int, default=25555, help="first bus port of the runs")
    ap.add_argument("--skip-max", action="store_true", help="no full-day max-speed runs")
    ap.add_argument("--skip-real", action="store_true", help="no real-pace runs")
    ap.add_argument("--skip-paper", action="store_true", help="publish throughput only")
    args = ap.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, libzmq {zmq.zmq_version()}"
    )
    path = _sample_file()
    table: pa.Table | None = None
    symbol = "DOLZ18"
    if path is not None:
        symbol, day, table, _ = load_trades(path, None, None)
        trades = [msgspec.structs.replace(tr, seq=i) for i, tr in enumerate(table_to_trades(table))]
        print(f"data: {path.name} ({symbol} {day}, {len(trades):,} real trades)")
    else:
        trades = _synthetic(31_259)
        print(f"data: no sample data, {len(trades):,} synthetic trades")

    print(f"\na. publish throughput, 127.0.0.1, hwm {args.hwm:,} (subscriber in its own process)")
    bench_publish(trades, args.messages, args.hwm, args.port_base - 1)

    print("\nb. end-to-end latency, paper pipeline (4 processes + embedded Valkey)")
    if args.skip_paper:
        return
    if table is None:
        print("  skip: the real B3 day ../shared/data/b3_dol_tt_20181105 is absent")
        return
    base = PaperConfig(bus=BusConfig(ports=Ports().shifted(args.port_base)))
    configs = [("seed config", base), ("active config", active_config(base))]
    print(f"  active config: {ACTIVE_NOTE}")
    with tempfile.TemporaryDirectory(prefix="qt_bus_bench_") as tmp:
        work = Path(tmp)
        if not args.skip_max:
            print("  (max speed: the feed outruns the consumers, so these are mostly queueing)")
            for name, cfg in configs:
                bench_paper(
                    table,
                    symbol,
                    cfg,
                    speed=0.0,
                    label=f"full day, max speed, {name}",
                    workdir=work,
                )
        if not args.skip_real:
            window, t0, t1 = busiest(table, args.window_s)
            span = (t1 - t0) / 1e9
            print(
                f"  busiest {args.window_s:g} s: {window.num_rows:,} trades over {span:.0f} s "
                f"from {np.datetime64(t0, 'ns')} UTC (1-s timestamps: each second's trades "
                "are published as one burst)"
            )
            for name, cfg in configs:
                bench_paper(
                    window,
                    symbol,
                    cfg,
                    speed=1.0,
                    label=f"busiest window, speed 1, {name}",
                    workdir=work,
                )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
