"""A validator remembers what it found per resource (and per Bundle's entries): reusing it
over many documents, with the same resources at other places, finds exactly what a validator
that remembers nothing finds."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fhir_case.validation as validation
from fhir_case.validation import Validator
from fhir_case.validation.memo import Memo, digest
from fhir_case.validation.profiles import check
from tests.validation.corpus import BROKEN, load

ROOT = Path(__file__).parents[2]
JSON = dict[str, Any]


def shifted(bundle: JSON) -> JSON:
    """The Bundle with one more entry in front, so that every other entry moves by one."""
    moved = copy.deepcopy(bundle)
    extra = {
        "fullUrl": "urn:uuid:0f6e5a52-3b4c-4c1e-9a57-0d4a8f1b2c3d",
        "resource": {"resourceType": "Basic", "id": "shift", "code": {"text": "shift"}},
    }
    if moved.get("type") in ("transaction", "batch"):
        extra["request"] = {"method": "PUT", "url": "Basic/shift"}
    moved["entry"] = [extra, *moved.get("entry", [])]
    return moved


def documents(corpus_dir: Path) -> Iterator[tuple[str, JSON]]:
    paths = [
        *sorted(BROKEN.glob("*.json")),
        *sorted(corpus_dir.rglob("*.json")),
        *sorted((ROOT / "bundles").glob("*.json")),
    ]
    for path in paths:
        if path.name.endswith((".hl7.json", ".expected.json")):
            continue
        data = load(path)
        yield path.name, data
        if data.get("resourceType") == "Bundle" and isinstance(data.get("entry"), list):
            yield f"{path.name} (shifted)", shifted(data)


@pytest.fixture(scope="module")
def forgetful(fhir_package_cache: Path) -> Iterator[Validator]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validation, "ENTRY_MEMO_SIZE", 0)
        patch.setattr(check, "BUNDLE_MEMO_SIZE", 0)
        validator = Validator()
        validator.validate({"resourceType": "Basic", "code": {"text": "load the packages"}})
    yield validator


def test_remembering_finds_what_a_fresh_check_finds(
    validator: Validator, forgetful: Validator, corpus_dir: Path
) -> None:
    relocated = 0
    for name, data in documents(corpus_dir):
        expected = forgetful.validate(data)
        assert validator.validate(data) == expected, name
        if name.endswith("(shifted)"):
            relocated += sum(i.location.startswith("Bundle.entry[") for i in expected)
    assert relocated > 40  # the shifted copies moved issues found inside entries


def test_memo_forgets_the_least_recently_used() -> None:
    memo: Memo[int] = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # now "b" is the least recently used
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)


def test_digest_tells_content_apart_and_refuses_what_is_not_json() -> None:
    assert digest({"a": [1, "x"]}) == digest({"a": [1, "x"]})
    assert digest({"a": [1, "x"]}) != digest({"a": [1, "y"]})
    assert digest({"when": datetime.date(2023, 5, 28)}) is None
    assert digest({"value": float("nan")}) is None
