"""Fixtures shared by every test module."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


# -- FHIR packages (issue 3) -----------------------------------------------------------------
# One fresh package cache per test session, holding the packages in ../shared/fhir/packages,
# and a fresh fhir-case cache (compiled rules); the environment points the library at both.


@pytest.fixture(scope="session")
def fhir_package_cache(
    shared_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The package cache folder, with every package of ../shared/fhir/packages installed."""
    from fhir_case.packages import PackageCache, install

    cache_root = tmp_path_factory.mktemp("fhir-packages")
    rule_cache = tmp_path_factory.mktemp("fhir-case-cache")
    tarballs = sorted(str(path) for path in (shared_dir / "fhir" / "packages").glob("*.tgz"))
    install(tarballs, PackageCache(cache_root), registry=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FHIR_PACKAGE_CACHE", str(cache_root))
        patch.setenv("FHIR_CASE_CACHE", str(rule_cache))
        yield cache_root


# issue 4 (upload): the real FHIR server fixture `fhir_server_url`, reusable by every test area.
from tests.fhir_server import fhir_server_url  # noqa: E402, F401
