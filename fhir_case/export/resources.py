"""Pure: a Bundle's resources as standalone resources, references written ``Type/id``.

Inside a Bundle, resources point at each other by ``fullUrl`` (``urn:uuid:...``); outside it a
resource is known by its type and id. Every export (NDJSON files, FSH instances) starts here:
each entry's resource, with its id (taken from a ``urn:uuid:`` fullUrl when it has none) and
every reference to another entry rewritten to that entry's ``Type/id``. References that need
no Bundle (``Type/id``, absolute URLs, ``#contained``, conditional searches) are kept as they
are; a ``urn:`` reference that names no entry cannot be rewritten and is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fhir_case.errors import ExportError
from fhir_case.upload.references import map_references

JSON = dict[str, Any]

ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
URN_UUID = re.compile(r"^urn:uuid:([0-9a-fA-F-]{36})$")
RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")


@dataclass(frozen=True)
class Exported:
    """One resource of the export, and where it came from (for messages)."""

    resource: JSON
    entry: int  # its index in Bundle.entry

    @property
    def type(self) -> str:
        return str(self.resource["resourceType"])

    @property
    def key(self) -> str:
        """``Type/id``: how the other resources of the export refer to it."""
        return f"{self.resource['resourceType']}/{self.resource['id']}"


def standalone_resources(bundle: Any, source: str) -> list[Exported]:
    """The resources of ``bundle`` in entry order, each with an id and ``Type/id`` references.

    Raises :class:`ExportError` naming the entry when a resource has no type, no usable id,
    the same ``Type/id`` as another, or a ``urn:`` reference to no entry of the Bundle.
    """
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        kind = bundle.get("resourceType") if isinstance(bundle, dict) else None
        raise ExportError(
            f"{source}: a {kind or 'JSON value that is not a resource'} is not a Bundle; "
            "export takes a Bundle (transaction, collection, document, ...)"
        )
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        raise ExportError(f"{source}: the Bundle has no entries; there is nothing to export")
    drafts: list[Exported] = []
    targets: dict[str, str] = {}
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = f"{source}: Bundle.entry[{index}]"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise ExportError(f"{where}: has no resource; export needs a resource in every entry")
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str) or not RESOURCE_TYPE.match(resource_type):
            raise ExportError(f"{where}.resource: no valid resourceType ({resource_type!r})")
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        resource_id = _id(where, resource, full_url)
        if "id" not in resource:
            resource = {"resourceType": resource_type, "id": resource_id, **resource}
        draft = Exported(resource, index)
        if draft.key in seen:
            raise ExportError(
                f"{where}: {draft.key} is also the resource of entry {seen[draft.key]}; each "
                "resource of an export needs its own type and id"
            )
        seen[draft.key] = index
        if full_url is not None:
            targets[full_url] = draft.key
        drafts.append(draft)
    return [
        Exported(map_references(draft.resource, _rewrite(targets, source, draft)), draft.entry)
        for draft in drafts
    ]


def _id(where: str, resource: JSON, full_url: str | None) -> str:
    resource_id = resource.get("id")
    if resource_id is None and full_url is not None and (uuid := URN_UUID.match(full_url)):
        return uuid.group(1).lower()
    if not isinstance(resource_id, str) or not ID.match(resource_id):
        found = "none" if resource_id is None else repr(resource_id)
        raise ExportError(
            f"{where}.resource.id: {found} is not a FHIR id (1-64 of A-Z a-z 0-9 - .); an "
            "exported resource is known by its id: give it one (or a urn:uuid: fullUrl)"
        )
    return resource_id


def _rewrite(targets: dict[str, str], source: str, owner: Exported) -> Any:
    def change(reference: str) -> str:
        if reference in targets:
            return targets[reference]
        if reference.startswith("urn:"):
            raise ExportError(
                f"{source}: Bundle.entry[{owner.entry}] ({owner.key}): the reference "
                f"{reference} names no entry of the Bundle, so it cannot be written as Type/id; "
                "add the resource it means to the Bundle, or correct the reference"
            )
        return reference

    return change
