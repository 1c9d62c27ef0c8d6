"""`fhir-case upload` and `fhir-case delete` end to end, against the real server."""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fhir_case.cli import main
from fhir_case.upload.client import FhirClient
from tests.fhir_server import SekmetServer, free_port
from tests.upload.fault_proxy import Fault, FaultProxy, is_batch, is_transaction
from tests.upload.upload_helpers import MakeBundle, identifier_counts, type_counts

WriteBundle = Callable[[dict[str, Any], str], Path]


@pytest.fixture(autouse=True)
def no_token_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FHIR_CASE_TOKEN", raising=False)
    monkeypatch.delenv("FHIR_CASE_PASSWORD", raising=False)


@pytest.fixture(scope="module")
def token() -> str:
    return f"tok-{secrets.token_urlsafe(24)}"


@pytest.fixture(scope="module")
def secured_server_url(tmp_path_factory: pytest.TempPathFactory, token: str) -> Iterator[str]:
    """A second real server that accepts only the bearer token ``token``, or ann:``token``."""
    folder = tmp_path_factory.mktemp("secured")
    with SekmetServer(folder, bearer_tokens=(token,), basic_users={"ann": token}) as server:
        yield server.base_url


def test_dry_run_sends_nothing(
    proxy: FaultProxy,
    make_bundle: MakeBundle,
    write_bundle: WriteBundle,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = make_bundle()
    path = write_bundle(bundle, "case.json")
    assert main(["upload", str(path), "--server", proxy.base_url, "--dry-run"]) == 0
    assert proxy.seen == []
    out = capsys.readouterr().out
    assert f"would POST {proxy.base_url} a transaction of 3 entries (put mode" in out
    for entry in bundle["entry"]:
        assert f"PUT {entry['request']['url']}  <- {entry['fullUrl']}" in out
    assert "dry run: nothing was sent" in out


def test_delete_dry_run_sends_nothing(
    proxy: FaultProxy, make_bundle: MakeBundle, write_bundle: WriteBundle
) -> None:
    path = write_bundle(make_bundle(), "case.json")
    assert main(["delete", str(path), "--server", proxy.base_url, "--dry-run"]) == 0
    assert proxy.seen == []


def test_public_server_notice_without_sending(
    make_bundle: MakeBundle, write_bundle: WriteBundle, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_bundle(make_bundle(), "case.json")
    assert main(["upload", str(path), "--dry-run"]) == 0  # default server: hapi-r4
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "notice: https://hapi.fhir.org/baseR4 is a public test server: anything uploaded there "
        "can be read by anyone"
    ]


def test_several_bundles_keep_going_past_a_failure_with_a_summary(
    fhir_server_url: str,
    client: FhirClient,
    make_bundle: MakeBundle,
    write_bundle: WriteBundle,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, bad, last = make_bundle(), make_bundle(invalid_observation=0), make_bundle()
    paths = [
        write_bundle(first, "a.json"),
        write_bundle(bad, "b.json"),
        write_bundle(last, "c.json"),
    ]
    write_bundle(first, "a.json")
    assert main(["upload", *map(str, paths[:1]), "--server", fhir_server_url]) == 0
    capsys.readouterr()
    assert main(["upload", *map(str, paths), "--server", fhir_server_url]) == 1
    out, err = capsys.readouterr()
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:5]}
    assert rows == {
        "a.json": ["3", "0", "0", "3", "0", "yes"],
        "b.json": ["3", "0", "0", "0", "3", "-"],
        "c.json": ["3", "3", "0", "0", "0", "yes"],
    }
    assert f"{fhir_server_url}: 9 entries in 3 bundle(s)" in out
    bad_observation = bad["entry"][2]
    assert f"b.json: the server rejected {paths[1]}" in err
    assert f"Observation {bad_observation['fullUrl']}" in err
    assert identifier_counts(client, last) == type_counts(last)
    assert identifier_counts(client, bad) == dict.fromkeys(type_counts(bad), 0)


def test_default_bundles_are_the_committed_transaction_bundles(
    fhir_server_url: str,
    make_bundle: MakeBundle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["upload", "--server", fhir_server_url]) == 2
    assert "no bundle given and none found at bundles/*.transaction.json" in capsys.readouterr().err
    (tmp_path / "bundles").mkdir()
    (tmp_path / "bundles" / "x.transaction.json").write_text(json.dumps(make_bundle()))
    (tmp_path / "bundles" / "x.collection.json").write_text("not even JSON")
    assert main(["upload", "--server", fhir_server_url]) == 0
    assert "x.transaction.json" in capsys.readouterr().out


def test_delete_command_removes_what_upload_stored(
    fhir_server_url: str,
    client: FhirClient,
    make_bundle: MakeBundle,
    write_bundle: WriteBundle,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = make_bundle()
    path = str(write_bundle(bundle, "case.json"))
    assert main(["upload", path, "--server", fhir_server_url]) == 0
    assert main(["delete", path, "--server", fhir_server_url]) == 0
    assert identifier_counts(client, bundle) == dict.fromkeys(type_counts(bundle), 0)
    assert main(["delete", path, "--server", fhir_server_url]) == 0
    out = capsys.readouterr().out
    assert f"{path}: deleted 3 resources from {fhir_server_url}" in out
    assert f"{path}: deleted 0 resources from {fhir_server_url} (3 were not there)" in out


def test_unusable_bundle_file_is_named_with_its_line(
    fhir_server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "resourceType": "Bundle",\n  "entry": [,]\n}\n')
    assert main(["upload", str(path), "--server", fhir_server_url, "--dry-run"]) == 2
    assert f"{path}:3:" in capsys.readouterr().err


def test_token_never_appears_in_any_output(
    secured_server_url: str,
    token: str,
    make_bundle: MakeBundle,
    write_bundle: WriteBundle,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    path = str(write_bundle(make_bundle(), "case.json"))
    good = tmp_path / "token"
    good.write_text(token + "\n")
    wrong_token = f"tok-{secrets.token_urlsafe(24)}"
    wrong = tmp_path / "wrong-token"
    wrong.write_text(wrong_token)
    server = ["--server", secured_server_url]

    assert main(["upload", path, *server, "--token-file", str(good)]) == 0
    accepted = capsys.readouterr()
    assert accepted.out.splitlines()[2].split()[1:3] == ["3", "3"]  # 3 entries, 3 created

    assert main(["upload", path, *server, "--token-file", str(wrong)]) == 1
    refused = capsys.readouterr()
    assert "401" in refused.err and "Check the credentials" in refused.err

    assert main(["upload", path, *server]) == 1  # no token at all
    missing = capsys.readouterr()
    assert "401" in missing.err

    everything = "\n".join(
        [
            accepted.out,
            accepted.err,
            refused.out,
            refused.err,
            missing.out,
            missing.err,
            caplog.text,
        ]
    )
    assert token not in everything and wrong_token not in everything
    assert caplog.text  # the log was captured, so the check above means something


def test_token_from_the_environment_never_appears_in_a_subprocess(
    secured_server_url: str, token: str, make_bundle: MakeBundle, write_bundle: WriteBundle
) -> None:
    path = str(write_bundle(make_bundle(), "case.json"))
    command = [sys.executable, "-m", "fhir_case", "upload", path, "--server", secured_server_url]
    env = {**os.environ, "FHIR_CASE_TOKEN": token}
    accepted = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert accepted.returncode == 0, accepted.stderr
    env["FHIR_CASE_TOKEN"] = token[::-1]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert refused.returncode == 1 and "401" in refused.stderr
    for run in (accepted, refused):
        assert token not in run.stdout + run.stderr
        assert token[::-1] not in run.stdout + run.stderr


def test_tls_is_verified_unless_insecure_is_given(
    tmp_path_factory: pytest.TempPathFactory,
    make_bundle: MakeBundle,
    write_bundle: WriteBundle,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(write_bundle(make_bundle(), "case.json"))
    with SekmetServer(tmp_path_factory.mktemp("tls"), tls=True) as server:
        assert server.base_url.startswith("https://")
        assert main(["upload", path, "--server", server.base_url, "--retry-time", "5"]) == 1
        assert "TLS certificate verification failed" in capsys.readouterr().err
        assert main(["upload", path, "--server", server.base_url, "--insecure"]) == 0
        assert capsys.readouterr().err.splitlines() == [
            f"notice: --insecure: the TLS certificate of {server.base_url} is not verified"
        ]  # once, and no warning on every request


def test_progress_is_shown_on_a_terminal(
    fhir_server_url: str,
    make_bundle: MakeBundle,
    write_bundle: WriteBundle,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = str(write_bundle(make_bundle(), "case.json"))
    assert main(["upload", path, "--server", fhir_server_url]) == 0
    assert capsys.readouterr().err == ""  # not a terminal: no progress
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["upload", path, "--server", fhir_server_url]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "[1/1] case.json: checking the server...",
        "[1/1] case.json: looking up what the server holds...",
        "[1/1] case.json: sending 3 entries...",
        "[1/1] case.json: reading back 3 resources...",
    ]


def test_a_server_that_is_down_is_not_waited_for_twice(
    make_bundle: MakeBundle, write_bundle: WriteBundle, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(write_bundle(make_bundle(), name)) for name in ("a.json", "b.json")]
    down = f"http://127.0.0.1:{free_port()}/fhir"
    started = time.monotonic()
    assert main(["upload", *paths, "--server", down, "--retry-time", "2"]) == 1
    assert time.monotonic() - started < 3.5
    err = capsys.readouterr().err
    assert "a.json: GET " in err and "connection refused" in err
    assert "b.json: not attempted: a.json failed on the server itself" in err


def test_retries_are_shown(
    proxy: FaultProxy,
    make_bundle: MakeBundle,
    write_bundle: WriteBundle,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(write_bundle(make_bundle(), "case.json"))
    proxy.inject(Fault("status", is_transaction, status=503, retry_after="1"))
    assert main(["upload", path, "--server", proxy.base_url]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"fhir-case: POST {proxy.base_url}: 503 Service Unavailable; retrying in 1.0 s (attempt 2)"
    ]


def test_basic_auth_password_never_appears(
    secured_server_url: str,
    token: str,
    make_bundle: MakeBundle,
    write_bundle: WriteBundle,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = str(write_bundle(make_bundle(), "case.json"))
    command = ["upload", path, "--server", secured_server_url, "--basic-user", "ann"]
    monkeypatch.setenv("FHIR_CASE_PASSWORD", token)
    assert main(command) == 0
    accepted = capsys.readouterr()
    monkeypatch.setenv("FHIR_CASE_PASSWORD", token[::-1])
    assert main(command) == 1
    refused = capsys.readouterr()
    assert "401" in refused.err
    for output in (accepted, refused):
        assert token not in output.out + output.err
        assert token[::-1] not in output.out + output.err


def test_what_the_server_changed_is_reported_and_fails(
    proxy: FaultProxy,
    make_bundle: MakeBundle,
    write_bundle: WriteBundle,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = make_bundle()
    path = str(write_bundle(bundle, "case.json"))
    # The second batch is the read-back; it says the server holds another birth date.
    altered = (b'"birthDate":"1970-05-12"', b'"birthDate":"1970-05-13"')
    proxy.inject(Fault("alter", is_batch, skip=1, replace=altered))
    assert main(["upload", path, "--server", proxy.base_url]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[2].split()[1:] == ["3", "3", "0", "0", "1", "no"]
    patient = bundle["entry"][0]["fullUrl"]
    assert err.splitlines() == [
        f"fhir-case upload: {path}: entry 0 (Patient {patient}):",
        "  - Patient.birthDate: sent '1970-05-12', the server has '1970-05-13'",
    ]
