"""Rebuild the ProfitDLL market-by-order book (offer book) into aggregated price levels.

The DLL keeps, per side, one list of resting offers and addresses it by ``nPosition``
counted from the **end** of the list: list index ``= size - 1 - position``
(``../shared/reference/profitdll.md`` section 5.6). :class:`OfferBook` mirrors that list
exactly as the vendor examples do and aggregates it into price levels (int ticks):

========== ===============================================================================
action     effect on the side list (``n`` = its size before the event)
========== ===============================================================================
ADD        insert the offer at index ``n - position`` (``0 <= position <= n``)
EDIT       at index ``n - 1 - position``: quantity ``+= qty`` (a **delta**), agent,
           offer id and price overwritten when present (``0 <= position < n``)
DELETE     remove index ``n - 1 - position``
DELETE_FROM truncate to ``n - 1 - position`` elements (removes positions ``0..position``)
FULL_BOOK  replace both sides with the event's ``bids``/``asks`` arrays
========== ===============================================================================

Assumptions that are **unverified** against a live feed (the reference says so):

* position 0 is the top of book, so the list runs worst → best: bids ascending, asks
  descending in price. The book counts pairs of neighbours that break this order
  (:attr:`OfferBook.order_violations`) instead of trusting it.
* within one price, the offer nearer position 0 is ahead in the queue (used by
  :meth:`OfferBook.queue_ahead`).
* the full-book arrays are the side list as-is (array index ``i`` = list index ``i``), the
  way the official examples copy them: ``full_book_order="list"``. The alternative
  ``"position"`` reads array index ``i`` as position ``i`` (best first).

Every event yields :class:`~quantumtrader.model.book.BookDelta` ``SET`` rows for exactly
the levels whose total changed (size 0 when a level empties), the last flagged
:data:`~quantumtrader.model.book.F_LAST`. An event that cannot be applied (position out of
range, missing or invalid field, wrong side or symbol) leaves the book untouched, is
counted in :attr:`OfferBook.error_counts` and recorded as a :class:`RebuildIssue`; in
strict mode it raises :class:`~quantumtrader.core.errors.DataError` instead.

References
----------
Nelogica, *ProfitDLL manual* 4.0.0.31, ``TOfferBookCallbackV2``; the official Delphi and
C++ example clients (book maintenance), as restated in ``profitdll.md`` sections 5.6 and 8.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from quantumtrader.book._positional import (
    FullBookOrder,
    PositionalBook,
    RebuildIssue,
    _Entry,
    _Problem,
)
from quantumtrader.core.errors import ConfigError
from quantumtrader.model.book import (
    BookDelta,
    BookSide,
    Offer,
    OfferBookEvent,
)

__all__ = [
    "FullBookOrder",
    "OfferBook",
    "OfferBookSnapshot",
    "RebuildIssue",
    "SnapshotPolicy",
    "rebuild",
]

logger = logging.getLogger(__name__)


class OfferBookSnapshot(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The full offer book at one instant, enough to resume a replay mid-day.

    Attributes
    ----------
    symbol
        Instrument.
    ts_event, ts_init
        ns UTC of the last event applied before the snapshot (0 if none).
    seq
        ``seq`` of that event.
    events_applied
        How many events the book had been given (applied or rejected); a replay resumes
        with the event at this index of the same stream.
    bids, asks
        Offers per side in the DLL's list order (index ``i`` has position ``n - 1 - i``).
    """

    symbol: str
    ts_event: int
    ts_init: int
    seq: int
    events_applied: int
    bids: tuple[Offer, ...]
    asks: tuple[Offer, ...]


class SnapshotPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """When :func:`rebuild` takes a snapshot: after every ``every_events`` events, or once
    ``every_ns`` of event time passed since the previous snapshot (or the first event).

    ``None`` disables a criterion; both ``None`` means no snapshots.

    Raises
    ------
    ConfigError
        If a given criterion is not a positive integer.
    """

    every_events: int | None = None
    every_ns: int | None = None

    def __post_init__(self) -> None:
        for name in ("every_events", "every_ns"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"SnapshotPolicy.{name} must be > 0, got {value}")


class OfferBook(PositionalBook):
    """Market-by-order book of one symbol rebuilt from ProfitDLL offer-book events.

    Parameters
    ----------
    symbol
        Instrument; events of another symbol are rejected.
    tick_size
        Price increment, points; defaults to ``spec_for(symbol).tick_size``.
    strict
        Raise :class:`~quantumtrader.core.errors.DataError` on an event that cannot be
        applied instead of counting and skipping it.
    full_book_order
        How to read the full-book arrays: ``"list"`` (default, array = side list as-is,
        last element = position 0) or ``"position"`` (element ``i`` = position ``i``).
        Unverified; see the module docstring.
    max_issues
        How many :class:`RebuildIssue` records to keep (counters are never capped).

    Raises
    ------
    ConfigError
        If ``tick_size`` is not positive or ``full_book_order`` is unknown.

    Examples
    --------
    >>> from quantumtrader.model.book import BookSide, OfferAction, OfferBookEvent
    >>> book = OfferBook("WDOFUT", tick_size=0.5)
    >>> ev = OfferBookEvent(ts_event=1, ts_init=1, symbol="WDOFUT", action=OfferAction.ADD,
    ...                     side=BookSide.BID, position=0, qty=5, agent=3, offer_id=7,
    ...                     price=5000.0)
    >>> [(d.price, d.size) for d in book.apply(ev)]
    [(5000.0, 5.0)]
    """

    _kind = "offer book"

    def offers(self, side: BookSide) -> list[Offer]:
        """Offers of ``side`` in the DLL's list order (index ``i`` has position ``n-1-i``)."""
        return [_to_offer(e) for e in self._entries[self._side_key(side)]]

    def offer_at(self, side: BookSide, position: int) -> Offer | None:
        """The offer at DLL ``position`` of ``side``, or ``None`` when out of range."""
        entries = self._entries[self._side_key(side)]
        if not 0 <= position < len(entries):
            return None
        return _to_offer(entries[len(entries) - 1 - position])

    def queue_ahead(self, side: BookSide, offer_id: int) -> int | None:
        """Quantity resting ahead of offer ``offer_id`` at its own price.

        Offers of the same price nearer position 0 (later in the list) are ahead
        (unverified assumption, module docstring). This is the building block of a
        queue-position model.

        Returns
        -------
        int or None
            Contracts ahead, or ``None`` if no offer of ``side`` has that id.
        """
        entries = self._entries[self._side_key(side)]
        for i in range(len(entries) - 1, -1, -1):
            e = entries[i]
            if e.offer_id == offer_id:
                return sum(o.qty for o in entries[i + 1 :] if o.tick == e.tick)
        return None

    def top_agents(self, side: BookSide, n: int = 5) -> list[tuple[int, int]]:
        """The ``n`` agents (broker ids) with the most displayed quantity on ``side``.

        Returns
        -------
        list of (agent, qty)
            Largest quantity first, ties by ascending agent id.
        """
        totals: dict[int, int] = {}
        for e in self._entries[self._side_key(side)]:
            totals[e.agent] = totals.get(e.agent, 0) + e.qty
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked[: max(n, 0)]

    def snapshot(self) -> OfferBookSnapshot:
        """The current book as an :class:`OfferBookSnapshot`."""
        return OfferBookSnapshot(
            symbol=self.symbol,
            ts_event=self.last_ts_event,
            ts_init=self.last_ts_init,
            seq=self.last_seq,
            events_applied=self.events_applied,
            bids=tuple(self.offers(BookSide.BID)),
            asks=tuple(self.offers(BookSide.ASK)),
        )

    @classmethod
    def from_snapshot(
        cls,
        snap: OfferBookSnapshot,
        *,
        tick_size: float | None = None,
        strict: bool = False,
        full_book_order: FullBookOrder = "list",
    ) -> OfferBook:
        """A book restored from ``snap``; apply the events after it to continue.

        Raises
        ------
        DataError
            If an offer of the snapshot has an off-grid price or a negative quantity.
        """
        book = cls(snap.symbol, tick_size, strict=strict, full_book_order=full_book_order)
        for side, offers in ((BookSide.BID, snap.bids), (BookSide.ASK, snap.asks)):
            entries = [book._entry_from_offer(o) for o in offers]
            if any(e is None for e in entries):
                raise book._error("snapshot offer has an invalid price or quantity", "price")
            book._replace_side(side, [e for e in entries if e is not None])
        book._touched.clear()
        book.events_applied = snap.events_applied
        book.last_seq = snap.seq
        book.last_ts_event = snap.ts_event
        book.last_ts_init = snap.ts_init
        return book

    def apply(self, event: OfferBookEvent) -> list[BookDelta]:
        """Apply one offer-book event.

        Returns
        -------
        list of BookDelta
            ``SET`` rows for the levels whose total changed, best first within a side,
            bids before asks, the last flagged ``F_LAST``; empty if nothing changed or
            the event was rejected.

        Raises
        ------
        DataError
            In strict mode, if the event cannot be applied (the book is left unchanged).
        """
        return self._apply(event)

    # -- handlers ------------------------------------------------------------------------

    def _entry_from_offer(self, o: Offer) -> _Entry | None:
        tick = self._tick(o.price)
        if tick is None or o.qty < 0:
            return None
        return _Entry(tick, o.price, o.qty, 1, agent=o.agent, offer_id=o.offer_id, date=o.date)

    def _full_book_entries(self, items: Sequence[Any]) -> list[_Entry] | None:
        out = []
        for o in items:
            e = self._entry_from_offer(o)
            if e is None:
                return None
            out.append(e)
        return out

    def _on_add(self, ev: Any, side: BookSide) -> _Problem:
        n = len(self._entries[side])
        if not 0 <= ev.position <= n:
            return "position", f"position {ev.position} outside [0, {n}] for ADD"
        if ev.price is None or ev.qty is None:
            return ("price" if ev.price is None else "qty"), "ADD without price or quantity"
        tick = self._tick(ev.price)
        if tick is None:
            return "price", f"price {ev.price!r} is not on the {self.tick_size} grid"
        if ev.qty < 0:
            return "qty", f"negative quantity {ev.qty}"
        entry = _Entry(tick, ev.price, ev.qty, 1, agent=ev.agent or 0, offer_id=ev.offer_id or 0)
        self._insert(side, n - ev.position, entry)
        self._order_id = entry.offer_id
        return None

    def _on_edit(self, ev: Any, side: BookSide) -> _Problem:
        entries = self._entries[side]
        n = len(entries)
        if not 0 <= ev.position < n:
            return "position", f"position {ev.position} outside [0, {n - 1}] for EDIT"
        idx = n - 1 - ev.position
        e = entries[idx]
        new_qty = e.qty + ev.qty if ev.qty is not None else e.qty
        if new_qty < 0:
            return "qty", f"EDIT delta {ev.qty} makes quantity {new_qty} < 0"
        tick = e.tick
        if ev.price is not None:
            t = self._tick(ev.price)
            if t is None:
                return "price", f"price {ev.price!r} is not on the {self.tick_size} grid"
            tick = t
        price = ev.price if ev.price is not None else e.price
        self._modify(side, idx, tick, price, qty=new_qty, count=1)
        if ev.agent is not None:
            e.agent = ev.agent
        if ev.offer_id is not None:
            e.offer_id = ev.offer_id
        self._order_id = e.offer_id
        return None


def _to_offer(e: _Entry) -> Offer:
    return Offer(price=e.price, qty=e.qty, agent=e.agent, offer_id=e.offer_id, date=e.date)


def _due(policy: SnapshotPolicy, since_events: int, ts: int, last_ts: int) -> bool:
    if policy.every_events is not None and since_events >= policy.every_events:
        return True
    return policy.every_ns is not None and ts - last_ts >= policy.every_ns


def rebuild(
    events: Iterable[OfferBookEvent],
    policy: SnapshotPolicy | None = None,
    *,
    symbol: str | None = None,
    tick_size: float | None = None,
    strict: bool = False,
    full_book_order: FullBookOrder = "list",
) -> tuple[list[BookDelta], list[OfferBookSnapshot]]:
    """Replay offer-book events into level deltas and periodic snapshots.

    Parameters
    ----------
    events
        One symbol's events in replay order.
    policy
        When to snapshot (after the event that makes one due); ``None``: never.
    symbol
        Instrument; defaults to the first event's.
    tick_size, strict, full_book_order
        As for :class:`OfferBook`.

    Returns
    -------
    deltas : list of BookDelta
        Every ``SET`` row, in event order.
    snapshots : list of OfferBookSnapshot
        Taken after events; ``snap.events_applied`` is the index of the next event.

    Raises
    ------
    DataError
        In strict mode, on the first event that cannot be applied.
    """
    deltas: list[BookDelta] = []
    snaps: list[OfferBookSnapshot] = []
    book: OfferBook | None = None
    since = 0
    last_ts = 0
    for ev in events:
        if book is None:
            book = OfferBook(
                symbol or ev.symbol,
                tick_size,
                strict=strict,
                full_book_order=full_book_order,
            )
            last_ts = ev.ts_event
        deltas.extend(book.apply(ev))
        since += 1
        if policy is not None and _due(policy, since, ev.ts_event, last_ts):
            snaps.append(book.snapshot())
            since = 0
            last_ts = ev.ts_event
    return deltas, snaps
