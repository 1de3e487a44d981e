"""The feature catalogue (``docs/features.md``), generated from the groups' entries.

``quantumtrader features docs --out docs/features.md`` writes it; a test regenerates it
and fails when the committed file is stale or an entry lacks units or a source.
"""

from __future__ import annotations

from collections.abc import Sequence

from quantumtrader.features.engine import FeatureEngine
from quantumtrader.features.group import FeatureDoc, GroupContext

__all__ = ["REQUIRED_FIELDS", "catalogue_markdown", "default_docs", "missing_fields"]

REQUIRED_FIELDS = ("description", "formula", "units", "window", "inputs", "warmup", "reference")

_GROUP_TITLES = {
    "flow": "Order flow",
    "tape": "Tape reading",
    "footprint": "Footprint",
    "liquidity": "Liquidity (order book)",
    "micro": "Microstructure",
    "technical": "Technical (time bars)",
}


def default_docs() -> tuple[FeatureDoc, ...]:
    """Entries of the default engine (every group, default parameters)."""
    return FeatureEngine(ctx=GroupContext(tick_size=0.5)).docs


def missing_fields(doc: FeatureDoc) -> list[str]:
    """Required catalogue fields of ``doc`` that are empty."""
    return [f for f in REQUIRED_FIELDS if not str(getattr(doc, f)).strip()]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def catalogue_markdown(docs: Sequence[FeatureDoc] | None = None) -> str:
    """Markdown catalogue: one table per group, every feature with formula and source."""
    docs = default_docs() if docs is None else tuple(docs)
    groups: dict[str, list[FeatureDoc]] = {}
    for d in docs:
        groups.setdefault(d.group, []).append(d)
    lines = [
        "# Feature catalogue",
        "",
        "Generated from the feature registry by `quantumtrader features docs` "
        "(do not edit by hand). Default parameters; names change with them",
        "(`ofi_5m`, `vap_poc_dist_30m`). Windows are event time `(t - W, t]`; a value at "
        "time `t` uses only events with `ts_event <= t`.",
        "NaN appears only where the *NaN when* column says so.",
        "",
        f"{len(docs)} features in {len(groups)} groups: "
        + ", ".join(f"{_GROUP_TITLES.get(g, g)} ({len(v)})" for g, v in groups.items())
        + ".",
        "",
    ]
    for g, entries in groups.items():
        lines += [
            f"## {_GROUP_TITLES.get(g, g)} — `{g}` ({len(entries)})",
            "",
            "| name | definition | formula | units | window | inputs | NaN when | source |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for d in entries:
            cells = (
                f"`{d.name}`", d.description, d.formula, d.units, d.window, d.inputs,
                d.warmup, d.reference,
            )  # fmt: skip
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)
