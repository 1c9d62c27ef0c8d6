"""Bad case files: one line naming file, line, field path and fix; exit 2; nothing written."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from fhir_case.casefile import default_case_file
from tests.helpers import ROOT, run_cli


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
        "code: [SNOMED 277591006, LOINC 35891-1]",
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
        "medications[3].code[0]",
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
        "derived from a date instead of a fact",
        "      derived_from: presentation\n      offset: {value: -2, unit: wk}\n",
        "      derived_from: 2023-05-28\n      offset: {value: -2, unit: wk}\n",
        "derived_from: 2023-05-28",
        "conditions[5].onset.derived_from",
        "'2023-05-28' is a date; this field names the fact whose stated date is meant",
    ),
    Defect(
        "derived from a fact whose date is not stated",
        "      derived_from: chemotherapy\n",
        "      derived_from: xray-lumbar\n",
        "derived_from: xray-lumbar",
        "procedures[11].performed.derived_from",
        "'xray-lumbar' has no stated date to count from",
    ),
    Defect(
        "placed after a fact that has no date",
        "start: {text: after the chemotherapy completed on 2023-10-18; the start is not stated,"
        " after: regimen-chemotherapy}",
        "start: {text: after the decision against surgery, after: surgery-not-performed}",
        "after: surgery-not-performed}",
        "care_plans[1].start.after",
        "'surgery-not-performed' has no stated date to count from",
    ),
    Defect(
        "ICD-O-3 behaviour of a primary code on a secondary cancer",
        "    focus: mpnst\n    date: 2023-06-06\n",
        "    focus: metastasis-ilium\n    date: 2023-06-06\n",
        "value: {code: [ICD-O-3 9540/3], text: Malignant peripheral",
        "observations[21].value.code",
        "has behaviour /3, but 'metastasis-ilium' is a secondary-cancer condition",
    ),
    Defect(
        "coded morphology under a narrative pathology code",
        "    kind: histology\n",
        "    kind: pathology\n",
        "value: {code: [ICD-O-3 9540/3], text: Malignant peripheral",
        "observations[21].value.code",
        "is a histology result",
    ),
    Defect(
        "tumor and condition at the same site with different laterality",
        'text: "L4 vertebral body, left side", laterality: left}',
        'text: "L4 vertebral body, left side", laterality: right}',
        'text: "L4 vertebral body, left side", laterality: right}',
        "tumors[1].location.laterality",
        "differs from that of its condition 'metastasis-l4'",
    ),
    Defect(
        "cycle days outside the cycle",
        "cycle: {length: 21, first_day: 1, last_day: 14}",
        "cycle: {length: 21, first_day: 1, last_day: 24}",
        "last_day: 24",
        "medications[4].cycle",
        "days 1..24 are not days of a 21-day cycle",
    ),
    Defect(
        "value both given and absent",
        "    value: {absent: the Figure 2B legend",
        "    value: {string: 3 cm, absent: the Figure 2B legend",
        "value: {string: 3 cm, absent",
        "observations[28].value.absent",
        "both given and absent",
    ),
    Defect(
        "a procedure not done with a date",
        "    status: not-done\n",
        "    status: not-done\n    performed: 2023-06-06\n",
        "performed: 2023-06-06",
        "procedures[10].performed",
        "a procedure that was not done has no performed date",
        last=True,
    ),
    Defect(
        "a procedure done without a date",
        "    performed: 2024-02-20\n",
        "",
        "  - id: ct-2024-02-20",
        "procedures[13]",
        "missing required field 'performed'",
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


def test_a_date_counted_from_a_period_must_say_which_end(tmp_path: Path) -> None:
    fixture = ROOT / "tests" / "fixtures" / "cases"
    text = (fixture / "simple-case.yaml").read_text(encoding="utf-8")
    assert text.count("      anchor: start\n") == 1
    case_file = tmp_path / "case.yaml"
    case_file.write_text(text.replace("      anchor: start\n", ""), encoding="utf-8")
    shutil.copy(fixture / "simple-case.source.txt", tmp_path)
    result = run_cli("build", str(case_file), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "conditions[0].onset.derived_from: 'visit' has a stated start and end" in result.stderr
    assert "Fix: add anchor: start or anchor: end" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("offset: {value: -1, unit: mo}", "offset: {value: -99999999999, unit: a}",
         "is not a date of the calendar"),
        ("      derived_from: visit\n", "      derived_from: back-pain\n",
         "'back-pain' has no stated start date to count from"),
        ("      derived_from: visit\n", "      derived_from: nowhere\n",
         "'nowhere' refers to no fact"),
        ("      derived_from: visit\n", "      derived_from: [visit]\n", "a list is not a text"),
        ("after: visit, anchor: end}", "anchor: end}", "'after' is a dependency of 'anchor'"),
        ("after: visit, anchor: end}", "after: visit, anchor: middle}", "'middle' is not allowed"),
    ],
)  # fmt: skip
def test_hostile_dates_are_refused_clearly(old: str, new: str, words: str, tmp_path: Path) -> None:
    fixture = ROOT / "tests" / "fixtures" / "cases"
    text = (fixture / "simple-case.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    case_file = tmp_path / "case.yaml"
    case_file.write_text(text.replace(old, new), encoding="utf-8")
    shutil.copy(fixture / "simple-case.source.txt", tmp_path)
    result = run_cli("build", str(case_file), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    assert words in result.stderr and "Fix: " in result.stderr
    assert not (tmp_path / "out").exists()


ENCODINGS = [
    ("UTF-16 with a byte order mark", "\ufefftitle: x\n".encode("utf-16-le"), "", "UTF-16"),
    ("UTF-16 without one", "title: x\n".encode("utf-16-le"), "", "the file is UTF-16 text"),
    ("Latin-1", "title: café\n".encode("latin-1"), ":1:11", "byte 0xe9 cannot be decoded"),
    ("empty", b"", "", "the case file is empty"),
    ("only a UTF-8 byte order mark", b"\xef\xbb\xbf\n", "", "the case file is empty"),
]


@pytest.mark.parametrize("encoding", ENCODINGS, ids=[e[0] for e in ENCODINGS])
def test_a_case_file_in_another_encoding_is_refused_with_the_fix(
    tmp_path: Path, encoding: tuple[str, bytes, str, str]
) -> None:
    _, data, position, words = encoding
    case_file = tmp_path / "case.yaml"
    case_file.write_bytes(data)
    result = run_cli("build", str(case_file), "--out", str(tmp_path / "out"))
    message = result.stderr.strip()
    assert result.returncode == 2, message
    assert message.startswith(f"fhir-case build: error: {case_file}{position}: "), message
    assert words in message, message
    assert "UTF-8" in message or "empty" in message, message
    assert "Traceback" not in message
    assert not (tmp_path / "out").exists()
