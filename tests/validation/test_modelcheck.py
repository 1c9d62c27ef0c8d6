"""The structure layer's quick model check never calls accepted what the R4B model rejects,
and validation gives the same issues with it as without it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from fhir_case.validation import Validator, locations, modelcheck, structure
from fhir_case.validation.modelcheck import surely_accepted
from tests.helpers import replaced
from tests.validation.test_schema_quick import mutations, resources

# JSON values that break R4B models in the ways bulk data goes wrong.
ODD_VALUES: list[Any] = [
    None,
    "",
    {},
    [],
    [None],
    "text",
    12,
    1.5,
    True,
    {"text": "x"},
    [{"text": "x"}],
    "2023-02-30",
    "1955-13-45",
    "2023-02-28T10:00",
    "2023-02-28T10:00:00",
    "a b",
    " padded ",
    "ünïcode",
    "x" * 70,
    "control\u0001character",  # the structure layer's own string checks: the models accept it
    {"value": None},
    [[]],
    [{}],
    ["a", [""]],
]
# Extension siblings (``_name``) of primitives, valid and not.
SIBLINGS: list[Any] = [
    {"extension": [{"url": "http://example.org/note", "valueString": "x"}]},
    {"id": "a1"},
    {"id": "a1", "extension": [{"url": "http://example.org/n", "valueCode": "unknown"}]},
    [{"id": "a1"}],
    [None, {"id": "a1"}],
    [None],
    {"extension": [{"valueString": "no url"}]},
    {"extension": {"url": "http://example.org/not-a-list"}},
    {"extension": []},
    {"id": 12},
    {"text": "x"},
]


def own_parts(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The resource as the structure layer gives it to its model, and each nested resource."""
    own, contained, entries = structure._split_nested(resource)
    yield own
    for _, nested in contained + entries:
        if isinstance(nested, dict):
            yield from own_parts(nested)


def model_accepts(model: type[Any], value: dict[str, Any]) -> bool:
    try:
        model.model_validate(value)
    except (ValidationError, TypeError, AttributeError):  # fhir_core on a list or a number
        return False  # where a URL goes raises these (the quick check leaves them to the model)
    return True


def paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside JSON (not through nested resources)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        yield (*path, key)
        nested = isinstance(item, dict) and "resourceType" in item
        if isinstance(item, dict | list) and not nested:
            yield from paths(item, (*path, key))


def deleted(value: Any, path: tuple[Any, ...]) -> Any:
    changed = copy.deepcopy(value)
    holder = changed
    for part in path[:-1]:
        holder = holder[part]
    del holder[path[-1]]
    return changed


def model_mutations(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Each top-level element and a few nested ones, deleted and replaced by odd values, or
    given an extension sibling; a second value for each choice element."""
    for number, path in enumerate(paths(resource)):
        if path == ("resourceType",) or (number % 7 not in (0, 1) and len(path) > 1):
            continue
        if isinstance(path[-1], str):
            yield deleted(resource, path)
        for odd in ODD_VALUES[number % 3 :: 3] if len(path) > 1 else ODD_VALUES:
            yield replaced(resource, path, odd)
    for number, path in enumerate(paths(resource)):
        if number % 5 == 0 and isinstance(path[-1], str) and not path[-1].startswith("_"):
            sibling = (*path[:-1], f"_{path[-1]}")
            for value in SIBLINGS[number % 2 :: 2] if len(path) > 1 else SIBLINGS:
                yield replaced(resource, sibling, value)
    for key in list(resource):
        for other in ("valueString", "valueBoolean", "effectiveDateTime", "onsetString"):
            if key != other and key.startswith(other[:5]) and key[5:6].isupper():
                yield resource | {other: "x" if other.endswith("String") else True}


def check(candidate: dict[str, Any]) -> bool:
    """Asserts the quick check's soundness on a candidate (the model accepts it, and it holds
    no empty content and no flawed string, which the structure layer then does not look for);
    whether it said accepted."""
    kind = candidate.get("resourceType")
    model = locations.model_class(kind) if isinstance(kind, str) else None
    if model is None or kind in structure.MODELS_DIFFER_FROM_R4:
        return False
    quick = surely_accepted(model, candidate)
    assert not quick or model_accepts(model, candidate), json.dumps(candidate)[:400]
    assert not quick or not structure._maybe_flawed(candidate), json.dumps(candidate)[:400]
    return quick


def test_never_accepts_what_the_model_rejects(examples_dir: Path, corpus_dir: Path) -> None:
    checked = accepted = rejected_by_model = 0
    # Every 4th resource of the corpora, each with all its mutations (the whole set takes
    # minutes; benchmarks/, not the suite, is the place for that).
    for resource in list(resources(examples_dir, corpus_dir))[::4]:
        for part in own_parts(resource):
            for candidate in [part, *mutations(part), *model_mutations(part)]:
                quick = check(candidate)
                checked += 1
                accepted += quick
                if not quick:
                    kind = candidate.get("resourceType")
                    model = locations.model_class(kind) if isinstance(kind, str) else None
                    rejected_by_model += model is not None and not model_accepts(model, candidate)
    # The quick path is taken often, and the candidates include many the model rejects.
    assert checked > 5000 and accepted > 500 and rejected_by_model > 1200, (
        checked,
        accepted,
        rejected_by_model,
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def templates(examples_dir: Path, corpus_dir: Path) -> list[dict[str, Any]]:
    return [part for r in resources(examples_dir, corpus_dir) for part in own_parts(r)][:400]


@settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), value=JSON_VALUES)
def test_random_values_anywhere(
    templates: list[dict[str, Any]], data: st.DataObject, value: Any
) -> None:
    template = data.draw(st.sampled_from(templates))
    path = data.draw(st.sampled_from([p for p in paths(template) if p != ("resourceType",)]))
    check(replaced(template, path, value))


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), value=JSON_VALUES)
def test_random_elements_added(
    templates: list[dict[str, Any]], data: st.DataObject, value: Any
) -> None:
    template = data.draw(st.sampled_from(templates))
    name = data.draw(
        st.sampled_from([*locations.model_class(template["resourceType"]).model_fields])
    )
    check(template | {name: value})


def test_same_issues_with_and_without_it(
    validator: Validator, examples_dir: Path, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every 10th candidate: the full validator is slow, and soundness is shown on all of them
    # by test_never_accepts_what_the_model_rejects; this shows the wiring gives the same issues.
    documents = [
        candidate
        for resource in resources(examples_dir, corpus_dir)
        for candidate in [resource, *mutations(resource), *list(model_mutations(resource))[:6]]
    ][::10]
    with_it = Validator()  # one per side: a validator remembers what it has checked
    quick = [with_it.validate(document) for document in documents]
    monkeypatch.setattr(structure, "surely_accepted", lambda model, value: False)
    without_it = Validator()
    full = [without_it.validate(document) for document in documents]
    assert len(documents) > 200
    assert quick == full


def test_extension_siblings_are_checked_not_refused() -> None:
    patient = locations.model_class("Patient")
    absent = {
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                "valueCode": "unknown",
            }
        ]
    }
    assert surely_accepted(patient, {"resourceType": "Patient", "_birthDate": absent})
    named = {"given": ["Ann", "Lee"], "_given": [absent, absent]}
    assert surely_accepted(patient, {"resourceType": "Patient", "name": [named]})
    # The model accepts a placeholder null; the quick check leaves every null to the model.
    placeholder = {"given": ["Ann", "Lee"], "_given": [None, absent]}
    assert not surely_accepted(patient, {"resourceType": "Patient", "name": [placeholder]})
    for wrong in ({}, {"extension": [{"valueCode": "unknown"}]}, {"text": "x"}, [absent]):
        assert not surely_accepted(patient, {"resourceType": "Patient", "_birthDate": wrong})


def test_primitive_verdicts_remembered_in_bounded_space(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modelcheck, "_LEAF_MEMO_SIZE", 10)
    monkeypatch.setattr(modelcheck, "_verdicts", {})
    for number in range(25):
        text = "x" * modelcheck._LEAF_MEMO_LONGEST + str(number)
        resource = {"resourceType": "Patient", "id": f"p{number}", "name": [{"text": text}]}
        assert check(resource)
    assert 0 < len(modelcheck._verdicts) <= 10
    assert all(len(str(key[-1])) <= modelcheck._LEAF_MEMO_LONGEST for key in modelcheck._verdicts)
    # 1, 1.0 and true are told apart: a remembered number does not answer for a boolean.
    observations = [
        {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
        | {"valueQuantity": {"value": value}}
        for value in (1, 1.0, True)
    ]
    assert [check(observation) for observation in observations] == [True, True, False]
