"""The natively evaluated common invariants agree with fhirpathpy, on real values and edge cases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fhir_case.validation.profiles.common_invariants import COMMON_INVARIANTS
from fhir_case.validation.profiles.fhirpath import evaluate_invariant, parse_invariant
from tests.validation.corpus import BROKEN, load

ROOT = Path(__file__).parents[3]
EXT = {"extension": [{"url": "http://example.org/x", "valueString": "x"}]}
SCT = {"system": "http://snomed.info/sct", "code": "1"}
LOINC = {"system": "http://loinc.org", "code": "2"}
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def resources(shared: Path) -> Iterator[dict[str, Any]]:
    """Every resource of the examples, the broken corpus and the case bundles."""
    paths = [
        *sorted((shared / "fhir" / "examples-r4").glob("*.json")),
        *sorted(BROKEN.glob("*.json")),
        *sorted((ROOT / "bundles").glob("*.json")),
    ]
    for path in paths:
        data = load(path)
        yield data
        for entry in data.get("entry", []) if data.get("resourceType") == "Bundle" else []:
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                yield entry["resource"]


def values_under(node: Any, keys: set[str]) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in keys:
                yield from value if isinstance(value, list) else [value]
            yield from values_under(value, keys)
    elif isinstance(node, list):
        for item in node:
            yield from values_under(item, keys)


def observations(found: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from (r for r in found if r.get("resourceType") == "Observation")
    base = {"resourceType": "Observation", "status": "final", "code": {"coding": [SCT]}}
    yield base
    yield base | {"valueString": "x"}
    yield base | {"_valueString": EXT}
    yield base | {"valueString": "x", "component": [{"code": {"coding": [SCT]}}]}
    yield base | {"valueString": "x", "component": [{"code": {"coding": [LOINC, SCT]}}]}
    yield base | {"valueString": "x", "component": [{"code": {"coding": [LOINC]}}]}
    yield base | {"component": [{"code": {"coding": [SCT]}}]}
    yield base | {"valueQuantity": {"value": 1, "system": "http://unitsofmeasure.org"}}
    yield base | {"valueQuantity": {"value": 1, "system": "http://example.org/units"}}
    yield base | {"valueQuantity": {"value": 1, "_system": EXT}}


def repeats(found: list[dict[str, Any]]) -> Iterator[Any]:
    yield from values_under(found, {"repeat"})
    yield from [{}, {"duration": 1}, {"duration": -1}, {"duration": 0}, {"_duration": EXT}]
    yield from [{"period": 2}, {"period": -2}, {"period": 1.5, "periodUnit": "d"}]
    yield from [{"offset": 30}, {"offset": 30, "when": ["C"]}, {"offset": 30, "when": ["MORN"]}]
    yield from [{"offset": 30, "when": ["CM", "MORN"]}, {"offset": 30, "when": ["MORN", "EVE"]}]
    yield from [{"_offset": EXT}, {"_offset": EXT, "when": ["PC"]}, {"when": ["C"]}]


def durations(found: list[dict[str, Any]]) -> Iterator[Any]:
    yield from values_under(found, {"boundsDuration", "expectedSupplyDuration"})
    ucum = "http://unitsofmeasure.org"
    yield from [{}, {"value": 1}, {"value": 1, "code": "d", "system": ucum}, {"code": "d"}]
    yield from [{"value": 1, "code": "d"}, {"value": 1, "code": "d", "system": "http://x.org"}]
    yield from [{"code": "d", "system": ucum}, {"_code": EXT, "value": 1, "system": ucum}]
    yield from [{"_value": EXT, "code": "d", "system": ucum}, {"code": "d", "_system": EXT}]


def conditions(found: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from (r for r in found if r.get("resourceType") == "Condition")
    base = {"resourceType": "Condition", "subject": {"reference": "Patient/p"}}
    active = {"coding": [{"system": CLINICAL, "code": "active"}]}
    resolved = {"coding": [{"system": CLINICAL, "code": "resolved"}]}
    error = {"coding": [{"system": VERIFICATION, "code": "entered-in-error"}]}
    yield from [base, base | {"abatementString": "x"}, base | {"_abatementDateTime": EXT}]
    yield base | {"abatementAge": {"value": 3}, "clinicalStatus": active}
    yield base | {"abatementAge": {"value": 3}, "clinicalStatus": resolved}
    yield base | {"abatementString": "x", "clinicalStatus": {"coding": [{"code": "resolved"}]}}
    yield from [
        base | {"verificationStatus": error},
        base | {"verificationStatus": error, "clinicalStatus": active},
    ]


def procedures(found: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from (r for r in found if r.get("resourceType") == "Procedure")
    base = {"resourceType": "Procedure", "subject": {"reference": "Patient/p"}}
    for status in ("completed", "in-progress", "not-done", None):
        with_status = base | ({"status": status} if status else {})
        yield from [with_status, with_status | {"performedString": "x"}]
        yield with_status | {"_performedDateTime": EXT}
    yield base | {"_status": EXT}


CASES = {
    "Observation": observations,
    "Timing.repeat": repeats,
    "Duration": durations,
    "Condition": conditions,
    "Procedure": procedures,
}


def element_of(expression: str) -> str:
    starts = {
        "value.empty()": "Observation",
        "duration.": "Timing.repeat",
        "period.": "Timing.repeat",
        "offset.": "Timing.repeat",
        "code.exists()": "Duration",
        "abatement.": "Condition",
        "verificationStatus.": "Condition",
        "value.ofType": "Observation",
        "(status=": "Procedure",
    }
    return next(path for start, path in starts.items() if expression.startswith(start))


@pytest.mark.parametrize("expression", sorted(COMMON_INVARIANTS))
def test_native_agrees_with_fhirpathpy(expression: str, shared_dir: Path) -> None:
    native = COMMON_INVARIANTS[expression]
    tree = parse_invariant(expression)
    assert tree is not None
    path = element_of(expression)
    found = list(resources(shared_dir))
    outcomes = set()
    compared = 0
    for value in CASES[path](found):
        resource = value if "resourceType" in value else {"resourceType": "Basic"}
        expected = evaluate_invariant(tree, value, path, resource, resource)
        if expected is None:
            continue  # fhirpathpy cannot evaluate it here (``in`` on several items, say)
        assert native(value, resource) is expected, (expression, json.dumps(value)[:300])
        outcomes.add(expected)
        compared += 1
    assert outcomes == {True, False}, outcomes  # the cases reach both outcomes
    assert compared >= 8
