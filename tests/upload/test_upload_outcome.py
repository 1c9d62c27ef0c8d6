"""Pure: OperationOutcome parsing and naming entries in its text."""

from __future__ import annotations

import pytest

from fhir_case.upload.outcome import mentions, parse_outcome, summarize


def test_hapi_codes_are_picked_out_of_the_outcome() -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "processing",
                "diagnostics": "HAPI-0450: Failed to parse request body as JSON resource.",
            },
            {"severity": "warning", "code": "informational", "details": {"text": "a note"}},
        ],
    }
    issues = parse_outcome(outcome)
    assert issues[0].hapi_code == "HAPI-0450" and issues[1].hapi_code is None
    assert issues[1].diagnostics == "a note"
    assert summarize(issues).splitlines() == [
        "  - error (processing): HAPI-0450: Failed to parse request body as JSON resource.",
        "  - warning (informational): a note",
    ]
    assert parse_outcome({"resourceType": "Patient"}) == ()


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("failed to store Patient/1.", True),
        ("failed to store Patient/12", False),
        ("at http://example.org/fhir/Patient/1/_history/2: bad", True),
        ("MyPatient/1 is bad", False),
    ],
)
def test_an_entry_is_named_only_as_a_whole(text: str, found: bool) -> None:
    assert mentions(text, "Patient/1") is found
