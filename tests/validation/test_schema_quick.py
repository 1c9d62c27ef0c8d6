"""The schema layer's quick check never calls valid what ``jsonschema`` rejects."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fhir_case.validation import Validator
from fhir_case.validation.schema import _NO_CONST, _Leaf
from tests.validation.corpus import BROKEN, load

ROOT = Path(__file__).parents[2]


def resources(examples_dir: Path, corpus_dir: Path) -> Iterator[dict[str, Any]]:
    paths = [
        *sorted(examples_dir.glob("*.json")),
        *sorted(BROKEN.glob("*.json")),
        *sorted(corpus_dir.rglob("*.json")),
        *sorted((ROOT / "bundles").glob("*.json")),
    ]
    for path in paths:
        if path.name.endswith(".hl7.json") or path.name == "manifest.json":
            continue
        data = load(path)
        entries = data.get("entry") if data.get("resourceType") == "Bundle" else None
        yield data
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                yield entry["resource"]


def mutations(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The resource made invalid for the schema in the ways bulk data goes wrong."""
    for key, value in list(resource.items())[1:5]:
        changed = copy.deepcopy(resource)
        if isinstance(value, str):
            changed[key] = 12
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            changed[key][0]["notAnElement"] = True
        elif isinstance(value, dict):
            changed[key] = [value]
        else:
            changed[key] = "text"
        yield changed
    yield {k: v for k, v in resource.items() if k != "resourceType"} | {"resourceType": "Patient"}
    yield resource | {"status": "not-a-status"}


def test_surely_valid_only_when_jsonschema_finds_no_error(
    validator: Validator, examples_dir: Path, corpus_dir: Path
) -> None:
    validator.load()
    schemas = validator._schemas
    assert schemas is not None
    checked = valid = 0
    for resource in resources(examples_dir, corpus_dir):
        for candidate in [resource, *mutations(resource)]:
            kind = candidate.get("resourceType")
            schema = schemas.for_type(kind) if isinstance(kind, str) else None
            if schema is None:
                continue
            errors = list(schema.iter_errors(candidate))
            quick = schemas.surely_valid(candidate, schema.schema)
            assert not (quick and errors), json.dumps(candidate)[:300]
            checked += 1
            valid += quick
    assert checked > 2000 and valid > 200  # the quick path is taken, and often


LEAF_VALUES: list[Any] = [
    *["", " ", "x", "final", "Patient", "2023-02-28", "2023-02-30", "12", "true", "a\u0001b"],
    *[0, 12, -3, 1.5, True, False, None, {}, [], ["final"], {"value": "final"}],
]


def leaves(node: Any) -> Iterator[_Leaf]:
    """The primitive schemas of a schema (its descriptions dropped, as the layer drops them)."""
    if isinstance(node, dict):
        leaf = _Leaf.of({key: value for key, value in node.items() if key != "description"})
        if leaf is not None:
            yield leaf
        for part in node.values():
            yield from leaves(part)
    elif isinstance(node, list):
        for part in node:
            yield from leaves(part)


def test_every_leaf_test_agrees_with_the_full_rules(validator: Validator) -> None:
    """The quick test of each primitive schema (``valid``, specialised by kind) gives the
    verdict of the keyword-by-keyword rules, on values of every JSON type."""
    validator.load()
    assert validator._schemas is not None
    found = list(leaves(json.loads(validator._schemas.schema_path.read_bytes())))
    for leaf in found:
        own = [*(leaf.enum or ()), *([] if leaf.const is _NO_CONST else [leaf.const])]
        for value in [*LEAF_VALUES, *own]:
            assert leaf.valid(value) is leaf._matches(value), (leaf, value)
    assert len(found) > 700
