"""Layer 4, bundle rules: what makes a Bundle self-consistent and fit to upload.

Scope:

- ``fullUrl``: a ``urn:uuid:`` with a valid lowercase UUID (or ``urn:oid:``, or an absolute
  URL ending in ``<Type>/<id>`` of its resource); unique in the bundle (``bdl-7``); not version
  specific (``bdl-8``).
- references: every literal reference resolves inside the bundle (by ``fullUrl``, or
  ``<Type>/<id>`` against the entries), or is absolute (``http...``) or conditional
  (``Patient?identifier=...``); ``#id`` resolves to a contained resource. The HL7 validator
  only warns about a dangling ``urn:uuid``; for an upload it is an error.
- transaction and batch entries: a request whose method and URL fit the resource (``PUT
  <Type>/<id>`` with the resource's own type and id, ``POST <Type>``, a resource for PUT and
  POST).
- the Bundle invariants ``bdl-1`` to ``bdl-12`` for each bundle type.

Reference *target types* come from the StructureDefinitions and are checked by the profile
layer.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from fhir_case.validation import locations
from fhir_case.validation.issues import Issue, finding
from fhir_case.validation.jsontree import objects

LAYER = "bundle"
_issue = partial(finding, LAYER)

_UUID_URN = "urn:uuid:"
_OID_URN = re.compile(r"^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$")
_ABSOLUTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_RELATIVE = re.compile(r"^(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(/_history/[^/]+)?$")
_RESTFUL_TAIL = re.compile(r"/(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})$")
_REQUEST_TYPES = ("transaction", "batch", "history")
_RESPONSE_TYPES = ("transaction-response", "batch-response", "history")
_BDL = {
    "bdl-1": "total only when a search or history",
    "bdl-2": "entry.search only when a search",
    "bdl-3": "entry.request mandatory for batch/transaction/history, otherwise prohibited",
    "bdl-4": "entry.response mandatory for batch-response/transaction-response/history, "
    "otherwise prohibited",
    "bdl-5": "must be a resource unless there's a request or response",
    "bdl-7": "FullUrl must be unique in a bundle, or else entries with the same fullUrl must "
    "have different meta.versionId (except in history bundles)",
    "bdl-8": "fullUrl cannot be a version specific reference",
    "bdl-9": "A document must have an identifier with a system and a value",
    "bdl-10": "A document must have a date",
    "bdl-11": "A document must have a Composition as the first resource",
    "bdl-12": "A message must have a MessageHeader as the first resource",
}


@dataclass(frozen=True)
class Target:
    """A bundle entry a reference points to."""

    index: int
    resource: dict[str, Any]


class BundleIndex:
    """The entries of a Bundle by ``fullUrl`` and by ``<Type>/<id>``, for resolving references."""

    scope = "bundle"

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.by_full_url: dict[str, list[Target]] = {}
        self.by_type_id: dict[str, list[Target]] = {}
        for index, entry in enumerate(_entries(bundle)):
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                continue
            target = Target(index, resource)
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str):
                self.by_full_url.setdefault(full_url, []).append(target)
            if isinstance(resource.get("resourceType"), str) and isinstance(
                resource.get("id"), str
            ):
                key = f"{resource['resourceType']}/{resource['id']}"
                self.by_type_id.setdefault(key, []).append(target)

    def matches(self, reference: str) -> int:
        return len(self.resolve_all(reference))

    def resolve_all(self, reference: str) -> list[Target]:
        """Every entry ``reference`` can mean (more than one is an error of its own)."""
        if reference in self.by_full_url:
            return self.by_full_url[reference]
        relative = _RELATIVE.match(reference)
        if relative:
            return self.by_type_id.get(f"{relative['type']}/{relative['id']}", [])
        restful = _RESTFUL_TAIL.search(reference)
        if restful and reference.startswith(("http://", "https://")):
            return [
                target
                for target in self.by_type_id.get(f"{restful['type']}/{restful['id']}", [])
                if reference in self.by_full_url
            ]
        return []


def check_bundle(bundle: dict[str, Any]) -> list[Issue]:
    """Bundle-level issues; an empty list for anything that is not a Bundle."""
    if bundle.get("resourceType") != "Bundle":
        return []
    index = BundleIndex(bundle)
    issues = list(_invariants(bundle))
    for position, entry in enumerate(_entries(bundle)):
        issues.extend(_full_url(entry, position))
        issues.extend(_request(bundle, entry, position))
        resource = entry.get("resource")
        if isinstance(resource, dict):
            issues.extend(check_references(resource, f"Bundle.entry[{position}].resource", index))
    return issues


def _entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    return [entry if isinstance(entry, dict) else {} for entry in entries]


def _invariants(bundle: dict[str, Any]) -> Iterator[Issue]:
    kind = bundle.get("type")
    entries = _entries(bundle)
    if "total" in bundle and kind not in ("searchset", "history"):
        yield _bdl("bdl-1", "Bundle", "remove total (it is only for search and history bundles)")
    if kind != "searchset" and any("search" in entry for entry in entries):
        yield _bdl("bdl-2", "Bundle", "remove entry.search (it is only for search results)")
    without_request = [i for i, entry in enumerate(entries) if "request" not in entry]
    with_request = [i for i, entry in enumerate(entries) if "request" in entry]
    if kind in _REQUEST_TYPES and without_request:
        yield _bdl(
            "bdl-3",
            "Bundle",
            f"give entry {_positions(without_request)} a request (method and url)",
        )
    elif kind not in _REQUEST_TYPES and with_request:
        yield _bdl("bdl-3", "Bundle", f"remove request from entry {_positions(with_request)}")
    without_response = [i for i, entry in enumerate(entries) if "response" not in entry]
    with_response = [i for i, entry in enumerate(entries) if "response" in entry]
    if kind in _RESPONSE_TYPES and without_response:
        yield _bdl("bdl-4", "Bundle", f"give entry {_positions(without_response)} a response")
    elif kind not in _RESPONSE_TYPES and with_response:
        yield _bdl("bdl-4", "Bundle", f"remove response from entry {_positions(with_response)}")
    for position, entry in enumerate(entries):
        if not any(key in entry for key in ("resource", "request", "response")):
            yield _bdl("bdl-5", f"Bundle.entry[{position}]", "add the entry's resource")
    yield from _unique_full_urls(bundle, entries)
    if kind == "document":
        identifier = bundle.get("identifier")
        if not (isinstance(identifier, dict) and "system" in identifier and "value" in identifier):
            yield _bdl("bdl-9", "Bundle", "give the document an identifier with system and value")
        if "timestamp" not in bundle:
            yield _bdl("bdl-10", "Bundle", "give the document a timestamp")
        if _first_type(entries) != "Composition":
            yield _bdl("bdl-11", "Bundle", "put the Composition first")
    if kind == "message" and _first_type(entries) != "MessageHeader":
        yield _bdl("bdl-12", "Bundle", "put the MessageHeader first")


def _unique_full_urls(bundle: dict[str, Any], entries: list[dict[str, Any]]) -> Iterator[Issue]:
    if bundle.get("type") == "history":
        return
    seen: dict[tuple[str, Any], int] = {}
    for position, entry in enumerate(entries):
        full_url = entry.get("fullUrl")
        if not isinstance(full_url, str):
            continue
        resource = entry.get("resource")
        meta = resource.get("meta") if isinstance(resource, dict) else None
        version = meta.get("versionId") if isinstance(meta, dict) else None
        key = (full_url, version)
        if key in seen:
            yield _bdl(
                "bdl-7",
                "Bundle",
                f"entries {seen[key]} and {position} share the fullUrl {full_url}: give each "
                "resource its own",
            )
        else:
            seen[key] = position


def _full_url(entry: dict[str, Any], position: int) -> Iterator[Issue]:
    full_url = entry.get("fullUrl")
    where = f"Bundle.entry[{position}].fullUrl"
    resource = entry.get("resource")
    if not isinstance(full_url, str):
        if isinstance(resource, dict) and "request" not in entry:
            yield _issue(
                f"Bundle.entry[{position}]",
                "The entry has no fullUrl, so references cannot point to its resource",
                "add a fullUrl such as urn:uuid:<uuid>",
                "warning",
                "required",
            )
        return
    if full_url.startswith(_UUID_URN):
        value = full_url.removeprefix(_UUID_URN)
        if not _is_lowercase_uuid(value):
            yield _issue(
                where,
                f"UUIDs must be valid and lowercase ({value})",
                "write urn:uuid: followed by a lowercase UUID, e.g. "
                "urn:uuid:6f1c5a4e-1d2b-4c3a-9e8f-0a1b2c3d4e01",
            )
    elif full_url.startswith("urn:oid:"):
        if not _OID_URN.match(full_url):
            yield _issue(where, f"Invalid OID in fullUrl ({full_url})", "write urn:oid:1.2.3...")
    elif not _ABSOLUTE.match(full_url):
        yield _issue(
            where,
            f"fullUrl must be an absolute URL or a urn:uuid / urn:oid ({full_url})",
            "use urn:uuid:<uuid> or the server URL of the resource",
        )
    else:
        if "/_history/" in full_url:
            yield _bdl("bdl-8", f"Bundle.entry[{position}]", "drop /_history/... from the fullUrl")
        restful = _RESTFUL_TAIL.search(full_url.split("/_history/")[0])
        if restful and isinstance(resource, dict):
            own = f"{resource.get('resourceType')}/{resource.get('id')}"
            if own != f"{restful['type']}/{restful['id']}":
                yield _issue(
                    where,
                    f"The fullUrl {full_url} does not match the resource ({own})",
                    f"end the fullUrl with {own}, or change the resource id",
                )


def _is_lowercase_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _request(bundle: dict[str, Any], entry: dict[str, Any], position: int) -> Iterator[Issue]:
    request = entry.get("request")
    if bundle.get("type") not in ("transaction", "batch") or not isinstance(request, dict):
        return
    method, url = request.get("method"), request.get("url")
    if not isinstance(method, str) or not isinstance(url, str):
        return  # a missing method or url is a structure error
    where = f"Bundle.entry[{position}].request"
    resource = entry.get("resource")
    resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
    if method in ("PUT", "POST") and not isinstance(resource, dict):
        yield _issue(where, f"A {method} entry needs a resource", "add the resource to the entry")
        return
    if method == "POST" and url.split("?")[0] != resource_type:
        yield _issue(
            f"{where}.url",
            f"POST url '{url}' does not fit the resource: a POST creates a {resource_type} at "
            f"'{resource_type}'",
            f"set request.url to {resource_type}",
        )
    elif method == "PUT" and isinstance(resource, dict):
        yield from _put(resource, url, f"{where}.url")
    elif method in ("GET", "HEAD", "DELETE") and isinstance(resource, dict):
        yield _issue(
            where,
            f"A {method} entry carries a resource, which the server ignores",
            "remove the resource or use PUT/POST to write it",
            "warning",
            "business-rule",
        )


def _put(resource: dict[str, Any], url: str, where: str) -> Iterator[Issue]:
    resource_type, resource_id = resource.get("resourceType"), resource.get("id")
    own = f"{resource_type}/{resource_id}"
    if url.startswith(f"{resource_type}?"):
        return  # a conditional update
    relative = _RELATIVE.match(url)
    if relative is None or relative["type"] != resource_type:
        yield _issue(
            where,
            f"PUT url '{url}' does not fit the resource: it must be {resource_type}/<id> or a "
            f"conditional {resource_type}?<search>",
            f"set request.url to {own}"
            if resource_id
            else f"set request.url to {resource_type}/<id>",
        )
    elif resource_id is None:
        yield _issue(
            where,
            f"PUT {url} updates a resource by id, but the resource has no id",
            f'give the resource "id": "{relative["id"]}"',
        )
    elif relative["id"] != resource_id:
        yield _issue(
            where,
            f"PUT url '{url}' names id {relative['id']}, but the resource's id is {resource_id}",
            f"set request.url to {own}",
        )


class Resolver(Protocol):
    """Where references are resolved: a Bundle's entries, or the files of an NDJSON export."""

    scope: str  # "bundle" or "export", for messages

    def matches(self, reference: str) -> int:
        """How many resources ``reference`` can mean (0, 1, or more: an error of its own)."""
        ...


def check_references(resource: dict[str, Any], root: str, resolver: Resolver) -> Iterator[Issue]:
    """An issue for each literal reference in ``resource`` that does not resolve (``#id``
    against its contained resources, anything else with ``resolver``) though it must."""
    contained_ids = {
        item.get("id") for item in resource.get("contained") or [] if isinstance(item, dict)
    }
    for path, value in objects(resource):
        reference = value.get("reference")
        if not isinstance(reference, str):
            continue
        problem = _reference_problem(reference, contained_ids, resolver)
        if problem is not None:
            message, hint = problem
            yield _issue(locations.fhirpath(root, resource, path), message, hint, code="not-found")


def _reference_problem(
    reference: str, contained_ids: set[Any], resolver: Resolver
) -> tuple[str, str] | None:
    """What is wrong with a reference (message, hint), if anything."""
    if reference.startswith("#"):
        if reference != "#" and reference[1:] not in contained_ids:
            return (
                f"The reference {reference} points to no contained resource",
                f"add a contained resource with id {reference[1:]}, or fix the reference",
            )
        return None
    found = resolver.matches(reference)
    if found > 1:
        return (
            f"Multiple matches in {resolver.scope} for reference {reference}",
            "give each resource its own fullUrl"
            if resolver.scope == "bundle"
            else "give each resource its own type and id",
        )
    if not found and _must_resolve(reference):
        if resolver.scope == "bundle":
            return (
                f"The reference {reference} does not resolve to any entry of the bundle",
                "add the target resource to the bundle (with this fullUrl), or correct the "
                "reference",
            )
        return (
            f"The reference {reference} does not resolve to any resource of the export",
            "add the target resource to the export's files (as Type/id), or correct the reference",
        )
    return None


def relative_key(reference: str) -> str | None:
    """``Type/id`` of a relative reference (``Type/id`` or ``Type/id/_history/n``), else None."""
    relative = _RELATIVE.match(reference)
    return f"{relative['type']}/{relative['id']}" if relative else None


def _must_resolve(reference: str) -> bool:
    """urn: and relative references must resolve; absolute and conditional ones need not."""
    if "?" in reference:
        return False
    if reference.startswith("urn:"):
        return True
    return not _ABSOLUTE.match(reference)


def _first_type(entries: list[dict[str, Any]]) -> Any:
    resource = entries[0].get("resource") if entries else None
    return resource.get("resourceType") if isinstance(resource, dict) else None


def _positions(positions: list[int]) -> str:
    return ", ".join(str(position) for position in positions)


def _bdl(key: str, location: str, hint: str) -> Issue:
    return Issue(
        location, "error", LAYER, f"Constraint failed: {key}: '{_BDL[key]}'", hint, "invariant", key
    )
