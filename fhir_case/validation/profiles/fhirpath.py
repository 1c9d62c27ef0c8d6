"""FHIRPath invariants through fhirpathpy: parsed once (the parse tree is cached with the rules),
evaluated many times.

An invariant passes when it evaluates to true or to nothing; an expression fhirpathpy cannot
parse or evaluate is skipped (and counted), never reported as a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models
from fhirpathpy.parser import parse

_R4_MODEL = models["r4"]
_parse_untyped: Callable[[str], dict[str, Any]] = parse
_create_node: Callable[[Any, str], Any] = ResourceNode.create_node
_apply: Callable[..., list[Any]] = fhirpathpy.apply_parsed_path
# trace() would print to stdout; invariants are evaluated silently.
_OPTIONS = {"traceFn": lambda *args: None}


@cache
def _parse(expression: str) -> dict[str, Any] | None:
    try:
        tree: dict[str, Any] = _parse_untyped(expression)
    except Exception:  # fhirpathpy raises bare Exceptions for syntax it does not support
        return None
    return tree


def parse_invariant(expression: str) -> dict[str, Any] | None:
    """The parse tree of an expression, or None when fhirpathpy cannot parse it."""
    return _parse(expression)


def _present(value: Any, name: str) -> bool:
    return isinstance(value, dict) and (
        value.get(name) not in (None, [], {}) or f"_{name}" in value
    )


def _choice_present(value: Any, stem: str) -> bool:
    return isinstance(value, dict) and any(
        key.startswith(stem) and key[len(stem) : len(stem) + 1].isupper() for key in value
    )


def _ref_1(value: Any, root: Any) -> bool:
    reference = value.get("reference") if isinstance(value, dict) else None
    if not isinstance(reference, str) or not reference.startswith("#"):
        return True
    contained = root.get("contained") if isinstance(root, dict) else None
    ids = {c.get("id") for c in contained or () if isinstance(c, dict)}
    return reference[1:] in ids


# The most frequent core invariants, evaluated natively: the same meaning as the FHIRPath,
# matched by the exact expression text, at a fraction of the cost. The rest go to fhirpathpy.
_NATIVE: dict[str, Callable[[Any, Any], bool]] = {
    "reference.startsWith('#').not() or (reference.substring(1).trace('url') in "
    "%rootResource.contained.id.trace('ids'))": _ref_1,
    "code.empty() or system.exists()": lambda v, _: (
        not _present(v, "code") or _present(v, "system")
    ),
    "extension.exists() != value.exists()": lambda v, _: (
        _present(v, "extension") != _choice_present(v, "value")
    ),
    "dataAbsentReason.empty() or value.empty()": lambda v, _: (
        not _present(v, "dataAbsentReason") or not _choice_present(v, "value")
    ),
    "comparator.empty()": lambda v, _: not _present(v, "comparator"),
}


def native_invariant(expression: str) -> Callable[[Any, Any], bool] | None:
    """A native evaluator for this exact expression, or None."""
    return _NATIVE.get(expression)


def evaluate_invariant(
    tree: dict[str, Any], value: Any, element_path: str, resource: Any, root: Any
) -> bool | None:
    """True or False, or None when fhirpathpy cannot evaluate the expression here.

    ``element_path`` (``Observation.component``) lets fhirpathpy resolve choice elements
    (``value`` -> ``valueQuantity``) below the element.
    """
    node = _create_node(value, element_path)
    variables = {"resource": resource, "rootResource": root}
    try:
        result = _apply(node, tree, variables, _R4_MODEL, _OPTIONS)
    except Exception:  # unsupported functions and type errors surface as plain Exceptions
        return None
    if not result:
        return True
    if len(result) == 1 and isinstance(result[0], bool):
        return result[0]
    return None
