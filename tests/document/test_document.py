"""The document Bundle: bdl-9/10/11, the R4 schema, references, sections and determinism."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from fhir_case import kinds
from fhir_case.dates import dated
from fhir_case.document import make_document
from fhir_case.errors import DocumentError, UsageError
from fhir_case.extensions import RELATIVE_DATE
from fhir_case.narrative import check_narrative
from tests.derived import derived_dates
from tests.helpers import r4_schema_errors

UUID_URN = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def references(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def test_the_document_meets_the_bundle_document_rules(collection: dict[str, Any]) -> None:
    document = make_document(collection)
    assert document["type"] == "document"
    # bdl-9: a document has an identifier with a system and a value
    assert document["identifier"]["system"] == "urn:ietf:rfc:3986"
    assert UUID_URN.match(document["identifier"]["value"])
    # bdl-10: a document has a timestamp (an instant)
    assert INSTANT.match(document["timestamp"])
    # bdl-11: the first resource is a Composition
    assert document["entry"][0]["resource"]["resourceType"] == "Composition"
    # bdl-7: fullUrls are unique
    urls = [e["fullUrl"] for e in document["entry"]]
    assert len(urls) == len(set(urls))


def test_every_resource_validates_against_the_r4_schema(
    collection: dict[str, Any], schema_file: Path
) -> None:
    document = make_document(collection)
    shell = {**document, "entry": [{"fullUrl": e["fullUrl"]} for e in document["entry"]]}
    assert r4_schema_errors(shell, schema_file) == []
    for entry in document["entry"]:
        assert r4_schema_errors(entry["resource"], schema_file) == [], entry["fullUrl"]
    Bundle.model_validate(document)  # and the fhir.resources R4B models accept it


def test_every_reference_resolves_inside_the_document(collection: dict[str, Any]) -> None:
    document = make_document(collection)
    urls = {e["fullUrl"] for e in document["entry"]}
    found = [r for e in document["entry"] for r in references(e["resource"])]
    assert found and all(r in urls for r in found)


def test_the_composition_is_a_case_summary_reaching_every_entry(
    collection: dict[str, Any],
) -> None:
    document = make_document(collection)
    composition = document["entry"][0]["resource"]
    by_url = {e["fullUrl"]: e["resource"] for e in document["entry"]}
    patient_url = next(u for u, r in by_url.items() if r["resourceType"] == "Patient")
    assert composition["subject"]["reference"] == patient_url
    # fhir-case assembles the document; no organization of the source wrote or holds it
    assert composition["author"] == [{"display": "fhir-case"}]
    assert "custodian" not in composition
    assert composition["status"] == "final"
    titles = [s["title"] for s in composition["section"]]
    assert titles[:5] == ["Problems", "Procedures", "Medications", "Results", "Imaging"]
    for section in composition["section"]:
        assert check_narrative(section["text"]["div"]) == [], section["title"]
        kinds = {by_url[e["reference"]]["resourceType"] for e in section["entry"]}
        expected = {
            "Problems": {"Condition"},
            "Procedures": {"Procedure"},
            "Medications": {"MedicationRequest"},
            "Results": {"Observation", "DiagnosticReport"},
            "Plan": {"ServiceRequest", "CarePlan", "RequestGroup", "MedicationRequest"},
            "Other record entries": {"Encounter", "BodyStructure", "Organization", "Patient"},
            "Imaging": {"Procedure", "Observation", "DiagnosticReport"},
            "Data quality": {"DetectedIssue"},
            "Source": {"Provenance"},
        }
        assert kinds <= expected.get(section["title"], kinds), section["title"]
    assert check_narrative(composition["text"]["div"]) == []
    # every entry is reachable from the Composition, directly or through another entry
    reached: set[str] = set()
    todo = list(references(composition))
    while todo:
        url = todo.pop()
        if url not in reached:
            reached.add(url)
            todo.extend(references(by_url[url]))
    assert reached == set(by_url) - {document["entry"][0]["fullUrl"]}


def test_the_event_period_keeps_the_mark_of_a_derived_bound(collection: dict[str, Any]) -> None:
    composition = make_document(collection)["entry"][0]["resource"]
    period = composition["event"][0]["period"]
    dates = [
        found
        for e in collection["entry"]
        if e["resource"]["resourceType"] not in kinds.RECORD_META_TYPES
        if (found := dated(e["resource"]))
    ]
    assert period["start"] == min(d for d, _ in dates).isoformat()
    assert period["end"] == max(d for d, _ in dates).isoformat()
    for bound in ("start", "end"):
        marks = period.get("_" + bound, {}).get("extension", [])
        sources = [m for d, m in dates if d.isoformat() == period[bound]]
        assert sources, bound
        # a bound is marked derived exactly when every date it could come from is derived
        assert bool(marks) == all(sources), bound
        assert all(m["url"] == RELATIVE_DATE for m in marks)


def test_the_document_is_deterministic_and_follows_the_content(collection: dict[str, Any]) -> None:
    first = json.dumps(make_document(collection), sort_keys=False)
    assert json.dumps(make_document(copy.deepcopy(collection)), sort_keys=False) == first
    changed = copy.deepcopy(collection)
    changed["entry"][-1]["resource"]["id"] += "-changed"
    other = make_document(changed)
    assert other["identifier"] != json.loads(first)["identifier"]
    assert make_document(collection) == json.loads(first)


def test_the_input_is_not_modified(collection: dict[str, Any]) -> None:
    before = copy.deepcopy(collection)
    make_document(collection)
    assert collection == before


def test_a_transaction_bundle_works_too(collection: dict[str, Any]) -> None:
    transaction = {
        **collection,
        "type": "transaction",
        "entry": [
            {
                **e,
                "request": {
                    "method": "PUT",
                    "url": f"{e['resource']['resourceType']}/{e['resource']['id']}",
                },
            }
            for e in collection["entry"]
        ],
    }
    document = make_document(transaction)
    assert all("request" not in e for e in document["entry"])
    assert document["identifier"] == make_document(collection)["identifier"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda b: b["entry"][2]["resource"].update(
                subject={"reference": "urn:uuid:00000000-0000-4000-8000-000000000000"}
            ),
            "Bundle.entry[2].resource.subject.reference = 'urn:uuid:00000000-0000-4000-8000",
        ),
        (lambda b: b["entry"].pop(1), "one Patient; the bundle has 0"),
        (
            lambda b: b["entry"].append(
                copy.deepcopy(b["entry"][1])
                | {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111"}
            ),
            "one Patient; the bundle has 2",
        ),
        (lambda b: b.update(resourceType="Patient"), "not a FHIR Bundle"),
        (
            lambda b: b["entry"].append({"fullUrl": "urn:uuid:x"}),
            "Bundle.entry[29] has no resource",
        ),
    ],
)
def test_a_bundle_that_cannot_make_a_document_is_a_clear_error(
    fixture_collection: dict[str, Any], mutate: Callable[[dict[str, Any]], object], message: str
) -> None:
    mutate(fixture_collection)
    with pytest.raises(DocumentError) as caught:
        make_document(fixture_collection)
    assert message in str(caught.value)
    assert isinstance(caught.value, UsageError) and caught.value.exit_code == 2


def _section_items(composition: dict[str, Any]) -> dict[str, str]:
    """Each section entry's line in the section narrative, by the entry's reference."""
    items = {}
    for section in composition["section"]:
        lines = re.findall(r"<li>(.*?)</li>", section["text"]["div"])
        assert len(lines) == len(section["entry"]), section["title"]
        for entry, line in zip(section["entry"], lines, strict=True):
            items[entry["reference"]] = re.sub(r"<[^>]+>", "", line)
    return items


def test_every_tumor_size_is_listed_with_its_dimensions_in_the_composition(
    collection: dict[str, Any],
) -> None:
    document = make_document(collection)
    items = _section_items(document["entry"][0]["resource"])
    sizes = [
        e
        for e in document["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and "21889-1" in json.dumps(e["resource"].get("code"))
    ]
    assert sizes
    for entry in sizes:
        values = [c["valueQuantity"] for c in entry["resource"]["component"]]
        units = {v["code"] for v in values}
        expected = (
            " × ".join(str(v["value"]) for v in values) + f" {units.pop()}"
            if len(units) == 1
            else " × ".join(f"{v['value']} {v['code']}" for v in values)
        )
        assert expected in items[entry["fullUrl"]], items[entry["fullUrl"]]


def test_the_composition_marks_derived_dates(collection: dict[str, Any]) -> None:
    document = make_document(collection)
    composition = document["entry"][0]["resource"]
    items = _section_items(composition)
    by_url = {e["fullUrl"]: e["resource"] for e in collection["entry"]}
    derived = [(u, d) for u, r in by_url.items() for d in derived_dates(r)]
    for url, date in derived:
        assert f"about {date}" in items[url], items[url]
    # the period of care, in the Composition's narrative, says "about" of a derived bound
    period = composition["event"][0]["period"]
    row = re.search(r"<th>Period of care</th><td>([^<]*)</td>", composition["text"]["div"])
    assert row is not None
    for bound in ("start", "end"):
        marked = "_" + bound in period
        assert (f"about {period[bound]}" in row[1]) == marked, (row[1], bound)
        assert period[bound] in row[1]
