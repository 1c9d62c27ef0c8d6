"""``fhir-case build --type document``: the case as a FHIR document, validated by every layer."""

from __future__ import annotations

import json
from pathlib import Path

from fhir_case.document import make_document
from tests.helpers import ROOT, run_cli

COLLECTION = ROOT / "bundles" / "mpnst-chen-2024.collection.json"


def test_build_writes_the_document_alone_and_identically_twice(
    tmp_path: Path, fhir_package_cache: Path
) -> None:
    outputs = []
    for run in ("first", "second"):
        done = run_cli("build", "--type", "document", "--out", str(tmp_path / run))
        assert done.returncode == 0, done.stderr
        entries = len(json.loads(COLLECTION.read_text(encoding="utf-8"))["entry"]) + 1
        assert f"(document, {entries} entries, 0 errors, 0 warnings, " in done.stdout
        assert "not checked" not in done.stdout  # every validation layer ran
        files = sorted((tmp_path / run).iterdir())
        assert [f.name for f in files] == ["mpnst-chen-2024.document.json"]
        outputs.append(files[0].read_bytes())
    assert outputs[0] == outputs[1]
    document = json.loads(outputs[0])
    assert document == make_document(json.loads(COLLECTION.read_text(encoding="utf-8")))


def test_build_can_write_the_document_beside_the_other_bundles(tmp_path: Path) -> None:
    done = run_cli("build", "--type", "collection", "--type", "document", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "mpnst-chen-2024.collection.json",
        "mpnst-chen-2024.document.json",
    ]
