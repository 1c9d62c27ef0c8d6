"""The record built from the shipped case: standards, coverage of the article's facts, flags,
and what the article does not state kept apart from what it does (issue 9)."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from fhir_case.casefile import default_case_file, load_case
from fhir_case.record import build_resource_dicts
from fhir_case.record.ids import default_identifier_system
from fhir_case.record.models import through_models
from fhir_case.terminology.register import load_register
from tests.helpers import r4_schema_errors

JSON = dict[str, Any]
HL7_SYSTEMS = ("http://terminology.hl7.org/", "http://hl7.org/fhir/")
DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
RELATIVE_DATE = "http://hl7.org/fhir/StructureDefinition/cqf-relativeDateTime"
DAYS_OF_CYCLE = "http://hl7.org/fhir/StructureDefinition/timing-daysOfCycle"
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"


@cache
def resources() -> tuple[JSON, ...]:
    return tuple(through_models(build_resource_dicts(load_case(default_case_file()))))


def of_type(resource_type: str) -> list[JSON]:
    return [r for r in resources() if r["resourceType"] == resource_type]


def by_text(resource_type: str, text: str) -> JSON:
    matches = [r for r in of_type(resource_type) if text in str(r.get("code", r))]
    assert len(matches) == 1, f"{len(matches)} {resource_type} match {text!r}"
    return matches[0]


def by_key(key: str) -> JSON:
    """The resource made from a case-file fact (its business identifier's value)."""
    (found,) = [r for r in resources() if any(i["value"] == key for i in r.get("identifier", ()))]
    return found


def url_of(key: str) -> str:
    return f"urn:uuid:{by_key(key)['id']}"


def extensions(element: JSON, url: str) -> list[JSON]:
    return [e for e in element.get("extension", ()) if e["url"] == url]


def elements_with(data: object, *keys: str) -> list[JSON]:
    """Every object in ``data``, nested ones included, that has all of ``keys``."""
    if isinstance(data, dict):
        found = [data] if all(key in data for key in keys) else []
        return found + [c for value in data.values() for c in elements_with(value, *keys)]
    if isinstance(data, list):
        return [c for item in data for c in elements_with(item, *keys)]
    return []


def codings(data: object) -> list[JSON]:
    return elements_with(data, "system", "code")


def test_every_resource_validates_against_the_official_r4_schema(shared_dir: Path) -> None:
    schema = shared_dir / "fhir" / "fhir.schema.json"
    errors = {r["id"]: r4_schema_errors(r, schema) for r in resources()}
    assert {rid: e for rid, e in errors.items() if e} == {}


def test_resource_counts() -> None:
    counts = Counter(r["resourceType"] for r in resources())
    assert counts == {
        "Organization": 2, "Patient": 1, "Encounter": 1, "Condition": 9, "BodyStructure": 5,
        "Procedure": 14, "Observation": 33, "DiagnosticReport": 2, "MedicationRequest": 5,
        "RequestGroup": 1, "ServiceRequest": 2, "CarePlan": 2, "DetectedIssue": 10,
        "Provenance": 1,
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
    # alive only as of the article: the dated statement is its own observation (review 9, K8)
    assert not any(key.startswith("deceased") for key in patient)
    assert patient["meta"]["profile"] == [
        "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-patient"
    ]
    assert patient["identifier"] == [
        {"use": "usual", "system": default_identifier_system("mpnst-chen-2024"), "value": "patient"}
    ]
    assert "birthDate" not in patient  # not in the source
    age = by_text("Observation", "30525-0")
    assert age["valueQuantity"] == {
        "value": 68, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"
    }  # fmt: skip
    assert age["effectiveDateTime"] == "2023-05-28"
    assert "category" not in age  # no observation category fits a stated age
    # the survival statement belongs to its own observation, not to the age
    assert not any("10 months" in note["text"] for note in age["note"])


def test_primary_cancer() -> None:
    mpnst = by_text("Condition", "404037002")
    assert mpnst["verificationStatus"]["coding"][0]["code"] == "confirmed"
    histology = [
        e for e in mpnst["extension"] if e["url"].endswith("histology-morphology-behavior")
    ]
    assert histology[0]["valueCodeableConcept"]["coding"][0]["code"] == "9540/3"
    assert mpnst["bodySite"][0]["coding"][0]["code"] == "C80.9"  # unknown primary site
    assert any("primary lesion remains challenging" in n["text"] for n in mpnst["note"])
    assert mpnst["bodySite"][0]["text"].startswith("Primary site not identified")
    assert any("does not assert a peripheral-nerve primary" in n["text"] for n in mpnst["note"])


def test_the_primary_site_flag_implicates_every_part_of_the_site_question() -> None:
    flag = by_key("flag-primary-site")
    implicated = {ref["reference"] for ref in flag["implicated"]}
    keys = ("mpnst", "metastasis-l4", "metastasis-t4", "metastasis-rib", "metastasis-ilium",
            "tumor-axilla", "pathology-axilla-result")  # fmt: skip
    assert implicated == {url_of(key) for key in keys}
    for key in ("metastasis-l4", "metastasis-t4", "metastasis-rib", "metastasis-ilium"):
        notes = " ".join(n["text"] for n in by_key(key)["note"])
        assert "the primary origin of the malignant tumor from bone" in notes, key


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


def test_symptom_onset_is_marked_derived_from_the_presentation() -> None:
    pain = by_text("Condition", "279039007")
    assert pain["onsetDateTime"] == "2023-05-14"
    (mark,) = extensions(pain["_onsetDateTime"], RELATIVE_DATE)
    parts = {part["url"]: part for part in mark["extension"]}
    assert parts["target"]["valueReference"]["reference"] == url_of("presentation")
    assert parts["targetPath"]["valueString"] == "period.start"
    assert parts["relationship"]["valueCode"] == "before-start"
    assert parts["offset"]["valueDuration"]["value"] == 2
    assert parts["offset"]["valueDuration"]["code"] == "wk"
    assert pain["note"][0]["text"].startswith("Approximate date: two weeks before")


def test_biopsies() -> None:
    ilium = by_text("Procedure", "277591006")
    assert ilium["performedDateTime"] == "2023-05-29"
    assert "35891-1" in str(ilium["code"])  # LOINC: CT guidance for biopsy of bone
    axilla = by_text("Procedure", "Ultrasound-guided puncture biopsy")
    assert axilla["performedDateTime"] == "2023-06-06"
    assert "25059-7" in str(axilla["code"])  # LOINC: US guidance for biopsy


@pytest.mark.parametrize(
    ("key", "loinc"),
    [("xray-lumbar", "24972-2"), ("ct-lumbar", "24963-1"), ("ct-chest", "24627-2"),
     ("mri-lumbar", "24968-0"), ("us-axilla", "25061-3"), ("bone-scan", "25031-6"),
     ("ct-lumbar-end-of-chemo", "24963-1"), ("ct-chest-end-of-chemo", "24627-2")],
)  # fmt: skip
def test_imaging_studies_carry_their_loinc_codes(key: str, loinc: str) -> None:
    study = by_key(key)
    assert [c["code"] for c in study["code"]["coding"] if c["system"] == "http://loinc.org"] == [
        loinc
    ]


def test_the_re_examination_ct_names_no_region_the_article_does_not_name() -> None:
    ct = by_key("ct-2024-02-20")
    assert ct["performedDateTime"] == "2024-02-20"
    assert [c["code"] for c in ct["code"]["coding"]] == ["77477000"]
    assert "region not stated" in ct["code"]["text"]
    assert "bodySite" not in ct


def test_work_up_imaging_dates_are_absent_and_placed_after_the_presentation() -> None:
    for key in ("xray-lumbar", "ct-lumbar", "ct-chest", "mri-lumbar", "us-axilla", "bone-scan"):
        study = by_key(key)
        assert "performedDateTime" not in study and "performedString" not in study
        marks = study["_performedDateTime"]["extension"]
        assert marks[0] == {"url": DAR, "valueCode": "unknown"}
        parts = {part["url"]: part for part in marks[1]["extension"]}
        assert parts["relationship"]["valueCode"] == "after-start"
        assert parts["offset"]["valueRange"]["low"]["value"] == 0


def test_pathology_reports_have_a_code_and_category() -> None:
    for key in ("pathology-ilium", "pathology-axilla"):
        report = by_key(key)
        assert report["code"]["coding"][0]["code"] == "22637-3"
        assert report["category"][0]["coding"][0]["code"] == "LAB"


def test_a_coded_morphology_is_an_mcode_histology_result_not_a_narrative() -> None:
    axilla = by_key("pathology-axilla-result")
    assert axilla["meta"]["profile"] == [MCODE + "mcode-histologic-behavior-and-type"]
    assert [c["code"] for c in axilla["code"]["coding"]] == ["31206-6"]
    assert axilla["valueCodeableConcept"]["coding"][0]["code"] == "9540/3"
    (related,) = extensions(axilla, MCODE + "mcode-related-condition")
    assert related["valueReference"]["reference"] == url_of("mpnst")
    # the ilium is a metastatic site: its morphology would be /6, which the register lacks
    ilium = by_key("pathology-ilium-result")
    assert [c["code"] for c in ilium["code"]["coding"]] == ["22637-3"]
    assert "valueString" in ilium and "valueCodeableConcept" not in ilium
    assert "8004/3" not in json.dumps(by_key("pathology-ilium"))


def test_chemotherapy_dosage_is_structured_without_a_planned_count() -> None:
    cisplatin = by_key("cisplatin")
    dosage = cisplatin["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"] == {
        "value": 120, "unit": "mg/m2", "system": "http://unitsofmeasure.org", "code": "mg/m2"
    }  # fmt: skip
    # six cycles were completed, not planned: no count; the end is stated
    assert dosage["timing"]["repeat"] == {
        "boundsPeriod": {"_start": {"extension": [{"url": DAR, "valueCode": "unknown"}]},
                         "end": "2023-10-18"},
        "frequency": 1, "period": 21, "periodUnit": "d",
    }  # fmt: skip
    assert "route" not in dosage  # not stated in the source
    assert cisplatin["status"] == "completed"
    assert any("ifosfamide" in note["text"] for note in cisplatin["note"])


def test_cancer_related_orders_state_their_intent_as_unknown() -> None:
    for request in of_type("MedicationRequest"):
        if "mcode-cancer-related-medication-request" not in str(request["meta"]):
            continue
        (intent,) = extensions(request, MCODE + "mcode-procedure-intent")
        assert intent["valueCodeableConcept"] == {
            "extension": [{"url": DAR, "valueCode": "unknown"}]
        }


def test_the_unnamed_requester_is_absent_not_inferred() -> None:
    requests = of_type("MedicationRequest")
    assert len(requests) == 5
    for request in requests:
        assert request["requester"] == {"extension": [{"url": DAR, "valueCode": "unknown"}]}
        assert not any("Requester" in note["text"] for note in request["note"])


def test_no_order_or_plan_reads_day_1_or_a_best_response() -> None:
    text = json.dumps([r for r in resources() if r["resourceType"] != "Provenance"])
    assert "day 1 " not in text.lower() and "day 1," not in text.lower()
    assert "best response" not in text.lower()
    for key in ("cisplatin", "pld"):
        assert (
            "single-day dose (×1 day), once every 21 days"
            in (by_key(key)["dosageInstruction"][0]["text"])
        )
    description = by_key("regimen-chemotherapy")["description"]
    assert "response on completion (RECIST 1.1" in description


def test_pld_names_its_liposomal_formulation_first() -> None:
    pld = by_key("pld")["medicationCodeableConcept"]
    assert pld["text"].startswith("pegylated liposomal doxorubicin")
    assert [c["code"] for c in pld["coding"]] == ["3639", "80168379AG"]  # not 1790099
    assert any(
        note["text"].startswith("Coded at ingredient level (doxorubicin)")
        for note in by_key("pld")["note"]
    )


def test_anlotinib_status_is_unknown_and_its_rationale_is_flagged() -> None:
    for key in ("anlotinib", "anlotinib/cycles", "regimen-after-chemotherapy"):
        assert by_key(key)["status"] == "unknown", key
    notes = " ".join(n["text"] for n in by_key("anlotinib")["note"])
    assert "the end of the chemotherapy plus anlotinib regimen" in notes
    assert by_key("denosumab")["status"] == "active"  # "was continued"
    flag = by_key("flag-anlotinib-rationale")
    implicated = {ref["reference"] for ref in flag["implicated"]}
    assert implicated == {
        url_of(k) for k in ("anlotinib", "anlotinib/cycles", "regimen-after-chemotherapy")
    }
    assert "enhance chemotherapy sensitization" in flag["detail"]


def test_denosumab_is_one_course_with_no_invented_start_stop_or_restart() -> None:
    (denosumab,) = [
        r
        for r in of_type("MedicationRequest")
        if r["medicationCodeableConcept"]["text"] == "denosumab"
    ]
    assert denosumab["status"] == "active"
    dosage = denosumab["dosageInstruction"][0]
    assert dosage["route"]["coding"][0]["code"] == "34206005"
    assert dosage["timing"]["repeat"] == {
        "boundsPeriod": {"_start": {"extension": [{"url": DAR, "valueCode": "unknown"}]}},
        "frequency": 1, "period": 4, "periodUnit": "wk",
    }  # fmt: skip
    assert "priorPrescription" not in denosumab
    based_on = {ref["reference"] for ref in denosumab["basedOn"]}
    assert based_on == {url_of("regimen-chemotherapy"), url_of("regimen-after-chemotherapy")}
    notes = " ".join(note["text"] for note in denosumab["note"])
    assert "adjunctively administered" in notes and "was continued" in notes
    assert "(FREEDOM) trial" in notes


def test_anlotinib_order_is_14_days_of_12_mg_repeated_by_21_day_cycles() -> None:
    anlotinib = by_key("anlotinib")
    # no code is invented, and the name is the article's
    assert anlotinib["medicationCodeableConcept"] == {"text": "anlotinib"}
    dosage = anlotinib["dosageInstruction"][0]
    # the order on its own does not read as continuous daily dosing
    assert dosage["additionalInstruction"] == [
        {"text": "Days 1–14 of each 21-day cycle, then 7 days off"}
    ]
    assert dosage["doseAndRate"] == [
        {"doseQuantity": {
            "value": 12, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}}
    ]  # fmt: skip
    # the order alone is one cycle's dosing, safe to read alone: once daily for 14 days
    # (review 10, E2), not open-ended daily dosing
    assert dosage["timing"] == {"repeat": {
        "boundsDuration": {
            "value": 14, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"},
        "frequency": 1, "period": 1, "periodUnit": "d"}}  # fmt: skip
    assert "once daily for 14 days, then 7 days off; repeated every 21 days" in dosage["text"]
    # the cycle: a RequestGroup action every 21 days whose sub-action is days 1-14
    (cycle,) = of_type("RequestGroup")
    (action,) = cycle["action"]
    repeat = action["timingTiming"]["repeat"]
    assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (1, 21, "d")
    # the course's start is not stated: absent, and placed after the end of the chemotherapy
    start = repeat["boundsPeriod"]["_start"]["extension"]
    assert start[0] == {"url": DAR, "valueCode": "unknown"}
    parts = {part["url"]: part for part in start[1]["extension"]}
    assert parts["target"]["valueReference"]["reference"] == url_of("chemotherapy")
    assert parts["relationship"]["valueCode"] == "after-end"
    (dose_days,) = action["action"]
    (days,) = extensions(dose_days, DAYS_OF_CYCLE)
    assert [day["valueInteger"] for day in days["extension"]] == list(range(1, 15))
    assert dose_days["resource"]["reference"] == url_of("anlotinib")


def test_the_treatment_phases_and_the_reason_for_the_change_are_data() -> None:
    first, second = by_key("regimen-chemotherapy"), by_key("regimen-after-chemotherapy")
    assert (first["status"], second["status"]) == ("completed", "unknown")
    assert first["period"] == {
        "_start": {"extension": [{"url": DAR, "valueCode": "unknown"}]}, "end": "2023-10-18"
    }  # fmt: skip
    activities = {a["reference"]["reference"] for a in first["activity"]}
    assert activities == {url_of(k) for k in ("cisplatin", "pld", "denosumab", "vitamin-d3")}
    activities = {a["reference"]["reference"] for a in second["activity"]}
    assert activities == {
        url_of(k)
        for k in ("anlotinib/cycles", "denosumab", "follow-up-ct-chest", "follow-up-ct-lumbar")
    }
    # the second phase follows the first and rests on its stable disease
    supporting = {ref["reference"] for ref in second["supportingInfo"]}
    assert supporting == {url_of("regimen-chemotherapy"), url_of("disease-status-2023-10-18")}
    start = {p["url"]: p for p in second["period"]["_start"]["extension"][1]["extension"]}
    assert start["relationship"]["valueCode"] == "after-end"
    assert start["target"]["valueReference"]["reference"] == url_of("regimen-chemotherapy")
    # the authors' reasons are quoted
    reasons = " ".join(note["text"] for note in first["note"])
    assert "osteosarcoma" in reasons and "ifosfamide" in reasons
    second_notes = " ".join(n["text"] for n in second["note"])
    assert "post-cessation of intensive chemotherapy" in second_notes
    # the stable disease is supporting information, not the stated reason for the change
    assert "revealed stable disease" not in second_notes
    for key in ("cisplatin", "pld", "vitamin-d3"):
        assert by_key(key)["basedOn"] == [{"reference": url_of("regimen-chemotherapy"),
                                           "display": first["title"]}]  # fmt: skip


def test_surgery_not_done_with_the_authors_reasons() -> None:
    surgery = by_key("surgery-not-performed")
    assert surgery["status"] == "not-done"
    assert "wide resection" in surgery["statusReason"]["text"]
    assert surgery["code"]["coding"][0]["code"] == "387713003"
    assert surgery["reasonReference"][0]["reference"] == url_of("mpnst")
    assert not any(key.startswith(("performed", "_performed")) for key in surgery)
    quoted = " ".join(note["text"] for note in surgery["note"])
    assert "does not improve the patient" in quoted


def test_the_encounter_claims_no_discharge() -> None:
    (visit,) = of_type("Encounter")
    assert visit["status"] == "unknown"
    assert visit["period"] == {
        "start": "2023-05-28", "_end": {"extension": [{"url": DAR, "valueCode": "unknown"}]}
    }  # fmt: skip


def test_refuted_conditions_have_no_category_without_an_encounter() -> None:
    for code in ("94391008", "92824003"):
        assert "category" not in by_text("Condition", code)


def test_the_ilium_metastasis_is_not_called_biopsy_proven() -> None:
    ilium = by_key("metastasis-ilium")
    assert "biopsy-proven" not in json.dumps(ilium).lower()
    assert any("suggestive of MPNST" in note["text"] for note in ilium["note"])


def test_tumors_have_identifiers_morphology_and_their_condition_laterality() -> None:
    for tumor in of_type("BodyStructure"):
        (identifier,) = tumor["identifier"]
        assert identifier["use"] == "usual"  # mcode-body-structure-identifier's pattern
        assert identifier["type"]["coding"] == [
            {"system": "http://hl7.org/fhir/resource-types", "code": "BodyStructure",
             "display": "BodyStructure"}
        ]  # fmt: skip
        condition = next(
            r for r in resources()
            if f"urn:uuid:{r['id']}" == tumor["extension"][0]["valueReference"]["reference"]
        )  # fmt: skip
        site_codes = {c["code"] for c in condition.get("bodySite", [{}])[0].get("coding", ())}
        if site_codes & {c["code"] for c in tumor["location"]["coding"]}:
            condition_side = extensions(
                condition["bodySite"][0], MCODE + "mcode-laterality-qualifier"
            )
            tumor_side = tumor.get("locationQualifier", [])
            assert [e["valueCodeableConcept"] for e in condition_side] == tumor_side
    assert by_key("tumor-l4")["morphology"]["coding"][0]["code"] == "1240414004"
    assert "morphology" not in by_key("tumor-t4")  # its nature is doubtful


def test_every_resource_has_a_business_identifier_that_is_not_its_full_url() -> None:
    system = default_identifier_system("mpnst-chen-2024")
    values = []
    for resource in resources():
        if resource["resourceType"] == "Provenance":  # R4 Provenance has no identifier
            assert "identifier" not in resource
            continue
        (identifier,) = resource["identifier"]
        assert identifier["system"] == system
        assert identifier["value"] != f"urn:uuid:{resource['id']}"
        assert resource["id"] not in system
        values.append(identifier["value"])
    assert len(values) == len(set(values))


def test_the_missing_facts_are_in_the_record() -> None:
    at_diagnosis = by_key("distant-metastases-at-diagnosis")
    assert at_diagnosis["valueCodeableConcept"]["coding"][0]["code"] == "399409002"
    assert at_diagnosis["focus"][0]["reference"] == url_of("mpnst")
    assert extensions(at_diagnosis["_effectiveDateTime"], RELATIVE_DATE)
    alive = by_key("alive-with-tumor")
    assert alive["valueQuantity"]["value"] == 10 and alive["valueQuantity"]["code"] == "mo"
    assert alive["_effectiveDateTime"]["extension"] == [{"url": DAR, "valueCode": "unknown"}]
    baseline = by_key("axilla-size-baseline-ct")
    assert baseline["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    assert not any(key.startswith("value") for key in baseline)
    claim = by_key("axilla-response-discussion")
    assert "Significant reduction" in claim["valueString"]


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
     ("T4", "sparse"), ("MPNST", "primary lesion could not be identified"),
     ("chemotherapy plus anlotinib", "No measurement supports the claim"),
     ("32", "not comparable"), ("left lower limb pain", "did not\nradiate".replace("\n", " "))],
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
    assert chemo["performedPeriod"] == {
        "_start": {"extension": [{"url": DAR, "valueCode": "unknown"}]}, "end": "2023-10-18"
    }  # fmt: skip
    assert "denosumab" not in chemo["code"]["text"]  # denosumab is not chemotherapy
    assert "performedString" not in json.dumps(resources())


def test_values_use_the_article_words_and_notes_plain_coding_language() -> None:
    """Review 9: X5, X6 (values as written), N3 (no tooling talk), N10 (vitamin D3 flag)."""
    assert "high T2 pressure lipid images" in by_key("mri-l4-finding")["valueString"]
    assert by_key("axilla-mass-palpation")["valueString"].startswith(
        "Soft masses approximately 5 cm × 3 cm in depth"
    )
    notes = [n["text"] for r in resources() for n in r.get("note", ())]
    for words in ("the register", "verified code", " here:", "unverified"):
        assert not any(words in note for note in notes), words
    assert by_key("flag-vitamin-d3-dose")["severity"] == "high"
    assert any("data-quality flag" in n["text"] for n in by_key("vitamin-d3")["note"])


def test_every_reference_display_is_a_readable_name_not_a_case_file_id() -> None:
    """Review 10, m7: a reference names its target as people read it; a case-file id slug
    ("ct-l4-size") is never a display, and the anlotinib cycles have a readable name."""

    keys = {i["value"]: r for r in resources() for i in r.get("identifier", ())}
    displays = [ref["display"] for ref in elements_with(list(resources()), "reference", "display")]
    assert len(displays) > 200
    for display in displays:
        if display in keys:  # only a medication named in the article's own word may match
            named = keys[display].get("medicationCodeableConcept", {}).get("text")
            assert named == display, display
    flags = [ref["display"] for r in of_type("DetectedIssue") for ref in r["implicated"]]
    for name in (
        "Size of the L4 lesion on CT",
        "Chief complaint",
        "anlotinib cycles (days 1–14 of each 21-day cycle, then 7 days off)",
    ):
        assert name in flags  # fmt: skip


def _note_text(resource: JSON) -> str:
    return " ".join(n["text"] for n in resource.get("note", ()))


def test_review_10_statuses_inferred_from_the_article_say_so() -> None:
    """K1, K2: denosumab and the follow-up CTs stay active, with a note that the article says
    "was continued" / "were advised" and not whether either holds at the time of the report."""
    denosumab = by_key("denosumab")
    assert denosumab["status"] == "active"
    assert "“Denosumab (120 mg, subcutaneous injection, once every 4 weeks) was continued”" in (
        _note_text(denosumab)
    )
    assert "whether it was still given at the time of the report is not stated" in (
        _note_text(denosumab)
    )
    for key in ("follow-up-ct-chest", "follow-up-ct-lumbar"):
        request = by_key(key)
        assert request["status"] == "active"
        text = _note_text(request)
        assert (
            "“Regular follow-up visits every 3 months for lung and lumbar CT scans were advised”"
            in text
        )
        assert "still in force at the time of the report is not stated" in text


def test_review_10_refractory_and_benefit_claims_are_flagged() -> None:
    """X1: the abstract's "refractory MPNST" is a low-severity flag on the MPNST and the
    chemotherapy plan; its benefit claim is quoted in the axillary-response flag."""
    flag = by_key("flag-refractory")
    assert flag["severity"] == "low"
    assert {i["reference"] for i in flag["implicated"]} == {
        url_of("mpnst"),
        url_of("regimen-chemotherapy"),
    }
    assert "refractory MPNST" in flag["detail"] + _note_text(flag)
    assert "the first treatment it reports" in flag["detail"]
    response = by_key("flag-axilla-response")
    assert "“This regimen yielded noteworthy clinical benefits”" in response["detail"]


def test_review_10_both_pains_keep_active_with_the_alleviation_note_and_full_quote() -> None:
    """X2, m1: the limb pain has the alleviation note; neither pain quotes an elided complaint."""
    for key in ("low-back-pain", "left-limb-pain"):
        pain = by_key(key)
        assert pain["clinicalStatus"]["coding"][0]["code"] == "active"
        text = _note_text(pain)
        assert "significant alleviation of pain symptoms compared to admission" in text
        assert "“low back pain with left lower limb pain for 2 weeks”" in text
        assert "…" not in json.dumps(pain, ensure_ascii=False)


def test_review_10_histology_code_is_explained() -> None:
    """E3 kept: 31206-6 is the code mCODE fixes; a note says why."""
    result = by_key("pathology-axilla-result")
    assert result["code"]["coding"][0]["code"] == "31206-6"
    assert "mCODE STU4 histologic behavior and type profile fixes Observation.code" in (
        _note_text(result)
    )
