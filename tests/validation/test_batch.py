"""``Validator.validate_many``: the same issues, in the same order, with several processes."""

from __future__ import annotations

from pathlib import Path

from fhir_case.validation import Validator
from fhir_case.validation.batch import _shares
from tests.validation.corpus import BROKEN, load


def test_workers_give_what_one_process_gives(validator: Validator, examples_dir: Path) -> None:
    paths = sorted(examples_dir.glob("*.json"))[::4] + sorted(BROKEN.glob("*.json"))[:6]
    documents = [load(path) for path in paths if path.name != "manifest.json"]
    assert validator.validate_many(documents, jobs=3) == [validator.validate(d) for d in documents]


def test_shares_keep_resource_types_together_and_balance_counts() -> None:
    documents = [{"resourceType": kind} for kind in ["Patient"] * 3 + ["Observation"] * 4]
    assert _shares(documents, 2) == [[3, 4, 5, 6], [0, 1, 2]]


def test_one_type_is_split_when_there_are_more_processes() -> None:
    documents = [{"resourceType": "Bundle"}] * 4
    assert _shares(documents, 2) == [[0, 1], [2, 3]]


def test_one_job_is_one_process() -> None:
    assert _shares([{"resourceType": "Patient"}, {"resourceType": "Condition"}], 1) == [[0, 1]]
