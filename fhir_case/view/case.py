"""What the case view shows, read from the resources of a Bundle only (never from a case file).

Each reader is pure and tolerant: a missing or oddly shaped element leaves its item with what is
known ("not recorded"), it never stops the page. Every list comes in a fixed clinical order
(by date, then by kind of item, then by name), so the page is the same whatever order a server
returns the resources in. Every date is shown as the record knows it: stated, derived ("about
2023-10-18") or not stated (:mod:`fhir_case.narrative.dating`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from fhir_case import kinds
from fhir_case.dates import resource_date
from fhir_case.narrative import words as w
from fhir_case.narrative.dating import (
    NOT_RECORDED,
    Dating,
    Resolve,
    action_when,
    dating,
    parse_date,
    period_words,
    relation,
)
from fhir_case.narrative.generate import (
    QUOTE_PREFIX,
    component_values,
    item_name,
    observation_value,
)
from fhir_case.view.index import Resource, ResourceIndex
from fhir_case.view.schedule import Schedule, schedule_for

_DOUBT_WORDS = re.compile(
    r"\b(doubt\w*|data quality|inconsisten\w*|implausible|contradict\w*|discrepan\w*)",
    re.IGNORECASE,
)
_SAYS_NO_DATE = re.compile(r"date not stated\.?", re.IGNORECASE)
SEVERITY_ORDER = {"high": 0, "moderate": 1, "low": 2}
LAST = dt.date.max  # where an item without a date sorts


@dataclass(frozen=True)
class Origin:
    """Where the page's record came from: a bundle file, or a FHIR server."""

    source: str  # the file's name, or the server's base URL
    fetched: str = ""  # on a server: how it was read ("Patient/ID/$everything, 3 requests")
    at: str = ""  # on a server: when it was read (UTC, ISO 8601)

    @property
    def from_server(self) -> bool:
        return bool(self.fetched)


@dataclass(frozen=True)
class Notes:
    """A resource's annotations: what a clinician should read, and the source quotations."""

    clinical: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.clinical or self.quotes)


@dataclass(frozen=True)
class Flag:
    """A data-quality flag on one resource: a DetectedIssue naming it, or a doubtful note."""

    targets: tuple[str, ...]  # the flagged resources, as Type/id
    title: str
    detail: str
    origin: str  # "DetectedIssue" or "note"
    severity: str = ""


@dataclass(frozen=True)
class Header:
    sex: str
    age: str
    presented: str
    citation: str
    doi: str
    organization: str
    vital_status: str
    patient_key: str = ""  # the Patient as Type/id on its source
    identifiers: tuple[str, ...] = ()  # the record's business identifiers, as "value (system)"


@dataclass(frozen=True)
class PlanItem:
    key: str
    what: str
    when: str
    status: str
    notes: Notes


@dataclass(frozen=True)
class Problem:
    key: str
    name: str
    group: str  # "primary", "metastasis" or "other"
    site: str
    clinical: str
    verification: str
    since: Dating
    notes: Notes

    @property
    def refuted(self) -> bool:
        return self.verification.lower() in ("refuted", "entered-in-error")


@dataclass(frozen=True)
class Event:
    key: str
    lane: str
    label: str
    when: Dating
    notes: Notes = Notes()

    @property
    def date(self) -> dt.date | None:
        return self.when.start


@dataclass(frozen=True)
class Medication:
    key: str
    name: str
    dose: str
    route: str
    timing: str
    status: str
    schedule: Schedule
    notes: Notes


@dataclass(frozen=True)
class Measurement:
    key: str
    lesion: str
    when: Dating
    longest: str
    longest_mm: float | None
    dimensions: str
    method: str
    method_kind: str  # "palpation", "ultrasound", "CT", "MRI", "X-ray" or the method's words
    notes: Notes

    @property
    def date(self) -> dt.date | None:
        return self.when.start


@dataclass(frozen=True)
class Assessment:
    key: str
    when: Dating
    status: str
    focus: str
    notes: Notes

    @property
    def date(self) -> dt.date | None:
        return self.when.start


@dataclass(frozen=True)
class Course:
    """A treatment plan (CarePlan) as a span of time, with the orders it holds."""

    key: str
    title: str
    when: Dating  # the plan's period as the record knows it
    start: dt.date | None  # its start, or the date it follows; None: not known at all
    start_stated: bool  # the start is a date of its own (not only "after …")
    end: dt.date | None
    status: str
    members: tuple[str, ...]  # the MedicationRequests it holds, as Type/id
    member_names: tuple[str, ...]


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
    courses: list[Course] = field(default_factory=list)
    bundle_type: str = ""
    resource_count: int = 0
    names: dict[str, str] = field(default_factory=dict)  # how the page names each resource

    def flags_for(self, key: str) -> list[Flag]:
        return [f for f in self.flags if key in f.targets]

    def flag_number(self, flag: Flag) -> int:
        return self.flags.index(flag) + 1

    def name_of(self, key: str) -> str:
        return self.names.get(key, "an item of the record")


def notes_of(resource: Resource) -> Notes:
    """The annotations, source quotations apart (they are shown folded)."""
    clinical, quotes = [], []
    for text in (w.annotation(a) for a in w.as_list(resource.get("note"))):
        if text.startswith(QUOTE_PREFIX):
            quotes.append(text[len(QUOTE_PREFIX) :])
        elif text and not _SAYS_NO_DATE.fullmatch(text):  # the date column says it already
            clinical.append(text)
    return Notes(tuple(clinical), tuple(quotes))


def read_case(index: ResourceIndex) -> CaseView:
    record_end = _record_end(index)
    cycles = cycles_by_order(index)
    courses = read_courses(index)
    plan_order = {key: n for n, course in enumerate(courses) for key in course.members}
    medications = sorted(
        (
            read_medication(
                r, index.key(r), record_end, index.resolve, cycles.get(index.key(r), "")
            )
            for r in index.of_type("MedicationRequest")
        ),
        key=lambda m: (
            m.schedule.start or LAST,
            plan_order.get(m.key, len(courses)),
            m.name.lower(),
            m.key,
        ),
    )
    case = CaseView(
        header=read_header(index),
        problems=read_problems(index),
        events=read_events(index),
        medications=medications,
        measurements=read_measurements(index),
        assessments=read_assessments(index),
        flags=read_flags(index),
        findings=read_findings(index),
        plan=read_plan(index),
        courses=courses,
        bundle_type=index.bundle_type,
        resource_count=len(index.resources),
    )
    case.names = _names(case, index)
    return case


def _names(case: CaseView, index: ResourceIndex) -> dict[str, str]:
    """How the page names each resource: as the item it shows it as, else by its code."""
    names = {index.key(r): item_name(r) for r in index.resources if item_name(r)}
    names |= {p.key: p.name for p in case.problems}
    names |= {m.key: m.name for m in case.medications}
    names |= {e.key: e.label for e in [*case.events, *case.findings]}
    names |= {m.key: f"{m.lesion}: {m.dimensions} ({m.method_kind})" for m in case.measurements}
    names |= {p.key: p.what for p in case.plan}
    return names


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
        (d, index.key(r)) for r in index.of_type("Encounter") if (d := resource_date(r))
    )
    presented = encounters[0][0] if encounters else None
    age = ""
    for observation in index.of_type("Observation"):
        if kinds.is_age(observation):
            age = w.quantity(observation.get("valueQuantity"))
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
        vital_status=_vital_status(patient, index),
        patient_key=index.key(patient) if patient else "",
        identifiers=tuple(_identifier(i) for i in w.as_list(patient.get("identifier"))),
    )


def _identifier(value: object) -> str:
    """A business identifier in full (the header shows the record's own, UUID or not)."""
    data = w.as_dict(value)
    number, system = w.scalar(data.get("value")), w.scalar(data.get("system"))
    return f"{number} ({system})" if number and system else number


def _vital_status(patient: Resource, index: ResourceIndex) -> str:
    """Patient.deceased[x]; without it, an observation that says the patient was alive (a
    case report states that only as of its writing, not as a current fact)."""
    suffix, value = w.choice(patient, "deceased")
    if suffix == "Boolean":
        return "deceased" if value is True else "alive (as last recorded)"
    if suffix == "DateTime":
        return f"deceased {w.date(value)}"
    for observation in index.of_type("Observation"):
        name = w.concept(observation.get("code"))
        if "alive" in name.lower():
            amount = w.quantity(observation.get("valueQuantity"))
            return f"not recorded as a current fact; the record states: {name}" + (
                f" ({amount})" if amount else ""
            )
    return "not recorded"


def read_plan(index: ResourceIndex) -> list[PlanItem]:
    """What is planned: ServiceRequests and CarePlans."""
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
                or dating(resource, "period", resolve=index.resolve).words,
                status=w.scalar(resource.get("status")) or "not recorded",
                notes=notes_of(resource),
            )
        )
    # treatment plans first (in the order they ran), then the rest by name
    plans = {c.key: n for n, c in enumerate(read_courses(index))}
    return sorted(items, key=lambda p: (plans.get(p.key, len(plans)), p.what.lower(), p.key))


def _period_bound(period: object, key: str, resolve: Resolve) -> tuple[dt.date | None, bool]:
    """A Period's start or end: (its date, or the date it is said to follow; whether it is a
    date of its own)."""
    data = w.as_dict(period)
    own = parse_date(data.get(key))
    if own is not None:
        return own, True
    near = relation(data.get(f"_{key}"), resolve)
    return (near.anchor if near else None), False


def _orders_in(index: ResourceIndex, plan: Resource) -> list[Resource]:
    """The MedicationRequests a CarePlan holds: its activities (through a RequestGroup too)
    and the orders based on it."""
    found: list[Resource] = []
    todo = [w.as_dict(a).get("reference") for a in w.as_list(plan.get("activity"))]
    while todo:
        target = index.resolve(todo.pop(0))
        if target is None:
            continue
        if target.get("resourceType") == "MedicationRequest":
            found.append(target)
        elif target.get("resourceType") == "RequestGroup":
            todo += [a.get("resource") for a, _ in w.flat_actions(target.get("action"))]
    key = index.key(plan)
    for request in index.of_type("MedicationRequest"):
        based_on = [index.resolve(b) for b in w.as_list(request.get("basedOn"))]
        if any(b is not None and index.key(b) == key for b in based_on):
            found.append(request)
    unique = {index.key(r): r for r in found}
    return [unique[k] for k in sorted(unique)]


def read_courses(index: ResourceIndex) -> list[Course]:
    """The treatment plans (CarePlans with a period or orders), as spans of time."""
    courses = []
    for plan in index.of_type("CarePlan"):
        orders = _orders_in(index, plan)
        if not orders and "period" not in plan and "_period" not in plan:
            continue
        period = plan.get("period")
        start, start_stated = _period_bound(period, "start", index.resolve)
        end, _ = _period_bound(period, "end", index.resolve)
        names = sorted(
            {w.concept(o.get("medicationCodeableConcept")).split(" (")[0] for o in orders},
            key=str.lower,
        )
        courses.append(
            Course(
                key=index.key(plan),
                title=w.scalar(plan.get("title"))
                or w.scalar(plan.get("description"))
                or "Care plan",
                when=dating(plan, "period", resolve=index.resolve),
                start=start,
                start_stated=start_stated,
                end=end,
                status=w.scalar(plan.get("status")),
                members=tuple(index.key(o) for o in orders),
                member_names=tuple(n for n in names if n),
            )
        )
    return sorted(courses, key=lambda c: (c.end or LAST, c.start or dt.date.min, c.title, c.key))


def _citation(index: ResourceIndex) -> tuple[str, str]:
    for provenance in sorted(index.of_type("Provenance"), key=index.key):
        for entity in map(w.as_dict, w.as_list(provenance.get("entity"))):
            what = w.as_dict(entity.get("what"))
            ident = w.as_dict(what.get("identifier"))
            doi = w.scalar(ident.get("value")) if "doi" in w.scalar(ident.get("system")) else ""
            text = w.scalar(what.get("display"))
            if text or doi:
                return text, doi
    for composition in index.of_type("Composition"):
        for related in map(w.as_dict, w.as_list(composition.get("relatesTo"))):
            target = w.as_dict(related.get("targetReference"))
            if w.scalar(target.get("display")):
                return w.scalar(target.get("display")), ""
        if w.scalar(composition.get("title")):
            return w.scalar(composition.get("title")), ""
    return "", ""


GROUP_ORDER = {"primary": 0, "metastasis": 1, "other": 2}


def read_problems(index: ResourceIndex) -> list[Problem]:
    problems = []
    for condition in index.of_type("Condition"):
        since = dating(condition, "onset", resolve=index.resolve)
        if since is NOT_RECORDED and condition.get("recordedDate"):
            since = dating(condition, "recordedDate", resolve=index.resolve)
        problems.append(
            Problem(
                key=index.key(condition),
                name=w.concept(condition.get("code")) or "unnamed condition",
                group=kinds.condition_group(condition),
                site=w.concepts(condition.get("bodySite")) or "site not recorded",
                clinical=w.concept(condition.get("clinicalStatus")),
                verification=w.concept(condition.get("verificationStatus"))
                or "verification not recorded",
                since=since,
                notes=notes_of(condition),
            )
        )
    return sorted(
        problems,
        key=lambda p: (GROUP_ORDER[p.group], p.refuted, p.since.start or LAST, p.name, p.key),
    )


LANES = {"biopsy": "Biopsies", "imaging": "Imaging", "procedure": "Procedures"}
# Items of one date in the order a clinician tells them: presentation, examination, imaging,
# biopsy, other procedures, treatment, then what was found.
LANE_ORDER = ("Presentation", "Imaging", "Biopsies", "Procedures", "Tumor size", "Disease status")


def clinical_order(event: Event) -> tuple[dt.date, int, str, str]:
    lane = LANE_ORDER.index(event.lane) if event.lane in LANE_ORDER else len(LANE_ORDER)
    if event.lane.startswith("Tumor size"):
        lane = LANE_ORDER.index("Tumor size")
    return (event.date or LAST, lane, event.label.lower(), event.key)


def read_events(index: ResourceIndex) -> list[Event]:
    encounters = sorted(
        index.of_type("Encounter"), key=lambda r: (resource_date(r) or LAST, index.key(r))
    )
    events = [
        Event(
            index.key(r),
            "Presentation",
            "Presentation" if i == 0 else w.concepts(r.get("type")) or "Encounter",
            dating(r, resolve=index.resolve),
        )
        for i, r in enumerate(encounters)
    ]
    for procedure in index.of_type("Procedure"):
        lane = LANES.get(kinds.procedure_kind(procedure), "")
        if lane:  # chemotherapy is drawn from its MedicationRequests, cycle by cycle
            label = w.concept(procedure.get("code")) or "Procedure"
            when = dating(procedure, resolve=index.resolve)
            if w.scalar(procedure.get("status")) == "not-done":
                label += " (not done)"
                reason = w.concept(procedure.get("statusReason"))
                when = Dating("not done, so no date", "absent", reason, None)
            events.append(Event(index.key(procedure), lane, label, when))
    for report in index.of_type("DiagnosticReport", "ImagingStudy"):
        if kinds.is_imaging_report(report):
            label = w.concept(report.get("code")) or w.scalar(report.get("description"))
            events.append(
                Event(index.key(report), "Imaging", label, dating(report, resolve=index.resolve))
            )
    for assessment in read_assessments(index):
        events.append(Event(assessment.key, "Disease status", assessment.status, assessment.when))
    for size in read_measurements(index):
        label = f"{size.lesion}: {size.dimensions}"
        events.append(Event(size.key, f"Tumor size, {size.method_kind}", label, size.when))
    return sorted(events, key=clinical_order)


def read_assessments(index: ResourceIndex) -> list[Assessment]:
    found = []
    for observation in index.of_type("Observation"):
        if kinds.is_disease_status(observation):
            focus = index.resolve_all(observation.get("focus"))
            found.append(
                Assessment(
                    key=index.key(observation),
                    when=dating(observation, resolve=index.resolve),
                    status=w.choice_words(observation, "value")
                    or w.concept(observation.get("dataAbsentReason"))
                    or "status not recorded",
                    focus=w.joined(w.concept(f.get("code")) for f in focus),
                    notes=notes_of(observation),
                )
            )
    return sorted(found, key=lambda a: (a.date or LAST, a.status, a.key))


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


# How a size was measured, in a word: sizes by different methods are not one series.
METHOD_KINDS = (
    ("palpation", re.compile(r"palpat|physical exam", re.IGNORECASE), {"5880005", "113011001"}),
    ("ultrasound", re.compile(r"ultraso|sonograph|echo", re.IGNORECASE), {"16310003"}),
    ("CT", re.compile(r"\bCT\b|tomograph", re.IGNORECASE), {"77477000"}),
    ("MRI", re.compile(r"\bMRI\b|magnetic resonance", re.IGNORECASE), {"113091000"}),
    ("X-ray", re.compile(r"x-ray|radiograph", re.IGNORECASE), {"363680008", "168537006"}),
)


def method_kind(method: object) -> str:
    codes = kinds.codes(method)
    words = w.concept(method)
    for name, pattern, known in METHOD_KINDS:
        if codes & known or pattern.search(words):
            return name
    return words or "method not recorded"


def read_measurements(index: ResourceIndex) -> list[Measurement]:
    found = []
    for observation in index.of_type("Observation"):
        if not kinds.is_tumor_size(observation):
            continue
        longest: object = observation.get("valueQuantity")
        for component in map(w.as_dict, w.as_list(observation.get("component"))):
            if kinds.codes(component.get("code"), kinds.LOINC) & kinds.LONGEST_DIMENSION_CODES:
                longest = component.get("valueQuantity")
        found.append(
            Measurement(
                key=index.key(observation),
                lesion=_lesion(index, observation),
                when=dating(observation, resolve=index.resolve),
                longest=w.quantity(longest) or "not recorded",
                longest_mm=_millimetres(longest),
                dimensions=w.quantity(observation.get("valueQuantity"))
                or component_values(observation)
                or observation_value(observation)
                or "not recorded",
                method=w.concept(observation.get("method")),
                method_kind=method_kind(observation.get("method")),
                notes=notes_of(observation),
            )
        )
    return sorted(found, key=lambda m: (m.lesion, m.date or LAST, m.method_kind, m.key))


# The groups of findings, in the order the page shows them (by the observation's category).
FINDING_GROUPS = (
    ("exam", "Examination"),
    ("imaging", "Imaging"),
    ("laboratory", "Pathology and laboratory"),
    ("", "History and other observations"),
)


def read_findings(index: ResourceIndex) -> list[Event]:
    """Every observation the page shows nowhere else (sizes, disease status and the age have
    their own places), grouped by category: examination, imaging, pathology, other."""
    found = []
    for observation in index.of_type("Observation"):
        if (
            kinds.is_tumor_size(observation)
            or kinds.is_disease_status(observation)
            or kinds.is_age(observation)
        ):
            continue
        categories = kinds.category_codes(observation)
        group = next(name for code, name in FINDING_GROUPS if not code or code in categories)
        value = w.choice_words(observation, "value") or w.concept(
            observation.get("dataAbsentReason")
        )
        label = w.joined((w.concept(observation.get("code")), value), ": ")
        found.append(
            Event(
                index.key(observation),
                group,
                label,
                dating(observation, resolve=index.resolve),
                notes_of(observation),
            )
        )
    order = [name for _, name in FINDING_GROUPS]
    return sorted(found, key=lambda e: (order.index(e.lane), *clinical_order(e)))


def read_medication(
    request: Resource,
    key: str,
    record_end: dt.date | None,
    resolve: Resolve | None = None,
    cycle: str = "",
) -> Medication:
    """A medication order, its schedule in a prescription's words: its rhythm, the cycle a
    RequestGroup gives it ("on days 1–14 of each 21-day cycle"), and its bounds as the record
    knows them ("start not stated; after 2023-10-18")."""
    dosage = w.as_dict(next(iter(w.as_list(request.get("dosageInstruction"))), None))
    timing = w.as_dict(dosage.get("timing"))
    repeat = w.as_dict(timing.get("repeat"))
    # the cycle, when a RequestGroup gives one, says the days on and the course's bounds
    said = {"boundsPeriod", "boundsDuration"} if cycle else {"boundsPeriod"}
    rhythm = w.timing({**timing, "repeat": {k: v for k, v in repeat.items() if k not in said}})
    bounds = period_words(repeat.get("boundsPeriod"), resolve, open_end="")[0]
    medication = w.concept(request.get("medicationCodeableConcept")) or w.reference(
        request.get("medicationReference")
    )
    return Medication(
        key=key,
        name=medication or "unspecified medication",
        dose=w.joined((w.dose_and_rate(d) for d in w.as_list(dosage.get("doseAndRate"))), " or ")
        or "not recorded",
        route=w.route(dosage.get("route")) or "not recorded",
        timing=w.joined((w.joined((rhythm, cycle), " "), bounds))
        or w.scalar(dosage.get("text"))
        or "not recorded",
        status=w.scalar(request.get("status")) or "not recorded",
        schedule=schedule_for(request, record_end),
        notes=notes_of(request),
    )


def cycles_by_order(index: ResourceIndex) -> dict[str, str]:
    """The cycle each order follows, from the RequestGroup actions that name it, with the
    course's bounds where the cycle carries them (an order that is one cycle's dosing)."""
    cycles: dict[str, str] = {}
    for group in sorted(index.of_type("RequestGroup"), key=index.key):
        for action, timing in w.flat_actions(group.get("action")):
            target = index.resolve(action.get("resource"))
            words = action_when(action, timing, index.resolve)
            if target is not None and words:
                cycles[index.key(target)] = words
    return cycles


def read_flags(index: ResourceIndex) -> list[Flag]:
    flags = []
    for issue in index.of_type("DetectedIssue"):
        title = w.concept(issue.get("code")) or "Detected issue"
        detail = w.scalar(issue.get("detail")) or title
        targets = index.resolve_all(issue.get("implicated")) or [issue]
        flags.append(
            Flag(
                tuple(sorted(index.key(t) for t in targets)),
                title,
                detail,
                "DetectedIssue",
                w.scalar(issue.get("severity")),
            )
        )
    flagged = {target for flag in flags for target in flag.targets}
    for resource in index.resources:
        if index.key(resource) in flagged:
            continue  # a DetectedIssue already says it; its notes only point there
        for note in notes_of(resource).clinical:
            if _DOUBT_WORDS.search(note):
                flags.append(Flag((index.key(resource),), "Doubtful value (note)", note, "note"))
    return sorted(flags, key=_flag_order)


def _flag_order(flag: Flag) -> tuple[int, str, str, Sequence[str]]:
    return (SEVERITY_ORDER.get(flag.severity, 3), flag.detail, flag.title, flag.targets)
