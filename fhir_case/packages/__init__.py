"""FHIR NPM packages: the standard package cache, loading, installing, and a canonical-URL index.

The validator reads StructureDefinitions, ValueSets and CodeSystems the way the HL7 validator,
SUSHI and the Firely tools do: from FHIR packages in the standard cache
(``~/.fhir/packages/<name>#<version>/package/``, or ``$FHIR_PACKAGE_CACHE``), from a ``.tgz`` or
folder given explicitly, or installed into the cache with :func:`install`.
"""

from fhir_case.packages.cache import (
    DEFAULT_REGISTRY,
    InstallReport,
    PackageCache,
    install,
)
from fhir_case.packages.index import R4_CORE, PackageSet
from fhir_case.packages.package import Package, PackageRef

__all__ = [
    "DEFAULT_REGISTRY",
    "R4_CORE",
    "InstallReport",
    "Package",
    "PackageCache",
    "PackageRef",
    "PackageSet",
    "install",
]
