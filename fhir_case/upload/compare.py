"""Pure: does a resource read back from a server match what was sent?

What the server may change, and so is ignored:

- ``meta.versionId``, ``meta.lastUpdated``, ``meta.source``: managed by the server;
- ``id`` when the server assigned it (conditional mode: nothing was sent);
- ``text`` when none was sent (servers such as HAPI may generate a narrative); a narrative that
  was sent must come back, compared with whitespace normalised;
- references: the server rewrites ``urn:uuid:`` fullUrls to ``Type/<server id>`` and may make them
  absolute (``[base]/Type/<id>``) or versioned (``.../_history/n``); both sides are reduced to
  ``Type/<id>`` before comparing. A reference whose target's server id is not known (it points
  to an entry that failed) is not compared.

Everything else must be equal; an element the server added or dropped is a difference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fhir_case.upload.references import map_references, relative

SERVER_META = ("versionId", "lastUpdated", "source")
UNKNOWN = "\x00unknown target"  # stands for a reference that cannot be compared
WHITESPACE = re.compile(r"\s+")


def differences(
    sent: dict[str, Any],
    stored: dict[str, Any],
    references: Mapping[str, str | None],
    base_url: str,
) -> list[str]:
    """Human-readable differences, each naming a FHIRPath-like location; empty when they match.

    ``references`` maps what was sent (fullUrls) to what the server made of it (``Type/id``), or
    to None when that is not known."""
    left = _normalise(sent, references, base_url, sent=sent)
    right = _normalise(stored, {}, base_url, sent=sent)
    found: list[str] = []
    _diff(left, right, str(sent.get("resourceType", "Resource")), found)
    return found


def _normalise(
    resource: dict[str, Any],
    references: Mapping[str, str | None],
    base_url: str,
    sent: dict[str, Any],
) -> dict[str, Any]:
    def target(value: str) -> str:
        mapped = references.get(value, value)
        return UNKNOWN if mapped is None else relative(mapped, base_url)

    result: dict[str, Any] = map_references(resource, target)
    meta = result.get("meta")
    if isinstance(meta, dict):
        for key in SERVER_META:
            meta.pop(key, None)
        if not meta:
            del result["meta"]
    if "id" not in sent:
        result.pop("id", None)
    if "text" not in sent:
        result.pop("text", None)
    elif isinstance(result.get("text"), dict) and isinstance(result["text"].get("div"), str):
        result["text"]["div"] = WHITESPACE.sub(" ", result["text"]["div"]).strip()
    return result


def _diff(left: Any, right: Any, path: str, found: list[str]) -> None:
    if left == UNKNOWN:
        return
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(left.keys() | right.keys()):
            where = f"{path}.{key}"
            if key not in right:
                found.append(f"{where}: sent but missing on the server")
            elif key not in left:
                found.append(f"{where}: added by the server ({_short(right[key])})")
            else:
                _diff(left[key], right[key], where, found)
    elif isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            found.append(f"{path}: sent {len(left)} items, the server has {len(right)}")
        for index, (a, b) in enumerate(zip(left, right, strict=False)):
            _diff(a, b, f"{path}[{index}]", found)
    elif not _same_scalar(left, right):
        found.append(f"{path}: sent {_short(left)}, the server has {_short(right)}")


def _same_scalar(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right  # JSON numbers: 68.5 == 68.50
    return bool(left == right) and type(left) is type(right)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
