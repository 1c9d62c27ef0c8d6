"""Stated, derived and absent dates, read from a resource and written so that they differ."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from fhir_case.narrative import narrative_for
from fhir_case.narrative.dating import DATA_ABSENT_REASON, RELATIVE_DATE, dating, period_words
from fhir_case.narrative.xhtml import XHTML_NS
from tests.derived import with_derived_dates
from tests.helpers import ROOT

CASE_BUNDLES = sorted((ROOT / "bundles").glob("*.json"))
XHTML = f"{{{XHTML_NS}}}"

APPROXIMATE = {"text": "Approximate date: two weeks before the presentation on 2023-05-28."}


def condition(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "code": {"text": "Low back pain"}, **fields}


def test_a_stated_date_is_shown_as_recorded() -> None:
    when = dating(condition(onsetDateTime="2023-05-28"))
    assert (when.words, when.certainty, when.start) == (
        "2023-05-28",
        "stated",
        dt.date(2023, 5, 28),
    )


def test_a_derived_date_says_about_and_how() -> None:
    resource = condition(onsetDateTime="2023-05-14", note=[APPROXIMATE])
    when = dating(resource)
    assert when.words == "about 2023-05-14" and when.certainty == "derived"
    assert when.how == "two weeks before the presentation on 2023-05-28"
    div = narrative_for(resource)["div"]
    assert "onset about 2023-05-14</p>" in div
    assert "<th>Onset</th><td>about 2023-05-14 (two weeks before the presentation" in div


def test_a_period_without_a_start_says_so() -> None:
    procedure = {"resourceType": "Procedure", "performedPeriod": {"end": "2023-10-18"}}
    when = dating(procedure)
    assert when.words == "start not stated; until 2023-10-18" and when.short == "until 2023-10-18"
    assert when.start == dt.date(2023, 10, 18)
    assert "start not stated; until 2023-10-18" in narrative_for(procedure)["div"]
    encounter = {"resourceType": "Encounter", "period": {"start": "2023-05-28"}}
    assert dating(encounter).words == "from 2023-05-28; end not stated"
    assert dating(encounter).short == "from 2023-05-28"


def test_a_date_given_as_text_is_no_date() -> None:
    when = dating({"resourceType": "Procedure", "performedString": "date not stated; after X"})
    assert (when.words, when.certainty, when.start) == ("date not stated; after X", "absent", None)


def test_a_data_absent_reason_on_the_primitive_is_read() -> None:
    observation = {
        "resourceType": "Observation",
        "_effectiveDateTime": {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]},
        "note": [{"text": "Date not stated: during the treatment course."}],
    }
    when = dating(observation)
    assert when.words == "date not stated" and when.certainty == "absent"
    assert when.how == "during the treatment course"


def test_a_note_alone_says_the_date_is_not_stated() -> None:
    observation = {"resourceType": "Observation", "note": [{"text": "Date not stated: x."}]}
    assert dating(observation).words == "date not stated"
    assert dating({"resourceType": "Observation"}).words == "date not recorded"


def _said_dates(div: str) -> list[str]:
    """The texts of a narrative that state its own data: the headline and every row but the
    notes and source quotations (which may name other, stated dates)."""
    root = ET.fromstring(div)
    said = ["".join(root.find(f"{XHTML}p").itertext())]  # type: ignore[union-attr]
    for row in root.iter(f"{XHTML}tr"):
        label = "".join(row.find(f"{XHTML}th").itertext())  # type: ignore[union-attr]
        if label not in ("Note", "Source"):
            said.append("".join(row.itertext()))
    return said


@pytest.mark.parametrize("bundle_file", CASE_BUNDLES, ids=lambda p: p.name)
def test_no_derived_date_is_shown_unmarked_in_a_narrative(bundle_file: Path) -> None:
    bundle = json.loads(bundle_file.read_text(encoding="utf-8"))
    checked = 0
    for resource, dates in with_derived_dates(bundle):
        said = _said_dates(resource["text"]["div"])
        for date in dates:
            assert any(f"about {date}" in text for text in said), resource["id"]
            for text in said:
                # the explanation after a derived date may name the stated date it came from
                text = re.sub(rf"(about {date}) \([^)]*\)", r"\1", text)
                bare = [m.start() for m in re.finditer(re.escape(date), text)]
                assert all(text[:start].endswith("about ") for start in bare), (text, date)
            checked += 1
    assert checked >= 4  # the symptom onsets, the CT after six cycles, its finding, ...


def relative(target: str, path: str, relationship: str, weeks: int = 0) -> dict[str, Any]:
    """A cqf-relativeDateTime extension, as R4 defines it."""
    parts: list[dict[str, Any]] = [
        {"url": "target", "valueReference": {"reference": target}},
        {"url": "targetPath", "valueString": path},
        {"url": "relationship", "valueCode": relationship},
    ]
    if weeks:
        offset = {"value": weeks, "unit": "wk", "system": "http://unitsofmeasure.org", "code": "wk"}
        parts.append({"url": "offset", "valueDuration": offset})
    return {"url": RELATIVE_DATE, "extension": parts}


CHEMOTHERAPY = {
    "resourceType": "Procedure",
    "id": "chemo",
    "code": {"text": "Chemotherapy"},
    "performedPeriod": {"end": "2023-10-18"},
}
PRESENTATION = {"resourceType": "Encounter", "id": "enc", "period": {"start": "2023-05-28"}}
RECORD = {"Procedure/chemo": CHEMOTHERAPY, "Encounter/enc": PRESENTATION}


def test_a_date_relative_to_another_is_derived_and_says_from_what() -> None:
    onset = condition(
        onsetDateTime="2023-05-14",
        _onsetDateTime={
            "extension": [relative("Encounter/enc", "period.start", "before-start", weeks=2)]
        },
    )
    when = dating(onset, resolve=RECORD.get)
    assert when.words == "about 2023-05-14" and when.certainty == "derived"
    assert when.how == "2 weeks before the start of another event (2023-05-28)"


def test_an_absent_start_after_another_event_reads_start_not_stated_after_its_date() -> None:
    absent = {"url": DATA_ABSENT_REASON, "valueCode": "unknown"}
    bounds = {
        "_start": {"extension": [absent, relative("Procedure/chemo", "performed.end", "after-end")]}
    }
    request = {
        "resourceType": "MedicationRequest",
        "medicationCodeableConcept": {"text": "anlotinib"},
        "dosageInstruction": [
            {
                "doseAndRate": [{"doseQuantity": {"value": 12, "unit": "mg", "code": "mg"}}],
                "timing": {
                    "repeat": {
                        "frequency": 1,
                        "period": 1,
                        "periodUnit": "d",
                        "boundsPeriod": bounds,
                    }
                },
            }
        ],
    }
    div = narrative_for(request, RECORD.get)["div"]
    assert "anlotinib: 12 mg once daily, start not stated; after 2023-10-18" in div
    # without the record to look in, the relation is still said, by the target's part
    assert "start not stated; after the end of" in narrative_for(request)["div"]
    words, brief, day, stated = period_words(bounds, RECORD.get)
    assert (words, brief, day, stated) == (
        "start not stated; after 2023-10-18",
        "after 2023-10-18",
        dt.date(2023, 10, 18),
        False,
    )


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (
            "Date not stated: “presently”, at the time of writing.",
            "“presently”, at the time of writing",
        ),
        ("Date not stated — after the biopsy.", "after the biopsy"),
    ],
)
def test_an_absence_reason_keeps_its_opening_quotation_mark(note: str, reason: str) -> None:
    """Review 10, m2: the lead-in "Date not stated:" is cut, not the quotation mark after it."""
    resource = {
        "resourceType": "Observation",
        "_effectiveDateTime": {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]},
        "note": [{"text": note}],
    }
    assert dating(resource, "effective").how == reason


def test_the_shipped_narratives_balance_their_quotation_marks() -> None:
    bundle = json.loads(
        (ROOT / "bundles" / "mpnst-chen-2024.collection.json").read_text(encoding="utf-8")
    )
    for entry in bundle["entry"]:
        text = re.sub(r"<[^>]+>", "", entry["resource"]["text"]["div"])
        assert text.count("“") == text.count("”"), entry["resource"]["id"]
