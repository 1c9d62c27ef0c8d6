"""Small helpers shared by test modules."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator

ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m fhir_case`` as a user would, capturing its output (``env``: the whole
    environment, else this process's)."""
    return subprocess.run(
        [sys.executable, "-m", "fhir_case", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
        check=False,
    )


@cache
def _r4_schema(schema_file: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_file.read_text())
    return schema


def r4_schema_errors(resource: dict[str, Any], schema_file: Path) -> list[str]:
    """Errors of ``resource`` against its own definition in the official R4 JSON Schema."""
    definitions = _r4_schema(schema_file)["definitions"]
    schema = {"$ref": f"#/definitions/{resource['resourceType']}", "definitions": definitions}
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in Draft6Validator(schema).iter_errors(resource)
    ]


def quotes_in(data: object) -> list[str]:
    """Every quote of case-file data (the values of its ``quote`` fields), in file order."""
    if isinstance(data, dict):
        found: list[str] = []
        for key, value in data.items():
            if key == "quote":
                found += [value] if isinstance(value, str) else list(value)
            else:
                found += quotes_in(value)
        return found
    if isinstance(data, list):
        return [quote for item in data for quote in quotes_in(item)]
    return []


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A deep copy of JSON ``value`` with the item at ``path`` (keys, positions) set to ``new``."""
    changed = copy.deepcopy(value)
    holder = changed
    for part in path[:-1]:
        holder = holder[part]
    holder[path[-1]] = new
    return changed
