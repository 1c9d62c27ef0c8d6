"""Fixtures shared by every test module."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The reference material sits beside the project (../shared); FHIR_CASE_SHARED overrides that.
SHARED = Path(os.environ.get("FHIR_CASE_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"reference material not found at {SHARED}; set FHIR_CASE_SHARED")
    return SHARED


# issue 4 (upload): the real FHIR server fixture `fhir_server_url`, reusable by every test area.
from fhir_server import fhir_server_url  # noqa: E402, F401
