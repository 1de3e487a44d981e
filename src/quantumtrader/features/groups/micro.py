"""Micro group (placeholder: no features yet)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from quantumtrader.features.group import FeatureDoc, Group
from quantumtrader.features.state import State, StateBuilder

__all__ = ["MicroGroup"]

Array = np.ndarray[Any, Any]


@njit(cache=True)
def micro_trade(  # noqa: PLR0917 - the group kernel signature
    f: Array, i: Array, ts: int, price: float, qty: float, side: int, buyer: int, seller: int
) -> None:  # pragma: no cover - compiled
    """One trade."""


@njit(cache=True)
def micro_book(f: Array, i: Array, ts: int, lv: Array) -> None:  # pragma: no cover - compiled
    """One book frame."""


@njit(cache=True)
def micro_emit(f: Array, i: Array, ts: int, out: Array) -> None:  # pragma: no cover - compiled
    """Outputs as of ts."""


@njit(cache=True)
def micro_run(  # noqa: PLR0917 - the group batch signature
    f: Array,
    i: Array,
    kind: Array,
    ts: Array,
    price: Array,
    qty: Array,
    side: Array,
    buyer: Array,
    seller: Array,
    brow: Array,
    lv: Array,
    spos: Array,
    sts: Array,
    out: Array,
) -> None:  # pragma: no cover - compiled
    """Batch loop (see :mod:`quantumtrader.features.group`)."""
    j = 0
    ns = spos.shape[0]
    for e in range(ts.shape[0]):
        while j < ns and spos[j] == e:
            micro_emit(f, i, sts[j], out[j])
            j += 1
        if kind[e] == 0:
            micro_trade(f, i, ts[e], price[e], qty[e], side[e], buyer[e], seller[e])
        else:
            micro_book(f, i, ts[e], lv[brow[e]])
    while j < ns:
        micro_emit(f, i, sts[j], out[j])
        j += 1


class MicroGroup(Group):
    """Micro features (placeholder)."""

    name: ClassVar[str] = "micro"
    uses_book: ClassVar[bool] = False
    trade = staticmethod(micro_trade)
    book = staticmethod(micro_book)
    emit = staticmethod(micro_emit)
    run = staticmethod(micro_run)

    def new_state(self) -> State:
        return StateBuilder().build()

    def docs(self) -> tuple[FeatureDoc, ...]:
        return ()
