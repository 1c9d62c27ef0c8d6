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
    generator, and one call (one stack frame of depth) per object: a list's items are visited
    in the loop of the object that holds the list.
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
                for position, element in enumerate(item):
                    if isinstance(element, dict):
                        visit(element, (*path, key, position))
                    elif isinstance(element, list):
                        items(element, (*path, key, position))

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
