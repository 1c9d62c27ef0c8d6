"""Condition (cancers, symptoms, refuted diagnoses) and BodyStructure (one per tumor)."""

from __future__ import annotations

from fhir_case.casefile import model as m
from fhir_case.record.common import (
    JSON,
    MCODE,
    US_CORE,
    Record,
    coding,
    concept,
    hl7_concept,
    laterality,
    notes,
    site,
)

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
PROFILES = {
    "primary-cancer": MCODE + "mcode-primary-cancer-condition",
    "secondary-cancer": MCODE + "mcode-secondary-cancer-condition",
    "symptom": US_CORE + "us-core-condition-problems-health-concerns",
    "problem": US_CORE + "us-core-condition-problems-health-concerns",
}


def condition(record: Record, fact: m.Condition) -> JSON:
    profile = PROFILES.get(fact.role)
    resource = record.base("Condition", fact.id, *([profile] if profile else []))
    extensions = _extensions(record, fact)
    if extensions:
        resource["extension"] = extensions
    if fact.clinical_status:
        resource["clinicalStatus"] = hl7_concept(
            CLINICAL, fact.clinical_status, fact.clinical_status.capitalize()
        )
    resource["verificationStatus"] = hl7_concept(
        VERIFICATION, fact.verification, fact.verification.capitalize()
    )
    # A refuted diagnosis was weighed and ruled out: it is no item of the problem list, and
    # with no encounter it is no encounter diagnosis either, so it has no category.
    if fact.role != "refuted":
        resource["category"] = [hl7_concept(CATEGORY, "problem-list-item", "Problem List Item")]
    resource["code"] = concept(fact.codes, fact.text)
    if fact.body_site:
        resource["bodySite"] = [site(fact.body_site)]
    resource["subject"] = record.patient_ref()
    resource |= record.when("onsetDateTime", fact.onset)
    if fact.evidence:
        resource["evidence"] = [{"detail": record.refs(fact.evidence)}]
    resource["note"] = notes(fact.notes, fact.quotes, fact.onset)
    return resource


def _extensions(record: Record, fact: m.Condition) -> list[JSON]:
    extensions: list[JSON] = []
    if fact.asserted:
        extensions.append(
            {
                "url": "http://hl7.org/fhir/StructureDefinition/condition-assertedDate",
                "valueDateTime": fact.asserted,
            }
        )
    if fact.histology:
        extensions.append(
            {
                "url": MCODE + "mcode-histology-morphology-behavior",
                "valueCodeableConcept": {"coding": [coding(fact.histology)]},
            }
        )
    if fact.related_primary:
        extensions.append(
            {
                "url": "http://hl7.org/fhir/StructureDefinition/condition-related",
                "valueReference": record.ref(fact.related_primary),
            }
        )
    return extensions


def tumor(record: Record, fact: m.Tumor) -> JSON:
    resource = record.base("BodyStructure", fact.id, MCODE + "mcode-tumor")
    resource["extension"] = [
        {
            "url": MCODE + "mcode-related-condition",
            "valueReference": record.ref(fact.condition),
        }
    ]
    if fact.morphology:
        resource["morphology"] = concept(fact.morphology, None)
    resource["location"] = concept(fact.location.codes, fact.location.text)
    if fact.location.laterality:
        resource["locationQualifier"] = [laterality(fact.location.laterality)]
    resource["description"] = fact.description
    resource["patient"] = record.patient_ref()
    return resource
