"""Recognise which Profit export format a file is."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from quantumtrader.core.errors import DataError
from quantumtrader.data.profit_b import is_b_header

__all__ = ["ProfitFormat", "detect_format"]

ProfitFormat = Literal["A", "B"]
"""``"A"``: per-day ``;`` Times & Trades export; ``"B"``: ``<ticker>,<date>,...`` CSV."""

_PROBE_BYTES = 64 * 1024
_PROBE_LINES = 20
_A_LINE = re.compile(
    r"^[^;]+;\s*\d{2}/\d{2}/\d{4}\s*;\s*\d{2}:\d{2}:\d{2}\s*;[^;]*;[^;]*;[^;]*;[^;]*;[^;]*$"
)


def detect_format(path: Path) -> ProfitFormat:
    """Detect the format of a Profit trades export from its first lines.

    Format B is recognised by its header line; format A by a data line of eight
    ``;``-separated fields with a ``dd/mm/yyyy`` date and ``HH:MM:SS`` time among the
    first 20 lines (so a few bad lines at the top do not hide it).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    {"A", "B"}

    Raises
    ------
    DataError
        If the file is missing, unreadable, empty or in neither format.
    """
    src = str(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(_PROBE_BYTES)
    except FileNotFoundError as exc:
        raise DataError("file not found", path=src) from exc
    except IsADirectoryError as exc:
        raise DataError("is a directory, not a file", path=src) from exc
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", path=src) from exc
    if not head.strip():
        raise DataError("empty file", path=src)
    lines = head.decode("latin-1").splitlines()
    if len(head) == _PROBE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut by the probe
    if is_b_header(lines[0]):
        return "B"
    if any(_A_LINE.match(line.strip()) for line in lines[:_PROBE_LINES]):
        return "A"
    first = lines[0].strip()
    shown = first if len(first) <= 80 else first[:77] + "..."
    raise DataError(f"not a Profit trades export (format A or B); first line: {shown!r}", path=src)
