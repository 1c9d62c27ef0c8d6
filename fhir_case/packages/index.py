"""A set of packages with their dependencies, and an index of its resources by canonical URL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from fhir_case.errors import PackageFormatError, PackageNotFoundError
from fhir_case.packages.cache import PackageCache, unpack_tgz, user_cache_dir
from fhir_case.packages.package import Package, PackageRef

R4_CORE = PackageRef("hl7.fhir.r4.core", "4.0.1")
_SCHEMA_FILE = Path("openapi") / "fhir.schema.json"


@dataclass(frozen=True)
class _Located:
    package: Package
    filename: str
    resource_type: str
    version: str | None


class PackageSet:
    """Packages in priority order (the ones asked for first, then their dependencies).

    A canonical URL resolves to the first package that defines it; ``url|version`` picks that
    version when a package has it.
    """

    def __init__(self, packages: Sequence[Package]) -> None:
        self.packages: tuple[Package, ...] = tuple(packages)
        self._resources: dict[tuple[str, str], dict[str, Any]] = {}

    @classmethod
    def load(
        cls,
        specs: Iterable[str | Path] = (),
        cache: PackageCache | None = None,
        *,
        with_core: bool = True,
    ) -> PackageSet:
        """Load packages named ``NAME#VERSION`` (from the cache) or given as a folder or ``.tgz``.

        Their dependencies come from the cache; the R4 core package is always included.
        Raises :class:`PackageNotFoundError` with the install command when one is missing.
        """
        cache = cache or PackageCache()
        ordered: list[Package] = []
        seen: set[PackageRef] = set()
        queue: list[Package] = [_open_spec(spec, cache) for spec in specs]
        while queue:
            package = queue.pop(0)
            if package.ref in seen:
                continue
            seen.add(package.ref)
            ordered.append(package)
            for name, version in sorted(package.dependencies.items()):
                if any(ref.name == name for ref in seen) or any(p.ref.name == name for p in queue):
                    continue
                try:
                    queue.append(cache.resolve(name, version))
                except PackageNotFoundError as error:
                    raise PackageNotFoundError(
                        f"{name}#{version}", cache.root, needed_by=package.ref
                    ) from error
        if with_core and all(ref.name != R4_CORE.name for ref in seen):
            ordered.append(cache.get(R4_CORE))  # it depends on nothing
        # Core definitions last: a profile package never shadows core by accident.
        ordered.sort(key=lambda p: p.ref.name == R4_CORE.name)
        return cls(ordered)

    @property
    def refs(self) -> tuple[PackageRef, ...]:
        return tuple(p.ref for p in self.packages)

    @cached_property
    def fingerprint(self) -> str:
        """A hash of every package's identity and file listing: the key of the rule cache."""
        digest = hashlib.sha256()
        for package in self.packages:
            digest.update(package.fingerprint().encode())
            digest.update(b"\0")
        return digest.hexdigest()

    @cached_property
    def _index(self) -> dict[str, list[_Located]]:
        index: dict[str, list[_Located]] = {}
        for package in self.packages:
            for entry in package.index:
                if entry.url:
                    index.setdefault(entry.url, []).append(
                        _Located(package, entry.filename, entry.resource_type, entry.version)
                    )
        return index

    def resolve(self, canonical: str, resource_type: str | None = None) -> dict[str, Any] | None:
        """The resource with this canonical URL (``url`` or ``url|version``), or None."""
        url, _, version = canonical.partition("|")
        candidates = [
            item
            for item in self._index.get(url, [])
            if resource_type is None or item.resource_type == resource_type
        ]
        if not candidates:
            return None
        chosen = next((c for c in candidates if version and c.version == version), candidates[0])
        key = (str(chosen.package.ref), chosen.filename)
        if key not in self._resources:
            self._resources[key] = chosen.package.read(chosen.filename)
        return self._resources[key]

    def package_of(self, canonical: str) -> Package | None:
        """The package that defines the resource with this canonical URL, or None."""
        url, _, version = canonical.partition("|")
        candidates = self._index.get(url, [])
        chosen = next((c for c in candidates if version and c.version == version), None)
        return (chosen or candidates[0]).package if candidates else None

    def structure_definition(self, canonical: str) -> dict[str, Any] | None:
        return self.resolve(canonical, "StructureDefinition")

    def value_set(self, canonical: str) -> dict[str, Any] | None:
        return self.resolve(canonical, "ValueSet")

    def code_system(self, canonical: str) -> dict[str, Any] | None:
        return self.resolve(canonical, "CodeSystem")

    def json_schema_path(self) -> Path:
        """The official R4 JSON Schema, shipped in the core package as openapi/fhir.schema.json."""
        for package in self.packages:
            if package.ref.name == R4_CORE.name:
                path = package.folder / _SCHEMA_FILE
                if not path.is_file():
                    raise PackageFormatError(
                        f"{package.root}: the R4 core package has no {_SCHEMA_FILE}; "
                        f"reinstall it: fhir-case packages install {R4_CORE} --replace"
                    )
                return path
        raise PackageNotFoundError(R4_CORE, "this package set")


def _open_spec(spec: str | Path, cache: PackageCache) -> Package:
    path = Path(spec).expanduser()
    if path.is_dir():
        return Package.open(path)
    if path.is_file():
        return _unpacked(path)
    text = str(spec)
    if text.endswith((".tgz", ".tar.gz")) or "/" in text:
        raise PackageFormatError(f"{text}: no such package file or folder")
    try:
        ref = PackageRef.parse(text)
    except ValueError as error:
        raise PackageFormatError(str(error)) from error
    return cache.get(ref)


def _unpacked(tgz: Path) -> Package:
    """A ``.tgz`` given explicitly, unpacked once into the user cache (keyed by its hash)."""
    try:
        data = tgz.read_bytes()
    except OSError as error:
        raise PackageFormatError(f"{tgz}: cannot read the package: {error}") from error
    target = user_cache_dir() / "unpacked" / hashlib.sha256(data).hexdigest()[:32]
    if (target / "package" / "package.json").is_file():
        return Package.open(target)
    return unpack_tgz(data, target, str(tgz))
