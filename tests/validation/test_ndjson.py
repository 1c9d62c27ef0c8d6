"""``fhir-case validate`` of NDJSON files and folders: streaming, references across the files
of one export, issues at file:line and FHIRPath, the same result on several processes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from fhir_case.cli import main
from fhir_case.validation import Validator
from fhir_case.validation.ndjson import (
    CHUNK_LINES,
    FileDone,
    LineIssues,
    index_export,
    validate_export,
)

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "bundles" / "mpnst-chen-2024.transaction.json"


@pytest.fixture
def export(tmp_path: Path, fhir_package_cache: Path) -> Path:
    out = tmp_path / "export"
    assert main(["export", str(CASE), "--format", "ndjson", "--out", str(out)]) == 0
    return out


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_the_case_export_validates_without_errors(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(export)]) == 0
    out = capsys.readouterr().out
    count = len(json.loads(CASE.read_text(encoding="utf-8"))["entry"])
    summary = re.compile(r"^.*\.ndjson: (\d+) resources?, (\d+) errors")
    found = [match for line in out.splitlines() if (match := summary.match(line))]
    assert len(found) == len(list(export.glob("*.ndjson")))
    assert sum(int(match[1]) for match in found) == count
    assert all(match[2] == "0" for match in found)


def test_references_resolve_across_the_files_of_the_export(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    patient = json.loads(lines_of(export / "Patient.ndjson")[0])
    (export / "Patient.ndjson").unlink()
    assert main(["validate", str(export)]) == 1
    out = capsys.readouterr().out
    conditions = lines_of(export / "Condition.ndjson")
    expected = (
        f"{export / 'Condition.ndjson'}:1: error export Condition.subject: The reference "
        f"Patient/{patient['id']} does not resolve to any resource of the export"
    )
    assert expected in out
    assert out.count(f"Condition.subject: The reference Patient/{patient['id']}") == len(conditions)


def test_issues_name_the_file_the_line_and_the_fhirpath(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = export / "Observation.ndjson"
    lines = lines_of(path)
    broken = json.loads(lines[2])
    broken["status"] = "done"
    lines[2] = json.dumps(broken)
    lines.insert(4, "{not json")
    lines.insert(5, "[]")
    lines.insert(6, '{"resourceType": "Observation", "id": "x", "id": "y"}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (export / "Encounter.ndjson").write_text(lines_of(export / "Encounter.ndjson")[0] * 2)
    assert main(["validate", str(path), str(export / "Encounter.ndjson")]) == 1
    out = capsys.readouterr().out
    assert f"{path}:3: error " in out and "Observation.status" in out
    assert f"{path}:5: error export: column 2: not valid JSON" in out
    assert (
        f"{path}:6: error export: Expected a FHIR resource (a JSON object), found a JSON list"
        in out
    )
    assert f"{export / 'Encounter.ndjson'}:1: error export: column " in out  # two objects
    assert f'{path}:7: error export: column 44: duplicate key "id" in one object' in out
    assert f"{path}: {len(lines) - 3} resources, " in out


def test_a_resource_twice_in_the_export_is_an_error(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    patient = lines_of(export / "Patient.ndjson")[0]
    (export / "Patient.ndjson").write_text(patient + "\n" + patient + "\n", encoding="utf-8")
    assert main(["validate", str(export)]) == 1
    out = capsys.readouterr().out
    assert f"{export / 'Patient.ndjson'}:2: error export Patient: Patient/" in out
    assert "occurs more than once in the export" in out


def test_json_output_is_a_bundle_of_outcomes_with_the_line_in_an_extension(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = export / "Encounter.ndjson"
    path.write_text(path.read_text(encoding="utf-8") + "42\n", encoding="utf-8")
    assert main(["validate", str(export), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["resourceType"] == "Bundle"
    assert len(report["entry"]) == len(list(export.glob("*.ndjson")))
    encounter = next(e for e in report["entry"] if e["fullUrl"].endswith("/Encounter.ndjson"))
    errors = [i for i in encounter["resource"]["issue"] if i["severity"] == "error"]
    assert errors[0]["extension"] == [
        {
            "url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line",
            "valueInteger": 2,
        }
    ]


def test_several_processes_give_the_same_issues_in_the_same_order(
    tmp_path: Path, fhir_package_cache: Path
) -> None:
    # Enough lines for several chunks per file: every resource of the case, many times over,
    # with ids made distinct, and one broken line in the middle.
    resources = []
    bundle = json.loads(CASE.read_text(encoding="utf-8"))
    for copy in range(2 * CHUNK_LINES // len(bundle["entry"]) + 2):
        for entry in bundle["entry"]:
            resource = dict(entry["resource"])
            resource["id"] = f"{resource['id'][:50]}-{copy}"
            resources.append(resource)
    lines = [json.dumps(resource) for resource in resources]
    lines[CHUNK_LINES + 3] = '{"resourceType": "Patient", "gender": "woman"}'
    (tmp_path / "All.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "Empty.ndjson").write_text("", encoding="utf-8")
    paths = [tmp_path / "All.ndjson", tmp_path / "Empty.ndjson"]
    assert len(index_export(paths)[1]) >= 3
    validator = Validator()
    one = list(validate_export(paths, validator, jobs=1))
    two = list(validate_export(paths, Validator(), jobs=2))
    assert one == two
    done = [item for item in one if isinstance(item, FileDone)]
    assert done == [FileDone(paths[0], len(lines)), FileDone(paths[1], 0)]
    broken = [item for item in one if isinstance(item, LineIssues) and item.line == CHUNK_LINES + 4]
    assert broken and any("gender" in issue.location for issue in broken[0].issues)


def test_lines_longer_than_the_limit_are_skipped_with_an_error(
    tmp_path: Path, fhir_package_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fhir_case.validation.ndjson as ndjson

    monkeypatch.setattr(ndjson, "MAX_LINE_BYTES", 64)
    path = tmp_path / "Patient.ndjson"
    long = json.dumps({"resourceType": "Patient", "id": "a", "name": [{"text": "x" * 200}]})
    path.write_text(long + "\n" + '{"resourceType": "Patient", "id": "b"}\n', encoding="utf-8")
    found = list(validate_export([path], Validator(), jobs=1))
    assert isinstance(found[0], LineIssues) and found[0].line == 1
    assert "longer than" in found[0].issues[0].message
    assert found[-1] == FileDone(path, 1)


def test_a_folder_without_ndjson_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path)]) == 2
    assert "is a folder with no .ndjson file" in capsys.readouterr().err


def test_a_fifo_named_ndjson_is_refused_without_waiting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = tmp_path / "Patient.ndjson"
    os.mkfifo(pipe)
    assert main(["validate", str(pipe)]) == 2  # opening a FIFO for reading would block
    assert "is a named pipe (FIFO)" in capsys.readouterr().err
