"""Compact rules compiled from a StructureDefinition snapshot: one tree of ElementRule per profile.

A rule tree mirrors the snapshot: each element knows its cardinality, allowed types (with
profiles and target profiles), fixed or pattern value, required binding, error invariants and
slicing. Trees are plain data (picklable) so the rule cache can store them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# Element invariants this layer leaves to others: ele-1 (empty elements) is the structure
# layer's; dom-6 and the like are warnings and are never evaluated (only severity error is).
_LEFT_TO_OTHER_LAYERS = frozenset({"ele-1"})


@dataclass(frozen=True)
class TypeRef:
    code: str  # Quantity, dateTime, Reference, or a FHIRPath system type for id/url elements
    profiles: tuple[str, ...] = ()
    target_profiles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Invariant:
    key: str
    human: str
    expression: str
    source: str  # canonical of the StructureDefinition that defined it


@dataclass(frozen=True)
class Discriminator:
    type: str  # value, pattern, type, profile, exists
    path: str


@dataclass
class ElementRule:
    """One element definition of a snapshot, with its children and slices."""

    id: str  # Observation.value[x]:valueQuantity.code
    path: str  # Observation.value[x].code
    name: str  # code, value[x]
    min: int
    max: int | None  # None: unbounded
    types: tuple[TypeRef, ...] = ()
    fixed: Any = None
    pattern: Any = None
    binding: str | None = None  # value set canonical of a required binding
    invariants: tuple[Invariant, ...] = ()
    content_reference: str | None = None  # #Questionnaire.item: children come from there
    children: dict[str, ElementRule] = field(default_factory=dict)
    slice_name: str | None = None
    discriminators: tuple[Discriminator, ...] = ()
    slicing_closed: bool = False
    slices: list[ElementRule] = field(default_factory=list)

    @property
    def is_choice(self) -> bool:
        return self.name.endswith("[x]")

    @cached_property
    def constrains_value(self) -> bool:
        """Whether the element has a fixed value, pattern, required binding or invariants."""
        return (
            self.fixed is not None
            or self.pattern is not None
            or self.binding is not None
            or bool(self.invariants)
        )

    @cached_property
    def type_profiles(self) -> dict[str, tuple[str, ...]]:
        """The profiles each type must conform to (``Extension`` -> its definition), if any."""
        found: dict[str, tuple[str, ...]] = {}
        for type_ref in self.types:
            if type_ref.profiles:
                found[type_ref.code] = found.get(type_ref.code, ()) + type_ref.profiles
        return found

    @property
    def type_codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.types)


@dataclass(frozen=True)
class Profile:
    """A compiled StructureDefinition."""

    url: str
    version: str | None
    name: str
    type: str  # the resource or data type it constrains
    derivation: str | None
    root: ElementRule

    @property
    def is_base(self) -> bool:
        """A base definition (Patient, Quantity), not a constraint on one."""
        return self.derivation != "constraint"

    @property
    def label(self) -> str:
        return f"{self.url}|{self.version}" if self.version else self.url


def compile_profile(sd: dict[str, Any]) -> Profile:
    """Compile a StructureDefinition with a snapshot into a rule tree."""
    elements = sd.get("snapshot", {}).get("element", [])
    if not elements:
        raise ValueError(f"StructureDefinition {sd.get('url')} has no snapshot")
    url = str(sd["url"])
    by_id: dict[str, ElementRule] = {}
    root: ElementRule | None = None
    for element in elements:
        rule = _compile_element(element, url)
        by_id[rule.id] = rule
        parent_id, slice_of = _parent(rule.id)
        if root is None:
            root = rule
        elif slice_of is not None and slice_of in by_id:
            by_id[slice_of].slices.append(rule)
        elif parent_id in by_id:
            by_id[parent_id].children[rule.name] = rule
    assert root is not None
    return Profile(
        url=url,
        version=sd.get("version"),
        name=str(sd.get("name") or sd.get("id") or url),
        type=str(sd.get("type")),
        derivation=sd.get("derivation"),
        root=root,
    )


def _parent(element_id: str) -> tuple[str, str | None]:
    """The id of an element's parent, and for a slice the id of the element it slices."""
    head, _, last = element_id.rpartition(".")
    if ":" in last:
        name, _, _ = last.partition(":")
        return head, f"{head}.{name}" if head else name
    return head, None


def _compile_element(element: dict[str, Any], source: str) -> ElementRule:
    element_id = str(element.get("id") or element["path"])
    path = str(element["path"])
    last = element_id.rpartition(".")[2]
    name = last.partition(":")[0]
    max_text = str(element.get("max", "*"))
    slicing = element.get("slicing") or {}
    binding = element.get("binding") or {}
    fixed = pattern = None
    for key, value in element.items():
        if key.startswith("fixed"):
            fixed = value
        elif key.startswith("pattern"):
            pattern = value
    return ElementRule(
        id=element_id,
        path=path,
        name=name if "." in element_id else path,
        min=int(element.get("min", 0)),
        max=None if max_text == "*" else int(max_text),
        types=tuple(
            TypeRef(
                code=_type_code(t),
                profiles=tuple(t.get("profile", ())),
                target_profiles=tuple(t.get("targetProfile", ())),
            )
            for t in element.get("type", ())
        ),
        fixed=fixed,
        pattern=pattern,
        binding=binding.get("valueSet") if binding.get("strength") == "required" else None,
        invariants=tuple(
            Invariant(
                key=str(c["key"]),
                human=str(c.get("human", "")),
                expression=str(c["expression"]),
                source=str(c.get("source") or source),
            )
            for c in element.get("constraint", ())
            if c.get("severity") == "error"
            and c.get("expression")
            and c.get("key") not in _LEFT_TO_OTHER_LAYERS
        ),
        content_reference=element.get("contentReference"),
        slice_name=element.get("sliceName"),
        discriminators=tuple(
            Discriminator(str(d["type"]), str(d["path"])) for d in slicing.get("discriminator", ())
        ),
        slicing_closed=slicing.get("rules") == "closed",
    )


def _type_code(type_: dict[str, Any]) -> str:
    code = str(type_.get("code", ""))
    # id and url elements are typed with a FHIRPath system type and the FHIR type in an extension.
    for extension in [*type_.get("_code", {}).get("extension", []), *type_.get("extension", [])]:
        if str(extension.get("url", "")).endswith("structuredefinition-fhir-type"):
            return str(extension.get("valueUrl") or extension.get("valueUri") or code)
    return code
