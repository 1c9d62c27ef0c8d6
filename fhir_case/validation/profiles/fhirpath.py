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

from fhir_case.validation.profiles.existence import compile_existence

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


def _ref_1(value: Any, root: Any) -> bool:
    reference = value.get("reference") if isinstance(value, dict) else None
    if not isinstance(reference, str) or not reference.startswith("#"):
        return True
    contained = root.get("contained") if isinstance(root, dict) else None
    if not isinstance(contained, list):
        return False
    ids = {c.get("id") for c in contained if isinstance(c, dict) and isinstance(c.get("id"), str)}
    return reference[1:] in ids


# ref-1, on every Reference, is the most frequent invariant that needs more than existence
# tests: evaluated natively (same meaning, matched by its exact text) at a fraction of the cost.
_NATIVE: dict[str, Callable[[Any, Any], bool]] = {
    "reference.startsWith('#').not() or (reference.substring(1).trace('url') in "
    "%rootResource.contained.id.trace('ids'))": _ref_1,
}


def native_invariant(expression: str) -> Callable[[Any, Any], bool] | None:
    """A native evaluator ``(value, root) -> bool`` for this expression, or None.

    Expressions made of existence tests and boolean operators are compiled by
    :mod:`.existence`; a few others have a hand-written equivalent.
    """
    native = _NATIVE.get(expression)
    if native is not None:
        return native
    test = compile_existence(expression)
    if test is None:
        return None
    return lambda value, root: test(value)


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
