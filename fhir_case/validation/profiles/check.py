"""Walk a resource alongside compiled profiles and report what breaks them.

For each resource: its base definition, every profile it claims in ``meta.profile`` (resolved
by canonical URL), and the core vital-signs profile its code calls for. Below each element the
walk follows the profile's children where the profile lists them, else the element type's own
definition (so data-type rules such as ``qty-3`` or ``Extension.url`` apply everywhere).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from fhir_case.validation.issues import Issue, Severity
from fhir_case.validation.locations import PRIMITIVE_TYPES
from fhir_case.validation.memo import Memo, digest
from fhir_case.validation.profiles.fhirpath import evaluate_invariant, native_invariant
from fhir_case.validation.profiles.rules import Discriminator, ElementRule, Invariant, Profile
from fhir_case.validation.profiles.store import CORE_PREFIX, RuleStore
from fhir_case.validation.profiles.vitals import vital_signs_profile

LAYER = "profile"

# A reference resolves to the resources it points at, with their locations.
Resolver = Callable[[str], list[tuple[dict[str, Any], str]]]

_RESOURCE_TYPES = frozenset({"Resource", "DomainResource"})
_DEFINED_NAMESPACES = ("http://hl7.org/fhir/", "http://example.org/", "http://example.com/")
_CROSS_VERSION = re.compile(r"http://hl7\.org/fhir/[0-9.]+/StructureDefinition/extension-")
_BACKBONE = frozenset({"BackboneElement", "Element"})
_DATE_TYPES = frozenset({"date", "dateTime", "instant"})
# Primitives with a format of their own to check (dates only when matching a target profile).
_FORMATTED_TYPES = _DATE_TYPES | {"canonical"}
_DATE = re.compile(
    r"(?P<y>[0-9]{4})(-(?P<m>[0-9]{2})(-(?P<d>[0-9]{2})"
    r"(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?)?)?"
)
_LITERAL_REFERENCE = re.compile(
    r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$"
)
BUNDLE_MEMO_SIZE = 16
# dom-2..dom-5 constrain contained resources only; without any they hold, so skip the FHIRPath.
_CONTAINED_ONLY = frozenset({"dom-2", "dom-3", "dom-4", "dom-5"})


@dataclass
class Stats:
    """What the layer did: invariants evaluated, and those fhirpathpy could not evaluate."""

    invariants_evaluated: int = 0
    invariants_skipped: set[tuple[str, str]] = field(default_factory=set)  # (key, source)


class _Item(NamedTuple):
    value: Any
    location: str
    type_code: str


class BundleResolver:
    """Resolves references between the entries of a Bundle (by fullUrl, or Type/id)."""

    def __init__(self, bundle: dict[str, Any], location: str = "Bundle") -> None:
        self._by_url: dict[str, list[tuple[dict[str, Any], str]]] = {}
        self._by_type_id: dict[str, list[tuple[dict[str, Any], str]]] = {}
        # The entries' resources with their locations, and what references can resolve to.
        self.resources: list[tuple[dict[str, Any], str]] = []
        self._content: list[Any] = [location]
        entries = bundle.get("entry")
        for index, entry in enumerate(entries if isinstance(entries, list) else ()):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                continue
            found = (resource, f"{location}.entry[{index}].resource")
            self.resources.append(found)
            self._content.append([index, entry.get("fullUrl"), resource])
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str):
                self._by_url.setdefault(full_url, []).append(found)
            if isinstance(resource.get("id"), str):
                key = f"{resource.get('resourceType')}/{resource['id']}"
                self._by_type_id.setdefault(key, []).append(found)

    def digest(self) -> str | None:
        """A digest of everything the resolver can answer (None: not JSON, not remembered)."""
        return digest(self._content)

    def __call__(self, reference: str) -> list[tuple[dict[str, Any], str]]:
        if reference in self._by_url:
            return self._by_url[reference]
        match = _LITERAL_REFERENCE.search(reference)
        if match:
            return self._by_type_id.get(f"{match.group(1)}/{match.group(2)}", [])
        return []


class ProfileChecker:
    """Checks resources against the profiles of one package set (see :func:`check_resource`)."""

    def __init__(self, store: RuleStore) -> None:
        self.store = store
        self.stats = Stats()
        self._indexes: dict[int, _ChildIndex] = {}
        # Content-reference definitions by (profile root, rule), kept with both to check them.
        self._referenced: dict[
            tuple[int, int], tuple[ElementRule, ElementRule, Profile | None]
        ] = {}
        self._targets: dict[int, tuple[ElementRule, _Targets | None]] = {}
        # The issues of a Bundle's entry resources, by the digest of its resolver: the same
        # entries at the same places (a transaction and a collection of one record) give the
        # same issues, so they are checked once.
        self._entry_issues: Memo[list[Issue]] = Memo(BUNDLE_MEMO_SIZE)

    def check(
        self, resource: dict[str, Any], location: str, resolver: Resolver | None = None
    ) -> list[Issue]:
        if resolver is None and resource.get("resourceType") == "Bundle":
            return self._check_bundle(resource, location, BundleResolver(resource, location))
        run = _Run(self, resolver)
        sink: list[Issue] = []
        run.resource(resource, location, resource, sink)
        return _unique(sink)

    def _check_bundle(
        self, bundle: dict[str, Any], location: str, resolver: BundleResolver
    ) -> list[Issue]:
        """The Bundle itself, then each entry resource (unless remembered)."""
        run = _Run(self, resolver, apart={id(resource) for resource, _ in resolver.resources})
        sink: list[Issue] = []
        run.resource(bundle, location, bundle, sink)
        key = resolver.digest()
        entry_issues = self._entry_issues.get(key) if key is not None else None
        if entry_issues is None:
            entry_issues = []
            for resource, where in resolver.resources:
                run.resource(resource, where, resource, entry_issues)
            if key is not None:
                self._entry_issues.put(key, entry_issues)
        return _unique(sink + entry_issues)

    def referenced_definition(self, profile: Profile, rule: ElementRule) -> Profile | None:
        """The definition below an element with a content reference (``#Questionnaire.item``):
        the profile, rooted at the element referred to (made once, so its walks can be shared)."""
        key = (id(profile.root), id(rule))
        known = self._referenced.get(key)
        if known is not None and known[0] is profile.root and known[1] is rule:
            return known[2]
        target = _find_by_id(profile.root, str(rule.content_reference).lstrip("#"))
        definition = None if target is None else dataclasses.replace(profile, root=target)
        self._referenced[key] = (profile.root, rule, definition)
        return definition

    def reference_targets(self, rule: ElementRule) -> _Targets | None:
        """The target types and profiles a Reference element allows (computed once); None
        when it allows any resource, or names no profile the packages have."""
        known = self._targets.get(id(rule))
        if known is not None and known[0] is rule:
            return known[1]
        allowed: list[tuple[str, Profile]] = []
        for type_ref in rule.types:
            if type_ref.code == "Reference":
                for url in type_ref.target_profiles:
                    profile = self.store.profile(url)
                    if profile is not None:
                        allowed.append((profile.type, profile))
        types = list(dict.fromkeys(t for t, _ in allowed))
        targets = None if not allowed or "Resource" in types else _Targets(types, allowed)
        self._targets[id(rule)] = (rule, targets)
        return targets

    def child_index(self, children: dict[str, ElementRule]) -> _ChildIndex:
        """How the JSON properties map to the children of one element (computed once)."""
        index = self._indexes.get(id(children))
        if index is not None and index.children is children:
            return index
        by_property: dict[str, _Child] = {}
        for name, rule in children.items():
            if rule.is_choice:
                stem = name[:-3]
                for code in rule.type_codes:
                    quiet = _quiet(rule, code)
                    by_property.setdefault(
                        stem + code[:1].upper() + code[1:],
                        _Child(name, code, f"{stem}.ofType({code})", quiet, skip_when_single=False),
                    )
            else:
                code = rule.types[0].code if rule.types else "BackboneElement"
                quiet = _quiet(rule, code)
                single = quiet and rule.min == 0 and rule.max != 0
                by_property[name] = _Child(name, code, name, quiet, single)
                by_property.setdefault(
                    "_" + name, _Child(name, code, name, quiet, skip_when_single=False)
                )
        required = tuple(
            name
            for name, rule in children.items()
            if rule.min > 0 or any(slice_.min > 0 for slice_ in rule.slices)
        )
        choices = tuple(rule for rule in children.values() if rule.is_choice)
        index = _ChildIndex(children, by_property, required, choices)
        self._indexes[id(children)] = index
        return index


class _Targets(NamedTuple):
    types: list[str]  # resource types a reference may point at
    profiles: list[tuple[str, Profile]]  # (resource type, profile) for each target profile


class _Child(NamedTuple):
    """The child a JSON property holds, and as which type."""

    name: str  # value[x]
    type_code: str  # Quantity (for valueQuantity)
    step: str  # in a location: value.ofType(Quantity)
    quiet: bool  # element() finds nothing to check in a value of it: it is only counted
    # A quiet element that one value always fits (optional, not prohibited, and no other
    # property counts for it, as valueString and valueQuantity do for value[x]).
    skip_when_single: bool


def _quiet(rule: ElementRule, type_code: str) -> bool:
    """Whether :meth:`_Walk.element` has nothing to check in a value of this type here: a
    primitive whose element constrains no value and has no slices or type profiles, of a type
    without a format to check (canonical URLs; dates, which a target-profile match checks).
    """
    return (
        type_code in PRIMITIVE_TYPES
        and type_code not in _FORMATTED_TYPES
        and not rule.constrains_value
        and not rule.slices
        and type_code not in rule.type_profiles
    )


@dataclass(frozen=True)
class _ChildIndex:
    children: dict[str, ElementRule]
    by_property: dict[str, _Child]  # JSON property (valueQuantity, _birthDate) -> child
    required: tuple[str, ...]  # children (or their slices) that must be present
    choices: tuple[ElementRule, ...]  # the choice children (value[x])


class _Run:
    """One check: the resolver, and which (resource, profile) pairs were found to conform."""

    def __init__(
        self,
        checker: ProfileChecker,
        resolver: Resolver | None,
        *,
        check_formats: bool = False,
        conforms: dict[tuple[int, str], bool] | None = None,
        apart: frozenset[int] | set[int] = frozenset(),
    ) -> None:
        self.checker = checker
        self.store = checker.store
        self.resolver = resolver
        # ids of the Bundle entry resources the walk of the Bundle leaves to separate walks.
        self.apart = apart
        # Primitive formats are the structure layer's to report; a target-profile match
        # (does this Patient conform to us-core-patient?) needs them, so it checks dates itself.
        self.check_formats = check_formats
        self._conforms: dict[tuple[int, str], bool] = {} if conforms is None else conforms
        self._matching: _Run | None = self if check_formats else None

    def resource(
        self, resource: dict[str, Any], location: str, root: Any, sink: list[Issue]
    ) -> None:
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str):
            return
        base = self.store.core_profile(resource_type)
        if base is None:
            return  # not an R4 resource type: the structure layer says so
        profiles = [base]
        meta = resource.get("meta")
        claimed = meta.get("profile") if isinstance(meta, dict) else None
        for index, url in enumerate(claimed if isinstance(claimed, list) else ()):
            if not isinstance(url, str):
                continue
            profile = self.store.profile(url)
            if profile is None:
                sink.append(_unknown_profile(url, f"{location}.meta.profile[{index}]"))
            elif profile not in profiles:
                profiles.append(profile)
        if resource_type == "Observation":
            vital = vital_signs_profile(resource)
            profile = self.store.profile(vital) if vital else None
            if profile is not None and profile not in profiles:
                profiles.append(profile)
        family = _Family(len(profiles))
        for profile in profiles:
            _Walk(self, profile, resource, root, sink, family).element(
                profile.root, resource, location, resource_type
            )

    def conforms(self, resource: dict[str, Any], location: str, profile: Profile) -> bool:
        key = (id(resource), profile.url)
        if key not in self._conforms:
            self._conforms[key] = True  # a reference cycle counts as conforming
            sink: list[Issue] = []
            if self._matching is None:
                self._matching = _Run(
                    self.checker, self.resolver, check_formats=True, conforms=self._conforms
                )
            _Walk(self._matching, profile, resource, resource, sink, _Family(1)).element(
                profile.root, resource, location, profile.type
            )
            self._conforms[key] = not any(issue.is_error for issue in sink)
        return self._conforms[key]


class _Family:
    """The walks of the definitions applied within one resource (one walk per definition)."""

    def __init__(self, profiles: int) -> None:
        # By id of the definition: the store (or, for a content reference, the checker) keeps it.
        self.walks: dict[int, _Walk] = {}
        # When several profiles walk the resource, one may lead to a value that another has
        # checked against the same definition at the same place: (id of the definition, id of
        # the value, location) of each value checked against a whole definition.
        self.done: set[tuple[int, int, str]] | None = set() if profiles > 1 else None


class _Walk:
    """Checks one profile (or data-type definition) on one resource or element."""

    def __init__(
        self,
        run: _Run,
        profile: Profile,
        resource: Any,
        root: Any,
        sink: list[Issue],
        family: _Family,
    ) -> None:
        self.run = run
        self.store = run.store
        self.profile = profile
        self.resource = resource
        self.root = root
        self.sink = sink
        self.suffix = "" if profile.is_base else f"@{profile.url}"
        self.family = family

    def apply(
        self, definition: Profile, value: dict[str, Any], location: str, type_code: str
    ) -> None:
        """Check a value against a whole definition (a data type, an extension, a type profile),
        once: a second walk of it at the same place could only repeat the issues of the first."""
        family = self.family
        walk = family.walks.get(id(definition))
        if walk is None:
            walk = _Walk(self.run, definition, self.resource, self.root, self.sink, family)
            family.walks[id(definition)] = walk
        if family.done is not None:
            key = (id(definition), id(value), location)
            if key in family.done:
                return
            family.done.add(key)
        walk.element(definition.root, value, location, type_code)

    def report(
        self,
        location: str,
        message: str,
        *,
        code: str,
        rule: str | None,
        hint: str | None = None,
        severity: Severity = "error",
    ) -> None:
        self.sink.append(Issue(location, severity, LAYER, message, hint, code, rule))

    # -- one element -------------------------------------------------------------------------

    def element(self, rule: ElementRule, value: Any, location: str, type_code: str) -> None:
        if value is None:  # a primitive with only an extension (``_birthDate``): nothing to check
            return
        if rule.constrains_value or type_code in _FORMATTED_TYPES:
            self.constraints(rule, value, location, type_code)
        if not isinstance(value, dict):
            return
        if type_code in ("Coding", "Quantity") and rule is not self.profile.root:
            # (at the root of a Coding's own definition, the element above has checked it)
            self.known_code(value, location)
        if type_code == "Reference":
            self.reference(rule, value, location)
        if type_code in _RESOURCE_TYPES or (
            type_code not in PRIMITIVE_TYPES
            and "resourceType" in value
            and value is not self.resource
        ):
            # %rootResource: the container for a contained resource, else the resource itself.
            contained = rule.path.endswith(".contained")
            if id(value) not in self.run.apart:
                self.run.resource(value, location, self.root if contained else value, self.sink)
            return
        if rule.type_profiles:
            for url in rule.type_profiles.get(type_code, ()):
                self.apply_type_profile(url, value, location, type_code)
        elif type_code == "Extension" and rule is not self.profile.root:
            self.extension(value, location)
        if type_code not in PRIMITIVE_TYPES:
            self.descend(rule, value, location, type_code)

    def constraints(self, rule: ElementRule, value: Any, location: str, type_code: str) -> None:
        """The checks of a value itself: its format, invariants, fixed value, pattern, binding."""
        if type_code == "canonical" and not _valid_canonical(value):
            self.report(
                location,
                "Canonical URLs must be absolute URLs if they are not fragment references "
                f"({value})",
                code="value",
                rule=f"canonical:{rule.id}",
                hint="use the absolute canonical URL (http://...), or #id for a contained resource",
            )
        if rule.invariants:
            # FHIRPath resolves choice elements (value -> valueQuantity) and primitives
            # (``$this as dateTime``) from the element's type, not from a path like value[x].
            typed_path = (
                type_code
                if (type_code[:1].isupper() and type_code not in _BACKBONE)
                or type_code in PRIMITIVE_TYPES
                else rule.path
            )
            self.invariants(rule.invariants, value, location, typed_path)
        if self.run.check_formats and type_code in _DATE_TYPES and not _valid_date(value):
            self.report(
                location,
                f"Not a valid {type_code} value: {_show(value)}",
                code="value",
                rule=f"format:{type_code}",
            )
        if rule.fixed is not None and value != rule.fixed:
            self.report(
                location,
                f"Value is {_show(value)} but is fixed to {_show(rule.fixed)} in the profile "
                f"{self.profile.label}#{rule.id}",
                code="value",
                rule=f"fixed:{rule.id}{self.suffix}",
                hint=f"use {_show(rule.fixed)}",
            )
        if rule.pattern is not None and not _matches_pattern(value, rule.pattern):
            self.report(
                location,
                f"The pattern {_show(rule.pattern)} defined in the profile "
                f"{self.profile.label}#{rule.id} is not found",
                code="value",
                rule=f"pattern:{rule.id}{self.suffix}",
                hint=f"include {_show(rule.pattern)}",
            )
        if rule.binding is not None:
            self.binding(rule, rule.binding, value, location, type_code)

    def descend(
        self, rule: ElementRule, value: dict[str, Any], location: str, type_code: str
    ) -> None:
        """Check below a complex value: by the children the profile lists, else by its type."""
        if rule is self.profile.root:
            self.children(rule.children, value, location)
        elif rule.children and not rule.content_reference:
            # The profile constrains the children; the type's own invariants (qty-3) still apply.
            base_type = self.store.core_profile(type_code)
            if base_type is not None:
                self.invariants(base_type.root.invariants, value, location, type_code)
            self.children(rule.children, value, location)
        else:
            definition = self.type_definition(rule, type_code)
            if definition is not None:
                self.apply(definition, value, location, type_code)

    def type_definition(self, rule: ElementRule, type_code: str) -> Profile | None:
        if rule.content_reference:
            return self.run.checker.referenced_definition(self.profile, rule)
        if type_code in ("BackboneElement", "Element") or not type_code:
            return None
        return self.store.core_profile(type_code)

    def extension(self, value: dict[str, Any], location: str) -> None:
        """Check an extension against its definition, found by its URL."""
        url = value.get("url")
        if not isinstance(url, str) or "://" not in url:
            return
        definition = self.store.profile(url)
        if definition is not None:
            if definition.type == "Extension":
                self.apply(definition, value, location, "Extension")
            return
        # Like the HL7 validator: an extension from HL7's own namespace (or an example domain)
        # must be defined somewhere; other publishers' extensions are allowed unseen.
        if url.startswith(_DEFINED_NAMESPACES) and not _CROSS_VERSION.match(url):
            self.report(
                location,
                f"The extension {url} could not be found so is not allowed here",
                code="structure",
                rule=f"unknown-extension:{url}",
                hint="correct the URL, or install the package that defines it "
                "(fhir-case packages install NAME#VERSION)",
            )

    def primitive_extensions(self, content: Any, location: str) -> None:
        """The extensions of a primitive (``_gender``), located at the primitive."""
        definition = self.store.core_profile("Extension")
        for holder, holder_location in _located(content, location):
            extensions = holder.get("extension") if isinstance(holder, dict) else None
            for index, extension in enumerate(extensions if isinstance(extensions, list) else ()):
                if not isinstance(extension, dict) or definition is None:
                    continue
                where = f"{holder_location}.extension[{index}]"
                self.apply(definition, extension, where, "Extension")
                self.extension(extension, where)

    def apply_type_profile(
        self, url: str, value: dict[str, Any], location: str, type_code: str
    ) -> None:
        profile = self.store.profile(url)
        if profile is None:
            self.report(
                location,
                f"Profile {url} (used by {self.profile.label}) is not in the loaded packages",
                code="not-found",
                rule=f"unknown-profile:{url}",
                severity="warning",
            )
            return
        if profile.type != type_code:
            return
        self.apply(profile, value, location, type_code)

    # -- children, cardinality, slicing --------------------------------------------------------

    def children(
        self, children: dict[str, ElementRule], value: dict[str, Any], location: str
    ) -> None:
        index = self.run.checker.child_index(children)
        by_property = index.by_property
        counts: dict[str, int] = {}  # each child present (or required), in order of appearance
        # The values to check of each child: with their locations, by JSON property and type.
        checked: dict[str, list[tuple[list[tuple[Any, str]], str]]] = {}
        for key, content in value.items():
            child = by_property.get(key)
            if child is None:
                self.wrong_choice_type(index.choices, key, location)
                continue
            if child.skip_when_single and not isinstance(content, list):
                continue
            name, type_code = child.name, child.type_code
            if key[0] == "_":
                if key[1:] not in value:  # only an extension on a primitive: it is present
                    count = len(content) if isinstance(content, list) else 1
                    counts[name] = counts.get(name, 0) + count
                    if children[name].slices:  # no value to check, but a place in a slice
                        checked.setdefault(name, []).append(([(None, location)] * count, type_code))
                self.primitive_extensions(content, f"{location}.{key[1:]}")
                continue
            if child.quiet:  # only counted
                count = _count(content)
            else:
                found = _located(content, f"{location}.{child.step}")
                count = len(found)
                if found:
                    checked.setdefault(name, []).append((found, type_code))
            counts[name] = counts.get(name, 0) + count
        for name in index.required:
            counts.setdefault(name, 0)
        for name, count in counts.items():
            rule = children[name]
            if count < rule.min or (rule.max is not None and count > rule.max):
                self.cardinality(rule, count, location)
            groups = checked.get(name, [])
            if rule.slices:
                items = [
                    _Item(item, where, code) for found, code in groups for item, where in found
                ]
                self.slicing(rule, items, location)
            else:
                for found, type_code in groups:
                    for item, where in found:
                        self.element(rule, item, where, type_code)

    def wrong_choice_type(self, choices: tuple[ElementRule, ...], key: str, location: str) -> None:
        for rule in choices:
            stem = rule.name[:-3]
            if key.startswith(stem) and key[len(stem) : len(stem) + 1].isupper():
                found = key[len(stem) :]
                found = (
                    found[:1].lower() + found[1:]
                    if found[:1].lower() + found[1:] in PRIMITIVE_TYPES
                    else found
                )
                allowed = ", ".join(rule.type_codes)
                if rule.path.startswith("Extension."):
                    message = (
                        f"The Extension '{self.profile.url}' definition allows for the types "
                        f"[{allowed}] but found type {found}"
                    )
                else:
                    message = f"{rule.id}: type {found} is not allowed here (allowed: {allowed})"
                self.report(
                    location,
                    message,
                    code="structure",
                    rule=f"type:{rule.id}{self.suffix}",
                    hint=f"use {stem}{rule.type_codes[0][:1].upper()}{rule.type_codes[0][1:]}"
                    if rule.type_codes
                    else None,
                )
                return

    def cardinality(self, rule: ElementRule, count: int, location: str) -> None:
        if count < rule.min:
            self.report(
                location,
                f"{rule.id}: minimum required = {rule.min}, but only found {count} "
                f"(from {self.profile.label})",
                code="required",
                rule=f"min:{rule.id}{self.suffix}",
                hint=f"add {rule.id.rpartition('.')[2]}",
            )
        self.too_many(rule, count, location)

    def too_many(self, rule: ElementRule, count: int, location: str) -> None:
        """More than the element (or slice) allows."""
        if rule.max is not None and count > rule.max:
            self.report(
                location,
                f"{rule.id}: max allowed = {rule.max}, but found {count} "
                f"(from {self.profile.label})",
                code="structure",
                rule=f"max:{rule.id}{self.suffix}",
            )

    def slicing(self, rule: ElementRule, items: list[_Item], location: str) -> None:
        assigned: list[list[_Item]] = [[] for _ in rule.slices]
        undecidable: set[int] = set()
        unmatched: list[_Item] = []
        for item in items:
            for index, slice_ in enumerate(rule.slices):
                verdict = self.in_slice(rule, slice_, item)
                if verdict is None:
                    undecidable.add(index)
                elif verdict:
                    assigned[index].append(item)
                    break
            else:
                unmatched.append(item)
        for index, slice_ in enumerate(rule.slices):
            count = len(assigned[index])
            if count < slice_.min and index not in undecidable:
                if self.slice_undecidable(rule, slice_):
                    continue
                message = (
                    f"Slice '{slice_.id}': a matching slice is required, but not found "
                    f"(from {self.profile.label})"
                    if count == 0
                    else f"{slice_.id}: minimum required = {slice_.min}, but only found {count} "
                    f"(from {self.profile.label})"
                )
                self.report(
                    location,
                    message,
                    code="required",
                    rule=f"min:{slice_.id}{self.suffix}",
                    hint=f"add a {rule.name} that matches the slice {slice_.slice_name}",
                )
            self.too_many(slice_, count, location)
            for item in assigned[index]:
                self.element(slice_, item.value, item.location, item.type_code)
        for item in unmatched:
            if rule.slicing_closed and not undecidable:
                self.report(
                    item.location,
                    f"This element does not match any known slice defined in the profile "
                    f"{self.profile.label} (slicing of {rule.id} is closed)",
                    code="structure",
                    rule=f"closed:{rule.id}{self.suffix}",
                )
            else:
                self.element(rule, item.value, item.location, item.type_code)

    def slice_undecidable(self, rule: ElementRule, slice_: ElementRule) -> bool:
        """Whether membership of this slice cannot be decided from local content."""
        return not rule.discriminators or any(
            self.discriminator_test(d, slice_) is None for d in rule.discriminators
        )

    def in_slice(self, rule: ElementRule, slice_: ElementRule, item: _Item) -> bool | None:
        """Whether an item belongs to a slice; None when the discriminators cannot tell."""
        if not rule.discriminators:
            return None
        for discriminator in rule.discriminators:
            test = self.discriminator_test(discriminator, slice_)
            verdict = None if test is None else test(item)
            if verdict is None:
                return None
            if not verdict:
                return False
        return True

    def discriminator_test(
        self, discriminator: Discriminator, slice_: ElementRule
    ) -> Callable[[_Item], bool | None] | None:
        """A test of one discriminator for one slice; None when it cannot be decided locally
        (the test itself gives None for an item it cannot judge)."""
        path = discriminator.path
        if discriminator.type == "type":
            if path == "$this":
                codes = slice_.type_codes
                return lambda item: item.type_code in codes
            target = _descendant(slice_, path)
            if target is None or not target.types or set(target.type_codes) & _RESOURCE_TYPES:
                return None
            expected = set(target.type_codes)
            # Below an element, a type discriminator tells resources apart (Bundle.entry.resource).
            return lambda item: any(
                isinstance(v, dict) and v.get("resourceType") in expected
                for v in _follow(item.value, path)
            )
        if discriminator.type == "profile" and path in ("resolve()", "$this.resolve()"):
            wanted = [self.store.profile(url) for t in slice_.types for url in t.target_profiles]
            profiles = [profile for profile in wanted if profile is not None]
            return (lambda item: self.refers_to(item.value, profiles)) if profiles else None
        if discriminator.type not in ("value", "pattern"):
            return None  # exists and other profile discriminators are not decided here
        expectation = self.discriminator_expectation(path, slice_)
        if expectation is None:
            return None
        return lambda item: any(expectation(v) for v in _follow(item.value, path))

    def refers_to(self, value: Any, profiles: list[Profile]) -> bool | None:
        """Whether a reference points at a resource that conforms to one of the profiles."""
        reference = value.get("reference") if isinstance(value, dict) else None
        matches = self.resolve(reference) if isinstance(reference, str) else []
        if not matches:
            return None  # the target is not here to look at: the slice is not judged
        return any(
            target.get("resourceType") == profile.type
            and (profile.is_base or self.run.conforms(target, target_location, profile))
            for target, target_location in matches
            for profile in profiles
        )

    def resolve(self, reference: str) -> list[tuple[dict[str, Any], str]]:
        """The resources a reference points at: contained (``#id``) or in the Bundle."""
        if reference.startswith("#"):
            return _contained(self.root, reference[1:])
        return self.run.resolver(reference) if self.run.resolver is not None else []

    def discriminator_expectation(
        self, path: str, slice_: ElementRule
    ) -> Callable[[Any], bool] | None:
        """A test for the value at a value/pattern discriminator path, from the slice's
        fixed value, pattern, extension URL or required binding; None when it has none."""
        if path == "url" and "Extension" in slice_.type_codes:
            profiles = [p for t in slice_.types for p in t.profiles]
            if profiles:
                wanted = profiles[0].partition("|")[0]
                return lambda value: value == wanted
        target = _descendant(slice_, path)
        if target is None:
            return None
        if target.fixed is not None:
            fixed = target.fixed
            return lambda value: value == fixed
        if target.pattern is not None:
            pattern = target.pattern
            return lambda value: _matches_pattern(value, pattern)
        if target.binding is not None:
            expansion = self.store.expansion(target.binding)
            if expansion is not None and expansion.codes is not None:
                known = expansion
                return lambda value: any(known.contains(s, c) for s, c in _codes_of(value))
        return None

    # -- values: invariants, bindings, codes, references ---------------------------------------

    def invariants(
        self, invariants: tuple[Invariant, ...], value: Any, location: str, element_path: str
    ) -> None:
        stats = self.run.checker.stats
        for invariant in invariants:
            if invariant.key in _CONTAINED_ONLY and not (
                isinstance(value, dict) and value.get("contained")
            ):
                continue
            skip_key = (invariant.key, invariant.source)
            native = native_invariant(invariant.expression)
            if native is not None:
                result: bool | None = native(value, self.root)
            elif skip_key in stats.invariants_skipped:
                continue
            else:
                tree = self.store.fhirpath_tree(invariant.expression)
                result = (
                    None
                    if tree is None
                    else evaluate_invariant(tree, value, element_path, self.resource, self.root)
                )
            if result is None:
                # Not evaluable by fhirpathpy (htmlChecks(), ...): skipped from now on, counted.
                stats.invariants_skipped.add(skip_key)
                continue
            stats.invariants_evaluated += 1
            if not result:
                base = (
                    invariant.source.startswith(CORE_PREFIX)
                    and invariant.source[len(CORE_PREFIX) : len(CORE_PREFIX) + 1].isupper()
                )
                self.report(
                    location,
                    f"Constraint failed: {invariant.key}: '{invariant.human}' "
                    f"(defined in {invariant.source})",
                    code="invariant",
                    rule=invariant.key if base else f"{invariant.key}@{invariant.source}",
                    hint=f"make {invariant.expression} true",
                )

    def binding(
        self, rule: ElementRule, value_set: str, value: Any, location: str, type_code: str
    ) -> None:
        expansion = self.store.expansion(value_set)
        if expansion is None:
            return
        if isinstance(value, str):
            codes: set[tuple[str | None, str]] = {(None, value)}
        elif isinstance(value, dict) and not (type_code == "Quantity" and "system" not in value):
            codes = _codes_of(value)
        else:
            return  # a Quantity without a system: qty-3 and the cardinality rules say so
        verdicts = {expansion.contains(system, code) for system, code in codes}
        if not codes or True in verdicts or None in verdicts:
            return
        shown = ", ".join(
            sorted(code if system is None else f"{system}#{code}" for system, code in codes)
        )
        hint = f"use a code from {value_set}"
        if expansion.codes is None and expansion.systems:
            hint += f" (it holds codes of {', '.join(sorted(expansion.systems))} only)"
        self.report(
            location,
            f"The value provided ({shown}) was not found in the value set '{expansion.name}' "
            f"({value_set}), and a code is required from this value set",
            code="code-invalid",
            rule=f"binding:{rule.id}{self.suffix}",
            hint=hint,
        )

    def known_code(self, value: dict[str, Any], location: str) -> None:
        system, code = value.get("system"), value.get("code")
        if not isinstance(system, str) or not isinstance(code, str):
            return
        codes = self.store.code_system(system)
        if codes is not None and code not in codes.parents:
            self.report(
                f"{location}.code",
                f"Unknown code '{code}' in the CodeSystem '{system}'",
                code="code-invalid",
                rule=f"code:{system}",
                hint=f"use a code defined by {system}",
            )

    def reference(self, rule: ElementRule, value: dict[str, Any], location: str) -> None:
        reference = value.get("reference")
        targets = self.run.checker.reference_targets(rule)
        if not isinstance(reference, str) or targets is None:
            return
        types, allowed = targets
        matches = self.resolve(reference)
        # Only references that resolve are checked: a relative reference to a server the
        # validator cannot see is not judged by its text (as the HL7 validator does).
        for target, target_location in matches:
            found = str(target.get("resourceType"))
            if found not in types:
                self.wrong_target(found, types, location)
                continue
            choices = [p for t, p in allowed if t == found]
            if any(p.is_base for p in choices):
                continue
            if not any(self.run.conforms(target, target_location, p) for p in choices):
                self.report(
                    location,
                    f"Unable to find a profile match for {reference} among choices: "
                    + ", ".join(p.url for p in choices),
                    code="structure",
                    rule=f"target:{rule.id}{self.suffix}",
                    hint=f"make {target_location} conform to "
                    + " or ".join(p.url for p in choices),
                )

    def wrong_target(self, found: str, types: list[str], location: str) -> None:
        self.report(
            location,
            f"Invalid Resource target type. Found {found}, "
            f"but expected one of ([{', '.join(types)}])",
            code="structure",
            rule=f"target-type:{found}{self.suffix}",
            hint=f"refer to a {' or '.join(types)}",
        )


def _count(content: Any) -> int:
    """How many values a JSON property holds (the items of an array that are not null)."""
    if isinstance(content, list):
        return len(content) - content.count(None)
    return 0 if content is None else 1


def _located(content: Any, location: str) -> list[tuple[Any, str]]:
    """The values of a JSON property (each item of an array) with their locations."""
    if isinstance(content, list):
        return [(item, f"{location}[{i}]") for i, item in enumerate(content) if item is not None]
    return [] if content is None else [(content, location)]


def _valid_date(value: Any) -> bool:
    match = _DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return False
    if match["d"]:
        try:
            datetime.date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            return False
    return not match["m"] or 1 <= int(match["m"]) <= 12


def _descendant(rule: ElementRule, path: str) -> ElementRule | None:
    """The element at a dotted path below a rule (``$this``: the rule itself)."""
    target: ElementRule | None = rule
    if path != "$this":
        for step in path.split("."):
            target = target.children.get(step) if target is not None else None
    return target


def _contained(root: Any, id_: str) -> list[tuple[dict[str, Any], str]]:
    """The contained resource with this id (``#id`` references), described for messages."""
    contained = root.get("contained") if isinstance(root, dict) else None
    return [
        (resource, f"the contained resource #{id_}")
        for resource in (contained if isinstance(contained, list) else ())
        if isinstance(resource, dict) and resource.get("id") == id_
    ]


def _valid_canonical(value: Any) -> bool:
    return not isinstance(value, str) or value.startswith("#") or ":" in value.partition("|")[0]


def _follow(value: Any, path: str) -> Iterator[Any]:
    if path == "$this":
        yield value
        return
    current = [value]
    for step in path.split("."):
        following: list[Any] = []
        for item in current:
            child = item.get(step) if isinstance(item, dict) else None
            if isinstance(child, list):
                following.extend(child)
            elif child is not None:
                following.append(child)
        current = following
    yield from current


def _matches_pattern(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            _matches_pattern(value.get(key), part) for key, part in pattern.items()
        )
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else []
        return all(any(_matches_pattern(item, part) for item in items) for part in pattern)
    return bool(value == pattern)


def _codes_of(value: Any) -> set[tuple[str | None, str]]:
    """(system, code) pairs of a Coding, CodeableConcept or Quantity (system None if absent)."""
    if not isinstance(value, dict):
        return set()
    codings = value.get("coding") if "coding" in value else [value]
    return {
        (c["system"] if isinstance(c.get("system"), str) else None, str(c["code"]))
        for c in (codings if isinstance(codings, list) else [])
        if isinstance(c, dict) and isinstance(c.get("code"), str)
    }


def _find_by_id(rule: ElementRule, element_id: str) -> ElementRule | None:
    if rule.id == element_id:
        return rule
    for child in rule.children.values():
        if element_id.startswith(child.id):
            found = _find_by_id(child, element_id)
            if found is not None:
                return found
    return None


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if not isinstance(value, str) else f"'{value}'"


def _unknown_profile(url: str, location: str) -> Issue:
    return Issue(
        location,
        "error",
        LAYER,
        f"Profile {url} is not in the loaded FHIR packages, so the resource was not checked "
        "against it",
        "install the package that defines it (fhir-case packages install NAME#VERSION) "
        "and name it with --package",
        "not-found",
        f"unknown-profile:{url}",
    )


def _unique(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for issue in issues:
        key = (issue.location, issue.rule or issue.message)
        if key not in seen:
            seen.add(key)
            unique.append(issue)
    return unique
