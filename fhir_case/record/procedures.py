"""Procedure (biopsies, imaging, chemotherapy), DiagnosticReport and ServiceRequest (the plan)."""

from __future__ import annotations

from fhir_case.casefile import model as m
from fhir_case.record.common import (
    JSON,
    US_CORE,
    Record,
    concept,
    notes,
    period,
    site,
    timing_repeat,
)

REPORT_CATEGORIES = {"LAB": "Laboratory", "RAD": "Radiology"}


def procedure(record: Record, fact: m.Procedure) -> JSON:
    resource = record.base("Procedure", fact.id, US_CORE + "us-core-procedure")
    resource["status"] = "completed"
    resource["code"] = concept(fact.codes, fact.text)
    resource["subject"] = record.patient_ref()
    if fact.encounter:
        resource["encounter"] = record.ref(fact.encounter)
    when = None
    if isinstance(fact.performed, m.Period):
        resource["performedPeriod"] = period(fact.performed)
    elif fact.performed.date:
        resource["performedDateTime"] = fact.performed.date
        when = fact.performed
    else:
        # US Core requires a performed[x] for a completed procedure; the source gives no date.
        resource["performedString"] = fact.performed.how or "date not stated"
    if fact.reasons:
        resource["reasonReference"] = record.refs(fact.reasons)
    if fact.body_site:
        resource["bodySite"] = [site(fact.body_site)]
    if fact.reports:
        resource["report"] = record.refs(fact.reports)
    resource["note"] = notes(fact.notes, fact.quotes, when)
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
    resource["code"] = {"text": fact.text}
    resource["subject"] = record.patient_ref()
    resource["effectiveDateTime"] = fact.date
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
        resource["occurrenceTiming"] = {"repeat": timing_repeat(fact.timing)}
    if fact.reasons:
        resource["reasonReference"] = record.refs(fact.reasons)
    resource["note"] = notes((), fact.quotes)
    return resource
