"""Columnar input of the feature engine's batch path: trades and book frames, merged.

:class:`FeatureInput` holds ``n`` events in replay order; trade columns are meaningful
for ``kind == 0`` rows, book rows point (``brow``) into the ``(m, 4, K)`` array ``lv``
of book frames (bid prices, bid sizes, ask prices, ask sizes, best first; NaN price and
0 size for empty levels). The engine layer builds book frames from level-2 deltas
(:mod:`quantumtrader.engine.feature_input`); here are the trades-only builder, slicing
and the checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from quantumtrader.core import DataError
from quantumtrader.features.group import K_LEVELS

__all__ = ["KIND_BOOK", "KIND_TRADE", "FeatureInput"]

Array = np.ndarray[Any, Any]
KIND_TRADE = 0
KIND_BOOK = 1


class FeatureInput:
    """``n`` events (trades and book frames) in replay order, as flat arrays.

    Parameters
    ----------
    kind
        int8 ``(n,)``: :data:`KIND_TRADE` or :data:`KIND_BOOK`.
    ts
        int64 ``(n,)``: ``ts_event``, ns UTC, non-decreasing.
    price, qty
        float64 ``(n,)``: trade price (points) and quantity (quantity units); ignored on
        book rows.
    side
        int8 ``(n,)``: aggressor, +1 buy, -1 sell, 0 none.
    buyer, seller
        int64 ``(n,)``: broker codes, -1 unknown.
    brow
        int64 ``(n,)``: row of ``lv`` for book events, -1 for trades.
    lv
        float64 ``(m, 4, K)``: book frames.

    Raises
    ------
    DataError
        If shapes disagree, ``ts`` decreases, a kind is unknown or a book row points
        outside ``lv``; the message names the first offending row.
    """

    __slots__ = ("brow", "buyer", "kind", "lv", "price", "qty", "seller", "side", "ts")

    def __init__(
        self,
        *,
        kind: Array,
        ts: Array,
        price: Array,
        qty: Array,
        side: Array,
        buyer: Array,
        seller: Array,
        brow: Array,
        lv: Array,
    ) -> None:
        self.kind = np.ascontiguousarray(kind, dtype=np.int8)
        self.ts = np.ascontiguousarray(ts, dtype=np.int64)
        self.price = np.ascontiguousarray(price, dtype=np.float64)
        self.qty = np.ascontiguousarray(qty, dtype=np.float64)
        self.side = np.ascontiguousarray(side, dtype=np.int8)
        self.buyer = np.ascontiguousarray(buyer, dtype=np.int64)
        self.seller = np.ascontiguousarray(seller, dtype=np.int64)
        self.brow = np.ascontiguousarray(brow, dtype=np.int64)
        self.lv = np.ascontiguousarray(lv, dtype=np.float64)
        self._check()

    def _check(self) -> None:
        n = self.ts.shape[0]
        for name in ("kind", "price", "qty", "side", "buyer", "seller", "brow"):
            if getattr(self, name).shape != (n,):
                raise DataError(
                    f"feature input: column {name} has shape "
                    f"{getattr(self, name).shape}, expected ({n},)"
                )
        if self.lv.ndim != 3 or self.lv.shape[1] != 4:
            raise DataError(f"feature input: lv has shape {self.lv.shape}, expected (m, 4, K)")
        if n > 1:
            bad = np.flatnonzero(np.diff(self.ts) < 0)
            if bad.size:
                j = int(bad[0]) + 1
                raise DataError(
                    f"feature input row {j}: ts {self.ts[j]} is earlier than "
                    f"the previous row's {self.ts[j - 1]}",
                    field="ts",
                )
        unknown = np.flatnonzero((self.kind != KIND_TRADE) & (self.kind != KIND_BOOK))
        if unknown.size:
            raise DataError(
                f"feature input row {int(unknown[0])}: unknown kind {int(self.kind[unknown[0]])}",
                field="kind",
            )
        book = self.kind == KIND_BOOK
        rows = self.brow[book]
        if rows.size and (rows.min() < 0 or rows.max() >= self.lv.shape[0]):
            j = int(
                np.flatnonzero(book)[np.flatnonzero((rows < 0) | (rows >= self.lv.shape[0]))[0]]
            )
            raise DataError(
                f"feature input row {j}: book row {self.brow[j]} outside 0..{self.lv.shape[0] - 1}",
                field="brow",
            )

    @property
    def n(self) -> int:
        """Number of events."""
        return int(self.ts.shape[0])

    @property
    def n_trades(self) -> int:
        """Number of trade events."""
        return int(np.count_nonzero(self.kind == KIND_TRADE))

    @property
    def levels(self) -> int:
        """Book levels per side (``K``)."""
        return int(self.lv.shape[2])

    def __len__(self) -> int:
        return self.n

    def slice(self, start: int, stop: int) -> FeatureInput:
        """Events ``start..stop-1`` (book frames re-indexed, shared where possible)."""
        rows = self.brow[start:stop]
        book = rows >= 0
        lo = int(rows[book].min()) if book.any() else 0
        hi = int(rows[book].max()) + 1 if book.any() else 0
        brow = np.where(book, rows - lo, -1)
        return FeatureInput(
            kind=self.kind[start:stop], ts=self.ts[start:stop], price=self.price[start:stop],
            qty=self.qty[start:stop], side=self.side[start:stop], buyer=self.buyer[start:stop],
            seller=self.seller[start:stop], brow=brow, lv=self.lv[lo:hi],
        )  # fmt: skip

    @classmethod
    def from_trades(  # noqa: PLR0917 - the columns of a trade table
        cls,
        ts: Array,
        price: Array,
        qty: Array,
        side: Array,
        buyer: Array | None = None,
        seller: Array | None = None,
        *,
        levels: int = K_LEVELS,
    ) -> FeatureInput:
        """Trades only (no book frames); broker codes -1 when not given.

        Shapes ``(n,)``: int64 ns UTC, float64 points, float64 quantity units, int8
        aggressor, int broker codes.
        """
        n = int(np.asarray(ts).shape[0])
        none = np.full(n, -1, dtype=np.int64)
        return cls(
            kind=np.zeros(n, dtype=np.int8), ts=ts, price=price, qty=qty, side=side,
            buyer=none if buyer is None else buyer, seller=none if seller is None else seller,
            brow=none, lv=np.zeros((0, 4, levels)),
        )  # fmt: skip

    @classmethod
    def from_trade_table(cls, table: pa.Table, *, levels: int = K_LEVELS) -> FeatureInput:
        """Trades of an Arrow table with :data:`~quantumtrader.model.TRADE_SCHEMA` columns.

        Broker codes come from ``buy_agent_id`` / ``sell_agent_id`` (null -> -1).
        """

        def col(name: str, dtype: Any) -> Array:
            c = table.column(name)
            if name == "ts_event":
                c = c.cast(pa.int64())
            return np.ascontiguousarray(c.fill_null(-1).to_numpy(), dtype=dtype)

        return cls.from_trades(
            col("ts_event", np.int64), col("price", np.float64), col("qty", np.float64),
            col("aggressor", np.int8), col("buy_agent_id", np.int64),
            col("sell_agent_id", np.int64), levels=levels,
        )  # fmt: skip
