"""Fixtures for the document tests: the official R4 JSON Schema, one validator per type."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft6Validator

FIXTURE = Path(__file__).parents[1] / "view" / "fixtures" / "oncology-collection.json"


@pytest.fixture
def collection() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return bundle


@pytest.fixture(scope="session")
def schema_errors(shared_dir: Path) -> Callable[[dict[str, Any]], list[str]]:
    """Errors of a resource against its own definition in the R4 schema (a Bundle's entries
    are checked one by one, each against its own type)."""
    schema = json.loads((shared_dir / "fhir" / "fhir.schema.json").read_text(encoding="utf-8"))

    @cache
    def validator(resource_type: str) -> Draft6Validator:
        return Draft6Validator(
            {"$ref": f"#/definitions/{resource_type}", "definitions": schema["definitions"]}
        )

    def errors(resource: dict[str, Any]) -> list[str]:
        found = []
        shell = resource
        if resource.get("resourceType") == "Bundle":
            shell = {
                **resource,
                "entry": [
                    {k: v for k, v in e.items() if k != "resource"}
                    for e in resource.get("entry", [])
                ],
            }
            for index, entry in enumerate(resource.get("entry", [])):
                found += [f"entry[{index}]: {e}" for e in errors(entry["resource"])]
        found += [
            f"{resource.get('resourceType')}.{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(str(resource.get("resourceType"))).iter_errors(shell)
        ]
        return found

    return errors
