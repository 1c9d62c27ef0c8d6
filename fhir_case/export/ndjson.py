"""Pure: a Bundle as bulk-data NDJSON: one ``Type.ndjson`` per resource type and a manifest.

Each line is one resource as compact JSON (UTF-8, no spaces, keys in the Bundle's order),
references rewritten from ``urn:uuid:`` to ``Type/id`` (:mod:`.resources`). Within a file the
resources keep their Bundle order; files are named and listed by type. ``manifest.json`` is a
FHIR Bulk Data export manifest (``transactionTime``, ``request``, ``requiresAccessToken``,
``output[]`` with ``type``, ``url`` and ``count``, ``error[]``), the input that bulk ``$import``
implementations read. The same Bundle gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fhir_case.bundle import serialize
from fhir_case.export.resources import Exported

MANIFEST = "manifest.json"
SUFFIX = ".ndjson"


def ndjson_line(resource: dict[str, Any]) -> bytes:
    """One resource as one NDJSON line: compact JSON, UTF-8, ``\\n`` at the end."""
    text = json.dumps(resource, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text + "\n").encode("utf-8")


def ndjson_files(
    resources: Sequence[Exported],
    *,
    request: str,
    transaction_time: str | None,
    base_url: str | None = None,
) -> dict[str, bytes]:
    """File name -> bytes: ``<Type>.ndjson`` for each resource type, and ``manifest.json``.

    ``request`` and ``transaction_time`` go into the manifest; ``base_url`` is where the folder
    will be served (each ``output.url`` is then absolute, as ``$import`` needs), else the
    urls are the bare file names, relative to the manifest.
    """
    lines: dict[str, list[bytes]] = {}
    for item in resources:
        lines.setdefault(item.type, []).append(ndjson_line(item.resource))
    files = {f"{kind}{SUFFIX}": b"".join(found) for kind, found in sorted(lines.items())}
    prefix = base_url.rstrip("/") + "/" if base_url else ""
    manifest: dict[str, Any] = {}
    if transaction_time is not None:
        manifest["transactionTime"] = transaction_time
    manifest |= {
        "request": request,
        "requiresAccessToken": False,
        "output": [
            {"type": kind, "url": f"{prefix}{kind}{SUFFIX}", "count": len(found)}
            for kind, found in sorted(lines.items())
        ],
        "error": [],
    }
    files[MANIFEST] = serialize(manifest)
    return files
