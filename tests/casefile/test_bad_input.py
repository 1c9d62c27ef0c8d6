"""Bad case files: one line naming file, line, field path and fix; exit 2; nothing written."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from fhir_case.casefile import default_case_file
from tests.helpers import run_cli


@dataclass(frozen=True)
class Defect:
    name: str
    old: str  # a unique piece of the shipped case file
    new: str  # what replaces it
    marker: str  # text on the line the error must name
    field: str  # the field path the error must name
    words: str  # words the message must contain
    last: bool = False  # the error is on the marker's last occurrence


DEFECTS = [
    Defect(
        "malformed YAML",
        "  gender: female\n",
        "  gender: [female\n",
        "gender: [female",
        "",
        "not valid YAML",
    ),
    Defect(
        "unknown field",
        "  gender: female\n",
        "  gender: female\n  colour: red\n",
        "colour: red",
        "patient.colour",
        "unknown field 'colour'",
    ),
    Defect(
        "missing required field",
        "  gender: female\n",
        "",
        "patient:",
        "patient",
        "missing required field 'gender'",
    ),
    Defect(
        "impossible date",
        "    performed: 2023-05-29\n",
        "    performed: 2023-02-30\n",
        "performed: 2023-02-30",
        "procedures[7].performed",
        "not a real date",
    ),
    Defect(
        "date in the wrong form",
        "    performed: 2023-05-29\n",
        "    performed: 29 May 2023\n",
        "performed: 29 May 2023",
        "procedures[7].performed",
        "not in the expected form",
    ),
    Defect(
        "quote not in the source",
        "quote: Ultrasonography detected a low-echo mass",
        "quote: Ultrasonography detected a high-echo mass",
        "a high-echo mass",
        "procedures[5].quote",
        "is not in the source text",
    ),
    Defect(
        "reference to a missing fact",
        "    reason: [metastasis-ilium]\n",
        "    reason: [metastasis-femur]\n",
        "metastasis-femur",
        "procedures[7].reason[0]",
        "'metastasis-femur' refers to no fact",
    ),
    Defect(
        "reference to the wrong kind of fact",
        "    reason: [metastasis-ilium]\n",
        "    reason: [pathology-ilium]\n",
        "reason: [pathology-ilium]",
        "procedures[7].reason[0]",
        "this field refers to conditions",
    ),
    Defect(
        "code not in the register",
        "code: [SNOMED 277591006]",
        "code: [SNOMED 123456789]",
        "SNOMED 123456789",
        "procedures[7].code[0]",
        "not in the code register",
    ),
    Defect(
        "unverified code",
        "code: [UNII 1C6V77QF41]",
        "code: [RxNorm 2418]",
        "RxNorm 2418",
        "medications[4].code[0]",
        "unverified",
    ),
    Defect(
        "unit that is not UCUM",
        "dose: {value: 40, unit: mg/m2}",
        "dose: {value: 40, unit: mcg}",
        "unit: mcg",
        "medications[1].dose.unit",
        "'mcg' is not a UCUM unit",
    ),
    Defect(
        "duplicate id",
        "  - id: tumor-ilium\n",
        "  - id: tumor-rib\n",
        "  - id: tumor-rib",
        "tumors[4].id",
        "already used",
        last=True,
    ),
]


@pytest.mark.parametrize("defect", DEFECTS, ids=[d.name for d in DEFECTS])
def test_defect_is_reported_precisely_and_nothing_is_written(
    defect: Defect, tmp_path: Path
) -> None:
    shipped = default_case_file()
    text = shipped.read_text(encoding="utf-8")
    assert text.count(defect.old) >= 1, defect.old
    broken = text.replace(defect.old, defect.new, 1)
    case_file = tmp_path / "case.yaml"
    case_file.write_text(broken, encoding="utf-8")
    shutil.copy(shipped.with_name("mpnst-chen-2024.source.txt"), tmp_path)
    broken_lines = broken.splitlines()
    lines = [i for i, text in enumerate(broken_lines, 1) if defect.marker in text]
    line = lines[-1] if defect.last else lines[0]
    out = tmp_path / "out"

    result = run_cli("build", str(case_file), "--out", str(out))

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.count("\n") == 0, message  # one short line
    assert f"{case_file}:{line}:" in message
    assert f" {defect.field}:" in message or not defect.field
    assert defect.words in message
    assert "Fix: " in message
    assert not out.exists()


def test_missing_case_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("build", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "nope.yaml: no such file; check the path of the case file" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_source_text_names_the_field(tmp_path: Path) -> None:
    case_file = tmp_path / "case.yaml"
    shutil.copy(default_case_file(), case_file)  # the source text is not copied beside it
    result = run_cli("build", str(case_file), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "source.text" in result.stderr and "mpnst-chen-2024.source.txt" in result.stderr
