"""Helpers shared by the upload tests (the fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir_case.upload.client import FhirClient
from fhir_case.upload.settings import RetryPolicy, ServerSettings

TEST_IDENTIFIER_SYSTEM = "urn:uuid:0c3a7f52-8f0e-4b8a-9d51-6a1b2f3c4d5e"

MakeBundle = Callable[..., dict[str, Any]]


def quick_settings(base_url: str, retry_seconds: float = 10.0) -> ServerSettings:
    """Settings for tests: real behaviour, shorter waits."""
    return ServerSettings(
        base_url=base_url,
        retry=RetryPolicy(total_seconds=retry_seconds, base_delay=0.1, max_delay=1.0),
    )


def identifier_counts(fhir: FhirClient, bundle: dict[str, Any]) -> dict[str, int]:
    """For each resource type in the bundle: how many resources on the server carry one of the
    bundle's identifiers of that type (counted by the server, ``_summary=count``)."""
    values: dict[str, list[str]] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        for identifier in resource.get("identifier", []):
            token = f"{identifier['system']}|{identifier['value']}"
            values.setdefault(resource["resourceType"], []).append(token)
    return {rtype: fhir.count(rtype, {"identifier": ",".join(v)}) for rtype, v in values.items()}


def type_counts(bundle: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in bundle["entry"]:
        rtype = entry["resource"]["resourceType"]
        counts[rtype] = counts.get(rtype, 0) + 1
    return counts
