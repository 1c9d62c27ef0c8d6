"""MedicationRequest with structured dosage, and the RequestGroup that lays out a treatment cycle
(``timing-daysOfCycle``, which R4 defines for RequestGroup actions, not for Timing)."""

from __future__ import annotations

from fhir_case.casefile import model as m
from fhir_case.extensions import DATA_ABSENT_REASON, DAYS_OF_CYCLE
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
CYCLE_KEY = "cycles"


def cycle_key(fact: m.Medication) -> str:
    """The key of the RequestGroup that lays out a medication's cycles."""
    return f"{fact.id}/{CYCLE_KEY}"


def cycle_words(cycle: m.Cycle) -> str:
    """``days 1–14 of each 21-day cycle, then 7 days off``."""
    off_days = cycle.length - (cycle.last_day - cycle.first_day + 1)
    return (
        f"days {cycle.first_day}–{cycle.last_day} of each {cycle.length}-day cycle, "
        f"then {off_days} days off"
    )


def medication_request(record: Record, fact: m.Medication) -> JSON:
    profile = (
        MCODE + "mcode-cancer-related-medication-request"
        if fact.cancer_related
        else US_CORE + "us-core-medicationrequest"
    )
    resource = record.base("MedicationRequest", fact.id, profile)
    extensions = []
    if fact.cancer_related:
        # mCODE's treatment intent is must-support; no source here states one.
        extensions.append(
            {
                "url": MCODE + "mcode-procedure-intent",
                "valueCodeableConcept": {
                    "extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]
                },
            }
        )
    if fact.dose_basis:
        extensions.append(
            {
                "url": MCODE + "mcode-normalization-basis",
                "valueCodeableConcept": {"coding": [coding(DOSE_BASIS[fact.dose_basis])]},
            }
        )
    if extensions:
        resource["extension"] = extensions
    resource["status"] = fact.status
    resource["intent"] = "order"
    resource["medicationCodeableConcept"] = concept(fact.codes, fact.text)
    resource["subject"] = record.patient_ref()
    # US Core and mCODE want a requester; where the source names none, say it is unknown
    # rather than infer one.
    resource["requester"] = (
        record.ref(fact.requester)
        if fact.requester
        else {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]}
    )
    if fact.reasons:
        resource["reasonReference"] = record.refs(fact.reasons)
    plans = [plan.id for plan in record.case.care_plans if fact.id in plan.activities]
    if plans:
        resource["basedOn"] = record.refs(tuple(plans))
    resource["note"] = notes(fact.notes, fact.quotes, fact.bounds)
    resource["dosageInstruction"] = [_dosage(record, fact)]
    if fact.prior:
        resource["priorPrescription"] = record.ref(fact.prior)
    return resource


def _dosage(record: Record, fact: m.Medication) -> JSON:
    dosage: JSON = {"text": fact.instruction}
    if fact.cycle:
        # The order is the per-cycle action, safe to read alone: once daily for the days on,
        # then the days off. The RequestGroup that references it repeats it every cycle and
        # carries the course's bounds.
        days_on = fact.cycle.last_day - fact.cycle.first_day + 1
        words = cycle_words(fact.cycle)
        dosage["additionalInstruction"] = [{"text": words[0].upper() + words[1:]}]
        bounds = {"boundsDuration": quantity(m.Quantity(days_on, "d"))}
        dosage["timing"] = {"repeat": bounds | timing_repeat(None, fact.timing)}
    else:
        dosage["timing"] = {"repeat": timing_repeat(record.period(fact.bounds), fact.timing)}
    if fact.route:
        dosage["route"] = concept((fact.route,), None)
    if fact.dose:
        dosage["doseAndRate"] = [{"doseQuantity": quantity(fact.dose)}]
    elif fact.rate:
        dosage["doseAndRate"] = [{"rateQuantity": quantity(fact.rate)}]
    return dosage


def cycle_group(record: Record, fact: m.Medication, cycle: m.Cycle) -> JSON:
    """The order's cycles: an action timed once every ``length`` days, whose sub-action gives
    the order on days ``first_day``..``last_day`` of each cycle (the extension
    ``timing-daysOfCycle`` counts from the first parent action that has a timing)."""
    resource = record.base("RequestGroup", cycle_key(fact))
    resource["status"] = fact.status
    resource["intent"] = "order"
    resource["subject"] = record.patient_ref()
    if fact.reasons:
        resource["reasonReference"] = record.refs(fact.reasons)
    resource["note"] = notes((), fact.quotes)
    days = range(cycle.first_day, cycle.last_day + 1)
    off_days = cycle.length - cycle.last_day + cycle.first_day - 1
    resource["action"] = [
        {
            "title": f"{cycle.length}-day cycle",
            "description": (
                f"One cycle every {cycle.length} days: {fact.text} on days "
                f"{cycle.first_day} to {cycle.last_day}, then {off_days} days without"
            ),
            "timingTiming": {
                "repeat": timing_repeat(
                    record.period(fact.bounds), m.Timing(1, cycle.length, "d", None, None, None)
                )
            },
            "action": [
                {
                    "extension": [
                        {
                            "extension": [{"url": "day", "valueInteger": day} for day in days],
                            "url": DAYS_OF_CYCLE,
                        }
                    ],
                    "title": f"Days {cycle.first_day} to {cycle.last_day}",
                    "description": fact.instruction,
                    "resource": record.ref(fact.id),
                }
            ],
        }
    ]
    return resource
