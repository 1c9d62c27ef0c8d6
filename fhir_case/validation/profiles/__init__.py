"""Layer 3, spec-driven rules: StructureDefinition snapshots from FHIR packages, compiled.

What it checks, for the base definition of each resource, every profile in ``meta.profile``
and (as the HL7 validator does in R4) the core vital-signs profile an Observation's LOINC code
calls for: cardinality (also of slices), fixed and pattern values, required bindings (value
sets expanded from the packages; of one that cannot be expanded locally only its code systems
are checked), codes of complete CodeSystems in the packages, invariants of severity error
(compiled existence tests, a few native ones, else fhirpathpy; the ones it cannot evaluate are
skipped and counted in ``Stats``), reference target types and target profiles (for references
that resolve inside the Bundle or to contained resources), slicing by value, pattern, type,
profile and extension-URL discriminators, extensions against their definitions (an HL7-namespace
extension must be defined), and absolute canonicals. Data-type definitions apply below every
element (``qty-3`` on each Quantity, ``Extension.url`` on each extension).

Not here: JSON types and unknown elements (structure layer), primitive formats (structure and
schema layers), empty elements ``ele-1`` (structure layer), Bundle-level rules beyond the
Bundle definition's invariants, terminology outside the packages (terminology layer).

Use::

    context = ProfileContext.load(["hl7.fhir.us.mcode#4.0.0"])   # from the package cache
    issues = check_resource(bundle, "Bundle", context)

A Bundle is checked with its entries (references resolve between them); to check one entry
alone, pass ``resolver=BundleResolver(bundle)``. Locations follow
:mod:`fhir_case.validation.issues`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fhir_case.packages import PackageCache, PackageSet
from fhir_case.validation.issues import Issue
from fhir_case.validation.profiles.check import (
    LAYER,
    BundleResolver,
    ProfileChecker,
    Resolver,
    Stats,
)
from fhir_case.validation.profiles.store import RuleStore

__all__ = [
    "LAYER",
    "BundleResolver",
    "ProfileContext",
    "Resolver",
    "Stats",
    "check_resource",
]


class ProfileContext:
    """The packages, their compiled rules (cached on disk) and the checker, loaded once."""

    def __init__(self, packages: PackageSet, rule_cache: Path | None = None) -> None:
        self.packages = packages
        self.store = RuleStore(packages, rule_cache)
        self.checker = ProfileChecker(self.store)

    @classmethod
    def load(
        cls,
        specs: Iterable[str | Path] = (),
        *,
        cache: PackageCache | None = None,
        rule_cache: Path | None = None,
    ) -> ProfileContext:
        """Load packages (``NAME#VERSION`` from the cache, or a folder or ``.tgz``) plus R4 core.

        Raises :class:`fhir_case.errors.PackageNotFoundError`, naming the install command,
        when a package or a dependency is missing.
        """
        return cls(PackageSet.load(specs, cache), rule_cache)

    @property
    def stats(self) -> Stats:
        return self.checker.stats


def check_resource(
    resource: dict[str, Any],
    location: str,
    context: ProfileContext,
    resolver: Resolver | None = None,
) -> list[Issue]:
    """Check a resource (a Bundle with its entries) against its definitions and profiles."""
    return context.checker.check(resource, location, resolver)
