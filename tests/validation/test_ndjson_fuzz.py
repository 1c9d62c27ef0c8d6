"""Fuzzing the NDJSON reader: any bytes give issues located by line, never an exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhir_case.validation import Validator
from fhir_case.validation.ndjson import FileDone, LineIssues, validate_export

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
RESOURCES = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Patient", "Observation", "Nope", ""])},
    optional={"id": st.text(max_size=10), "status": JSON_VALUES, "subject": JSON_VALUES},
)
LINES = st.lists(
    st.one_of(
        RESOURCES.map(lambda r: json.dumps(r).encode()),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")),
    ),
    max_size=6,
)
VALIDATOR = Validator(packages=[], profiles=False)


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lines=LINES)
def test_any_lines_give_located_issues(
    lines: list[bytes], tmp_path: Path, fhir_package_cache: Path
) -> None:
    path = tmp_path / "Fuzz.ndjson"
    path.write_bytes(b"\n".join(lines) + (b"\n" if lines else b""))
    found: list[Any] = list(validate_export([path], VALIDATOR, jobs=1))
    assert isinstance(found[-1], FileDone) and found[-1].path == path
    for item in found[:-1]:
        assert isinstance(item, LineIssues) and 1 <= item.line <= max(len(lines), 1)
        assert item.issues
