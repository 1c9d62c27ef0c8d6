"""The case page as HTML: self-contained, script-free, complete, and robust to odd data."""

from __future__ import annotations

import copy
import json
import random
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fhir_case.document import make_document
from fhir_case.narrative.dating import DATA_ABSENT_REASON as DAR
from fhir_case.narrative.dating import RELATIVE_DATE as RELATIVE
from fhir_case.view import render_case_view
from fhir_case.view.case import Origin, read_header
from fhir_case.view.index import ResourceIndex
from fhir_case.view.timeline import COMPUTED, OPEN_ENDED
from tests.derived import with_derived_dates
from tests.plain_words import findings, texts


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    return collector


def test_the_page_is_self_contained_and_has_no_script(oncology_bundle: dict[str, Any]) -> None:
    page = parse(render_case_view(oncology_bundle))
    names = {tag for tag, _ in page.tags}
    assert not names & {"script", "link", "iframe", "object", "embed", "img", "base", "form"}
    for tag, attrs in page.tags:
        assert not [a for a in attrs if a.startswith("on")], tag
        for name in ("href", "src", "xlink:href", "action"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    assert (
        "url(" not in page.style and "@import" not in page.style and "@font-face" not in page.style
    )
    csp = [
        a["content"]
        for t, a in page.tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp and "default-src 'none'" in (csp[0] or "")


def test_the_page_shows_every_problem_medication_and_flag(oncology_bundle: dict[str, Any]) -> None:
    html = render_case_view(oncology_bundle)
    resources = [e["resource"] for e in oncology_bundle["entry"]]
    for resource in resources:
        kind = resource["resourceType"]
        if kind == "Condition":
            assert f'id="r-Condition-{resource["id"]}"' in html
        if kind == "MedicationRequest":
            assert f'id="r-MedicationRequest-{resource["id"]}"' in html
        if kind == "DetectedIssue":
            assert resource["detail"].replace("&", "&amp;") in html
    assert 'class="problem refuted' in html
    assert "<dt>Sex</dt><dd>female</dd>" in html
    assert "<dt>Age at presentation</dt><dd>68 years</dd>" in html
    assert "doi:10.3389/fonc.2024.1399021" in html


def test_the_timeline_has_one_rect_per_cycle(oncology_bundle: dict[str, Any]) -> None:
    html = render_case_view(oncology_bundle)
    lane_start = html.index('data-lane="cisplatin + pegylated liposomal doxorubicin"')
    lane = html[lane_start : html.index("</g>", lane_start)]
    assert 'data-cycles="6"' in lane
    assert lane.count('class="cycle computed"') == 6


def test_rendering_is_deterministic(oncology_bundle: dict[str, Any]) -> None:
    assert render_case_view(oncology_bundle) == render_case_view(copy.deepcopy(oncology_bundle))


def test_any_bundle_type_and_an_empty_bundle_render(oncology_bundle: dict[str, Any]) -> None:
    searchset = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{**e, "search": {"mode": "match"}} for e in oncology_bundle["entry"]]
        + [oncology_bundle["entry"][1]],  # a resource listed twice, as $everything may do
    }
    assert render_case_view(searchset).count('id="r-Condition-') == 5
    empty = render_case_view({"resourceType": "Bundle", "type": "collection"})
    assert "No Condition in the record." in empty and "No dated resource." in empty
    assert "Sex</dt><dd>not recorded" in render_case_view("not a bundle")


def test_the_official_examples_render_as_one_bundle(shared_dir: Path) -> None:
    entries = [
        {"resource": json.loads(p.read_text(encoding="utf-8"))}
        for p in sorted((shared_dir / "fhir" / "examples-r4").glob("*.json"))
    ]
    html = render_case_view({"resourceType": "Bundle", "type": "collection", "entry": entries})
    assert "a FHIR R4 Bundle of type collection (154 resources)" in html
    assert html.count('id="r-Condition-') == 12


WRONG_SHAPES: list[object] = ["x", 0, None, [], {}, [None], {"start": 5}]


def test_odd_elements_degrade_gracefully(oncology_bundle: dict[str, Any]) -> None:
    """Each element of each resource replaced by each wrong shape: the page still renders."""
    for index, entry in enumerate(oncology_bundle["entry"]):
        for key in entry["resource"]:
            if key in ("resourceType", "id"):
                continue
            for wrong in WRONG_SHAPES:
                entries = list(oncology_bundle["entry"])
                entries[index] = {**entry, "resource": {**entry["resource"], key: wrong}}
                html = render_case_view({**oncology_bundle, "entry": entries})
                assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")


def test_resources_without_ids_are_each_shown(oncology_bundle: dict[str, Any]) -> None:
    """A transaction may POST resources without ids: none may hide another."""
    entries = [
        {"resource": {k: v for k, v in e["resource"].items() if k != "id"}}
        for e in oncology_bundle["entry"]
    ]
    html = render_case_view({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    assert html.count('<tr id="r-Condition-entry-') == 5
    assert html.count('id="r-MedicationRequest-entry-') == 5


SVG = "{http://www.w3.org/2000/svg}"


def page_tree(html: str) -> ET.Element:
    """The page as XML (it is written as well-formed XHTML after its DOCTYPE)."""
    return ET.fromstring(html.split("\n", 1)[1])


def by_id(root: ET.Element, element_id: str) -> ET.Element:
    found = root.find(f".//*[@id='{element_id}']")
    assert found is not None, element_id
    return found


def text_of(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def test_the_page_says_where_its_record_came_from(case_bundle: dict[str, Any]) -> None:
    patient = next(
        e["resource"] for e in case_bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    from_file = page_tree(render_case_view(case_bundle, Origin("case.collection.json")))
    record = text_of(by_id(from_file, "record"))
    assert f"Patient/{patient['id']} in case.collection.json" in record
    assert patient["identifier"][0]["value"] in record
    assert text_of(by_id(from_file, "origin")) == (
        "Rendered from the file case.collection.json: a FHIR R4 Bundle of type collection "
        f"({len(case_bundle['entry'])} resources)."
    )
    origin = Origin(
        "http://127.0.0.1:8080/fhir",
        f"Patient/{patient['id']}/$everything and the referenced resources, 3 requests",
        "2026-11-30T10:00:00Z",
    )
    from_server = page_tree(render_case_view(case_bundle, origin))
    assert f"Patient/{patient['id']} on http://127.0.0.1:8080/fhir" in text_of(
        by_id(from_server, "record")
    )
    footer = text_of(by_id(from_server, "origin"))
    assert footer.startswith("Rendered from the FHIR server http://127.0.0.1:8080/fhir: Patient/")
    assert "$everything" in footer and "read 2026-11-30T10:00:00Z" in footer


def test_the_page_is_the_same_whatever_order_the_entries_come_in(
    case_bundle: dict[str, Any], oncology_bundle: dict[str, Any]
) -> None:
    for bundle in (case_bundle, oncology_bundle):
        page = render_case_view(bundle)
        for seed in range(4):
            entries = list(bundle["entry"])
            random.Random(seed).shuffle(entries)
            assert render_case_view({**bundle, "entry": entries}) == page, seed
        assert render_case_view({**bundle, "entry": bundle["entry"][::-1]}) == page


@pytest.mark.parametrize("bundle_name", ["oncology_bundle", "case_bundle"])
def test_every_medication_request_is_on_the_timeline_or_listed_with_the_reason(
    bundle_name: str, request: pytest.FixtureRequest
) -> None:
    bundle: dict[str, Any] = request.getfixturevalue(bundle_name)
    root = page_tree(render_case_view(bundle))
    lanes = {
        key
        for lane in root.iter(f"{SVG}g")
        if lane.get("data-keys")
        for key in (lane.get("data-keys") or "").split()
    }
    undated = next(d for d in root.iter("div") if d.get("class") == "undated")
    listed = {li.get("id"): text_of(li) for li in undated.iter("li")}
    orders = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    ]
    assert len(orders) >= 5
    for order in orders:
        key = f"MedicationRequest/{order['id']}"
        row = text_of(by_id(root, f"r-MedicationRequest-{order['id']}"))  # in the table
        reason = listed.get(f"undated-r-MedicationRequest-{order['id']}")
        assert (key in lanes) != (reason is not None), key  # one or the other, not both
        if reason is not None:
            assert "the record gives no" in reason and "not on the timeline" in row, reason
    if bundle_name == "oncology_bundle":  # the vitamin D3 has no date and no plan
        assert any("Vitamin D3" in text for text in listed.values())


def test_computed_cycles_are_drawn_apart_with_a_caption_beside_them(
    oncology_bundle: dict[str, Any],
) -> None:
    root = page_tree(render_case_view(oncology_bundle))
    lanes = [g for g in root.iter(f"{SVG}g") if g.get("data-cycles")]
    assert lanes
    for lane in lanes:
        cycles = [r for r in lane.iter(f"{SVG}rect") if "cycle" in (r.get("class") or "")]
        assert len(cycles) == int(lane.get("data-cycles") or 0) > 0
        assert all("computed" in (r.get("class") or "").split() for r in cycles)
        captions = [t for t in lane.iter(f"{SVG}text") if t.get("class") == "caption"]
        assert [text_of(t) for t in captions] in (
            [COMPUTED],
            [OPEN_ENDED],
        ), lane.get("data-lane")
        open_end = "▸ ongoing" in text_of(lane) or "▸ end not stated" in text_of(lane)
        assert open_end == ([text_of(t) for t in captions] == [OPEN_ENDED])


def test_the_legend_shows_only_the_marks_that_appear(
    case_bundle: dict[str, Any], oncology_bundle: dict[str, Any]
) -> None:
    def legend_and_marks(bundle: dict[str, Any]) -> tuple[set[str], set[str]]:
        root = page_tree(render_case_view(bundle))
        legend = next(p for p in root.iter("p") if p.get("class") == "legend")
        shown = {
            (s.get("class") or "").split()[1].removeprefix("key-")
            for s in legend.iter("span")
            if (s.get("class") or "").startswith("key ")
        }
        svg = next(root.iter(f"{SVG}svg"))
        drawn = [e for child in svg if child.tag != f"{SVG}defs" for e in child.iter()]
        classes = {c for e in drawn for c in (e.get("class") or "").split()}
        marks = set()
        if any(e.tag == f"{SVG}circle" and "derived" not in e.get("class", "") for e in drawn):
            marks.add("event")
        marks |= {m for m in ("derived", "status", "computed") if m in classes}
        marks |= {m for m in ("ongoing", "end-unknown") if m in classes}
        marks |= {"course"} if "course" in classes else set()
        marks |= {"faded"} if "fade" in classes else set()
        marks |= {"flag"} if "flagged" in classes else set()
        return shown, marks

    for bundle in (case_bundle, oncology_bundle):
        shown, marks = legend_and_marks(bundle)
        assert shown == marks and "event" in shown
    without = [
        e
        for e in case_bundle["entry"]
        if "97509-4" not in json.dumps(e["resource"].get("code"))  # no disease status
        and "Approximate date" not in json.dumps(e["resource"].get("note"))  # no derived date
    ]
    shown, _ = legend_and_marks({**case_bundle, "entry": without})
    assert "status" not in shown and "derived" not in shown


def test_tumor_sizes_show_their_dimensions_and_each_method_has_its_own_lane(
    case_bundle: dict[str, Any],
) -> None:
    html = render_case_view(case_bundle)
    root = page_tree(html)
    sizes = [
        e["resource"]
        for e in case_bundle["entry"]
        if "21889-1" in json.dumps(e["resource"].get("code"))
    ]
    assert len(sizes) == 3
    for size in sizes:
        values = [c["valueQuantity"] for c in size["component"]]
        dims = " × ".join(str(v["value"]) for v in values) + " " + values[0]["code"]
        row = text_of(by_id(root, f"r-Observation-{size['id']}"))
        assert dims in row, row
        on_timeline = [text_of(t) for t in root.iter(f"{SVG}text") if dims in "".join(t.itertext())]
        undated = next(d for d in root.iter("div") if d.get("class") == "undated")
        listed = [text_of(li) for li in undated.iter("li") if dims in text_of(li)]
        assert len(on_timeline) + len(listed) == 1, (dims, on_timeline, listed)
    lanes = {g.get("data-lane") for g in root.iter(f"{SVG}g") if g.get("data-lane")}
    assert "Tumor size, palpation" in lanes
    assert not [lane for lane in lanes if lane == "Tumor size"]  # never one mixed series
    assert "sizes by different methods are not comparable" in html


def test_no_derived_date_is_shown_unmarked_on_the_page(case_bundle: dict[str, Any]) -> None:
    root = page_tree(render_case_view(case_bundle))
    checked = 0
    for resource, dates in with_derived_dates(case_bundle):
        key = f"{resource['resourceType']}-{resource['id']}"
        row = root.find(f".//*[@id='r-{key}']")
        marks = [
            m
            for m in root.iter()
            if m.tag in (f"{SVG}circle", f"{SVG}polygon")
            and any(d in "".join(m.itertext()) for d in dates)
            and resource_names(resource) & {"".join(m.itertext()).split(" — ")[0]}
        ]
        shown = [row] if row is not None else []
        assert shown or marks, key  # the item is on the page
        for element in shown:
            spans = [s for s in element.iter("span") if "date" in (s.get("class") or "")]
            assert spans and all("derived" in (s.get("class") or "") for s in spans), key
            assert all(text_of(s).startswith("about ") for s in spans), key
        for mark in marks:
            assert "derived" in (mark.get("class") or "").split(), key
            assert "about " in "".join(mark.itertext()), key
        checked += 1
    assert checked == len(list(with_derived_dates(case_bundle))) > 0
    # and nothing stated is marked derived
    derived_marks = [e for e in root.iter() if "derived" in (e.get("class") or "").split()]
    assert all("about " in text_of(e) for e in derived_marks if e.tag == "span")


def resource_names(resource: dict[str, Any]) -> set[str]:
    code = resource.get("code", {})
    return {code.get("text", "")} | {c.get("display", "") for c in code.get("coding", [])}


def test_the_page_is_in_plain_words(case_bundle: dict[str, Any]) -> None:
    for bundle in (case_bundle, make_document(case_bundle)):
        html = render_case_view(bundle, Origin("mpnst-chen-2024.collection.json"))
        assert [f"{f} in {t[:80]!r}" for t in texts(html) for f in findings(t)] == []


def test_clinical_notes_are_shown_and_source_quotes_folded(case_bundle: dict[str, Any]) -> None:
    root = page_tree(render_case_view(case_bundle))
    folded = {text_of(li) for d in root.iter("details") for li in d.iter("li")}
    shown = {text_of(li) for ul in root.iter("ul") if ul.get("class") == "notes" for li in ul}
    assert any(t.startswith("Approximate date: two weeks before") for t in shown)
    assert any(t.startswith("Provisional: bone destruction on CT") for t in shown)
    assert folded and all(t.startswith("“") for t in folded)
    assert not {t for t in shown if t.startswith("Approximate date")} & folded


def with_treatment_plans(bundle: dict[str, Any]) -> dict[str, Any]:
    """The fixture as a record that gives no cycle count and no start: the chemotherapy orders
    end on 2023-10-18 in a plan whose start is not stated, then a plan that follows it."""
    bundle = copy.deepcopy(bundle)
    requests = {
        json.dumps(e["resource"]["medicationCodeableConcept"]): e
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    }
    chemo, after = [], []
    for text, entry in requests.items():
        repeat = entry["resource"]["dosageInstruction"][0]["timing"]["repeat"]
        repeat.pop("count", None)
        if "anlotinib" in text:
            repeat.pop("boundsPeriod", None)
            after.append(entry)
        elif "cisplatin" in text or "doxorubicin" in text.lower():
            chemo.append(entry)
    absent = {"url": DAR, "valueCode": "unknown"}
    follows = {
        "url": RELATIVE,
        "extension": [
            {"url": "target", "valueReference": {"reference": "urn:uuid:plan-1"}},
            {"url": "targetPath", "valueString": "period.end"},
            {"url": "relationship", "valueCode": "after-end"},
        ],
    }
    plans = [
        {
            "fullUrl": "urn:uuid:plan-1",
            "resource": {
                "resourceType": "CarePlan",
                "id": "plan-1",
                "status": "completed",
                "intent": "plan",
                "title": "Chemotherapy",
                "period": {"end": "2023-10-18"},
                "activity": [{"reference": {"reference": e["fullUrl"]}} for e in chemo],
            },
        },
        {
            "fullUrl": "urn:uuid:plan-2",
            "resource": {
                "resourceType": "CarePlan",
                "id": "plan-2",
                "status": "active",
                "intent": "plan",
                "title": "After the chemotherapy",
                "period": {"_start": {"extension": [absent, follows]}},
                "activity": [{"reference": {"reference": e["fullUrl"]}} for e in after],
            },
        },
    ]
    bundle["entry"] += plans
    return bundle


def test_a_plan_without_an_end_is_ongoing_only_when_its_status_says_active(
    oncology_bundle: dict[str, Any],
) -> None:
    bundle = with_treatment_plans(oncology_bundle)
    after = next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == "urn:uuid:plan-2")
    for status, words, not_words in (
        ("active", "▸ ongoing", "▸ end not stated"),
        ("unknown", "▸ end not stated", "▸ ongoing"),
    ):
        after["status"] = status
        root = page_tree(render_case_view(bundle))
        lane = next(g for g in root.iter(f"{SVG}g") if g.get("data-lane") == after["title"])
        assert words in text_of(lane) and not_words not in text_of(lane)
        rects = [r.get("class") for r in lane.iter(f"{SVG}rect")]
        assert rects == (["fade", "course"] if status == "active" else ["fade", "course", "fade"])
        legend = text_of(next(p for p in root.iter("p") if p.get("class") == "legend"))
        assert legend.count("end not stated") == (2 if status == "unknown" else 1)  # and faded


def test_treatment_plans_are_spans_faded_where_their_start_is_not_stated(
    oncology_bundle: dict[str, Any],
) -> None:
    bundle = with_treatment_plans(oncology_bundle)
    root = page_tree(render_case_view(bundle))
    lanes = {g.get("data-lane"): g for g in root.iter(f"{SVG}g") if g.get("data-lane")}
    chemo, after = lanes["Chemotherapy"], lanes["After the chemotherapy"]
    for lane in (chemo, after):
        rects = [r.get("class") for r in lane.iter(f"{SVG}rect")]
        assert rects == ["fade", "course"]  # faded: neither start is stated
    captions = [
        [text_of(t) for t in g.iter(f"{SVG}text") if t.get("class") == "caption"]
        for g in (chemo, after)
    ]
    assert captions[0][0] == "start not stated; until 2023-10-18"
    assert captions[1][0] == "start not stated; after 2023-10-18"
    assert "▸ ongoing" in text_of(after) and "▸ ongoing" not in text_of(chemo)
    # the orders of a drawn plan are on the timeline through it, not in the undated list
    members = (chemo.get("data-keys") or "").split() + (after.get("data-keys") or "").split()
    undated = next(d for d in root.iter("div") if d.get("class") == "undated")
    listed = {li.get("id") for li in undated.iter("li")}
    for key in members:
        if key.startswith("MedicationRequest/"):
            assert f"undated-r-{key.replace('/', '-')}" not in listed
            row = text_of(by_id(root, "r-" + key.replace("/", "-")))
            # the plan's period is said to be the plan's, not the drug's (review 10, K4), and
            # the plan's title is not set in the quotation marks kept for the article (m6)
            assert "part of the plan " in row and "not this drug's own" in row, row
            assert "“" not in row.split("part of the plan ")[1].split(")")[0], row
    assert sum(k.startswith("MedicationRequest/") for k in members) == 3
    legend = text_of(next(p for p in root.iter("p") if p.get("class") == "legend"))
    assert "treatment plan" in legend and "start or end not stated" in legend


def test_vital_status_is_alive_only_as_of_the_article(case_bundle: dict[str, Any]) -> None:
    """Review 9, K8: the record asserts no current vital status; the header shows the dated
    statement of the article instead of "alive"."""
    header = read_header(ResourceIndex.from_bundle(case_bundle))
    assert header.vital_status.startswith("not recorded as a current fact; the record states:")
    assert "alive at the time of the report" in header.vital_status
    assert "10 mo" in header.vital_status


def test_labels_are_not_dressed_as_quotes_and_a_plans_period_is_the_plans(
    case_bundle: dict[str, Any],
) -> None:
    """Review 10, K4 and m6: a drug shown in a plan reads the plan's period as the plan's, not
    as its own end (vitamin D3 has none), and the page's own labels (plan titles, the word
    about) are not set in the curly quotes that mark the article's words."""
    root = page_tree(render_case_view(case_bundle))
    text = text_of(root)
    titles = [
        e["resource"]["title"]
        for e in case_bundle["entry"]
        if e["resource"]["resourceType"] == "CarePlan"
    ]
    assert titles
    for label in (*titles, "about"):
        assert f"“{label}”" not in text, label
    (vitamin_d3,) = [
        e["resource"]["id"]
        for e in case_bundle["entry"]
        if "Vitamin D3" in json.dumps(e["resource"].get("medicationCodeableConcept", ""))
    ]
    row = text_of(by_id(root, f"r-MedicationRequest-{vitamin_d3}"))
    assert "(the plan's period, not this drug's own: start not stated; until 2023-10-18)" in row
    labels = [s for s in root.iter("span") if s.get("class") == "record-label"]
    assert {text_of(s) for s in labels} <= set(titles) and labels
    # review 10, m7: the anlotinib RequestGroup is named, not "an item of the record"
    assert "an item of the record" not in text
    assert "anlotinib cycles (on days 1–14 of each 21-day cycle)" in text
