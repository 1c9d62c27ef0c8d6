"""A patient's record read back from a FHIR server, as one collection Bundle for the case view.

``Patient/<id>/$everything`` (all pages) when the server supports it; otherwise one search per
resource type of the patient compartment (each followed page by page). Either way, resources
that the record references but the answer left out (an Organization, a BodyStructure) are then
read one by one, so the view sees the same record it would see from the bundle file. All HTTP
goes through :class:`fhir_case.upload.client.FhirClient`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fhir_case.errors import (
    RequestRejectedError,
    ResourceNotFoundError,
    ServerFaultError,
)
from fhir_case.narrative import words as w
from fhir_case.upload.client import FhirClient
from fhir_case.upload.prepare import is_id, is_resource_type

# Types searched when $everything is not available, with the parameter naming the patient.
COMPARTMENT_SEARCHES = (
    ("Encounter", "patient"),
    ("Condition", "patient"),
    ("Procedure", "patient"),
    ("MedicationRequest", "patient"),
    ("Observation", "patient"),
    ("DiagnosticReport", "patient"),
    ("BodyStructure", "patient"),
    ("ServiceRequest", "patient"),
    ("CarePlan", "patient"),
    ("DetectedIssue", "patient"),
    ("Provenance", "patient"),
)
MAX_REFERENCE_ROUNDS = 5


@dataclass(frozen=True)
class FetchedRecord:
    bundle: dict[str, Any]
    method: str  # "$everything" or "searches"
    requests: int
    at: str  # when the record was read, UTC, to the second (ISO 8601)

    def how(self, patient_id: str) -> str:
        """How the record was read, for the page's footer."""
        way = (
            f"Patient/{patient_id}/$everything"
            if self.method == "$everything"
            else f"Patient/{patient_id} and one search per resource type"
        )
        return f"{way} and the referenced resources, {self.requests} requests"


def fetch_patient_record(client: FhirClient, patient_id: str) -> FetchedRecord:
    """Everything the server holds about one patient, as a collection Bundle."""
    before = client.request_count
    at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    try:
        patient = client.read("Patient", patient_id)
    except ResourceNotFoundError:
        raise ResourceNotFoundError(
            f"Patient/{patient_id} is not on {client.settings.display_url}; upload the case "
            "first (`fhir-case upload --server ...`) or give the id of a Patient on that server"
        ) from None
    try:
        resources = [patient, *client.everything(patient_id)]
        method = "$everything"
    except (RequestRejectedError, ResourceNotFoundError, ServerFaultError):
        resources = [patient, *_compartment(client, patient_id)]
        method = "searches"
    record = _unique(resources)
    _add_referenced(client, record)
    base = client.base_url
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"{base}/{key}", "resource": resource} for key, resource in record.items()
        ],
    }
    return FetchedRecord(bundle, method, client.request_count - before, at)


def _compartment(client: FhirClient, patient_id: str) -> Iterable[dict[str, Any]]:
    for resource_type, parameter in COMPARTMENT_SEARCHES:
        try:
            yield from client.search(resource_type, {parameter: f"Patient/{patient_id}"})
        except RequestRejectedError:
            continue  # the server does not support this type or parameter: nothing to show


def _key(resource: dict[str, Any]) -> str:
    return f"{w.scalar(resource.get('resourceType'))}/{w.scalar(resource.get('id'))}"


def _unique(resources: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    record: dict[str, dict[str, Any]] = {}
    for resource in resources:
        record.setdefault(_key(resource), resource)
    return record


def _relative_references(value: object) -> Iterable[str]:
    """``Type/id`` references in a resource (absolute URLs on this server reduced to that)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str) and not item.startswith("#"):
                parts = item.split("/_history/")[0].rstrip("/").split("/")
                # Only a type and an id: nothing from the server may change a request's URL.
                if len(parts) >= 2 and is_resource_type(parts[-2]) and is_id(parts[-1]):
                    yield f"{parts[-2]}/{parts[-1]}"
            else:
                yield from _relative_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _relative_references(item)


def _add_referenced(client: FhirClient, record: dict[str, dict[str, Any]]) -> None:
    """Read each referenced resource that is missing, until none is (or a few rounds passed)."""
    unreadable: set[str] = set()  # the view then shows such a reference as it is
    for _ in range(MAX_REFERENCE_ROUNDS):
        referenced = {ref for r in record.values() for ref in _relative_references(r)}
        missing = sorted(referenced - set(record) - unreadable)
        if not missing:
            return
        for key in missing:
            resource_type, resource_id = key.split("/", 1)
            try:
                record[key] = client.read(resource_type, resource_id)
            except (ResourceNotFoundError, RequestRejectedError):
                unreadable.add(key)
