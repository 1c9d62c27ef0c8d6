"""Layered FHIR R4 validation: each layer turns a resource or Bundle into a list of Issues.

Layers, in the order their findings are kept when two find the same thing:

1. ``structure``: the ``fhir.resources`` R4B models (:mod:`.structure`);
2. ``schema``: the official R4 JSON Schema, per resource type (:mod:`.schema`);
3. ``bundle``: fullUrls, references, transaction requests, bdl invariants (:mod:`.bundle`);
4. ``profile``: StructureDefinition-driven rules of the base types and claimed profiles
   (:mod:`.profiles`);
5. ``terminology``: the code register and UCUM (:mod:`.terminology`).

The schema and profile layers need FHIR packages (R4 core and the packages of claimed
profiles); without them, each says it did not run and how to install what it needs.

Use::

    issues = validate(bundle)                              # packages from the package cache
    issues = validate(bundle, packages=["hl7.fhir.us.mcode#4.0.0"], profiles=True)
    validator = Validator(packages=["./mcode.tgz"])        # load once, validate many

``Validator.validate`` is ``combine(core_issues(data), package_findings(data))``: the layers
built into fhir-case (structure, bundle, terminology) and the layers driven by FHIR packages
(schema, profile), for a caller that computes the two apart (``fhir-case build`` runs them in
two processes). A validator remembers what it found in each resource, by content, so a
resource carried by several Bundles is checked once.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fhir_case.errors import PackageNotFoundError
from fhir_case.validation.issues import LAYERS, NOT_RUN, Issue
from fhir_case.validation.memo import Memo, digest

if TYPE_CHECKING:
    from fhir_case.packages import PackageCache
    from fhir_case.validation.profiles import ProfileContext
    from fhir_case.validation.schema import SchemaValidators

__all__ = ["Issue", "PackageFindings", "Validator", "has_errors", "validate"]

_SEVERITIES = ("fatal", "error", "warning", "information")
_NUMBER = re.compile(r"(\d+)")
ENTRY_MEMO_SIZE = 4096
# What a layer found in one resource, and where that resource was.
Found = tuple[str, list[Issue]]
Check = Callable[[dict[str, Any], str], list[Issue]]


@dataclass(frozen=True)
class PackageFindings:
    """What the layers driven by FHIR packages found, and whether the schema layer ran."""

    issues: list[Issue]
    schema_ran: bool


class Validator:
    """Every layer, with its packages loaded once (lazily) for any number of resources.

    ``packages``: FHIR packages as ``NAME#VERSION`` (from the package cache), ``.tgz`` files
    or folders; None means every package in the package cache. R4 core is always added.
    ``profiles=False`` skips the profiles resources claim in ``meta.profile`` (their base
    definitions are still checked).
    """

    def __init__(
        self,
        packages: Iterable[str | Path] | None = None,
        *,
        profiles: bool = True,
        package_cache: PackageCache | None = None,
        rule_cache: Path | None = None,
    ) -> None:
        self.package_specs = None if packages is None else tuple(packages)
        self.profiles = profiles
        self.package_cache = package_cache
        self.rule_cache = rule_cache
        self._loaded = False
        self._context: ProfileContext | None = None
        self._schemas: SchemaValidators | None = None
        self._package_problem: PackageNotFoundError | None = None
        # Entry resources' own issues by content digest: (where they were found, issues).
        self._core_checked: Memo[Found] = Memo(ENTRY_MEMO_SIZE)
        self._schema_checked: Memo[Found] = Memo(ENTRY_MEMO_SIZE)

    def validate(self, data: dict[str, Any]) -> list[Issue]:
        """Every issue of a resource or Bundle, one per finding, in a stable order."""
        return self.combine(self.core_issues(data), self.package_findings(data))

    def core_issues(self, data: dict[str, Any]) -> list[Issue]:
        """What the layers built into fhir-case find: structure (the R4B models), bundle and
        terminology (the code register, UCUM). They need no FHIR packages.

        With :meth:`package_findings` and :meth:`combine`, the two parts of :meth:`validate`,
        for a caller that computes them apart (in two processes, say).
        """
        from fhir_case.validation.bundle import check_bundle
        from fhir_case.validation.structure import check_structure

        location = _location(data)
        if not _has_type(data):
            return check_structure(data, location)  # nothing else can be checked
        # The resource itself (a Bundle without its entries' resources), then each entry's.
        issues = _own_core_issues(data, location, entries=False)
        for resource, where in _entry_resources(data, location):
            issues += _remembered(self._core_checked, _own_core_issues, resource, where)
        return issues + check_bundle(data)

    def package_findings(self, data: dict[str, Any]) -> PackageFindings:
        """What the layers driven by FHIR packages find: schema (the official R4 JSON Schema)
        and profile (StructureDefinitions). They need no R4B models."""
        if not _has_type(data):
            return PackageFindings([], schema_ran=False)  # the structure layer says what is wrong
        self.load()
        location = _location(data)
        issues = self._own_schema_issues(data, location)
        for resource, where in _entry_resources(data, location):
            issues += _remembered(self._schema_checked, self._own_schema_issues, resource, where)
        if self._schemas is None:
            issues.append(self._did_not_run("schema", location, data))
        issues += self._profile_issues(data, location)
        return PackageFindings(issues, schema_ran=self._schemas is not None)

    @staticmethod
    def combine(core_issues: list[Issue], package: PackageFindings) -> list[Issue]:
        """The issues of one validation from its two parts, one per finding, in a stable order.

        The R4B models lack a few R4 elements and resource types (``Timing.repeat``'s
        ``modifierExtension``, ``Evidence.copyright``, ``EffectEvidenceSynthesis``): which
        elements exist in R4 is the official R4 schema's to say, so an element the models call
        unknown is reported only if the schema layer (when it ran) agrees.
        """
        kept = core_issues
        if package.schema_ran:
            schema = {(i.location, i.rule) for i in package.issues if i.layer == "schema"}
            kept = [
                issue
                for issue in core_issues
                if not (issue.layer == "structure" and (issue.rule or "").startswith("unknown"))
                or (issue.location, issue.rule) in schema
            ]
        return _finish(kept + package.issues)

    def _own_schema_issues(self, resource: dict[str, Any], location: str) -> list[Issue]:
        from fhir_case.validation.schema import check_schema

        return check_schema(resource, location, self._schemas) if self._schemas else []

    def validate_many(
        self, documents: Sequence[dict[str, Any]], jobs: int | None = None
    ) -> list[list[Issue]]:
        """``validate`` for each document, on up to ``jobs`` CPUs (default: all of them)."""
        from fhir_case.validation.batch import validate_all

        self.load()  # once, before the workers start
        return validate_all(self.validate, documents, jobs or os.cpu_count() or 1)

    def load(self) -> None:
        """Load the packages and rules (once); done before forking workers that share them."""
        if self._loaded:
            return
        self._loaded = True
        from fhir_case.packages import R4_CORE
        from fhir_case.packages.cache import user_cache_dir
        from fhir_case.validation.profiles import ProfileContext
        from fhir_case.validation.schema import SLICE_VERSION, SchemaValidators

        try:
            specs = self.package_specs
            if specs is None:
                specs = tuple(installed_package_specs(self.package_cache))
            context = ProfileContext.load(
                specs, cache=self.package_cache, rule_cache=self.rule_cache
            )
            schema_path = context.packages.json_schema_path()
        except PackageNotFoundError as problem:  # a bad package file is the caller's error
            self._package_problem = problem
            return
        core = next(p for p in context.packages.packages if p.ref.name == R4_CORE.name)
        cache_root = self.rule_cache if self.rule_cache is not None else user_cache_dir()
        folder = cache_root / "rules" / f"schema-v{SLICE_VERSION}-{core.fingerprint()[:40]}"
        self._context = context
        self._schemas = SchemaValidators(schema_path, folder)

    def _profile_issues(self, data: dict[str, Any], root: str) -> list[Issue]:
        from fhir_case.validation.profiles import check_resource

        if self._context is None:
            return [self._did_not_run("profile", root, data)]
        checked = data if self.profiles else _without_claimed_profiles(data)
        return check_resource(checked, root, self._context)

    def _did_not_run(self, layer: str, root: str, data: dict[str, Any]) -> Issue:
        from fhir_case.packages import R4_CORE
        from fhir_case.packages.known import packages_for

        problem = self._package_problem
        missing = problem.ref if problem else str(R4_CORE)
        why = f" (needed by {problem.needed_by})" if problem and problem.needed_by else ""
        where = f" in {problem.cache_root}" if problem else ""
        needed = [missing]
        if missing == str(R4_CORE):  # the packages of the claimed profiles bring R4 core along
            needed = packages_for(_claimed_profiles(data)) or needed
        return Issue(
            root,
            "error",
            layer,
            f"The {layer} layer did not run: it needs the FHIR package {missing}{why}, which is "
            f"not installed{where}",
            f"fhir-case packages install {' '.join(needed)}",
            NOT_RUN,
        )


def validate(
    data: dict[str, Any],
    *,
    profiles: bool = True,
    packages: Sequence[str | Path] | None = None,
) -> list[Issue]:
    """Validate a resource or Bundle with every layer (see :class:`Validator`).

    The packages are loaded on the first call and kept for the process (one validator per
    ``packages``/``profiles`` pair); use :class:`Validator` to control that.
    """
    specs = None if packages is None else tuple(str(spec) for spec in packages)
    return _shared_validator(specs, profiles).validate(data)


@cache
def _shared_validator(packages: tuple[str, ...] | None, profiles: bool) -> Validator:
    return Validator(packages, profiles=profiles)


def has_errors(issues: Iterable[Issue]) -> bool:
    return any(issue.is_error for issue in issues)


def installed_package_specs(package_cache: PackageCache | None = None) -> list[str]:
    """``NAME#VERSION`` of every package in the cache, the newest version of each name."""
    from fhir_case.packages import PackageCache

    newest: dict[str, str] = {}
    for package in (package_cache or PackageCache()).installed():
        newest[package.ref.name] = str(package.ref)  # installed() sorts by name and version
    return sorted(newest.values())


def _entry_resources(data: dict[str, Any], root: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Each entry's resource of a Bundle (nothing for another resource), with its location."""
    if data.get("resourceType") == "Bundle" and isinstance(data.get("entry"), list):
        for index, entry in enumerate(data["entry"]):
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                yield entry["resource"], f"{root}.entry[{index}].resource"


def _claimed_profiles(data: dict[str, Any]) -> set[str]:
    """The profiles a resource claims in ``meta.profile``, with those of a Bundle's entries."""
    resources = [data, *(resource for resource, _ in _entry_resources(data, ""))]
    claimed: set[str] = set()
    for resource in resources:
        meta = resource.get("meta")
        profiles = meta.get("profile") if isinstance(meta, dict) else None
        if isinstance(profiles, list):
            claimed |= {url for url in profiles if isinstance(url, str)}
    return claimed


def _without_claimed_profiles(data: dict[str, Any]) -> dict[str, Any]:
    """A copy without ``meta.profile`` (in the resource and in each Bundle entry's resource)."""

    def strip(resource: dict[str, Any]) -> dict[str, Any]:
        meta = resource.get("meta")
        if not isinstance(meta, dict) or "profile" not in meta:
            return resource
        return {**resource, "meta": {k: v for k, v in meta.items() if k != "profile"}}

    stripped = strip(data)
    entries = stripped.get("entry")
    if stripped.get("resourceType") == "Bundle" and isinstance(entries, list):
        stripped = {
            **stripped,
            "entry": [
                {**entry, "resource": strip(entry["resource"])}
                if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)
                else entry
                for entry in entries
            ],
        }
    return stripped


def _location(data: dict[str, Any]) -> str:
    root = data.get("resourceType")
    return root if isinstance(root, str) else "Resource"


def _has_type(data: dict[str, Any]) -> bool:
    return isinstance(data.get("resourceType"), str)


def _own_core_issues(
    resource: dict[str, Any], location: str, *, entries: bool = True
) -> list[Issue]:
    """Structure and terminology issues of one resource; ``entries=False`` leaves a Bundle's
    entry resources to their own calls (a Bundle inside an entry is checked with its entries,
    as the structure layer does)."""
    from fhir_case.validation.structure import check_structure
    from fhir_case.validation.terminology import check_terminology

    issues = check_structure(resource, location, entries=entries)
    return issues + check_terminology(resource, location)


def _remembered(
    memo: Memo[Found], check: Check, resource: dict[str, Any], location: str
) -> list[Issue]:
    """``check(resource, location)``, computed once per distinct resource content."""
    key = digest(resource)
    if key is None:
        return check(resource, location)
    found = memo.get(key)
    if found is None:
        found = (location, check(resource, location))
        memo.put(key, found)
    checked_at, issues = found
    return issues if checked_at == location else _moved(issues, checked_at, location)


def _moved(issues: list[Issue], old: str, new: str) -> list[Issue]:
    """Issues found at ``old`` (a resource's location), located at ``new`` instead."""
    return [
        dataclasses.replace(issue, location=new + issue.location[len(old) :])
        if issue.location.startswith(old)
        else issue
        for issue in issues
    ]


def _finish(issues: list[Issue]) -> list[Issue]:
    """One issue per finding, sorted by location (entry 2 before entry 10), layer, severity."""
    structure_errors = {i.location for i in issues if i.layer == "structure" and i.is_error}
    kept: list[Issue] = []
    seen: set[tuple[str, str]] = set()
    for issue in sorted(issues, key=lambda i: LAYERS.index(i.layer) if i.layer in LAYERS else 99):
        if issue.layer == "schema" and issue.location in structure_errors:
            continue  # the same defect, already reported by the structure layer
        key = (issue.location, issue.rule or f"{issue.layer}:{issue.message}")
        if key in seen:
            continue
        seen.add(key)
        kept.append(issue)
    return sorted(kept, key=_order)


def _order(issue: Issue) -> tuple[Any, ...]:
    natural = tuple(int(part) if part.isdigit() else part for part in _NUMBER.split(issue.location))
    layer = LAYERS.index(issue.layer) if issue.layer in LAYERS else len(LAYERS)
    return (
        [(isinstance(p, int), p) for p in natural],
        layer,
        _SEVERITIES.index(issue.severity),
        issue.message,
        issue.hint or "",
    )
