"""What every resource builder shares: references between facts, identifiers, codings, notes,
and dates written by the one rule for stated, derived and absent values (docs/case-file.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir_case.casefile import model as m
from fhir_case.extensions import DATA_ABSENT_REASON, RELATIVE_DATE
from fhir_case.record.ids import default_identifier_system, full_url, resource_id

JSON = dict[str, Any]

UCUM = "http://unitsofmeasure.org"
# Elements that come before ``identifier`` in every resource type that has one.
_BEFORE_IDENTIFIER = (
    "resourceType",
    "id",
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "extension",
    "modifierExtension",
)
# Resource types of the record without an ``identifier`` element.
_NO_IDENTIFIER = frozenset({"Provenance"})
# Identifier.type where a profile fixes it: mCODE Tumor's bodyStructureIdentifier slice
# (mcode-body-structure-identifier: use "usual", type resource-types#BodyStructure).
IDENTIFIER_TYPES = {
    "BodyStructure": {
        "coding": [
            {
                "system": "http://hl7.org/fhir/resource-types",
                "code": "BodyStructure",
                "display": "BodyStructure",
            }
        ]
    }
}
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
    "care_plans": "CarePlan",
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
        self.identifier_system = case.identifier_system or default_identifier_system(case.id)
        self.facts: dict[str, Fact] = {}
        self.keys: dict[str, str] = {}  # resource id -> the key it was made from
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
            ("care_plans", case.care_plans),
            ("flags", case.flags),
        ):
            for item in items:
                self._add(section, item.id, _display(item))

    def _add(self, section: str, fact_id: str, display: str) -> None:
        self.add(fact_id, RESOURCE_TYPES[section], display)

    def add(self, key: str, resource_type: str, display: str) -> None:
        """Make a resource referable by its key (a fact id, or ``fact/part`` for a resource
        derived from a fact)."""
        self.facts[key] = Fact(resource_type, self.id_of(key), display)

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
        self.keys[resource["id"]] = key
        if profiles:
            resource["meta"] = {"profile": list(profiles)}
        return resource

    def identified(self, resource: JSON) -> JSON:
        """The resource with its business identifier: the key it was made from, under the
        record's identifier system (never the fullUrl, which servers may rewrite), typed
        only where a profile fixes the type."""
        identifier: JSON = {"use": "usual"}
        kind = IDENTIFIER_TYPES.get(resource["resourceType"])
        if kind is not None:
            identifier["type"] = kind
        identifier |= {"system": self.identifier_system, "value": self.keys[resource["id"]]}
        return with_identifier(resource, identifier)

    def when(self, key: str, value: m.When | None) -> JSON:
        """The date element ``key`` (e.g. ``onsetDateTime``) and its primitive extensions.

        Stated: the value. Derived: the value, with ``cqf-relativeDateTime`` saying what it
        was computed from. Absent: no value; ``data-absent-reason`` (unknown), with
        ``cqf-relativeDateTime`` when the source places it after another fact.
        """
        if value is None:
            return {}
        element: JSON = {}
        extensions: list[JSON] = []
        if value.date is not None:
            element[key] = value.date
        else:
            extensions.append({"url": DATA_ABSENT_REASON, "valueCode": "unknown"})
        if value.relation is not None:
            extensions.append(self._relative_date(value.relation))
        if extensions:
            element["_" + key] = {"extension": extensions}
        return element

    def period(self, value: m.Period) -> JSON:
        """A Period. A start or end the source does not give is marked absent on the
        element (``data-absent-reason``): a missing end would read as "ongoing", and a
        missing start would leave an unknown start indistinguishable from an unrecorded one."""
        result: JSON = {}
        for key, when in (("start", value.start), ("end", value.end)):
            result |= self.when(key, when)
        return result

    def _relative_date(self, relation: m.Relation) -> JSON:
        offset: JSON
        if relation.offset is not None:
            offset = {"url": "offset", "valueDuration": quantity(relation.offset)}
        else:  # placed after (or before) the other date, by an unknown number of days
            offset = {"url": "offset", "valueRange": {"low": quantity(m.Quantity(0, "d"))}}
        return {
            "extension": [
                {"url": "target", "valueReference": self.ref(relation.target)},
                {"url": "targetPath", "valueString": relation.target_path},
                {"url": "relationship", "valueCode": relation.relationship},
                offset,
            ],
            "url": RELATIVE_DATE,
        }


def _display(item: Any) -> str:
    for attribute in ("title", "text", "name", "description"):
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


def with_identifier(resource: JSON, identifier: JSON) -> JSON:
    """The resource with ``identifier`` where FHIR orders it (first after the extensions)."""
    if resource["resourceType"] in _NO_IDENTIFIER:
        return resource
    head = [key for key in _BEFORE_IDENTIFIER if key in resource]
    return (
        {key: resource[key] for key in head}
        | {"identifier": [identifier, *resource.get("identifier", ())]}
        | {key: value for key, value in resource.items() if key not in head and key != "identifier"}
    )


def notes(
    items: tuple[m.Note, ...], quotes: tuple[str, ...], *whens: m.When | m.Period | None
) -> list[JSON]:
    """Annotations: how each date was found, the fact's notes, and the source quotes."""
    texts = []
    for when in _dates(whens):
        if when.how and not when.stated:
            prefix = "Approximate date" if when.derived else "Date not stated"
            texts.append(f"{prefix}: {when.how}.")
    for note in items:
        texts.append(note.text + "".join(f" Source: “{quote}”" for quote in note.quotes))
    texts.extend(f"Source: “{quote}”" for quote in quotes)
    return [{"text": text} for text in texts]


def _dates(whens: tuple[m.When | m.Period | None, ...]) -> list[m.When]:
    found: list[m.When] = []
    for when in whens:
        if isinstance(when, m.Period):
            found += [end for end in (when.start, when.end) if end is not None]
        elif when is not None:
            found.append(when)
    return found


def timing_repeat(bounds: JSON | None, timing: m.Timing) -> JSON:
    """Timing.repeat; ``bounds`` is a Period as written by :meth:`Record.period`."""
    repeat: JSON = {}
    if bounds:
        repeat["boundsPeriod"] = bounds
    if timing.count is not None:
        repeat["count"] = timing.count
    if timing.duration is not None:
        repeat["duration"] = timing.duration
        repeat["durationUnit"] = timing.duration_unit
    repeat["frequency"] = timing.frequency
    repeat["period"] = timing.period
    repeat["periodUnit"] = timing.period_unit
    return repeat
