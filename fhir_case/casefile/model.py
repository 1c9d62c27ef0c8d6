"""The typed case model: what a case file says, checked, with every reference resolved to an id.

Codes are ``CodeRef`` (system URI, code, display from the register); dates are ``When`` values that
say whether the source states them, they were derived from a stated date of another fact, or the
source does not give them (docs/case-file.md, "Stated, derived, absent").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class CodeRef:
    system: str
    code: str
    display: str


@dataclass(frozen=True)
class Quantity:
    value: float | int
    unit: str


# FHIR's action-relationship-type codes that a date can have to another fact's date.
Relationship = Literal[
    "before",
    "concurrent",
    "after",
    "before-start",
    "before-end",
    "concurrent-with-start",
    "concurrent-with-end",
    "after-start",
    "after-end",
]


@dataclass(frozen=True)
class Relation:
    """How a date follows from a stated date of another fact (R4's ``cqf-relativeDateTime``).

    ``offset`` is the exact distance of a derived date; None for a date the source does not
    give but places (it is then at least zero days away)."""

    target: str
    target_path: str
    relationship: Relationship
    offset: Quantity | None


@dataclass(frozen=True)
class When:
    """A date as the source gives it.

    - stated: ``date`` only;
    - derived: ``date``, the ``relation`` it was computed by, and ``how`` (the note);
    - absent: no ``date``; ``how`` says what is known, and ``relation`` may place it.
    """

    date: str | None
    how: str | None = None
    relation: Relation | None = None

    @property
    def stated(self) -> bool:
        return self.date is not None and self.relation is None

    @property
    def derived(self) -> bool:
        return self.date is not None and self.relation is not None


@dataclass(frozen=True)
class Period:
    start: When | None
    end: When | None


@dataclass(frozen=True)
class Site:
    codes: tuple[CodeRef, ...]
    text: str
    laterality: Literal["left", "right"] | None


@dataclass(frozen=True)
class Note:
    text: str
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Timing:
    frequency: int
    period: float | int
    period_unit: str
    count: int | None
    duration: float | int | None
    duration_unit: str | None


@dataclass(frozen=True)
class Cycle:
    """A treatment cycle: ``length`` days, the drug given on days ``first_day``..``last_day``."""

    length: int
    first_day: int
    last_day: int


@dataclass(frozen=True)
class Source:
    citation: str
    doi: str | None
    url: str | None
    published: str | None
    license: str | None
    text_file: str


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    alias: tuple[str, ...]
    part_of: str | None
    city: str | None
    state: str | None
    country: str | None
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Age:
    value: int
    date: str
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Patient:
    id: str
    gender: str
    age: Age | None
    deceased: bool | None
    managing_organization: str | None
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Encounter:
    id: str
    status: str
    encounter_class: str
    period: Period
    text: str
    reasons: tuple[str, ...]
    service_provider: str | None
    quotes: tuple[str, ...]


ConditionRole = Literal["primary-cancer", "secondary-cancer", "symptom", "problem", "refuted"]


@dataclass(frozen=True)
class Condition:
    id: str
    role: ConditionRole
    codes: tuple[CodeRef, ...]
    text: str
    histology: CodeRef | None
    related_primary: str | None
    body_site: Site | None
    clinical_status: str | None
    verification: str
    onset: When | None
    asserted: str | None
    evidence: tuple[str, ...]
    notes: tuple[Note, ...]
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Tumor:
    id: str
    condition: str
    location: Site
    morphology: tuple[CodeRef, ...]
    description: str
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Procedure:
    id: str
    status: Literal["completed", "not-done"]
    status_reason: str | None
    codes: tuple[CodeRef, ...]
    text: str
    body_site: Site | None
    performed: When | Period | None
    encounter: str | None
    reasons: tuple[str, ...]
    reports: tuple[str, ...]
    notes: tuple[Note, ...]
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Medication:
    id: str
    codes: tuple[CodeRef, ...]
    text: str
    status: str
    cancer_related: bool
    reasons: tuple[str, ...]
    dose: Quantity | None
    rate: Quantity | None
    dose_basis: Literal["body-surface-area", "fixed"] | None
    route: CodeRef | None
    timing: Timing
    cycle: Cycle | None
    bounds: Period
    requester: str | None
    prior: str | None
    instruction: str
    notes: tuple[Note, ...]
    quotes: tuple[str, ...]


ObservationKind = Literal[
    "survey",
    "exam",
    "imaging",
    "pathology",
    "histology",
    "laboratory",
    "tumor-size",
    "disease-status",
    "other",
]


@dataclass(frozen=True)
class ObservationValue:
    string: str | None = None
    quantity: Quantity | None = None
    codes: tuple[CodeRef, ...] = ()
    text: str | None = None
    absent: str | None = None  # why there is no value (a data-absent reason "unknown")


@dataclass(frozen=True)
class Method:
    codes: tuple[CodeRef, ...]
    text: str | None


@dataclass(frozen=True)
class Observation:
    id: str
    kind: ObservationKind
    codes: tuple[CodeRef, ...]
    text: str | None
    date: When
    body_site: Site | None
    value: ObservationValue | None
    focus: str | None
    method: Method | None
    longest: Quantity | None
    other: tuple[Quantity, ...]
    evidence: tuple[CodeRef, ...]
    derived_from: tuple[str, ...]
    encounter: str | None
    part_of: str | None
    notes: tuple[Note, ...]
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    id: str
    category: str
    codes: tuple[CodeRef, ...]
    text: str
    date: When
    results: tuple[str, ...]
    conclusion: str
    conclusion_codes: tuple[CodeRef, ...]
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    id: str
    codes: tuple[CodeRef, ...]
    text: str
    timing: Timing | None
    reasons: tuple[str, ...]
    quotes: tuple[str, ...]
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class CarePlan:
    """A phase of treatment: the orders it holds, why, and what informed it."""

    id: str
    title: str
    description: str | None
    status: str
    period: Period
    addresses: tuple[str, ...]
    activities: tuple[str, ...]
    supporting_info: tuple[str, ...]
    notes: tuple[Note, ...]
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Flag:
    id: str
    severity: str
    implicated: tuple[str, ...]
    detail: str
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    recorded: str
    identifier_system: str | None  # None: the default system of the case id (record/ids.py)
    source: Source
    patient: Patient
    organizations: tuple[Organization, ...] = ()
    encounters: tuple[Encounter, ...] = ()
    conditions: tuple[Condition, ...] = ()
    tumors: tuple[Tumor, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    medications: tuple[Medication, ...] = ()
    observations: tuple[Observation, ...] = ()
    reports: tuple[Report, ...] = ()
    plans: tuple[Plan, ...] = ()
    care_plans: tuple[CarePlan, ...] = ()
    flags: tuple[Flag, ...] = field(default=())
