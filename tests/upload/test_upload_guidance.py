"""What upload and delete tell a newcomer: the next step after an upload, no default server for a
delete. Against the real server."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fhir_case.cli import main
from tests.helpers import ROOT, run_cli

CASE = ROOT / "bundles" / "mpnst-chen-2024.transaction.json"
CASE_PATIENT = "f5ed8fd6-8a34-526f-bf54-a7855f1b7836"  # uuid5 of the case and its patient

WriteBundle = Callable[[dict[str, Any], str], Path]


@pytest.mark.parametrize("extra", [[], ["--dry-run"], ["--mode", "conditional"]])
def test_delete_without_server_exits_2(tmp_path: Path, extra: list[str]) -> None:
    (tmp_path / "bundles").mkdir()
    (tmp_path / "bundles" / CASE.name).write_bytes(CASE.read_bytes())
    result = run_cli("delete", *extra, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "fhir-case delete: error: --server URL|NAME is required: deleting has no default server"
    )
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_upload_prints_the_patient_its_everything_url_and_the_view_command(
    fhir_server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upload", str(CASE), "--server", fhir_server_url]) == 0
    out = capsys.readouterr().out.splitlines()
    view = f"fhir-case view --server {fhir_server_url} --patient {CASE_PATIENT} -o case.html"
    start = out.index(f"Patient/{CASE_PATIENT} is on {fhir_server_url}")
    assert out[start + 1 : start + 3] == [
        f"  its record: {fhir_server_url}/Patient/{CASE_PATIENT}/$everything",
        f"  view it:    {view}",
    ]
    # The printed command is exact: run as printed, it renders the record from the server.
    command = shlex.split(view)
    assert command[0] == "fhir-case"
    result = run_cli(*command[1:], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "case.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["delete", str(CASE), "--server", fhir_server_url]) == 0


def test_the_printed_view_command_keeps_the_connection_options(
    fhir_server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = tmp_path / "token with space"
    token.write_text("not-checked-by-this-server\n")
    arguments = ["--server", fhir_server_url, "--token-file", str(token), "--insecure"]
    assert main(["upload", str(CASE), *arguments]) == 0
    out = capsys.readouterr().out
    assert f"  view it:    fhir-case view {shlex.join(arguments)} --patient {CASE_PATIENT}" in out
    assert "not-checked-by-this-server" not in out
    assert main(["delete", str(CASE), "--server", fhir_server_url]) == 0


def test_a_failed_upload_prints_no_next_step(
    fhir_server_url: str,
    make_bundle: Callable[..., dict[str, Any]],
    write_bundle: WriteBundle,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_bundle(make_bundle(invalid_observation=0), "bad.json")
    assert main(["upload", str(path), "--server", fhir_server_url]) == 1
    assert "view it:" not in capsys.readouterr().out
