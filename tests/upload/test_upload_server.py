"""Acceptance against a real FHIR server: upload, read back, idempotence, rejection, delete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fhir_case.errors import TransactionRejectedError
from fhir_case.upload.client import FhirClient
from fhir_case.upload.compare import differences
from fhir_case.upload.prepare import prepare
from fhir_case.upload.settings import Mode
from fhir_case.upload.uploader import Capability, Uploader
from tests.fhir_server import SekmetServer
from tests.upload.fault_proxy import FaultProxy, is_transaction
from tests.upload.upload_helpers import MakeBundle, identifier_counts, quick_settings, type_counts

CASE = Path(__file__).resolve().parents[2] / "bundles" / "mpnst-chen-2024.transaction.json"


@pytest.fixture(scope="module")
def case_bundle() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(CASE.read_text(encoding="utf-8"))
    return bundle


def upload(client: FhirClient, bundle: dict[str, Any], mode: Mode = Mode.PUT) -> Any:
    return Uploader(client).upload(prepare(bundle, mode, "test.json"))


def test_the_case_uploads_in_one_transaction_and_every_resource_reads_back(
    proxy: FaultProxy, client: FhirClient, case_bundle: dict[str, Any]
) -> None:
    with FhirClient(quick_settings(proxy.base_url)) as through_proxy:
        report = upload(through_proxy, case_bundle)
    assert [is_transaction(r) for r in proxy.seen].count(True) == 1
    assert report.ok and report.verified
    assert report.created + report.updated + report.unchanged == len(case_bundle["entry"])
    for entry in case_bundle["entry"]:
        rtype, rid = entry["request"]["url"].split("/")
        stored = client.read(rtype, rid)
        assert differences(entry["resource"], stored, report.server_ids, client.base_url) == []


def test_five_uploads_of_the_case_leave_one_copy_of_each_resource(
    client: FhirClient, case_bundle: dict[str, Any]
) -> None:
    ids: dict[str, list[str]] = {}
    for entry in case_bundle["entry"]:
        ids.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"]["id"])
    upload(client, case_bundle)
    on_server = {rtype: client.count(rtype) for rtype in ids}
    reports = [upload(client, case_bundle) for _ in range(4)]
    assert all(r.ok and r.unchanged == len(case_bundle["entry"]) for r in reports)
    assert {rtype: client.count(rtype) for rtype in ids} == on_server
    assert {t: client.count(t, {"_id": ",".join(i)}) for t, i in ids.items()} == {
        t: len(i) for t, i in ids.items()
    }


def test_bundle_uploads_in_one_transaction_and_every_resource_reads_back(
    client: FhirClient, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle(observations=2)
    before = client.request_count
    report = upload(client, bundle)
    # metadata, one batch of look-ups, ONE transaction, one batch of read-backs
    assert client.request_count - before == 4
    assert report.ok and report.verified
    assert (report.created, report.updated, report.unchanged) == (4, 0, 0)
    for entry in bundle["entry"]:
        rtype, rid = entry["request"]["url"].split("/")
        assert report.server_ids[entry["fullUrl"]] == f"{rtype}/{rid}"
        stored = client.read(rtype, rid)  # read independently of the uploader's own check
        assert differences(entry["resource"], stored, report.server_ids, client.base_url) == []
        assert stored["meta"]["versionId"]
    condition = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition")
    stored = client.read("Condition", condition["resource"]["id"])
    patient_id = bundle["entry"][0]["resource"]["id"]
    assert stored["subject"]["reference"].endswith(f"Patient/{patient_id}")


@pytest.mark.parametrize("mode", list(Mode))
def test_five_uploads_leave_one_copy_of_each_resource(
    client: FhirClient, make_bundle: MakeBundle, mode: Mode
) -> None:
    bundle = make_bundle(observations=2)
    reports = [upload(client, bundle, mode) for _ in range(5)]
    assert identifier_counts(client, bundle) == type_counts(bundle)
    assert all(r.ok for r in reports)
    assert reports[0].created == 4
    assert all((r.created, r.updated, r.unchanged) == (0, 0, 4) for r in reports[1:])


def test_changed_resource_counts_as_updated(client: FhirClient, make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    upload(client, bundle)
    bundle["entry"][0]["resource"]["birthDate"] = "1970-05-13"
    report = upload(client, bundle)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert client.read("Patient", bundle["entry"][0]["resource"]["id"])["birthDate"] == "1970-05-13"


def test_bundle_with_one_invalid_entry_is_rejected_whole_and_names_it(
    client: FhirClient, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle(observations=3, invalid_observation=1)
    bad = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"][1]
    with pytest.raises(TransactionRejectedError) as caught:
        upload(client, bundle)
    message = str(caught.value)
    assert f"Observation {bad['fullUrl']}" in message
    others = [e["fullUrl"] for e in bundle["entry"] if e is not bad]
    assert not any(full_url in message for full_url in others)
    assert "nothing of the bundle was stored (checked)" in message
    assert caught.value.status is not None and 400 <= caught.value.status < 500
    assert identifier_counts(client, bundle) == dict.fromkeys(type_counts(bundle), 0)


def test_conditional_mode_resolves_references_to_server_ids(
    client: FhirClient, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle()
    report = upload(client, bundle, Mode.CONDITIONAL)
    assert report.ok and report.verified and report.created == 3
    patient_ref = report.server_ids[bundle["entry"][0]["fullUrl"]]
    observation_ref = report.server_ids[bundle["entry"][2]["fullUrl"]]
    observation = client.read(*observation_ref.split("/"))
    assert observation["subject"]["reference"].endswith(patient_ref)


def test_delete_removes_the_bundles_resources(client: FhirClient, make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    prepared = prepare(bundle, Mode.PUT, "test.json")
    uploader = Uploader(client)
    uploader.upload(prepared)
    assert uploader.delete(prepared) == (3, 0)
    assert identifier_counts(client, bundle) == dict.fromkeys(type_counts(bundle), 0)
    assert uploader.delete(prepared) == (0, 3)


def test_batch_stores_the_valid_entries_and_reports_the_invalid_one(
    client: FhirClient, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle(observations=2, invalid_observation=1)
    bad = bundle["entry"][3]
    report = Uploader(client, batch=True).upload(prepare(bundle, Mode.PUT, "test.json"))
    assert not report.ok and report.verified
    assert (report.created, report.failed) == (3, 1)
    assert list(report.mismatches) == [f"entry 3 (Observation {bad['fullUrl']})"]
    counts = identifier_counts(client, bundle)
    assert counts == {"Patient": 1, "Condition": 1, "Observation": 1}
    patient_id = bundle["entry"][0]["resource"]["id"]
    condition = client.read("Condition", bundle["entry"][1]["resource"]["id"])
    assert condition["subject"]["reference"].endswith(f"Patient/{patient_id}")


def test_without_batch_support_reads_one_by_one(
    client: FhirClient, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle()
    uploader = Uploader(client)
    # As the capability check finds it on a server that offers transaction but not batch.
    uploader._capability = Capability("4.0.1", "a server without batch", True, False)
    before = client.request_count
    report = uploader.upload(prepare(bundle, Mode.PUT, "test.json"))
    assert report.ok and report.verified and report.created == 3
    assert client.request_count - before == 3 + 1 + 3  # reads, the transaction, read-backs


def test_a_server_answering_absolute_references_still_matches(
    tmp_path_factory: pytest.TempPathFactory, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle()
    folder = tmp_path_factory.mktemp("absolute")
    with (
        SekmetServer(folder, absolute_references=True) as server,
        FhirClient(quick_settings(server.base_url)) as fhir,
    ):
        report = upload(fhir, bundle)
        condition = fhir.read("Condition", bundle["entry"][1]["resource"]["id"])
    assert condition["subject"]["reference"].startswith(server.base_url + "/Patient/")
    assert report.ok and report.verified and report.created == 3
