"""The native Bundle invariants agree with fhirpathpy on real and edge-case Bundles."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fhir_case.validation.profiles.bundle_invariants import BUNDLE_INVARIANTS
from fhir_case.validation.profiles.fhirpath import evaluate_invariant, parse_invariant
from tests.validation.corpus import BROKEN, load

ROOT = Path(__file__).parents[3]
JSON = dict[str, Any]
PATIENT = {"resourceType": "Patient", "id": "p"}
COMPOSITION = {"resourceType": "Composition", "id": "c"}
EXTENSION = {"extension": [{"url": "http://example.org/x", "valueString": "x"}]}


def entry(url: str | None = "urn:uuid:1", resource: JSON | None = PATIENT, **parts: Any) -> JSON:
    found: JSON = {"fullUrl": url} if url is not None else {}
    if resource is not None:
        found["resource"] = copy.deepcopy(resource)
    return found | parts


def edge_cases() -> Iterator[JSON]:
    """Bundles that make each invariant true, false or empty."""
    put = {"method": "PUT", "url": "Patient/p"}
    for kind in (None, "transaction", "batch", "history", "collection", "searchset", "document",
                 "message", "batch-response"):  # fmt: skip
        base: JSON = {"resourceType": "Bundle"} | ({"type": kind} if kind else {})
        yield base
        yield base | {"entry": []}
        yield base | {"entry": [entry()]}
        yield base | {"entry": [entry(request=put)]}
        yield base | {"entry": [entry(request=put), entry("urn:uuid:2")]}
        yield base | {"entry": [entry(response={"status": "200"})]}
        yield base | {"entry": [entry(), entry()]}  # the same fullUrl twice
        versioned = {**PATIENT, "meta": {"versionId": "2"}}
        yield base | {"entry": [entry(), entry(resource=versioned)]}
        yield base | {"entry": [entry(url=None), entry(url=None)]}
        yield base | {"entry": [entry("http://example.org/fhir/Patient/p/_history/2")]}
        yield base | {"entry": [entry(search={"mode": "match"})], "total": 1}
        yield base | {"total": 0}
        yield base | {"entry": [entry(resource=COMPOSITION), entry("urn:uuid:2")]}
        yield base | {"entry": [entry(resource=None, request=put), entry(resource=COMPOSITION)]}
        yield base | {"entry": [entry(resource={"resourceType": "MessageHeader"})]}
        yield base | {"identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:3"}}
        yield base | {"identifier": {"value": "x"}, "timestamp": "2024-01-01T00:00:00Z"}
        yield base | {"_timestamp": {"extension": [{"url": "u", "valueString": "x"}]}}
        # Primitives with only an extension, and wrong cardinalities.
        yield base | {"_total": EXTENSION}
        yield base | {"identifier": {"_system": EXTENSION, "value": "x"}}
        yield base | {"identifier": [{"system": "s", "value": "x"}]}
        yield base | {"entry": [{"_fullUrl": EXTENSION}, {"_fullUrl": EXTENSION}]}
        yield base | {"entry": [entry("a", versioned), entry("a", {**PATIENT, "meta": {}})]}
        yield base | {"entry": [{"fullUrl": 1}, {"fullUrl": 1}]}
        yield base | {"entry": ["not an entry", entry(resource=COMPOSITION)]}
        yield base | {"entry": [entry(resource={"id": "no-type"})]}
        yield base | {"entry": [entry(request=None)]}
    untyped = {"resourceType": "Bundle", "_type": EXTENSION}
    yield untyped | {"entry": [entry(request={"method": "GET", "url": "Patient"})]}
    yield untyped | {"entry": [entry(response={"status": "200"})]}


def real_bundles() -> Iterator[JSON]:
    for path in [*sorted(BROKEN.glob("*.json")), *sorted((ROOT / "bundles").glob("*.json"))]:
        data = load(path)
        if data.get("resourceType") == "Bundle":
            yield data


BUNDLES = [*edge_cases(), *real_bundles()]
# fhirpathpy has no hasValue(): this one is checked against the specification's meaning below.
BDL_10 = "type = 'document' implies (timestamp.hasValue())"


@pytest.mark.parametrize("expression", sorted(set(BUNDLE_INVARIANTS) - {BDL_10}))
def test_native_agrees_with_fhirpathpy(expression: str) -> None:
    native = BUNDLE_INVARIANTS[expression]
    tree = parse_invariant(expression)
    assert tree is not None
    entry_level = expression.startswith("fullUrl")
    outcomes = set()
    for bundle in BUNDLES:
        targets = bundle.get("entry", []) if entry_level else [bundle]
        for value in targets:
            path = "Bundle.entry" if entry_level else "Bundle"
            expected = evaluate_invariant(tree, value, path, bundle, bundle)
            if expected is None:
                continue  # fhirpathpy cannot evaluate this one (a fullUrl that is a number)
            assert native(value, bundle) is expected, (expression, value)
            outcomes.add(expected)
    assert outcomes == {True, False}  # the cases reach both outcomes


@pytest.mark.parametrize(
    ("bundle", "holds"),
    [
        ({"type": "document", "timestamp": "2024-01-01T00:00:00Z"}, True),
        ({"type": "document"}, False),
        ({"type": "document", "_timestamp": {"extension": [{"url": "u"}]}}, False),
        ({"type": "collection"}, True),
        ({}, True),
    ],
)
def test_a_document_has_a_timestamp_value(bundle: JSON, holds: bool) -> None:
    assert BUNDLE_INVARIANTS[BDL_10](bundle, bundle) is holds
