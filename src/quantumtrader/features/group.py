"""Feature groups: the unit the engine runs (one numba kernel set per group).

A group computes a family of features from one shared state (all OFI windows share
one ring of trades; all footprint features share one bar). It provides four numba
kernels with fixed signatures, so the :class:`~quantumtrader.features.engine.FeatureEngine`
can run any group in the stream and in the batch path:

``trade(f, i, ts, price, qty, side, buyer, seller) -> None``
    One trade: ``ts`` int ns UTC, ``price`` points, ``qty`` quantity units (contracts
    on B3), ``side`` +1 buy / -1 sell / 0 none (aggressor), ``buyer`` / ``seller``
    broker codes (-1 when unknown).
``book(f, i, ts, lv) -> None``
    The book after one venue message: ``lv`` float64 ``(4, K)``: bid prices (best
    first), bid sizes, ask prices (best first), ask sizes; empty levels have price NaN
    and size 0.
``emit(f, i, ts, out) -> None``
    Write the group's ``n_out`` features as of time ``ts`` (>= the last event) into
    ``out``. The only mutations allowed are those that time alone implies: expiring
    window entries older than ``ts`` and closing a bar whose end has passed; calling it
    twice at one ``ts`` gives the same output. It must be O(1) in the number of events
    seen (a bounded scan, such as one bar's price levels, is fine).
``run(f, i, kind, ts, price, qty, side, buyer, seller, brow, lv, spos, sts, out) -> None``
    The batch loop: for each event ``e`` (``kind[e]`` 0 trade, 1 book; book rows at
    ``lv[brow[e]]``), first emit every sample ``j`` with ``spos[j] == e`` at time
    ``sts[j]`` into ``out[j]``, then apply the event; after the last event emit the
    remaining samples. It calls exactly the three kernels above, which is what makes
    the stream and batch paths agree bit for bit. Each group writes this loop out
    rather than sharing one that takes the kernels as arguments: numba cannot cache a
    function specialised on function arguments, so a shared loop would recompile in
    every process.

Rules every group follows: state lives in the ``(f, i)`` arrays from
:class:`~quantumtrader.features.state.StateBuilder`; each event pushes at most one entry
per ring; warm-up values are NaN and documented in the feature's ``warmup``.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, Literal

import msgspec
import numpy as np

from quantumtrader.features.state import State
from quantumtrader.model.instruments import spec_for

__all__ = [
    "DEFAULT_SIZE_BUCKETS",
    "K_LEVELS",
    "FeatureDoc",
    "Group",
    "GroupContext",
]

Array = np.ndarray[Any, Any]
B3_SESSION_OFFSET_NS = -3 * 3_600_000_000_000  # America/Sao_Paulo standard time
K_LEVELS = 10  # book levels per side handed to groups
DEFAULT_SIZE_BUCKETS = (
    5.0,
    20.0,
    50.0,
    100.0,
)  # small <= 5, medium <= 20, large <= 50, whale >= 100


class GroupContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a group needs to know about the instrument.

    Attributes
    ----------
    tick_size
        Minimum price increment, points (B3 DOL/WDO 0.5, WIN/IND 5).
    size_buckets
        Trade size thresholds ``(small, medium, large, whale)`` in quantity units:
        small ``<= small``, medium ``<= medium``, large ``<= large``, whale ``>= whale``
        (the seed's 5/20/50/100 contracts by default; per instrument in the spec).
    session_offset_ns
        Offset added to UTC ns before cutting sessions at midnight: -3 h for B3
        (America/Sao_Paulo standard time; B3 futures trade 09:00-18:30 local, so a DST
        hour cannot move a trade across the cut), 0 elsewhere (UTC days).
    levels
        Book levels per side in ``lv`` (``K``).
    """

    tick_size: float
    size_buckets: tuple[float, float, float, float] = DEFAULT_SIZE_BUCKETS
    session_offset_ns: int = 0
    levels: int = K_LEVELS

    @classmethod
    def for_symbol(cls, symbol: str) -> GroupContext:
        """Context from ``symbol``'s instrument spec (B3 instruments cut sessions at UTC-3).

        Raises
        ------
        ConfigError
            If no instrument spec matches ``symbol``.
        """
        spec = spec_for(symbol)
        return cls(
            tick_size=spec.tick_size,
            size_buckets=spec.trade_size_buckets,
            session_offset_ns=B3_SESSION_OFFSET_NS if spec.currency == "BRL" else 0,
        )


class FeatureDoc(msgspec.Struct, frozen=True, kw_only=True):
    """Catalogue entry of one feature (``docs/features.md`` is generated from these).

    Attributes
    ----------
    name
        Column name, derived from parameters (``ofi_5m``, ``vap_poc_dist_30m``).
    group
        Group that computes it.
    description
        One-line definition.
    formula
        The formula, in plain text.
    units
        Units of the value (``points``, ``ticks``, ``contracts``, ``dimensionless``...).
    window
        Window in event time, bars or trades.
    inputs
        ``trades``, ``book`` or ``trades+book``.
    warmup
        When the value is NaN (warm-up, empty book, no trades yet).
    reference
        Paper, book, manual or URL the definition follows.
    """

    name: str
    group: str
    description: str
    formula: str
    units: str
    window: str
    inputs: Literal["trades", "book", "trades+book"]
    warmup: str
    reference: str


class Group(abc.ABC):
    """Base class of a feature group (see the module docstring for the kernel contract).

    Subclasses set ``name`` and ``uses_book``, the four kernels as class attributes
    (``trade``, ``book``, ``emit``, ``run``: numba dispatchers), and implement
    :meth:`docs` and :meth:`new_state`. Constructor parameters are keyword-only, have
    defaults, and are validated (``ValueError`` naming the parameter).
    """

    name: ClassVar[str]
    uses_book: ClassVar[bool] = False
    uses_trades: ClassVar[bool] = True
    trade: ClassVar[Any]
    book: ClassVar[Any]
    emit: ClassVar[Any]
    run: ClassVar[Any]

    def __init__(self, ctx: GroupContext) -> None:
        if not ctx.tick_size > 0:
            raise ValueError(f"tick_size must be > 0, got {ctx.tick_size}")
        self.ctx = ctx

    @abc.abstractmethod
    def docs(self) -> tuple[FeatureDoc, ...]:
        """Catalogue entries, one per output, in output order."""

    @abc.abstractmethod
    def new_state(self) -> State:
        """Fresh ``(f, i)`` state, parameters included."""

    @property
    def names(self) -> tuple[str, ...]:
        """Output names, in output order."""
        return tuple(d.name for d in self.docs())

    @property
    def n_out(self) -> int:
        """Number of outputs."""
        return len(self.docs())

    def params(self) -> dict[str, Any]:
        """Constructor parameters (for ``repr`` and configs)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"
