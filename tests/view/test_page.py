"""The case page as HTML: self-contained, script-free, complete, and robust to odd data."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from fhir_case.view import render_case_view


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
    assert 'class="problem refuted"' in html
    assert "<dt>Sex</dt><dd>female</dd>" in html
    assert "<dt>Age at presentation</dt><dd>68 years</dd>" in html
    assert "doi:10.3389/fonc.2024.1399021" in html


def test_the_timeline_has_one_rect_per_cycle(oncology_bundle: dict[str, Any]) -> None:
    html = render_case_view(oncology_bundle)
    lane_start = html.index('data-lane="cisplatin + pegylated liposomal doxorubicin"')
    lane = html[lane_start : html.index("</g>", lane_start)]
    assert 'data-cycles="6"' in lane
    assert lane.count('class="cycle"') == 6


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
    assert "with 154 resources" in html
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
