"""Layer 3: the order book on integer ticks (numba), and book rebuilders.

:class:`OrderBook` is the level-2 book (dense price ladder, :mod:`.ladder` kernels).
:class:`OfferBook` and :class:`PriceBook` rebuild ProfitDLL's market-by-order and
price books into levels; :mod:`.validate` checks rebuilt books against venue data.
"""

from quantumtrader.book.ladder import NO_ASK, NO_BID
from quantumtrader.book.offers import (
    FullBookOrder,
    OfferBook,
    OfferBookSnapshot,
    RebuildIssue,
    SnapshotPolicy,
    rebuild,
)
from quantumtrader.book.orderbook import LadderArrays, OrderBook
from quantumtrader.book.pricebook import PriceBook

__all__: list[str] = [
    "NO_ASK",
    "NO_BID",
    "FullBookOrder",
    "LadderArrays",
    "OfferBook",
    "OfferBookSnapshot",
    "OrderBook",
    "PriceBook",
    "RebuildIssue",
    "SnapshotPolicy",
    "rebuild",
]
