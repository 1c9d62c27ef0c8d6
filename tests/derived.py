"""Which dates of a resource the record marks as derived, read straight from the JSON.

An oracle for the tests, written apart from :mod:`fhir_case.narrative.dating` so that a test
does not check the reader with itself. A date is derived when

- its primitive carries R4's ``cqf-relativeDateTime`` (the record's rule, docs/case-file.md):
  the clinical dates (``effective``, ``onset``, ``performed``, ``occurrence`` as a dateTime,
  and the start and end of a Period there or in ``period``), or
- (the older form) the resource has a note saying how its clinical date was derived.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

RELATIVE_DATE = "http://hl7.org/fhir/StructureDefinition/cqf-relativeDateTime"
DERIVATION_NOTE = re.compile(r"^(Approximate|Derived|Estimated|Computed) date\b")
CLINICAL = re.compile(r"^(effective|onset|performed|occurrence)(DateTime|Period)$|^period$")


def _marked(container: dict[str, Any], key: str) -> bool:
    primitive = container.get("_" + key)
    extensions = primitive.get("extension", []) if isinstance(primitive, dict) else []
    return any(e.get("url") == RELATIVE_DATE for e in extensions if isinstance(e, dict))


def derived_dates(resource: dict[str, Any]) -> list[str]:
    """The derived dates of a resource, as written (``2023-05-14``)."""
    found = []
    notes = [n.get("text", "") for n in resource.get("note", []) if isinstance(n, dict)]
    by_note = any(DERIVATION_NOTE.match(text) for text in notes)
    for key, value in resource.items():
        if not CLINICAL.match(key):
            continue
        if isinstance(value, str) and (by_note or _marked(resource, key)):
            found.append(value[:10])
        elif isinstance(value, dict):
            found += [
                value[end][:10]
                for end in ("start", "end")
                if isinstance(value.get(end), str) and _marked(value, end)
            ]
    return found


def with_derived_dates(bundle: dict[str, Any]) -> Iterator[tuple[dict[str, Any], list[str]]]:
    for entry in bundle["entry"]:
        dates = derived_dates(entry["resource"])
        if dates:
            yield entry["resource"], dates
