"""Fixtures for the document tests: the hand-made oncology collection and the case's own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

BUNDLES = {
    "fixture": ROOT / "tests" / "view" / "fixtures" / "oncology-collection.json",
    "case": ROOT / "bundles" / "mpnst-chen-2024.collection.json",
}


@pytest.fixture(params=sorted(BUNDLES))
def collection(request: pytest.FixtureRequest) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(BUNDLES[request.param].read_text(encoding="utf-8"))
    return bundle


@pytest.fixture
def fixture_collection() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(BUNDLES["fixture"].read_text(encoding="utf-8"))
    return bundle


@pytest.fixture(scope="session")
def schema_file(shared_dir: Path) -> Path:
    return shared_dir / "fhir" / "fhir.schema.json"
