"""Installing packages into a package cache: from .tgz files and from a registry by name."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from fhir_case.errors import (
    PackageDownloadError,
    PackageError,
    PackageFormatError,
    PackageNotFoundError,
)
from fhir_case.packages import PackageCache, PackageRef, PackageSet, install

US_CORE = PackageRef("hl7.fhir.us.core", "6.1.0")
MCODE = PackageRef("hl7.fhir.us.mcode", "4.0.0")


def test_package_ref_parses_name_and_version() -> None:
    assert PackageRef.parse("hl7.fhir.us.core#6.1.0") == US_CORE
    assert PackageRef.parse("hl7.fhir.us.core@6.1.0") == US_CORE
    assert str(US_CORE) == "hl7.fhir.us.core#6.1.0"
    with pytest.raises(ValueError, match="NAME#VERSION"):
        PackageRef.parse("hl7.fhir.us.core")


def test_install_tgz_uses_the_standard_layout(tmp_path: Path, shared_packages: Path) -> None:
    cache = PackageCache(tmp_path)
    report = install([str(shared_packages / "hl7.fhir.us.core-6.1.0.tgz")], cache, registry=None)
    assert report.installed == [US_CORE]
    # Its dependency is not in this fresh cache and there is no registry to fetch it from.
    assert report.missing_dependencies == [PackageRef("hl7.fhir.r4.core", "4.0.1")]
    manifest = tmp_path / "hl7.fhir.us.core#6.1.0" / "package" / "package.json"
    assert manifest.is_file()
    assert [p.ref for p in cache.installed()] == [US_CORE]
    # No temporary folders are left behind.
    assert sorted(os.listdir(tmp_path)) == ["hl7.fhir.us.core#6.1.0"]

    again = install([str(shared_packages / "hl7.fhir.us.core-6.1.0.tgz")], cache, registry=None)
    assert again.installed == []
    assert US_CORE in again.already_present


def test_install_by_name_downloads_dependencies(
    tmp_path: Path, local_registry: str, fhir_package_cache: Path
) -> None:
    # R4 core is large: link the session's copy so that only the IG packages are downloaded.
    core = "hl7.fhir.r4.core#4.0.1"
    (tmp_path / core).symlink_to(fhir_package_cache / core, target_is_directory=True)
    cache = PackageCache(tmp_path)

    report = install([str(MCODE)], cache, registry=local_registry)

    assert sorted(report.installed) == sorted(
        [MCODE, US_CORE, PackageRef("hl7.fhir.uv.genomics-reporting", "2.0.0")]
    )
    assert PackageRef("hl7.fhir.r4.core", "4.0.1") in report.already_present
    packages = PackageSet.load([str(MCODE)], cache)
    assert packages.refs[0] == MCODE
    assert packages.structure_definition(
        "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-patient"
    )


def test_unknown_package_on_the_registry_is_a_clear_error(
    tmp_path: Path, local_registry: str
) -> None:
    with pytest.raises(PackageDownloadError, match=r"HTTP 404.*fhir-case packages install"):
        install(["hl7.fhir.no.such#1.0.0"], PackageCache(tmp_path), registry=local_registry)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_registry_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PackageDownloadError, match="cannot connect"):
        install([str(US_CORE)], PackageCache(tmp_path), registry="http://127.0.0.1:9")


def test_a_file_that_is_not_a_package_is_refused(tmp_path: Path) -> None:
    not_gzip = tmp_path / "notes.tgz"
    not_gzip.write_text("hello")
    with pytest.raises(PackageFormatError, match=r"notes\.tgz"):
        install([str(not_gzip)], PackageCache(tmp_path / "cache"), registry=None)

    no_manifest = tmp_path / "empty.tgz"
    with tarfile.open(no_manifest, "w:gz") as archive:
        data = b"{}"
        member = tarfile.TarInfo("package/other.json")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    with pytest.raises(PackageFormatError, match=r"no package/package\.json"):
        install([str(no_manifest)], PackageCache(tmp_path / "cache"), registry=None)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_missing_package_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(PackageNotFoundError) as error:
        PackageSet.load(["hl7.fhir.us.mcode#4.0.0"], PackageCache(tmp_path))
    assert "fhir-case packages install hl7.fhir.us.mcode#4.0.0" in str(error.value)


def test_missing_dependency_names_who_needs_it(tmp_path: Path, shared_packages: Path) -> None:
    cache = PackageCache(tmp_path)
    install([str(shared_packages / "hl7.fhir.us.mcode-4.0.0.tgz")], cache, registry=None)
    with pytest.raises(PackageNotFoundError, match=r"needed by hl7\.fhir\.us\.mcode#4\.0\.0"):
        PackageSet.load([str(MCODE)], cache)


def test_installed_packages_sort_by_version_number(tmp_path: Path) -> None:
    for version in ("1.10.0", "1.9.0", "1.9.1"):
        manifest = tmp_path / f"example.pkg#{version}" / "package" / "package.json"
        manifest.parent.mkdir(parents=True)
        manifest.write_text(f'{{"name": "example.pkg", "version": "{version}"}}')
    versions = [p.ref.version for p in PackageCache(tmp_path).installed()]
    assert versions == ["1.9.0", "1.9.1", "1.10.0"]
    assert PackageCache(tmp_path).resolve("example.pkg", "1.9.x").ref.version == "1.9.1"


def test_a_cache_that_cannot_be_written_is_a_clear_error(
    tmp_path: Path, shared_packages: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(PackageError, match="FHIR_PACKAGE_CACHE") as error:
        install(
            [str(shared_packages / "hl7.fhir.us.core-6.1.0.tgz")],
            PackageCache(blocker / "cache"),
            registry=None,
        )
    assert not isinstance(error.value, PackageFormatError)
