"""Pure: literal references as servers write them, and rewriting them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

HISTORY = re.compile(r"/_history/[^/]+$")


def map_references(node: Any, change: Callable[[str], str]) -> Any:
    """A copy of ``node`` with every ``Reference.reference`` string replaced by ``change(it)``."""
    if isinstance(node, dict):
        copied = {key: map_references(value, change) for key, value in node.items()}
        if isinstance(copied.get("reference"), str):
            copied["reference"] = change(copied["reference"])
        return copied
    if isinstance(node, list):
        return [map_references(item, change) for item in node]
    return node


def relative(reference: str, base_url: str) -> str:
    """``[base]/Type/id/_history/n`` or ``Type/id/_history/n`` -> ``Type/id``; other references
    (``urn:uuid:``, another server's URL, a search) come back as they are, without a version."""
    base = base_url.rstrip("/") + "/"
    path = reference if "?" in reference else HISTORY.sub("", reference)
    return path[len(base) :] if path.startswith(base) else path
