"""Pure: read-back comparison."""

from __future__ import annotations

from fhir_case.upload.compare import differences

BASE = "http://example.org/fhir"
SENT = {
    "resourceType": "Observation",
    "id": "o1",
    "status": "final",
    "subject": {"reference": "urn:uuid:p"},
    "valueQuantity": {"value": 68.5, "unit": "kg"},
}
REFS = {"urn:uuid:p": "Patient/p1"}


def stored(**changes: object) -> dict[str, object]:
    result: dict[str, object] = {
        **SENT,
        "subject": {"reference": "Patient/p1"},
        "meta": {"versionId": "3", "lastUpdated": "2024-01-01T00:00:00Z", "source": "#x"},
    }
    result.update(changes)
    return result


def test_server_managed_fields_and_rewritten_references_are_ignored() -> None:
    assert differences(SENT, stored(), REFS, BASE) == []
    absolute = stored(subject={"reference": f"{BASE}/Patient/p1/_history/2"})
    assert differences(SENT, absolute, REFS, BASE) == []


def test_generated_narrative_is_ignored_but_a_sent_one_must_match() -> None:
    narrative = {"status": "generated", "div": "<div>x</div>"}
    assert differences(SENT, stored(text=narrative), REFS, BASE) == []
    with_text = {**SENT, "text": {"status": "generated", "div": "<div>\n  x\n</div>"}}
    assert (
        differences(
            with_text, stored(text={"status": "generated", "div": "<div> x </div>"}), REFS, BASE
        )
        == []
    )
    assert differences(
        with_text, stored(text={"status": "generated", "div": "<div>y</div>"}), REFS, BASE
    ) == ["Observation.text.div: sent '<div> x </div>', the server has '<div>y</div>'"]


def test_differences_name_the_place() -> None:
    changed = stored(status="amended", valueQuantity={"value": 68.0, "unit": "kg"}, extra=True)
    del changed["id"]
    assert differences(SENT, changed, REFS, BASE) == [
        "Observation.extra: added by the server (True)",
        "Observation.id: sent but missing on the server",
        "Observation.status: sent 'final', the server has 'amended'",
        "Observation.valueQuantity.value: sent 68.5, the server has 68.0",
    ]


def test_a_reference_to_another_resource_is_a_difference() -> None:
    assert differences(SENT, stored(subject={"reference": "Patient/other"}), REFS, BASE) == [
        "Observation.subject.reference: sent 'Patient/p1', the server has 'Patient/other'"
    ]


def test_list_length_and_type_changes_are_differences() -> None:
    sent = {"resourceType": "Patient", "name": [{"given": ["A", "B"]}], "multipleBirthInteger": 1}
    back = {"resourceType": "Patient", "name": [{"given": ["A"]}], "multipleBirthInteger": "1"}
    assert differences(sent, back, {}, BASE) == [
        "Patient.multipleBirthInteger: sent 1, the server has '1'",
        "Patient.name[0].given: sent 2 items, the server has 1",
    ]


def test_server_assigned_id_is_ignored_when_none_was_sent() -> None:
    sent = {key: value for key, value in SENT.items() if key != "id"}
    assert differences(sent, stored(id="server-1"), REFS, BASE) == []
