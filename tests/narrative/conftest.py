"""Fixtures for the narrative tests: the official R4 examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def official_examples(shared_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    folder = shared_dir / "fhir" / "examples-r4"
    examples = [
        (p.name, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.json"))
    ]
    assert len(examples) == 154
    return examples
