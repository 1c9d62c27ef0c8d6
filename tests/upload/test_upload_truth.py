"""Uploads that tell the truth and time bounds that hold (issue 11), against the real server,
with the fault proxy only for what no real server does on demand: lost answers, trickled or
endless answers, redirects, a server that treats a transaction as a batch or whose
CapabilityStatement says PUT cannot create or transactions are not supported.

Every test that talks to the network is bounded: the client's own limits (a few seconds here)
end it, and the elapsed time is asserted where the bound is the point.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from fhir_case.cli import main
from fhir_case.errors import (
    FhirServerError,
    RedirectError,
    ResourceNotFoundError,
    ServerCapabilityError,
    ServerUnavailableError,
    ServerUnreachableError,
)
from fhir_case.upload.client import FhirClient
from fhir_case.upload.prepare import prepare, split
from fhir_case.upload.settings import Mode, RetryPolicy, ServerSettings
from fhir_case.upload.transport import MAX_RESPONSE_BYTES
from fhir_case.upload.uploader import Uploader
from tests.upload.fault_proxy import Fault, FaultProxy, is_transaction
from tests.upload.upload_helpers import MakeBundle, identifier_counts, quick_settings, type_counts

CASE = Path(__file__).resolve().parents[2] / "bundles" / "mpnst-chen-2024.transaction.json"


def is_metadata(request: Any) -> bool:
    return bool(request.method == "GET" and request.path.endswith("/metadata"))


def transactions(proxy: FaultProxy) -> int:
    return sum(is_transaction(r) for r in proxy.seen)


# ---------------- time bounds ----------------


def test_a_trickling_answer_is_cut_off_at_the_timeout(proxy: FaultProxy) -> None:
    proxy.inject(Fault("trickle", is_metadata, times=10, interval=0.05))
    settings = ServerSettings(proxy.base_url, read_timeout=1.5, retry=RetryPolicy(3.0))
    with FhirClient(settings) as fhir:
        started = time.monotonic()
        with pytest.raises(ServerUnreachableError) as caught:
            fhir.metadata()
        elapsed = time.monotonic() - started
    # Each byte comes well within a read timeout; only the total deadline stops it.
    assert elapsed < 3.0 + 1.0
    message = str(caught.value)
    assert "no complete answer within" in message and "too slow or still sending" in message
    assert "(retry time limit 3 s, --retry-time)" in message


def test_an_endless_answer_stops_at_the_size_limit(proxy: FaultProxy) -> None:
    proxy.inject(Fault("endless", is_metadata))
    with FhirClient(quick_settings(proxy.base_url, retry_seconds=30.0)) as fhir:
        started = time.monotonic()
        with pytest.raises(FhirServerError) as caught:
            fhir.metadata()
        assert time.monotonic() - started < 30.0
    assert f"larger than {MAX_RESPONSE_BYTES // 1024 // 1024} MB" in str(caught.value)
    assert "MAX_RESPONSE_BYTES" in str(caught.value)
    assert len(proxy.seen) == 1  # not retried: it would only send the same again


def test_a_redirect_loop_is_named_and_not_retried(proxy: FaultProxy) -> None:
    proxy.inject(Fault("redirect", is_metadata, times=10, status=302, location="/fhir/metadata"))
    with FhirClient(quick_settings(proxy.base_url)) as fhir, pytest.raises(RedirectError) as caught:
        fhir.metadata()
    assert "redirects in a loop" in str(caught.value)
    assert len(proxy.seen) == 1


def test_a_longer_redirect_loop_is_named(proxy: FaultProxy) -> None:
    proxy.inject(Fault("redirect", is_metadata, times=10, status=302, location="/fhir/other"))
    other = Fault("redirect", lambda r: r.path == "/fhir/other", times=10, status=302)
    other.location = "/fhir/metadata"
    proxy.inject(other)
    with FhirClient(quick_settings(proxy.base_url)) as fhir, pytest.raises(RedirectError) as caught:
        fhir.metadata()
    assert "/fhir/metadata -> " in str(caught.value) and "/fhir/other" in str(caught.value)
    assert len(proxy.seen) == 2


def test_a_redirect_on_this_server_is_followed_for_a_read(proxy: FaultProxy) -> None:
    proxy.inject(Fault("redirect", lambda r: r.path == "/fhir/old", status=302))
    proxy._faults[-1].location = "/fhir/metadata"
    with FhirClient(quick_settings(proxy.base_url)) as fhir:
        assert fhir.request("GET", "old").body["resourceType"] == "CapabilityStatement"


# ---------------- truth after failures ----------------


def test_retry_that_finds_its_own_creation_still_counts_created(
    proxy: FaultProxy, client: FhirClient, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle(observations=1)
    proxy.inject(Fault("reset", is_transaction))  # committed, answer lost, retried (PUT)
    with FhirClient(quick_settings(proxy.base_url)) as fhir:
        report = Uploader(fhir).upload(prepare(bundle, Mode.PUT, "t.json"))
    assert transactions(proxy) == 2
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert report.ok and identifier_counts(client, bundle) == type_counts(bundle)


def test_a_200_for_a_put_that_creates_still_counts_created(
    proxy: FaultProxy, make_bundle: MakeBundle
) -> None:
    proxy.inject(Fault("alter", is_transaction, replace=(b"201 Created", b"200 OK")))
    with FhirClient(quick_settings(proxy.base_url)) as fhir:
        report = Uploader(fhir).upload(prepare(make_bundle(), Mode.PUT, "t.json"))
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)


def test_lost_answers_then_a_check_finds_the_bundle_stored(
    proxy: FaultProxy, client: FhirClient, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle()
    proxy.inject(Fault("reset", is_transaction, times=100))  # every answer lost
    with FhirClient(quick_settings(proxy.base_url, retry_seconds=1.5)) as fhir:
        report = Uploader(fhir).upload(prepare(bundle, Mode.PUT, "t.json"))
    assert report.ok and report.verified and report.created == 3
    assert any(
        "the outcome was unknown" in note and "stored completely" in note for note in report.notes
    )
    assert identifier_counts(client, bundle) == type_counts(bundle)


def test_requests_that_never_arrive_leave_nothing_stored_and_say_so(
    proxy: FaultProxy, client: FhirClient, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle()
    proxy.inject(Fault("drop", is_transaction, times=100))
    with (
        FhirClient(quick_settings(proxy.base_url, retry_seconds=1.5)) as fhir,
        pytest.raises(ServerUnreachableError) as caught,
    ):
        Uploader(fhir).upload(prepare(bundle, Mode.PUT, "t.json"))
    message = str(caught.value)
    assert "the outcome of the transaction was unknown" in message
    assert "nothing of the bundle was stored (checked)" in message
    assert identifier_counts(client, bundle) == dict.fromkeys(type_counts(bundle), 0)


def test_a_lost_answer_to_a_request_not_safe_to_repeat_is_checked_not_repeated(
    proxy: FaultProxy, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle()
    # create mode: POST with ifNoneExist, but an entry without an identifier is a plain POST,
    # which makes the transaction unsafe to repeat and that entry impossible to look up.
    del bundle["entry"][2]["resource"]["identifier"]
    proxy.inject(Fault("reset", is_transaction))
    with (
        FhirClient(quick_settings(proxy.base_url)) as fhir,
        pytest.raises(ServerUnreachableError) as caught,
    ):
        Uploader(fhir).upload(prepare(bundle, Mode.CREATE, "t.json"))
    assert transactions(proxy) == 1
    message = str(caught.value)
    assert "Not retried: the request is not safe to repeat" in message
    assert "the outcome of the transaction was unknown" in message
    assert "1 of the 3 entries cannot be looked up" in message


@pytest.mark.parametrize("status", [503, 502, 429])
def test_giving_up_on_a_busy_server_says_it_stayed_unavailable(
    proxy: FaultProxy, client: FhirClient, make_bundle: MakeBundle, status: int
) -> None:
    bundle = make_bundle()
    proxy.inject(Fault("status", is_transaction, times=1000, status=status))
    with (
        FhirClient(quick_settings(proxy.base_url, retry_seconds=1.5)) as fhir,
        pytest.raises(ServerUnavailableError) as caught,
    ):
        Uploader(fhir).upload(prepare(bundle, Mode.PUT, "t.json"))
    message = str(caught.value)
    assert f"the server stayed unavailable ({status} " in message
    assert "rejected" not in message
    assert "nothing of the bundle was stored (checked)" in message


def test_a_retry_after_beyond_the_retry_time_is_quoted(
    proxy: FaultProxy, make_bundle: MakeBundle, write_bundle: Any, capsys: Any
) -> None:
    path = write_bundle(make_bundle(), "case.json")
    proxy.inject(Fault("status", is_transaction, status=429, retry_after="3600"))
    command = ["upload", str(path), "--server", proxy.base_url, "--retry-time", "5"]
    assert main(command) == 1
    err = capsys.readouterr().err
    assert "asked to wait 3600 s (Retry-After: 3600), longer than" in err
    assert "--retry-time" in err and "rejected" not in err


def test_a_404_on_the_transaction_is_followed_by_the_check(
    proxy: FaultProxy, make_bundle: MakeBundle
) -> None:
    proxy.inject(Fault("status", is_transaction, status=404))
    with (
        FhirClient(quick_settings(proxy.base_url)) as fhir,
        pytest.raises(ResourceNotFoundError) as caught,
    ):
        Uploader(fhir).upload(prepare(make_bundle(), Mode.PUT, "t.json"))
    assert "404" in str(caught.value)
    assert "nothing of the bundle was stored (checked)" in str(caught.value)


def test_a_transaction_answered_like_a_batch_is_reported_not_atomic(
    proxy: FaultProxy, client: FhirClient, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle(observations=2, invalid_observation=1)
    proxy.inject(
        Fault(
            "alter-request",
            is_transaction,
            replace=(b'"type": "transaction"', b'"type": "batch"'),
            replace_answer=(b'"type":"batch-response"', b'"type":"transaction-response"'),
        )
    )
    with FhirClient(quick_settings(proxy.base_url)) as fhir:
        report = Uploader(fhir).upload(prepare(bundle, Mode.PUT, "t.json"))
    assert report.created == 3 and not report.ok
    assert any(
        "answered the transaction like a batch" in n and "not atomic" in n for n in report.notes
    )
    assert f"entry 3 (Observation {bundle['entry'][3]['fullUrl']})" in report.mismatches
    # Treated as a batch, the server did not resolve the references between entries either:
    # the read-back says so (a true difference, not a false one).
    patient = bundle["entry"][0]["fullUrl"]
    for label, found in report.mismatches.items():
        if "entry 3" not in label:
            assert any(f"the server has '{patient}'" in problem for problem in found)


def test_read_back_has_no_false_mismatch_for_references_to_failed_entries(
    client: FhirClient, make_bundle: MakeBundle
) -> None:
    bundle = make_bundle(observations=2)
    bundle["entry"][0]["resource"]["birthDate"] = "not a date"  # the Patient fails
    report = Uploader(client, batch=True).upload(prepare(bundle, Mode.PUT, "t.json"))
    assert report.verified and report.failed == 1
    patient = bundle["entry"][0]["fullUrl"]
    assert list(report.mismatches) == [f"entry 0 (Patient {patient})"]  # only the failure


# ---------------- servers as they are ----------------


def test_a_server_whose_put_cannot_create_is_explained_before_sending(
    proxy: FaultProxy, client: FhirClient, make_bundle: MakeBundle
) -> None:
    proxy.inject(
        Fault(
            "alter",
            is_metadata,
            times=10,
            replace=(b'"updateCreate":true', b'"updateCreate":false'),
        )
    )
    bundle = make_bundle()
    with FhirClient(quick_settings(proxy.base_url)) as fhir:
        with pytest.raises(ServerCapabilityError) as caught:
            Uploader(fhir).upload(prepare(bundle, Mode.PUT, "t.json"))
        assert [r.method for r in proxy.seen] == ["GET"]  # nothing but the metadata
        message = str(caught.value)
        assert "cannot create resources with PUT (updateCreate: false" in message
        assert "--mode create" in message and "--mode conditional" in message
        report = Uploader(fhir).upload(prepare(bundle, Mode.CREATE, "t.json"))
    assert report.ok and report.verified and report.created == 3
    assert identifier_counts(client, bundle) == type_counts(bundle)
    observation = client.read(*report.server_ids[bundle["entry"][2]["fullUrl"]].split("/"))
    assert observation["subject"]["reference"].endswith(
        report.server_ids[bundle["entry"][0]["fullUrl"]]
    )


def test_a_server_without_transactions_is_offered_batch(
    proxy: FaultProxy, make_bundle: MakeBundle, write_bundle: Any, capsys: Any
) -> None:
    proxy.inject(Fault("alter", is_metadata, times=10, replace=(b'{"code":"transaction"},', b"")))
    path = str(write_bundle(make_bundle(), "case.json"))
    assert main(["upload", path, "--server", proxy.base_url]) == 1
    assert "does not support transactions; it supports batch: rerun with --batch" in (
        capsys.readouterr().err
    )
    assert not any(r.method == "POST" for r in proxy.seen)
    assert main(["upload", path, "--server", proxy.base_url, "--batch"]) == 0


def test_max_entries_splits_the_case_into_transactions_closed_under_references(
    proxy: FaultProxy, client: FhirClient, capsys: Any
) -> None:
    bundle = json.loads(CASE.read_text(encoding="utf-8"))
    assert main(["upload", str(CASE), "--server", proxy.base_url, "--max-entries", "20"]) == 0
    parts = split(prepare(bundle, Mode.PUT, "case"), 20)
    assert all(len(part) <= 20 for part in parts) and len(parts) >= len(bundle["entry"]) / 20
    assert transactions(proxy) == len(parts)
    out, err = capsys.readouterr()
    assert f"sent as {len(parts)} transactions of at most 20 entries (--max-entries)" in err
    assert "the bundle as a whole is not" in err
    assert out.splitlines()[2].split()[-1] == "yes"  # verified
    for entry in bundle["entry"][:5]:
        rtype, rid = entry["request"]["url"].split("/")
        assert client.read(rtype, rid)["id"] == rid
