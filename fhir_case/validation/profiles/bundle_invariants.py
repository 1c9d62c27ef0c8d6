"""The R4 Bundle's invariants (bdl-1 to bdl-12), evaluated natively.

They run on every Bundle and walk all its entries; through fhirpathpy they were most of the
time spent on a Bundle's own rules. Each function gives what fhirpathpy gives for the FHIRPath
it is keyed by, three-valued logic included: where the FHIRPath gives empty (``type`` absent,
say) the invariant holds, as every invariant that evaluates to nothing does; a primitive with
only an extension (``_total``) exists.
(tests/validation/profiles/test_bundle_invariants.py checks them against fhirpathpy.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fhir_case.validation.profiles.logic import either, holds, implies, present

JSON = dict[str, Any]


def _entries(bundle: Any) -> Iterator[JSON]:
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, dict):
            yield entry


def _type_is(bundle: Any, *kinds: str) -> bool | None:
    """``type = 'a' or type = 'b'``: None (empty) without a type; false for a type with only an
    extension (as fhirpathpy has it)."""
    if not present(bundle, "type"):
        return None
    return bundle.get("type") in kinds


def _bdl_1(bundle: Any, root: Any) -> bool:
    total = present(bundle, "total")
    return holds(either(not total, _type_is(bundle, "searchset"), _type_is(bundle, "history")))


def _bdl_2(bundle: Any, root: Any) -> bool:
    search = any(entry.get("search") is not None for entry in _entries(bundle))
    return holds(either(not search, _type_is(bundle, "searchset")))


def _all_entries(bundle: Any, element: str, kinds: tuple[str, ...]) -> bool:
    """``entry.all(<element>.exists() = (%resource.type = k1 or ...))``."""
    wanted = either(*(_type_is(bundle, kind) for kind in kinds))
    # ``x = {}`` is empty, and all() counts an empty result as not true.
    return all(wanted is not None and (entry.get(element) is not None) == wanted
               for entry in _entries(bundle))  # fmt: skip


def _bdl_3(bundle: Any, root: Any) -> bool:
    return _all_entries(bundle, "request", ("batch", "transaction", "history"))


def _bdl_4(bundle: Any, root: Any) -> bool:
    return _all_entries(bundle, "response", ("batch-response", "transaction-response", "history"))


def _bdl_7(bundle: Any, root: Any) -> bool:
    """fullUrl (with meta.versionId appended) is unique, except in a history."""

    def version(entry: JSON) -> str:
        resource = entry.get("resource")
        meta = resource.get("meta") if isinstance(resource, dict) else None
        version_id = meta.get("versionId") if isinstance(meta, dict) else None
        return version_id if isinstance(version_id, str) else ""

    keys = [
        f"{entry['fullUrl']}{version(entry)}"
        for entry in _entries(bundle)
        if isinstance(entry.get("fullUrl"), str)
    ]
    return holds(either(_type_is(bundle, "history"), len(keys) == len(set(keys))))


def _bdl_8(entry: Any, root: Any) -> bool:
    full_url = entry.get("fullUrl") if isinstance(entry, dict) else None
    return not (isinstance(full_url, str) and "/_history/" in full_url)


def _bdl_9(bundle: Any, root: Any) -> bool:
    def identified() -> bool:
        identifier = bundle.get("identifier")
        identifiers = identifier if isinstance(identifier, list) else [identifier]
        return all(any(present(item, key) for item in identifiers) for key in ("system", "value"))

    return implies(_type_is(bundle, "document"), identified)


def _bdl_10(bundle: Any, root: Any) -> bool:
    return implies(_type_is(bundle, "document"), lambda: bundle.get("timestamp") is not None)


def _first_resource_is(bundle: Any, resource_type: str) -> bool | None:
    """``entry.first().resource.is(<type>)``: empty without a first entry resource."""
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    first = entries[0] if isinstance(entries, list) and entries else None
    resource = first.get("resource") if isinstance(first, dict) else None
    if not isinstance(resource, dict):
        return None
    return resource.get("resourceType") == resource_type


def _bdl_11(bundle: Any, root: Any) -> bool:
    return implies(_type_is(bundle, "document"), lambda: _first_resource_is(bundle, "Composition"))


def _bdl_12(bundle: Any, root: Any) -> bool:
    return implies(_type_is(bundle, "message"), lambda: _first_resource_is(bundle, "MessageHeader"))


BUNDLE_INVARIANTS: dict[str, Callable[[Any, Any], bool]] = {
    "total.empty() or (type = 'searchset') or (type = 'history')": _bdl_1,
    "entry.search.empty() or (type = 'searchset')": _bdl_2,
    "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' "
    "or %resource.type = 'history'))": _bdl_3,
    "entry.all(response.exists() = (%resource.type = 'batch-response' or "
    "%resource.type = 'transaction-response' or %resource.type = 'history'))": _bdl_4,
    "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId)"
    ".isDistinct()": _bdl_7,
    "fullUrl.contains('/_history/').not()": _bdl_8,
    "type = 'document' implies (identifier.system.exists() and identifier.value.exists())": (
        _bdl_9
    ),
    "type = 'document' implies (timestamp.hasValue())": _bdl_10,
    "type = 'document' implies entry.first().resource.is(Composition)": _bdl_11,
    "type = 'message' implies entry.first().resource.is(MessageHeader)": _bdl_12,
}
