"""Pure parts of the uploader: the capability check, and OperationOutcome parsing."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_case.errors import ServerCapabilityError
from fhir_case.upload.outcome import mentions, parse_outcome, summarize
from fhir_case.upload.uploader import check_capability


def statement(version: str = "4.0.1", *codes: str) -> dict[str, Any]:
    interactions = [{"code": c} for c in codes]
    return {
        "resourceType": "CapabilityStatement",
        "fhirVersion": version,
        "software": {"name": "HAPI FHIR Server"},
        "rest": [{"mode": "server", "interaction": interactions}],
    }


def test_r4_server_with_transactions_is_fit() -> None:
    capability = check_capability(statement("4.0.1", "transaction", "batch"))
    assert capability.transaction and capability.batch
    assert capability.software == "HAPI FHIR Server"


@pytest.mark.parametrize("version", ["4.3.0", "5.0.0", "3.0.2", ""])
def test_other_fhir_versions_are_refused(version: str) -> None:
    with pytest.raises(ServerCapabilityError, match=r"fhir-case uploads FHIR R4 \(4\.0\.x\)"):
        check_capability(statement(version, "transaction"))


def test_batch_is_offered_when_transactions_are_missing() -> None:
    with pytest.raises(ServerCapabilityError, match="rerun with --batch"):
        check_capability(statement("4.0.1", "batch"))
    assert check_capability(statement("4.0.1", "batch"), batch=True).batch
    with pytest.raises(ServerCapabilityError, match="nor batch"):
        check_capability(statement("4.0.1"))


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
