"""Each kind of rule, on small resources."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fhir_case.validation.issues import Issue
from fhir_case.validation.profiles import BundleResolver, ProfileContext, check_resource

MCODE_PATIENT = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-patient"
MCODE_CONDITION = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-primary-cancer-condition"
US_CORE_WEIGHT = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-body-weight"
BODY_WEIGHT = "http://hl7.org/fhir/StructureDefinition/bodyweight"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def weight(**changes: Any) -> dict[str, Any]:
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-15",
        "valueQuantity": {"value": 68.5, "unit": "kg", "system": UCUM, "code": "kg"},
    }
    observation.update(changes)
    return {key: value for key, value in observation.items() if value is not None}


def patient(**changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "p1",
        "meta": {"profile": [MCODE_PATIENT]},
        "identifier": [{"system": "urn:oid:1.2.3", "value": "1"}],
        "name": [{"family": "Doe", "given": ["Jane"]}],
        "gender": "female",
    }
    resource.update(changes)
    return {key: value for key, value in resource.items() if value is not None}


def errors(resource: dict[str, Any], context: ProfileContext, **kw: Any) -> list[Issue]:
    root = str(resource["resourceType"])
    return [i for i in check_resource(resource, root, context, **kw) if i.is_error]


def where(issues: list[Issue]) -> set[tuple[str, str | None]]:
    return {(i.location, i.rule) for i in issues}


def test_a_valid_resource_has_no_errors(profile_context: ProfileContext) -> None:
    assert errors(weight(), profile_context) == []
    assert errors(patient(), profile_context) == []


def test_cardinality_of_the_base_definition(profile_context: ProfileContext) -> None:
    found = errors({"resourceType": "Condition", "code": {"text": "x"}}, profile_context)
    assert where(found) == {("Condition", "min:Condition.subject")}
    assert "minimum required = 1, but only found 0" in found[0].message


def test_cardinality_of_a_claimed_profile(profile_context: ProfileContext) -> None:
    found = errors(patient(name=None), profile_context)
    assert ("Patient", f"min:Patient.name@{MCODE_PATIENT}") in where(found)


def test_required_binding_on_a_code(profile_context: ProfileContext) -> None:
    found = errors({"resourceType": "Patient", "gender": "woman"}, profile_context)
    assert where(found) == {("Patient.gender", "binding:Patient.gender")}
    assert "administrative-gender" in found[0].message


def test_required_binding_on_a_quantity_code(profile_context: ProfileContext) -> None:
    quantity = {"value": 68.5, "unit": "mg", "system": UCUM, "code": "mg"}
    found = errors(weight(valueQuantity=quantity), profile_context)
    assert {i.location for i in found} == {"Observation.value.ofType(Quantity).code"}


def test_unknown_code_of_a_complete_code_system(profile_context: ProfileContext) -> None:
    condition = {
        "resourceType": "Condition",
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "activ",
                }
            ]
        },
    }
    locations = {i.location for i in errors(condition, profile_context)}
    assert locations == {"Condition.clinicalStatus.coding[0].code", "Condition.clinicalStatus"}


def test_resource_invariant(profile_context: ProfileContext) -> None:
    absent = {"coding": [{"system": "http://x", "code": "y"}]}
    found = errors(weight(dataAbsentReason=absent), profile_context)
    assert ("Observation", "obs-6") in where(found)


def test_data_type_invariant_below_a_choice_element(profile_context: ProfileContext) -> None:
    found = errors(weight(valueQuantity={"value": 1, "unit": "kg", "code": "kg"}), profile_context)
    assert ("Observation.value.ofType(Quantity)", "qty-3") in where(found)
    # The core body weight profile applies by the LOINC code and wants a system too.
    assert any("valueQuantity.system: minimum required" in i.message for i in found)


def test_extension_without_url(profile_context: ProfileContext) -> None:
    resource = {"resourceType": "Patient", "extension": [{"valueString": "x"}]}
    found = errors(resource, profile_context)
    assert ("Patient.extension[0]", "min:Extension.url") in where(found)


def test_extension_value_of_the_wrong_type(profile_context: ProfileContext) -> None:
    birthsex = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"
    found = errors(patient(extension=[{"url": birthsex, "valueString": "F"}]), profile_context)
    assert any(
        i.location == "Patient.extension[0]" and "allows for the types [code]" in i.message
        for i in found
    )


def test_required_slice_missing(profile_context: ProfileContext) -> None:
    found = errors(weight(category=None, meta={"profile": [US_CORE_WEIGHT]}), profile_context)
    messages = [i.message for i in found if i.location == "Observation"]
    assert any(
        "Slice 'Observation.category:VSCat': a matching slice is required" in m for m in messages
    )


def test_slice_max(profile_context: ProfileContext) -> None:
    birthsex = {
        "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
        "valueCode": "F",
    }
    found = errors(patient(extension=[birthsex, birthsex]), profile_context)
    assert any(
        i.location == "Patient"
        and "Patient.extension:birthsex: max allowed = 1, but found 2" in i.message
        for i in found
    )


def test_fixed_value(profile_context: ProfileContext) -> None:
    quantity = {"value": 68.5, "unit": "kg", "system": "http://example.org/units", "code": "kg"}
    found = errors(weight(valueQuantity=quantity), profile_context)
    assert any(
        i.location == "Observation.value.ofType(Quantity).system" and "fixed to" in i.message
        for i in found
    )


def test_pattern_value(profile_context: ProfileContext) -> None:
    code = {"coding": [{"system": LOINC, "code": "3141-9"}]}
    found = errors(weight(code=code, meta={"profile": [US_CORE_WEIGHT]}), profile_context)
    assert any(i.location == "Observation.code" and "pattern" in i.message for i in found)


def test_an_invariant_on_a_primitive_choice_sees_its_type(profile_context: ProfileContext) -> None:
    # vs-1 is ($this as dateTime).toString().length() >= 8 on Observation.effective[x]: FHIRPath
    # must know the value is a dateTime, or "as dateTime" is empty and the invariant holds.
    found = where(errors(weight(effectiveDateTime="2024"), profile_context))
    assert ("Observation.effective.ofType(dateTime)", f"vs-1@{BODY_WEIGHT}") in found
    assert not errors(weight(effectiveDateTime="2024-01-15"), profile_context)


def test_vital_signs_profile_applies_by_code(profile_context: ProfileContext) -> None:
    found = errors(weight(status=None), profile_context)
    sources = {i.rule for i in found if i.location == "Observation"}
    assert sources == {
        "min:Observation.status",
        "min:Observation.status@http://hl7.org/fhir/StructureDefinition/bodyweight",
    }


def test_reference_target_type_inside_a_bundle(profile_context: ProfileContext) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:1", "resource": weight(subject=None)},
            {
                "fullUrl": "urn:uuid:2",
                "resource": {"resourceType": "Condition", "subject": {"reference": "urn:uuid:1"}},
            },
        ],
    }
    found = errors(bundle, profile_context)
    assert any(
        i.location == "Bundle.entry[1].resource.subject"
        and "Found Observation, but expected one of ([Patient, Group])" in i.message
        for i in found
    )


def test_target_profile_must_match(profile_context: ProfileContext) -> None:
    condition = {
        "resourceType": "Condition",
        "meta": {"profile": [MCODE_CONDITION]},
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "254637007"}]},
        "subject": {"reference": "urn:uuid:p"},
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:p", "resource": patient()},
            {"fullUrl": "urn:uuid:c", "resource": condition},
        ],
    }
    assert errors(bundle, profile_context) == []
    broken = copy.deepcopy(bundle)
    del broken["entry"][0]["resource"]["name"]
    found = errors(broken, profile_context)
    assert any(
        i.location == "Bundle.entry[1].resource.subject"
        and i.message.startswith("Unable to find a profile match for urn:uuid:p")
        for i in found
    )
    # Checked alone, an entry resolves its references through a BundleResolver.
    alone = errors(broken["entry"][1]["resource"], profile_context, resolver=BundleResolver(broken))
    assert any(i.location == "Condition.subject" for i in alone)


def test_unknown_profile_is_reported_not_ignored(profile_context: ProfileContext) -> None:
    url = "http://example.org/StructureDefinition/nope"
    found = errors(weight(meta={"profile": [url]}), profile_context)
    assert [(i.location, i.code) for i in found] == [("Observation.meta.profile[0]", "not-found")]
    assert found[0].hint is not None and "fhir-case packages install" in found[0].hint


def test_invariants_fhirpathpy_cannot_evaluate_are_counted(
    profile_context: ProfileContext,
) -> None:
    narrative = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}
    assert errors(patient(text=narrative), profile_context) == []
    assert ("txt-1", "http://hl7.org/fhir/StructureDefinition/Narrative") in (
        profile_context.stats.invariants_skipped
    )
    assert profile_context.stats.invariants_evaluated > 0


def test_rules_come_from_the_cache_in_a_new_context(
    profile_context: ProfileContext, fhir_package_cache: Path
) -> None:
    errors(weight(meta={"profile": [US_CORE_WEIGHT]}), profile_context)
    fresh = ProfileContext.load(["hl7.fhir.us.mcode#4.0.0"])
    assert fresh.store.folder == profile_context.store.folder
    assert fresh.store.folder.is_dir()
    found = errors(weight(meta={"profile": [US_CORE_WEIGHT]}), fresh)
    assert found == []
    assert fresh.store.compiled == 0
    # Another package set has other rules, in another folder.
    assert ProfileContext.load([]).store.folder != fresh.store.folder


@pytest.mark.parametrize("bad", [{"resourceType": "NoSuchType"}, {"no": "type"}])
def test_what_is_not_an_r4_resource_is_left_to_the_structure_layer(
    bad: dict[str, Any], profile_context: ProfileContext
) -> None:
    assert check_resource(bad, "Resource", profile_context) == []


def test_extensions_from_hl7_must_be_defined_others_may_be_unseen(
    profile_context: ProfileContext,
) -> None:
    hl7 = {"url": "http://hl7.org/fhir/StructureDefinition/no-such-extension", "valueString": "x"}
    other = {"url": "http://nema.org/fhir/extensions#0010:1010", "valueString": "x"}
    found = errors({"resourceType": "Patient", "extension": [hl7, other]}, profile_context)
    assert [(i.location, i.message) for i in found] == [
        (
            "Patient.extension[0]",
            "The extension http://hl7.org/fhir/StructureDefinition/no-such-extension "
            "could not be found so is not allowed here",
        )
    ]


def test_extensions_on_primitives_are_checked_at_the_primitive(
    profile_context: ProfileContext,
) -> None:
    resource = {
        "resourceType": "Patient",
        "gender": "female",
        "_gender": {"extension": [{"valueString": "no url"}]},
    }
    found = errors(resource, profile_context)
    assert ("Patient.gender.extension[0]", "min:Extension.url") in where(found)


def test_canonical_references_must_be_absolute(profile_context: ProfileContext) -> None:
    procedure = {
        "resourceType": "Procedure",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "instantiatesCanonical": ["PlanDefinition/KDN5", "http://example.org/PlanDefinition/1"],
    }
    found = errors(procedure, profile_context)
    assert [i.location for i in found] == ["Procedure.instantiatesCanonical[0]"]


def test_a_code_from_the_wrong_system_for_a_value_set_of_snomed_concepts(
    profile_context: ProfileContext,
) -> None:
    # mCODE's evidence types are SNOMED CT is-a filters: not expandable without SNOMED CT, but
    # a LOINC code is certainly not in them. A SNOMED CT code is not judged.
    def condition(system: str, code: str) -> dict[str, Any]:
        return {
            "resourceType": "Condition",
            "meta": {"profile": [MCODE_CONDITION]},
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "problem-list-item",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "254637007"}]},
            "subject": {"reference": "Patient/p1"},
            "evidence": [{"code": [{"coding": [{"system": system, "code": code}]}]}],
        }

    found = errors(condition(LOINC, "1234-5"), profile_context)
    assert [i.location for i in found] == ["Condition.evidence[0].code[0]"]
    assert found[0].hint is not None and "http://snomed.info/sct only" in found[0].hint
    assert errors(condition("http://snomed.info/sct", "363679005"), profile_context) == []


@pytest.mark.parametrize(
    "malformed",
    [
        {"resourceType": "Patient", "name": "Jane Doe", "gender": ["female"]},
        {"resourceType": "Patient", "meta": {"profile": MCODE_PATIENT}, "extension": {"url": 1}},
        {"resourceType": "Patient", "id": ["x"], "contained": "x", "text": []},
        {
            "resourceType": "Observation",
            "code": {"coding": [{"system": "http://loinc.org", "code": ["29463-7"]}]},
        },
        {"resourceType": "Observation", "code": [], "valueQuantity": "68 kg", "status": 1},
        {"resourceType": "Condition", "subject": {"reference": {"ref": "x"}}, "code": None},
        {"resourceType": "Bundle", "entry": [None, 1, {"resource": "x"}, {"fullUrl": []}]},
        {"resourceType": "Bundle", "entry": {"resource": {"resourceType": "Patient"}}},
    ],
)
def test_malformed_json_gives_issues_not_exceptions(
    malformed: dict[str, Any], profile_context: ProfileContext
) -> None:
    # The structure layer reports the JSON types; this layer must still run to the end.
    found = check_resource(malformed, str(malformed["resourceType"]), profile_context)
    assert all(isinstance(issue, Issue) and issue.layer == "profile" for issue in found)


def test_reference_to_a_contained_resource_of_the_wrong_type(
    profile_context: ProfileContext,
) -> None:
    condition = {
        "resourceType": "Condition",
        "contained": [{"resourceType": "Organization", "id": "org", "name": "Clinic"}],
        "subject": {"reference": "#org"},
    }
    found = errors(condition, profile_context)
    assert [(i.location, i.message) for i in found] == [
        (
            "Condition.subject",
            "Invalid Resource target type. Found Organization, but expected one of "
            "([Patient, Group])",
        )
    ]


def test_bundle_entries_sliced_by_resource_type(profile_context: ProfileContext) -> None:
    bundle_profile = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-patient-bundle"
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "meta": {"profile": [bundle_profile]},
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:p", "resource": patient()},
            {"fullUrl": "urn:uuid:w", "resource": weight(subject={"reference": "urn:uuid:p"})},
        ],
    }
    assert errors(bundle, profile_context) == []
    second = {"fullUrl": "urn:uuid:q", "resource": {**patient(), "id": "p2"}}
    found = errors({**bundle, "entry": [*bundle["entry"], second]}, profile_context)
    assert [(i.location, i.message.split(" (from")[0]) for i in found] == [
        ("Bundle", "Bundle.entry:cancerPatient: max allowed = 1, but found 2")
    ]


def test_contained_resources_must_be_referred_to(profile_context: ProfileContext) -> None:
    medication = {"resourceType": "Medication", "id": "med", "code": {"text": "cisplatin"}}
    request: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "contained": [medication],
        "status": "active",
        "intent": "order",
        "medicationReference": {"reference": "#med"},
        "subject": {"reference": "Patient/p1"},
    }
    assert errors(request, profile_context) == []
    orphan = {**request, "medicationReference": {"reference": "Medication/other"}}
    assert where(errors(orphan, profile_context)) == {("MedicationRequest", "dom-3")}


def test_a_rule_cache_that_cannot_be_written_only_costs_time(
    tmp_path: Path, fhir_package_cache: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    context = ProfileContext.load(["hl7.fhir.us.mcode#4.0.0"], rule_cache=blocker)
    found = errors(weight(status=None), context)
    assert ("Observation", "min:Observation.status") in where(found)
    assert context.store.cache_error is not None


def test_slices_by_the_profile_of_the_referenced_resource(
    profile_context: ProfileContext, fhir_package_cache: Path
) -> None:
    examples = fhir_package_cache / "hl7.fhir.us.mcode#4.0.0" / "package" / "example"

    def example(name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((examples / f"Observation-{name}.json").read_text())
        return loaded

    group = example("tnm-pathologic-stage-group-jenny-m")
    members = [example(ref["reference"].removeprefix("Observation/")) for ref in group["hasMember"]]
    extra = {**members[0], "id": "another-primary-tumor-category"}

    def bundle(stage_group: dict[str, Any], observations: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": f"http://example.org/fhir/Observation/{o['id']}", "resource": o}
                for o in [stage_group, *observations]
            ],
        }

    assert errors(bundle(group, members), profile_context) == []
    four = {
        **group,
        "hasMember": [*group["hasMember"], {"reference": f"Observation/{extra['id']}"}],
    }
    found = errors(bundle(four, [*members, extra]), profile_context)
    assert [(i.location, i.message.split(" (from")[0]) for i in found] == [
        (
            "Bundle.entry[0].resource",
            "Observation.hasMember:TNMCategory: max allowed = 3, but found 4",
        )
    ]
