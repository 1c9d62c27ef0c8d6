"""FhirClient's read API and error mapping, against the real server."""

from __future__ import annotations

import email.utils
import functools
import http.server
import threading
import time
from pathlib import Path

import pytest

from fhir_case.errors import FhirServerError, RequestRejectedError, ResourceNotFoundError
from fhir_case.upload.client import FhirClient, _retry_after
from fhir_case.upload.outcome import OutcomeIssue
from fhir_case.upload.prepare import prepare
from fhir_case.upload.settings import Mode
from fhir_case.upload.uploader import Uploader
from tests.upload.upload_helpers import MakeBundle, quick_settings


@pytest.fixture
def stored_bundle(client: FhirClient, make_bundle: MakeBundle) -> dict[str, object]:
    bundle = make_bundle(observations=5)
    Uploader(client).upload(prepare(bundle, Mode.PUT, "test.json"))
    return bundle


def test_search_follows_next_links_across_pages(
    client: FhirClient, stored_bundle: dict[str, list[dict[str, dict[str, str]]]]
) -> None:
    patient_id = stored_bundle["entry"][0]["resource"]["id"]
    before = client.request_count
    found = list(client.search("Observation", {"subject": f"Patient/{patient_id}", "_count": "2"}))
    assert client.request_count - before == 3  # pages of 2, 2 and 1
    expected = {e["resource"]["id"] for e in stored_bundle["entry"][2:]}
    assert {r["id"] for r in found} == expected and len(found) == 5
    assert client.count("Observation", {"subject": f"Patient/{patient_id}"}) == 5


def test_everything_returns_the_patients_record(
    client: FhirClient, stored_bundle: dict[str, list[dict[str, dict[str, str]]]]
) -> None:
    patient_id = stored_bundle["entry"][0]["resource"]["id"]
    found = {(r["resourceType"], r["id"]) for r in client.everything(patient_id)}
    sent = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in stored_bundle["entry"]}
    assert found == sent


def test_missing_resource_is_a_not_found_error_with_the_outcome(client: FhirClient) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        client.read("Patient", "no-such-patient")
    assert caught.value.status == 404
    assert "GET " in str(caught.value) and "Patient/no-such-patient" in str(caught.value)
    issues = caught.value.issues
    assert issues and isinstance(issues[0], OutcomeIssue) and issues[0].severity == "error"


def test_rejected_request_carries_the_servers_issues(client: FhirClient) -> None:
    with pytest.raises(RequestRejectedError) as caught:
        client.request("PUT", "Patient/abc", body={"resourceType": "Patient", "id": "other"})
    assert caught.value.status == 400
    assert "does not match" in str(caught.value)


def test_non_fhir_answer_is_named(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html><body>a web site</body></html>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as web:
        threading.Thread(target=web.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{web.server_address[1]}"
        with FhirClient(quick_settings(url)) as fhir, pytest.raises(FhirServerError) as caught:
            fhir.request("GET", "")
        web.shutdown()
    assert "the answer is not JSON (text/html" in str(caught.value)
    assert "is this the base URL of a FHIR server?" in str(caught.value)


def test_retry_after_in_seconds_and_as_a_date() -> None:
    assert _retry_after("7") == 7.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (_retry_after(later) or 0) <= 31
