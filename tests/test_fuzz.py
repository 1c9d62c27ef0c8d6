"""Fuzzing the readers with hypothesis (issue 11): the case-file loader, the JSON reader and the
case view. Whatever they are given, they end with a result or a FhirCaseError, never another
exception. Derandomized (a fixed seed from the test's name), a bounded number of examples, no
example database: every run of .ci/run tries the same inputs.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhir_case.casefile import default_case_file, load_case
from fhir_case.errors import FhirCaseError
from fhir_case.safeinput import decode, parse_json
from fhir_case.view import render_case_view

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BUNDLES = Path(__file__).resolve().parents[1] / "bundles"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


# ---------------- the JSON reader ----------------


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_give_json_or_a_clear_error(data: bytes) -> None:
    try:
        parse_json(decode(data, "fuzz.json"), "fuzz.json")
    except FhirCaseError as error:
        assert str(error).startswith("fuzz.json")


@FUZZ
@given(st.text(alphabet='{}[]",:0123456789.eE-+ \n\\untrufalsNaI\x01', max_size=200))
def test_json_like_text_gives_json_or_a_clear_error(text: str) -> None:
    try:
        parse_json(text, "fuzz.json")
    except FhirCaseError as error:
        assert str(error).startswith("fuzz.json")


@FUZZ
@given(json_values)
def test_valid_json_reads_back_as_written(value: Any) -> None:
    assert parse_json(json.dumps(value), "fuzz.json") == value


# ---------------- the case-file loader ----------------

CASE_LINES = default_case_file().read_text(encoding="utf-8").splitlines(keepends=True)
yaml_bits = st.sampled_from(
    [
        "",
        "null",
        "~",
        "-1",
        "0",
        ".nan",
        ".inf",
        "1e999",
        "9" * 200,
        "[",
        "]",
        "{",
        "&a",
        "*a",
        "*b",
        "!!binary aGk=",
        "!!set {a}",
        "? [a]",
        '"\\x01"',
        "2023-02-30",
        "9999-12-31",
        "0000-01-01",
        "- x",
        "a: b",
        ":",
        "|",
        ">-",
        "'",
        '"',
        "\t",
        "#",
        "%YAML 1.1",
        "---",
        "...",
    ]
)


@st.composite
def mutated_case_files(draw: st.DrawFn) -> str:
    lines = list(CASE_LINES)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        line = lines[index]
        action = draw(st.sampled_from(["value", "insert", "delete", "duplicate", "indent"]))
        if action == "value" and ":" in line:
            key = line.split(":", 1)[0]
            lines[index] = f"{key}: {draw(yaml_bits | st.text(max_size=8))}\n"
        elif action == "insert":
            lines.insert(index, draw(yaml_bits) + "\n")
        elif action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, line)
        else:
            lines[index] = draw(st.sampled_from(["", " ", "  ", "    "])) + line.lstrip()
    return "".join(lines)


@pytest.fixture(scope="module")
def case_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz-case")
    shutil.copy(default_case_file().with_name("mpnst-chen-2024.source.txt"), folder)
    return folder


@settings(FUZZ, max_examples=80)  # a whole load_case each: the slowest of these
@given(mutated_case_files())
def test_mutated_case_files_load_or_give_a_clear_error(case_folder: Path, text: str) -> None:
    path = case_folder / "case.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_case(path)
    except FhirCaseError as error:
        assert str(error).startswith(str(path)), str(error)


@FUZZ
@given(st.text(max_size=200))
def test_any_text_as_a_case_file_gives_a_clear_error(case_folder: Path, text: str) -> None:
    path = case_folder / "any.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with pytest.raises(FhirCaseError):
        load_case(path)


# ---------------- the case view ----------------

COLLECTION = json.loads((BUNDLES / "mpnst-chen-2024.collection.json").read_text(encoding="utf-8"))


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


PATHS = [p for p in _paths(COLLECTION) if len(p) >= 3]  # inside the entries


@st.composite
def mutated_bundles(draw: st.DrawFn) -> dict[str, Any]:
    bundle = copy.deepcopy(COLLECTION)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(PATHS))
        holder: Any = bundle
        try:
            for step in path[:-1]:
                holder = holder[step]
            if draw(st.booleans()):
                holder[path[-1]] = draw(json_values)
            elif isinstance(holder, dict):
                holder.pop(path[-1], None)
            elif isinstance(holder, list) and holder:
                holder.pop(path[-1] if path[-1] < len(holder) else -1)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the way there
    return bundle


@FUZZ
@given(mutated_bundles())
def test_the_view_renders_any_mutated_bundle(bundle: dict[str, Any]) -> None:
    page = render_case_view(bundle)
    assert page.startswith("<!DOCTYPE html>") or page.lower().startswith("<!doctype html>")
