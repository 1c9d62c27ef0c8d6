"""A FHIR document from a collection: a ``document`` Bundle led by a case-summary Composition.

The Composition (subject: the Patient; author: fhir-case, which assembles it; no custodian, as no
organization is known to hold it) sorts every resource into a section (problems, procedures,
medications, results, imaging, plan, encounters and body sites, data quality, source) with a
generated narrative, so every entry is reachable from it. Its event period spans the record's
dated care events; a bound taken from a derived date carries that date's mark
(``cqf-relativeDateTime``). The document
meets the R4 Bundle's document rules: bdl-9 (an identifier with system and value), bdl-10 (a
timestamp) and bdl-11 (a Composition first). Its identifier, ids and timestamp derive from the
content alone, so the same collection always gives the same document, byte for byte.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from fhir_case import kinds
from fhir_case.dates import dated, resource_date
from fhir_case.errors import DocumentError
from fhir_case.narrative import narrative_for, summary_for
from fhir_case.narrative import words as w
from fhir_case.narrative.dating import Resolve
from fhir_case.narrative.xhtml import XHTML_NS, el

Resource = dict[str, Any]
# The namespace of every id this module makes (uuid5 of the content digest).
DOCUMENT_NAMESPACE = uuid.UUID("3f1f7c5e-2f0a-5c55-9b8e-6e1f0d9a4c21")
PLAN_INTENTS = {"plan", "proposal"}
PLAN_TYPES = {"CarePlan", "ServiceRequest", "Goal", "NutritionOrder", "RequestGroup"}
# The document's author: the tool that assembles it (not an organization of the source).
AUTHOR = {"display": "fhir-case"}
MEDICATION_TYPES = {"MedicationRequest", "MedicationStatement", "MedicationAdministration"}


def _is_imaging(resource: Resource) -> bool:
    kind = resource.get("resourceType")
    if kind == "Procedure":
        return kinds.procedure_kind(resource) == "imaging"
    if kind == "Observation":
        return kinds.is_imaging_observation(resource)
    return kind in ("DiagnosticReport", "ImagingStudy") and kinds.is_imaging_report(resource)


def _is_plan(resource: Resource) -> bool:
    kind = resource.get("resourceType")
    return kind in PLAN_TYPES or (
        kind == "MedicationRequest" and w.scalar(resource.get("intent")) in PLAN_INTENTS
    )


# (title, membership test), in document order; a resource goes to the first section that takes it.
SECTIONS: tuple[tuple[str, Callable[[Resource], bool]], ...] = (
    ("Problems", lambda r: r.get("resourceType") == "Condition"),
    ("Plan", _is_plan),
    ("Imaging", _is_imaging),
    ("Procedures", lambda r: r.get("resourceType") == "Procedure"),
    ("Medications", lambda r: r.get("resourceType") in MEDICATION_TYPES),
    ("Results", lambda r: r.get("resourceType") in ("Observation", "DiagnosticReport")),
    (
        "Encounters and body sites",
        lambda r: r.get("resourceType") in ("Encounter", "BodyStructure"),
    ),
    ("Data quality", lambda r: r.get("resourceType") == "DetectedIssue"),
    ("Source", lambda r: r.get("resourceType") == "Provenance"),
)
SECTION_ORDER = ("Problems", "Procedures", "Medications", "Results", "Imaging", "Plan")


def make_document(collection_bundle: dict[str, Any]) -> dict[str, Any]:
    """The document Bundle for a collection (or any Bundle) of one patient's record."""
    entries = _entries(collection_bundle)
    digest = hashlib.sha256(
        json.dumps(entries, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()
    patient = _single(entries, "Patient")
    _check_references(entries)
    timestamp = record_timestamp(entries)
    composition = _composition(entries, digest, patient, timestamp)
    composition_url = f"urn:uuid:{composition['id']}"
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(DOCUMENT_NAMESPACE, f"bundle:{digest}")),
        "identifier": {
            "system": "urn:ietf:rfc:3986",
            "value": f"urn:uuid:{uuid.uuid5(DOCUMENT_NAMESPACE, f'document:{digest}')}",
        },
        "type": "document",
        "timestamp": timestamp,
        "entry": [{"fullUrl": composition_url, "resource": composition}]
        + [{"fullUrl": e["fullUrl"], "resource": e["resource"]} for e in entries],
    }


def _type(entry: dict[str, Any]) -> str:
    return w.scalar(entry["resource"].get("resourceType"))


def _entries(bundle: object) -> list[dict[str, Any]]:
    """The bundle's entries as ``{fullUrl, resource}``, copied; ``request``/``search`` dropped."""
    data = w.as_dict(bundle)
    if data.get("resourceType") != "Bundle":
        raise DocumentError("the input is not a FHIR Bundle (resourceType must be 'Bundle')")
    entries = []
    for index, entry in enumerate(map(w.as_dict, w.as_list(data.get("entry")))):
        resource = entry.get("resource")
        if not isinstance(resource, dict) or not w.scalar(resource.get("resourceType")):
            raise DocumentError(f"Bundle.entry[{index}] has no resource")
        if resource.get("resourceType") == "Composition":
            raise DocumentError(
                f"Bundle.entry[{index}] is already a Composition: the input must be a "
                "collection of the record's resources, not a document"
            )
        full_url = w.scalar(entry.get("fullUrl")) or (
            f"{resource['resourceType']}/{w.scalar(resource.get('id'))}"
        )
        entries.append({"fullUrl": full_url, "resource": copy.deepcopy(resource)})
    return entries


def _single(entries: list[dict[str, Any]], resource_type: str) -> dict[str, Any]:
    found = [e for e in entries if _type(e) == resource_type]
    if len(found) != 1:
        raise DocumentError(
            f"a document is about one {resource_type}; the bundle has {len(found)}. "
            f"Build the document from one patient's collection bundle"
        )
    return found[0]


def _references(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield path + ".reference", item
            else:
                yield from _references(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, f"{path}[{index}]")


def _check_references(entries: list[dict[str, Any]]) -> None:
    """Every reference must point inside the document (bundle-internal or contained)."""
    known = {e["fullUrl"] for e in entries}
    known |= {f"{_type(e)}/{w.scalar(e['resource'].get('id'))}" for e in entries}
    dangling = [
        f"Bundle.entry[{index}].resource{path[len('$') :]} = {target!r}"
        for index, entry in enumerate(entries)
        for path, target in _references(entry["resource"], "$")
        if not target.startswith("#") and target not in known
    ]
    if dangling:
        raise DocumentError(
            "a document must contain every resource it references; not in the bundle: "
            + "; ".join(dangling[:5])
            + (f" (and {len(dangling) - 5} more)" if len(dangling) > 5 else "")
        )


def record_timestamp(entries: list[dict[str, Any]]) -> str:
    """When the record was made (the latest Provenance.recorded), else its latest date."""
    recorded = sorted(
        w.scalar(e["resource"].get("recorded")) for e in entries if _type(e) == "Provenance"
    )
    if recorded and recorded[-1]:
        return recorded[-1]
    dates = [d for e in entries if (d := resource_date(e["resource"])) is not None]
    if not dates:
        raise DocumentError("no resource in the bundle carries a date to stamp the document with")
    return f"{max(dates).isoformat()}T00:00:00Z"


def _section_text(resources: list[Resource], resolve: Resolve) -> dict[str, str]:
    items = []
    for resource in resources:
        summary = summary_for(resource, resolve)
        items.append(
            el("li", el("b", summary.title), f": {summary.headline}" if summary.headline else None)
        )
    div = el("div", el("ul", items), attrs=[("xmlns", XHTML_NS)])
    return {"status": "generated", "div": div}


def _resolver(entries: list[dict[str, Any]]) -> Resolve:
    """A look-up of the entries by fullUrl and by ``Type/id``, for the narratives."""
    by_key = {e["fullUrl"]: e["resource"] for e in entries}
    by_key |= {f"{_type(e)}/{w.scalar(e['resource'].get('id'))}": e["resource"] for e in entries}
    return by_key.get


def _sections(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    resolve = _resolver(entries)
    members: dict[str, list[dict[str, Any]]] = {title: [] for title, _ in SECTIONS}
    for entry in entries:
        for title, takes in SECTIONS:
            if takes(entry["resource"]):
                members[title].append(entry)
                break
    order = SECTION_ORDER + tuple(t for t, _ in SECTIONS if t not in SECTION_ORDER)
    return [
        {
            "title": title,
            "text": _section_text([e["resource"] for e in members[title]], resolve),
            "entry": [{"reference": e["fullUrl"]} for e in members[title]],
        }
        for title in order
        if members[title]
    ]


def _event_period(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """From the earliest to the latest date of a care event; a bound taken from a derived
    date keeps its mark. Of equal dates, a stated one is taken before a derived one."""
    found = sorted(
        ((date, bool(marks), index), marks)
        for index, e in enumerate(entries)
        if _type(e) not in kinds.RECORD_META_TYPES and (d := dated(e["resource"]))
        for date, marks in [d]
    )
    if not found:
        return {}
    period: dict[str, Any] = {}
    latest = sorted(found, key=lambda item: (-item[0][0].toordinal(), item[0][1:]))
    for key, ((date, _, _), marks) in (("start", found[0]), ("end", latest[0])):
        period[key] = date.isoformat()
        if marks:
            period["_" + key] = {"extension": copy.deepcopy(marks)}
    return period


def _reachable(composition: Resource, entries: list[dict[str, Any]]) -> set[str]:
    by_key = {e["fullUrl"]: e for e in entries}
    by_key |= {f"{_type(e)}/{w.scalar(e['resource'].get('id'))}": e for e in entries}
    seen: set[str] = set()
    todo = [target for _, target in _references(composition, "$")]
    while todo:
        entry = by_key.get(todo.pop())
        if entry is None or entry["fullUrl"] in seen:
            continue
        seen.add(entry["fullUrl"])
        todo.extend(target for _, target in _references(entry["resource"], "$"))
    return seen


def _composition(
    entries: list[dict[str, Any]],
    digest: str,
    patient: dict[str, Any],
    timestamp: str,
) -> Resource:
    primary = next(
        (
            e["resource"]
            for e in entries
            if _type(e) == "Condition" and kinds.condition_group(e["resource"]) == "primary"
        ),
        None,
    )
    title = "Case summary"
    if primary is not None and w.concept(primary.get("code")):
        title += ": " + w.concept(primary.get("code"))
    gender = w.scalar(patient["resource"].get("gender"))
    composition: Resource = {
        "resourceType": "Composition",
        "id": str(uuid.uuid5(DOCUMENT_NAMESPACE, f"composition:{digest}")),
        "status": "final",
        "type": {"text": "Case summary"},
        "subject": {
            "reference": patient["fullUrl"],
            "display": f"{gender} patient" if gender else "the patient",
        },
        "date": timestamp,
        "author": [AUTHOR],
        "title": title,
    }
    period = _event_period(entries)
    if period:
        composition["event"] = [{"period": period}]
    composition["section"] = _sections(entries)
    reached = _reachable(composition, entries)
    unreached = [e for e in entries if e["fullUrl"] not in reached]
    if unreached:
        composition["section"].append(
            {
                "title": "Other record entries",
                "text": _section_text([e["resource"] for e in unreached], _resolver(entries)),
                "entry": [{"reference": e["fullUrl"]} for e in unreached],
            }
        )
    composition["text"] = narrative_for(composition, _resolver(entries))
    return {k: composition[k] for k in ("resourceType", "id", "text")} | {
        k: v for k, v in composition.items() if k not in ("resourceType", "id", "text")
    }
