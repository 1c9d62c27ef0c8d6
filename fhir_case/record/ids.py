"""Deterministic resource ids: uuid5 of the case id and a fact's key, the same everywhere."""

from __future__ import annotations

import uuid

# The namespace of fhir-case resource ids (fixed forever: changing it changes every id).
NAMESPACE = uuid.UUID("5f0c8f3e-3c1b-5b7e-9a61-6d3a2f1e0c42")


def resource_id(case_id: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{case_id}/{key}"))


def full_url(resource_id_: str) -> str:
    return f"urn:uuid:{resource_id_}"
