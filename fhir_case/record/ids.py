"""Deterministic ids: uuid5 of the case id and a fact's key, the same everywhere; and the
default system of a record's business identifiers."""

from __future__ import annotations

import uuid

# The namespace of fhir-case resource ids (fixed forever: changing it changes every id).
NAMESPACE = uuid.UUID("5f0c8f3e-3c1b-5b7e-9a61-6d3a2f1e0c42")
# The namespace of identifier systems: apart from NAMESPACE, so that no identifier system can
# equal a resource's fullUrl (which a server may rewrite in a transaction).
IDENTIFIER_NAMESPACE = uuid.UUID("9d3c2b7a-4e1f-5a60-8c2d-1b7e6f0a9c53")


def resource_id(case_id: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{case_id}/{key}"))


def full_url(resource_id_: str) -> str:
    return f"urn:uuid:{resource_id_}"


def default_identifier_system(case_id: str) -> str:
    """``urn:uuid:`` of the case id: globally unique, stable, and owned by no one else."""
    return f"urn:uuid:{uuid.uuid5(IDENTIFIER_NAMESPACE, case_id)}"
