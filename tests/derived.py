"""Which dates of a resource the record marks as derived, read straight from the JSON.

An oracle for the tests, written apart from :mod:`fhir_case.narrative.dating` so that a test
does not check the reader with itself: a clinical date (``effective``, ``onset``, ``performed``
as a dateTime) is derived when the resource carries a note saying how it was derived.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

DERIVATION_NOTE = re.compile(r"^(Approximate|Derived|Estimated|Computed) date\b")
CLINICAL_DATES = ("effectiveDateTime", "onsetDateTime", "performedDateTime")


def derived_dates(resource: dict[str, Any]) -> list[str]:
    """The derived dates of a resource, as written (``2023-05-14``)."""
    notes = [n.get("text", "") for n in resource.get("note", []) if isinstance(n, dict)]
    if not any(DERIVATION_NOTE.match(text) for text in notes):
        return []
    return [resource[key][:10] for key in CLINICAL_DATES if isinstance(resource.get(key), str)]


def with_derived_dates(bundle: dict[str, Any]) -> Iterator[tuple[dict[str, Any], list[str]]]:
    for entry in bundle["entry"]:
        dates = derived_dates(entry["resource"])
        if dates:
            yield entry["resource"], dates
