"""Pure: reference rewriting."""

from __future__ import annotations

import pytest

from fhir_case.upload.references import map_references, relative

BASE = "https://fhir.example.org/r4"


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (f"{BASE}/Patient/1/_history/3", "Patient/1"),
        (f"{BASE}/Patient/1", "Patient/1"),
        ("Patient/1/_history/3", "Patient/1"),
        (
            "urn:uuid:7d0b1c52-0000-4000-8000-000000000001",
            "urn:uuid:7d0b1c52-0000-4000-8000-000000000001",
        ),
        ("https://other.example.org/fhir/Patient/1", "https://other.example.org/fhir/Patient/1"),
        ("Patient?identifier=a|b", "Patient?identifier=a|b"),
    ],
)
def test_relative(reference: str, expected: str) -> None:
    assert relative(reference, BASE + "/") == expected


def test_map_references_copies_and_changes_only_references() -> None:
    resource = {
        "subject": {"reference": "urn:uuid:p", "display": "urn:uuid:p"},
        "basedOn": [{"reference": "urn:uuid:q"}],
        "note": [{"text": "reference"}],
    }
    changed = map_references(resource, str.upper)
    assert changed == {
        "subject": {"reference": "URN:UUID:P", "display": "urn:uuid:p"},
        "basedOn": [{"reference": "URN:UUID:Q"}],
        "note": [{"text": "reference"}],
    }
    assert resource["subject"]["reference"] == "urn:uuid:p"
