"""The record built from the shipped case: standards, coverage of the article's facts, flags."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from fhir_case.casefile import default_case_file, load_case
from fhir_case.record import build_resource_dicts
from fhir_case.record.models import through_models
from fhir_case.terminology.register import load_register
from tests.helpers import r4_schema_errors

JSON = dict[str, Any]
HL7_SYSTEMS = ("http://terminology.hl7.org/", "http://hl7.org/fhir/")


@cache
def resources() -> tuple[JSON, ...]:
    return tuple(through_models(build_resource_dicts(load_case(default_case_file()))))


def of_type(resource_type: str) -> list[JSON]:
    return [r for r in resources() if r["resourceType"] == resource_type]


def by_text(resource_type: str, text: str) -> JSON:
    matches = [r for r in of_type(resource_type) if text in str(r.get("code", r))]
    assert len(matches) == 1, f"{len(matches)} {resource_type} match {text!r}"
    return matches[0]


def codings(data: object) -> list[JSON]:
    if isinstance(data, dict):
        found = [data] if "system" in data and "code" in data else []
        return found + [c for value in data.values() for c in codings(value)]
    if isinstance(data, list):
        return [c for item in data for c in codings(item)]
    return []


def test_every_resource_validates_against_the_official_r4_schema(shared_dir: Path) -> None:
    schema = shared_dir / "fhir" / "fhir.schema.json"
    errors = {r["id"]: r4_schema_errors(r, schema) for r in resources()}
    assert {rid: e for rid, e in errors.items() if e} == {}


def test_resource_counts() -> None:
    counts = Counter(r["resourceType"] for r in resources())
    assert counts == {
        "Organization": 2, "Patient": 1, "Encounter": 1, "Condition": 9, "BodyStructure": 5,
        "Procedure": 13, "Observation": 29, "DiagnosticReport": 2, "MedicationRequest": 6,
        "ServiceRequest": 1, "DetectedIssue": 5, "Provenance": 1,
    }  # fmt: skip


def test_every_code_outside_hl7_systems_is_in_the_register_with_its_display() -> None:
    register = load_register()
    for coding in codings(list(resources())):
        if coding["system"].startswith(HL7_SYSTEMS) or coding["system"] == "urn:ietf:rfc:3986":
            continue
        if coding["system"] == "http://unitsofmeasure.org":
            continue  # UCUM units are checked by grammar, in the validator
        entry = register.get(coding["system"], coding["code"])
        assert entry is not None, coding
        assert entry.confidence != "unverified", coding
        assert coding.get("display") == entry.display, coding


def test_patient() -> None:
    (patient,) = of_type("Patient")
    assert patient["gender"] == "female"
    assert patient["deceasedBoolean"] is False
    assert patient["meta"]["profile"] == [
        "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-patient"
    ]
    assert patient["identifier"][0]["value"] == f"urn:uuid:{patient['id']}"
    assert "birthDate" not in patient  # not in the source
    age = by_text("Observation", "30525-0")
    assert age["valueQuantity"] == {
        "value": 68, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"
    }  # fmt: skip
    assert age["effectiveDateTime"] == "2023-05-28"


def test_primary_cancer() -> None:
    mpnst = by_text("Condition", "404037002")
    assert mpnst["verificationStatus"]["coding"][0]["code"] == "confirmed"
    histology = [
        e for e in mpnst["extension"] if e["url"].endswith("histology-morphology-behavior")
    ]
    assert histology[0]["valueCodeableConcept"]["coding"][0]["code"] == "9540/3"
    assert mpnst["bodySite"][0]["coding"][0]["code"] == "C80.9"  # unknown primary site
    assert any("primary lesion remains challenging" in n["text"] for n in mpnst["note"])


@pytest.mark.parametrize(
    ("site", "verification"),
    [("11994002", "confirmed"), ("73071006", "provisional"), ("113197003", "confirmed"),
     ("22356005", "confirmed")],
)  # fmt: skip
def test_one_bone_metastasis_per_site(site: str, verification: str) -> None:
    metastases = [
        c for c in of_type("Condition") if c["code"]["coding"][0]["code"] == "94222008"
        and c["bodySite"][0]["coding"][0]["code"] == site
    ]  # fmt: skip
    assert len(metastases) == 1
    (metastasis,) = metastases
    assert metastasis["verificationStatus"]["coding"][0]["code"] == verification
    assert metastasis["evidence"][0]["detail"]
    assert metastasis["meta"]["profile"][0].endswith("mcode-secondary-cancer-condition")


def test_refuted_conditions_have_no_clinical_status() -> None:
    for code in ("94391008", "92824003"):  # lung metastasis, NF1
        condition = by_text("Condition", code)
        assert condition["verificationStatus"]["coding"][0]["code"] == "refuted"
        assert "clinicalStatus" not in condition


def test_symptom_onset_is_marked_approximate() -> None:
    pain = by_text("Condition", "279039007")
    assert pain["onsetDateTime"] == "2023-05-14"
    assert pain["note"][0]["text"].startswith("Approximate date: two weeks before")


def test_biopsies() -> None:
    assert by_text("Procedure", "277591006")["performedDateTime"] == "2023-05-29"
    axilla = by_text("Procedure", "Ultrasound-guided puncture biopsy")
    assert axilla["performedDateTime"] == "2023-06-06"


def test_chemotherapy_dosage_is_structured() -> None:
    cisplatin = by_text("MedicationRequest", "cisplatin")
    dosage = cisplatin["medicationCodeableConcept"] and cisplatin["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"] == {
        "value": 120, "unit": "mg/m2", "system": "http://unitsofmeasure.org", "code": "mg/m2"
    }  # fmt: skip
    assert dosage["timing"]["repeat"] == {
        "boundsPeriod": {"end": "2023-10-18"}, "count": 6, "frequency": 1, "period": 21,
        "periodUnit": "d",
    }  # fmt: skip
    assert "route" not in dosage  # not stated in the source
    assert cisplatin["status"] == "completed"


def test_denosumab_continues_after_chemotherapy() -> None:
    requests = [
        r
        for r in of_type("MedicationRequest")
        if r["medicationCodeableConcept"]["text"] == "denosumab"
    ]
    assert [r["status"] for r in requests] == ["completed", "active"]
    for request in requests:
        dosage = request["dosageInstruction"][0]
        assert dosage["route"]["coding"][0]["code"] == "34206005"
        assert dosage["timing"]["repeat"]["period"] == 4
        assert dosage["timing"]["repeat"]["periodUnit"] == "wk"
    assert requests[1]["priorPrescription"]["reference"] == f"urn:uuid:{requests[0]['id']}"


def test_anlotinib_two_weeks_on_one_week_off_without_invented_code() -> None:
    anlotinib = by_text("MedicationRequest", "anlotinib")
    assert "coding" not in anlotinib["medicationCodeableConcept"]
    dosage = anlotinib["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["rateQuantity"]["code"] == "mg/d"
    repeat = dosage["timing"]["repeat"]
    assert (repeat["duration"], repeat["period"], repeat["periodUnit"]) == (14, 21, "d")


def test_tumor_sizes() -> None:
    sizes = [o for o in of_type("Observation") if "21889-1" in str(o["code"])]
    dimensions = sorted(
        tuple((c["valueQuantity"]["value"], c["valueQuantity"]["unit"]) for c in o["component"])
        for o in sizes
    )
    assert dimensions == [
        ((3.0, "cm"), (2.0, "cm"), (2.2, "cm")), ((5, "cm"), (3, "cm")), ((32, "mm"), (26, "mm"))
    ]  # fmt: skip
    for size in sizes:
        assert size["focus"][0]["reference"].startswith("urn:uuid:")


def test_recist_stable_disease() -> None:
    status = by_text("Observation", "97509-4")
    assert status["effectiveDateTime"] == "2023-10-18"
    assert status["valueCodeableConcept"]["coding"][0]["code"] == "359746009"
    assert "RECIST 1.1" in status["method"]["text"]


@pytest.mark.parametrize(
    ("implicated_text", "detail_words"),
    [("3.0", "3.4 cm"), ("Vitamin D3", "24,000 IU"), ("2024-02-20", "about 2 cm"),
     ("T4", "sparse"), ("MPNST", "primary lesion could not be identified")],
)  # fmt: skip
def test_doubtful_source_values_are_flagged(implicated_text: str, detail_words: str) -> None:
    issues = [i for i in of_type("DetectedIssue") if detail_words in i["detail"]]
    assert len(issues) == 1
    assert "Source: “" in issues[0]["detail"]
    implicated_ids = {ref["reference"].removeprefix("urn:uuid:") for ref in issues[0]["implicated"]}
    implicated = [r for r in resources() if r["id"] in implicated_ids]
    assert implicated and any(implicated_text in str(r) for r in implicated)


def test_provenance_cites_the_article_and_covers_every_resource() -> None:
    (provenance,) = of_type("Provenance")
    assert provenance["entity"][0]["what"]["identifier"]["value"] == "10.3389/fonc.2024.1399021"
    targets = {t["reference"].removeprefix("urn:uuid:") for t in provenance["target"]}
    assert targets == {r["id"] for r in resources() if r["resourceType"] != "Provenance"}


def test_nothing_is_invented_for_silent_facts() -> None:
    text = str(resources())
    assert "birthDate" not in text
    assert "stage" not in {key for r in of_type("Condition") for key in r}
    chemo = by_text("Procedure", "367336001")
    assert chemo["performedPeriod"] == {"end": "2023-10-18"}
