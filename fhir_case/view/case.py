"""What the case view shows, read from the resources of a Bundle only (never from a case file).

Each reader is pure and tolerant: a missing or oddly shaped element leaves its item with what is
known ("not recorded"), it never stops the page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from fhir_case import kinds
from fhir_case.dates import parse_date, resource_date
from fhir_case.narrative import words as w
from fhir_case.view.index import Resource, ResourceIndex
from fhir_case.view.schedule import Schedule, schedule_for

_DOUBT_WORDS = re.compile(
    r"\b(doubt\w*|data quality|inconsisten\w*|implausible|contradict\w*|discrepan\w*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Flag:
    """A data-quality flag on one resource: a DetectedIssue naming it, or a doubtful note."""

    targets: tuple[str, ...]  # the flagged resources, as Type/id
    title: str
    detail: str
    origin: str  # "DetectedIssue" or "note"


@dataclass(frozen=True)
class Header:
    sex: str
    age: str
    presented: str
    citation: str
    doi: str
    organization: str
    vital_status: str


@dataclass(frozen=True)
class PlanItem:
    key: str
    what: str
    when: str
    status: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    key: str
    name: str
    group: str  # "primary", "metastasis" or "other"
    site: str
    clinical: str
    verification: str
    since: str
    notes: tuple[str, ...]

    @property
    def refuted(self) -> bool:
        return self.verification.lower() in ("refuted", "entered-in-error")


@dataclass(frozen=True)
class Event:
    key: str
    lane: str
    label: str
    date: dt.date | None
    when: str  # the date as recorded, or why there is none


@dataclass(frozen=True)
class Medication:
    key: str
    name: str
    dose: str
    route: str
    timing: str
    status: str
    schedule: Schedule
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Measurement:
    key: str
    lesion: str
    date: dt.date | None
    when: str
    longest: str
    longest_mm: float | None
    dimensions: str
    method: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Assessment:
    key: str
    date: dt.date | None
    when: str
    status: str
    focus: str
    notes: tuple[str, ...]


@dataclass
class CaseView:
    header: Header
    problems: list[Problem]
    events: list[Event]
    medications: list[Medication]
    measurements: list[Measurement]
    assessments: list[Assessment]
    flags: list[Flag]
    findings: list[Event] = field(default_factory=list)
    plan: list[PlanItem] = field(default_factory=list)
    bundle_type: str = ""
    resource_count: int = 0

    def flags_for(self, key: str) -> list[Flag]:
        return [f for f in self.flags if key in f.targets]


def notes_of(resource: Resource) -> tuple[str, ...]:
    return tuple(n for n in (w.annotation(a) for a in w.as_list(resource.get("note"))) if n)


def when_text(resource: Resource) -> str:
    """The date of a resource as recorded, or the recorded reason why there is none."""
    found = resource_date(resource)
    if found is not None:
        for prefix in ("effective", "performed", "onset", "occurrence"):
            suffix, value = w.choice(resource, prefix)
            if suffix in ("DateTime", "Period", "Date"):
                return w.typed_value(suffix, value)
        return found.isoformat()
    for prefix in ("effective", "performed", "onset"):
        suffix, value = w.choice(resource, prefix)
        if suffix:
            return w.typed_value(suffix, value) or "date not recorded"
    return "date not recorded"


def read_case(index: ResourceIndex) -> CaseView:
    record_end = _record_end(index)
    return CaseView(
        header=read_header(index),
        problems=read_problems(index),
        events=read_events(index),
        medications=[
            read_medication(r, index.key(r), record_end) for r in index.of_type("MedicationRequest")
        ],
        measurements=read_measurements(index),
        assessments=read_assessments(index),
        flags=read_flags(index),
        findings=read_findings(index),
        plan=read_plan(index),
        bundle_type=index.bundle_type,
        resource_count=len(index.resources),
    )


def _record_end(index: ResourceIndex) -> dt.date | None:
    """The last date of the patient's course: where an open-ended treatment is drawn to."""
    dates = [
        resource_date(r)
        for r in index.resources
        if r.get("resourceType") not in kinds.RECORD_META_TYPES
    ]
    known = [d for d in dates if d is not None]
    return max(known) if known else None


def read_header(index: ResourceIndex) -> Header:
    patient = index.first("Patient") or {}
    encounters = sorted(
        (d, r) for r in index.of_type("Encounter") if (d := resource_date(r)) is not None
    )
    presented = encounters[0][0] if encounters else None
    age = ""
    for observation in index.of_type("Observation"):
        if kinds.is_age(observation):
            value = w.as_dict(observation.get("valueQuantity"))
            amount = value.get("value")
            unit = w.scalar(value.get("code")) or w.scalar(value.get("unit"))
            age = w.duration(amount, unit) if unit in w.TIME_UNITS else w.quantity(value)
            presented = presented or resource_date(observation)
            break
    birth = parse_date(patient.get("birthDate"))
    if not age and birth is not None and presented is not None:
        years = (
            presented.year
            - birth.year
            - ((presented.month, presented.day) < (birth.month, birth.day))
        )
        age = f"{years} years"
    citation, doi = _citation(index)
    organization = index.resolve(patient.get("managingOrganization")) or index.first("Organization")
    return Header(
        sex=w.scalar(patient.get("gender")) or "not recorded",
        age=age or "not recorded",
        presented=presented.isoformat() if presented else "",
        citation=citation,
        doi=doi,
        organization=w.scalar((organization or {}).get("name")),
        vital_status=_vital_status(patient),
    )


def _vital_status(patient: Resource) -> str:
    suffix, value = w.choice(patient, "deceased")
    if suffix == "Boolean":
        return "deceased" if value is True else "alive (as last recorded)"
    if suffix == "DateTime":
        return f"deceased {w.date(value)}"
    return "not recorded"


def read_plan(index: ResourceIndex) -> list[PlanItem]:
    """What is planned: ServiceRequests and CarePlans (and planned MedicationRequests)."""
    items = []
    for resource in index.of_type("ServiceRequest", "CarePlan"):
        items.append(
            PlanItem(
                key=index.key(resource),
                what=w.concept(resource.get("code"))
                or w.scalar(resource.get("title"))
                or w.scalar(resource.get("description"))
                or resource.get("resourceType", ""),
                when=w.choice_words(resource, "occurrence")
                or w.period(resource.get("period"))
                or "not recorded",
                status=w.scalar(resource.get("status")) or "not recorded",
                notes=notes_of(resource),
            )
        )
    return items


def _citation(index: ResourceIndex) -> tuple[str, str]:
    for provenance in index.of_type("Provenance"):
        for entity in map(w.as_dict, w.as_list(provenance.get("entity"))):
            what = w.as_dict(entity.get("what"))
            ident = w.as_dict(what.get("identifier"))
            doi = w.scalar(ident.get("value")) if "doi" in w.scalar(ident.get("system")) else ""
            text = w.scalar(what.get("display"))
            if text or doi:
                return text, doi
    for composition in index.of_type("Composition"):
        for relation in map(w.as_dict, w.as_list(composition.get("relatesTo"))):
            target = w.as_dict(relation.get("targetReference"))
            if w.scalar(target.get("display")):
                return w.scalar(target.get("display")), ""
        if w.scalar(composition.get("title")):
            return w.scalar(composition.get("title")), ""
    return "", ""


def read_problems(index: ResourceIndex) -> list[Problem]:
    problems = []
    for condition in index.of_type("Condition"):
        name = w.concept(condition.get("code")) or "unnamed condition"
        group = kinds.condition_group(condition)
        problems.append(
            Problem(
                key=index.key(condition),
                name=name,
                group=group,
                site=w.concepts(condition.get("bodySite")) or "site not recorded",
                clinical=w.concept(condition.get("clinicalStatus")),
                verification=w.concept(condition.get("verificationStatus"))
                or "verification not recorded",
                since=w.choice_words(condition, "onset") or w.date(condition.get("recordedDate")),
                notes=notes_of(condition),
            )
        )
    order = {"primary": 0, "metastasis": 1, "other": 2}
    return sorted(problems, key=lambda p: (order[p.group], p.refuted))


LANES = {"biopsy": "Biopsies", "imaging": "Imaging", "procedure": "Procedures"}


def read_events(index: ResourceIndex) -> list[Event]:
    encounters = sorted(index.of_type("Encounter"), key=lambda r: resource_date(r) or dt.date.max)
    events = [
        Event(
            index.key(r),
            "Presentation",
            "Presentation" if i == 0 else w.concepts(r.get("type")) or "Encounter",
            resource_date(r),
            when_text(r),
        )
        for i, r in enumerate(encounters)
    ]
    for procedure in index.of_type("Procedure"):
        lane = LANES.get(kinds.procedure_kind(procedure), "")
        if lane:  # chemotherapy is drawn from its MedicationRequests, cycle by cycle
            events.append(
                Event(
                    index.key(procedure),
                    lane,
                    w.concept(procedure.get("code")) or "Procedure",
                    resource_date(procedure),
                    when_text(procedure),
                )
            )
    for report in index.of_type("DiagnosticReport", "ImagingStudy"):
        if kinds.is_imaging_report(report):
            events.append(
                Event(
                    index.key(report),
                    "Imaging",
                    w.concept(report.get("code")) or w.scalar(report.get("description")),
                    resource_date(report),
                    when_text(report),
                )
            )
    for assessment in read_assessments(index):
        events.append(
            Event(
                assessment.key,
                "Disease status",
                assessment.status,
                assessment.date,
                assessment.when,
            )
        )
    for size in read_measurements(index):
        label = f"{size.lesion}: {size.longest}"
        events.append(Event(size.key, "Tumor size", label, size.date, size.when))
    return events


def read_assessments(index: ResourceIndex) -> list[Assessment]:
    found = []
    for observation in index.of_type("Observation"):
        if kinds.is_disease_status(observation):
            focus = index.resolve_all(observation.get("focus"))
            found.append(
                Assessment(
                    key=index.key(observation),
                    date=resource_date(observation),
                    when=when_text(observation),
                    status=w.choice_words(observation, "value")
                    or w.concept(observation.get("dataAbsentReason"))
                    or "status not recorded",
                    focus=w.joined(w.concept(f.get("code")) for f in focus),
                    notes=notes_of(observation),
                )
            )
    return sorted(found, key=lambda a: (a.date is None, a.date or dt.date.min))


def _millimetres(quantity: object) -> float | None:
    data = w.as_dict(quantity)
    value = data.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    factor = {"mm": 1.0, "cm": 10.0, "m": 1000.0}.get(w.scalar(data.get("code")))
    return None if factor is None else value * factor


def _lesion(index: ResourceIndex, observation: Resource) -> str:
    for target in index.resolve_all(observation.get("focus")):
        location = w.concept(target.get("location")) or w.concept(target.get("code"))
        if location or target.get("description"):
            return location or w.scalar(target.get("description"))
    return w.concept(observation.get("bodySite")) or "lesion not recorded"


def read_measurements(index: ResourceIndex) -> list[Measurement]:
    found = []
    for observation in index.of_type("Observation"):
        if not kinds.is_tumor_size(observation):
            continue
        longest: object = observation.get("valueQuantity")
        others = []
        for component in map(w.as_dict, w.as_list(observation.get("component"))):
            if kinds.codes(component.get("code"), kinds.LOINC) & kinds.LONGEST_DIMENSION_CODES:
                longest = component.get("valueQuantity")
            else:
                others.append(w.choice_words(component, "value"))
        found.append(
            Measurement(
                key=index.key(observation),
                lesion=_lesion(index, observation),
                date=resource_date(observation),
                when=when_text(observation),
                longest=w.quantity(longest) or "not recorded",
                longest_mm=_millimetres(longest),
                dimensions=" \N{MULTIPLICATION SIGN} ".join(
                    q for q in [w.quantity(longest), *others] if q
                ),
                method=w.concept(observation.get("method")),
                notes=notes_of(observation),
            )
        )
    return sorted(found, key=lambda m: (m.lesion, m.date is None, m.date or dt.date.min))


def read_findings(index: ResourceIndex) -> list[Event]:
    """Imaging and other findings with a text value: the follow-up story between measurements."""
    found = []
    for observation in index.of_type("Observation"):
        if kinds.is_imaging_observation(observation) and not kinds.is_tumor_size(observation):
            found.append(
                Event(
                    index.key(observation),
                    "Finding",
                    w.joined(
                        (w.concept(observation.get("code")), w.choice_words(observation, "value")),
                        ": ",
                    ),
                    resource_date(observation),
                    when_text(observation),
                )
            )
    return sorted(found, key=lambda e: (e.date is None, e.date or dt.date.min))


def read_medication(request: Resource, key: str, record_end: dt.date | None) -> Medication:
    dosage = w.as_dict(next(iter(w.as_list(request.get("dosageInstruction"))), None))
    medication = w.concept(request.get("medicationCodeableConcept")) or w.reference(
        request.get("medicationReference")
    )
    return Medication(
        key=key,
        name=medication or "unspecified medication",
        dose=w.joined((w.dose_and_rate(d) for d in w.as_list(dosage.get("doseAndRate"))), " or ")
        or "not recorded",
        route=w.concept(dosage.get("route")) or "not recorded",
        timing=w.timing(dosage.get("timing")) or w.scalar(dosage.get("text")) or "not recorded",
        status=w.scalar(request.get("status")) or "not recorded",
        schedule=schedule_for(request, record_end),
        notes=notes_of(request),
    )


def read_flags(index: ResourceIndex) -> list[Flag]:
    flags = []
    for issue in index.of_type("DetectedIssue"):
        title = w.concept(issue.get("code")) or "Detected issue"
        detail = w.scalar(issue.get("detail")) or title
        targets = index.resolve_all(issue.get("implicated")) or [issue]
        flags.append(Flag(tuple(index.key(t) for t in targets), title, detail, "DetectedIssue"))
    flagged = {target for flag in flags for target in flag.targets}
    for resource in index.resources:
        if index.key(resource) in flagged:
            continue  # a DetectedIssue already says it; its notes only point there
        for note in notes_of(resource):
            if _DOUBT_WORDS.search(note):
                flags.append(Flag((index.key(resource),), "Doubtful value (note)", note, "note"))
    return flags
