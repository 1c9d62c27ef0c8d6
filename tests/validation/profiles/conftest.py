"""The profile layer loaded once per session from the test package cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_case.validation.profiles import ProfileContext


@pytest.fixture(scope="session")
def profile_context(fhir_package_cache: Path) -> ProfileContext:
    """R4 core, US Core 6.1.0 and mCODE STU4 (with genomics-reporting)."""
    return ProfileContext.load(["hl7.fhir.us.mcode#4.0.0"])
