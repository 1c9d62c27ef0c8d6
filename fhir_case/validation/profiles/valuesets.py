"""Local expansion of ValueSets from the packages' ValueSets and CodeSystems.

A value set is expanded only when every part of it can be expanded from local content:
enumerated concepts, whole CodeSystems with ``content = complete``, is-a/descendent-of filters
on such CodeSystems, and other expandable value sets. Anything else (SNOMED CT, LOINC and UCUM
filters, externally defined value sets) gives None: the binding is then not checked, rather than
checked wrongly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Code = tuple[str, str]  # (system, code)


@dataclass(frozen=True)
class Expansion:
    name: str
    codes: frozenset[Code]

    def has_code(self, code: str) -> bool:
        return any(c == code for _, c in self.codes)


@dataclass(frozen=True)
class CodeSystemCodes:
    """The codes of a complete CodeSystem, each with its ancestors (for is-a filters)."""

    url: str
    parents: dict[str, frozenset[str]]  # code -> all its ancestors


def code_system_codes(cs: dict[str, Any]) -> CodeSystemCodes | None:
    """The codes of a CodeSystem resource, or None when it is not complete in the package."""
    if cs.get("content") != "complete":
        return None
    parents: dict[str, frozenset[str]] = {}

    def walk(concepts: Iterable[dict[str, Any]], ancestors: frozenset[str]) -> None:
        for concept in concepts:
            code = str(concept.get("code"))
            parents[code] = parents.get(code, frozenset()) | ancestors
            walk(concept.get("concept", ()), ancestors | {code})

    walk(cs.get("concept", ()), frozenset())
    return CodeSystemCodes(str(cs["url"]), parents)


def expand(
    vs: dict[str, Any],
    code_system: Callable[[str], CodeSystemCodes | None],
    value_set: Callable[[str], Expansion | None],
) -> Expansion | None:
    """Expand a ValueSet resource, or None when it cannot be expanded locally."""
    name = str(vs.get("title") or vs.get("name") or vs.get("url"))
    compose = vs.get("compose")
    if not compose:
        contains = (vs.get("expansion") or {}).get("contains")
        return Expansion(name, frozenset(_contained(contains))) if contains else None
    included: set[Code] = set()
    for include in compose.get("include", ()):
        codes = _part(include, code_system, value_set)
        if codes is None:
            return None
        included |= codes
    for exclude in compose.get("exclude", ()):
        codes = _part(exclude, code_system, value_set)
        if codes is None:
            return None
        included -= codes
    return Expansion(name, frozenset(included))


def _contained(contains: Iterable[dict[str, Any]]) -> Iterable[Code]:
    for item in contains:
        if "code" in item and "system" in item:
            yield str(item["system"]), str(item["code"])
        yield from _contained(item.get("contains", ()))


def _part(
    part: dict[str, Any],
    code_system: Callable[[str], CodeSystemCodes | None],
    value_set: Callable[[str], Expansion | None],
) -> set[Code] | None:
    codes: set[Code] | None = None
    system = part.get("system")
    if system:
        system = str(system)
        if part.get("concept"):
            codes = {(system, str(c["code"])) for c in part["concept"]}
        else:
            cs = code_system(system)
            if cs is None:
                return None
            selected = set(cs.parents)
            for flt in part.get("filter", ()):
                chosen = _filter(cs, flt)
                if chosen is None:
                    return None
                selected &= chosen
            codes = {(system, code) for code in selected}
    for url in part.get("valueSet", ()):
        expansion = value_set(str(url))
        if expansion is None:
            return None
        codes = set(expansion.codes) if codes is None else codes & expansion.codes
    return codes


def _filter(cs: CodeSystemCodes, flt: dict[str, Any]) -> set[str] | None:
    if flt.get("property") != "concept":
        return None
    value, op = str(flt.get("value")), flt.get("op")
    if op == "is-a":
        return {c for c, up in cs.parents.items() if c == value or value in up}
    if op == "descendent-of":
        return {c for c, up in cs.parents.items() if value in up}
    if op == "=":
        return {value} & set(cs.parents)
    return None
