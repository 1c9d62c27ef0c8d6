"""Observation: examination, imaging and pathology findings, histology (ICD-O-3), tumor sizes,
disease status, and statements of the source that fit no observation category."""

from __future__ import annotations

from fhir_case.casefile import model as m
from fhir_case.record.common import (
    JSON,
    MCODE,
    US_CORE,
    Record,
    concept,
    hl7_concept,
    notes,
    quantity,
    site,
)

CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
CATEGORIES = {
    "survey": ("survey", "Survey"),
    "exam": ("exam", "Exam"),
    "imaging": ("imaging", "Imaging"),
    "pathology": ("laboratory", "Laboratory"),
    "histology": ("laboratory", "Laboratory"),
    "laboratory": ("laboratory", "Laboratory"),
}
DATA_ABSENT_CODES = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
PHYSICAL_EXAMINATION = "5880005"
LOINC = "http://loinc.org"
TUMOR_SIZE = m.CodeRef(LOINC, "21889-1", "Size Tumor")
LONGEST_DIMENSION = m.CodeRef(LOINC, "33728-7", "Size.maximum dimension in Tumor")
OTHER_DIMENSION = m.CodeRef(LOINC, "33729-5", "Size additional dimension in Tumor")
DISEASE_STATUS = m.CodeRef(LOINC, "97509-4", "Cancer disease progression")
HISTOLOGY = m.CodeRef(LOINC, "31206-6", "Behavior ICD-O-3 Cancer")
CLINICAL_RESULT = US_CORE + "us-core-observation-clinical-result"
AGE = m.CodeRef(LOINC, "30525-0", "Age")


def age_key(person: m.Patient) -> str:
    return f"{person.id}/age"


def age(record: Record, person: m.Patient, age_: m.Age) -> JSON:
    """The patient's age when stated: the record gives no birth date a source does not give.
    No observation category fits a stated age, so it has none."""
    resource = record.base("Observation", age_key(person))
    resource["status"] = "final"
    resource["code"] = concept((AGE,), "Age")
    resource["subject"] = record.patient_ref()
    resource["effectiveDateTime"] = age_.date
    resource["valueQuantity"] = quantity(m.Quantity(age_.value, "a"))
    resource["note"] = notes((), age_.quotes)
    return resource


def observation(record: Record, fact: m.Observation) -> JSON:
    if fact.kind == "tumor-size":
        resource = record.base("Observation", fact.id, MCODE + "mcode-tumor-size")
        code = concept((TUMOR_SIZE,), fact.text)
    elif fact.kind == "disease-status":
        resource = record.base("Observation", fact.id, MCODE + "mcode-cancer-disease-status")
        code = concept((DISEASE_STATUS,), fact.text)
    elif fact.kind == "histology":
        resource = record.base("Observation", fact.id, MCODE + "mcode-histologic-behavior-and-type")
        code = concept((HISTOLOGY,), fact.text)
    else:
        profiles = () if fact.kind in ("survey", "other") else (CLINICAL_RESULT,)
        resource = record.base("Observation", fact.id, *profiles)
        code = concept(fact.codes, fact.text)
    if fact.kind == "disease-status" and fact.evidence:
        resource["extension"] = [
            {
                "url": MCODE + "mcode-cancer-disease-status-evidence-type",
                "valueCodeableConcept": concept((evidence,), None),
            }
            for evidence in fact.evidence
        ]
    if fact.kind == "histology" and fact.focus:
        resource["extension"] = [
            {"url": MCODE + "mcode-related-condition", "valueReference": record.ref(fact.focus)}
        ]
    if fact.part_of:
        resource["partOf"] = [record.ref(fact.part_of)]
    resource["status"] = "final"
    category = _category(fact)
    if category:
        resource["category"] = [hl7_concept(CATEGORY_SYSTEM, *category)]
    resource["code"] = code
    resource["subject"] = record.patient_ref()
    if fact.focus and fact.kind != "histology":
        resource["focus"] = [record.ref(fact.focus)]
    if fact.encounter:
        resource["encounter"] = record.ref(fact.encounter)
    resource |= record.when("effectiveDateTime", fact.date)
    resource.update(_value(fact.value))
    resource["note"] = notes(fact.notes, fact.quotes, fact.date)
    if fact.body_site:
        resource["bodySite"] = site(fact.body_site)
    if fact.method:
        resource["method"] = concept(fact.method.codes, fact.method.text)
    if fact.derived_from:
        resource["derivedFrom"] = record.refs(fact.derived_from)
    if fact.longest:
        resource["component"] = [_dimension(LONGEST_DIMENSION, fact.longest)] + [
            _dimension(OTHER_DIMENSION, other) for other in fact.other
        ]
    return resource


def _category(fact: m.Observation) -> tuple[str, str] | None:
    if fact.kind == "tumor-size":
        by_palpation = fact.method and any(
            c.code == PHYSICAL_EXAMINATION for c in fact.method.codes
        )
        return CATEGORIES["exam"] if by_palpation else CATEGORIES["imaging"]
    return CATEGORIES.get(fact.kind)


def _value(value: m.ObservationValue | None) -> JSON:
    if value is None:
        return {}
    if value.absent:
        return {
            "dataAbsentReason": {
                "coding": [{"system": DATA_ABSENT_CODES, "code": "unknown", "display": "Unknown"}],
                "text": value.absent,
            }
        }
    if value.quantity:
        return {"valueQuantity": quantity(value.quantity)}
    if value.codes:
        return {"valueCodeableConcept": concept(value.codes, value.text)}
    return {"valueString": value.string or value.text}


def _dimension(code: m.CodeRef, size: m.Quantity) -> JSON:
    return {"code": concept((code,), None), "valueQuantity": quantity(size)}
