"""Organization, Patient and Encounter."""

from __future__ import annotations

from fhir_case.casefile import model as m
from fhir_case.extensions import DATA_ABSENT_REASON
from fhir_case.record.common import JSON, MCODE, US_CORE, Record

ENCOUNTER_CLASSES = {
    "inpatient": ("IMP", "inpatient encounter"),
    "ambulatory": ("AMB", "ambulatory"),
}


def organization(record: Record, org: m.Organization) -> JSON:
    resource = record.base("Organization", org.id, US_CORE + "us-core-organization")
    resource["active"] = True
    resource["name"] = org.name
    if org.alias:
        resource["alias"] = list(org.alias)
    address = {
        key: value
        for key, value in (("city", org.city), ("state", org.state), ("country", org.country))
        if value
    }
    if address:
        resource["address"] = [address]
    if org.part_of:
        resource["partOf"] = record.ref(org.part_of)
    return resource


def patient(record: Record, person: m.Patient) -> JSON:
    resource = record.base("Patient", person.id, MCODE + "mcode-cancer-patient")
    # A case report withholds the name: say so rather than leave US Core's required name empty.
    resource["name"] = [{"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "masked"}]}]
    resource["gender"] = person.gender
    if person.deceased is not None:
        resource["deceasedBoolean"] = person.deceased
    if person.managing_organization:
        resource["managingOrganization"] = record.ref(person.managing_organization)
    return resource


def encounter(record: Record, visit: m.Encounter) -> JSON:
    resource = record.base("Encounter", visit.id)
    code, display = ENCOUNTER_CLASSES[visit.encounter_class]
    resource["status"] = visit.status
    resource["class"] = {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": code,
        "display": display,
    }
    resource["type"] = [{"text": visit.text}]
    resource["subject"] = record.patient_ref()
    resource["period"] = record.period(visit.period)
    if visit.reasons:
        resource["reasonReference"] = record.refs(visit.reasons)
    if visit.service_provider:
        resource["serviceProvider"] = record.ref(visit.service_provider)
    return resource
