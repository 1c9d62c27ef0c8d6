"""FHIRPath's three-valued logic on JSON, for invariants evaluated natively.

An empty result is ``None``; an invariant holds unless it evaluates to false. As in fhirpathpy,
a primitive with only an extension (``_total``) exists, without a value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def present(holder: Any, name: str) -> bool:
    """``name.exists()``: a primitive with only an extension (``_name``) exists too."""
    return isinstance(holder, dict) and (
        holder.get(name) is not None or holder.get(f"_{name}") is not None
    )


def either(*terms: bool | None) -> bool | None:
    """FHIRPath ``or``: true if any term is true, else empty if any is empty, else false."""
    if any(term is True for term in terms):
        return True
    return None if any(term is None for term in terms) else False


def both(left: bool | None, right: bool | None) -> bool | None:
    """FHIRPath ``and``: false if any term is false, else empty if any is empty, else true."""
    if left is False or right is False:
        return False
    return None if left is None or right is None else True


def holds(result: bool | None) -> bool:
    return result is not False


def implies(condition: bool | None, consequence: Callable[[], bool | None]) -> bool:
    """``condition implies consequence``: fails only when the condition is true and the
    consequence false."""
    return condition is not True or holds(consequence())
