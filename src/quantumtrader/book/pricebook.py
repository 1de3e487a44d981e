"""Rebuild the ProfitDLL legacy price book (one list entry per price level).

The price book uses the offer book's action codes and end-counted positions (list index
``= size - 1 - position``; ``../shared/reference/profitdll.md`` section 5.7): ADD inserts
a level (price, quantity, order count) at index ``size - position``, EDIT changes the
level at index ``size - 1 - position``, DELETE removes it, DELETE_FROM removes positions
``0..position`` and FULL_BOOK replaces both sides with the event's ``bids``/``asks``
:class:`~quantumtrader.model.book.PriceLevel` arrays.

Unverified points, exposed as options: whether an EDIT carries the level's new quantity
and count (``edit_is_delta=False``, the default: they are level totals) or changes to add
(``True``, the offer book's convention), and the full-book array order
(``full_book_order``, as for :class:`~quantumtrader.book.offers.OfferBook`). Two list
entries at one price are counted as order violations and summed into one level.

References
----------
Nelogica, *ProfitDLL manual* 4.0.0.31, ``TPriceBookCallbackV2`` (deprecated in favour of
price depth), as restated in ``profitdll.md`` section 5.7.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from quantumtrader.book._positional import FullBookOrder, PositionalBook, _Entry, _Problem
from quantumtrader.model.book import BookDelta, BookSide, PriceBookEvent, PriceLevel

__all__ = ["PriceBook"]


class PriceBook(PositionalBook):
    """Price-level book of one symbol rebuilt from ProfitDLL price-book events.

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
        ``"list"`` (array = side list, last element = position 0) or ``"position"``.
    edit_is_delta
        EDIT ``qty``/``count`` are changes (``True``) or new level totals (``False``).
    max_issues
        How many rejected events to keep as :class:`~quantumtrader.book.offers.RebuildIssue`.

    Raises
    ------
    ConfigError
        If ``tick_size`` is not positive or ``full_book_order`` is unknown.

    Notes
    -----
    Error counters, :meth:`levels`, :meth:`best` and :meth:`depth` behave as for the
    offer book; ADD needs price, quantity and count; an EDIT may move the level to a new
    price only if it carries one.
    """

    _kind: ClassVar[str] = "price book"
    _strict_order: ClassVar[bool] = True

    def __init__(
        self,
        symbol: str,
        tick_size: float | None = None,
        *,
        strict: bool = False,
        full_book_order: FullBookOrder = "list",
        edit_is_delta: bool = False,
        max_issues: int = 1000,
    ) -> None:
        super().__init__(
            symbol,
            tick_size,
            strict=strict,
            full_book_order=full_book_order,
            max_issues=max_issues,
        )
        self.edit_is_delta = edit_is_delta

    def entries(self, side: BookSide) -> list[PriceLevel]:
        """The DLL list of ``side`` as levels, in list order (index ``i`` = position ``n-1-i``)."""
        return [
            PriceLevel(price=e.price, qty=e.qty, count=e.count)
            for e in self._entries[self._side_key(side)]
        ]

    def level_at(self, side: BookSide, position: int) -> PriceLevel | None:
        """The list entry at DLL ``position`` of ``side``, or ``None`` when out of range."""
        entries = self._entries[self._side_key(side)]
        if not 0 <= position < len(entries):
            return None
        e = entries[len(entries) - 1 - position]
        return PriceLevel(price=e.price, qty=e.qty, count=e.count)

    def apply(self, event: PriceBookEvent) -> list[BookDelta]:
        """Apply one price-book event.

        Returns
        -------
        list of BookDelta
            ``SET`` rows for the levels whose total changed (bids best first, then asks),
            the last flagged ``F_LAST``; empty if nothing changed or the event was rejected.

        Raises
        ------
        DataError
            In strict mode, if the event cannot be applied (the book is left unchanged).
        """
        return self._apply(event)

    def _entry_from_level(self, lv: PriceLevel) -> _Entry | None:
        tick = self._tick(lv.price)
        if tick is None or lv.qty < 0 or lv.count < 0:
            return None
        return _Entry(tick, lv.price, lv.qty, lv.count)

    def _full_book_entries(self, items: Sequence[Any]) -> list[_Entry] | None:
        out = []
        for lv in items:
            e = self._entry_from_level(lv)
            if e is None:
                return None
            out.append(e)
        return out

    def _on_add(self, ev: Any, side: BookSide) -> _Problem:
        n = len(self._entries[side])
        if not 0 <= ev.position <= n:
            return "position", f"position {ev.position} outside [0, {n}] for ADD"
        for name in ("price", "qty", "count"):
            if getattr(ev, name) is None:
                return name, f"ADD without {name}"
        e = self._entry_from_level(PriceLevel(price=ev.price, qty=ev.qty, count=ev.count))
        if e is None:
            return "price", (
                f"level price {ev.price!r} off the {self.tick_size} grid or negative "
                f"qty {ev.qty} / count {ev.count}"
            )
        self._insert(side, n - ev.position, e)
        return None

    def _on_edit(self, ev: Any, side: BookSide) -> _Problem:
        entries = self._entries[side]
        n = len(entries)
        if not 0 <= ev.position < n:
            return "position", f"position {ev.position} outside [0, {n - 1}] for EDIT"
        idx = n - 1 - ev.position
        e = entries[idx]
        qty, count = e.qty, e.count
        if ev.qty is not None:
            qty = e.qty + ev.qty if self.edit_is_delta else ev.qty
        if ev.count is not None:
            count = e.count + ev.count if self.edit_is_delta else ev.count
        if qty < 0:
            return "qty", f"EDIT makes the level quantity {qty} < 0"
        if count < 0:
            return "count", f"EDIT makes the level order count {count} < 0"
        tick, price = e.tick, e.price
        if ev.price is not None:
            t = self._tick(ev.price)
            if t is None:
                return "price", f"price {ev.price!r} is not on the {self.tick_size} grid"
            tick, price = t, ev.price
        self._modify(side, idx, tick, price, qty=qty, count=count)
        return None
