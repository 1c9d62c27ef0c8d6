"""Compiled rules, loaded on demand and kept in an on-disk cache keyed by the package contents.

Each compiled profile, value set expansion, code list and FHIRPath parse tree is one small
pickle under ``<user cache>/rules/profiles-<key>/``, the key a hash of the package set's
fingerprint and of the compiler's source: a cold process reads only the rules it needs and
never re-parses the packages' JSON. A changed package or compiler gives a new folder; an
unreadable cache file is recompiled.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from fhir_case.fileio import write_atomic
from fhir_case.packages import PackageSet
from fhir_case.packages.cache import user_cache_dir
from fhir_case.validation.profiles import fhirpath, rules, valuesets
from fhir_case.validation.profiles.rules import Profile, compile_profile
from fhir_case.validation.profiles.valuesets import (
    CodeSystemCodes,
    Expansion,
    code_system_codes,
    expand,
)

# The compiled form depends on the compiler's code: a new version of it gets a new cache folder.
_COMPILER_MODULES = (rules, valuesets, fhirpath)
CORE_PREFIX = "http://hl7.org/fhir/StructureDefinition/"

T = TypeVar("T")
_MISSING = object()


class RuleStore:
    """Compiled profiles, expansions and code lists of one package set."""

    def __init__(self, packages: PackageSet, cache_dir: Path | None = None) -> None:
        self.packages = packages
        root = cache_dir if cache_dir is not None else user_cache_dir()
        key = hashlib.sha256(f"{_compiler_fingerprint()}\n{packages.fingerprint}".encode())
        self.folder = root / "rules" / f"profiles-{key.hexdigest()[:40]}"
        self._memo: dict[tuple[str, str], Any] = {}
        # The hottest lookups, without a tuple key.
        self._profiles: dict[str, Profile | None] = {}
        self._core_profiles: dict[str, Profile | None] = {}  # by type name
        self.compiled = 0  # how many items this process had to compile (cache misses)
        self.cache_error: OSError | None = None  # why the cache could not be written, if so

    def profile(self, canonical: str) -> Profile | None:
        """The compiled StructureDefinition with this canonical, or None if no package has it."""
        try:
            return self._profiles[canonical]
        except KeyError:
            profile = self._profiles[canonical] = self._get("sd", canonical, self._compile_profile)
            return profile

    def core_profile(self, type_name: str) -> Profile | None:
        """The base definition of a resource or data type (``Quantity``), or None."""
        try:
            return self._core_profiles[type_name]
        except KeyError:
            profile = self._core_profiles[type_name] = self.profile(CORE_PREFIX + type_name)
            return profile

    def expansion(self, canonical: str) -> Expansion | None:
        """What the packages tell of a value set's codes, or None when no package has it."""
        return self._get("vs", canonical, self._expand)

    def fhirpath_tree(self, expression: str) -> dict[str, Any] | None:
        """The parse tree of an invariant for fhirpathpy (None if it cannot parse it).

        Kept apart from the profiles: most invariants never need it (see ``native_invariant``),
        and one tree serves every profile that repeats the invariant.
        """
        return self._get("fp", expression, fhirpath.parse_invariant)

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
            if self.cache_error is None:
                try:
                    write_atomic(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                except OSError as error:  # a read-only or full disk: validate without caching
                    self.cache_error = error
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


@cache
def _compiler_fingerprint() -> str:
    digest = hashlib.sha256()
    for module in _COMPILER_MODULES:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()
