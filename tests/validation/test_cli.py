"""``fhir-case validate`` run as a real process: output formats and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.validation.corpus import BROKEN


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fhir_case", "validate", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_errors_give_one_line_each_and_exit_1(fhir_package_cache: Path) -> None:
    result = run(BROKEN / "txn-put-id-mismatch.json")
    assert result.returncode == 1
    assert (
        "error bundle Bundle.entry[0].request.url: PUT url "
        "'Patient/0f4f6a1e-5a8b-5c2e-9d3a-1b2c3d4e5f77' names id "
        "0f4f6a1e-5a8b-5c2e-9d3a-1b2c3d4e5f77, but the resource's id is "
        "0f4f6a1e-5a8b-5c2e-9d3a-1b2c3d4e5f01 (fix: set request.url to "
        "Patient/0f4f6a1e-5a8b-5c2e-9d3a-1b2c3d4e5f01)"
    ) in result.stdout.splitlines()
    assert "txn-put-id-mismatch.json: 1 error," in result.stdout.splitlines()[-1]


def test_warnings_alone_exit_0(fhir_package_cache: Path) -> None:
    result = run(BROKEN / "ucum-mcg.json")
    assert result.returncode == 0
    assert (
        "warning terminology Bundle.entry[3].resource.dosageInstruction[0].doseAndRate[0]"
        ".dose.ofType(Quantity).code: 'mcg' is not a valid UCUM unit: 'mcg' is not a UCUM unit "
        "(fix: the UCUM code is probably 'ug')"
    ) in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1].endswith(
        "ucum-mcg.json: 0 errors, 1 warning, 0 information"
    )


def test_a_valid_bundle_exits_0(fhir_package_cache: Path) -> None:
    result = run(BROKEN / "_valid.json")
    assert result.returncode == 0, result.stdout


def test_json_output_is_an_operation_outcome(fhir_package_cache: Path) -> None:
    result = run("--format", "json", BROKEN / "txn-put-id-mismatch.json")
    outcome = json.loads(result.stdout)
    assert outcome["resourceType"] == "OperationOutcome"
    assert {
        "severity": "error",
        "code": "invalid",
        "details": {"text": "fhir-case bundle layer"},
        "diagnostics": "PUT url 'Patient/0f4f6a1e-5a8b-5c2e-9d3a-1b2c3d4e5f77' names id "
        "0f4f6a1e-5a8b-5c2e-9d3a-1b2c3d4e5f77, but the resource's id is "
        "0f4f6a1e-5a8b-5c2e-9d3a-1b2c3d4e5f01 (fix: set request.url to "
        "Patient/0f4f6a1e-5a8b-5c2e-9d3a-1b2c3d4e5f01)",
        "expression": ["Bundle.entry[0].request.url"],
    } in outcome["issue"]
    assert result.returncode == 1


def test_several_files_give_a_bundle_of_outcomes(fhir_package_cache: Path) -> None:
    result = run("--format", "json", BROKEN / "_valid.json", BROKEN / "ucum-mcg.json")
    report = json.loads(result.stdout)
    assert [entry["resource"]["resourceType"] for entry in report["entry"]] == [
        "OperationOutcome",
        "OperationOutcome",
    ]
    assert report["entry"][0]["resource"]["issue"][0]["code"] == "informational"


def test_json_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "resourceType": "Patient",\n  "gender": female\n}\n')
    result = run(broken)
    assert result.returncode == 2
    assert f"{broken}:3:13: not valid JSON: Expecting value" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path / "nope.json")
    assert result.returncode == 2
    assert f"{tmp_path / 'nope.json'}: no such file" in result.stderr


def test_without_packages_the_layers_that_need_them_say_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty-cache"
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "fhir_case", "validate", str(BROKEN / "_valid.json")],
        capture_output=True,
        text=True,
        check=False,
        env={
            "FHIR_PACKAGE_CACHE": str(empty),
            "FHIR_CASE_CACHE": str(tmp_path / "rules"),
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
        },
    )
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if "did not run" in line]
    assert [line.split()[:3] for line in lines] == [
        ["error", "schema", "Bundle:"],
        ["error", "profile", "Bundle:"],
    ]
    assert all(
        "(fix: fhir-case packages install hl7.fhir.r4.core#4.0.1 (or" in line for line in lines
    )


def test_a_package_file_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    result = run("--package", tmp_path / "nope.tgz", BROKEN / "_valid.json")
    assert result.returncode == 2
    assert f"{tmp_path / 'nope.tgz'}: no such package file or folder" in result.stderr
