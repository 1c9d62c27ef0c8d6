"""The record: a checked case model -> FHIR R4 resources as JSON (:mod:`.models` passes them
through the ``fhir.resources`` R4B models)."""

from __future__ import annotations

from fhir_case.casefile.model import Case
from fhir_case.narrative import narrative_for
from fhir_case.record.common import JSON, Record
from fhir_case.record.conditions import condition, tumor
from fhir_case.record.ids import full_url
from fhir_case.record.medications import cycle_group, cycle_key, cycle_words, medication_request
from fhir_case.record.observations import age, observation
from fhir_case.record.parties import encounter, organization, patient
from fhir_case.record.procedures import care_plan, plan, procedure, report
from fhir_case.record.provenance import detected_issue, provenance

# The elements every resource has before ``text``, in FHIR's order.
RESOURCE_HEAD = ("id", "meta", "implicitRules", "language")


def build_resource_dicts(case: Case) -> list[JSON]:
    """Every resource of the record as FHIR JSON, in a fixed order; the Provenance comes last.
    Every resource but the Provenance carries its business identifier."""
    record = Record(case)
    for item in case.medications:
        if item.cycle is not None:
            record.add(
                cycle_key(item), "RequestGroup", f"{item.text} cycles ({cycle_words(item.cycle)})"
            )
    resources: list[JSON] = [organization(record, org) for org in case.organizations]
    resources.append(patient(record, case.patient))
    resources += [encounter(record, item) for item in case.encounters]
    resources += [condition(record, item) for item in case.conditions]
    resources += [tumor(record, item) for item in case.tumors]
    resources += [procedure(record, item) for item in case.procedures]
    if case.patient.age:
        resources.append(age(record, case.patient, case.patient.age))
    resources += [observation(record, item) for item in case.observations]
    resources += [report(record, item) for item in case.reports]
    for item in case.medications:
        resources.append(medication_request(record, item))
        if item.cycle is not None:
            resources.append(cycle_group(record, item, item.cycle))
    resources += [plan(record, item) for item in case.plans]
    resources += [care_plan(record, item) for item in case.care_plans]
    resources += [detected_issue(record, item) for item in case.flags]
    resources = [record.identified(resource) for resource in resources]
    resources.append(provenance(record, resources))
    # Every resource carries a narrative that states its own content (dom-6, and for people);
    # it names what a reference points to from the target itself (hence the look-up).
    by_url = {full_url(resource["id"]): resource for resource in resources}
    return [with_text(resource, narrative_for(resource, by_url.get)) for resource in resources]


def with_text(resource: JSON, text: JSON) -> JSON:
    """The resource with its narrative where FHIR orders ``text``: after id, meta,
    implicitRules and language (so that the R4B models keep the builder's order)."""
    head = [key for key in ("resourceType", *RESOURCE_HEAD) if key in resource]
    return (
        {key: resource[key] for key in head}
        | {"text": text}
        | {key: value for key, value in resource.items() if key not in head}
    )
