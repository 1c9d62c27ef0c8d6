"""Fixtures for the validation tests: one Validator over the packages of ../shared/fhir/packages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fhir_case.validation import Validator

BROKEN = Path(__file__).parent / "broken"


@pytest.fixture(scope="session")
def validator(fhir_package_cache: Path) -> Validator:
    """Every layer, every package of ../shared/fhir/packages (as the HL7 runs had them)."""
    return Validator()


@pytest.fixture(scope="session")
def corpus_dir(shared_dir: Path) -> Path:
    return shared_dir / "fhir" / "validation-corpus"


@pytest.fixture(scope="session")
def examples_dir(shared_dir: Path) -> Path:
    return shared_dir / "fhir" / "examples-r4"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
