"""The FHIR package cache (``~/.fhir/packages``) and installing packages into it.

Layout, shared with the HL7 validator, SUSHI and the Firely tools::

    <cache>/<name>#<version>/package/package.json
    <cache>/<name>#<version>/package/StructureDefinition-....json

``$FHIR_PACKAGE_CACHE`` names another cache folder. By name, a package is downloaded from a
registry (``GET <registry>/<name>/<version>`` returns the ``.tgz``, as packages.fhir.org does),
together with the dependencies its manifest lists.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fhir_case.errors import (
    PackageDownloadError,
    PackageError,
    PackageFormatError,
    PackageNotFoundError,
)
from fhir_case.fileio import replace_dir_atomic
from fhir_case.packages.package import Package, PackageRef

CACHE_ENV = "FHIR_PACKAGE_CACHE"
USER_CACHE_ENV = "FHIR_CASE_CACHE"
DEFAULT_REGISTRY = "https://packages.fhir.org"
_DOWNLOAD_TIMEOUT = 60.0


def default_cache_root() -> Path:
    """The FHIR package cache: ``$FHIR_PACKAGE_CACHE``, else ``~/.fhir/packages``."""
    override = os.environ.get(CACHE_ENV)
    return Path(override).expanduser() if override else Path.home() / ".fhir" / "packages"


def user_cache_dir() -> Path:
    """fhir-case's own cache (compiled rules, unpacked .tgz files).

    ``$FHIR_CASE_CACHE``, else ``$XDG_CACHE_HOME/fhir-case``, else ``~/.cache/fhir-case``.
    """
    override = os.environ.get(USER_CACHE_ENV)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "fhir-case"


def unpack_tgz(data: bytes, target: Path, source: str) -> Package:
    """Unpack a package tarball's ``package/`` folder to ``target``, all or nothing."""

    def unpack(folder: Path) -> None:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            members = [m for m in archive.getmembers() if _inside_package(m.name)]
            archive.extractall(folder, members=members, filter="data")

    try:
        replace_dir_atomic(target, unpack)
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise PackageFormatError(f"{source}: cannot unpack the package: {error}") from error
    except OSError as error:
        raise PackageError(
            f"cannot unpack {source} into {target.parent}: {error}. Fix: make that folder "
            f"writable, or choose another one ({CACHE_ENV} for the package cache, "
            f"{USER_CACHE_ENV} for fhir-case's own cache)"
        ) from error
    return Package.open(target)


@dataclass(frozen=True)
class PackageCache:
    """A package cache folder."""

    root: Path = field(default_factory=default_cache_root)

    def path_of(self, ref: PackageRef) -> Path:
        return self.root / f"{ref.name}#{ref.version}"

    def find(self, ref: PackageRef) -> Package | None:
        folder = self.path_of(ref)
        return Package.open(folder) if (folder / "package" / "package.json").is_file() else None

    def get(self, ref: PackageRef) -> Package:
        """The installed package, or an error that says how to install it."""
        package = self.find(ref)
        if package is None:
            raise PackageNotFoundError(ref, self.root)
        return package

    def resolve(self, name: str, wanted: str) -> Package:
        """The installed package that satisfies a dependency version (exact, or ``1.2.x``)."""
        if not wanted.endswith(".x"):
            return self.get(PackageRef(name, wanted))
        prefix = wanted[:-1]
        versions = [p.ref for p in self.installed() if p.ref.name == name]
        matching = sorted(
            (ref for ref in versions if ref.version.startswith(prefix)),
            key=lambda ref: _version_key(ref.version),
        )
        if not matching:
            raise PackageNotFoundError(PackageRef(name, wanted), self.root)
        return self.get(matching[-1])

    def installed(self) -> list[Package]:
        """Every package in the cache, sorted by name and then version (1.9.0 before 1.10.0)."""
        if not self.root.is_dir():
            return []
        packages = [
            Package.open(folder)
            for folder in self.root.iterdir()
            if "#" in folder.name and (folder / "package" / "package.json").is_file()
        ]
        return sorted(packages, key=lambda p: (p.ref.name, _version_key(p.ref.version)))

    def install_tgz(
        self, data: bytes, source: str, *, replace: bool = False
    ) -> tuple[Package, bool]:
        """Unpack a package tarball into the cache (all or nothing); True if it was unpacked."""
        ref = _manifest_ref(data, source)
        existing = self.find(ref)
        if existing is not None and not replace:
            return existing, False
        return unpack_tgz(data, self.path_of(ref), source), True


@dataclass
class InstallReport:
    """What :func:`install` did."""

    installed: list[PackageRef] = field(default_factory=list)
    already_present: list[PackageRef] = field(default_factory=list)
    missing_dependencies: list[PackageRef] = field(default_factory=list)


def install(
    specs: Sequence[str],
    cache: PackageCache | None = None,
    registry: str | None = DEFAULT_REGISTRY,
    *,
    replace: bool = False,
) -> InstallReport:
    """Install packages given as ``PATH.tgz`` or ``NAME#VERSION`` (downloaded with dependencies).

    Dependencies of a ``.tgz`` are downloaded too when a registry is given; with
    ``registry=None`` they are only reported in ``missing_dependencies``.
    """
    cache = cache or PackageCache()
    report = InstallReport()
    pending: list[PackageRef] = []
    for spec in specs:
        path = Path(spec).expanduser()
        if spec.endswith((".tgz", ".tar.gz")) or path.is_file():
            try:
                data = path.read_bytes()
            except OSError as error:
                raise PackageFormatError(f"{spec}: cannot read the package: {error}") from error
            package = _install_data(cache, data, spec, report, replace)
            pending.extend(_deps(package))
        else:
            try:
                pending.append(PackageRef.parse(spec))
            except ValueError as error:
                raise PackageFormatError(
                    f"{spec}: neither a package file (.tgz) nor NAME#VERSION"
                ) from error
    seen: set[PackageRef] = set()
    named = _named(specs)
    while pending:
        ref = pending.pop(0)
        if ref in seen:
            continue
        seen.add(ref)
        present = cache.find(ref)
        if present is not None and not (replace and ref in named):
            if ref not in report.installed and ref not in report.already_present:
                report.already_present.append(ref)
            pending.extend(_deps(present))
        elif registry is None:
            report.missing_dependencies.append(ref)
        else:
            source = f"{registry}/{ref.name}/{ref.version}"
            downloaded = _install_data(cache, download(ref, registry), source, report, True)
            pending.extend(_deps(downloaded))
    return report


def download(ref: PackageRef, registry: str) -> bytes:
    """Fetch a package tarball from a registry: ``GET <registry>/<name>/<version>``."""
    import requests  # imported here: validating never needs it, and it is slow to import

    url = f"{registry.rstrip('/')}/{ref.name}/{ref.version}"
    try:
        response = requests.get(url, timeout=_DOWNLOAD_TIMEOUT)
    except requests.RequestException as error:
        raise PackageDownloadError(ref, url, f"cannot connect: {error}") from error
    if response.status_code == 404:
        raise PackageDownloadError(ref, url, "the registry does not have this package (HTTP 404)")
    if response.status_code != 200:
        raise PackageDownloadError(ref, url, f"HTTP {response.status_code}")
    if not response.content.startswith(b"\x1f\x8b"):
        raise PackageDownloadError(ref, url, "the response is not a package tarball (.tgz)")
    return response.content


def _install_data(
    cache: PackageCache, data: bytes, source: str, report: InstallReport, replace: bool
) -> Package:
    package, unpacked = cache.install_tgz(data, source, replace=replace)
    done = report.installed if unpacked else report.already_present
    if package.ref not in done:
        done.append(package.ref)
    return package


def _deps(package: Package) -> Iterable[PackageRef]:
    return (PackageRef(name, version) for name, version in sorted(package.dependencies.items()))


def _named(specs: Sequence[str]) -> set[PackageRef]:
    refs = set()
    for spec in specs:
        try:
            refs.add(PackageRef.parse(spec))
        except ValueError:
            continue
    return refs


def _inside_package(name: str) -> bool:
    return name == "package" or name.startswith("package/")


def _manifest_ref(data: bytes, source: str) -> PackageRef:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            member = archive.extractfile("package/package.json")
            manifest = json.load(member) if member else None
    except KeyError as error:
        raise PackageFormatError(
            f"{source}: not a FHIR package (no package/package.json inside)"
        ) from error
    except (tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError, OSError, ValueError) as error:
        raise PackageFormatError(f"{source}: not a readable package tarball: {error}") from error
    if not isinstance(manifest, dict):
        raise PackageFormatError(f"{source}: package/package.json is not a JSON object")
    try:
        return PackageRef(str(manifest["name"]), str(manifest["version"]))
    except KeyError as error:
        raise PackageFormatError(f"{source}: package/package.json has no {error}") from error


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in version.split("."))
