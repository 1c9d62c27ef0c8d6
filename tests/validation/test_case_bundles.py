"""The committed case bundles validate with every layer: no errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_case.validation import Validator
from tests.validation.corpus import load

BUNDLES = sorted((Path(__file__).resolve().parents[2] / "bundles").glob("*.json"))


def test_there_are_case_bundles() -> None:
    assert [path.name for path in BUNDLES] == [
        "mpnst-chen-2024.collection.json",
        "mpnst-chen-2024.document.json",
        "mpnst-chen-2024.transaction.json",
    ]


@pytest.mark.parametrize("path", BUNDLES, ids=[path.name for path in BUNDLES])
def test_case_bundle_has_no_errors(validator: Validator, path: Path) -> None:
    errors = [
        f"{i.layer} {i.location}: {i.message}" for i in validator.validate(load(path)) if i.is_error
    ]
    assert errors == []
