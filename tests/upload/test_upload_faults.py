"""Faults a real server cannot be made to produce, from a real proxy in front of it, or from a
server that is not there: retried where safe, bounded in time, never duplicating anything."""

from __future__ import annotations

import time

import pytest

from fhir_case.errors import FhirServerError, ServerUnavailableError, ServerUnreachableError
from fhir_case.upload.client import FhirClient
from fhir_case.upload.prepare import prepare
from fhir_case.upload.settings import Mode
from fhir_case.upload.uploader import Uploader
from tests.fhir_server import free_port
from tests.upload.fault_proxy import Fault, FaultProxy, is_transaction
from tests.upload.upload_helpers import MakeBundle, identifier_counts, quick_settings, type_counts


@pytest.mark.parametrize("status", [503, 429])
def test_status_with_retry_after_is_retried_then_succeeds(
    proxy: FaultProxy, client: FhirClient, make_bundle: MakeBundle, status: int
) -> None:
    bundle = make_bundle()
    proxy.inject(Fault("status", is_transaction, times=2, status=status, retry_after="1"))
    with FhirClient(quick_settings(proxy.base_url)) as through_proxy:
        started = time.monotonic()
        report = Uploader(through_proxy).upload(prepare(bundle, Mode.PUT, "test.json"))
        elapsed = time.monotonic() - started
    assert report.ok and report.created == 3
    assert sum(is_transaction(r) for r in proxy.seen) == 3  # two refused, the third went through
    assert elapsed >= 2.0  # Retry-After: 1, twice
    assert identifier_counts(client, bundle) == type_counts(bundle)


@pytest.mark.parametrize("mode", list(Mode))
def test_reset_mid_response_creates_no_duplicates(
    proxy: FaultProxy, client: FhirClient, make_bundle: MakeBundle, mode: Mode
) -> None:
    bundle = make_bundle(observations=2)
    proxy.inject(Fault("reset", is_transaction))  # the server commits, the answer is cut off
    with FhirClient(quick_settings(proxy.base_url)) as through_proxy:
        report = Uploader(through_proxy).upload(prepare(bundle, mode, "test.json"))
    assert sum(is_transaction(r) for r in proxy.seen) == 2
    assert report.ok
    assert identifier_counts(client, bundle) == type_counts(bundle)


def test_request_not_safe_to_repeat_is_not_retried(
    proxy: FaultProxy, client: FhirClient, make_bundle: MakeBundle
) -> None:
    patient = make_bundle()["entry"][0]["resource"]
    del patient["id"]
    proxy.inject(Fault("reset", lambda r: r.method == "POST"))
    with (
        FhirClient(quick_settings(proxy.base_url)) as through_proxy,
        pytest.raises(
            ServerUnreachableError, match="Not retried: the request is not safe to repeat"
        ),
    ):
        through_proxy.request("POST", "Patient", body=patient)
    assert [r.method for r in proxy.seen] == ["POST"]
    identifier = patient["identifier"][0]
    token = f"{identifier['system']}|{identifier['value']}"
    assert client.count("Patient", {"identifier": token}) == 1  # stored once, by the one POST


def test_server_that_stays_down_fails_within_the_bounded_time() -> None:
    down = f"http://127.0.0.1:{free_port()}/fhir"  # nothing listens there
    with FhirClient(quick_settings(down, retry_seconds=3.0)) as fhir:
        started = time.monotonic()
        with pytest.raises(ServerUnreachableError) as caught:
            fhir.metadata()
        elapsed = time.monotonic() - started
    assert elapsed < 3.0 + 1.0  # the limit, plus one connect attempt's slack
    message = str(caught.value)
    assert down in message and "connection refused" in message
    assert "retry time limit 3 s" in message and "Check that the server is running" in message
    assert fhir.request_count > 2


def test_server_that_keeps_answering_503_fails_within_the_bounded_time(
    proxy: FaultProxy,
) -> None:
    proxy.inject(Fault("status", lambda r: True, times=1000, status=503))
    with FhirClient(quick_settings(proxy.base_url, retry_seconds=2.0)) as fhir:
        started = time.monotonic()
        with pytest.raises(ServerUnavailableError, match="503 Service Unavailable") as caught:
            fhir.metadata()
        assert time.monotonic() - started < 4.0
    assert "the server stayed unavailable (503 Service Unavailable)" in str(caught.value)
    assert "gave up after" in str(caught.value)
    assert len(proxy.seen) > 1


def test_retry_after_beyond_the_time_limit_gives_up_at_once(proxy: FaultProxy) -> None:
    proxy.inject(Fault("status", lambda r: True, status=429, retry_after="3600"))
    with FhirClient(quick_settings(proxy.base_url, retry_seconds=5.0)) as fhir:
        started = time.monotonic()
        with pytest.raises(FhirServerError, match="asked to wait 3600 s"):
            fhir.metadata()
        assert time.monotonic() - started < 2.5  # not the 5 s limit: it gave up at once
    assert len(proxy.seen) == 1


def test_proxy_forwards_faithfully(proxy: FaultProxy) -> None:
    with FhirClient(quick_settings(proxy.base_url)) as fhir:
        statement = fhir.metadata()
    assert statement["fhirVersion"].startswith("4.0.")
    assert [(r.method, r.path) for r in proxy.seen] == [("GET", "/fhir/metadata")]
