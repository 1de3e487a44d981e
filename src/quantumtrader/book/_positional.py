"""Shared machinery of the ProfitDLL book rebuilders: position-addressed side lists.

Both the offer book (one list entry per resting order) and the legacy price book (one
entry per price level) keep, per side, a list the DLL addresses by ``nPosition`` counted
from the end (list index ``= size - 1 - position``), and both are aggregated here into
price levels keyed by int ticks. :class:`PositionalBook` owns the lists, the levels, the
guards, the error counters and the delta emission; subclasses parse ADD and EDIT.

Source: ``../shared/reference/profitdll.md`` sections 5.6-5.7.
"""

from __future__ import annotations

import abc
import logging
import math
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import msgspec

from quantumtrader.core.errors import ConfigError, DataError
from quantumtrader.model.book import (
    F_LAST,
    BookAction,
    BookDelta,
    BookSide,
    OfferAction,
    OfferBookEvent,
    PriceBookEvent,
    PriceLevel,
)
from quantumtrader.model.instruments import spec_for

__all__ = ["FullBookOrder", "PositionalBook", "RebuildIssue"]

logger = logging.getLogger(__name__)

FullBookOrder = Literal["list", "position"]
"""``"list"``: a full-book array is the side list as-is (last element = position 0);
``"position"``: array element ``i`` is position ``i``. Which one the DLL uses is unverified."""

_Problem = tuple[str, str] | None  # (field, reason) of a rejected event, or None


class RebuildIssue(msgspec.Struct, frozen=True, kw_only=True):
    """One event a book rebuilder could not apply (the book was left unchanged).

    Attributes
    ----------
    seq, ts_event
        Of the event.
    action, side, position
        The event's raw ``action``, ``side`` and ``position``.
    field
        What was wrong: ``position``, ``price``, ``qty``, ``count``, ``side``,
        ``action``, ``symbol``, ``bids`` or ``asks``.
    reason
        Human-readable detail quoting the offending value.
    """

    seq: int
    ts_event: int
    action: int
    side: int
    position: int
    field: str
    reason: str


class _Entry:
    """One mutable list entry: an offer (count 1) or a price level (count = orders)."""

    __slots__ = ("agent", "count", "date", "offer_id", "price", "qty", "tick")

    def __init__(
        self,
        tick: int,
        price: float,
        qty: int,
        count: int,
        *,
        agent: int = 0,
        offer_id: int = 0,
        date: str = "",
    ) -> None:
        self.tick = tick
        self.price = price
        self.qty = qty
        self.count = count
        self.agent = agent
        self.offer_id = offer_id
        self.date = date


class PositionalBook(abc.ABC):
    """Base of :class:`~quantumtrader.book.offers.OfferBook` and
    :class:`~quantumtrader.book.pricebook.PriceBook` (parameters documented there).

    Attributes
    ----------
    error_counts : dict of str to int
        Rejected events per offending field.
    issues : list of RebuildIssue
        The first ``max_issues`` rejected events.
    order_violations : int
        Neighbouring list entries found out of the worst → best price order (bids
        ascending, asks descending towards position 0) when an event touched them.
    events_applied : int
        Events given to :meth:`apply`, rejected ones included.
    last_seq, last_ts_event, last_ts_init : int
        Of the last event given.
    """

    _kind: ClassVar[str] = "book"
    _strict_order: ClassVar[bool] = False  # equal neighbouring prices are violations

    def __init__(
        self,
        symbol: str,
        tick_size: float | None = None,
        *,
        strict: bool = False,
        full_book_order: FullBookOrder = "list",
        max_issues: int = 1000,
    ) -> None:
        ts = spec_for(symbol).tick_size if tick_size is None else float(tick_size)
        if not (math.isfinite(ts) and ts > 0):
            raise ConfigError(f"tick_size must be a positive number, got {tick_size!r}")
        if full_book_order not in ("list", "position"):
            raise ConfigError(f"full_book_order must be 'list' or 'position': {full_book_order!r}")
        self.symbol = symbol
        self.tick_size = ts
        self.strict = strict
        self.full_book_order: FullBookOrder = full_book_order
        self.max_issues = max_issues
        self._entries: dict[BookSide, list[_Entry]] = {BookSide.BID: [], BookSide.ASK: []}
        # tick -> [total qty, total order count, number of list entries]
        self._levels: dict[BookSide, dict[int, list[int]]] = {BookSide.BID: {}, BookSide.ASK: {}}
        self._touched: dict[tuple[BookSide, int], int] = {}
        self._order_id = 0
        self.error_counts: dict[str, int] = {}
        self.issues: list[RebuildIssue] = []
        self.order_violations = 0
        self.events_applied = 0
        self.last_seq = 0
        self.last_ts_event = 0
        self.last_ts_init = 0

    # -- queries -------------------------------------------------------------------------

    @property
    def n_errors(self) -> int:
        """Total number of rejected events."""
        return sum(self.error_counts.values())

    def depth(self, side: BookSide) -> int:
        """Number of entries in the DLL list of ``side``."""
        return len(self._entries[self._side_key(side)])

    def levels(self, side: BookSide) -> list[PriceLevel]:
        """Aggregated levels of ``side``, best first (bids descending, asks ascending).

        Returns
        -------
        list of PriceLevel
            ``price`` in points, ``qty`` the level total, ``count`` the orders there.
            Levels with at least one list entry are listed, even at total 0.
        """
        key = self._side_key(side)
        levels = self._levels[key]
        ticks = sorted(levels, reverse=key is BookSide.BID)
        return [
            PriceLevel(price=self._price(t), qty=levels[t][0], count=levels[t][1]) for t in ticks
        ]

    def best(self, side: BookSide) -> PriceLevel | None:
        """Best level of ``side`` (``None`` when the side is empty)."""
        levels = self._levels[self._side_key(side)]
        if not levels:
            return None
        t = max(levels) if side == BookSide.BID else min(levels)
        return PriceLevel(price=self._price(t), qty=levels[t][0], count=levels[t][1])

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _side_key(side: BookSide | int) -> BookSide:
        if side == BookSide.BID:
            return BookSide.BID
        if side == BookSide.ASK:
            return BookSide.ASK
        raise ValueError(f"side must be BID or ASK, got {side!r}")

    def _tick(self, price: float | None) -> int | None:
        if price is None or not math.isfinite(price):
            return None
        x = price / self.tick_size
        t = round(x)
        if abs(x - t) > 1e-6:
            return None
        return int(t)

    def _price(self, tick: int) -> float:
        return round(tick * self.tick_size, 10)

    def _error(self, reason: str, field: str) -> DataError:
        return DataError(f"{self._kind} {self.symbol}: {reason}", field=field)

    # -- mutation primitives (each records the touched levels' old totals) ---------------

    def _level_add(self, side: BookSide, tick: int, dqty: int, dcount: int, dn: int) -> None:
        levels = self._levels[side]
        lv = levels.get(tick)
        key = (side, tick)
        if key not in self._touched:
            self._touched[key] = lv[0] if lv is not None else 0
        if lv is None:
            lv = levels[tick] = [0, 0, 0]
        lv[0] += dqty
        lv[1] += dcount
        lv[2] += dn
        if lv[2] <= 0:
            del levels[tick]

    def _insert(self, side: BookSide, idx: int, e: _Entry) -> None:
        self._entries[side].insert(idx, e)
        self._level_add(side, e.tick, e.qty, e.count, 1)
        self._check_order(side, idx - 1, idx + 1)

    def _remove(self, side: BookSide, start: int, stop: int) -> None:
        entries = self._entries[side]
        for e in entries[start:stop]:
            self._level_add(side, e.tick, -e.qty, -e.count, -1)
        del entries[start:stop]
        self._check_order(side, start - 1, start)

    def _modify(
        self, side: BookSide, idx: int, tick: int, price: float, *, qty: int, count: int
    ) -> None:
        e = self._entries[side][idx]
        if tick != e.tick:
            self._level_add(side, e.tick, -e.qty, -e.count, -1)
            self._level_add(side, tick, qty, count, 1)
        elif qty != e.qty or count != e.count:
            self._level_add(side, tick, qty - e.qty, count - e.count, 0)
        moved = tick != e.tick
        e.tick, e.price, e.qty, e.count = tick, price, qty, count
        if moved:
            self._check_order(side, idx - 1, idx + 1)

    def _replace_side(self, side: BookSide, new: list[_Entry]) -> None:
        for e in self._entries[side]:
            self._level_add(side, e.tick, -e.qty, -e.count, -1)
        for e in new:
            self._level_add(side, e.tick, e.qty, e.count, 1)
        self._entries[side] = new
        self._check_order(side, 0, len(new) - 1)

    def _check_order(self, side: BookSide, lo: int, hi: int) -> None:
        """Count out-of-order neighbour pairs ``(i, i + 1)`` for ``lo <= i < hi``."""
        entries = self._entries[side]
        lo = max(lo, 0)
        hi = min(hi, len(entries) - 1)
        bid = side is BookSide.BID
        for i in range(lo, hi):
            a, b = entries[i].tick, entries[i + 1].tick  # b is nearer position 0
            worse_first = a < b if bid else a > b
            if not (worse_first or (a == b and not self._strict_order)):
                if self.order_violations == 0:
                    logger.warning(
                        "%s %s: %s list not worst->best at index %d (%d, %d); position 0 may "
                        "not be the top of book",
                        self._kind,
                        self.symbol,
                        side.name,
                        i,
                        a,
                        b,
                    )
                self.order_violations += 1

    # -- event application ---------------------------------------------------------------

    @abc.abstractmethod
    def _on_add(self, ev: Any, side: BookSide) -> _Problem:
        """Apply one action of the subclass's event type (see the subclass)."""

    @abc.abstractmethod
    def _on_edit(self, ev: Any, side: BookSide) -> _Problem:
        """Apply one action of the subclass's event type (see the subclass)."""

    @abc.abstractmethod
    def _full_book_entries(self, items: Sequence[Any]) -> list[_Entry] | None:
        """Apply one action of the subclass's event type (see the subclass)."""

    def _on_delete(self, ev: Any, side: BookSide) -> _Problem:
        entries = self._entries[side]
        n = len(entries)
        if not 0 <= ev.position < n:
            return "position", f"position {ev.position} outside [0, {n - 1}] for DELETE"
        idx = n - 1 - ev.position
        self._order_id = entries[idx].offer_id
        self._remove(side, idx, idx + 1)
        return None

    def _on_delete_from(self, ev: Any, side: BookSide) -> _Problem:
        n = len(self._entries[side])
        if not 0 <= ev.position < n:
            return "position", f"position {ev.position} outside [0, {n - 1}] for DELETE_FROM"
        self._remove(side, n - 1 - ev.position, n)
        return None

    def _on_full_book(self, ev: Any) -> _Problem:
        new: dict[BookSide, list[_Entry]] = {}
        for side, name, items in ((BookSide.BID, "bids", ev.bids), (BookSide.ASK, "asks", ev.asks)):
            entries = self._full_book_entries(items)
            if entries is None:
                return name, f"full-book {name} hold an off-grid price or a negative quantity"
            if self.full_book_order == "position":
                entries.reverse()
            new[side] = entries
        for side, entries in new.items():
            self._replace_side(side, entries)
        return None

    def _apply(self, ev: OfferBookEvent | PriceBookEvent) -> list[BookDelta]:
        self.events_applied += 1
        self.last_seq = ev.seq
        self.last_ts_event = ev.ts_event
        self.last_ts_init = ev.ts_init
        self._touched.clear()
        self._order_id = 0
        problem: _Problem
        if ev.symbol != self.symbol:
            problem = "symbol", f"symbol {ev.symbol!r} is not {self.symbol!r}"
        elif ev.action not in _ACTION_VALUES:
            problem = "action", f"unknown action {ev.action!r}"
        elif ev.action == OfferAction.FULL_BOOK:
            problem = self._on_full_book(ev)
        elif ev.side not in (BookSide.BID, BookSide.ASK):
            problem = "side", f"side {ev.side!r} is not BID or ASK"
        else:
            side = self._side_key(ev.side)
            if ev.action == OfferAction.ADD:
                problem = self._on_add(ev, side)
            elif ev.action == OfferAction.EDIT:
                problem = self._on_edit(ev, side)
            elif ev.action == OfferAction.DELETE:
                problem = self._on_delete(ev, side)
            else:
                problem = self._on_delete_from(ev, side)
        if problem is not None:
            self._reject(ev, *problem)
            return []
        return self._emit(ev)

    def _reject(self, ev: OfferBookEvent | PriceBookEvent, field: str, reason: str) -> None:
        if self._touched:  # handlers validate before mutating; this would be a bug
            raise RuntimeError(f"{self._kind}: rejected event already changed the book")
        first = field not in self.error_counts
        self.error_counts[field] = self.error_counts.get(field, 0) + 1
        if len(self.issues) < self.max_issues:
            self.issues.append(
                RebuildIssue(
                    seq=ev.seq,
                    ts_event=ev.ts_event,
                    action=int(ev.action),
                    side=int(ev.side),
                    position=ev.position,
                    field=field,
                    reason=reason,
                )
            )
        if self.strict:
            raise self._error(f"event seq {ev.seq}: {reason}", field)
        if first:
            logger.warning(
                "%s %s: skipped event seq %d: %s", self._kind, self.symbol, ev.seq, reason
            )

    def _emit(self, ev: OfferBookEvent | PriceBookEvent) -> list[BookDelta]:
        changed: list[tuple[int, int, BookSide, int]] = []
        for (side, tick), old in self._touched.items():
            lv = self._levels[side].get(tick)
            new = lv[0] if lv is not None else 0
            if new != old:
                bid = side is BookSide.BID
                changed.append((0 if bid else 1, -tick if bid else tick, side, new))
        changed.sort()
        out: list[BookDelta] = []
        last = len(changed) - 1
        for i, (_, key, side, new) in enumerate(changed):
            tick = -key if side is BookSide.BID else key
            out.append(
                BookDelta(
                    ts_event=ev.ts_event,
                    ts_init=ev.ts_init,
                    symbol=self.symbol,
                    side=side,
                    action=BookAction.SET,
                    price=self._price(tick),
                    size=float(new),
                    order_id=self._order_id,
                    seq=ev.seq,
                    flags=F_LAST if i == last else 0,
                )
            )
        self._touched.clear()
        return out


_ACTION_VALUES = frozenset(int(a) for a in OfferAction)
