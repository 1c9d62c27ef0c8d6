"""Each layer of fhir-case on small resources: what it reports, where, and with what fix."""

from __future__ import annotations

import copy
import gc
from pathlib import Path
from typing import Any

from fhir_case.terminology.register import load_register
from fhir_case.validation import Validator, validate
from fhir_case.validation.bundle import check_bundle
from fhir_case.validation.issues import Issue
from fhir_case.validation.locations import fhirpath
from fhir_case.validation.structure import check_structure
from fhir_case.validation.terminology import check_terminology
from tests.validation.corpus import BROKEN, load

ROOT = Path(__file__).parents[2]
BUNDLE_KINDS = ("transaction", "collection", "document")

VALID = load(BROKEN / "_valid.json")


def where(issues: list[Issue]) -> list[tuple[str, str]]:
    return [(issue.location, issue.message) for issue in issues]


def observation(**elements: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "tumor size"},
        **elements,
    }


# -- locations -------------------------------------------------------------------------------


def test_locations_write_choice_types_and_indices() -> None:
    resource = observation(
        valueQuantity={"value": 1},
        component=[{"code": {"text": "a"}, "valueCodeableConcept": {"coding": [{"code": "x"}]}}],
    )
    assert fhirpath("Observation", resource, ["valueQuantity", "value"]) == (
        "Observation.value.ofType(Quantity).value"
    )
    assert fhirpath(
        "Observation", resource, ["component", 0, "valueCodeableConcept", "coding", 0]
    ) == ("Observation.component[0].value.ofType(CodeableConcept).coding[0]")
    assert fhirpath("Observation", resource, ["_effectiveDateTime"]) == (
        "Observation.effective.ofType(dateTime)"
    )


def test_a_non_choice_element_ending_in_a_type_name_stays_as_it_is() -> None:
    immunization = {"resourceType": "Immunization", "doseQuantity": {"value": 1}}
    assert fhirpath("Immunization", immunization, ["doseQuantity"]) == "Immunization.doseQuantity"
    assert fhirpath("Observation", observation(), ["referenceRange", 0, "low"]) == (
        "Observation.referenceRange[0].low"
    )


# -- structure -------------------------------------------------------------------------------


def test_structure_of_a_lone_resource_is_located_from_its_type() -> None:
    issues = check_structure(
        observation(effectiveDateTime="2023-02-30", issued="2023"), "Observation"
    )
    assert where(issues) == [
        (
            "Observation.effective.ofType(dateTime)",
            "Not a valid date/time format: '2023-02-30'",
        ),
        ("Observation.issued", "Not a valid instant format: '2023'"),
    ]


def test_empty_content_is_an_error_but_nulls_in_primitive_arrays_are_not() -> None:
    patient = {
        "resourceType": "Patient",
        "name": [{"given": ["Jane", None], "_given": [None, {"extension": []}]}],
        "telecom": [],
        "gender": "",
    }
    assert where(check_structure(patient, "Patient")) == [
        ("Patient.name[0].given[1].extension", "Array cannot be empty"),
        ("Patient.telecom", "Array cannot be empty"),
        ("Patient.gender", "@value cannot be empty"),
    ]


def test_a_flawed_string_is_an_error_in_a_resource_without_empty_content() -> None:
    """The models accept control characters and over-long strings: the structure layer's own
    checks must run even where the quick model check sees nothing else wrong."""
    patient = {"resourceType": "Patient", "name": [{"family": "A\u0001B"}]}
    assert [(i.location, i.severity) for i in check_structure(patient, "Patient")] == [
        ("Patient.name[0].family", "error")
    ]
    long_text = {"resourceType": "Patient", "name": [{"text": "x" * (1024 * 1024 + 1)}]}
    issues = check_structure(long_text, "Patient")
    assert [i.location for i in issues] == ["Patient.name[0].text"]
    assert "1048577 characters" in issues[0].message
    # A flawed string hides no other error at its place, and a contained resource has its own.
    odd = {
        "resourceType": "Patient",
        "active": "tr\u0001ue",
        "contained": [{"resourceType": "Organization", "name": "A\u0002"}],
    }
    found = check_structure(odd, "Patient")
    assert [i.location for i in found] == [
        "Patient.active",
        "Patient.active",
        "Patient.contained[0].name",
    ]
    assert "U+0001" in found[0].message and "not true or false" in found[1].message
    assert "U+0002" in found[2].message
    # A resource nested elsewhere than contained or an entry is walked with its holder.
    parameters = {
        "resourceType": "Parameters",
        "parameter": [{"name": "p", "resource": {"resourceType": "Patient", "gender": ""}}],
    }
    assert where(check_structure(parameters, "Parameters")) == [
        ("Parameters.parameter[0].resource.gender", "@value cannot be empty")
    ]
    narrative = {"resourceType": "Basic", "code": {"text": "x"}}
    narrative["text"] = {"status": "generated", "div": "<div>\u0001</div>"}
    assert check_structure(narrative, "Basic") == []  # XHTML is not a FHIR string


def test_missing_required_choice_and_unknown_type() -> None:
    request = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/1"},
    }
    assert where(check_structure(request, "MedicationRequest")) == [
        (
            "MedicationRequest",
            "MedicationRequest.medication[x]: minimum required = 1, but only found 0",
        )
    ]
    assert where(check_structure({"resourceType": "Patients"}, "Patients")) == [
        ("Patients", "unknown resourceType 'Patients'")
    ]


# -- bundle ----------------------------------------------------------------------------------


def test_references_may_be_absolute_or_conditional_but_must_resolve_otherwise() -> None:
    bundle = copy.deepcopy(VALID)
    condition = bundle["entry"][1]["resource"]
    condition["asserter"] = {"reference": "https://hospital.example/fhir/Practitioner/7"}
    condition["recorder"] = {"reference": "Practitioner?identifier=http://hospital.example|7"}
    condition["evidence"] = [{"detail": [{"reference": "Observation/nope"}]}]
    assert where(check_bundle(bundle)) == [
        (
            "Bundle.entry[1].resource.evidence[0].detail[0]",
            "The reference Observation/nope does not resolve to any entry of the bundle",
        )
    ]


def test_a_relative_reference_resolves_by_type_and_id() -> None:
    bundle = copy.deepcopy(VALID)
    patient_id = bundle["entry"][0]["resource"]["id"]
    bundle["entry"][1]["resource"]["subject"] = {"reference": f"Patient/{patient_id}"}
    assert check_bundle(bundle) == []


def test_document_invariants() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "document",
        "entry": [copy.deepcopy(VALID["entry"][0])],
    }
    del bundle["entry"][0]["request"]
    assert [issue.rule for issue in check_bundle(bundle)] == ["bdl-9", "bdl-10", "bdl-11"]


def test_a_get_with_a_resource_is_a_warning() -> None:
    bundle = copy.deepcopy(VALID)
    bundle["entry"][0]["request"] = {"method": "GET", "url": "Patient?name=Doe"}
    issues = check_bundle(bundle)
    assert [(i.severity, i.location) for i in issues] == [("warning", "Bundle.entry[0].request")]


# -- terminology -----------------------------------------------------------------------------


def test_register_findings_are_graded() -> None:
    register = load_register()
    condition = {
        "resourceType": "Condition",
        "code": {
            "coding": [
                {"system": "http://snomed.info/sct", "code": "404037002", "display": "MPNST"},
                {"system": "http://snomed.info/sct", "code": "10601006"},
                {"system": "http://snomed.info/sct", "code": "254637007"},
                {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C479"},
            ]
        },
    }
    issues = check_terminology(condition, "Condition", register)
    assert [(i.severity, i.location) for i in issues] == [
        ("warning", "Condition.code.coding[0].display"),
        ("information", "Condition.code.coding[1].code"),
        ("warning", "Condition.code.coding[2].code"),
        ("error", "Condition.code.coding[3].code"),
    ]
    assert "SNOMED CT code 254637007 is not in the fhir-case code register" in issues[2].message
    assert issues[0].hint == "use the display 'Malignant peripheral nerve sheath tumor (disorder)'"


def test_a_display_without_its_semantic_tag_matches() -> None:
    coding = {
        "system": "http://snomed.info/sct",
        "code": "404037002",
        "display": "malignant peripheral nerve sheath tumor",
    }
    resource = {"resourceType": "Condition", "code": {"coding": [coding]}}
    assert check_terminology(resource, "Condition") == []


def test_a_contact_point_without_value_is_not_a_coding() -> None:
    patient = {"resourceType": "Patient", "telecom": [{"system": "phone"}]}
    assert check_terminology(patient, "Patient") == []


def test_ucum_is_checked_wherever_the_system_is_ucum() -> None:
    resource = observation(
        valueQuantity={
            "value": 3,
            "unit": "cm",
            "system": "http://unitsofmeasure.org",
            "code": "cms",
        },
        referenceRange=[{"low": {"value": 1, "system": "http://unitsofmeasure.org", "code": "cm"}}],
    )
    issues = check_terminology(resource, "Observation")
    assert where(issues) == [
        (
            "Observation.value.ofType(Quantity).code",
            "'cms' is not a valid UCUM unit: 'cms' is not a UCUM unit",
        )
    ]


# -- validate(): one issue per finding, in order ---------------------------------------------


def test_one_finding_from_two_layers_is_reported_once(validator: Validator) -> None:
    condition = copy.deepcopy(VALID["entry"][1]["resource"])
    del condition["subject"]
    issues = [i for i in validator.validate(condition) if i.is_error]
    assert [(i.layer, i.location, i.rule) for i in issues] == [
        ("structure", "Condition", "min:Condition.subject")
    ]


def test_issues_are_in_document_order(validator: Validator) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": []}
    for index in range(12):
        entry = copy.deepcopy(VALID["entry"][4])
        entry.pop("request")
        entry["fullUrl"] = f"urn:uuid:0f4f6a1e-5a8b-5c2e-9d3a-1b2c3d4e5{index:03d}"
        entry["resource"]["valueQuantity"]["code"] = "cms"
        bundle["entry"].append(entry)
    locations = [
        i.location
        for i in validator.validate(bundle)
        if i.layer == "terminology" and i.severity == "warning"
    ]
    assert locations == [
        f"Bundle.entry[{n}].resource.value.ofType(Quantity).code" for n in range(12)
    ]


def test_profiles_false_skips_claimed_profiles_only(fhir_package_cache: Path) -> None:
    patient = {
        "resourceType": "Patient",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
        "gender": "female",
    }
    with_profiles = [i.location for i in validate(patient) if i.is_error]
    without = [i.location for i in validate(patient, profiles=False) if i.is_error]
    assert "Patient" in with_profiles  # us-core-patient requires identifier and name
    assert without == []


def test_validators_that_come_and_go_find_the_same(fhir_package_cache: Path) -> None:
    # The schema layer caches compiled leaf rules by id(): a cache that outlived its
    # validator once gave a new schema object (at a dead one's address) the dead one's rules,
    # and valid names were reported as not being "DiagnosticReport".
    bundles = [load(ROOT / "bundles" / f"mpnst-chen-2024.{kind}.json") for kind in BUNDLE_KINDS]
    for _ in range(3):
        for bundle in bundles:
            validator = Validator()
            assert [i for i in validator.validate(bundle) if i.is_error] == []
            del validator
            gc.collect()


def test_a_bundle_in_an_entry_is_checked_with_its_entries(validator: Validator) -> None:
    inner = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:7d0f3d8e-2a47-4c53-9d0c-2f5c1b9e8a11",
                "resource": {"resourceType": "Patient", "birthDate": "2020-13-01"},
            }
        ],
    }
    outer = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:3e5b0c7a-9f14-4b2d-8c6e-1a2b3c4d5e6f", "resource": inner}],
    }
    locations = {issue.location for issue in validator.validate(outer) if issue.is_error}
    assert "Bundle.entry[0].resource.entry[0].resource.birthDate" in locations


def test_a_value_an_r4b_validator_cannot_read_is_an_issue_not_a_crash() -> None:
    # The R4B URL validators raise AttributeError/TypeError on a number or a list.
    for url in (12, [], [1]):
        issues = check_structure({"resourceType": "Patient", "photo": [{"url": url}]}, "Patient")
        assert any(issue.is_error for issue in issues), url
