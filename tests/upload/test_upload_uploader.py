"""Pure parts of the uploader: the capability check."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_case.errors import ServerCapabilityError
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
