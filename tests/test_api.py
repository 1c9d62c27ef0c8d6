"""The library: ``import fhir_case`` gives a small, typed, documented surface, loaded lazily."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import fhir_case
from fhir_case.errors import CaseFileError
from tests.helpers import ROOT

CASE_PATIENT = "f5ed8fd6-8a34-526f-bf54-a7855f1b7836"
FUNCTIONS = ["build_case", "delete_bundle", "fetch_record", "render_view", "upload_bundle"]


def test_every_public_name_resolves_and_is_documented_and_typed() -> None:
    assert sorted(fhir_case.__all__) == sorted(
        [
            "Bundles",
            "Deleted",
            "FhirCaseError",
            "Issue",
            "ServerSettings",
            "UploadReport",
            "__version__",
            *FUNCTIONS,
            "validate",
        ]
    )
    for name in fhir_case.__all__:
        value = getattr(fhir_case, name)
        assert name in dir(fhir_case)
        if name == "__version__":
            continue
        assert (inspect.getdoc(value) or "").strip(), f"{name} has no docstring"
        if inspect.isfunction(value):
            signature = inspect.signature(value)
            assert signature.return_annotation is not inspect.Signature.empty, name
            for parameter in signature.parameters.values():
                assert parameter.annotation is not inspect.Parameter.empty, (name, parameter)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        fhir_case.nothing  # noqa: B018


def test_import_fhir_case_loads_nothing_heavy() -> None:
    probe = (
        "import sys, fhir_case\n"
        "print(sorted(m for m in ('fhir_case.api', 'fhir_case.build', 'requests') "
        "if m in sys.modules))\n"
        "fhir_case.render_view\n"
        "print(sorted(m for m in ('fhir_case.api', 'requests') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["[]", "['fhir_case.api']"]


def test_build_case_gives_the_committed_bundles(fhir_package_cache: Path, tmp_path: Path) -> None:
    bundles = fhir_case.build_case()
    assert list(bundles) == ["transaction", "collection", "document"]
    assert bundles.layers_not_run == []
    paths = bundles.write(tmp_path)
    assert [p.name for p in paths] == [bundles.file_name(t) for t in bundles]
    for path in paths:
        assert path.read_bytes() == (ROOT / "bundles" / path.name).read_bytes()
    assert bundles["collection"]["type"] == "collection"
    assert all(not issue.is_error for found in bundles.issues.values() for issue in found)


def test_build_case_without_packages_says_which_layers_did_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FHIR_PACKAGE_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("FHIR_CASE_CACHE", str(tmp_path / "rules"))
    bundles = fhir_case.build_case(types=["collection"])
    assert list(bundles) == ["collection"]
    assert bundles.layers_not_run == ["schema", "profile"]


def test_a_bad_case_file_raises_a_case_file_error(tmp_path: Path) -> None:
    broken = tmp_path / "case.yaml"
    broken.write_text("id: [unclosed\n")
    with pytest.raises(CaseFileError, match=r"case\.yaml:1"):
        fhir_case.build_case(broken)


def test_validate_returns_issues(fhir_package_cache: Path) -> None:
    bundle = json.loads((ROOT / "tests/validation/broken/txn-put-id-mismatch.json").read_text())
    issues = fhir_case.validate(bundle)
    assert all(isinstance(issue, fhir_case.Issue) for issue in issues)
    assert [(i.layer, i.location) for i in issues if i.is_error] == [
        ("bundle", "Bundle.entry[0].request.url")
    ]


def test_upload_fetch_render_and_delete_against_a_real_server(
    fhir_package_cache: Path, fhir_server_url: str
) -> None:
    bundles = fhir_case.build_case(types=["transaction"])
    entries = len(bundles["transaction"]["entry"])
    report = fhir_case.upload_bundle(bundles["transaction"], fhir_server_url, name="case")
    assert isinstance(report, fhir_case.UploadReport)
    assert report.ok and report.verified
    assert report.created + report.updated + report.unchanged == entries
    assert report.patient_ids == [CASE_PATIENT]
    again = fhir_case.upload_bundle(
        bundles["transaction"], fhir_case.ServerSettings(fhir_server_url)
    )
    assert (again.created, again.unchanged) == (0, entries)

    record = fhir_case.fetch_record(fhir_server_url, CASE_PATIENT)
    assert record["type"] == "collection"
    assert len(record["entry"]) == entries
    page = fhir_case.render_view(record)
    assert page.startswith("<!DOCTYPE html>")
    assert "Denosumab combined with chemotherapy" in page

    assert fhir_case.delete_bundle(bundles["transaction"], fhir_server_url) == (entries, 0)
    assert fhir_case.delete_bundle(bundles["transaction"], fhir_server_url) == fhir_case.Deleted(
        deleted=0, absent=entries
    )
