"""Every narrative of the case in words a clinician would write: no raw id, no UUID, no
UCUM-only unit, no phrase said twice (the rules are in tests/plain_words.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.plain_words import case_file_ids, findings, texts

BUNDLES = sorted((ROOT / "bundles").glob("*.json"))


def narratives(value: object, path: str = "Bundle") -> Iterator[tuple[str, str]]:
    """Every ``div`` in a Bundle (resource and Composition section narratives), with its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "div" and isinstance(item, str):
                yield path, item
            else:
                yield from narratives(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from narratives(item, f"{path}[{index}]")


@pytest.mark.parametrize("bundle_file", BUNDLES, ids=lambda p: p.name)
def test_no_narrative_has_raw_ids_uuids_ucum_spellings_or_repeats(bundle_file: Path) -> None:
    bundle = json.loads(bundle_file.read_text(encoding="utf-8"))
    found = [
        f"{path}: {finding} in {text[:80]!r}"
        for path, div in narratives(bundle)
        for text in texts(div)
        for finding in findings(text)
    ]
    assert found == []
    assert len(list(narratives(bundle))) >= len(bundle["entry"])


def test_the_scan_finds_what_it_looks_for() -> None:
    """The rules catch each kind of problem the case's narratives once had."""
    assert case_file_ids() >= {"pathology-ilium-result", "ct-l4-size", "metastasis-l4"}
    samples = {
        "Evidence: pathology-ilium-result": "case-file id pathology-ilium-result",
        "Targets: urn:uuid:5963bbe4-121d-568a-bafa-10cb80efee00": "UUID",
        "Age: 68 a": "UCUM-only spelling '68 a'",
        "600 ug, once a day": "UCUM-only spelling '600 ug'",
        "120 mg/m2 (UCUM mg/m2)": "UCUM-only spelling '120 mg/m2'",
        "12 mg/d, Oral route": "UCUM-only spelling '12 mg/d'",
        "Date not stated: date not stated.": "repeated phrase",
        "74 target resources, source source: Chen": "repeated phrase 'source source'",
    }
    for text, finding in samples.items():
        assert any(f.startswith(finding) for f in findings(text)), text
    clean = [
        "Source: “AP regimen cisplatin (DDP) 120mg/m2/day ×1 day”",  # a quotation is verbatim
        "Doubtful or inconsistent value in the source: The source calls the tumor",
        "Insect-like bone destruction of T4 and the right first rib",
        "3.0 × 2.0 × 2.2 cm",
        "The L4 lesion, not biopsied; see the bone-scan findings",
    ]
    assert [f for text in clean for f in findings(text)] == []
