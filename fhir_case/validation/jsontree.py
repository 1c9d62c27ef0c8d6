"""The JSON objects of a resource, with their paths: the walk the terminology and reference
checks share (each looks at a few keys of every object)."""

from __future__ import annotations

from typing import Any

Path = tuple[str | int, ...]


def objects(value: Any, *, skip: str | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """Every JSON object in ``value`` (``value`` itself included, if it is one), in document
    order, with its path of keys and list positions; the value of a key named ``skip`` is not
    entered (``skip="resource"``: not a Bundle's entry resources).

    Checking a resource walks every object of it, so this is a hot loop: a list, not a
    generator, and one call per object (a list's items are visited in the loop of their
    object).
    """
    found: list[tuple[Path, dict[str, Any]]] = []

    def visit(node: dict[str, Any], path: Path) -> None:
        found.append((path, node))
        for key, item in node.items():
            if key == skip:
                continue
            if isinstance(item, dict):
                visit(item, (*path, key))
            elif isinstance(item, list):
                items(item, (*path, key))

    def items(array: list[Any], path: Path) -> None:
        for position, item in enumerate(array):
            if isinstance(item, dict):
                visit(item, (*path, position))
            elif isinstance(item, list):
                items(item, (*path, position))

    if isinstance(value, dict):
        visit(value, ())
    elif isinstance(value, list):
        items(value, ())
    return found
