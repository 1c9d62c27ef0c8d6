"""MedicationRequest with structured dosage."""

from __future__ import annotations

from fhir_case.casefile import model as m
from fhir_case.record.common import (
    JSON,
    MCODE,
    SNOMED,
    US_CORE,
    Record,
    coding,
    concept,
    notes,
    quantity,
    timing_repeat,
)

DOSE_BASIS = {
    "body-surface-area": m.CodeRef(SNOMED, "301898006", "Body surface area (observable entity)"),
    "fixed": m.CodeRef(SNOMED, "1157245009", "Fixed dose (qualifier value)"),
}


def medication_request(record: Record, fact: m.Medication) -> JSON:
    profile = (
        MCODE + "mcode-cancer-related-medication-request"
        if fact.cancer_related
        else US_CORE + "us-core-medicationrequest"
    )
    resource = record.base("MedicationRequest", fact.id, profile)
    if fact.dose_basis:
        resource["extension"] = [
            {
                "url": MCODE + "mcode-normalization-basis",
                "valueCodeableConcept": {"coding": [coding(DOSE_BASIS[fact.dose_basis])]},
            }
        ]
    resource["status"] = fact.status
    resource["intent"] = "order"
    resource["medicationCodeableConcept"] = concept(fact.codes, fact.text)
    resource["subject"] = record.patient_ref()
    organization = record.case.patient.managing_organization
    if organization:
        resource["requester"] = record.ref(organization)
    if fact.reasons:
        resource["reasonReference"] = record.refs(fact.reasons)
    resource["note"] = notes(fact.notes, fact.quotes)
    resource["dosageInstruction"] = [_dosage(fact)]
    if fact.prior:
        resource["priorPrescription"] = record.ref(fact.prior)
    return resource


def _dosage(fact: m.Medication) -> JSON:
    dosage: JSON = {
        "text": fact.instruction,
        "timing": {"repeat": timing_repeat(fact.timing, fact.bounds)},
    }
    if fact.route:
        dosage["route"] = concept((fact.route,), None)
    if fact.dose:
        dosage["doseAndRate"] = [{"doseQuantity": quantity(fact.dose)}]
    elif fact.rate:
        dosage["doseAndRate"] = [{"rateQuantity": quantity(fact.rate)}]
    return dosage
