"""Helpers for the validation tests: fhir-case's own broken corpus and reading JSON files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BROKEN = Path(__file__).parent / "broken"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
