"""A package set: dependencies, canonical URL resolution, the JSON schema, explicit packages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_case.errors import PackageFormatError
from fhir_case.packages import R4_CORE, PackageSet

US_CORE_PATIENT = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"


@pytest.fixture(scope="module")
def mcode(fhir_package_cache: Path) -> PackageSet:
    return PackageSet.load(["hl7.fhir.us.mcode#4.0.0"])


def test_dependencies_are_resolved_with_core_last(mcode: PackageSet) -> None:
    assert [str(ref) for ref in mcode.refs] == [
        "hl7.fhir.us.mcode#4.0.0",
        "hl7.fhir.us.core#6.1.0",
        "hl7.fhir.uv.genomics-reporting#2.0.0",
        "hl7.fhir.r4.core#4.0.1",
    ]


def test_canonical_urls_resolve_across_the_set(mcode: PackageSet) -> None:
    patient = mcode.structure_definition(US_CORE_PATIENT)
    assert patient is not None and patient["version"] == "6.1.0"
    assert mcode.structure_definition(US_CORE_PATIENT + "|6.1.0") is patient
    gender = mcode.value_set("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1")
    assert gender is not None and gender["resourceType"] == "ValueSet"
    assert mcode.code_system("http://hl7.org/fhir/administrative-gender") is not None
    assert mcode.structure_definition("http://example.org/StructureDefinition/none") is None
    # A canonical of another resource type is not returned for the wrong type.
    assert mcode.value_set(US_CORE_PATIENT) is None


def test_the_r4_json_schema_comes_from_the_core_package(mcode: PackageSet) -> None:
    path = mcode.json_schema_path()
    assert path.parts[-2:] == ("openapi", "fhir.schema.json")
    assert "Patient" in json.loads(path.read_text())["definitions"]


def test_fingerprint_is_stable_and_depends_on_the_packages(mcode: PackageSet) -> None:
    assert PackageSet.load(["hl7.fhir.us.mcode#4.0.0"]).fingerprint == mcode.fingerprint
    assert PackageSet.load([]).fingerprint != mcode.fingerprint


def test_explicit_tgz_and_folder(shared_dir: Path, fhir_package_cache: Path) -> None:
    tgz = shared_dir / "fhir" / "packages" / "hl7.fhir.us.core-6.1.0.tgz"
    from_tgz = PackageSet.load([tgz])
    assert [str(r) for r in from_tgz.refs] == ["hl7.fhir.us.core#6.1.0", str(R4_CORE)]
    folder = fhir_package_cache / "hl7.fhir.us.core#6.1.0"
    from_folder = PackageSet.load([folder / "package"])
    assert from_folder.structure_definition(US_CORE_PATIENT) is not None


def test_a_missing_path_is_reported(tmp_path: Path, fhir_package_cache: Path) -> None:
    with pytest.raises(PackageFormatError, match="no such package file"):
        PackageSet.load([str(tmp_path / "missing.tgz")])
