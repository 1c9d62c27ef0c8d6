"""The FHIR packages that define the profiles fhir-case's record claims, by canonical URL base.

They tell a user whose package cache lacks them which packages to install: the packages that
define the profiles a resource claims (each brings R4 core with it).
"""

from __future__ import annotations

from collections.abc import Iterable

PROFILE_PACKAGES = {
    "http://hl7.org/fhir/us/mcode/": "hl7.fhir.us.mcode#4.0.0",
    "http://hl7.org/fhir/us/core/": "hl7.fhir.us.core#6.1.0",
}


def packages_for(profiles: Iterable[str]) -> list[str]:
    """The known packages that define these profiles (canonical URLs), sorted; others are not
    known here."""
    return sorted(
        {
            package
            for url in profiles
            for base, package in PROFILE_PACKAGES.items()
            if url.startswith(base)
        }
    )
