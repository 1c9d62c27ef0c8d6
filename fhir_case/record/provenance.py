"""DetectedIssue (a doubtful source value) and the Provenance that ties the record to its source."""

from __future__ import annotations

from fhir_case.casefile import model as m
from fhir_case.record.common import JSON, Record
from fhir_case.record.medications import cycle_key

SEVERITY = {"high": "high", "moderate": "moderate", "low": "low"}


def detected_issue(record: Record, fact: m.Flag) -> JSON:
    resource = record.base("DetectedIssue", fact.id)
    resource["status"] = "final"
    resource["code"] = {"text": "Doubtful or inconsistent value in the source"}
    resource["severity"] = SEVERITY[fact.severity]
    resource["patient"] = record.patient_ref()
    # A cyclic order is laid out by its RequestGroup: a doubt about the order is one about
    # its cycles too, so that neither is exchanged without the flag.
    cycles = {med.id: cycle_key(med) for med in record.case.medications if med.cycle}
    implicated = [
        key
        for fact_id in fact.implicated
        for key in (fact_id, *((cycles[fact_id],) if fact_id in cycles else ()))
    ]
    resource["implicated"] = record.refs(tuple(implicated))
    quotes = " ".join(f"Source: “{quote}”" for quote in fact.quotes)
    resource["detail"] = f"{fact.detail} {quotes}"
    return resource


def provenance(record: Record, targets: list[JSON]) -> JSON:
    case = record.case
    resource: JSON = {"resourceType": "Provenance", "id": record.id_of("record/provenance")}
    resource["target"] = [
        {"reference": f"urn:uuid:{target['id']}", "type": target["resourceType"]}
        for target in targets
    ]
    resource["recorded"] = f"{case.recorded}T00:00:00Z"
    resource["activity"] = {"text": "Transcribed from a published case report"}
    resource["agent"] = [
        {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                        "code": "assembler",
                        "display": "Assembler",
                    }
                ]
            },
            "who": {"display": "fhir-case"},
        }
    ]
    source: JSON = {}
    if case.source.doi:
        source["identifier"] = {"system": "https://doi.org", "value": case.source.doi}
    source["display"] = case.source.citation
    resource["entity"] = [{"role": "source", "what": source}]
    return resource
