"""Quarantined input rows: what failed validation, where, and why.

Bad input never vanishes (DESIGN.md section 4): each rejected line becomes one row
of a quarantine table stored next to its partition.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
import polars as pl
import pyarrow as pa

__all__ = [
    "QUARANTINE_SCHEMA",
    "QuarantineRow",
    "empty_quarantine",
    "quarantine_rows",
    "quarantine_table",
]

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("file", pa.string(), nullable=False),
        pa.field("line", pa.int64(), nullable=False),
        pa.field("field", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw", pa.string(), nullable=False),
    ],
    metadata={b"quantumtrader.kind": b"quarantine", b"quantumtrader.schema_version": b"1"},
)
"""Arrow schema of a quarantine table (one row per rejected input line)."""


class QuarantineRow(msgspec.Struct, frozen=True, kw_only=True):
    """One rejected input line.

    Attributes
    ----------
    file
        Source file as given to the parser.
    line
        1-based line number in ``file``.
    field
        Name of the offending field (format field names; ``fields`` for a wrong
        field count, ``line`` for a blank line).
    reason
        Human-readable reason, quoting the offending value.
    raw
        The line's text (decoded, without its line terminator).
    """

    file: str
    line: int
    field: str
    reason: str
    raw: str


def empty_quarantine() -> pa.Table:
    """An empty table with :data:`QUARANTINE_SCHEMA`."""
    return QUARANTINE_SCHEMA.empty_table()


def quarantine_table(rows: Iterable[QuarantineRow] | pa.Table | pl.DataFrame) -> pa.Table:
    """Normalise quarantine rows to a table with :data:`QUARANTINE_SCHEMA`.

    Parameters
    ----------
    rows
        Structs, an Arrow table or a Polars frame with (at least) the schema's columns.

    Returns
    -------
    pyarrow.Table
        Shape ``(n, 5)``, sorted by ``(file, line)``.

    Raises
    ------
    ValueError
        If a table lacks one of the columns.
    """
    if isinstance(rows, pl.DataFrame):
        rows = rows.to_arrow()
    if isinstance(rows, pa.Table):
        missing = [n for n in QUARANTINE_SCHEMA.names if n not in rows.column_names]
        if missing:
            raise ValueError(f"quarantine table lacks columns {missing}")
        table = rows.select(QUARANTINE_SCHEMA.names).cast(QUARANTINE_SCHEMA)
    else:
        items = list(rows)
        table = pa.Table.from_pydict(
            {n: [getattr(r, n) for r in items] for n in QUARANTINE_SCHEMA.names},
            schema=QUARANTINE_SCHEMA,
        )
    if table.num_rows > 1:
        table = table.sort_by([("file", "ascending"), ("line", "ascending")])
    return table


def quarantine_rows(table: pa.Table) -> list[QuarantineRow]:
    """Convert a quarantine table back to :class:`QuarantineRow` structs."""
    cols = {n: table.column(n).to_pylist() for n in QUARANTINE_SCHEMA.names}
    return [
        QuarantineRow(
            file=cols["file"][i],
            line=cols["line"][i],
            field=cols["field"][i],
            reason=cols["reason"][i],
            raw=cols["raw"][i],
        )
        for i in range(table.num_rows)
    ]
