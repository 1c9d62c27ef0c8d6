"""The compiled existence-test subset of FHIRPath agrees with fhirpathpy."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_case.validation.profiles.existence import compile_existence
from fhir_case.validation.profiles.fhirpath import (
    evaluate_invariant,
    native_invariant,
    parse_invariant,
)

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("code.empty() or system.exists()", "Quantity", {"code": "kg"}),
    ("code.empty() or system.exists()", "Quantity", {"code": "kg", "system": "http://u"}),
    ("extension.exists() != value.exists()", "Extension", {"url": "u", "valueCode": "F"}),
    ("extension.exists() != value.exists()", "Extension", {"url": "u"}),
    (
        "extension.exists() != value.exists()",
        "Extension",
        {"url": "u", "valueCode": "F", "extension": [{"url": "v", "valueString": "x"}]},
    ),
    (
        "(component.empty() and hasMember.empty()) implies "
        "(dataAbsentReason.exists() or value.exists())",
        "Observation",
        {"resourceType": "Observation", "status": "final"},
    ),
    (
        "(component.empty() and hasMember.empty()) implies "
        "(dataAbsentReason.exists() or value.exists())",
        "Observation",
        {"resourceType": "Observation", "valueQuantity": {"value": 1}},
    ),
    (
        "(numerator.empty() xor denominator.exists()) and "
        "(numerator.exists() or extension.exists())",
        "Ratio",
        {"numerator": {"value": 1}},
    ),
    (
        "(numerator.empty() xor denominator.exists()) and "
        "(numerator.exists() or extension.exists())",
        "Ratio",
        {"numerator": {"value": 1}, "denominator": {"value": 2}},
    ),
]


@pytest.mark.parametrize(("expression", "path", "value"), CASES)
def test_same_result_as_fhirpathpy(expression: str, path: str, value: dict[str, Any]) -> None:
    compiled = compile_existence(expression)
    tree = parse_invariant(expression)
    assert compiled is not None and tree is not None
    assert compiled(value) == evaluate_invariant(tree, value, path, value, value)


def test_has_value_looks_at_the_value_not_at_extensions() -> None:
    # fhirpathpy cannot evaluate hasValue() here, so this is checked against the spec's meaning.
    test = compile_existence("start.hasValue().not() or end.hasValue().not()")
    assert test is not None
    assert test({"start": "2020"}) is True
    assert test({"start": "2020", "end": "2021"}) is False
    assert test({"start": "2020", "_end": {"extension": [{"url": "u"}]}}) is True


@pytest.mark.parametrize(
    "expression",
    [
        "period.exists() implies period >= 0",
        "contained.where(id = 'x').empty()",
        "htmlChecks()",
        "code.exists() and",
    ],
)
def test_anything_else_is_left_to_fhirpathpy(expression: str) -> None:
    assert compile_existence(expression) is None


@pytest.mark.parametrize(
    ("period", "holds"),
    [
        ({"start": "2023-01-05", "end": "2023-03-01"}, True),
        ({"start": "2023-03-01", "end": "2023-01-05"}, False),
        ({"start": "2023-03-01T10:00:00+08:00", "end": "2023-03-01T03:00:00Z"}, True),
        ({"start": "2023-03-01T10:00:00Z", "end": "2023-03-01T03:00:00Z"}, False),
        ({"start": "2023-03", "end": "2023-01-05"}, True),  # precisions differ: not comparable
        ({"start": "2023-03-01"}, True),
    ],
)
def test_period_start_before_end(period: dict[str, Any], holds: bool) -> None:
    expression = "start.hasValue().not() or end.hasValue().not() or (start <= end)"
    native = native_invariant(expression)
    assert native is not None
    assert native(period, period) is holds


@pytest.mark.parametrize(
    ("range_", "holds"),
    [
        ({"low": {"value": 1, "code": "mg"}, "high": {"value": 5, "code": "mg"}}, True),
        ({"low": {"value": 5, "code": "mg"}, "high": {"value": 1, "code": "mg"}}, False),
        ({"low": {"value": 5, "code": "g"}, "high": {"value": 1, "code": "mg"}}, True),
        ({"low": {"value": 5}}, True),
    ],
)
def test_range_low_below_high(range_: dict[str, Any], holds: bool) -> None:
    native = native_invariant("low.empty() or high.empty() or (low <= high)")
    assert native is not None
    assert native(range_, range_) is holds
