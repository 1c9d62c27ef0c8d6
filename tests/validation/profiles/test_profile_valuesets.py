"""Local value set expansion."""

from __future__ import annotations

from typing import Any

from fhir_case.validation.profiles.valuesets import (
    CodeSystemCodes,
    Expansion,
    code_system_codes,
    expand,
)

SYSTEM = "http://example.org/cs"
CODE_SYSTEM = {
    "resourceType": "CodeSystem",
    "url": SYSTEM,
    "content": "complete",
    "concept": [
        {"code": "animal", "concept": [{"code": "dog"}, {"code": "cat"}]},
        {"code": "plant"},
    ],
}


def systems(url: str) -> CodeSystemCodes | None:
    return code_system_codes(CODE_SYSTEM) if url == SYSTEM else None


def no_value_sets(url: str) -> Expansion | None:
    return None


def value_set(*include: dict[str, Any], exclude: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {
        "resourceType": "ValueSet",
        "name": "Test",
        "compose": {"include": list(include), "exclude": list(exclude)},
    }


def codes(expansion: Expansion) -> set[str]:
    assert expansion.codes is not None
    return {code for _, code in expansion.codes}


def test_whole_code_system_and_is_a_filter() -> None:
    assert codes(expand(value_set({"system": SYSTEM}), systems, no_value_sets)) == {
        "animal",
        "dog",
        "cat",
        "plant",
    }
    is_a = {"system": SYSTEM, "filter": [{"property": "concept", "op": "is-a", "value": "animal"}]}
    assert codes(expand(value_set(is_a), systems, no_value_sets)) == {"animal", "dog", "cat"}
    excluded = value_set(is_a, exclude=({"system": SYSTEM, "concept": [{"code": "cat"}]},))
    assert codes(expand(excluded, systems, no_value_sets)) == {"animal", "dog"}


def test_what_cannot_be_expanded_locally_keeps_its_systems() -> None:
    snomed = expand(value_set({"system": "http://snomed.info/sct"}), systems, no_value_sets)
    assert snomed.codes is None and snomed.systems == {"http://snomed.info/sct"}
    # Nothing is known of a code of SNOMED CT; a LOINC code cannot be in it.
    assert snomed.contains("http://snomed.info/sct", "254637007") is None
    assert snomed.contains("http://loinc.org", "1234-5") is False
    assert snomed.contains(None, "1234-5") is None

    unknown = expand(value_set({"valueSet": ["http://x/vs"]}), systems, no_value_sets)
    assert unknown.codes is None and unknown.systems is None
    assert unknown.contains("http://loinc.org", "1234-5") is None

    regex = {"system": SYSTEM, "filter": [{"property": "display", "op": "regex", "value": "."}]}
    assert expand(value_set(regex), systems, no_value_sets).codes is None
    fragment = {**CODE_SYSTEM, "content": "fragment"}
    assert code_system_codes(fragment) is None


def test_membership_of_an_expanded_value_set() -> None:
    expansion = expand(value_set({"system": SYSTEM}), systems, no_value_sets)
    assert expansion.contains(SYSTEM, "dog") is True
    assert expansion.contains(SYSTEM, "fish") is False
    assert expansion.contains("http://other", "dog") is False
    assert expansion.contains(None, "dog") is True  # a bare code element
