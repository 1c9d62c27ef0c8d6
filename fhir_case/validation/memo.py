"""What a validator remembers between documents: findings by content digest, in bounded space.

Bundles built from one record share their resources (a transaction and a collection hold the
same entries), and a resource's own findings depend on nothing but its content; so a validator
checks each distinct resource once, however many Bundles carry it.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any, Generic, TypeVar

Value = TypeVar("Value")


def digest(data: Any) -> str | None:
    """A digest of JSON data (dicts, lists, strings, numbers, booleans, None, as ``json.load``
    gives them): equal digests mean equal data, key order included. None for what JSON cannot
    write (a ``datetime``, NaN), which is then not remembered."""
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Memo(Generic[Value]):
    """A mapping of at most ``size`` items that forgets the least recently used one first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Value] = OrderedDict()

    def get(self, key: str) -> Value | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: Value) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
