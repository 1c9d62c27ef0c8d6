"""``fhir-case validate`` run as a real process: output formats and exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT, run_cli
from tests.validation.corpus import BROKEN


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fhir_case", "validate", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_errors_give_one_line_each_naming_the_file_and_exit_1(fhir_package_cache: Path) -> None:
    result = run(BROKEN / "txn-put-id-mismatch.json")
    assert result.returncode == 1
    assert (
        f"{BROKEN / 'txn-put-id-mismatch.json'}: error bundle Bundle.entry[0].request.url: PUT url "
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
        f"{BROKEN / 'ucum-mcg.json'}: warning terminology "
        "Bundle.entry[3].resource.dosageInstruction[0].doseAndRate[0].dose.ofType(Quantity).code: "
        "'mcg' is not a valid UCUM unit: 'mcg' is not a UCUM unit "
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


def without_packages(tmp_path: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``fhir-case ARGS`` with an empty FHIR package cache."""
    empty = tmp_path / "empty-cache"
    empty.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "fhir_case", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={
            "FHIR_PACKAGE_CACHE": str(empty),
            "FHIR_CASE_CACHE": str(tmp_path / "rules"),
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
        },
    )


def test_without_packages_the_layers_that_need_them_say_so(tmp_path: Path) -> None:
    result = without_packages(tmp_path, "validate", BROKEN / "_valid.json")
    assert result.returncode == 3  # no error found, but not every layer ran
    assert result.stdout.splitlines()[-1] == (
        f"{BROKEN / '_valid.json'}: 0 errors, 0 warnings, 0 information; not checked by the "
        "schema and profile layers, only by the structure, bundle and terminology layers"
    )
    assert "did not run" not in result.stdout  # said once, on stderr
    note = result.stderr.splitlines()
    assert note[0] == "fhir-case validate: incomplete: the schema and profile layers did not run:"
    assert note[1].startswith(
        "  The schema layer did not run: it needs the FHIR package hl7.fhir.r4.core#4.0.1, "
        f"which is not installed in {tmp_path / 'empty-cache'}"
    )
    assert "  fhir-case packages install hl7.fhir.r4.core#4.0.1" in note


def test_without_packages_an_ndjson_summary_says_which_layers_did_not_run(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "bulk"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text(
        '{"resourceType": "Patient", "id": "a", "gender": "female"}\n', encoding="utf-8"
    )
    result = without_packages(tmp_path, "validate", folder)
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"{folder / 'Patient.ndjson'}: 1 resource, 0 errors, 0 warnings, 0 information; not "
        "checked by the schema and profile layers, only by the structure, bundle and "
        "terminology layers"
    )
    assert "incomplete: the schema and profile layers did not run:" in result.stderr


def test_without_packages_an_error_in_the_data_still_exits_1(tmp_path: Path) -> None:
    result = without_packages(tmp_path, "validate", BROKEN / "txn-put-id-mismatch.json")
    assert result.returncode == 1
    assert "1 error, 0 warnings, 0 information; not checked by the schema" in result.stdout


def test_without_packages_the_install_command_names_the_claimed_profiles_packages(
    tmp_path: Path,
) -> None:
    case = ROOT / "bundles" / "mpnst-chen-2024.collection.json"
    result = without_packages(tmp_path, "validate", case)
    assert result.returncode == 3
    assert "  fhir-case packages install hl7.fhir.us.core#6.1.0 hl7.fhir.us.mcode#4.0.0" in (
        result.stderr.splitlines()
    )


def test_build_and_validate_agree_without_packages(tmp_path: Path) -> None:
    built = without_packages(tmp_path, "build", "--out", "out")
    assert built.returncode == 0, built.stderr
    checked = without_packages(tmp_path, "validate", *sorted((tmp_path / "out").iterdir()))
    assert checked.returncode == 3
    assert _summaries_of_build(built.stdout) == _summaries_of_validate(checked.stdout)
    for summary in _summaries_of_build(built.stdout).values():
        assert summary.startswith("0 errors")
        assert "; not checked by the schema and profile layers" in summary
    assert "incomplete: the schema and profile layers did not run" in built.stderr
    assert "fhir-case packages install hl7.fhir.us.core#6.1.0 hl7.fhir.us.mcode#4.0.0" in (
        built.stderr
    )


def test_build_and_validate_agree_with_every_layer(
    fhir_package_cache: Path, tmp_path: Path
) -> None:
    built = run_cli("build", "--out", str(tmp_path))
    checked = run(*sorted(tmp_path.iterdir()))
    assert (built.returncode, checked.returncode) == (0, 0), built.stderr + checked.stderr
    summaries = _summaries_of_build(built.stdout)
    assert summaries == _summaries_of_validate(checked.stdout)
    assert len(summaries) == 3
    assert all("not checked" not in summary for summary in summaries.values())


def _summaries_of_build(stdout: str) -> dict[str, str]:
    found = (
        re.fullmatch(r"wrote (\S+) \(\w+, \d+ entries, (.*)\)", line)
        for line in stdout.splitlines()
    )
    return {Path(m[1]).name: m[2] for m in found if m}


def _summaries_of_validate(stdout: str) -> dict[str, str]:
    found = (re.fullmatch(r"(\S+\.json): (\d+ errors?, .*)", line) for line in stdout.splitlines())
    return {Path(m[1]).name: m[2] for m in found if m}


def test_a_package_file_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    result = run("--package", tmp_path / "nope.tgz", BROKEN / "_valid.json")
    assert result.returncode == 2
    assert f"{tmp_path / 'nope.tgz'}: no such package file or folder" in result.stderr
