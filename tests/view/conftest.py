"""Fixtures for the case-view tests: the hand-made oncology bundle and a real headless Chromium."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
CASE_COLLECTION = Path(__file__).parents[2] / "bundles" / "mpnst-chen-2024.collection.json"
CHROMIUM = Path("/usr/bin/chromium")
# The flags the project runs Chromium with: no sandbox (root in CI), and nothing in the
# background that could make a network request of its own.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def oncology_bundle() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(
        (FIXTURES / "oncology-collection.json").read_text(encoding="utf-8")
    )
    return bundle


@pytest.fixture
def case_bundle() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(CASE_COLLECTION.read_text(encoding="utf-8"))
    return bundle


@pytest.fixture(scope="session")
def browser_context() -> Iterator[Any]:
    """A Playwright context on Debian's Chromium with a fresh profile (scripts/test installs it)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: run scripts/test, which installs Debian's chromium")
    profile = tempfile.mkdtemp(prefix="fhir-case-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1280, "height": 900},
            )
            yield context
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
