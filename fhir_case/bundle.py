"""Resources -> Bundle, and the one canonical JSON serialisation of fhir-case output."""

from __future__ import annotations

import json
from typing import Any, Literal

from fhir_case.record.ids import full_url, resource_id

BundleType = Literal["transaction", "collection"]
JSON = dict[str, Any]


def make_bundle(case_id: str, resources: list[JSON], bundle_type: BundleType) -> JSON:
    """A transaction (each entry an idempotent ``PUT Type/id``) or a collection of the resources
    (FHIR JSON, elements in the specification's order)."""
    entries: list[JSON] = []
    for resource in resources:
        entry: JSON = {"fullUrl": full_url(resource["id"]), "resource": resource}
        if bundle_type == "transaction":
            entry["request"] = {
                "method": "PUT",
                "url": f"{resource['resourceType']}/{resource['id']}",
            }
        entries.append(entry)
    return {
        "resourceType": "Bundle",
        "id": resource_id(case_id, f"bundle/{bundle_type}"),
        "type": bundle_type,
        "entry": entries,
    }


def serialize(data: dict[str, Any]) -> bytes:
    """The canonical bytes: 2-space indent, UTF-8, a final newline; the same on every machine."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
