"""Bytes to a Polars column of text lines, and bounded-memory chunked reading.

Every parser starts from a frame with two columns: ``line`` (1-based line number in
the file, int64) and ``raw`` (the line's text without its CR/LF terminator). Lines are
cut with numpy on the byte buffer and wrapped as an Arrow string array without a
per-line Python loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from quantumtrader.core.errors import DataError

__all__ = ["DEFAULT_CHUNK_BYTES", "iter_byte_chunks", "lines_frame", "to_utf8"]

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024
"""Bytes read per chunk when streaming (about 800k format-B lines)."""


def to_utf8(data: bytes, encoding: str) -> bytes:
    """Return ``data`` as UTF-8 bytes.

    Parameters
    ----------
    data
        Raw file bytes.
    encoding
        ``"latin-1"`` (always transcode) or ``"auto"`` (keep valid UTF-8 as is,
        otherwise read as latin-1, which maps every byte to a character).

    Returns
    -------
    bytes
        Valid UTF-8. Newline bytes keep their positions' order and count.
    """
    if data.isascii():
        return data
    if encoding == "auto":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return data
    return data.decode("latin-1").encode("utf-8")


def lines_frame(data: bytes, first_line: int, encoding: str) -> pl.DataFrame:
    """Split a buffer into lines.

    Parameters
    ----------
    data
        Whole lines of a file (the last may lack its newline).
    first_line
        1-based line number of the first line in ``data``.
    encoding
        See :func:`to_utf8`.

    Returns
    -------
    polars.DataFrame
        Columns ``line`` (int64) and ``raw`` (str, *with* its CR/LF terminator, which
        parsers strip from the last field and from quarantined lines only, for speed),
        shape ``(n, 2)``.
    """
    buf = to_utf8(data, encoding)
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    ends = nl + 1
    if len(buf) and (len(nl) == 0 or int(nl[-1]) != len(buf) - 1):
        ends = np.append(ends, len(buf))
    n = len(ends)
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = ends
    strings = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(buf)
    )
    raw = pl.from_arrow(strings)
    if not isinstance(raw, pl.Series):  # pragma: no cover - from_arrow of an array
        raise TypeError("expected a Series")
    line = pl.int_range(first_line, first_line + n, dtype=pl.Int64, eager=True).alias("line")
    return pl.DataFrame([line, raw.alias("raw")])


def iter_byte_chunks(
    path: Path,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[tuple[bytes, int]]:
    """Read a file in chunks that end on a newline.

    Parameters
    ----------
    path
        File to read.
    chunk_bytes
        Target bytes per chunk; memory use is about this times a small constant.
    on_bytes
        Called with the number of bytes consumed after each chunk.

    Yields
    ------
    tuple of (bytes, int)
        The chunk and the 1-based line number of its first line.

    Raises
    ------
    DataError
        If the file cannot be opened or read.
    """
    line_no = 1
    carry = b""
    pending = 0
    try:
        with path.open("rb") as fh:
            while True:
                block = fh.read(chunk_bytes)
                if not block:
                    break
                pending += len(block)
                data = carry + block
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                chunk, carry = data[: cut + 1], data[cut + 1 :]
                yield chunk, line_no
                line_no += chunk.count(b"\n")
                if on_bytes is not None:
                    on_bytes(pending)
                pending = 0
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from exc
    if carry:
        yield carry, line_no
    if on_bytes is not None and pending:
        on_bytes(pending)
    logger.debug("read %s: %d lines", path, line_no - 1 + (1 if carry else 0))
