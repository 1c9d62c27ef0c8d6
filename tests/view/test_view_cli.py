"""``fhir-case view``: a page is written; bad input is a clear error and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli

COLLECTION = ROOT / "bundles" / "mpnst-chen-2024.collection.json"


def test_a_bundle_file_becomes_one_page(tmp_path: Path) -> None:
    out = tmp_path / "out" / "case.html"
    done = run_cli("view", str(COLLECTION), "-o", str(out))
    assert done.returncode == 0, done.stderr
    count = len(json.loads(COLLECTION.read_text(encoding="utf-8"))["entry"])
    assert done.stdout.startswith(f"wrote {out} (") and f"{count} resources" in done.stdout
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, ["missing.json"], "missing.json: no such file"),
        ('{\n  "resourceType": "Bundle",\n  oops\n}', ["bad.json"], "bad.json:3:"),
        ('{"resourceType": "Patient"}', ["bad.json"], "a Patient is not a Bundle"),
        ("{}", [], "give either a BUNDLE file or --server URL --patient ID"),
        ("{}", ["bad.json", "--server", "http://127.0.0.1:9/fhir"], "not both"),
        ("{}", ["--server", "http://127.0.0.1:9/fhir"], "--server needs --patient ID"),
        ("{}", ["bad.json", "--patient", "p1"], "--patient is only used with --server"),
        ("{}", ["--server", "ftp://x", "--patient", "p"], "is neither a known server name"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, content: str | None, args: list[str], message: str
) -> None:
    if content is not None:
        (tmp_path / "bad.json").write_text(content, encoding="utf-8")
    done = run_cli("view", *args, "-o", "case.html", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "case.html").exists()


def test_an_unreachable_server_fails_within_the_bounded_time(tmp_path: Path) -> None:
    done = run_cli(
        "view",
        "--server",
        "http://127.0.0.1:9/fhir",
        "--patient",
        "p",
        "--retry-time",
        "1",
        "-o",
        str(tmp_path / "x"),
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "127.0.0.1:9" in done.stderr
    assert not (tmp_path / "x").exists()
