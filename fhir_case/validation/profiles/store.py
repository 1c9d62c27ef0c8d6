"""Compiled rules, loaded on demand and kept in an on-disk cache keyed by the package contents.

Each compiled profile, value set expansion and code list is one small pickle under
``<user cache>/rules/<format>-<package set fingerprint>/``: a cold process reads only the rules
it needs and never re-parses the packages' JSON. A changed package (or a new rule format)
gives a new folder; an unreadable cache file is recompiled.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fhir_case.fileio import write_atomic
from fhir_case.packages import PackageSet
from fhir_case.packages.cache import user_cache_dir
from fhir_case.validation.profiles.rules import Profile, compile_profile
from fhir_case.validation.profiles.valuesets import (
    CodeSystemCodes,
    Expansion,
    code_system_codes,
    expand,
)

# Bump when the compiled classes change: old caches are then ignored.
RULES_FORMAT = "r1"
CORE_PREFIX = "http://hl7.org/fhir/StructureDefinition/"

T = TypeVar("T")
_MISSING = object()


class RuleStore:
    """Compiled profiles, expansions and code lists of one package set."""

    def __init__(self, packages: PackageSet, cache_dir: Path | None = None) -> None:
        self.packages = packages
        root = cache_dir if cache_dir is not None else user_cache_dir()
        self.folder = root / "rules" / f"{RULES_FORMAT}-{packages.fingerprint[:40]}"
        self._memo: dict[tuple[str, str], Any] = {}
        self.compiled = 0  # how many items this process had to compile (cache misses)

    def profile(self, canonical: str) -> Profile | None:
        """The compiled StructureDefinition with this canonical, or None if no package has it."""
        return self._get("sd", canonical, self._compile_profile)

    def core_profile(self, type_name: str) -> Profile | None:
        return self.profile(CORE_PREFIX + type_name)

    def expansion(self, canonical: str) -> Expansion | None:
        """The local expansion of a value set, or None when it cannot be expanded locally."""
        return self._get("vs", canonical, self._expand)

    def code_system(self, url: str) -> CodeSystemCodes | None:
        """The codes of a complete CodeSystem in the packages, or None."""
        return self._get("cs", url, self._code_system)

    def _get(self, kind: str, key: str, build: Callable[[str], T | None]) -> T | None:
        memo_key = (kind, key)
        found = self._memo.get(memo_key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        path = self.folder / kind / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".pickle")
        value: T | None
        try:
            with path.open("rb") as handle:
                value = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            self._memo[memo_key] = None  # a value set that includes itself expands to nothing
            value = build(key)
            self.compiled += 1
            write_atomic(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        self._memo[memo_key] = value
        return value

    def _compile_profile(self, canonical: str) -> Profile | None:
        sd = self.packages.structure_definition(canonical)
        if sd is None or not sd.get("snapshot"):
            return None
        return compile_profile(sd)

    def _expand(self, canonical: str) -> Expansion | None:
        vs = self.packages.value_set(canonical)
        if vs is None:
            return None
        return expand(vs, self.code_system, self.expansion)

    def _code_system(self, url: str) -> CodeSystemCodes | None:
        cs = self.packages.code_system(url)
        return code_system_codes(cs) if cs is not None else None
