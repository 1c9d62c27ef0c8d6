"""Agreement with the official HL7 validator on ../shared/fhir/validation-corpus.

For every error the HL7 validator reports (terminology-server artefacts excluded), fhir-case
must report an error at the same location. Locations are compared after removing the HL7
validator's ``/*Type/id*/`` comments and writing a choice element as ``[x]`` on both sides
(its JSON parser says ``value[x].value`` where its validator says ``value.ofType(Quantity)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from fhir_case.validation import Validator
from tests.validation.corpus import load

# Errors that come from running the HL7 validator without a terminology server (or from its
# own failures), not from the file.
ARTEFACTS = ("Cannot invoke", "terminology service", "could not be found, so the code cannot")
MUST_BE_CLEAN = ("base/good.json", "profile/good.json", "profile/uscore-good.json")
MUST_HAVE_NO_ERRORS = (*MUST_BE_CLEAN, "profile/m10-mustsupport-missing.json")


def normalize(location: str) -> str:
    location = re.sub(r"/\*.*?\*/", "", location)
    return re.sub(r"\.ofType\([^)]*\)", "[x]", location)


@dataclass
class Agreement:
    name: str
    expected: list[str]
    missed: list[str]
    extra: int

    @property
    def matched(self) -> int:
        return len(self.expected) - len(self.missed)


def agreement(validator: Validator, bundle: Path, verdict: Path) -> Agreement:
    hl7 = load(verdict)
    expected = [
        normalize(error["expression"])
        for error in hl7["errors"]
        if not any(artefact in error["text"] for artefact in ARTEFACTS)
    ]
    ours = {
        normalize(issue.location) for issue in validator.validate(load(bundle)) if issue.is_error
    }
    missed = [location for location in expected if location not in ours]
    extra = len(ours - set(expected))
    return Agreement(f"{bundle.parent.name}/{bundle.name}", expected, missed, extra)


@pytest.fixture(scope="module")
def table(validator: Validator, corpus_dir: Path) -> list[Agreement]:
    rows = []
    for verdict in sorted(corpus_dir.glob("*/*.hl7.json")):
        bundle = verdict.with_name(verdict.name.replace(".hl7.json", ".json"))
        rows.append(agreement(validator, bundle, verdict))
    return rows


def test_prints_the_agreement_table(
    table: list[Agreement], capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [f"{'file':45} {'HL7 errors':>10} {'matched':>8} {'missed':>7} {'extra':>6}"]
    for row in table:
        lines.append(
            f"{row.name:45} {len(row.expected):>10} {row.matched:>8} {len(row.missed):>7} "
            f"{row.extra:>6}"
        )
    expected = sum(len(row.expected) for row in table)
    matched = sum(row.matched for row in table)
    lines.append(f"{'total':45} {expected:>10} {matched:>8} {expected - matched:>7}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert expected > 0


def test_at_least_95_percent_of_hl7_errors_are_found(table: list[Agreement]) -> None:
    expected = sum(len(row.expected) for row in table)
    matched = sum(row.matched for row in table)
    assert matched / expected >= 0.95, [(row.name, row.missed) for row in table if row.missed]


def test_every_base_error_is_found(table: list[Agreement]) -> None:
    missed = [
        (row.name, row.missed) for row in table if row.name.startswith("base/") and row.missed
    ]
    assert missed == []


@pytest.mark.parametrize("name", MUST_HAVE_NO_ERRORS)
def test_valid_bundles_have_no_errors(validator: Validator, corpus_dir: Path, name: str) -> None:
    errors = [issue for issue in validator.validate(load(corpus_dir / name)) if issue.is_error]
    assert errors == []


def test_defects_the_hl7_validator_only_warns_about_are_errors(
    validator: Validator, corpus_dir: Path
) -> None:
    dangling = validator.validate(load(corpus_dir / "base" / "dangling-reference.json"))
    system = validator.validate(load(corpus_dir / "base" / "bad-system-uri.json"))
    assert [(i.layer, i.location) for i in dangling if i.is_error] == [
        ("bundle", "Bundle.entry[1].resource.subject")
    ]
    assert [(i.layer, i.location) for i in system if i.is_error] == [
        ("terminology", "Bundle.entry[1].resource.code.coding[0].system")
    ]
