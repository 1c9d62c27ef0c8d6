"""The FSH export compiled by SUSHI, offline, gives back every resource it came from.

Each compiled instance must equal its Bundle entry's resource after the normalisations below
and nothing else (docs/export.md lists and justifies each):

1. references: the entry's ``urn:uuid:`` references (fullUrls of other entries) are written as
   the ``Type/id`` of those entries, since an FSH instance stands alone, outside any Bundle;
2. numbers: compared as decimal values (``3.0`` = ``3``): SUSHI writes JSON numbers through
   JavaScript, which drops trailing zeros the FSH still has;
3. ``text.div``: whitespace next to tags removed on both sides: SUSHI minifies narrative XHTML
   (html-minifier-terser, ``collapseWhitespace``).

The export runs on whatever ``bundles/`` holds, and on the official R4 examples (contained
resources, primitive extensions, many data types).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fhir_case.cli import main
from tests.export.sushi import run_sushi

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = sorted((ROOT / "bundles").glob("*.json"))
# What SUSHI asks the network for on its own (see tests/export/sushi.py), all refused: the
# latest version of fsh-sushi (over HTTPS, through the proxy) and the automatic dependencies.
SUSHI_ASKS = {
    "CONNECT registry.npmjs.org:443",
    "GET /hl7.fhir.uv.tools.r4",
    "GET /hl7.terminology.r4",
    "GET /hl7.fhir.uv.extensions.r4",
}
_SPACE = re.compile(r"\s+")
_AROUND_TAGS = re.compile(r"\s*(<[^>]*>)\s*")


def expected(bundle: dict[str, Any], entry: dict[str, Any]) -> Any:
    """The entry's resource as SUSHI should give it back (normalisations 1 to 3)."""
    targets = {
        e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle["entry"]
        if "fullUrl" in e
    }

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            copied = {key: rewrite(value) for key, value in node.items()}
            if isinstance(copied.get("reference"), str):
                copied["reference"] = targets.get(copied["reference"], copied["reference"])
            return copied
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    return comparable(rewrite(entry["resource"]))


def comparable(resource: Any) -> Any:
    """Normalisations 2 and 3, applied to both sides."""
    data = json.loads(json.dumps(resource), parse_float=Decimal, parse_int=Decimal)

    def minify(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: minify(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [minify(item) for item in node]
        if key == "div" and isinstance(node, str):
            return _AROUND_TAGS.sub(r"\1", _SPACE.sub(" ", node)).strip()
        return node

    return minify(data)


def differences(expected: Any, got: Any, path: str) -> list[str]:
    if isinstance(expected, dict) and isinstance(got, dict):
        found = []
        for key in sorted(expected.keys() | got.keys()):
            if key not in got:
                found.append(f"{path}.{key}: missing from SUSHI's instance")
            elif key not in expected:
                found.append(f"{path}.{key}: added by SUSHI: {json.dumps(got[key], default=str)}")
            else:
                found += differences(expected[key], got[key], f"{path}.{key}")
        return found
    if isinstance(expected, list) and isinstance(got, list):
        found = [f"{path}: {len(expected)} items, SUSHI gave {len(got)}"] * (
            len(expected) != len(got)
        )
        for index, (a, b) in enumerate(zip(expected, got, strict=False)):
            found += differences(a, b, f"{path}[{index}]")
        return found
    same = expected == got and type(expected) is type(got)
    return [] if same else [f"{path}: expected {expected!r}, SUSHI gave {got!r}"]


def round_trip(bundle_path: Path, package_cache: Path, tmp_path: Path) -> None:
    project = tmp_path / "fsh"
    assert main(["export", str(bundle_path), "--format", "fsh", "--out", str(project)]) == 0
    result = run_sushi(project, package_cache, tmp_path)
    assert not result.errors, "\n".join(result.errors)
    bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
    entries = bundle["entry"]
    assert len(result.resources) == len(entries), "one compiled instance per entry"
    found: list[str] = []
    for entry in entries:
        key = f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
        assert key in result.resources, f"SUSHI compiled no instance for {key}"
        found += differences(expected(bundle, entry), comparable(result.resources[key]), key)
    assert not found, "\n".join(found[:40])
    # Offline: SUSHI asked for its own latest version and its automatic dependencies, nothing
    # else (a package missing from the cache would show here), and got none of them.
    assert set(result.asked) == SUSHI_ASKS, result.asked


@pytest.mark.parametrize("bundle_path", BUNDLES, ids=[path.name for path in BUNDLES])
def test_sushi_compiles_the_case_export_back_to_each_resource(
    bundle_path: Path, fhir_package_cache: Path, tmp_path: Path
) -> None:
    round_trip(bundle_path, fhir_package_cache, tmp_path)


def test_sushi_compiles_the_official_examples_back(
    shared_dir: Path, fhir_package_cache: Path, tmp_path: Path
) -> None:
    entries = []
    for path in sorted((shared_dir / "fhir" / "examples-r4").glob("*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        url = f"http://example.org/fhir/{resource['resourceType']}/{resource['id']}"
        entries.append({"fullUrl": url, "resource": resource})
    bundle_path = tmp_path / "examples.json"
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    bundle_path.write_text(json.dumps(bundle), encoding="utf-8")
    round_trip(bundle_path, fhir_package_cache, tmp_path)


EXT = "http://example.org/fhir/StructureDefinition/note"
EDGES = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "fullUrl": "urn:uuid:6d1f8c2e-1a3b-4c5d-8e9f-0a1b2c3d4e5f",
            "resource": {
                "resourceType": "Patient",
                "id": "edge-patient",
                "text": {
                    "status": "generated",
                    "div": '<div xmlns="http://www.w3.org/1999/xhtml">\n  '
                    '<p>Ann "A" &amp; B</p>\n</div>',
                },
                "identifier": [{"system": "urn:oid:1.2.3", "value": 'a "b" \\ c\nd\te ☃'}],
                "name": [
                    {
                        "given": ["A", None],
                        "_given": [None, {"extension": [{"url": EXT, "valueString": "y"}]}],
                    },
                    {
                        "_family": {
                            "extension": [
                                {
                                    "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                                    "valueCode": "masked",
                                }
                            ]
                        }
                    },
                ],
                "gender": "female",
                "_birthDate": {"id": "b1"},
            },
        },
        {
            "fullUrl": "urn:uuid:6d1f8c2e-1a3b-4c5d-8e9f-0a1b2c3d4e60",
            "resource": {
                "resourceType": "Observation",
                "id": "edge-observation",
                "contained": [{"resourceType": "Device", "id": "d1", "status": "active"}],
                "status": "final",
                "code": {
                    "coding": [
                        {"system": "http://example.org/cs", "code": "a b", "display": 'A "B"'},
                        {"system": "http://loinc.org", "code": "8480-6", "userSelected": True},
                    ],
                    "text": "two codings",
                },
                "subject": {"reference": "urn:uuid:6d1f8c2e-1a3b-4c5d-8e9f-0a1b2c3d4e5f"},
                "focus": [{"reference": "http://example.org/fhir/Patient/other"}],
                "device": {"reference": "#d1"},
                "valueQuantity": {
                    "value": 1.50,
                    "comparator": "<",
                    "unit": "inch of mercury",
                    "system": "http://unitsofmeasure.org",
                    "code": "[in_i'Hg]",
                },
                "note": [{"text": "line one\nline two"}, {"text": "ünïcödé"}],
            },
        },
    ],
}


def test_sushi_compiles_edge_cases_back(fhir_package_cache: Path, tmp_path: Path) -> None:
    bundle_path = tmp_path / "edges.json"
    bundle_path.write_text(json.dumps(EDGES), encoding="utf-8")
    round_trip(bundle_path, fhir_package_cache, tmp_path)


def test_the_case_bundles_are_there() -> None:
    assert BUNDLES, "bundles/ holds no bundle to export"
