"""Generated narratives: valid by FHIR's rules, deterministic, and saying what the data says."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fhir_case.narrative import check_narrative, narrative_for
from tests.helpers import replaced

FIXTURE = Path(__file__).parents[1] / "view" / "fixtures" / "oncology-collection.json"
UCUM = "http://unitsofmeasure.org"


def fixture_resources() -> list[dict[str, Any]]:
    bundle = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return [e["resource"] for e in bundle["entry"]]


def by_id_suffix(
    resources: list[dict[str, Any]], resource_type: str, code_text: str
) -> dict[str, Any]:
    return next(
        r for r in resources if r["resourceType"] == resource_type and code_text in json.dumps(r)
    )


def test_every_official_example_gets_a_valid_narrative(
    official_examples: list[tuple[str, dict[str, Any]]],
) -> None:
    for name, resource in official_examples:
        text = narrative_for(resource)
        assert text["status"] == "generated", name
        assert check_narrative(text["div"]) == [], name  # no error and no warning either


def test_every_fixture_resource_gets_a_valid_narrative() -> None:
    for resource in fixture_resources():
        assert check_narrative(narrative_for(resource)["div"]) == [], resource["resourceType"]


def test_narratives_are_deterministic_and_do_not_change_the_resource(
    official_examples: list[tuple[str, dict[str, Any]]],
) -> None:
    for _, resource in official_examples:
        before = copy.deepcopy(resource)
        assert narrative_for(resource) == narrative_for(copy.deepcopy(resource))
        assert resource == before


def test_a_medication_request_reads_like_a_prescription() -> None:
    request = {
        "resourceType": "MedicationRequest",
        "status": "completed",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "2555",
                    "display": "cisplatin",
                }
            ]
        },
        "subject": {"reference": "urn:uuid:0f6c7c1e-1a2b-4c3d-8e9f-000000000001"},
        "dosageInstruction": [
            {
                "route": {"text": "intravenous"},
                "timing": {
                    "repeat": {
                        "count": 6,
                        "frequency": 1,
                        "period": 21,
                        "periodUnit": "d",
                        "boundsPeriod": {"start": "2023-06-14", "end": "2023-10-18"},
                    }
                },
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 120,
                            "unit": "mg/m²",
                            "system": UCUM,
                            "code": "mg/m2",
                        }
                    }
                ],
            }
        ],
    }
    div = narrative_for(request)["div"]
    assert (
        "<b>Prescription</b>: cisplatin (RxNorm 2555): 120 mg/m² intravenously every 21 days "
        "for 6 cycles, from 2023-06-14 to 2023-10-18</p>"
    ) in div
    assert "UCUM" not in div and "mg/m2" not in div
    assert "<th>Status</th><td>completed</td>" in div


def test_a_cyclic_oral_schedule_and_a_weekly_schedule_in_words() -> None:
    resources = fixture_resources()
    anlotinib = narrative_for(by_id_suffix(resources, "MedicationRequest", "anlotinib"))["div"]
    assert "12 mg orally for 14 days of each 21-day cycle, from 2023-10-18" in anlotinib
    denosumab = narrative_for(by_id_suffix(resources, "MedicationRequest", "993449"))["div"]
    assert "120 mg subcutaneously every 4 weeks, from 2023-10-18" in denosumab


@pytest.mark.parametrize(
    ("repeat", "words"),
    [
        (
            {"frequency": 2, "period": 1, "periodUnit": "d", "dayOfWeek": ["mon", "thu"]},
            "twice daily on Monday, Thursday",
        ),
        ({"frequency": 1, "period": 1, "periodUnit": "d"}, "once daily"),
        ({"frequency": 3, "period": 1, "periodUnit": "d"}, "three times daily"),
        ({"frequency": 1, "period": 1, "periodUnit": "wk"}, "once weekly"),
        ({"frequency": 1, "period": 4, "periodUnit": "wk"}, "every 4 weeks"),
        ({"frequency": 1, "period": 1, "periodUnit": "h"}, "every hour"),
        (
            {"frequency": 1, "period": 21, "periodUnit": "d", "duration": 14, "durationUnit": "d"},
            "for 14 days of each 21-day cycle",
        ),
        (
            {"frequency": 1, "period": 21, "periodUnit": "d", "count": 6},
            "every 21 days for 6 cycles",
        ),
        (
            {"frequency": 1, "period": 4, "periodMax": 6, "periodUnit": "h"},
            "every 4 to 6 hours",
        ),
        (
            {
                "frequency": 1,
                "period": 1,
                "periodUnit": "d",
                "boundsDuration": {"value": 14, "unit": "days", "system": UCUM, "code": "d"},
            },
            "once daily, for 14 days",
        ),
        (
            {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["ACM"], "offset": 30},
            "once daily 30 minutes before breakfast",
        ),
        ({"timeOfDay": ["08:00:00", "20:00:00"]}, "at 08:00, 20:00"),
        ({"count": 1, "countMax": 3}, "1 to 3 times"),
    ],
)
def test_timing_repeat_in_words(repeat: dict[str, Any], words: str) -> None:
    request = {
        "resourceType": "MedicationRequest",
        "dosageInstruction": [{"timing": {"repeat": repeat}}],
    }
    assert (
        f"<b>Prescription</b>: unspecified medication: {words}</p>" in narrative_for(request)["div"]
    )


def test_a_condition_states_code_site_statuses_and_notes() -> None:
    t4 = by_id_suffix(fixture_resources(), "Condition", "73071006")
    div = narrative_for(t4)["div"]
    assert (
        "<b>Condition</b>: Bone metastasis (SNOMED CT 94222008); provisional diagnosis; "
        "body site: T4 vertebra" in div
    )
    assert "<th>Verification status</th><td>Provisional</td>" in div
    assert "<th>Clinical status</th><td>Active</td>" in div
    assert "Doubtful: bone destruction on CT but sparse radioactivity" in div


def test_a_refuted_condition_says_refuted() -> None:
    lung = by_id_suffix(fixture_resources(), "Condition", "94391008")
    assert "Lung metastasis (SNOMED CT 94391008); ruled out (refuted)" in narrative_for(lung)["div"]


def test_an_observation_with_components_lists_each_component() -> None:
    size = by_id_suffix(fixture_resources(), "Observation", "Figure 1B")
    div = narrative_for(size)["div"]
    # the headline gives the size as a radiologist writes it; JSON's 3.0 keeps its precision
    assert "<b>Observation</b>: Size Tumor (LOINC 21889-1): 3.0 × 2.0 × 2.2 cm" in div
    assert "<th>Size.maximum dimension in Tumor</th><td>3.0 cm</td>" in div
    assert div.count("<th>Size additional dimension in Tumor</th>") == 2
    assert "The Figure 1B legend gives 3.4 cm" in div


def test_an_observation_without_a_value_gives_the_absent_reason() -> None:
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "Body weight"},
        "dataAbsentReason": {"text": "Not stated in the source"},
    }
    assert "Body weight: no value (Not stated in the source)" in narrative_for(observation)["div"]


def test_other_types_get_a_generic_summary_of_their_elements() -> None:
    medication = {
        "resourceType": "Medication",
        "id": "m1",
        "code": {
            "coding": [
                {"system": "http://snomed.info/sct", "code": "108774000", "display": "Anastrozole"}
            ]
        },
        "form": {"text": "tablet"},
    }
    div = narrative_for(medication)["div"]
    assert "<b>Medication</b>: Anastrozole (SNOMED CT 108774000)" in div
    assert "<th>Form</th><td>tablet</td>" in div
    assert check_narrative(div) == []


def test_text_from_the_data_is_escaped() -> None:
    condition = {"resourceType": "Condition", "code": {"text": "<script>alert('x')</script> & co"}}
    div = narrative_for(condition)["div"]
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; co" in div
    assert check_narrative(div) == []


WRONG_SHAPES: list[object] = [
    "text",
    7,
    True,
    None,
    [],
    {},
    [1, "a"],
    {"coding": "x"},
    [{"value": {}}],
]


def test_no_shape_of_input_breaks_a_narrative(
    official_examples: list[tuple[str, dict[str, Any]]],
) -> None:
    """Every element of every example, replaced by each wrong shape: still a valid narrative."""
    samples = [r for _, r in official_examples[::7]] + fixture_resources()
    for resource in samples:
        for key in resource:
            if key == "resourceType":
                continue
            for wrong in WRONG_SHAPES:
                mutated = {**resource, key: wrong}
                assert check_narrative(narrative_for(mutated)["div"]) == [], (key, wrong)
    for garbage in [
        None,
        [],
        "Patient",
        {"resourceType": 3},
        {"resourceType": "Observation", "component": [None, 1]},
    ]:
        assert check_narrative(narrative_for(garbage)["div"]) == []


def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found: list[tuple[object, ...]] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, item in items:
        found.append((*prefix, key))
        found.extend(_paths(item, (*prefix, key)))
    return found


def test_no_nested_shape_breaks_a_narrative() -> None:
    """Every nested element of the case-like resources, replaced by each wrong shape."""
    for resource in fixture_resources():
        for path in _paths(resource):
            if path == ("resourceType",):
                continue
            for wrong in WRONG_SHAPES:
                div = narrative_for(replaced(resource, path, wrong))["div"]
                assert check_narrative(div) == [], (resource["resourceType"], path, wrong)


CASE_BUNDLES = sorted((Path(__file__).parents[2] / "bundles").glob("*.json"))


def test_the_case_bundles_exist() -> None:
    assert [p.name for p in CASE_BUNDLES] == [
        "mpnst-chen-2024.collection.json",
        "mpnst-chen-2024.document.json",
        "mpnst-chen-2024.transaction.json",
    ]


@pytest.mark.parametrize("bundle_file", CASE_BUNDLES, ids=lambda p: p.name)
def test_every_case_resource_has_a_valid_narrative(bundle_file: Path) -> None:
    """The narrative each resource carries (if the builder added one) and the generated one."""
    bundle = json.loads(bundle_file.read_text(encoding="utf-8"))
    for index, entry in enumerate(bundle["entry"]):
        resource = entry["resource"]
        where = f"Bundle.entry[{index}].resource.text.div"
        if "text" in resource:
            assert resource["text"]["status"] == "generated", where
            assert check_narrative(resource["text"]["div"], where) == []
        assert check_narrative(narrative_for(resource)["div"], where) == []


@pytest.mark.parametrize("bundle_file", CASE_BUNDLES, ids=lambda p: p.name)
def test_a_condition_never_reads_as_if_its_site_were_confirmed(bundle_file: Path) -> None:
    """The verification status is said of the diagnosis, before the site: "MPNST, primary site
    uncertain; diagnosis confirmed; body site: primary site uncertain", not "…, Confirmed"."""
    bundle = json.loads(bundle_file.read_text(encoding="utf-8"))
    conditions = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition"
    ]
    for condition in conditions:
        div = condition["text"]["div"]
        headline = div[div.index("<p>") : div.index("</p>")]
        site = headline.split("body site: ", 1)[1] if "body site: " in headline else ""
        assert "onfirmed" not in site and "rovisional" not in site, headline
        status = condition.get("verificationStatus", {}).get("coding", [{}])[0].get("code")
        if status == "confirmed":
            assert "; diagnosis confirmed" in headline, headline
    primary = next(c for c in conditions if "primary-cancer" in json.dumps(c.get("meta")))
    assert "diagnosis confirmed; body site: Primary site not identified" in primary["text"]["div"]


@pytest.mark.parametrize("bundle_file", CASE_BUNDLES, ids=lambda p: p.name)
def test_orders_name_no_inferred_requester_and_quote_only_the_article(bundle_file: Path) -> None:
    """Review 9: the requester is shown as not stated; the recorder's dosage text is labelled,
    not quoted as if it were the article's."""
    bundle = json.loads(bundle_file.read_text(encoding="utf-8"))
    orders = [e["resource"] for e in bundle["entry"]]
    orders = [r for r in orders if r["resourceType"] == "MedicationRequest"]
    assert len(orders) == 5
    for order in orders:
        div = order["text"]["div"]
        assert "<th>Requester</th><td>not stated</td>" in div
        assert "as written" not in div and "(dosage text: " in div
