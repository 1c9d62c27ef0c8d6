"""FHIRPath locations: the per-class table of steps gives what the model fields say, for
every JSON name, odd and unknown ones included."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_case.validation import locations

CLASSES = ["Observation", "Patient", "Dosage", "Extension", "HumanName", "Bundle", "Timing"]


def names(cls: type[Any]) -> list[str]:
    """Every field's JSON name with zero to two ``_`` before it, and a few no field has."""
    fields = [info.alias or name for name, info in cls.model_fields.items()]
    odd = ["unknown", "_unknown", "valueFoo", "_valueFoo", "value", "", "_", "__"]
    return [f"{prefix}{name}" for name in fields for prefix in ("", "_", "__")] + odd


@pytest.mark.parametrize("type_name", CLASSES)
def test_steps_equal_the_model_fields(type_name: str) -> None:
    cls = locations.model_class(type_name)
    assert cls is not None
    for name in names(cls):
        expected_class = locations.nested_class(locations.field_info(cls, name))
        assert locations.segment(cls, name) == locations._segment(cls, name), name
        assert locations.step_class(cls, name, None) is expected_class, name


def test_choice_and_plain_elements() -> None:
    observation = locations.model_class("Observation")
    dosage = locations.model_class("Dosage")
    assert locations.segment(observation, "valueQuantity") == "value.ofType(Quantity)"
    assert locations.segment(observation, "_effectiveDateTime") == "effective.ofType(dateTime)"
    assert locations.segment(observation, "notAnElement") == "notAnElement"
    assert locations.segment(None, "_given") == "given"
    rate = locations.step_class(dosage, "doseAndRate", {})
    assert locations.segment(rate, "doseQuantity") == "dose.ofType(Quantity)"
    path: list[str | int] = ["component", 0, "valueCodeableConcept", "coding", 1, "code"]
    assert (
        locations.fhirpath("Observation", {"resourceType": "Observation"}, path)
        == "Observation.component[0].value.ofType(CodeableConcept).coding[1].code"
    )


def test_unknown_type_names_are_not_remembered() -> None:
    assert locations.model_class("NotAType") is None
    assert "NotAType" not in locations._MODEL_CLASSES
    assert locations.model_class("Patient") is locations._MODEL_CLASSES["Patient"]
