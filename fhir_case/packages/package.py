"""One FHIR package on disk: its manifest, its index of resources, and reading them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from fhir_case.errors import PackageFormatError

# Package names are lowercase dotted identifiers (hl7.fhir.us.core); versions are semver-like.
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+-]*$")


@dataclass(frozen=True, order=True)
class PackageRef:
    """A package name and version, written ``name#version`` as in the FHIR package cache."""

    name: str
    version: str

    @classmethod
    def parse(cls, text: str) -> PackageRef:
        """Read ``name#version`` (``name@version`` is accepted too, as npm writes it)."""
        name, sep, version = text.replace("@", "#", 1).partition("#")
        if not sep or not _NAME.match(name) or not _VERSION.match(version):
            raise ValueError(f"{text!r} is not a package reference; write NAME#VERSION")
        return cls(name, version)

    def __str__(self) -> str:
        return f"{self.name}#{self.version}"


@dataclass(frozen=True)
class IndexEntry:
    """One resource file of a package, as listed in ``package/.index.json``."""

    filename: str
    resource_type: str
    id: str | None
    url: str | None
    version: str | None
    type: str | None = None  # StructureDefinition.type


@dataclass(frozen=True)
class Package:
    """A package unpacked in a folder whose ``package/`` subfolder holds ``package.json``."""

    root: Path  # the folder that contains package/
    manifest: Mapping[str, Any] = field(repr=False)

    @classmethod
    def open(cls, root: Path) -> Package:
        """Open an unpacked package; ``root`` may be the package folder or its ``package/``."""
        if root.name == "package" and (root / "package.json").is_file():
            root = root.parent
        manifest_path = root / "package" / "package.json"
        if not manifest_path.is_file():
            raise PackageFormatError(
                f"{root} is not a FHIR package: {manifest_path} is missing "
                "(a package folder holds package/package.json)"
            )
        manifest = _read_json(manifest_path)
        for key in ("name", "version"):
            if not isinstance(manifest.get(key), str):
                raise PackageFormatError(f"{manifest_path}: the manifest has no {key!r}")
        return cls(root, manifest)

    @property
    def ref(self) -> PackageRef:
        return PackageRef(str(self.manifest["name"]), str(self.manifest["version"]))

    @property
    def folder(self) -> Path:
        return self.root / "package"

    @property
    def dependencies(self) -> dict[str, str]:
        deps = self.manifest.get("dependencies") or {}
        return {str(name): str(version) for name, version in deps.items()}

    @cached_property
    def index(self) -> tuple[IndexEntry, ...]:
        """The package's resources, from ``.index.json`` or, without one, from the files."""
        index_path = self.folder / ".index.json"
        if index_path.is_file():
            files = _read_json(index_path).get("files", [])
            return tuple(
                IndexEntry(
                    filename=str(entry["filename"]),
                    resource_type=str(entry.get("resourceType", "")),
                    id=entry.get("id"),
                    url=entry.get("url"),
                    version=entry.get("version"),
                    type=entry.get("type"),
                )
                for entry in files
                if "filename" in entry
            )
        return tuple(self._scan())

    def _scan(self) -> Iterator[IndexEntry]:
        for path in sorted(self.folder.glob("*.json")):
            if path.name == "package.json":
                continue
            try:
                data = _read_json(path)
            except PackageFormatError:
                continue
            if isinstance(data.get("resourceType"), str):
                yield IndexEntry(
                    filename=path.name,
                    resource_type=data["resourceType"],
                    id=data.get("id"),
                    url=data.get("url"),
                    version=data.get("version"),
                    type=data.get("type"),
                )

    def read(self, filename: str) -> dict[str, Any]:
        """Read one resource file of the package."""
        return _read_json(self.folder / filename)

    def fingerprint(self) -> str:
        """A hash of the manifest, the resource index and the folder's modification time.

        Installed packages are immutable by convention (as for every FHIR tool); adding,
        removing or renaming files changes the folder time, a new index changes the hash.
        """
        digest = hashlib.sha256(str(self.ref).encode())
        for name in ("package.json", ".index.json"):
            path = self.folder / name
            if path.is_file():
                digest.update(path.read_bytes())
        digest.update(str(self.folder.stat().st_mtime_ns).encode())
        return digest.hexdigest()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as error:
        raise PackageFormatError(f"{path}: cannot read package file: {error}") from error
    if not isinstance(data, dict):
        raise PackageFormatError(f"{path}: expected a JSON object")
    return data
