"""Generated narratives: a resource's content stated in plain words, as FHIR-conformant XHTML.

Each resource type has a summary function that picks its clinically relevant elements; any other
type gets a generic summary of its top-level elements. The output depends only on the resource,
so the same resource always gives the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from fhir_case.extensions import DAYS_OF_CYCLE
from fhir_case.narrative import words as w
from fhir_case.narrative.xhtml import XHTML_NS, el

Facts = list[tuple[str, str]]


@dataclass(frozen=True)
class Summary:
    """What a narrative says: a title, one headline sentence, then labelled facts."""

    title: str
    headline: str
    facts: Facts = field(default_factory=list)


def narrative_for(resource: object) -> dict[str, str]:
    """The ``text`` element for a resource: ``{"status": "generated", "div": "<div …>"}``."""
    return {"status": "generated", "div": render(summary_for(resource))}


def summary_for(resource: object) -> Summary:
    """What the narrative of a resource says, before it is written as XHTML."""
    data = w.as_dict(resource)
    return SUMMARIES.get(w.scalar(data.get("resourceType")), generic_summary)(data)


def render(summary: Summary) -> str:
    headline: list[str] = [el("b", summary.title)]
    if summary.headline:
        headline.append(": " + summary.headline)
    rows = [el("tr", el("th", label), el("td", value)) for label, value in summary.facts if value]
    table = el("table", el("tbody", rows)) if rows else None
    return el("div", el("p", headline), table, attrs=[("xmlns", XHTML_NS)])


def notes(resource: w.JsonDict) -> Facts:
    return [("Note", w.annotation(n)) for n in w.as_list(resource.get("note"))]


def status_facts(resource: w.JsonDict, *keys: str) -> Facts:
    return [(_label(key), w.scalar(resource.get(key))) for key in keys]


def patient_summary(resource: w.JsonDict) -> Summary:
    names = [w.human_name(n) for n in w.as_list(resource.get("name"))]
    gender = w.scalar(resource.get("gender"))
    birth = w.date(resource.get("birthDate"))
    deceased = w.choice_words(resource, "deceased")
    headline = w.joined(
        (names[0] if names and names[0] else "unnamed", gender, f"born {birth}" if birth else "")
    )
    return Summary(
        "Patient",
        headline,
        [("Identifier", w.identifier(i)) for i in w.as_list(resource.get("identifier"))]
        + [
            ("Gender", gender),
            ("Birth date", birth),
            ("Deceased", deceased),
            ("Address", w.joined(w.address(a) for a in w.as_list(resource.get("address")))),
            ("Managing organization", w.reference(resource.get("managingOrganization"))),
            ("General practitioner", w.references(resource.get("generalPractitioner"))),
        ],
    )


def condition_summary(resource: w.JsonDict) -> Summary:
    code = w.concept(resource.get("code"), with_codes=True) or "condition of unknown type"
    sites = w.concepts(resource.get("bodySite"))
    verification = w.concept(resource.get("verificationStatus"))
    headline = w.joined((code, f"at {sites}" if sites else "", verification))
    evidence = [
        w.joined((w.concepts(e.get("code")), w.references(e.get("detail"))), ": ")
        for e in map(w.as_dict, w.as_list(resource.get("evidence")))
    ]
    stages = [w.concept(w.as_dict(s).get("summary")) for s in w.as_list(resource.get("stage"))]
    return Summary(
        "Condition",
        headline,
        [
            ("Clinical status", w.concept(resource.get("clinicalStatus"))),
            ("Verification status", verification),
            ("Category", w.concepts(resource.get("category"))),
            ("Severity", w.concept(resource.get("severity"))),
            ("Body site", w.concepts(resource.get("bodySite"), with_codes=True)),
            ("Onset", w.choice_words(resource, "onset")),
            ("Abatement", w.choice_words(resource, "abatement")),
            ("Recorded", w.date(resource.get("recordedDate"))),
            ("Stage", w.joined(stages, "; ")),
            ("Evidence", w.joined(evidence, "; ")),
            *notes(resource),
        ],
    )


def observation_value(resource: w.JsonDict) -> str:
    value = w.choice_words(resource, "value")
    if value:
        return value
    absent = w.concept(resource.get("dataAbsentReason"))
    return f"no value ({absent})" if absent else ""


def observation_summary(resource: w.JsonDict) -> Summary:
    code = w.concept(resource.get("code"), with_codes=True) or "observation"
    value = observation_value(resource)
    components: Facts = []
    for component in map(w.as_dict, w.as_list(resource.get("component"))):
        components.append(
            (w.concept(component.get("code")) or "Component", observation_value(component))
        )
    return Summary(
        "Observation",
        w.joined((code, value), ": "),
        [
            *status_facts(resource, "status"),
            ("Category", w.concepts(resource.get("category"))),
            ("Value", value),
            *components,
            ("When", w.choice_words(resource, "effective")),
            ("Issued", w.date(resource.get("issued"))),
            ("Body site", w.concept(resource.get("bodySite"), with_codes=True)),
            ("Method", w.concept(resource.get("method"))),
            ("Interpretation", w.concepts(resource.get("interpretation"))),
            ("Focus", w.references(resource.get("focus"))),
            ("Derived from", w.references(resource.get("derivedFrom"))),
            ("Has member", w.references(resource.get("hasMember"))),
            ("Performer", w.references(resource.get("performer"))),
            *notes(resource),
        ],
    )


def medication(resource: w.JsonDict) -> str:
    """The drug: its code, or the code of the contained Medication a ``#id`` reference names."""
    coded = w.concept(resource.get("medicationCodeableConcept"), with_codes=True)
    reference = w.as_dict(resource.get("medicationReference"))
    target = w.scalar(reference.get("reference"))
    if coded or not target.startswith("#"):
        return coded or w.reference(reference)
    for contained in map(w.as_dict, w.as_list(resource.get("contained"))):
        if "#" + w.scalar(contained.get("id")) == target:
            return w.concept(contained.get("code"), with_codes=True) or w.reference(reference)
    return w.reference(reference)


def medication_request_summary(resource: w.JsonDict) -> Summary:
    drug = medication(resource) or "unspecified medication"
    dosages = [w.dosage(d) for d in w.as_list(resource.get("dosageInstruction"))]
    dispense = w.as_dict(resource.get("dispenseRequest"))
    repeats = dispense.get("numberOfRepeatsAllowed")
    return Summary(
        "Prescription",
        w.joined((drug, dosages[0] if dosages else ""), ": "),
        [
            *status_facts(resource, "status", "intent"),
            ("Medication", drug),
            *(("Dosage", d) for d in dosages),
            ("Category", w.concepts(resource.get("category"))),
            ("Reason", w.concepts(resource.get("reasonCode"))),
            ("Reason (reference)", w.references(resource.get("reasonReference"))),
            ("Based on", w.references(resource.get("basedOn"))),
            ("Course of therapy", w.concept(resource.get("courseOfTherapyType"))),
            ("Authored on", w.date(resource.get("authoredOn"))),
            ("Requester", w.reference(resource.get("requester"))),
            ("Repeats allowed", w.scalar(repeats) if isinstance(repeats, int) else ""),
            ("Dispense quantity", w.quantity(dispense.get("quantity"))),
            ("Supply duration", w.quantity(dispense.get("expectedSupplyDuration"))),
            ("Validity", w.period(dispense.get("validityPeriod"))),
            *notes(resource),
        ],
    )


def procedure_summary(resource: w.JsonDict) -> Summary:
    code = w.concept(resource.get("code"), with_codes=True) or "procedure"
    performed = w.choice_words(resource, "performed")
    return Summary(
        "Procedure",
        w.joined((code, performed)),
        [
            *status_facts(resource, "status"),
            ("Status reason", w.concept(resource.get("statusReason"))),
            ("Category", w.concept(resource.get("category"))),
            ("Performed", performed),
            ("Body site", w.concepts(resource.get("bodySite"), with_codes=True)),
            ("Reason", w.concepts(resource.get("reasonCode"))),
            ("Reason (reference)", w.references(resource.get("reasonReference"))),
            ("Outcome", w.concept(resource.get("outcome"))),
            ("Report", w.references(resource.get("report"))),
            ("Location", w.reference(resource.get("location"))),
            *notes(resource),
        ],
    )


def encounter_summary(resource: w.JsonDict) -> Summary:
    kind = w.joined((w.coding(resource.get("class")), w.concepts(resource.get("type"))))
    when = w.period(resource.get("period"))
    return Summary(
        "Encounter",
        w.joined((kind or "encounter", when)),
        [
            *status_facts(resource, "status"),
            ("Class", w.coding(resource.get("class"))),
            ("Type", w.concepts(resource.get("type"))),
            ("Period", when),
            ("Reason", w.concepts(resource.get("reasonCode"))),
            ("Reason (reference)", w.references(resource.get("reasonReference"))),
            ("Service provider", w.reference(resource.get("serviceProvider"))),
        ],
    )


def organization_summary(resource: w.JsonDict) -> Summary:
    return Summary(
        "Organization",
        w.scalar(resource.get("name")),
        [("Identifier", w.identifier(i)) for i in w.as_list(resource.get("identifier"))]
        + [
            ("Type", w.concepts(resource.get("type"))),
            ("Address", w.joined(w.address(a) for a in w.as_list(resource.get("address")))),
            ("Part of", w.reference(resource.get("partOf"))),
        ],
    )


def body_structure_summary(resource: w.JsonDict) -> Summary:
    location = w.joined(
        (w.concepts(resource.get("locationQualifier")), w.concept(resource.get("location"))), " "
    )
    return Summary(
        "Body structure",
        w.scalar(resource.get("description")) or location,
        [("Identifier", w.identifier(i)) for i in w.as_list(resource.get("identifier"))]
        + [
            ("Morphology", w.concept(resource.get("morphology"), with_codes=True)),
            ("Location", w.concept(resource.get("location"), with_codes=True)),
            ("Location qualifier", w.concepts(resource.get("locationQualifier"))),
            ("Active", w.scalar(resource.get("active"))),
        ],
    )


def diagnostic_report_summary(resource: w.JsonDict) -> Summary:
    code = w.concept(resource.get("code"), with_codes=True) or "report"
    conclusion = w.scalar(resource.get("conclusion"))
    return Summary(
        "Report",
        w.joined((code, conclusion), ": "),
        [
            *status_facts(resource, "status"),
            ("Category", w.concepts(resource.get("category"))),
            ("When", w.choice_words(resource, "effective")),
            ("Issued", w.date(resource.get("issued"))),
            ("Conclusion", conclusion),
            ("Conclusion code", w.concepts(resource.get("conclusionCode"))),
            ("Results", w.references(resource.get("result"))),
            ("Imaging studies", w.references(resource.get("imagingStudy"))),
            ("Performer", w.references(resource.get("performer"))),
        ],
    )


def detected_issue_summary(resource: w.JsonDict) -> Summary:
    code = w.concept(resource.get("code"))
    detail = w.scalar(resource.get("detail"))
    evidence = [
        w.joined((w.concepts(e.get("code")), w.references(e.get("detail"))), ": ")
        for e in map(w.as_dict, w.as_list(resource.get("evidence")))
    ]
    mitigations = [
        w.joined((w.concept(m.get("action")), w.date(m.get("date"))))
        for m in map(w.as_dict, w.as_list(resource.get("mitigation")))
    ]
    return Summary(
        "Detected issue",
        w.joined((code, detail), ": ") or "issue",
        [
            *status_facts(resource, "status", "severity"),
            ("Identified", w.choice_words(resource, "identified")),
            ("Implicated", w.references(resource.get("implicated"))),
            ("Evidence", w.joined(evidence, "; ")),
            ("Mitigation", w.joined(mitigations, "; ")),
            ("Reference", w.scalar(resource.get("reference"))),
        ],
    )


def provenance_summary(resource: w.JsonDict) -> Summary:
    agents = [
        w.joined((w.concept(a.get("type")), w.reference(a.get("who"))), ": ")
        for a in map(w.as_dict, w.as_list(resource.get("agent")))
    ]
    entities = [
        w.joined((w.scalar(e.get("role")), w.reference(e.get("what"))), ": ")
        for e in map(w.as_dict, w.as_list(resource.get("entity")))
    ]
    targets = w.as_list(resource.get("target"))
    return Summary(
        "Provenance",
        w.joined(
            (
                f"{len(targets)} target resource{'' if len(targets) == 1 else 's'}",
                "source " + w.joined(entities, "; ") if entities else "",
                "recorded " + w.date(resource.get("recorded")),
            )
        ),
        [
            ("Recorded", w.date(resource.get("recorded"))),
            ("Activity", w.concept(resource.get("activity"))),
            ("Reason", w.concepts(resource.get("reason"))),
            ("Agent", w.joined(agents, "; ")),
            ("Source", w.joined(entities, "; ")),
            ("Policy", w.joined(w.scalar(p) for p in w.as_list(resource.get("policy")))),
            ("Targets", w.references(targets)),
        ],
    )


def composition_summary(resource: w.JsonDict) -> Summary:
    sections = [w.scalar(w.as_dict(s).get("title")) for s in w.as_list(resource.get("section"))]
    return Summary(
        "Document",
        w.joined((w.scalar(resource.get("title")), w.date(resource.get("date")))),
        [
            *status_facts(resource, "status"),
            ("Type", w.concept(resource.get("type"), with_codes=True)),
            ("Subject", w.reference(resource.get("subject"))),
            ("Author", w.references(resource.get("author"))),
            ("Custodian", w.reference(resource.get("custodian"))),
            ("Sections", w.joined(sections)),
        ],
    )


def care_plan_summary(resource: w.JsonDict) -> Summary:
    when = w.period(resource.get("period"))
    activities = [
        w.reference(w.as_dict(a).get("reference")) for a in w.as_list(resource.get("activity"))
    ]
    return Summary(
        "Care plan",
        w.joined((w.scalar(resource.get("title")) or "care plan", when)),
        [
            *status_facts(resource, "status", "intent"),
            ("Description", w.scalar(resource.get("description"))),
            ("Period", when),
            ("Addresses", w.references(resource.get("addresses"))),
            ("Supporting information", w.references(resource.get("supportingInfo"))),
            ("Activities", w.joined(activities, "; ")),
            *notes(resource),
        ],
    )


def request_group_summary(resource: w.JsonDict) -> Summary:
    def actions(items: object) -> list[str]:
        lines = []
        for action in map(w.as_dict, w.as_list(items)):
            days = [
                w.scalar(w.as_dict(day).get("valueInteger"))
                for extension in map(w.as_dict, w.as_list(action.get("extension")))
                if extension.get("url") == DAYS_OF_CYCLE
                for day in w.as_list(extension.get("extension"))
            ]
            lines.append(
                w.joined(
                    (
                        w.scalar(action.get("description")) or w.scalar(action.get("title")),
                        w.timing(action.get("timingTiming")),
                        f"days {_day_ranges(days)} of the cycle" if days else "",
                        w.reference(action.get("resource")),
                    ),
                    "; ",
                )
            )
            lines += actions(action.get("action"))
        return lines

    lines = actions(resource.get("action"))
    return Summary(
        "Request group",
        lines[0] if lines else w.concept(resource.get("code")),
        [
            *status_facts(resource, "status", "intent"),
            ("Reason (reference)", w.references(resource.get("reasonReference"))),
            *(("Action", line) for line in lines),
            *notes(resource),
        ],
    )


def _day_ranges(days: list[str]) -> str:
    """``1, 2, 3, 5`` -> ``1 to 3, 5``."""
    numbers = sorted({int(day) for day in days if day.isdigit()})
    ranges: list[list[int]] = []
    for number in numbers:
        if ranges and number == ranges[-1][-1] + 1:
            ranges[-1].append(number)
        else:
            ranges.append([number])
    return ", ".join(f"{r[0]} to {r[-1]}" if len(r) > 1 else str(r[0]) for r in ranges)


def generic_summary(resource: w.JsonDict) -> Summary:
    skipped = {"resourceType", "id", "meta", "text", "contained", "extension", "modifierExtension"}
    facts = [
        (_label(key), w.generic(value))
        for key, value in resource.items()
        if key not in skipped and not key.startswith("_")
    ]
    kind = _label(w.scalar(resource.get("resourceType"))) or "Resource"
    headline = w.concept(resource.get("code"), with_codes=True) or w.scalar(resource.get("name"))
    return Summary(kind, headline, facts)


def _label(name: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return spaced[:1].upper() + spaced[1:].lower()


SUMMARIES: dict[str, Callable[[w.JsonDict], Summary]] = {
    "Patient": patient_summary,
    "Condition": condition_summary,
    "Observation": observation_summary,
    "MedicationRequest": medication_request_summary,
    "Procedure": procedure_summary,
    "Encounter": encounter_summary,
    "Organization": organization_summary,
    "BodyStructure": body_structure_summary,
    "DiagnosticReport": diagnostic_report_summary,
    "DetectedIssue": detected_issue_summary,
    "Provenance": provenance_summary,
    "Composition": composition_summary,
    "CarePlan": care_plan_summary,
    "RequestGroup": request_group_summary,
}
