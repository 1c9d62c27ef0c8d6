"""Generated narratives: a resource's content stated in plain words, as FHIR-conformant XHTML.

Each resource type has a summary function that picks its clinically relevant elements; any other
type gets a generic summary of its top-level elements. The output depends only on the resource,
so the same resource always gives the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from fhir_case.narrative import words as w
from fhir_case.narrative.dating import (
    ABSENT_WORDS,
    NOT_RECORDED,
    Dating,
    Resolve,
    absent_reason,
    action_when,
    dating,
    period_words,
)
from fhir_case.narrative.xhtml import XHTML_NS, el

Facts = list[tuple[str, str]]


@dataclass(frozen=True)
class Summary:
    """What a narrative says: a title, one headline sentence, then labelled facts."""

    title: str
    headline: str
    facts: Facts = field(default_factory=list)


def narrative_for(resource: object, resolve: Resolve | None = None) -> dict[str, str]:
    """The ``text`` element for a resource: ``{"status": "generated", "div": "<div …>"}``.

    ``resolve`` (a reference string to the resource it points to, or ``None``) lets the
    narrative name what a reference points to when the reference carries no readable display.
    """
    return {"status": "generated", "div": render(summary_for(resource, resolve))}


def summary_for(resource: object, resolve: Resolve | None = None) -> Summary:
    """What the narrative of a resource says, before it is written as XHTML."""
    data = w.as_dict(resource)
    summarize = SUMMARIES.get(w.scalar(data.get("resourceType")), generic_summary)
    return summarize(data, Names(resolve))


@dataclass(frozen=True)
class Names:
    """How a narrative names the targets of references: a readable display, else the target's
    own name when ``resolve`` finds it, else its type ("an Observation"); never a raw id."""

    resolve: Resolve | None = None

    def name(self, value: object) -> str:
        named = w.reference_name(value)
        if named or self.resolve is None:
            return named
        target = self.resolve(w.scalar(w.as_dict(value).get("reference")))
        return item_name(target) if target is not None else ""

    def reference(self, value: object) -> str:
        """The target's name, or why there is none ("not stated" for a data-absent-reason)."""
        reason = absent_reason(value)
        if reason:
            return ABSENT_WORDS.get(reason, reason.replace("-", " "))
        return self.name(value) or w.reference(value)

    def references(self, values: object) -> str:
        return w.references(values, self.name)

    def dating(self, resource: w.JsonDict, prefix: str) -> Dating:
        return dating(resource, prefix, self.resolve)

    def when(self, resource: w.JsonDict, prefix: str) -> str:
        """A date element in words, marked when derived, with how it was derived."""
        found = self.dating(resource, prefix)
        if found is NOT_RECORDED:
            return ""
        if found.how and found.how not in found.words:
            return f"{found.words} ({found.how})"
        return found.words

    def bounds(self, value: object) -> str:
        """The bounds of a dosage: an order with no end is open, not "end not stated"."""
        return period_words(value, self.resolve, open_end="")[0]

    def dosage(self, value: object) -> str:
        return w.dosage(value, self.bounds)


def item_name(resource: object) -> str:
    """A resource named briefly, as a reference to it would name it (its code, with the value
    of an observation)."""
    data = w.as_dict(resource)
    kind = w.scalar(data.get("resourceType"))
    if kind == "Observation":
        value = observation_value(data) or component_values(data)
        return w.joined((w.concept(data.get("code")), value), ": ")
    if kind == "MedicationRequest":
        return w.concept(data.get("medicationCodeableConcept")) or "a medication order"
    if kind == "Patient":
        return "the patient"
    if kind == "RequestGroup":  # named by the order it repeats: "anlotinib cycles (on days …)"
        for action, timing in w.flat_actions(data.get("action")):
            order = w.reference_name(action.get("resource"))
            if order:
                return f"{order} cycles ({w.action_timing(action, timing)})"
    for key in ("code", "name", "title", "description", "type"):
        element = data.get(key)
        words = w.scalar(element) if isinstance(element, str) else w.concepts(element)
        if words:
            return words
    return ""


def render(summary: Summary) -> str:
    headline: list[str] = [el("b", summary.title)]
    if summary.headline:
        headline.append(": " + summary.headline)
    rows = [el("tr", el("th", label), el("td", value)) for label, value in summary.facts if value]
    table = el("table", el("tbody", rows)) if rows else None
    return el("div", el("p", headline), table, attrs=[("xmlns", XHTML_NS)])


QUOTE_PREFIX = "Source: "


def notes(resource: w.JsonDict) -> Facts:
    """The annotations: a source quotation as "Source", anything else as "Note"."""
    facts: Facts = []
    for text in (w.annotation(n) for n in w.as_list(resource.get("note"))):
        if text.startswith(QUOTE_PREFIX):
            facts.append(("Source", text[len(QUOTE_PREFIX) :]))
        else:
            facts.append(("Note", text))
    return facts


def status_facts(resource: w.JsonDict, *keys: str) -> Facts:
    return [(_label(key), w.scalar(resource.get(key))) for key in keys]


def patient_summary(resource: w.JsonDict, names: Names) -> Summary:
    called = [_name(n) for n in w.as_list(resource.get("name"))]
    gender = w.scalar(resource.get("gender"))
    birth = w.date(resource.get("birthDate"))
    deceased = w.choice_words(resource, "deceased")
    headline = w.joined(
        (called[0] if called and called[0] else "unnamed", gender, f"born {birth}" if birth else "")
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
            ("Managing organization", names.reference(resource.get("managingOrganization"))),
            ("General practitioner", names.references(resource.get("generalPractitioner"))),
        ],
    )


def _name(name: object) -> str:
    """A person's name, or why it is not given ("name withheld")."""
    reason = absent_reason(name)
    if reason:
        return "name " + ABSENT_WORDS.get(reason, reason.replace("-", " "))
    return w.human_name(name)


VERIFICATION_WORDS = {
    "confirmed": "diagnosis confirmed",
    "provisional": "provisional diagnosis",
    "differential": "differential diagnosis",
    "unconfirmed": "unconfirmed",
    "refuted": "ruled out (refuted)",
    "entered-in-error": "entered in error",
}


def verification_words(condition: w.JsonDict) -> str:
    """The verification status said of the diagnosis, so it is never read as the site's."""
    status = w.as_dict(condition.get("verificationStatus"))
    codes = {w.scalar(c.get("code")) for c in map(w.as_dict, w.as_list(status.get("coding")))}
    for code, words in VERIFICATION_WORDS.items():
        if code in codes:
            return words
    label = w.concept(status)
    return f"verification: {label}" if label else ""


def condition_summary(resource: w.JsonDict, names: Names) -> Summary:
    code = w.concept(resource.get("code"), with_codes=True) or "condition of unknown type"
    sites = w.concepts(resource.get("bodySite"))
    verification = w.concept(resource.get("verificationStatus"))
    onset = names.dating(resource, "onset")
    headline = w.joined(
        (
            code,
            verification_words(resource),
            f"body site: {sites}" if sites else "",
            f"onset {onset.words}" if onset is not NOT_RECORDED else "",
        ),
        "; ",
    )
    evidence = [
        w.joined((w.concepts(e.get("code")), names.references(e.get("detail"))), ": ")
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
            ("Onset", names.when(resource, "onset")),
            ("Abatement", names.when(resource, "abatement")),
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


LENGTH_UNITS = frozenset({"mm", "cm", "m"})


def component_values(resource: w.JsonDict) -> str:
    """The values of an observation's components: sizes one by another with one unit
    (as a radiologist writes them), anything else as "name value; …"."""
    components = [w.as_dict(c) for c in w.as_list(resource.get("component"))]
    sizes = [w.as_dict(c.get("valueQuantity")) for c in components]
    if sizes and all(w.scalar(q.get("code") or q.get("unit")) in LENGTH_UNITS for q in sizes):
        return w.dimensions(sizes)
    return w.joined(
        (
            w.joined((w.concept(c.get("code")), observation_value(c)), " ")
            for c in components
            if observation_value(c)
        ),
        "; ",
    )


def observation_summary(resource: w.JsonDict, names: Names) -> Summary:
    code = w.concept(resource.get("code"), with_codes=True) or "observation"
    value = observation_value(resource) or component_values(resource)
    components: Facts = []
    for component in map(w.as_dict, w.as_list(resource.get("component"))):
        components.append(
            (w.concept(component.get("code")) or "Component", observation_value(component))
        )
    method = w.concept(resource.get("method"))
    when = names.dating(resource, "effective")
    return Summary(
        "Observation",
        w.joined(
            (
                w.joined((code, value), ": "),
                f"by {_lower(method)}" if method else "",
                when.words if when is not NOT_RECORDED else "",
            )
        ),
        [
            *status_facts(resource, "status"),
            ("Category", w.concepts(resource.get("category"))),
            ("Value", observation_value(resource)),
            *components,
            ("When", names.when(resource, "effective")),
            ("Issued", w.date(resource.get("issued"))),
            ("Body site", w.concept(resource.get("bodySite"), with_codes=True)),
            ("Method", method),
            ("Interpretation", w.concepts(resource.get("interpretation"))),
            ("Focus", names.references(resource.get("focus"))),
            ("Derived from", names.references(resource.get("derivedFrom"))),
            ("Has member", names.references(resource.get("hasMember"))),
            ("Performer", names.references(resource.get("performer"))),
            *notes(resource),
        ],
    )


def _lower(words: str) -> str:
    """Words inside a sentence: "Physical examination" -> "physical examination" (an acronym
    such as "CT" or "RECIST" stays)."""
    return words[:1].lower() + words[1:] if words[1:2].islower() else words


def medication(resource: w.JsonDict, names: Names) -> str:
    """The drug: its code, or the code of the contained Medication a ``#id`` reference names."""
    coded = w.concept(resource.get("medicationCodeableConcept"), with_codes=True)
    reference = w.as_dict(resource.get("medicationReference"))
    target = w.scalar(reference.get("reference"))
    if coded or not target.startswith("#"):
        return coded or names.reference(reference)
    for contained in map(w.as_dict, w.as_list(resource.get("contained"))):
        if "#" + w.scalar(contained.get("id")) == target:
            return w.concept(contained.get("code"), with_codes=True) or names.reference(reference)
    return names.reference(reference)


def medication_request_summary(resource: w.JsonDict, names: Names) -> Summary:
    drug = medication(resource, names) or "unspecified medication"
    dosages = [names.dosage(d) for d in w.as_list(resource.get("dosageInstruction"))]
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
            ("Reason (reference)", names.references(resource.get("reasonReference"))),
            ("Course of therapy", w.concept(resource.get("courseOfTherapyType"))),
            ("Treatment intent", _intent(resource)),
            ("Based on", names.references(resource.get("basedOn"))),
            ("Authored on", w.date(resource.get("authoredOn"))),
            ("Requester", names.reference(resource.get("requester"))),
            ("Repeats allowed", w.scalar(repeats) if isinstance(repeats, int) else ""),
            ("Dispense quantity", w.quantity(dispense.get("quantity"))),
            ("Supply duration", w.quantity(dispense.get("expectedSupplyDuration"))),
            ("Validity", w.period(dispense.get("validityPeriod"))),
            *notes(resource),
        ],
    )


def _intent(resource: w.JsonDict) -> str:
    """mCODE's treatment intent, or that it is not stated (a data-absent-reason on its value)."""
    for extension in map(w.as_dict, w.as_list(resource.get("extension"))):
        if w.scalar(extension.get("url")).endswith(("procedure-intent", "treatment-intent")):
            value = extension.get("valueCodeableConcept")
            reason = absent_reason(value)
            if reason:
                return ABSENT_WORDS.get(reason, reason.replace("-", " "))
            return w.concept(value)
    return ""


def request_group_summary(resource: w.JsonDict, names: Names) -> Summary:
    actions = [
        w.joined(
            (
                names.reference(action.get("resource")) if action.get("resource") else "",
                action_when(action, timing, names.resolve),
            ),
            ": ",
        )
        or w.scalar(action.get("title"))
        or w.scalar(action.get("description"))
        for action, timing in w.flat_actions(resource.get("action"))
        if action.get("resource") or not action.get("action")
    ]
    return Summary(
        "Request group",
        w.joined((w.concept(resource.get("code")), *(a for a in actions if a)), "; ") or "requests",
        [
            *status_facts(resource, "status", "intent"),
            ("Based on", names.references(resource.get("basedOn"))),
            ("Reason", w.concepts(resource.get("reasonCode"))),
            ("Reason (reference)", names.references(resource.get("reasonReference"))),
            *(("Action", a) for a in actions if a),
            *notes(resource),
        ],
    )


def procedure_summary(resource: w.JsonDict, names: Names) -> Summary:
    code = w.concept(resource.get("code"), with_codes=True) or "procedure"
    performed = names.when(resource, "performed")
    not_done = w.scalar(resource.get("status")) == "not-done"
    return Summary(
        "Procedure",
        w.joined(
            (
                code,
                "not done" if not_done else "",
                w.concept(resource.get("statusReason")) if not_done else "",
                names.dating(resource, "performed").words if performed else "",
            )
        ),
        [
            *status_facts(resource, "status"),
            ("Status reason", w.concept(resource.get("statusReason"))),
            ("Category", w.concept(resource.get("category"))),
            ("Performed", performed),
            ("Body site", w.concepts(resource.get("bodySite"), with_codes=True)),
            ("Reason", w.concepts(resource.get("reasonCode"))),
            ("Reason (reference)", names.references(resource.get("reasonReference"))),
            ("Outcome", w.concept(resource.get("outcome"))),
            ("Report", names.references(resource.get("report"))),
            ("Location", names.reference(resource.get("location"))),
            *notes(resource),
        ],
    )


def encounter_summary(resource: w.JsonDict, names: Names) -> Summary:
    kind = w.joined((w.coding(resource.get("class")), w.concepts(resource.get("type"))))
    when = names.when(resource, "period")
    return Summary(
        "Encounter",
        w.joined((kind or "encounter", when)),
        [
            *status_facts(resource, "status"),
            ("Class", w.coding(resource.get("class"))),
            ("Type", w.concepts(resource.get("type"))),
            ("Period", when),
            ("Reason", w.concepts(resource.get("reasonCode"))),
            ("Reason (reference)", names.references(resource.get("reasonReference"))),
            ("Service provider", names.reference(resource.get("serviceProvider"))),
        ],
    )


def organization_summary(resource: w.JsonDict, names: Names) -> Summary:
    return Summary(
        "Organization",
        w.scalar(resource.get("name")),
        [("Identifier", w.identifier(i)) for i in w.as_list(resource.get("identifier"))]
        + [
            ("Type", w.concepts(resource.get("type"))),
            ("Address", w.joined(w.address(a) for a in w.as_list(resource.get("address")))),
            ("Part of", names.reference(resource.get("partOf"))),
        ],
    )


def body_structure_summary(resource: w.JsonDict, names: Names) -> Summary:
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


def diagnostic_report_summary(resource: w.JsonDict, names: Names) -> Summary:
    code = w.concept(resource.get("code"), with_codes=True) or "report"
    conclusion = w.scalar(resource.get("conclusion"))
    return Summary(
        "Report",
        w.joined((code, conclusion), ": "),
        [
            *status_facts(resource, "status"),
            ("Category", w.concepts(resource.get("category"))),
            ("When", names.when(resource, "effective")),
            ("Issued", w.date(resource.get("issued"))),
            ("Conclusion", conclusion),
            ("Conclusion code", w.concepts(resource.get("conclusionCode"))),
            ("Results", names.references(resource.get("result"))),
            ("Imaging studies", names.references(resource.get("imagingStudy"))),
            ("Performer", names.references(resource.get("performer"))),
        ],
    )


def detected_issue_summary(resource: w.JsonDict, names: Names) -> Summary:
    code = w.concept(resource.get("code"))
    detail = w.scalar(resource.get("detail"))
    evidence = [
        w.joined((w.concepts(e.get("code")), names.references(e.get("detail"))), ": ")
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
            ("Implicated", names.references(resource.get("implicated"))),
            ("Evidence", w.joined(evidence, "; ")),
            ("Mitigation", w.joined(mitigations, "; ")),
            ("Reference", w.scalar(resource.get("reference"))),
        ],
    )


def provenance_summary(resource: w.JsonDict, names: Names) -> Summary:
    agents = [
        w.joined((w.concept(a.get("type")), names.reference(a.get("who"))), ": ")
        for a in map(w.as_dict, w.as_list(resource.get("agent")))
    ]
    entities = [
        w.joined((w.scalar(e.get("role")), _entity(e.get("what"))), ": ")
        for e in map(w.as_dict, w.as_list(resource.get("entity")))
    ]
    sources = [
        _entity(e.get("what"))
        for e in map(w.as_dict, w.as_list(resource.get("entity")))
        if w.scalar(e.get("role")) == "source"
    ]
    targets = w.as_list(resource.get("target"))
    count = f"{len(targets)} resource{'' if len(targets) == 1 else 's'}"
    activity = w.concept(resource.get("activity"))
    return Summary(
        "Provenance",
        w.joined(
            (
                w.joined((activity or "Origin of", count), ": ") if targets else activity,
                "from " + w.joined(sources, "; ") if sources else "",
                "recorded " + w.date(resource.get("recorded")),
            )
        ),
        [
            ("Recorded", w.date(resource.get("recorded"))),
            ("Activity", activity),
            ("Reason", w.concepts(resource.get("reason"))),
            ("Agent", w.joined(agents, "; ")),
            ("Entity", w.joined(entities, "; ")),
            ("Policy", w.joined(w.scalar(p) for p in w.as_list(resource.get("policy")))),
            ("Targets", _counted_by_type(targets)),
        ],
    )


def _entity(what: object) -> str:
    """A source named by its citation, with its identifier (``doi:10.3389/…``)."""
    data = w.as_dict(what)
    ident = w.as_dict(data.get("identifier"))
    value, system = w.scalar(ident.get("value")), w.scalar(ident.get("system"))
    doi = f"doi:{value}" if value and "doi.org" in system else w.identifier(ident)
    return w.joined((w.reference(data), doi), " ")


def _counted_by_type(references: list[object]) -> str:
    """``74 resources: 1 Patient, 10 Conditions, …`` (never the list of their ids)."""
    counts = w.count_types(references)
    parts = [f"{n} {kind or 'other'}{'' if n == 1 else 's'}" for kind, n in counts.items()]
    total = len(references)
    return f"{total} resource{'' if total == 1 else 's'}: " + ", ".join(parts) if total else ""


def service_request_summary(resource: w.JsonDict, names: Names) -> Summary:
    code = w.concept(resource.get("code"), with_codes=True) or "service"
    when = w.choice_words(resource, "occurrence")
    return Summary(
        "Service request",
        w.joined((code, when if when not in code else "")),
        [
            *status_facts(resource, "status", "intent"),
            ("When", when),
            ("Reason", w.concepts(resource.get("reasonCode"))),
            ("Reason (reference)", names.references(resource.get("reasonReference"))),
            ("Requester", names.reference(resource.get("requester"))),
            *notes(resource),
        ],
    )


def care_plan_summary(resource: w.JsonDict, names: Names) -> Summary:
    title = w.scalar(resource.get("title")) or w.concepts(resource.get("category")) or "care plan"
    activities = []
    for activity in map(w.as_dict, w.as_list(resource.get("activity"))):
        detail = w.as_dict(activity.get("detail"))
        activities.append(
            w.joined(
                (
                    names.reference(activity.get("reference"))
                    if activity.get("reference") is not None
                    else w.concept(detail.get("code")) or w.scalar(detail.get("description")),
                    w.scalar(detail.get("status")),
                )
            )
        )
    period = names.when(resource, "period")
    return Summary(
        "Care plan",
        w.joined((title, period)),
        [
            *status_facts(resource, "status", "intent"),
            ("Category", w.concepts(resource.get("category"))),
            ("Description", w.scalar(resource.get("description"))),
            ("Period", period),
            ("Addresses", names.references(resource.get("addresses"))),
            ("Supporting information", names.references(resource.get("supportingInfo"))),
            ("Based on", names.references(resource.get("basedOn"))),
            ("Replaces", names.references(resource.get("replaces"))),
            ("Part of", names.references(resource.get("partOf"))),
            *(("Activity", a) for a in activities if a),
            *notes(resource),
        ],
    )


def composition_summary(resource: w.JsonDict, names: Names) -> Summary:
    sections = [w.scalar(w.as_dict(s).get("title")) for s in w.as_list(resource.get("section"))]
    return Summary(
        "Document",
        w.joined((w.scalar(resource.get("title")), w.date(resource.get("date")))),
        [
            *status_facts(resource, "status"),
            ("Type", w.concept(resource.get("type"), with_codes=True)),
            ("Subject", names.reference(resource.get("subject"))),
            ("Author", names.references(resource.get("author"))),
            ("Custodian", names.reference(resource.get("custodian"))),
            (
                "Period of care",
                w.joined(
                    names.bounds(w.as_dict(e).get("period"))
                    for e in w.as_list(resource.get("event"))
                ),
            ),
            ("Sections", w.joined(sections)),
        ],
    )


def generic_summary(resource: w.JsonDict, names: Names) -> Summary:
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


SUMMARIES: dict[str, Callable[[w.JsonDict, Names], Summary]] = {
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
    "ServiceRequest": service_request_summary,
    "CarePlan": care_plan_summary,
    "RequestGroup": request_group_summary,
}
