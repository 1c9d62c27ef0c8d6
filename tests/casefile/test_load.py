"""The shipped case file: it loads, and every quote is in the article."""

from __future__ import annotations

import re
from pathlib import Path

from fhir_case.casefile import default_case_file, load_case
from fhir_case.casefile.model import Quantity, Relation, When
from fhir_case.casefile.yamlpos import load_positioned
from tests.helpers import quotes_in


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_every_quote_occurs_in_the_article(shared_dir: Path) -> None:
    article = _normalise((shared_dir / "case-report" / "000_51bed0eaf39ce977.txt").read_text())
    data = load_positioned(default_case_file().read_text()).data
    quotes = quotes_in(data)
    assert len(quotes) > 100
    missing = [quote for quote in quotes if _normalise(quote) not in article]
    assert missing == []


def test_shipped_source_text_is_the_article(shared_dir: Path) -> None:
    shipped = default_case_file().with_name("mpnst-chen-2024.source.txt").read_bytes()
    assert shipped == (shared_dir / "case-report" / "000_51bed0eaf39ce977.txt").read_bytes()


def test_derived_dates_say_what_they_were_derived_from_and_how() -> None:
    case = load_case(default_case_file())
    pain = next(c for c in case.conditions if c.id == "low-back-pain")
    assert pain.onset is not None
    assert pain.onset.date == "2023-05-14"
    assert pain.onset.derived and not pain.onset.stated
    assert pain.onset.relation == Relation(
        "presentation", "period.start", "before-start", Quantity(2, "wk")
    )
    assert pain.onset.how and "2023-05-28" in pain.onset.how


def test_stated_dates_are_exact() -> None:
    case = load_case(default_case_file())
    biopsy = next(p for p in case.procedures if p.id == "biopsy-ilium")
    assert isinstance(biopsy.performed, When)
    assert biopsy.performed == When("2023-05-29")
    assert biopsy.performed.stated


def test_absent_dates_have_no_value_and_may_be_placed_after_a_stated_one() -> None:
    case = load_case(default_case_file())
    anlotinib = next(m for m in case.medications if m.id == "anlotinib")
    start = anlotinib.bounds.start
    assert start is not None and start.date is None
    assert start.relation == Relation("chemotherapy", "performed.end", "after-end", None)
    xray = next(p for p in case.procedures if p.id == "xray-lumbar")
    assert isinstance(xray.performed, When) and xray.performed.date is None
