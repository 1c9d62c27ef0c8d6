"""Pure: a bundle file's content -> the transaction that uploads it idempotently.

Two modes (see :class:`~fhir_case.upload.settings.Mode`):

- ``put``: each entry becomes ``PUT Type/<id>`` (update-as-create) with the resource's id, or the
  uuid of its ``urn:uuid:`` fullUrl when it has none. The builder's ids are deterministic, so an
  upload repeated any number of times leaves one copy of each resource.
- ``conditional``: each entry becomes ``POST Type`` with ``ifNoneExist`` on the resource's first
  business identifier (``identifier=system|value``, the query part only, as the spec says). The
  server assigns ids; an existing match is kept as it is.

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
    lookup: (
        str  # how to find it on the server: "Type/id" (put) or "Type?identifier=..." (conditional)
    )

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
            {"request": {"method": "DELETE", "url": e.lookup}} for e in reversed(self.entries)
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
    condition = _identifier_condition(where, rtype, resource)
    if not full_url:
        raise InputFileError(
            f"{where}.fullUrl: missing; conditional mode needs a fullUrl (urn:uuid:...) on every "
            "entry so that references between entries can be resolved"
        )
    resource.pop("id", None)
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


def _identifier_condition(where: str, rtype: str, resource: dict[str, Any]) -> str:
    for identifier in resource.get("identifier") or ():
        if isinstance(identifier, dict) and identifier.get("system") and identifier.get("value"):
            token = f"{_escape(identifier['system'])}|{_escape(identifier['value'])}"
            return urlencode([("identifier", token)], safe=":/|")
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
        first = seen.setdefault(entry.lookup, entry)
        if first is not entry:
            what = "id" if "?" not in entry.lookup else "conditional create condition"
            raise InputFileError(
                f"{source}: {first.label} and {entry.label} have the same {what} "
                f"({entry.lookup}); the server would merge them or reject the bundle. Give each "
                "resource its own id or identifier"
            )
