"""fhir-case's own one-defect bundles (tests/validation/broken/): each caught where it is.

``manifest.json`` names, for each file, the defect, the layer that must report it and its
location. ``_valid.json`` is the bundle every file was made from: it has no errors.
"""

from __future__ import annotations

import json

import pytest

from fhir_case.validation import Validator
from tests.validation.corpus import BROKEN, load

MANIFEST = json.loads((BROKEN / "manifest.json").read_text(encoding="utf-8"))
CASES = MANIFEST["cases"]


def test_the_corpus_has_at_least_30_cases() -> None:
    assert len(CASES) >= 30
    assert sorted(
        path.stem for path in BROKEN.glob("[!_]*.json") if path.stem != "manifest"
    ) == sorted(CASES)


def test_the_bundle_they_come_from_is_valid(validator: Validator) -> None:
    issues = validator.validate(load(BROKEN / MANIFEST["valid"]))
    assert [issue for issue in issues if issue.is_error or issue.severity == "warning"] == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_defect_is_caught_at_its_location(validator: Validator, name: str) -> None:
    case = CASES[name]
    severity = case.get("severity", "error")  # invalid UCUM units are warnings
    found = [
        issue
        for issue in validator.validate(load(BROKEN / f"{name}.json"))
        if issue.severity == severity
    ]
    assert (case["layer"], case["location"]) in {(i.layer, i.location) for i in found}, found
