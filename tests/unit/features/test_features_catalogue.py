"""The feature catalogue: complete entries, unique names, and docs/features.md up to date."""

from __future__ import annotations

from pathlib import Path

import msgspec

from quantumtrader.features.catalogue import catalogue_markdown, default_docs, missing_fields
from quantumtrader.features.groups import GROUP_CLASSES

DOCS = Path(__file__).resolve().parents[3] / "docs" / "features.md"


def test_every_feature_has_units_source_and_all_fields() -> None:
    docs = default_docs()
    incomplete = {d.name: missing_fields(d) for d in docs if missing_fields(d)}
    assert incomplete == {}
    names = [d.name for d in docs]
    assert len(names) == len(set(names))
    assert {d.group for d in docs} == set(GROUP_CLASSES)


def test_catalogue_counts_match_the_issue_floor() -> None:
    docs = default_docs()
    per_group = {g: sum(d.group == g for d in docs) for g in GROUP_CLASSES}
    floor = {"flow": 30, "tape": 20, "footprint": 15, "liquidity": 15, "micro": 30, "technical": 80}
    assert {g: n for g, n in per_group.items() if n < floor[g]} == {}
    assert len(docs) >= 230


def test_docs_features_md_is_current() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert text == catalogue_markdown(), (
        "docs/features.md is stale: run `quantumtrader features docs --out docs/features.md`"
    )


def test_missing_fields_detects_an_empty_entry() -> None:
    doc = default_docs()[0]
    broken = msgspec.structs.replace(doc, units=" ", reference="")
    assert missing_fields(broken) == ["units", "reference"]
