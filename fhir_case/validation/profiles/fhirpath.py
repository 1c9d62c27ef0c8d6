"""FHIRPath invariants through fhirpathpy: parsed once (the parse tree is cached with the rules),
evaluated many times.

An invariant passes when it evaluates to true or to nothing; an expression fhirpathpy cannot
parse or evaluate is skipped (and counted), never reported as a failure.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import cache
from typing import Any, TypeGuard

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models
from fhirpathpy.parser import parse

from fhir_case.validation.profiles.bundle_invariants import BUNDLE_INVARIANTS
from fhir_case.validation.profiles.common_invariants import COMMON_INVARIANTS
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


def _strings(value: Any) -> set[str]:
    """Every string in a JSON value."""
    found: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _dom_3(resource: Any, root: Any) -> bool:
    """Every contained resource is referred to (``#id``) from the resource, or refers to it.

    Any string ``#id`` counts as a reference: at least as lenient as the FHIRPath, which looks at
    references, canonicals, uris and urls.
    """
    contained = resource.get("contained") if isinstance(resource, dict) else None
    if not isinstance(contained, list):
        return True
    strings = _strings(resource)
    for item in contained:
        id_ = item.get("id") if isinstance(item, dict) else None
        if isinstance(id_, str) and f"#{id_}" not in strings and "#" not in _strings(item):
            return False
    return True


def _moment(text: Any) -> tuple[int, Any] | None:
    """A date or dateTime as (precision, comparable value); None when it cannot be compared."""
    if not isinstance(text, str):
        return None
    try:
        if "T" in text:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return (3, moment) if moment.tzinfo is not None else None
        parts = text.split("-")
        return len(parts) - 1, tuple(int(part) for part in parts)
    except ValueError:
        return None


def _per_1(period: Any, root: Any) -> bool:
    """start <= end; values of different precision do not compare (FHIRPath gives empty)."""
    if not isinstance(period, dict):
        return True
    start, end = _moment(period.get("start")), _moment(period.get("end"))
    if start is None or end is None or start[0] != end[0]:
        return True
    return bool(start[1] <= end[1])


def _rng_2(range_: Any, root: Any) -> bool:
    """low <= high, when both are numbers in the same unit."""
    low = range_.get("low") if isinstance(range_, dict) else None
    high = range_.get("high") if isinstance(range_, dict) else None
    if not isinstance(low, dict) or not isinstance(high, dict):
        return True
    low_value, high_value = low.get("value"), high.get("value")
    if not _is_number(low_value) or not _is_number(high_value):
        return True
    same_unit = (low.get("system"), low.get("code")) == (high.get("system"), high.get("code"))
    return not same_unit or bool(low_value <= high_value)


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _age_1(age: Any, root: Any) -> bool:
    """A UCUM coded age, with a positive value."""
    if not isinstance(age, dict):
        return True
    value = age.get("value")
    return (
        ("code" in age or "value" not in age)
        and ("system" not in age or age["system"] == "http://unitsofmeasure.org")
        and (not _is_number(value) or value > 0)
    )


# Invariants that need more than existence tests, evaluated natively (the same meaning, matched
# by their exact text): ref-1 is on every Reference; fhirpathpy cannot run dom-3, per-1 (date
# comparison), rng-2 (quantity comparison) and age-1; the Bundle's bdl-* invariants walk all its
# entries, too slowly through fhirpathpy.
_NATIVE: dict[str, Callable[[Any, Any], bool]] = {
    "reference.startsWith('#').not() or (reference.substring(1).trace('url') in "
    "%rootResource.contained.id.trace('ids'))": _ref_1,
    "contained.where((('#'+id in (%resource.descendants().reference | "
    "%resource.descendants().as(canonical) | %resource.descendants().as(uri) | "
    "%resource.descendants().as(url))) or descendants().where(reference = '#').exists() or "
    "descendants().where(as(canonical) = '#').exists() or "
    "descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()": (
        _dom_3
    ),
    "start.hasValue().not() or end.hasValue().not() or (start <= end)": _per_1,
    "low.empty() or high.empty() or (low <= high)": _rng_2,
    "(code.exists() or value.empty()) and (system.empty() or system = %ucum) and "
    "(value.empty() or value.hasValue().not() or value > 0)": _age_1,
    **BUNDLE_INVARIANTS,
    **COMMON_INVARIANTS,
}


@cache
def native_invariant(expression: str) -> Callable[[Any, Any], bool] | None:
    """A native evaluator ``(value, root) -> bool`` for this expression, or None.

    Expressions made of existence tests and boolean operators are compiled by
    :mod:`.existence` (once per expression); a few others have a hand-written equivalent.
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
