"""numba decorators of the feature groups' kernels: compiled without reference counting.

Group kernels neither allocate nor keep arrays, so they are compiled with numba's target
option ``_nrt=False``: numba cannot prune the atomic incref/decref pairs on the ``f`` /
``i`` / ``out`` arrays from branchy code, and they cost about a third of a trade's time
(same approach as :mod:`quantumtrader.book.ladder`). ``_nrt`` has no public guarantee; a
numba release that refuses it gets the plain kernels (same results, slower).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from numba import njit

__all__ = ["fjit", "fjit_inline"]

_njit: Any = njit  # typed stubs of numba do not list the target option _nrt
_F = TypeVar("_F", bound=Callable[..., Any])


def _make(fn: Any, **opts: Any) -> Any:
    try:
        return _njit(cache=True, _nrt=False, **opts)(fn)
    except (KeyError, TypeError, ValueError):  # pragma: no cover - depends on numba
        return _njit(cache=True, **opts)(fn)


def fjit(fn: _F) -> _F:
    """``njit(cache=True, _nrt=False)``, keeping the function's signature for mypy."""
    return cast(_F, _make(fn))


def fjit_inline(fn: _F) -> _F:
    """``njit(cache=True, inline="always", _nrt=False)`` (small helpers)."""
    return cast(_F, _make(fn, inline="always"))
