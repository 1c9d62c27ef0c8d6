from __future__ import annotations

import pytest

from fhir_case.validation.ucum import check_unit, suggest

VALID = [
    "kg",
    "mg/m2",
    "10*3/uL",
    "10*9/L",
    "mm[Hg]",
    "cm[H2O]",
    "%",
    "{score}",
    "/min",
    "[iU]/L",
    "mL/min/{1.73_m2}",
    "1",
    "Cel",
    "[degF]",
    "(mg/d)/kg",
    "cm-1",
    "s-1",
    "meq/L",
    "ug",
    "dag",
    "%{HemoglobinSaturation}",
    "[lb_av]",
    "mg{total}",
    "kg.m-2",
    "10*-3",
    "B[10.nV]",
]
INVALID = {
    "mcg": "'mcg' is not a UCUM unit",
    "kgs": "'kgs' is not a UCUM unit",
    "mEq": "'mEq' is not a UCUM unit",
    "mg/": "expected a unit, found the end",
    "mg..kg": "expected a unit, found '.' at position 4",
    "{cm": "unclosed '{' at position 1",
    "[foo]": "'[foo]' is not a UCUM unit",
    "(mg/d": "missing ')' at position 6",
    "": "the unit is empty",
    "mg)": "unexpected ')' at position 3",
    "{é}": "annotation '{é}' holds characters UCUM does not allow",
}


@pytest.mark.parametrize("unit", VALID)
def test_valid_units(unit: str) -> None:
    assert check_unit(unit) is None


@pytest.mark.parametrize(("unit", "problem"), sorted(INVALID.items()))
def test_invalid_units_say_what_is_wrong(unit: str, problem: str) -> None:
    assert check_unit(unit) == problem


def test_common_mistakes_get_a_suggestion() -> None:
    assert suggest("mcg") == "ug"
    assert suggest("cc") == "mL"
    assert suggest("furlongs") is None
