"""Pure: a bundle file's content -> the transaction that uploads it idempotently.

Three modes (see :class:`~fhir_case.upload.settings.Mode`):

- ``put``: each entry becomes ``PUT Type/<id>`` (update-as-create) with the resource's id, or the
  uuid of its ``urn:uuid:`` fullUrl when it has none. The builder's ids are deterministic, so an
  upload repeated any number of times leaves one copy of each resource.
- ``conditional``: each entry becomes ``POST Type`` with ``ifNoneExist`` on the resource's first
  business identifier (``identifier=system|value``, the query part only, as the spec says). The
  server assigns ids; an existing match is kept as it is.
- ``create``: for servers where PUT cannot create (``updateCreate: false``): each entry becomes
  ``POST Type``, with ``ifNoneExist`` where the resource has an identifier. The server assigns
  ids and rewrites the references. Resources without an identifier are created again by each
  upload, so such a transaction is never retried.

:func:`split` cuts a bundle into parts of at most N entries for servers that limit a
transaction's size, keeping entries that refer to each other together where it can.

Entries keep their fullUrl, so references between them (``urn:uuid:...``) are resolved by the
server. Anything that would make a repeat upload unsafe is refused with the entry named.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fhir_case.errors import InputFileError
from fhir_case.upload.references import map_references
from fhir_case.upload.settings import Mode

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")  # a name: nothing that changes a URL


def is_id(value: object) -> bool:
    """A FHIR id that is safe as a URL path segment (``..`` matches FHIR's pattern, but not)."""
    return isinstance(value, str) and bool(ID_PATTERN.fullmatch(value)) and value.strip(".") != ""


def is_resource_type(value: object) -> bool:
    return isinstance(value, str) and bool(RESOURCE_TYPE.fullmatch(value))


URN_UUID = re.compile(r"^urn:uuid:([0-9a-fA-F-]{36})$")


@dataclass(frozen=True)
class PreparedEntry:
    index: int  # position in the bundle
    full_url: str
    resource_type: str
    resource: dict[str, Any]  # as it is sent
    request: dict[str, str]  # Bundle.entry.request
    # How to find it on the server: "Type/id" (put) or "Type?identifier=..." (conditional);
    # "" when it cannot be found (create mode, no identifier).
    lookup: str

    @property
    def label(self) -> str:
        return f"entry {self.index} ({self.resource_type} {self.full_url})"


@dataclass(frozen=True)
class PreparedBundle:
    source: str  # the bundle's file name, for messages
    mode: Mode
    entries: tuple[PreparedEntry, ...]

    def transaction(self) -> dict[str, Any]:
        """The transaction Bundle to POST."""
        return {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"fullUrl": e.full_url, "resource": e.resource, "request": e.request}
                for e in self.entries
            ],
        }

    def batch(self) -> dict[str, Any]:
        """The same as a batch, for servers without transactions. A server resolves no
        references between batch entries, so they are rewritten to ``Type/<id>`` here: only
        possible in put mode, where every id is known before sending."""
        if self.mode is not Mode.PUT:
            raise InputFileError(
                f"{self.source}: a batch cannot carry references between entries whose ids the "
                "server assigns; use --mode put with --batch"
            )
        targets = {e.full_url: e.lookup for e in self.entries}
        entries = [
            {
                "fullUrl": e.full_url,
                "resource": map_references(e.resource, lambda ref: targets.get(ref, ref)),
                "request": e.request,
            }
            for e in self.entries
        ]
        return {"resourceType": "Bundle", "type": "batch", "entry": entries}

    def deletion(self) -> dict[str, Any]:
        """A transaction deleting every entry's resource (by id, or by identifier)."""
        entries = [
            {"request": {"method": "DELETE", "url": e.lookup}}
            for e in reversed(self.entries)
            if e.lookup
        ]
        return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def prepare(bundle: Any, mode: Mode, source: str) -> PreparedBundle:
    """The upload of ``bundle`` (a transaction, batch or collection Bundle) in ``mode``."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InputFileError(f"{source}: not a FHIR Bundle (resourceType must be 'Bundle')")
    raw_entries = bundle.get("entry") or []
    if not isinstance(raw_entries, list) or not raw_entries:
        raise InputFileError(f"{source}: the Bundle has no entries; there is nothing to upload")
    entries = [_prepare_entry(source, index, raw, mode) for index, raw in enumerate(raw_entries)]
    _refuse_duplicates(source, entries)
    return PreparedBundle(source, mode, tuple(entries))


def references_between(prepared: PreparedBundle) -> list[list[int]]:
    """For each entry (by position), the positions of the other entries its resource refers to
    (by fullUrl, or by ``Type/id`` in put mode)."""
    position = {e.full_url: i for i, e in enumerate(prepared.entries)}
    position |= {
        e.lookup: i for i, e in enumerate(prepared.entries) if e.lookup and "?" not in e.lookup
    }
    found: list[list[int]] = []
    for index, entry in enumerate(prepared.entries):
        targets: list[int] = []

        def note(reference: str, targets: list[int] = targets, index: int = index) -> str:
            target = position.get(reference)
            if target is not None and target != index and target not in targets:
                targets.append(target)
            return reference

        map_references(entry.resource, note)
        found.append(targets)
    return found


def split(prepared: PreparedBundle, max_entries: int) -> list[list[int]]:
    """The entries' positions in parts of at most ``max_entries``: entries that refer to each
    other in a circle stay in one part where it fits, and every part comes after the parts of
    the entries it refers to, so each reference points into its own part or to a resource
    already stored."""
    edges = references_between(prepared)
    parts: list[list[int]] = []
    for group in _groups_targets_first(edges):
        if parts and len(parts[-1]) + len(group) <= max_entries:
            parts[-1].extend(group)
            continue
        parts.extend(
            group[start : start + max_entries] for start in range(0, len(group), max_entries)
        )
    return parts


def _groups_targets_first(edges: list[list[int]]) -> list[list[int]]:
    """Strongly connected groups (Tarjan's algorithm, without recursion), each after the groups
    it refers to; entries keep their bundle order within a group."""
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    groups: list[list[int]] = []
    counter = 0
    for root in range(len(edges)):
        if root in index_of:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            node, edge = work.pop()
            if edge == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            if edge < len(edges[node]):
                work.append((node, edge + 1))
                target = edges[node][edge]
                if target not in index_of:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index_of[target])
                continue
            for target in edges[node]:
                if target in on_stack:
                    low[node] = min(low[node], low[target])
            if low[node] == index_of[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(sorted(group))
    return groups


def is_idempotent(bundle: dict[str, Any]) -> bool:
    """True when sending the transaction twice has the effect of sending it once: every entry
    is a read, a PUT or DELETE, or a conditional create."""
    for entry in bundle.get("entry") or ():
        request = entry.get("request") or {}
        method = str(request.get("method", "")).upper()
        if method in ("GET", "HEAD", "PUT", "DELETE"):
            continue
        if method == "POST" and request.get("ifNoneExist"):
            continue
        return False
    return True


def _prepare_entry(source: str, index: int, raw: Any, mode: Mode) -> PreparedEntry:
    where = f"{source}: Bundle.entry[{index}]"
    resource = raw.get("resource") if isinstance(raw, dict) else None
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise InputFileError(f"{where}.resource: missing or without a resourceType")
    if not is_resource_type(resource["resourceType"]):
        raise InputFileError(
            f"{where}.resource.resourceType: {resource['resourceType']!r} is not a resource type "
            "name (letters only, e.g. Observation); it would change the request's URL, so "
            "nothing is sent"
        )
    resource = copy.deepcopy(resource)
    rtype: str = resource["resourceType"]
    full_url = str(raw.get("fullUrl") or "")
    if mode is Mode.PUT:
        rid = _put_id(where, resource, full_url)
        resource["id"] = rid
        request = {"method": "PUT", "url": f"{rtype}/{rid}"}
        return PreparedEntry(
            index, full_url or f"{rtype}/{rid}", rtype, resource, request, request["url"]
        )
    if not full_url:
        raise InputFileError(
            f"{where}.fullUrl: missing; {mode.value} mode needs a fullUrl (urn:uuid:...) on every "
            "entry so that references between entries can be resolved"
        )
    resource.pop("id", None)
    if mode is Mode.CREATE:
        condition = _identifier_condition(where, rtype, resource, required=False)
        request = {"method": "POST", "url": rtype}
        if condition:
            request["ifNoneExist"] = condition
        return PreparedEntry(
            index, full_url, rtype, resource, request, f"{rtype}?{condition}" if condition else ""
        )
    condition = _identifier_condition(where, rtype, resource)
    request = {"method": "POST", "url": rtype, "ifNoneExist": condition}
    return PreparedEntry(index, full_url, rtype, resource, request, f"{rtype}?{condition}")


def _put_id(where: str, resource: dict[str, Any], full_url: str) -> str:
    rid = resource.get("id")
    from_url = URN_UUID.match(full_url)
    if rid is None and from_url:
        rid = from_url.group(1).lower()
    if not isinstance(rid, str) or not rid:
        raise InputFileError(
            f"{where}.resource.id: missing; put mode needs an id on every resource (or a "
            "urn:uuid: fullUrl to take it from). Rebuild with `fhir-case build`, or use "
            "--mode conditional"
        )
    if not is_id(rid):
        raise InputFileError(
            f"{where}.resource.id: {rid!r} is not a FHIR id (1-64 of A-Z a-z 0-9 - .)"
        )
    return rid


def has_identifier(resource: dict[str, Any]) -> bool:
    """Whether conditional create can recognise the resource (an identifier with system and
    value)."""
    return bool(_identifier_condition("", "", resource, required=False))


def _identifier_condition(
    where: str, rtype: str, resource: dict[str, Any], *, required: bool = True
) -> str:
    identifiers = resource.get("identifier")
    for identifier in identifiers if isinstance(identifiers, list) else ():
        if isinstance(identifier, dict) and identifier.get("system") and identifier.get("value"):
            token = f"{_escape(identifier['system'])}|{_escape(identifier['value'])}"
            return urlencode([("identifier", token)], safe=":/|")
    if not required:
        return ""
    raise InputFileError(
        f"{where}: the {rtype} has no identifier with system and value, which conditional mode "
        "needs to recognise it on the server; use --mode put"
    )


def _escape(value: str) -> str:
    """FHIR search escaping of a token part: \\ , $ | get a backslash."""
    return re.sub(r"([\\,$|])", r"\\\1", str(value))


def _refuse_duplicates(source: str, entries: Iterable[PreparedEntry]) -> None:
    seen: dict[str, PreparedEntry] = {}
    for entry in entries:
        if not entry.lookup:
            continue
        first = seen.setdefault(entry.lookup, entry)
        if first is not entry:
            what = "id" if "?" not in entry.lookup else "conditional create condition"
            raise InputFileError(
                f"{source}: {first.label} and {entry.label} have the same {what} "
                f"({entry.lookup}); the server would merge them or reject the bundle. Give each "
                "resource its own id or identifier"
            )
