"""What every resource builder shares: references between facts, codings, notes and profiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir_case.casefile import model as m
from fhir_case.record.ids import full_url, resource_id

JSON = dict[str, Any]

UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
LATERALITY_EXTENSION = MCODE + "mcode-laterality-qualifier"
LATERALITY = {
    "left": {"system": SNOMED, "code": "7771000", "display": "Left (qualifier value)"},
    "right": {"system": SNOMED, "code": "24028007", "display": "Right (qualifier value)"},
}

# The FHIR resource type each section of a case file becomes.
RESOURCE_TYPES = {
    "organizations": "Organization",
    "patient": "Patient",
    "encounters": "Encounter",
    "conditions": "Condition",
    "tumors": "BodyStructure",
    "procedures": "Procedure",
    "medications": "MedicationRequest",
    "observations": "Observation",
    "reports": "DiagnosticReport",
    "plans": "ServiceRequest",
    "flags": "DetectedIssue",
}


@dataclass(frozen=True)
class Fact:
    resource_type: str
    id: str
    display: str


class Record:
    """The facts of one case by id, so that builders can refer to each other's resources."""

    def __init__(self, case: m.Case) -> None:
        self.case = case
        self.facts: dict[str, Fact] = {}
        self._add("patient", case.patient.id, "Patient")
        for section, items in (
            ("organizations", case.organizations),
            ("encounters", case.encounters),
            ("conditions", case.conditions),
            ("tumors", case.tumors),
            ("procedures", case.procedures),
            ("medications", case.medications),
            ("observations", case.observations),
            ("reports", case.reports),
            ("plans", case.plans),
            ("flags", case.flags),
        ):
            for item in items:
                self._add(section, item.id, _display(item))

    def _add(self, section: str, fact_id: str, display: str) -> None:
        resource_type = RESOURCE_TYPES[section]
        self.facts[fact_id] = Fact(resource_type, self.id_of(fact_id), display)

    def id_of(self, fact_id: str) -> str:
        return resource_id(self.case.id, fact_id)

    def ref(self, fact_id: str) -> JSON:
        fact = self.facts[fact_id]
        return {"reference": full_url(fact.id), "display": fact.display}

    def refs(self, fact_ids: tuple[str, ...]) -> list[JSON]:
        return [self.ref(fact_id) for fact_id in fact_ids]

    def patient_ref(self) -> JSON:
        return self.ref(self.case.patient.id)

    def base(self, resource_type: str, key: str, *profiles: str) -> JSON:
        """A resource skeleton; ``key`` is a fact id, or a derived key that contains a slash."""
        resource: JSON = {"resourceType": resource_type, "id": self.id_of(key)}
        if profiles:
            resource["meta"] = {"profile": list(profiles)}
        return resource


def _display(item: Any) -> str:
    for attribute in ("text", "name", "description"):
        value = getattr(item, attribute, None)
        if value:
            return str(value)
    return str(item.id)


def coding(code: m.CodeRef) -> JSON:
    return {"system": code.system, "code": code.code, "display": code.display}


def concept(codes: tuple[m.CodeRef, ...], text: str | None) -> JSON:
    result: JSON = {}
    if codes:
        result["coding"] = [coding(code) for code in codes]
    if text:
        result["text"] = text
    return result


def hl7_concept(system: str, code: str, display: str) -> JSON:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def laterality(side: str) -> JSON:
    return {"coding": [LATERALITY[side]]}


def site(value: m.Site) -> JSON:
    """A body site; laterality as mCODE's qualifier extension, which fits any bodySite."""
    result = concept(value.codes, value.text)
    if value.laterality:
        extension = {
            "url": LATERALITY_EXTENSION,
            "valueCodeableConcept": laterality(value.laterality),
        }
        result = {"extension": [extension], **result}
    return result


def quantity(value: m.Quantity) -> JSON:
    return {"value": value.value, "unit": value.unit, "system": UCUM, "code": value.unit}


def notes(
    items: tuple[m.Note, ...], quotes: tuple[str, ...], when: m.When | None = None
) -> list[JSON]:
    """Annotations: the fact's notes, how its date was found, and the source quotes."""
    texts = []
    if when is not None and when.how:
        prefix = "Approximate date" if when.approximate else "Date not stated"
        texts.append(f"{prefix}: {when.how}.")
    for note in items:
        texts.append(note.text + "".join(f" Source: “{quote}”" for quote in note.quotes))
    texts.extend(f"Source: “{quote}”" for quote in quotes)
    return [{"text": text} for text in texts]


def timing_repeat(timing: m.Timing, bounds: m.Period | None = None) -> JSON:
    repeat: JSON = {}
    if bounds is not None and (bounds.start or bounds.end):
        repeat["boundsPeriod"] = period(bounds)
    if timing.count is not None:
        repeat["count"] = timing.count
    if timing.duration is not None:
        repeat["duration"] = timing.duration
        repeat["durationUnit"] = timing.duration_unit
    repeat["frequency"] = timing.frequency
    repeat["period"] = timing.period
    repeat["periodUnit"] = timing.period_unit
    return repeat


def period(value: m.Period) -> JSON:
    return {key: date for key, date in (("start", value.start), ("end", value.end)) if date}
