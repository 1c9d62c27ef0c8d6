"""The shipped case file: it loads, and every quote is in the article."""

from __future__ import annotations

import re
from pathlib import Path

from fhir_case.casefile import default_case_file, load_case
from fhir_case.casefile.yamlpos import load_positioned


def _quotes(data: object) -> list[str]:
    if isinstance(data, dict):
        found = []
        for key, value in data.items():
            if key == "quote":
                found += [value] if isinstance(value, str) else list(value)
            else:
                found += _quotes(value)
        return found
    if isinstance(data, list):
        return [quote for item in data for quote in _quotes(item)]
    return []


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_every_quote_occurs_in_the_article(shared_dir: Path) -> None:
    article = _normalise((shared_dir / "case-report" / "000_51bed0eaf39ce977.txt").read_text())
    data = load_positioned(default_case_file().read_text()).data
    quotes = _quotes(data)
    assert len(quotes) > 100
    missing = [quote for quote in quotes if _normalise(quote) not in article]
    assert missing == []


def test_shipped_source_text_is_the_article(shared_dir: Path) -> None:
    shipped = default_case_file().with_name("mpnst-chen-2024.source.txt").read_bytes()
    assert shipped == (shared_dir / "case-report" / "000_51bed0eaf39ce977.txt").read_bytes()


def test_derived_dates_are_approximate_and_say_how() -> None:
    case = load_case(default_case_file())
    pain = next(c for c in case.conditions if c.id == "low-back-pain")
    assert pain.onset is not None
    assert pain.onset.date == "2023-05-14"
    assert pain.onset.approximate
    assert pain.onset.how and "2023-05-28" in pain.onset.how


def test_stated_dates_are_exact() -> None:
    case = load_case(default_case_file())
    biopsy = next(p for p in case.procedures if p.id == "biopsy-ilium")
    assert biopsy.performed.date == "2023-05-29"  # type: ignore[union-attr]
    assert not biopsy.performed.approximate  # type: ignore[union-attr]
