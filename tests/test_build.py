"""Bundles: deterministic, the committed bundles/ are what the build produces, generic format."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from fhir_case.build import build_case_file
from fhir_case.bundle import serialize
from fhir_case.casefile import default_case_file
from tests.helpers import ROOT, run_cli

SIMPLE_CASE = ROOT / "tests" / "fixtures" / "cases" / "simple-case.yaml"
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
    assert "collection, 75 entries, 0 errors" in result.stdout
