"""Queue position of resting limits: trades, cancels (power/log/risk-averse), modify."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from quantumtrader.core.errors import ConfigError
from quantumtrader.execution import (
    ExchangeConfig,
    LogProbQueue,
    PowerProbQueue,
    RiskAverseQueue,
    SimulatedExchange,
    queue_after_change,
    queue_model,
)
from quantumtrader.model import (
    F_LAST,
    F_SNAPSHOT,
    Aggressor,
    BookAction,
    BookDelta,
    BookSide,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Trade,
    spec_for,
)

SYM = "WDOU25"
SPEC = spec_for("WDO")
BID, ASK = BookSide.BID, BookSide.ASK
PX = 5000.0


def lvl(
    side: BookSide,
    price: float,
    size: float,
    ts: int,
    *,
    flags: int = F_LAST,
    action: BookAction = BookAction.SET,
) -> BookDelta:
    return BookDelta(
        ts_event=ts,
        ts_init=ts,
        symbol=SYM,
        side=side,
        action=action,
        price=price,
        size=size,
        flags=flags,
    )


def sell_print(ts: int, qty: int, price: float = PX) -> Trade:
    return Trade(
        ts_event=ts, ts_init=ts, symbol=SYM, price=price, qty=qty, aggressor=Aggressor.SELL
    )


def resting(qty: int = 5, ahead: float = 10, **cfg: Any) -> SimulatedExchange:
    """A buy limit of ``qty`` at 5000.0 joined behind ``ahead`` lots (ask 5000.5 x7)."""
    ex = SimulatedExchange(SPEC, ExchangeConfig(**cfg))
    ex.on_book(lvl(BID, PX, ahead, 1))
    ex.on_book(lvl(ASK, 5000.5, 7, 1))
    ex.submit(
        Order(
            order_id="L",
            ts=2,
            symbol=SYM,
            side=OrderSide.BUY,
            qty=qty,
            order_type=OrderType.LIMIT,
            price=PX,
        )
    )
    ex.advance(2)
    return ex


def test_no_fill_until_the_queue_ahead_has_traded() -> None:
    ex = resting(qty=5, ahead=10)
    assert ex.queue_ahead("L") == 10.0
    assert ex.on_trade(sell_print(3, 4)) == []
    assert ex.queue_ahead("L") == 6.0
    assert ex.on_trade(sell_print(4, 6)) == []  # exactly the 10 ahead: still nothing
    assert ex.queue_ahead("L") == 0.0
    [f] = ex.on_trade(sell_print(5, 3))
    assert (f.qty, f.price, f.ts) == (3, PX, 5)  # partial
    [f] = ex.on_trade(sell_print(6, 9))
    assert f.qty == 2  # complete, the rest of the print went to others
    assert ex.position("WDOU25") == 5 and ex.working_orders(SYM) == []
    ups = [u.status for u in ex.drain() if u.order_id == "L"]
    assert ups == [OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]


def test_one_print_larger_than_the_queue_fills_the_excess() -> None:
    ex = resting(qty=5, ahead=10)
    [f] = ex.on_trade(sell_print(3, 12))
    assert f.qty == 2 and ex.queue_ahead("L") == 0.0


def test_prints_at_other_prices_do_not_move_the_queue() -> None:
    ex = resting()
    assert ex.on_trade(sell_print(3, 50, price=5000.5)) == []
    assert ex.queue_ahead("L") == 10.0


def test_cancels_ahead_follow_the_power_model() -> None:
    ex = resting(queue_model="power", queue_power=2.0)
    ex.on_book(lvl(BID, PX, 30, 3))  # 20 join behind us
    assert ex.queue_ahead("L") == 10.0
    ex.on_book(lvl(BID, PX, 24, 4))  # 6 canceled; front 10, back 20
    # p = 10² / (10² + 20²) = 0.2 of the cancel was ahead
    assert ex.queue_ahead("L") == pytest.approx(10 - 0.2 * 6)
    ex.on_trade(sell_print(5, 4))  # front 8.8 -> 4.8
    assert ex.queue_ahead("L") == pytest.approx(4.8)
    ex.on_book(lvl(BID, PX, 18, 6))  # -6: 4 explained by the print, 2 canceled
    back = 24 - 4 - 4.8
    p = 4.8**2 / (4.8**2 + back**2)
    assert ex.queue_ahead("L") == pytest.approx(4.8 - p * 2)
    assert ex.queue_ahead("L") == pytest.approx(4.61864, abs=1e-5)


def test_a_decrease_explained_by_prints_is_not_counted_twice() -> None:
    ex = resting()
    ex.on_trade(sell_print(3, 4))
    ex.on_book(lvl(BID, PX, 6, 4))  # exactly the 4 traded
    assert ex.queue_ahead("L") == 6.0


def test_a_print_is_remembered_until_its_level_changes() -> None:
    ex = resting()
    ex.on_trade(sell_print(3, 4))
    ex.on_book(lvl(ASK, 5001.0, 3, 4))  # another level: the print stays pending
    ex.on_book(lvl(BID, PX, 6, 5))
    assert ex.queue_ahead("L") == 6.0


def test_log_and_risk_averse_models() -> None:
    ex = resting(queue_model="log")
    ex.on_book(lvl(BID, PX, 30, 3))
    ex.on_book(lvl(BID, PX, 24, 4))
    p = math.log(11) / (math.log(11) + math.log(21))
    assert ex.queue_ahead("L") == pytest.approx(10 - 6 * p)
    ex = resting(queue_model="risk_averse")
    ex.on_book(lvl(BID, PX, 30, 3))
    ex.on_book(lvl(BID, PX, 24, 4))
    assert ex.queue_ahead("L") == 10.0
    ex.on_book(lvl(BID, PX, 4, 5))  # the level shrank below our place
    assert ex.queue_ahead("L") == 4.0


def test_queue_after_change_hand_computed() -> None:
    power = PowerProbQueue(2.0)
    assert queue_after_change(power, 10, 30, 24, 0) == pytest.approx(8.8)
    # the back (2) cannot hold its share of an 8-lot cancel: p = 100/104
    p = 100 / 104
    assert queue_after_change(power, 10, 12, 4, 0) == pytest.approx(10 - 8 * p)
    # front 2, back 10, 11 canceled: 0.4231 ahead + 0.5769 the back cannot hold -> 1
    assert queue_after_change(power, 2, 12, 1, 0) == pytest.approx(1.0)
    assert queue_after_change(power, 10, 30, 40, 0) == 10.0  # increase
    assert queue_after_change(power, 10, 30, 5, 0) == 5.0  # never beyond the level
    assert queue_after_change(power, 0.0, 5, 0, 0) == 0.0
    assert PowerProbQueue(1.0).ahead_share(10, 30) == 0.25
    assert LogProbQueue().ahead_share(0, 0) == 0.0
    assert RiskAverseQueue().ahead_share(100, 1) == 0.0
    with pytest.raises(ConfigError, match="unknown queue model"):
        queue_model("fifo")
    with pytest.raises(ConfigError, match="queue power"):
        queue_model("power", 0.0)


def test_snapshot_message_does_not_reset_the_queue() -> None:
    ex = resting()
    ex.on_book(lvl(BID, PX, 0, 3, flags=F_SNAPSHOT, action=BookAction.CLEAR))
    ex.on_book(lvl(BID, 4999.5, 8, 3, flags=F_SNAPSHOT))
    ex.on_book(lvl(BID, PX, 10, 3, flags=F_SNAPSHOT | F_LAST))
    assert ex.queue_ahead("L") == 10.0


def test_book_crossing_the_limit_fills_it_at_its_price() -> None:
    ex = resting(qty=5)
    fills = ex.on_book(lvl(ASK, PX, 3, 3))  # a seller now offers at our bid
    assert [(f.price, f.qty, f.slippage_points) for f in fills] == [(PX, 3, 0.0)]
    assert ex.on_book(lvl(BID, 4999.5, 1, 4)) == []  # the same 3 lots are not sold twice


def test_modify_qty_down_keeps_priority_up_loses_it() -> None:
    ex = resting(qty=5)
    ex.on_book(lvl(BID, PX, 30, 3))  # 20 behind us
    ex.modify("L", 4, qty=3)
    ex.advance(4)
    assert ex.queue_ahead("L") == 10.0
    [w] = ex.working_orders(SYM)
    assert w.qty == 3
    ex.modify("L", 5, qty=4)
    ex.advance(5)
    assert ex.queue_ahead("L") == 30.0  # back of the queue
    ups = [u.status for u in ex.drain() if u.order_id == "L"]
    assert ups.count(OrderStatus.MODIFIED) == 2


def test_modify_price_loses_priority() -> None:
    ex = resting(qty=5)
    ex.on_book(lvl(BID, 4999.5, 12, 3))
    ex.modify("L", 4, price=4999.5)
    ex.advance(4)
    assert ex.queue_ahead("L") == 12.0
    ex.modify("L", 5, price=PX)  # back again: behind the 10 at 5000.0, not in front
    ex.advance(5)
    assert ex.queue_ahead("L") == 10.0
    assert ex.on_trade(sell_print(6, 10)) == []


def test_modify_to_a_marketable_price_takes_liquidity() -> None:
    ex = resting(qty=5)
    ex.modify("L", 3, price=5000.5)
    fills = ex.advance(3)
    assert [(f.price, f.qty) for f in fills] == [(5000.5, 5)]


def test_modify_after_fill_is_rejected_at_the_exchange() -> None:
    ex = resting(qty=5)
    ex.on_trade(sell_print(3, 13))  # 3 filled
    ex.modify("L", 4, qty=2)
    ex.advance(4)
    [u] = [u for u in ex.drain() if u.status is OrderStatus.REJECTED]
    assert "qty 2 <= filled" in u.reason
    ex.on_trade(sell_print(5, 1, price=4999.0))  # through: the rest fills
    assert ex.position(SYM) == 5


def test_fast_mode_has_no_queue() -> None:
    ex = resting(qty=5, mode="fast")
    [f] = ex.on_trade(sell_print(3, 1))  # a print at the price is enough
    assert f.qty == 5


# -- real data: LOBSTER GOOG 2012-06-21, 10 levels ---------------------------------------------
def _lobster_stream(lobster_dir: Path, start: int, stop: int) -> list[Any]:
    """Trades and the exact top-10 book of message rows ``[start, stop)``.

    The book comes from LOBSTER's own orderbook file (row ``r`` is the book after
    message ``r``) as ``SET`` deltas of the levels that changed, so it is never crossed;
    a row's trade (type 4/5) comes before the book change it causes.
    """
    from quantumtrader.data.lobster import DUMMY_PRICE, LOBSTER_PRICE_SCALE, read_lobster
    from quantumtrader.model import table_to_trades

    data = read_lobster(lobster_dir / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip")
    market = data.market
    trades = {t.seq // 3: t for t in table_to_trades(market.trades)}
    seqs = market.book.column("seq").to_numpy()
    stamps = market.book.column("ts_event").cast(pa.int64()).to_numpy()
    ts_of = dict(zip((seqs // 3).tolist(), stamps.tolist(), strict=True))
    ts_of.update({r: t.ts_event for r, t in trades.items()})
    ref = data.reference
    levels = {BID: dict[int, int](), ASK: dict[int, int]()}
    out: list[Any] = []
    for r in range(start - 1, stop):
        row = ref[r].tolist()
        cur = {
            ASK: {row[4 * i]: row[4 * i + 1] for i in range(10) if row[4 * i + 1] > 0},
            BID: {row[4 * i + 2]: row[4 * i + 3] for i in range(10) if row[4 * i + 3] > 0},
        }
        if r >= start and r in trades:
            out.append(trades[r])
        changes = []
        for side in (BID, ASK):
            old = levels[side]
            changes += [(side, p, 0) for p in old if p not in cur[side]]
            changes += [(side, p, q) for p, q in cur[side].items() if old.get(p) != q]
            levels[side] = cur[side]
        for k, (side, p, q) in enumerate(changes):
            assert abs(p) != DUMMY_PRICE
            out.append(
                BookDelta(
                    ts_event=ts_of[r],
                    ts_init=ts_of[r],
                    symbol="GOOG",
                    side=side,
                    action=BookAction.SET,
                    price=p / LOBSTER_PRICE_SCALE,
                    size=float(q),
                    flags=F_LAST if k == len(changes) - 1 else 0,
                )
            )
    return out


def test_queue_models_on_real_lobster_data(lobster_dir: Path) -> None:
    """A bid joined at the touch of GOOG: the power model is never behind the risk-averse one.

    Cancellations can only advance an order, so for the same events the power model's
    queue ahead is at most the risk-averse model's and it has filled at least as much;
    fast mode (no queue) fills at least as much as both. Every estimate stays within
    ``[0, displayed size]`` and never grows.
    """
    events = _lobster_stream(lobster_dir, 2_000, 40_000)
    cfgs = [
        ExchangeConfig(queue_model="risk_averse"),
        ExchangeConfig(queue_model="power", queue_power=2.0),
        ExchangeConfig(mode="fast"),
    ]
    exes = [SimulatedExchange(spec_for("GOOG"), c) for c in cfgs]
    joined = math.nan
    last = [math.inf, math.inf]
    for i, ev in enumerate(events):
        for ex in exes:
            if isinstance(ev, Trade):
                ex.on_trade(ev)
            else:
                ex.on_book(ev)
        if i == 15_000:  # join the bid queue (130 shares ahead)
            joined = exes[0].book("GOOG").best_bid()
            for ex in exes:
                ex.submit(
                    Order(
                        order_id="L",
                        ts=ev.ts_event,
                        symbol="GOOG",
                        side=OrderSide.BUY,
                        qty=200,
                        order_type=OrderType.LIMIT,
                        price=joined,
                    )
                )
                ex.advance(ev.ts_event)
            assert exes[0].queue_ahead("L") == exes[0].book("GOOG").best_bid_size() == 130.0
        if math.isnan(joined):
            continue
        filled = [sum(f.qty for f in ex.fills()) for ex in exes]
        assert filled[0] <= filled[1] <= filled[2], (i, filled)
        ahead = [exes[0].queue_ahead("L"), exes[1].queue_ahead("L")]
        for k in (0, 1):
            a = ahead[k]
            if a is not None:
                assert 0.0 <= a <= last[k] + 1e-9
                last[k] = a
                if not isinstance(ev, Trade) and ev.flags & F_LAST:
                    assert a <= exes[k].book("GOOG").size_at(BID, joined)
        if ahead[0] is not None and ahead[1] is not None:
            assert ahead[1] <= ahead[0] + 1e-9, (i, ahead)
    assert joined == 576.0
    fills = [[f.qty for f in ex.fills()] for ex in exes]
    assert fills == [[63, 1, 136], [14, 63, 1, 122], [200]]
    assert all(f.price == joined for ex in exes for f in ex.fills())
