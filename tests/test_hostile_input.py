"""Hostile input is normal input (issue 11): every command, given files no one should give it,
ends quickly with one clear message, exit status 2, no traceback and no Python internals.

Special files (a FIFO, /dev/zero, a folder) and a closed standard output are tried on real
processes, each bounded by ``timeout=`` so that a hang fails the test instead of holding it.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fhir_case.casefile import default_case_file, load_case
from fhir_case.cli import main
from fhir_case.errors import FhirCaseError, InputFileError
from fhir_case.safeinput import (
    MAX_JSON_BYTES,
    MAX_NESTING,
    MAX_NUMBER_CHARS,
    MAX_YAML_VALUES,
    parse_json,
    read_json,
)

BOUND = 60  # seconds: a process that takes longer is taken to hang
# What a user must never see: Python's words for its own internals.
INTERNALS = re.compile(
    r"Traceback|NoneType|\bNone\b|\[Errno \d+\]|<class |[A-Z][a-z]+Error\b|Exception\b|"
    r"object at 0x|\bb'"
)


def run_cli(*args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fhir_case", *args],
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
        stdin=stdin,
    )


def clean(message: str) -> str:
    found = INTERNALS.search(message)
    assert found is None, f"Python internals ({found.group()!r}) in: {message}"
    return message


# ---------------- JSON inputs: validate, view, upload --dry-run, delete --dry-run ----------------

JSON_COMMANDS: list[list[str]] = [
    ["validate"],
    ["view", "-o", "{tmp}/page.html"],
    ["upload", "--dry-run", "--server", "http://127.0.0.1:9/fhir"],
    ["delete", "--dry-run", "--server", "http://127.0.0.1:9/fhir"],
]


def hostile_json(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, words the message must hold)."""
    cases: dict[str, tuple[bytes, str]] = {
        "utf-16 with BOM": (codecs.BOM_UTF16_LE + '{"a": 1}'.encode("utf-16-le"), "UTF-16"),
        "utf-16 without BOM": ('{"a": 1}'.encode("utf-16-le"), "UTF-16"),
        "not utf-8": (
            b'{\n  "resourceType": "Pat\xffient"\n}',
            ":2:23: ",
        ),
        "empty": (b"", "is empty"),
        "only whitespace": (b"  \n\n", "is empty"),
        "xml": (b'<?xml version="1.0"?><Patient xmlns="http://hl7.org/fhir"/>', "looks like XML"),
        "deep nesting": (b"[" * 100_000 + b"]" * 100_000, f"nested more than {MAX_NESTING}"),
        "huge integer": (b'{"a": ' + b"9" * 5000 + b"}", f"at most {MAX_NUMBER_CHARS}"),
        "NaN": (b'{"resourceType": "Patient", "a": NaN}', "NaN is not a JSON number"),
        "infinite number": (b'{"a": 1e999}', "too large to represent"),
        "duplicate key": (
            b'{"resourceType": "Bundle",\n "type": "transaction",\n "type": "batch"}',
            'duplicate key "type"',
        ),
        "raw control character": (b'{"a": "x\x01y"}', "control character"),
        "array": (b"[1, 2]", "found a JSON array"),
        "truncated": (b'{"resourceType": "Bundle", ', "not valid JSON"),
    }
    written = {}
    for name, (data, words) in cases.items():
        path = tmp / (re.sub(r"\W+", "-", name) + ".json")
        path.write_bytes(data)
        written[name] = (path, words)
    return written


@pytest.mark.parametrize("command", JSON_COMMANDS, ids=lambda c: c[0])
def test_hostile_json_files_are_refused_clearly(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    for name, (path, words) in hostile_json(tmp_path).items():
        code = main([*args, str(path)])  # in process: the special files below use processes
        message = capsys.readouterr().err.strip()
        assert code == 2, (name, message)
        assert words in message, (name, message)
        assert str(path) in message, (name, message)
        if name == "not utf-8":
            assert "is not UTF-8 text: byte 0xff cannot be decoded there" in message
        clean(message)
    assert not (tmp_path / "page.html").exists()


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(codecs.BOM_UTF8 + b'{"resourceType": "Patient", "id": "a"}')
    assert read_json(path) == {"resourceType": "Patient", "id": "a"}


def test_position_of_a_duplicate_key_and_of_an_ndjson_line() -> None:
    with pytest.raises(InputFileError, match=r"^f\.json:3:15: duplicate key \"b\""):
        parse_json('{"a": 1,\n "x": [\n  1, {"b": 1, "b": 2}]}', "f.json")
    # The repeated key itself, not a key of the same name in a value before it.
    with pytest.raises(InputFileError, match=r"^f\.json:2:3: duplicate key \"k\""):
        parse_json('{ "k" : {"k": [1, {"k": 2}]} ,\n  "k": 3}', "f.json")
    with pytest.raises(InputFileError, match=r"^f\.ndjson:41:7: not valid JSON"):
        parse_json('{"a": ]}', "f.ndjson", first_line=41)


SPECIAL_FILES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("a FIFO", lambda tmp: _fifo(tmp / "pipe.json"), "is a named pipe (FIFO)"),
    ("/dev/zero", lambda tmp: Path("/dev/zero"), "is a device"),
    ("a folder", lambda tmp: tmp, "is a folder"),
    (
        "a huge file",
        lambda tmp: _sparse(tmp / "huge.json", MAX_JSON_BYTES + 1),
        "fhir-case reads at most",
    ),
]


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)  # no data written: a sparse file of that size
    return path


@pytest.mark.parametrize("special", SPECIAL_FILES, ids=[s[0] for s in SPECIAL_FILES])
@pytest.mark.parametrize(
    "command", [*JSON_COMMANDS, ["build", "--out", "{tmp}/out"]], ids=lambda c: c[0]
)
def test_special_files_are_refused_without_waiting(
    command: list[str], special: tuple[str, Callable[[Path], Path], str], tmp_path: Path
) -> None:
    _, make, words = special
    given = make(tmp_path)
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    result = run_cli(*args, str(given))  # bounded: a FIFO opened for reading would block
    assert result.returncode == 2, result.stderr
    assert words in result.stderr, result.stderr
    clean(result.stderr)


def test_a_closed_standard_output_ends_quietly(tmp_path: Path) -> None:
    bundle = Path(__file__).resolve().parents[1] / "bundles" / "mpnst-chen-2024.transaction.json"
    for args in (
        ["upload", "--dry-run", "--server", "http://127.0.0.1:9/fhir", str(bundle)],
        ["validate", str(bundle)],
    ):
        process = subprocess.Popen(
            [sys.executable, "-m", "fhir_case", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        assert process.stdout is not None
        process.stdout.close()  # the reader has gone before the first line (| head -0)
        _, err = process.communicate(timeout=BOUND)
        assert process.returncode == 0, err
        assert err == b"", err


# ---------------- deep but valid FHIR ----------------


def deep_extension_bundle(levels: int) -> dict[str, object]:
    extension: dict[str, object] = {"url": "http://fhir-case.test/leaf", "valueString": "x"}
    for level in range(levels):
        extension = {"url": f"http://fhir-case.test/level{level}", "extension": [extension]}
    uuid = "0f4f6a1e-5a8b-4c2e-9d3a-1b2c3d4e5f01"
    patient = {"resourceType": "Patient", "id": uuid, "extension": [extension]}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{uuid}", "resource": patient}],
    }


def test_extensions_nested_hundreds_of_levels_validate_and_view(
    tmp_path: Path, fhir_package_cache: Path
) -> None:
    path = tmp_path / "deep.json"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)  # json.dumps of this test's own data recurses too
    try:
        path.write_text(json.dumps(deep_extension_bundle(480)))
    finally:
        sys.setrecursionlimit(limit)
    result = run_cli("validate", str(path))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout.splitlines()[-1].endswith("deep.json: 0 errors, 0 warnings, 0 information")
    viewed = run_cli("view", str(path), "-o", str(tmp_path / "deep.html"))
    assert viewed.returncode == 0, viewed.stderr
    dry = run_cli("upload", "--dry-run", "--server", "http://127.0.0.1:9/fhir", str(path))
    assert dry.returncode == 0, dry.stderr


# ---------------- output paths ----------------


def test_output_paths_in_the_way_are_named_and_nothing_is_written(tmp_path: Path) -> None:
    bundle = Path(__file__).resolve().parents[1] / "bundles" / "mpnst-chen-2024.collection.json"
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    cases = [
        (["build", "--out", str(a_file)], "is a file, not a folder"),
        (["build", "--out", str(a_file / "sub")], "a-file is a file, not a folder"),
        (
            ["view", str(bundle), "-o", str(tmp_path)],
            "is a folder, where a file is to be written; give the name of a file",
        ),
        (["view", str(bundle), "-o", str(a_file / "x.html")], "a-file is a file, not a folder"),
    ]
    for args, _ in cases:
        assert main(args) == 2  # in process, too
    for args, words in cases:
        result = run_cli(*args)
        assert result.returncode == 2 and words in result.stderr, result.stderr
        clean(result.stderr)
    assert a_file.read_text() == "keep me"


def test_several_outputs_are_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "mpnst-chen-2024.document.json").mkdir(parents=True)  # the last file cannot be written
    result = run_cli("build", "--out", str(out))
    assert result.returncode == 2
    assert "mpnst-chen-2024.document.json: is a folder" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mpnst-chen-2024.document.json"]


def test_a_failed_move_puts_back_the_files_already_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fhir_case import fileio
    from fhir_case.errors import OutputPathError

    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text("old a")
    real_replace = os.replace
    moves = []

    def failing_second_move(src: str | Path, dst: str | Path) -> None:
        moves.append(dst)
        if Path(dst) == second:  # a full disk, say: only a fault injected here can show it
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", failing_second_move)
    with pytest.raises(OutputPathError, match=r"\(no space left on device\); nothing was written"):
        fileio.write_outputs({first: b"new a", second: b"new b"})
    assert first.read_text() == "old a" and not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]  # no temporary file left


# ---------------- case files ----------------


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    shutil.copy(default_case_file(), tmp_path / "case.yaml")
    shutil.copy(default_case_file().with_name("mpnst-chen-2024.source.txt"), tmp_path)
    return tmp_path


def edited(case_dir: Path, old: str, new: str, count: int = 1) -> Path:
    path = case_dir / "case.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


CASE_DEFECTS = [
    # name, old, new, words in the message
    (
        "billion laughs",
        "title: ",
        'bomb: &a0 ["x","x","x","x","x","x","x","x","x","x"]\n'
        + "".join(f"b{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9))
        + "title: ",
        f"more than {MAX_YAML_VALUES} values",
    ),
    ("recursive alias", "title: ", "loop: &me [1, *me]\ntitle: ", "recursive alias"),
    ("deep nesting", "title: ", "deep: " + "[" * 500 + "]" * 500 + "\ntitle: ", "nested more than"),
    (
        "huge integer",
        "dose: {value: 40, unit: mg/m2}",
        "dose: {value: " + "4" * 5000 + ", unit: mg/m2}",
        f"at most {MAX_NUMBER_CHARS}",
    ),
    (
        "NaN dose",
        "dose: {value: 40, unit: mg/m2}",
        "dose: {value: .nan, unit: mg/m2}",
        "not a finite number",
    ),
    (
        "infinite dose",
        "dose: {value: 40, unit: mg/m2}",
        "dose: {value: .inf, unit: mg/m2}",
        "not a finite number",
    ),
    (
        "negative dose",
        "dose: {value: 40, unit: mg/m2}",
        "dose: {value: -40, unit: mg/m2}",
        "a dose must be more than 0",
    ),
    (
        "zero dose",
        "dose: {value: 40, unit: mg/m2}",
        "dose: {value: 0, unit: mg/m2}",
        "a dose must be more than 0",
    ),
    ("binary tag", "title: ", "title: !!binary aGVsbG8=\nx: ", "!!binary is not allowed"),
    (
        "control character",
        "  gender: female\n",
        '  gender: "fe\\x07male"\n',
        "control character U+0007",
    ),
    ("empty value", "  gender: female\n", "  gender:\n", "an empty value is not allowed"),
]


@pytest.mark.parametrize("defect", CASE_DEFECTS, ids=[d[0] for d in CASE_DEFECTS])
def test_hostile_case_files_are_refused_with_the_line(
    case_dir: Path, defect: tuple[str, ...]
) -> None:
    name, old, new, words = defect
    path = edited(case_dir, old, new)
    result = run_cli("build", str(path), "--out", str(case_dir / "out"))
    message = result.stderr.strip()
    assert result.returncode == 2, (name, message)
    assert words in message, (name, message)
    assert re.search(rf"{re.escape(str(path))}:\d+:", message), (name, message)
    clean(message)
    assert not (case_dir / "out").exists()


def test_a_size_of_zero_names_the_field(case_dir: Path) -> None:
    path = edited(case_dir, "longest: {value: 5, unit: cm}", "longest: {value: 0, unit: cm}")
    with pytest.raises(FhirCaseError) as caught:
        load_case(path)
    message = str(caught.value)
    assert "longest.value: a size of 0 cm: a size must be more than 0" in message
    line = path.read_text(encoding="utf-8").splitlines().index("    longest: {value: 0, unit: cm}")
    assert f"{path}:{line + 1}:" in message


def test_circular_chains_are_refused(case_dir: Path) -> None:
    # Dates off the calendar after an offset: tests/casefile/test_bad_input.py (hostile dates).
    text = (case_dir / "case.yaml").read_text(encoding="utf-8")
    path = case_dir / "case.yaml"
    meds = _section_ids(text, "medications")
    assert len(meds) >= 2
    first, second = meds[0], meds[1]
    for chain, words in (
        ({first: first}, f"'{first}' follows itself"),
        ({first: second, second: first}, "the 'prior' chain comes back to where it started"),
    ):
        changed = text
        for fact, prior in chain.items():
            changed = changed.replace(
                f"  - id: {fact}\n", f"  - id: {fact}\n    prior: {prior}\n", 1
            )
        path.write_text(changed, encoding="utf-8")
        with pytest.raises(FhirCaseError, match=re.escape(words)):
            load_case(path)

    observations = _section_ids(text, "observations")
    changed = text.replace(
        f"  - id: {observations[0]}\n",
        f"  - id: {observations[0]}\n    derived_from: [{observations[0]}]\n",
        1,
    )
    path.write_text(changed, encoding="utf-8")
    with pytest.raises(FhirCaseError, match="is derived from itself"):
        load_case(path)
    organizations = _section_ids(text, "organizations")
    changed = text.replace(
        f"  - id: {organizations[0]}\n",
        f"  - id: {organizations[0]}\n    part_of: {organizations[0]}\n",
        1,
    )
    path.write_text(changed, encoding="utf-8")
    with pytest.raises(FhirCaseError, match="is part of itself"):
        load_case(path)


def _section_ids(text: str, section: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(f"{section}:")
    ids = []
    for line in lines[start + 1 :]:
        if line and not line.startswith(" "):
            break
        if line.startswith("  - id: "):
            ids.append(line.removeprefix("  - id: ").strip())
    return ids


def test_a_string_over_one_megabyte_is_refused(case_dir: Path) -> None:
    path = edited(case_dir, "title: ", f"title: {'x' * (1024 * 1024 + 1)}\nold_title: ")
    with pytest.raises(
        FhirCaseError, match=r"a text of 1048577 characters; FHIR strings are at most"
    ):
        load_case(path)


def test_a_source_text_that_is_a_fifo_is_refused(case_dir: Path) -> None:
    source = case_dir / "mpnst-chen-2024.source.txt"
    source.unlink()
    os.mkfifo(source)
    result = run_cli("build", str(case_dir / "case.yaml"), "--out", str(case_dir / "out"))
    assert result.returncode == 2
    assert "source.text" in result.stderr and "named pipe (FIFO)" in result.stderr
    clean(result.stderr)


# ---------------- requests that would change a URL ----------------


def test_path_injection_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:0f4f6a1e-5a8b-4c2e-9d3a-1b2c3d4e5f01",
                "resource": {"resourceType": "Patient/../../metadata", "id": "a"},
            }
        ],
    }
    path = tmp_path / "inject.json"
    path.write_text(json.dumps(bundle))
    result = run_cli("upload", "--dry-run", "--server", "http://127.0.0.1:9/fhir", str(path))
    assert result.returncode == 2 and "it would change the request's URL" in result.stderr
    bundle["entry"][0]["resource"] = {"resourceType": "Patient", "id": ".."}
    path.write_text(json.dumps(bundle))
    result = run_cli("upload", "--dry-run", "--server", "http://127.0.0.1:9/fhir", str(path))
    assert result.returncode == 2 and "is not a FHIR id" in result.stderr
    result = run_cli(
        "view",
        "--server",
        "http://127.0.0.1:9/fhir",
        "--patient",
        "../x",
        "-o",
        str(tmp_path / "p.html"),
    )
    assert result.returncode == 2 and "is not a FHIR id" in result.stderr
    clean(result.stderr)


# ---------------- the guard ----------------


def test_an_internal_error_asks_for_a_report_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from fhir_case.cli import validate as validate_command

    def broken(path: Path) -> dict[str, object]:
        raise KeyError("a bug")  # stands for any bug

    monkeypatch.setattr(validate_command, "read_json", broken)
    assert main(["validate", str(tmp_path / "x.json")]) == 1
    err = capsys.readouterr().err
    assert "internal error" in err and "Please report it" in err and "--debug" in err
    assert "Traceback" not in err and "KeyError" not in err
    assert main(["validate", str(tmp_path / "x.json"), "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err
