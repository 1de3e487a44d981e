"""Ring access by header offset for the flow group's single-pass expiry.

The flow group walks its trade ring once for all windows (``flow.py``), so it works on
the ring header offset directly: a sequence number to a physical row, a push that
returns the row, and dropping everything below a sequence number. Window sums use the
shared :func:`~quantumtrader.features.ring.mw_expire` / ``mw_commit``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from quantumtrader.features.jit import fjit_inline
from quantumtrader.features.state import (
    RH_CAP,
    RH_COUNT,
    RH_HEAD,
    RH_IOFF,
    RH_NI,
    RH_SEQ,
)

__all__ = ["fr_pop_below", "fr_push", "fr_row"]

Array = np.ndarray[Any, Any]


@fjit_inline
def fr_row(i: Array, h: int, seq: int) -> int:  # pragma: no cover - compiled
    """Physical row of sequence number ``seq`` (held) in the ring whose header is at ``h``."""
    row = i[h + RH_HEAD] + (seq - i[h + RH_SEQ])
    cap = i[h + RH_CAP]
    return int(row - cap if row >= cap else row)


@fjit_inline
def fr_push(i: Array, h: int, ts: int) -> int:  # pragma: no cover - compiled
    """Append an entry stamped ``ts`` (int column 0); return its physical row.

    The engine guarantees room (``ensure_room``); on overflow the oldest entry is
    dropped and its row reused, as :func:`~quantumtrader.features.ring.ring_push` does.
    """
    cap = i[h + RH_CAP]
    cnt = i[h + RH_COUNT]
    row = i[h + RH_HEAD] + cnt
    if row >= cap:
        row -= cap
    if cnt == cap:
        hd = i[h + RH_HEAD] + 1
        i[h + RH_HEAD] = 0 if hd == cap else hd
        i[h + RH_SEQ] += 1
    else:
        i[h + RH_COUNT] = cnt + 1
    i[i[h + RH_IOFF] + row * i[h + RH_NI]] = ts
    return int(row)


@fjit_inline
def fr_pop_below(i: Array, h: int, lo: int) -> None:  # pragma: no cover - compiled
    """Drop every entry with sequence number below ``lo``."""
    n = min(lo - i[h + RH_SEQ], i[h + RH_COUNT])
    if n > 0:
        hd = i[h + RH_HEAD] + n
        cap = i[h + RH_CAP]
        i[h + RH_HEAD] = hd - cap if hd >= cap else hd
        i[h + RH_COUNT] -= n
        i[h + RH_SEQ] += n
