"""Data types in the words a clinician writes: units, routes, schedules, names of references."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_case.narrative import narrative_for
from fhir_case.narrative import words as w

UCUM = "http://unitsofmeasure.org"


def ucum(value: float, code: str, unit: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit or code, "system": UCUM, "code": code}


@pytest.mark.parametrize(
    ("quantity", "words"),
    [
        (ucum(68, "a"), "68 years"),
        (ucum(1, "a"), "1 year"),
        (ucum(600, "ug"), "600 µg"),
        (ucum(120, "mg/m2"), "120 mg/m²"),
        (ucum(12, "mg/d"), "12 mg/day"),
        (ucum(2, "mg/kg/d"), "2 mg/kg/day"),
        (ucum(37.5, "Cel"), "37.5 °C"),
        (ucum(4.2, "10*9/L"), "4.2 ×10⁹/L"),
        (ucum(120, "mm[Hg]"), "120 mmHg"),
        (ucum(3.0, "cm"), "3.0 cm"),  # JSON's 3.0 keeps the precision the source gave
        (ucum(120, "mg/m2", "mg/m²"), "120 mg/m²"),  # a unit written for people is kept
        (ucum(5, "ug", "micrograms"), "5 micrograms"),
        ({"value": 2, "unit": "tablets"}, "2 tablets"),
        ({"value": 5, "comparator": "<", "unit": "mm", "code": "mm"}, "< 5 mm"),
    ],
)
def test_units_read_as_people_write_them(quantity: dict[str, Any], words: str) -> None:
    assert w.quantity(quantity) == words


def test_sizes_are_written_one_by_another_with_one_unit() -> None:
    assert w.dimensions([ucum(3.0, "cm"), ucum(2.0, "cm"), ucum(2.2, "cm")]) == "3.0 × 2.0 × 2.2 cm"
    assert w.dimensions([ucum(32, "mm"), ucum(2.6, "cm")]) == "32 mm × 2.6 cm"
    assert w.dimensions([ucum(5, "cm")]) == "5 cm"


@pytest.mark.parametrize(
    ("route", "words"),
    [
        ({"coding": [{"system": "http://snomed.info/sct", "code": "26643006"}]}, "orally"),
        ({"coding": [{"display": "Subcutaneous route"}]}, "subcutaneously"),
        ({"text": "intravenous"}, "intravenously"),
        ({"text": "Intra-arterial route"}, "by the intra-arterial route"),
        ({}, ""),
    ],
)
def test_a_route_reads_as_in_a_prescription(route: dict[str, Any], words: str) -> None:
    assert w.route(route) == words


def prescription(dose: dict[str, Any], repeat: dict[str, Any], **dosage: Any) -> str:
    request = {
        "resourceType": "MedicationRequest",
        "dosageInstruction": [
            {"doseAndRate": [dose], "timing": {"repeat": repeat}, **dosage},
        ],
    }
    div = narrative_for(request)["div"]
    return div[div.index(": ", div.index("</b>")) + 2 : div.index("</p>")]


def test_schedules_read_like_prescriptions() -> None:
    oral = {"coding": [{"system": "http://snomed.info/sct", "code": "26643006"}]}
    daily = {"frequency": 1, "period": 1, "periodUnit": "d"}
    assert (
        prescription({"doseQuantity": ucum(12, "mg")}, {**daily}, route=oral)
        == "unspecified medication: 12 mg orally once daily"
    )
    assert (
        prescription({"doseQuantity": ucum(600, "ug")}, daily)
        == "unspecified medication: 600 µg once daily"
    )
    every_four_weeks = {"frequency": 1, "period": 4, "periodUnit": "wk"}
    bounded = {**every_four_weeks, "boundsPeriod": {"start": "2023-10-18"}}
    assert prescription({"doseQuantity": ucum(120, "mg")}, bounded).endswith(
        "120 mg every 4 weeks, from 2023-10-18"
    )


def test_the_dosage_text_follows_labelled_and_unquoted() -> None:
    # the recorder's Dosage.text is not the source's words: no quotation marks (review 9, K9)
    text = prescription({"doseQuantity": ucum(1, "mg")}, {}, text="1 mg at night")
    assert text == "unspecified medication: 1 mg (dosage text: 1 mg at night)"


def test_a_reference_is_named_by_its_display_never_by_a_machine_key() -> None:
    target = "urn:uuid:351891da-214d-5dd7-a07b-7c242b129c08"
    assert w.reference({"reference": target, "display": "Lumbar spine CT"}) == "Lumbar spine CT"
    assert w.reference({"reference": target, "display": "ct-l4-size"}) == ""
    assert w.reference({"reference": "Observation/1", "display": "ct-l4-size"}) == "an Observation"
    assert w.reference({"display": "fhir-case"}) == "fhir-case"  # nothing else names it
    assert (
        w.references(
            [{"reference": f"Observation/{n}"} for n in range(3)] + [{"reference": target}]
        )
        == "3 Observations; 1 other resource"
    )


def test_a_narrative_names_a_reference_from_its_target_when_it_can_find_it() -> None:
    size = {
        "resourceType": "Observation",
        "code": {"text": "Tumor size"},
        "component": [
            {"code": {"text": "longest"}, "valueQuantity": ucum(3.0, "cm")},
            {"code": {"text": "other"}, "valueQuantity": ucum(2.0, "cm")},
        ],
    }
    issue = {
        "resourceType": "DetectedIssue",
        "implicated": [{"reference": "urn:uuid:1", "display": "ct-l4-size"}],
    }
    assert "<td>an Observation</td>" not in narrative_for(issue)["div"]  # no type known
    assert "ct-l4-size" not in narrative_for(issue)["div"]
    named = narrative_for(issue, {"urn:uuid:1": size}.get)["div"]
    assert "<th>Implicated</th><td>Tumor size: 3.0 × 2.0 cm</td>" in named


def test_identifiers_that_are_uuids_are_left_out_of_narratives() -> None:
    uuid = "urn:uuid:f5ed8fd6-8a34-526f-bf54-a7855f1b7836"
    assert w.identifier({"system": "urn:ietf:rfc:3986", "value": uuid}) == ""
    assert w.identifier({"system": "https://example.org/mrn", "value": "12345"}) == (
        "12345 (https://example.org/mrn)"
    )
    assert w.identifier({"type": {"text": "MRN"}, "value": "12345"}) == "MRN: 12345"


def test_a_doubled_phrase_is_said_once() -> None:
    assert w.annotation({"text": "Date not stated: date not stated."}) == "Date not stated."
    assert (
        w.annotation({"text": "Date not stated: before 2023."}) == "Date not stated: before 2023."
    )


def test_snomed_semantic_tags_are_left_out() -> None:
    concept = {"coding": [{"display": "Computerized axial tomography (procedure)"}]}
    assert w.concept(concept) == "Computerized axial tomography"
    assert w.coding({"display": "Right (qualifier value)"}) == "Right"


def test_a_cycle_of_a_request_group_reads_days_of_each_cycle() -> None:
    days = [{"url": "day", "valueInteger": d} for d in range(1, 15)]
    action = {
        "title": "anlotinib cycle",
        "resource": {"reference": "MedicationRequest/1", "display": "anlotinib"},
        "extension": [{"url": w.DAYS_OF_CYCLE, "extension": days}],
        "timingTiming": {"repeat": {"frequency": 1, "period": 21, "periodUnit": "d"}},
    }
    assert w.action_timing(action) == "on days 1–14 of each 21-day cycle"
    group = {
        "resourceType": "RequestGroup",
        "status": "active",
        "intent": "order",
        "action": [action],
    }
    assert (
        "<b>Request group</b>: anlotinib: on days 1–14 of each 21-day cycle</p>"
        in narrative_for(group)["div"]
    )
    assert w.day_ranges([1, 8, 15]) == "days 1, 8, 15" and w.day_ranges([1]) == "day 1"


def test_a_procedure_not_done_says_so_and_why() -> None:
    surgery = {
        "resourceType": "Procedure",
        "status": "not-done",
        "statusReason": {"text": "wide resection not feasible"},
        "code": {"text": "Surgical resection"},
    }
    div = narrative_for(surgery)["div"]
    assert "<b>Procedure</b>: Surgical resection, not done, wide resection not feasible</p>" in div
