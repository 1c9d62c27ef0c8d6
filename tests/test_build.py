"""Bundles: deterministic, the committed bundles/ are what the build produces, generic format."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from fhir_case.build import OUTPUT_TYPES, build_and_validate, build_bundles, build_case_file
from fhir_case.bundle import serialize
from fhir_case.casefile import default_case_file, load_case
from fhir_case.record import build_resource_dicts, models
from fhir_case.record.models import through_models
from fhir_case.validation import PackageFindings, Validator
from tests.helpers import ROOT, run_cli

SIMPLE_CASE = ROOT / "tests" / "fixtures" / "cases" / "simple-case.yaml"
JSON = dict[str, Any]
UUID = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_committed_bundles_are_exactly_what_the_build_produces(tmp_path: Path) -> None:
    result = run_cli("build", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    built = sorted(p.name for p in tmp_path.iterdir())
    assert built == sorted(p.name for p in (ROOT / "bundles").glob("mpnst-chen-2024.*.json"))
    for name in built:
        assert (tmp_path / name).read_bytes() == (ROOT / "bundles" / name).read_bytes(), name


def test_two_builds_are_byte_identical() -> None:
    first = build_case_file(default_case_file(), ["transaction", "collection"])
    second = build_case_file(default_case_file(), ["transaction", "collection"])
    assert {k: serialize(v) for k, v in first.items()} == {
        k: serialize(v) for k, v in second.items()
    }


def test_transaction_entries_are_idempotent_puts_with_uuid5_ids() -> None:
    (bundle,) = build_case_file(default_case_file(), ["transaction"]).values()
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert UUID.match(entry["fullUrl"]), entry["fullUrl"]
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        assert uuid.UUID(resource["id"]).version == 5
        assert entry["request"] == {
            "method": "PUT",
            "url": f"{resource['resourceType']}/{resource['id']}",
        }


def test_collection_has_no_requests() -> None:
    (bundle,) = build_case_file(default_case_file(), ["collection"]).values()
    assert bundle["type"] == "collection"
    assert all("request" not in entry for entry in bundle["entry"])


def test_every_reference_resolves_inside_the_bundle() -> None:
    (bundle,) = build_case_file(default_case_file(), ["collection"]).values()
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    references = re.findall(r'"reference": "([^"]+)"', json.dumps(bundle))
    assert references and set(references) <= full_urls


def test_a_second_simpler_case_builds_with_no_code_change(tmp_path: Path) -> None:
    result = run_cli("build", str(SIMPLE_CASE), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    bundle = json.loads((tmp_path / "simple-test-case.collection.json").read_text())
    types = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert types.count("Patient") == 1
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    assert patient["gender"] == "male"
    assert {"Condition", "MedicationRequest", "Observation", "Provenance"} <= set(types)


def test_build_of_one_type(tmp_path: Path) -> None:
    result = run_cli("build", "--type", "collection", "--out", str(tmp_path))
    assert result.returncode == 0
    assert [p.name for p in tmp_path.iterdir()] == ["mpnst-chen-2024.collection.json"]
    entries = len(
        json.loads((ROOT / "bundles" / "mpnst-chen-2024.collection.json").read_text())["entry"]
    )
    assert f"collection, {entries} entries, 0 errors" in result.stdout


# -- build_and_validate: the package layers in a worker process, the rest here ---------------


def _case_files() -> list[Path]:
    return [default_case_file(), SIMPLE_CASE]


def test_the_builder_writes_what_the_models_give_back() -> None:
    # build_and_validate uses its worker's findings only when this holds.
    for path in _case_files():
        resources = build_resource_dicts(load_case(path))
        for resource, modelled in zip(resources, through_models(resources), strict=True):
            assert json.dumps(resource) == json.dumps(modelled), (
                f"{path.name}: {resource['resourceType']}/{resource['id']}: write the elements "
                f"in FHIR's order: {list(modelled)}"
            )


def test_build_and_validate_finds_what_the_validator_finds(fhir_package_cache: Path) -> None:
    validator = Validator()
    found = []
    for path in _case_files():
        case = load_case(path)
        bundles, issues = build_and_validate(case, OUTPUT_TYPES, validator)
        assert bundles == build_bundles(case, OUTPUT_TYPES)
        assert issues == {name: Validator().validate(bundle) for name, bundle in bundles.items()}
        found += [issue for bundle_issues in issues.values() for issue in bundle_issues]
    assert found  # information about "likely" register codes, at least


def test_a_failed_worker_is_made_up_for(
    fhir_package_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    package_findings = Validator.package_findings

    def failing_in_the_worker(self: Validator, data: JSON) -> PackageFindings:
        if os.getpid() != parent:
            raise RuntimeError("the worker fails")
        return package_findings(self, data)

    monkeypatch.setattr(Validator, "package_findings", failing_in_the_worker)
    case = load_case(default_case_file())
    bundles, issues = build_and_validate(case, ["transaction"], Validator())
    monkeypatch.undo()
    assert issues == {name: Validator().validate(bundle) for name, bundle in bundles.items()}


def test_findings_on_other_json_than_the_models_give_are_not_used(
    fhir_package_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    calls_here: list[str] = []
    package_findings = Validator.package_findings

    def counted(self: Validator, data: JSON) -> PackageFindings:
        if os.getpid() == parent:
            calls_here.append(data["type"])
        return package_findings(self, data)

    def reordered(resources: list[JSON]) -> list[JSON]:
        # The same content, keys in another order: findings may differ in which of two
        # issues at one place they keep, so the worker's must not be used.
        return [dict(reversed(resource.items())) for resource in resources]

    monkeypatch.setattr(Validator, "package_findings", counted)
    monkeypatch.setattr(models, "through_models", reordered)
    case = load_case(default_case_file())
    bundles, issues = build_and_validate(case, ["collection"], Validator())
    assert calls_here == ["collection"]  # computed again here, on what the "models" gave
    monkeypatch.undo()
    assert issues == {name: Validator().validate(bundle) for name, bundle in bundles.items()}
