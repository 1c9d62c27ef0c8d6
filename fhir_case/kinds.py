"""What kind of clinical item a resource is, read from its claimed profiles and its codes.

Shared by the document builder (which section) and the case view (which list or lane). The
codes are those of the project's code register; a resource without them is classified by its
mCODE profile, then by its words, and otherwise falls in the general group.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fhir_case.narrative import words as w

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"

AGE_CODES = frozenset({"30525-0"})
DISEASE_STATUS_CODES = frozenset({"97509-4", "88040-1"})
TUMOR_SIZE_CODES = frozenset({"21889-1"})
LONGEST_DIMENSION_CODES = frozenset({"33728-7"})
METASTASIS_CODES = frozenset({"94222008", "94391008", "128462008"})
BIOPSY_CODES = frozenset({"86273004", "277591006"})
IMAGING_CODES = frozenset(
    {"77477000", "113091000", "16310003", "363680008", "68796002", "363679005"}
)
CHEMOTHERAPY_CODES = frozenset({"367336001"})
IMAGING_REPORT_CATEGORIES = frozenset({"RAD", "imaging"})
_IMAGING_WORDS = re.compile(
    r"\b(CT|MRI|X-ray|radiograph|ultraso\w*|tomograph\w*|scan|imaging)\b", re.IGNORECASE
)

Resource = Mapping[str, Any]

# Resources about the record rather than the patient's course: their dates are not care dates.
RECORD_META_TYPES = frozenset({"Provenance", "DetectedIssue", "Composition", "AuditEvent"})


def codes(concept: object, system: str | None = None) -> set[str]:
    """The codes of a CodeableConcept, optionally only those of one system."""
    return {
        w.scalar(c.get("code"))
        for c in map(w.as_dict, w.as_list(w.as_dict(concept).get("coding")))
        if system is None or w.scalar(c.get("system")) == system
    }


def category_codes(resource: Resource) -> set[str]:
    return set().union(*(codes(c) for c in w.as_list(resource.get("category"))))


def profiles(resource: Resource) -> str:
    """The profiles a resource claims, as one string to search in."""
    claimed = w.as_list(w.as_dict(resource.get("meta")).get("profile"))
    return " ".join(w.scalar(p) for p in claimed)


def condition_group(condition: Resource) -> str:
    """``primary``, ``metastasis`` or ``other``."""
    claimed = profiles(condition)
    if "secondary-cancer-condition" in claimed or codes(condition.get("code")) & METASTASIS_CODES:
        return "metastasis"
    return "primary" if "primary-cancer-condition" in claimed else "other"


def procedure_kind(procedure: Resource) -> str:
    """``chemotherapy``, ``biopsy``, ``imaging`` or ``procedure``."""
    code = codes(procedure.get("code"), SNOMED)
    text = w.concept(procedure.get("code"))
    if code & CHEMOTHERAPY_CODES:
        return "chemotherapy"
    if code & BIOPSY_CODES or "biops" in text.lower():
        return "biopsy"
    if code & IMAGING_CODES or _IMAGING_WORDS.search(text):
        return "imaging"
    return "procedure"


def is_imaging_report(report: Resource) -> bool:
    return report.get("resourceType") == "ImagingStudy" or bool(
        category_codes(report) & IMAGING_REPORT_CATEGORIES
    )


def is_imaging_observation(observation: Resource) -> bool:
    return "imaging" in category_codes(observation)


def is_disease_status(observation: Resource) -> bool:
    return bool(codes(observation.get("code"), LOINC) & DISEASE_STATUS_CODES) or (
        "cancer-disease-status" in profiles(observation)
    )


def is_tumor_size(observation: Resource) -> bool:
    return bool(codes(observation.get("code"), LOINC) & TUMOR_SIZE_CODES) or (
        "tumor-size" in profiles(observation)
    )


def is_age(observation: Resource) -> bool:
    return bool(codes(observation.get("code"), LOINC) & AGE_CODES)
