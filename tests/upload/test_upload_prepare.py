"""Pure: bundle -> idempotent transaction."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_case.errors import InputFileError
from fhir_case.upload.prepare import is_idempotent, prepare
from fhir_case.upload.settings import Mode

PATIENT_URL = "urn:uuid:6f1c5a4e-1d2b-4c3a-9e8f-0a1b2c3d4e01"


def test_put_mode_takes_ids_from_urn_uuid_full_urls(good_bundle: dict[str, Any]) -> None:
    prepared = prepare(good_bundle, Mode.PUT, "good.json")  # POST entries without ids
    first = prepared.entries[0]
    assert first.request == {"method": "PUT", "url": "Patient/6f1c5a4e-1d2b-4c3a-9e8f-0a1b2c3d4e01"}
    assert first.resource["id"] == "6f1c5a4e-1d2b-4c3a-9e8f-0a1b2c3d4e01"
    assert first.full_url == PATIENT_URL
    sent = prepared.transaction()
    assert sent["type"] == "transaction" and is_idempotent(sent)
    assert sent["entry"][1]["resource"]["subject"] == {"reference": PATIENT_URL}
    assert good_bundle["entry"][0]["request"]["method"] == "POST"  # the input is untouched


def test_put_mode_keeps_the_builders_ids(good_bundle: dict[str, Any]) -> None:
    good_bundle = {**good_bundle, "entry": [dict(e) for e in good_bundle["entry"]]}
    good_bundle["entry"][0]["resource"] = {**good_bundle["entry"][0]["resource"], "id": "p-1"}
    assert prepare(good_bundle, Mode.PUT, "b.json").entries[0].request["url"] == "Patient/p-1"


def test_conditional_mode_uses_the_identifier_escaped(good_bundle: dict[str, Any]) -> None:
    patient = dict(good_bundle["entry"][0])
    patient["resource"] = {
        **patient["resource"],
        "id": "dropped",
        "identifier": [{"system": "urn:oid:1.2.3", "value": "a|b,c"}],
    }
    entry = prepare({"resourceType": "Bundle", "entry": [patient]}, Mode.CONDITIONAL, "b").entries[
        0
    ]
    assert entry.request == {
        "method": "POST",
        "url": "Patient",
        "ifNoneExist": "identifier=urn:oid:1.2.3|a%5C|b%5C%2Cc",
    }
    assert "id" not in entry.resource
    assert is_idempotent(
        prepare({"resourceType": "Bundle", "entry": [patient]}, Mode.CONDITIONAL, "b").transaction()
    )


def test_conditional_mode_needs_identifiers(good_bundle: dict[str, Any]) -> None:
    with pytest.raises(
        InputFileError, match=r"b.json: Bundle.entry\[1\]: the Condition has no identifier"
    ):
        prepare(good_bundle, Mode.CONDITIONAL, "b.json")


def test_two_identical_conditions_are_refused(good_bundle: dict[str, Any]) -> None:
    patient = good_bundle["entry"][0]
    twin = {**patient, "fullUrl": "urn:uuid:6f1c5a4e-1d2b-4c3a-9e8f-0a1b2c3d4e09"}
    bundle = {"resourceType": "Bundle", "entry": [patient, twin]}
    with pytest.raises(InputFileError, match=r"entry 0 .* and entry 1 .* same conditional create"):
        prepare(bundle, Mode.CONDITIONAL, "b.json")


def test_two_entries_with_one_id_are_refused(good_bundle: dict[str, Any]) -> None:
    patient = good_bundle["entry"][0]
    bundle = {"resourceType": "Bundle", "entry": [patient, patient]}
    with pytest.raises(InputFileError, match="same id"):
        prepare(bundle, Mode.PUT, "b.json")


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        ([], "not a FHIR Bundle"),
        ({"resourceType": "Bundle", "entry": []}, "no entries"),
        ({"resourceType": "Bundle", "entry": [{"resource": {}}]}, r"entry\[0\].resource: missing"),
        (
            {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}]},
            r"entry\[0\].resource.id: missing; put mode needs an id",
        ),
        (
            {
                "resourceType": "Bundle",
                "entry": [{"resource": {"resourceType": "Patient", "id": "a b"}}],
            },
            "is not a FHIR id",
        ),
    ],
)
def test_unusable_bundles_are_refused_with_the_place_named(bundle: Any, message: str) -> None:
    with pytest.raises(InputFileError, match=message):
        prepare(bundle, Mode.PUT, "b.json")


def test_a_plain_post_is_not_idempotent() -> None:
    bundle = {
        "entry": [
            {"request": {"method": "PUT", "url": "Patient/1"}},
            {"request": {"method": "POST", "url": "Patient"}},
        ]
    }
    assert not is_idempotent(bundle)


def test_deletion_deletes_by_lookup_in_reverse_order(good_bundle: dict[str, Any]) -> None:
    deletion = prepare(good_bundle, Mode.PUT, "b").deletion()
    assert [e["request"] for e in deletion["entry"]] == [
        {"method": "DELETE", "url": "Observation/6f1c5a4e-1d2b-4c3a-9e8f-0a1b2c3d4e03"},
        {"method": "DELETE", "url": "Condition/6f1c5a4e-1d2b-4c3a-9e8f-0a1b2c3d4e02"},
        {"method": "DELETE", "url": "Patient/6f1c5a4e-1d2b-4c3a-9e8f-0a1b2c3d4e01"},
    ]


def test_batch_rewrites_references_between_entries(good_bundle: dict[str, Any]) -> None:
    batch = prepare(good_bundle, Mode.PUT, "b").batch()
    assert batch["type"] == "batch"
    assert batch["entry"][1]["resource"]["subject"] == {
        "reference": "Patient/6f1c5a4e-1d2b-4c3a-9e8f-0a1b2c3d4e01"
    }
    with_identifiers = {
        "resourceType": "Bundle",
        "entry": [
            {**e, "resource": {**e["resource"], "identifier": [{"system": "s", "value": str(i)}]}}
            for i, e in enumerate(good_bundle["entry"])
        ],
    }
    with pytest.raises(InputFileError, match="use --mode put with --batch"):
        prepare(with_identifiers, Mode.CONDITIONAL, "b").batch()
