"""Matching rules of the simulated exchange (book mode and the trades fallback).

Book mode (a delta of the symbol was seen), prices in ticks of the exchange's own book:

* MARKET: walks the opposite side best level first, one fill per level, at the
  levels' prices; what the displayed depth cannot fill is canceled. Slippage is
  measured from the displayed touch.
* LIMIT: the marketable part takes liquidity like a market order up to the limit;
  the rest rests. Accurate mode tracks its queue position
  (:mod:`quantumtrader.execution.queue`): a trade at the price first consumes the
  quantity ahead and fills the order with what is left of it (rounded down to whole
  units); a trade strictly through the price, or the opposite best reaching the
  price after a book message, fills it at its own price (maker). Fast mode has no
  queue: a trade at or through the price fills the whole remainder.
* STOP / STOP_LIMIT: trigger when a trade prints at or through the trigger, or when
  the side we would hit reaches it (best bid ≤ trigger for a sell stop, best ask ≥
  trigger for a buy stop) — also on arrival. A triggered STOP walks the book (its
  slippage is measured from the trigger); when a trade triggered it, no leg fills at a
  better price than that trade (the feed's book can lag the tape: Binance prints trades
  through levels the next depth message has not removed yet). A triggered STOP_LIMIT
  becomes a LIMIT.
* Our executions do not change the replayed book. Liquidity they consume is
  remembered per level (``taken``) until the feed shows the level at or below that
  size, so two orders never take the same displayed quantity.

Trades fallback (no book data yet): the foundation broker's rules — MARKET fills on the
next trade at its price ± ``slippage_ticks``, a STOP on a trade at or through it (same
slippage), a LIMIT at its price on a trade through it (``limit_fill="touch"``: at it).
"""

from __future__ import annotations

import math

from quantumtrader.execution._lifecycle import ExchangeCore
from quantumtrader.execution._state import LiveOrder, SymbolState, opposite
from quantumtrader.execution.brackets import trigger_price
from quantumtrader.execution.queue import queue_after_change
from quantumtrader.model.book import F_LAST, BookAction, BookDelta
from quantumtrader.model.events import Trade
from quantumtrader.model.orders import OrderSide, OrderStatus, OrderType

__all__ = ["Matcher"]

_LIMIT = OrderType.LIMIT
_STOP = OrderType.STOP


class Matcher(ExchangeCore):
    """Order placement and matching against the book or the tape."""

    # -- taking liquidity ----------------------------------------------------------------
    def _take(
        self, st: SymbolState, buy: bool, qty: int, limit_tick: int | None
    ) -> list[tuple[float, int]]:
        """Displayed liquidity an order of ``qty`` takes, ``[(price, qty)]`` best first."""
        side = opposite(buy)
        s = int(side)
        taken = st.taken
        extra = sum(v for k, v in taken.items() if k[0] == s) if taken else 0.0
        book = st.book
        legs: list[tuple[float, int]] = []
        need = qty
        for price, _ in book.walk(side, qty + extra):
            tick = book.to_tick(price)
            if limit_tick is not None and (tick > limit_tick if buy else tick < limit_tick):
                break
            key = (s, tick)
            used = taken.get(key, 0.0)
            avail = int(book.size_at_tick(side, tick) - used + 1e-6)
            if avail <= 0:
                continue
            n = min(avail, need)
            taken[key] = used + n
            legs.append((price, n))
            need -= n
            if need == 0:
                break
        return legs

    def _touch(self, st: SymbolState, buy: bool) -> float:
        return st.book.best_ask() if buy else st.book.best_bid()

    # -- placement -----------------------------------------------------------------------
    def _market(
        self,
        st: SymbolState,
        w: LiveOrder,
        ts: int,
        ref: float | None = None,
        worst_of: float | None = None,
    ) -> None:
        """Execute a market order against the book now; cancel what it cannot fill.

        ``worst_of``: no leg fills at a better price than this (a triggering trade).
        """
        touch = self._touch(st, w.buy)
        legs = self._take(st, w.buy, w.leaves, None)
        if worst_of is not None:
            legs = [(max(p, worst_of) if w.buy else min(p, worst_of), n) for p, n in legs]
        if legs:
            self._execute(st, w, legs, ts, touch if ref is None else ref)
        if not w.done:
            self._cancel(st, w, ts, f"no displayed liquidity for {w.leaves}")

    def _place_limit(self, st: SymbolState, w: LiveOrder, ts: int) -> None:
        """Take the marketable part of a limit order, rest the rest at the back of the queue."""
        if st.has_book:
            touch = self._touch(st, w.buy)
            legs = self._take(st, w.buy, w.leaves, w.tick)
            if legs:
                self._execute(st, w, legs, ts, touch)
        if w.done:
            return
        w.front = self._queue_at_entry(st, w)
        w.traded = 0.0
        st.live.append(w)

    def _place_stop(self, st: SymbolState, w: LiveOrder, ts: int) -> None:
        st.live.append(w)
        if st.has_book and st.stop_triggered(w):
            self._trigger(st, w, ts, None)

    def _trigger(self, st: SymbolState, w: LiveOrder, ts: int, trade_price: float | None) -> None:
        """Turn a stop into a market (STOP) or limit (STOP_LIMIT) order at ``ts``."""
        order = w.order
        self._update(ts, order.order_id, OrderStatus.TRIGGERED)
        st.live.remove(w)
        if w.kind is _STOP:
            level = _level(order.price)
            if st.has_book:
                self._market(st, w, ts, ref=level, worst_of=trade_price)
            else:  # the fallback fills stops in _trade_fallback; kept for completeness
                ref = level if trade_price is None else trade_price
                slip = self.config.slippage_ticks * st.tick_size * int(order.side)
                self._execute(st, w, [(ref + slip, w.leaves)], ts, ref)
            return
        w.replace(order_type=_LIMIT)
        w.tick = st.book.to_tick(_level(order.price))
        self._place_limit(st, w, ts)

    # -- trades ------------------------------------------------------------------------
    def _trade_book(self, st: SymbolState, trade: Trade) -> None:
        t = st.book.to_tick(trade.price)
        qty = trade.qty
        ts = trade.ts_event
        accurate = self._accurate
        for w in list(st.live):
            if w.done:
                continue
            if w.kind is not _LIMIT:
                if (t >= w.tick) if w.buy else (t <= w.tick):
                    self._trigger(st, w, ts, trade.price)
                continue
            price = _level(w.order.price)
            if (t < w.tick) if w.buy else (t > w.tick):
                self._execute(st, w, [(price, w.leaves)], ts, price)
            elif t == w.tick:
                if not accurate:
                    self._execute(st, w, [(price, w.leaves)], ts, price)
                    continue
                w.traded += qty
                front = w.front if not math.isnan(w.front) else self._queue_at_entry(st, w)
                excess = qty - front
                if excess <= 0:
                    w.front = front - qty
                    continue
                w.front = 0.0
                n = min(w.leaves, int(excess + 1e-9))
                if n > 0:
                    self._execute(st, w, [(price, n)], ts, price)

    def _trade_fallback(self, st: SymbolState, trade: Trade) -> None:
        cfg = self.config
        tick = st.tick_size
        ts = trade.ts_event
        for w in list(st.live):
            if w.done:
                continue
            if w.kind is OrderType.STOP_LIMIT:
                if not _hit(w.order.side, trade.price, _level(w.order.trigger_price), tick):
                    continue
                self._trigger(st, w, ts, trade.price)
                if w.done:
                    continue
            price = trigger_price(w.order, trade.price, tick, cfg.slippage_ticks, cfg.limit_fill)
            if price is None:
                continue
            if w.kind is _STOP:
                self._update(ts, w.order.order_id, OrderStatus.TRIGGERED)
                self._execute(st, w, [(price, w.leaves)], ts, trade.price)
            else:
                self._execute(st, w, [(price, w.leaves)], ts, price)

    def _trade_markets(self, st: SymbolState, trade: Trade) -> None:
        """Fill the trades-fallback market orders at ``trade`` ± slippage."""
        ts = trade.ts_event
        for w in list(st.markets):
            if w.done:
                continue
            if w.order.tag == "flatten" and not self._size_flatten(st, w, ts):
                continue
            slip = self.config.slippage_ticks * st.tick_size * int(w.order.side)
            self._execute(st, w, [(trade.price + slip, w.leaves)], ts, trade.price)

    def _size_flatten(self, st: SymbolState, w: LiveOrder, ts: int) -> bool:
        """Make a flatten order close the actual position; cancel it when flat."""
        pos = st.ledger.position
        if pos == 0:
            self._cancel(st, w, ts, "nothing to flatten")
            return False
        w.replace(side=OrderSide.SELL if pos > 0 else OrderSide.BUY, qty=abs(pos))
        w.leaves = abs(pos)
        return True

    # -- book --------------------------------------------------------------------------
    def _book_busy(self, st: SymbolState, delta: BookDelta) -> None:
        """Apply ``delta`` for a symbol with working orders or consumed liquidity.

        Accurate mode remembers the size, before the current book message, of every
        level of a resting limit the message touches (queue updates at its end).
        """
        book = st.book
        live = st.live
        if self._accurate and live:
            s = int(delta.side)
            clear = delta.action == BookAction.CLEAR
            tick = 0 if clear else book.to_tick(delta.price)
            for w in live:
                if w.kind is not _LIMIT:
                    continue
                if (clear and s in (0, w.side)) or (w.side == s and w.tick == tick):
                    prev = st.prev
                    if prev is None:
                        prev = st.prev = {}
                    key = (w.side, w.tick)
                    if key not in prev:
                        prev[key] = book.size_at_tick(w.side, w.tick)
        book.apply(delta)
        st.has_book = True
        if st.taken:
            _refresh_taken(st, delta)
        if delta.flags & F_LAST:  # the book is consistent
            self._message_end(st, delta.ts_event)

    def _message_end(self, st: SymbolState, ts: int) -> None:
        book = st.book
        prev, st.prev = st.prev, None
        live = st.live
        if self._accurate:
            for w in live:
                if w.kind is not _LIMIT:
                    continue
                if math.isnan(w.front):
                    w.front = self._queue_at_entry(st, w)
                    w.traded = 0.0
                elif prev is not None:
                    old = prev.get((w.side, w.tick))
                    if old is not None:
                        new = book.size_at_tick(w.side, w.tick)
                        if new != old:
                            w.front = queue_after_change(self._queue, w.front, old, new, w.traded)
                            w.traded = 0.0
        if not live:
            return
        bid = book.best_bid_tick()  # NO_BID (min int) when empty: never >= a tick
        ask = book.best_ask_tick()  # NO_ASK (max int) when empty: never <= a tick
        for w in list(live):
            if w.done:
                continue
            if w.kind is not _LIMIT:
                if st.stop_triggered(w):
                    self._trigger(st, w, ts, None)
            elif ask <= w.tick if w.buy else bid >= w.tick:
                n = sum(q for _, q in self._take(st, w.buy, w.leaves, w.tick))
                if n:
                    price = _level(w.order.price)
                    self._execute(st, w, [(price, n)], ts, price)


def _refresh_taken(st: SymbolState, delta: BookDelta) -> None:
    taken = st.taken
    if delta.action == BookAction.CLEAR:
        s = int(delta.side)
        for key in [k for k in taken if s == 0 or k[0] == s]:
            del taken[key]
        return
    key = (int(delta.side), st.book.to_tick(delta.price))
    used = taken.get(key)
    if used is None:
        return
    size = st.book.size_at_tick(key[0], key[1])
    if size <= 0:
        del taken[key]
    elif size < used:
        taken[key] = size


def _level(price: float | None) -> float:
    return math.nan if price is None else price


def _hit(side: OrderSide, trade_price: float, level: float, tick: float) -> bool:
    """A trade at or through a stop trigger (≥ for a buy stop, ≤ for a sell stop)."""
    eps = tick * 1e-6
    if side is OrderSide.BUY:
        return trade_price >= level - eps
    return trade_price <= level + eps
