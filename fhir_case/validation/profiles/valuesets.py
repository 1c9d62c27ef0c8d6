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
from functools import cached_property
from typing import Any

Code = tuple[str, str]  # (system, code)


@dataclass(frozen=True)
class Expansion:
    """What is known of a value set: all its codes, or at least the systems they come from."""

    name: str
    codes: frozenset[Code] | None  # None: not expandable locally
    systems: frozenset[str] | None = None  # None: not known either

    @cached_property
    def _bare_codes(self) -> frozenset[str]:
        return frozenset(code for _, code in self.codes or ())

    def contains(self, system: str | None, code: str) -> bool | None:
        """Whether the code is in the value set; None when that cannot be known locally.

        ``system`` None is a bare ``code`` element: any system matches.
        """
        if self.codes is not None:
            if system is None:
                return code in self._bare_codes
            return (system, code) in self.codes
        if self.systems is not None and system is not None and system not in self.systems:
            return False  # e.g. a LOINC code in a value set of SNOMED CT concepts only
        return None


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
) -> Expansion:
    """Expand a ValueSet resource as far as local content allows."""
    name = str(vs.get("title") or vs.get("name") or vs.get("url"))
    compose = vs.get("compose")
    if not compose:
        contains = (vs.get("expansion") or {}).get("contains")
        if not contains:
            return Expansion(name, None)
        codes = frozenset(_contained(contains))
        return Expansion(name, codes, frozenset(system for system, _ in codes))
    included: set[Code] | None = set()
    systems: set[str] | None = set()
    for include in compose.get("include", ()):
        part_codes, part_systems = _part(include, code_system, value_set)
        included = None if included is None or part_codes is None else included | part_codes
        systems = None if systems is None or part_systems is None else systems | part_systems
    for exclude in compose.get("exclude", ()):
        part_codes, _ = _part(exclude, code_system, value_set)
        included = None if included is None or part_codes is None else included - part_codes
    return Expansion(
        name,
        None if included is None else frozenset(included),
        None if systems is None else frozenset(systems),
    )


def _contained(contains: Iterable[dict[str, Any]]) -> Iterable[Code]:
    for item in contains:
        if "code" in item and "system" in item:
            yield str(item["system"]), str(item["code"])
        yield from _contained(item.get("contains", ()))


def _part(
    part: dict[str, Any],
    code_system: Callable[[str], CodeSystemCodes | None],
    value_set: Callable[[str], Expansion | None],
) -> tuple[set[Code] | None, set[str] | None]:
    """The codes of one include or exclude (None if unknown), and the systems they come from."""
    codes: set[Code] | None = None
    systems: set[str] | None = None
    known = True
    system = part.get("system")
    if system:
        system = str(system)
        systems = {system}
        if part.get("concept"):
            codes = {(system, str(c["code"])) for c in part["concept"]}
        else:
            codes = _whole_or_filtered(system, part.get("filter", ()), code_system)
            known = codes is not None
    for url in part.get("valueSet", ()):
        expansion = value_set(str(url))
        if expansion is None:
            return None, systems
        if expansion.codes is None:
            known = False
        elif known:
            codes = set(expansion.codes) if codes is None else codes & expansion.codes
        if expansion.systems is None:
            continue
        systems = set(expansion.systems) if systems is None else systems & expansion.systems
    return (codes if known else None), systems


def _whole_or_filtered(
    system: str,
    filters: Iterable[dict[str, Any]],
    code_system: Callable[[str], CodeSystemCodes | None],
) -> set[Code] | None:
    cs = code_system(system)
    if cs is None:
        return None
    selected = set(cs.parents)
    for flt in filters:
        chosen = _filter(cs, flt)
        if chosen is None:
            return None
        selected &= chosen
    return {(system, code) for code in selected}


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
