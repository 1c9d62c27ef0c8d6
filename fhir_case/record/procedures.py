"""Procedure (examinations, imaging, biopsies, chemotherapy, and procedures not done),
DiagnosticReport, ServiceRequest (a planned service) and CarePlan (a phase of treatment)."""

from __future__ import annotations

from fhir_case.casefile import model as m
from fhir_case.record.common import (
    JSON,
    US_CORE,
    Record,
    concept,
    notes,
    site,
    timing_repeat,
)
from fhir_case.record.medications import cycle_key

REPORT_CATEGORIES = {"LAB": "Laboratory", "RAD": "Radiology"}


def procedure(record: Record, fact: m.Procedure) -> JSON:
    resource = record.base("Procedure", fact.id, US_CORE + "us-core-procedure")
    resource["status"] = fact.status
    if fact.status_reason:
        resource["statusReason"] = {"text": fact.status_reason}
    resource["code"] = concept(fact.codes, fact.text)
    resource["subject"] = record.patient_ref()
    if fact.encounter:
        resource["encounter"] = record.ref(fact.encounter)
    if isinstance(fact.performed, m.Period):
        performed = record.period(fact.performed)
        if performed:
            resource["performedPeriod"] = performed
    else:
        resource |= record.when("performedDateTime", fact.performed)
    if fact.reasons:
        resource["reasonReference"] = record.refs(fact.reasons)
    if fact.body_site:
        resource["bodySite"] = [site(fact.body_site)]
    if fact.reports:
        resource["report"] = record.refs(fact.reports)
    resource["note"] = notes(fact.notes, fact.quotes, fact.performed)
    return resource


def report(record: Record, fact: m.Report) -> JSON:
    resource = record.base("DiagnosticReport", fact.id)
    resource["status"] = "final"
    resource["category"] = [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                    "code": fact.category,
                    "display": REPORT_CATEGORIES[fact.category],
                }
            ]
        }
    ]
    resource["code"] = concept(fact.codes, fact.text)
    resource["subject"] = record.patient_ref()
    resource |= record.when("effectiveDateTime", fact.date)
    resource["result"] = record.refs(fact.results)
    resource["conclusion"] = fact.conclusion
    if fact.conclusion_codes:
        resource["conclusionCode"] = [concept(fact.conclusion_codes, None)]
    return resource


def plan(record: Record, fact: m.Plan) -> JSON:
    resource = record.base("ServiceRequest", fact.id)
    resource["status"] = "active"
    resource["intent"] = "plan"
    resource["code"] = concept(fact.codes, fact.text)
    resource["subject"] = record.patient_ref()
    if fact.timing:
        resource["occurrenceTiming"] = {"repeat": timing_repeat(None, fact.timing)}
    if fact.reasons:
        resource["reasonReference"] = record.refs(fact.reasons)
    resource["note"] = notes(fact.notes, fact.quotes)
    return resource


def care_plan(record: Record, fact: m.CarePlan) -> JSON:
    """A phase of treatment. Its orders are its activities (a cyclic order through the
    RequestGroup that lays out its cycles); each order is ``basedOn`` the plan."""
    resource = record.base("CarePlan", fact.id)
    resource["status"] = fact.status
    resource["intent"] = "plan"
    resource["title"] = fact.title
    if fact.description:
        resource["description"] = fact.description
    resource["subject"] = record.patient_ref()
    period = record.period(fact.period)
    if period:
        resource["period"] = period
    if fact.addresses:
        resource["addresses"] = record.refs(fact.addresses)
    if fact.supporting_info:
        resource["supportingInfo"] = record.refs(fact.supporting_info)
    cyclic = {
        medication.id: cycle_key(medication)
        for medication in record.case.medications
        if medication.cycle is not None
    }
    resource["activity"] = [
        {"reference": record.ref(cyclic.get(activity, activity))} for activity in fact.activities
    ]
    resource["note"] = notes(fact.notes, fact.quotes, fact.period)
    return resource
