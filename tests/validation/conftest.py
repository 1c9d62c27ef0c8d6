"""Fixtures for the validation tests: one Validator over the packages of ../shared/fhir/packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_case.validation import Validator


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
