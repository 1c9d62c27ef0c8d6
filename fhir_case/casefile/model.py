"""The typed case model: what a case file says, checked, with every reference resolved to an id.

Codes are ``CodeRef`` (system URI, code, display from the register); dates are ``When`` values that
say whether they were stated, derived (approximate) or are unknown.
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
class When:
    """A date as the source gives it: stated (``date``), derived from a stated one, or unknown."""

    date: str | None
    approximate: bool = False
    how: str | None = None

    @property
    def known(self) -> bool:
        return self.date is not None


@dataclass(frozen=True)
class Period:
    start: str | None
    end: str | None


@dataclass(frozen=True)
class Quantity:
    value: float | int
    unit: str


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
    description: str
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Procedure:
    id: str
    codes: tuple[CodeRef, ...]
    text: str
    body_site: Site | None
    performed: When | Period
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
    bounds: Period
    prior: str | None
    instruction: str
    notes: tuple[Note, ...]
    quotes: tuple[str, ...]


ObservationKind = Literal[
    "survey", "exam", "imaging", "pathology", "laboratory", "tumor-size", "disease-status"
]


@dataclass(frozen=True)
class ObservationValue:
    string: str | None = None
    quantity: Quantity | None = None
    codes: tuple[CodeRef, ...] = ()
    text: str | None = None


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
    text: str
    date: str
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
    flags: tuple[Flag, ...] = field(default=())
