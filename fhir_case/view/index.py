"""The resources of a Bundle, indexed for reading: by type, and by any reference form.

Works on any Bundle type (transaction, collection, document, searchset): entries are read for
their ``resource``; ``request`` and ``search`` are ignored. References resolve by fullUrl
(``urn:uuid:…`` or absolute URL), by ``Type/id``, and by an absolute URL ending in ``Type/id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fhir_case.narrative import words as w

Resource = dict[str, Any]


@dataclass
class ResourceIndex:
    """The resources of one Bundle, in entry order."""

    resources: list[Resource] = field(default_factory=list)
    bundle_type: str = ""
    identifier: str = ""  # the Bundle's identifier (a document has one), as "value (system)"
    _by_key: dict[str, Resource] = field(default_factory=dict, repr=False)
    _keys: dict[int, str] = field(default_factory=dict, repr=False)  # id(resource) -> key

    @classmethod
    def from_bundle(cls, bundle: object) -> ResourceIndex:
        data = w.as_dict(bundle)
        ident = w.as_dict(data.get("identifier"))
        value, system = w.scalar(ident.get("value")), w.scalar(ident.get("system"))
        index = cls(
            bundle_type=w.scalar(data.get("type")),
            identifier=f"{value} ({system})" if value and system else value,
        )
        for entry in map(w.as_dict, w.as_list(data.get("entry"))):
            resource = entry.get("resource")
            if isinstance(resource, dict) and w.scalar(resource.get("resourceType")):
                index.add(resource, w.scalar(entry.get("fullUrl")))
        return index

    def add(self, resource: Resource, full_url: str = "") -> None:
        resource_id = w.scalar(resource.get("id"))
        if resource_id:
            key = f"{resource['resourceType']}/{resource_id}"
            if key in self._by_key:
                return  # a searchset may list a resource twice (match and include)
        else:  # no id (a transaction may POST new resources): keyed by position
            key = f"{resource['resourceType']}/entry-{len(self.resources)}"
        self.resources.append(resource)
        self._by_key[key] = resource
        self._keys[id(resource)] = key
        if full_url:
            self._by_key[full_url] = resource

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.get("resourceType") in types]

    def first(self, resource_type: str) -> Resource | None:
        found = self.of_type(resource_type)
        return found[0] if found else None

    def resolve(self, reference: object) -> Resource | None:
        """The resource a Reference (or a reference string) points to, if it is in the record."""
        target = reference if isinstance(reference, str) else w.as_dict(reference).get("reference")
        if not isinstance(target, str) or not target:
            return None
        if target in self._by_key:
            return self._by_key[target]
        parts = target.split("/_history/")[0].rstrip("/").split("/")
        if len(parts) >= 2:
            return self._by_key.get(f"{parts[-2]}/{parts[-1]}")
        return None

    def resolve_all(self, references: object) -> list[Resource]:
        return [r for ref in w.as_list(references) if (r := self.resolve(ref)) is not None]

    def key(self, resource: Resource) -> str:
        """The resource's key in this record: ``Type/id`` (or ``Type/entry-N`` without an id)."""
        return self._keys.get(id(resource)) or (
            f"{resource.get('resourceType')}/{w.scalar(resource.get('id'))}"
        )
