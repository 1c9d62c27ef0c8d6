"""Exporting a Bundle: standalone resources, NDJSON bytes and manifest, FSH text, the command."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fhir_case.cli import main
from fhir_case.errors import ExportError
from fhir_case.export import export_ndjson, standalone_resources
from fhir_case.export.fsh import SushiProject, fsh_files, fsh_string

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "bundles" / "mpnst-chen-2024.transaction.json"
P = "urn:uuid:0b0e1b7e-7a55-4d6e-9b8e-5f7c2a1d3e01"
C = "urn:uuid:0b0e1b7e-7a55-4d6e-9b8e-5f7c2a1d3e02"


def small_bundle() -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": P, "resource": {"resourceType": "Patient", "gender": "female"}},
            {
                "fullUrl": C,
                "resource": {
                    "resourceType": "Condition",
                    "id": "c1",
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1"}]},
                    "subject": {"reference": P},
                    "evidence": [{"detail": [{"reference": "Observation/elsewhere"}]}],
                },
            },
        ],
    }


def test_standalone_resources_take_ids_from_fullurls_and_rewrite_references() -> None:
    patient, condition = standalone_resources(small_bundle(), "b.json")
    assert patient.resource == {
        "resourceType": "Patient",
        "id": P.removeprefix("urn:uuid:"),
        "gender": "female",
    }
    assert condition.resource["subject"] == {"reference": patient.key}
    assert condition.resource["evidence"][0]["detail"][0]["reference"] == "Observation/elsewhere"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: b["entry"][1]["resource"].update(subject={"reference": "urn:uuid:x"}),
            "names no entry",
        ),
        (lambda b: b["entry"][1]["resource"].update(id="c 1"), "is not a FHIR id"),
        (lambda b: b["entry"][1].pop("resource"), "has no resource"),
        (lambda b: b["entry"].append(b["entry"][1]), "also the resource of entry 1"),
        (lambda b: b.update(resourceType="Patient"), "is not a Bundle"),
        (lambda b: b.update(entry=[]), "no entries"),
    ],
)
def test_bundles_that_cannot_be_exported_are_refused_naming_the_entry(
    change: Any, message: str
) -> None:
    bundle = small_bundle()
    change(bundle)
    with pytest.raises(ExportError, match=message):
        standalone_resources(bundle, "b.json")


def test_ndjson_files_are_one_per_type_with_a_manifest_and_stable_bytes() -> None:
    bundle = json.loads(CASE.read_text(encoding="utf-8"))
    files = export_ndjson(bundle, str(CASE))
    assert files == export_ndjson(json.loads(CASE.read_text(encoding="utf-8")), str(CASE))
    manifest = json.loads(files["manifest.json"])
    assert [o["url"] for o in manifest["output"]] == sorted(
        f for f in files if f != "manifest.json"
    )
    total = 0
    for output in manifest["output"]:
        lines = files[output["url"]].decode("utf-8").splitlines()
        assert len(lines) == output["count"]
        for line in lines:
            resource = json.loads(line)
            assert resource["resourceType"] == output["type"]
            assert "urn:uuid:" not in json.dumps(
                [v for k, v in resource.items() if k not in ("identifier", "text")]
            )
        total += len(lines)
    assert total == len(bundle["entry"])
    assert manifest["requiresAccessToken"] is False and manifest["error"] == []


def test_manifest_urls_are_absolute_with_a_base_url() -> None:
    files = export_ndjson(small_bundle(), "b.json", base_url="https://files.example.org/x/")
    urls = [o["url"] for o in json.loads(files["manifest.json"])["output"]]
    assert urls == [
        "https://files.example.org/x/Condition.ndjson",
        "https://files.example.org/x/Patient.ndjson",
    ]


def test_fsh_declares_each_alias_once_and_writes_readable_rules() -> None:
    bundle = small_bundle()
    bundle["entry"][0]["resource"]["meta"] = {
        "profile": ["http://example.org/a", "http://example.org/b"]
    }
    bundle["entry"][0]["resource"]["name"] = [{"text": 'Ann "Nan"\nSmith', "given": ["A", "B"]}]
    bundle["entry"][0]["resource"]["_gender"] = {
        "extension": [{"url": "http://example.org/e", "valueBoolean": True}]
    }
    files = fsh_files(
        standalone_resources(bundle, "b.json"),
        SushiProject("http://example.org/ig", [("p.q", "1.0.0")]),
    )
    aliases = files["input/fsh/aliases.fsh"].decode()
    assert aliases == "Alias: $sct = http://snomed.info/sct\n"
    patient = files["input/fsh/instances/Patient.fsh"].decode()
    assert "InstanceOf: http://example.org/a\nUsage: #example\n" in patient
    assert '* meta.profile[1] = "http://example.org/b"' in patient
    assert "* gender = #female" in patient
    assert '* name.text = "Ann \\"Nan\\"\\nSmith"' in patient
    assert '* name.given[1] = "B"' in patient
    assert "* gender.extension.valueBoolean = true" in patient
    condition = files["input/fsh/instances/Condition.fsh"].decode()
    assert "* code = $sct#1\n" in condition
    assert f"* subject = Reference(Patient/{P.removeprefix('urn:uuid:')})" in condition
    assert "  p.q: 1.0.0" in files["sushi-config.yaml"].decode()


def test_export_command_writes_all_or_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["export", str(CASE), "--format", "ndjson", "--out", str(out)]) == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["export", str(CASE), "--format", "ndjson", "--out", str(out)]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # replaced, same bytes
    broken = tmp_path / "broken.json"
    bundle = json.loads(CASE.read_text(encoding="utf-8"))
    bundle["entry"][-1]["resource"]["subject"] = {"reference": "urn:uuid:nowhere"}
    broken.write_text(json.dumps(bundle), encoding="utf-8")
    assert main(["export", str(broken), "--format", "ndjson", "--out", str(out)]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # untouched
    assert "urn:uuid:nowhere names no entry" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.json", "out"]  # no leftovers


def test_export_command_never_replaces_a_folder_of_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["export", str(CASE), "--format", "ndjson", "--out", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_fsh_export_names_a_profile_no_package_defines(
    tmp_path: Path, fhir_package_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = small_bundle()
    bundle["entry"][0]["resource"]["meta"] = {
        "profile": ["http://example.org/StructureDefinition/nope"]
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    assert main(["export", str(path), "--format", "fsh", "--out", str(tmp_path / "fsh")]) == 2
    err = capsys.readouterr().err
    assert "claims the profile http://example.org/StructureDefinition/nope" in err
    assert "fhir-case packages install" in err
    assert not (tmp_path / "fsh").exists()


def sushi_unescape(literal: str) -> str:
    """SUSHI 3.21.0's FSHImporter.unescapeQuotedString, in Python: how SUSHI reads a string."""

    def unescape(part: str) -> str:
        part = re.sub(r"\\(u[A-F,a-f,0-9]{4})", lambda m: chr(int(m[1][1:], 16)), part)
        return (
            part.replace('\\"', '"').replace("\\n", "\n").replace("\\r", "\r").replace("\\t", "\t")
        )

    return "\\".join(unescape(part) for part in literal[1:-1].split("\\\\"))


@given(st.text())
def test_fsh_strings_read_back_as_written(text: str) -> None:
    literal = fsh_string(text)
    assert literal.startswith('"') and literal.endswith('"') and "\n" not in literal
    assert sushi_unescape(literal) == text
