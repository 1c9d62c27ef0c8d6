"""Resources -> Bundle, and the one canonical JSON serialisation of fhir-case output."""

from __future__ import annotations

import json
from typing import Any, Literal

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from pydantic import BaseModel

from fhir_case.record.ids import full_url, resource_id

BundleType = Literal["transaction", "collection"]
BUNDLE_TYPES: tuple[BundleType, ...] = ("transaction", "collection")


def make_bundle(case_id: str, resources: list[Resource], bundle_type: BundleType) -> Bundle:
    """A transaction (each entry an idempotent ``PUT Type/id``) or a collection of the resources."""
    entries: list[dict[str, Any]] = []
    for resource in resources:
        entry: dict[str, Any] = {"fullUrl": full_url(str(resource.id)), "resource": resource}
        if bundle_type == "transaction":
            url = f"{resource.get_resource_type()}/{resource.id}"
            entry["request"] = {"method": "PUT", "url": url}
        entries.append(entry)
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": resource_id(case_id, f"bundle/{bundle_type}"),
            "type": bundle_type,
            "entry": entries,
        }
    )


def to_json(model: BaseModel) -> dict[str, Any]:
    """FHIR JSON of a model, elements in the specification's order."""
    data: dict[str, Any] = json.loads(model.model_dump_json(exclude_none=True))
    return data


def serialize(data: dict[str, Any]) -> bytes:
    """The canonical bytes: 2-space indent, UTF-8, a final newline; the same on every machine."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
