"""The official R4 examples the HL7 validator accepts (144 of 154) give no errors.

Nine examples carry Quantity codes that are not UCUM (``ea``, ``mEq``, ``drop``, ``ml/hr``).
The HL7 validator ran without a terminology server and so never checked UCUM ("Unable to
validate code ... without terminology services"); fhir-case parses UCUM itself and reports
them as warnings. The test pins exactly these.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_case.validation import Validator
from tests.validation.corpus import load

NOT_UCUM = {
    "MedicationRequest-medrx0304.json": ["drop"],
    "MedicationRequest-medrx0319.json": ["ml/hr"],
    "MedicationRequest-medrx0322.json": ["mEq", "mEq"],
    "MedicationRequest-medrx0325.json": ["ea"],
    "MedicationRequest-medrx0326.json": ["ea"],
    "MedicationRequest-medrx0328.json": ["ea"],
    "MedicationRequest-medrx0329.json": ["ea"],
    "MedicationRequest-medrx0334.json": ["ea"],
    "MedicationRequest-medrx0335.json": ["ea"],
}


def accepted(shared_dir: Path) -> list[Path]:
    verdicts = json.loads((shared_dir / "fhir" / "examples-r4.hl7.json").read_text())
    rejected = set(verdicts["files_with_errors"])
    folder = shared_dir / "fhir" / "examples-r4"
    return [path for path in sorted(folder.glob("*.json")) if path.name not in rejected]


def test_144_examples_are_accepted_by_hl7(shared_dir: Path) -> None:
    assert len(accepted(shared_dir)) == 144


def test_accepted_examples_have_no_errors_and_warn_of_their_non_ucum_units(
    validator: Validator, shared_dir: Path
) -> None:
    found: dict[str, list[str]] = {}
    errors: list[str] = []
    for path in accepted(shared_dir):
        for issue in validator.validate(load(path)):
            if issue.is_error:
                errors.append(f"{path.name}: {issue.layer} {issue.location}: {issue.message}")
            elif issue.layer == "terminology" and "is not a valid UCUM unit" in issue.message:
                assert issue.severity == "warning"
                found.setdefault(path.name, []).append(issue.message.split("'")[1])
    assert errors == []
    assert found == NOT_UCUM


@pytest.mark.parametrize("name", ["Observation-f202.json", "Patient-glossy.json"])
def test_rejected_examples_still_validate_without_crashing(
    validator: Validator, examples_dir: Path, name: str
) -> None:
    assert isinstance(validator.validate(load(examples_dir / name)), list)
