"""The NDJSON export loads into a real FHIR server (sekmet) and reads back equal.

sekmet-fhir has no ``$import`` (its CapabilityStatement lists ``$export`` only), so the export
is loaded as a bulk loader without ``$import`` does it: one transaction per ``Type.ndjson``
(each line a ``PUT Type/id``), the files taken in the manifest's order, then every resource is
read back and compared (server-managed ``meta`` aside, as for ``fhir-case upload``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fhir_case.cli import main
from fhir_case.upload.client import FhirClient
from fhir_case.upload.compare import differences
from tests.upload.upload_helpers import quick_settings

ROOT = Path(__file__).resolve().parents[2]
TRANSACTION_BUNDLES = sorted((ROOT / "bundles").glob("*.transaction.json"))


def transaction(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One file of the export as a transaction of PUTs, and its resources."""
    resources = [json.loads(line) for line in path.read_bytes().splitlines()]
    entries = [
        {
            "resource": resource,
            "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"},
        }
        for resource in resources
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}, resources


@pytest.mark.parametrize("bundle_path", TRANSACTION_BUNDLES, ids=lambda path: path.name)
def test_ndjson_export_loads_into_the_server_and_reads_back_equal(
    bundle_path: Path, fhir_server_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "ndjson"
    assert main(["export", str(bundle_path), "--format", "ndjson", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    with FhirClient(quick_settings(fhir_server_url)) as client:
        capability = client.metadata()
        operations = {
            operation.get("name")
            for rest in capability.get("rest", [])
            for operation in rest.get("operation", [])
        }
        if "import" in operations:
            pytest.fail("the test server now offers $import: load the export through it")
        loaded: list[dict[str, Any]] = []
        for output in manifest["output"]:
            bundle, resources = transaction(out / output["url"])
            assert len(resources) == output["count"]
            response = client.transaction(bundle, idempotent=True)
            statuses = [entry["response"]["status"] for entry in response["entry"]]
            assert all(status.startswith(("200", "201")) for status in statuses), statuses
            loaded += resources
        found = []
        for resource in loaded:
            stored = client.read(resource["resourceType"], resource["id"])
            found += differences(resource, stored, {}, fhir_server_url)
    assert not found, "\n".join(found)
    entries = json.loads(bundle_path.read_text(encoding="utf-8"))["entry"]
    assert len(loaded) == len(entries)
