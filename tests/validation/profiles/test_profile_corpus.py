"""The profile layer against the official examples and the HL7 validator's verdicts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from fhir_case.validation.profiles import ProfileContext, check_resource

# HL7 findings that are not this layer's to report, by message: primitive formats, unknown
# properties, JSON types and fullUrls belong to the structure, schema and bundle layers.
OTHER_LAYERS = {
    "Not a valid date": "structure/schema: primitive format",
    "must have a timezone": "structure/schema: primitive format",
    "Unrecognized property": "structure: unknown property",
    "Error parsing JSON": "structure: JSON type",
    "Object must have some content": "structure: empty element",
    "UUIDs must be valid": "bundle: fullUrl",
    "Multiple matches in bundle": "bundle: duplicate fullUrl",
    "Constraint failed: bdl-": "bundle: Bundle invariants",
}
# The HL7 validator without a terminology server fails on value sets it cannot expand (a Java
# NullPointerException in its message): environment artefacts, not defects of the file.
ARTEFACT = "Cannot invoke"
GOOD = ["base/good.json", "profile/good.json", "profile/uscore-good.json"]
GOOD += ["profile/m10-mustsupport-missing.json"]


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


def _hl7_location(expression: str) -> str:
    return re.sub(r"/\*[^*]*\*/", "", expression)


def test_no_errors_on_the_examples_the_hl7_validator_accepts(
    shared_dir: Path, profile_context: ProfileContext
) -> None:
    rejected = _load(shared_dir / "fhir" / "examples-r4.hl7.json")["files_with_errors"]
    files = sorted((shared_dir / "fhir" / "examples-r4").glob("*.json"))
    accepted = [f for f in files if f.name not in rejected]
    assert len(accepted) == 144
    errors = []
    for path in accepted:
        resource = _load(path)
        for issue in check_resource(resource, resource["resourceType"], profile_context):
            if issue.is_error:
                errors.append(f"{path.name}: {issue.location}: {issue.message}")
    assert errors == []


@pytest.mark.parametrize(
    "package", ["hl7.fhir.us.mcode#4.0.0", "hl7.fhir.uv.genomics-reporting#2.0.0"]
)
def test_no_errors_on_the_examples_shipped_in_the_packages(
    package: str, fhir_package_cache: Path, profile_context: ProfileContext
) -> None:
    examples = sorted((fhir_package_cache / package / "package" / "example").glob("*.json"))
    examples = [path for path in examples if not path.name.startswith(".")]
    assert len(examples) > 50
    errors = []
    for path in examples:
        resource = _load(path)
        for issue in check_resource(resource, resource["resourceType"], profile_context):
            if issue.is_error:
                errors.append(f"{path.name}: {issue.location}: {issue.message}")
    assert errors == []


@pytest.mark.parametrize("name", GOOD)
def test_no_errors_on_valid_bundles(
    name: str, shared_dir: Path, profile_context: ProfileContext
) -> None:
    bundle = _load(shared_dir / "fhir" / "validation-corpus" / name)
    errors = [i for i in check_resource(bundle, "Bundle", profile_context) if i.is_error]
    assert errors == []


def test_reports_the_hl7_validators_profile_errors_at_its_locations(
    shared_dir: Path, profile_context: ProfileContext
) -> None:
    corpus = shared_dir / "fhir" / "validation-corpus"
    rows = []
    missed = []
    for verdict_path in sorted(corpus.glob("*/*.hl7.json")):
        bundle_path = verdict_path.with_name(verdict_path.name.replace(".hl7.json", ".json"))
        found = {
            issue.location
            for issue in check_resource(_load(bundle_path), "Bundle", profile_context)
            if issue.is_error
        }
        name = str(bundle_path.relative_to(corpus))
        for error in _load(verdict_path)["errors"]:
            location = _hl7_location(error["expression"])
            owner = next((o for key, o in OTHER_LAYERS.items() if key in error["text"]), None)
            if ARTEFACT in error["text"]:
                owner = "artefact: no terminology server"
            hit = location in found
            rows.append((name, location, owner or "profile", hit))
            if owner is None and not hit:
                missed.append(f"{name}: {location}: {error['text']}")
    mine = [row for row in rows if row[2] == "profile"]
    print(f"\nprofile layer: {sum(r[3] for r in mine)} of {len(mine)} HL7 errors in its scope")
    for name, location, owner, hit in rows:
        print(f"  {'found' if hit else '-----'}  {owner:40} {name}  {location}")
    assert len(mine) >= 60
    assert missed == []
